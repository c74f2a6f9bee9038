// A job's result in words and tables, never raw JSON: the known diagnostics each get
// their layout; anything else falls back to a generic reader of objects and lists.
"use strict";
import { html, cat, joined, esc, num, when, bytes, pill, words, table } from "./lib.js";

const isBytesKey = k => /bytes$/.test(k);

/** Any JSON value, readably: objects as definition lists, lists of objects as tables
 * (text, or markup made by `html`: never a raw string of markup). */
export function generic(v, key = "") {
  if (v == null) return "-";
  if (typeof v === "number") return esc(isBytesKey(key) ? bytes(v) : String(v));
  if (typeof v !== "object") return esc(String(v));
  if (Array.isArray(v)) {
    if (!v.length) return html`<span class="muted">none</span>`;
    if (typeof v[0] === "object" && v[0] !== null) {
      const cols = Object.keys(v[0]);
      return table(cols.map(words).map(esc), v.map(r => cols.map(c => generic(r[c], c))));
    }
    return joined(v.map(x => generic(x, key)), ", ");
  }
  return html`<dl>${Object.entries(v).map(([k, x]) => html`<dt>${esc(words(k))}</dt><dd>${generic(x, k)}</dd>`)}</dl>`;
}

function diagnostic(name, o) {
  switch (name) {
    case "disk-usage":
      return cat(html`<p>${o.path}: <strong>${bytes(o.total_bytes)}</strong> in ${num(o.entries_scanned)} entries${o.truncated ? " (stopped early: too many entries)" : ""}.</p>`,
        table(["Path", "Size"], (o.largest || []).map(p => [p.path, bytes(p.bytes)])));
    case "top-processes": {
      const rows = l => (l || []).map(p => [p.name, num(p.pid), `${num(p.cpu_percent, 1)}%`, bytes(p.memory_bytes)]);
      return cat(html`<p>${num(o.processes)} processes.</p><h3>By CPU</h3>`, table(["Process", "PID", "CPU", "Memory"], rows(o.by_cpu)),
        html`<h3>By memory</h3>`, table(["Process", "PID", "CPU", "Memory"], rows(o.by_memory)));
    }
    case "interfaces":
      return table(["Interface", "MAC", "Addresses", "Received", "Sent"], (o || []).map(i => [i.name, i.mac, (i.addresses || []).join(", "), bytes(i.rx_bytes), bytes(i.tx_bytes)]));
    case "dns":
      return html`<p>${o.host} resolves to ${(o.addresses || []).length ? o.addresses.join(", ") : "nothing"} (${num(o.elapsed_ms)} ms).</p>`;
    case "http":
      return html`<p>HTTP ${num(o.status)} from ${o.final_url}${o.server ? html` (${o.server})` : ""} in ${num(o.elapsed_ms)} ms${o.location ? html`; redirected to ${o.location} (not followed)` : ""}.</p>`;
    default:
      return generic(o);
  }
}

function pre(title, text, truncated) {
  if (!text) return "";
  return html`<h3>${esc(title)}${truncated ? " (truncated)" : ""}</h3><pre class="output">${esc(text)}</pre>`;
}

/** A finished (or waiting) job as HTML. */
export function renderResult(j) {
  const spec = j.spec, r = j.result;
  const what = spec.type === "diagnostic" ? `${spec.name} ${(spec.args || []).join(" ")}` : `script ${spec.script_id} v${spec.version}`;
  const head = html`<strong>${what}</strong> ${pill(j.state)} · queued by ${j.created_by} ${when(j.created_at_ms)}`;
  if (!r) return html`<div class="result" data-state="${j.state}"><p>${head}</p></div>`;
  const out = [html`<p>${head} · ${num(r.duration_ms)} ms${r.exit_code != null ? html` · exit code ${num(r.exit_code)}` : ""}</p>`];
  if (r.reason) out.push(html`<p class="err">${r.reason}</p>`);
  if (spec.type === "diagnostic" && r.output && typeof r.output === "object" && Object.keys(r.output).length) {
    out.push(diagnostic(spec.name, r.output));
  }
  out.push(pre(spec.type === "diagnostic" ? "Output" : "Standard output", r.stdout, r.stdout_truncated));
  out.push(pre("Errors", r.stderr, r.stderr_truncated));
  return html`<div class="result" data-state="${j.state}">${out}</div>`;
}
