// A job's result in words and tables, never raw JSON: the known diagnostics each get
// their layout; anything else falls back to a generic reader of objects and lists.
"use strict";
import { esc, when, bytes, pill, words, table } from "./lib.js";

const isBytesKey = k => /bytes$/.test(k);

/** Any JSON value, readably: objects as definition lists, lists of objects as tables. */
export function generic(v, key = "") {
  if (v == null) return "-";
  if (typeof v === "number") return esc(isBytesKey(key) ? bytes(v) : String(v));
  if (typeof v !== "object") return esc(String(v));
  if (Array.isArray(v)) {
    if (!v.length) return `<span class="muted">none</span>`;
    if (typeof v[0] === "object" && v[0] !== null) {
      const cols = Object.keys(v[0]);
      return table(cols.map(words).map(esc), v.map(r => cols.map(c => generic(r[c], c))));
    }
    return v.map(x => generic(x, key)).join(", ");
  }
  return `<dl>${Object.entries(v).map(([k, x]) => `<dt>${esc(words(k))}</dt><dd>${generic(x, k)}</dd>`).join("")}</dl>`;
}

function diagnostic(name, o) {
  switch (name) {
    case "disk-usage":
      return `<p>${esc(o.path)}: <strong>${bytes(o.total_bytes)}</strong> in ${o.entries_scanned} entries${o.truncated ? " (stopped early: too many entries)" : ""}.</p>` +
        table(["Path", "Size"], (o.largest || []).map(p => [esc(p.path), bytes(p.bytes)]));
    case "top-processes": {
      const rows = l => (l || []).map(p => [esc(p.name), String(p.pid), `${p.cpu_percent.toFixed(1)}%`, bytes(p.memory_bytes)]);
      return `<p>${o.processes} processes.</p><h3>By CPU</h3>` + table(["Process", "PID", "CPU", "Memory"], rows(o.by_cpu)) +
        `<h3>By memory</h3>` + table(["Process", "PID", "CPU", "Memory"], rows(o.by_memory));
    }
    case "interfaces":
      return table(["Interface", "MAC", "Addresses", "Received", "Sent"], (o || []).map(i => [esc(i.name), esc(i.mac), esc(i.addresses.join(", ")), bytes(i.rx_bytes), bytes(i.tx_bytes)]));
    case "dns":
      return `<p>${esc(o.host)} resolves to ${o.addresses.length ? esc(o.addresses.join(", ")) : "nothing"} (${o.elapsed_ms} ms).</p>`;
    case "http":
      return `<p>HTTP ${o.status} from ${esc(o.final_url)}${o.server ? ` (${esc(o.server)})` : ""} in ${o.elapsed_ms} ms.</p>`;
    default:
      return generic(o);
  }
}

function pre(title, text, truncated) {
  if (!text) return "";
  return `<h3>${esc(title)}${truncated ? " (truncated)" : ""}</h3><pre class="output">${esc(text)}</pre>`;
}

/** A finished (or waiting) job as HTML. */
export function renderResult(j) {
  const spec = j.spec, r = j.result;
  const what = spec.type === "diagnostic" ? `${spec.name} ${(spec.args || []).join(" ")}` : `script ${spec.script_id} v${spec.version}`;
  let html = `<div class="result" data-state="${esc(j.state)}"><p><strong>${esc(what)}</strong> ${pill(j.state)} · queued by ${esc(j.created_by)} ${esc(when(j.created_at_ms))}`;
  if (!r) return html + "</p></div>";
  html += ` · ${r.duration_ms} ms${r.exit_code != null ? ` · exit code ${r.exit_code}` : ""}</p>`;
  if (r.reason) html += `<p class="err">${esc(r.reason)}</p>`;
  if (spec.type === "diagnostic" && r.output && typeof r.output === "object" && Object.keys(r.output).length) {
    html += diagnostic(spec.name, r.output);
  }
  html += pre(spec.type === "diagnostic" ? "Output" : "Standard output", r.stdout, r.stdout_truncated);
  html += pre("Errors", r.stderr, r.stderr_truncated);
  return html + "</div>";
}
