// Tend dashboard: a small client of the analyst API. The token lives in sessionStorage
// only; every request sends it as a bearer token. No third-party code.
"use strict";
const main = document.getElementById("main");
const tokenInput = document.getElementById("token");
const logout = document.getElementById("logout");
const signin = document.getElementById("signin");
let refused = "";
const token = () => sessionStorage.getItem("tend-token");

/** "0.2.0 rolled_back" for a device's last self-update, "-" when none. */
function updateText(u) {
  return u ? `${u.target_version} ${u.state.replace("_", " ")}` : "-";
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function when(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z" : "-"; }
function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, (Date.now() - ms) / 1000);
  return s < 60 ? `${Math.round(s)}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}
/** Decimal units, as everywhere in Tend: "3.1 GB". */
function gib(b) { return b >= 1e12 ? (b / 1e12).toFixed(1) + " TB" : b >= 1e9 ? (b / 1e9).toFixed(1) + " GB" : (b / 1e6).toFixed(0) + " MB"; }
function pill(v) { return `<span class="pill ${esc(v)}">${esc(v)}</span>`; }

async function api(path) {
  const r = await fetch(path, {headers: {Authorization: `Bearer ${token()}`}});
  const body = await r.json().catch(() => ({}));
  if (r.status === 401) {
    // a refused token is forgotten at once: the page goes back to signing in
    sessionStorage.removeItem("tend-token");
    refused = "That token was refused (unknown, revoked or expired). Paste another one.";
    throw new Error(refused);
  }
  if (!r.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${r.status}`);
  return body;
}

/** A "next page" link when the list has more (the server pages with cursors). */
function more(page, base, q) {
  if (!page.next) return "";
  const n = new URLSearchParams(q); n.set("cursor", page.next);
  return `<p><a class="more" href="${base}?${esc(n.toString())}">Next page →</a></p>`;
}

function table(headers, rows, onclick) {
  const head = headers.map(h => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r, i) => `<tr class="${onclick ? "link" : ""}" data-i="${i}">${r.map(c => `<td>${c}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

async function devices() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const page = await api("/api/v1/devices?" + q.toString());
  const list = page.items;
  const opt = (name, values) => `<select data-f="${name}"><option value="">${name}: any</option>${values.map(v => `<option ${q.get(name) === v ? "selected" : ""}>${v}</option>`).join("")}</select>`;
  main.innerHTML = `<section><h2>Devices (${list.length}${page.next ? "+" : ""})</h2><div class="filters">${opt("health", ["healthy", "warning", "failing", "unknown"])}${opt("platform", ["linux", "macos"])}</div>` +
    table(["Hostname", "Health", "OS", "Last seen", "Serial", "Agent", "Update", "Id"],
      list.map(d => [esc(d.hostname), pill(d.health), esc(d.os), esc(ago(d.last_seen_ms)), esc(d.serial || "-"), esc(d.agent_version), esc(updateText(d.update)), `<code>${esc(d.id)}</code>`]), true) + more(page, "#/devices", q) + "</section>";
  main.querySelectorAll("tr.link").forEach(tr => tr.onclick = () => location.hash = `#/device/${list[tr.dataset.i].id}`);
  main.querySelectorAll("select").forEach(s => s.onchange = () => {
    if (s.value) q.set(s.dataset.f, s.value); else q.delete(s.dataset.f);
    q.delete("cursor");
    location.hash = "#/devices?" + q.toString();
  });
}

async function device(id) {
  const d = await api(`/api/v1/devices/${encodeURIComponent(id)}`);
  const s = d.device, inv = d.inventory, a = d.asset;
  let html = `<section><h2>${esc(s.hostname)} ${pill(s.health)}</h2><dl>
    <dt>Device</dt><dd><code>${esc(s.id)}</code> (${esc(s.platform)})</dd>
    <dt>OS</dt><dd>${esc(s.os)}</dd><dt>Serial</dt><dd>${esc(s.serial || "-")}</dd>
    <dt>Hardware UUID</dt><dd>${esc(s.hardware_uuid)}</dd><dt>Agent</dt><dd>${esc(s.agent_version)}</dd><dt>Update</dt><dd>${esc(updateText(s.update))}${s.update && s.update.message ? " — " + esc(s.update.message) : ""}</dd>
    <dt>Enrolled</dt><dd>${esc(when(s.enrolled_at_ms))}</dd><dt>Last seen</dt><dd>${esc(when(s.last_seen_ms))} (${esc(ago(s.last_seen_ms))})</dd>`;
  if (inv) html += `<dt>CPU</dt><dd>${esc(inv.cpu.model)} (${inv.cpu.logical_cores} threads)</dd><dt>Memory</dt><dd>${gib(inv.memory.total_bytes)}</dd>
    <dt>Disks</dt><dd>${inv.disks.map(x => `${esc(x.mount)} ${gib(x.free_bytes)} free of ${gib(x.total_bytes)}`).join("<br>")}</dd>
    <dt>Software</dt><dd>${inv.software.length} packages</dd><dt>Users</dt><dd>${esc(inv.users.join(", ") || "-")}</dd>`;
  if (d.tickets && d.tickets.length) html += `<dt>Tickets</dt><dd>${d.tickets.map(t => `<a href="#/ticket/${esc(t.id)}">${esc(t.id)}</a> ${esc(t.status)} ${esc(t.problem_key)}`).join("<br>")}</dd>`;
  if (a) html += `<dt>Asset</dt><dd><code>${esc(a.id)}</code> ${esc(a.state)} · owner ${esc(a.owner || "-")} · ${esc(a.location || "-")}</dd>`;
  html += "</dl></section>";
  html += `<section><h2>Checks</h2>` + table(["Check", "Status", "Value", "Message"], d.health.map(c => [esc(c.id), pill(c.status), esc(JSON.stringify(c.value)), esc(c.message)])) + "</section>";
  html += `<section><h2>Recent events</h2>` + table(["At", "Source", "Kind", "Message"], d.events.map(e => [esc(when(e.at_ms)), esc(e.source), esc(e.kind), esc(e.message)])) + "</section>";
  main.innerHTML = html;
}

async function assets() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const page = await api("/api/v1/assets?" + q.toString());
  const list = page.items;
  main.innerHTML = `<section><h2>Assets (${list.length}${page.next ? "+" : ""})</h2>` + table(["Serial", "State", "Model", "Owner", "Location", "Device", "Warranty end"],
    list.map(a => [esc(a.serial || "-"), esc(a.state), esc(a.model || "-"), esc(a.owner || "-"), esc(a.location || "-"),
      a.device_id ? `<a href="#/device/${esc(a.device_id)}">${esc(a.device_id)}</a>` : "-", esc(a.warranty_end || "-")])) + more(page, "#/assets", q) + "</section>";
}

async function releases() {
  const list = await api("/api/v1/releases");
  const state = r => r.rollout.halted ? "halted" : r.rollout.paused ? "paused" : r.rollout.percent === 0 ? "not started" : "rolling out";
  const sum = (r, k) => r.rollout.stages.reduce((n, s) => n + s[k], 0);
  main.innerHTML = `<section><h2>Agent releases (${list.length})</h2>` +
    table(["Version", "Rollout", "Ring", "Platforms", "Attempted", "Updated", "Failed", "Why halted"],
      list.map(r => [esc(r.version), esc(state(r)), `${r.rollout.percent}%`, esc(r.artifacts.map(a => a.platform).join(", ")),
        String(sum(r, "attempted")), String(sum(r, "succeeded")), String(sum(r, "failed")), esc(r.rollout.halt_reason || "-")])) + "</section>";
}

function dur(sec) {
  if (sec == null) return "-";
  return sec < 3600 ? `${Math.round(sec / 60)}m` : sec < 86400 ? `${(sec / 3600).toFixed(1)}h` : `${(sec / 86400).toFixed(1)}d`;
}
function pct(r) { return r == null ? "-" : `${Math.round(r * 100)}%`; }

async function tickets() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "open=true");
  const page = await api("/api/v1/tickets?" + q.toString());
  const list = page.items;
  const sel = (name, values) => `<select data-f="${name}"><option value="">${name}: any</option>${values.map(v => `<option ${q.get(name) === v ? "selected" : ""}>${v}</option>`).join("")}</select>`;
  main.innerHTML = `<section><h2>Tickets (${list.length}${page.next ? "+" : ""})</h2><div class="filters">${sel("status", ["new", "in_progress", "pending", "resolved", "closed"])}${sel("priority", ["P1", "P2", "P3", "P4"])}${sel("open", ["true", "false"])}${sel("breached", ["true", "false"])}</div>` +
    table(["Id", "Pri", "Status", "Host", "Problem", "Seen", "Assignee", "Opened", "SLA", "Summary"],
      list.map(t => [esc(t.id), esc(t.priority), pill(t.status === "resolved" || t.status === "closed" ? "pass" : t.status === "new" ? "fail" : "warn").replace(/>[^<]*</, `>${esc(t.status)}<`), esc(t.hostname), `<code>${esc(t.problem_key)}</code>`, t.occurrences,
        esc(t.assignee || "-"), esc(ago(t.created_at_ms)), t.sla.own_breached || t.sla.resolve_breached ? '<span class="pill fail">breached</span>' : "", esc(t.summary)]), true) + more(page, "#/tickets", q) + "</section>";
  main.querySelectorAll("tr.link").forEach(tr => tr.onclick = () => location.hash = `#/ticket/${list[tr.dataset.i].id}`);
  main.querySelectorAll("select").forEach(s => s.onchange = () => {
    if (s.value) q.set(s.dataset.f, s.value); else q.delete(s.dataset.f);
    q.delete("cursor");
    location.hash = "#/tickets?" + q.toString();
  });
}

async function ticket(id) {
  const t = await api(`/api/v1/tickets/${encodeURIComponent(id)}`);
  main.innerHTML = `<section><h2>${esc(t.id)} [${esc(t.priority)}] ${esc(t.summary)}</h2><dl>
    <dt>Status</dt><dd>${esc(t.status)}${t.auto_resolved ? " (auto-resolved)" : ""}</dd>
    <dt>Device</dt><dd><a href="#/device/${esc(t.device_id)}">${esc(t.hostname)}</a></dd>
    <dt>Problem</dt><dd><code>${esc(t.problem_key)}</code> (${esc(t.category)}), seen ${t.occurrences}×, reopened ${t.reopen_count}×</dd>
    <dt>Source</dt><dd>${esc(t.source)}</dd><dt>Assignee</dt><dd>${esc(t.assignee || "-")}</dd>
    <dt>Own by</dt><dd>${esc(when(t.sla.own_due_ms))}${t.sla.own_breached ? " — breached" : ""}</dd>
    <dt>Resolve by</dt><dd>${esc(when(t.sla.resolve_due_ms))}${t.sla.resolve_breached ? " — breached" : ""}</dd>
    ${t.problem_id ? `<dt>Fleet problem</dt><dd>${esc(t.problem_id)}</dd>` : ""}
    <dt>Evidence</dt><dd><pre>${esc(JSON.stringify(t.evidence, null, 2))}</pre></dd></dl></section>` +
    `<section><h2>Timeline</h2>` + table(["At", "By", "What", "Detail"], t.timeline.map(e => [esc(when(e.at_ms)), esc(e.actor), esc(e.kind), esc(e.message)])) + "</section>";
}

async function report() {
  const r = await api("/api/v1/reports/sla");
  const kv = m => Object.entries(m).map(([k, v]) => `${esc(k)} ${v}`).join(" · ") || "-";
  main.innerHTML = `<section><h2>SLA report (last 30 days)</h2><dl>
    <dt>Tickets created</dt><dd>${r.created}</dd>
    <dt>Time to own</dt><dd>mean ${dur(r.time_to_own.mean_s)}, median ${dur(r.time_to_own.median_s)} (n=${r.time_to_own.count})</dd>
    <dt>Time to resolve</dt><dd>mean ${dur(r.time_to_resolve.mean_s)}, median ${dur(r.time_to_resolve.median_s)} (n=${r.time_to_resolve.count})</dd>
    <dt>Open backlog by age</dt><dd>${kv(r.backlog)}</dd>
    <dt>SLA breach rate</dt><dd>${pct(r.breach_rate)}</dd><dt>Reopen rate</dt><dd>${pct(r.reopen_rate)}</dd>
    <dt>Auto-resolved</dt><dd>${pct(r.auto_resolved_share)}</dd>
    <dt>Deflected (fixed, no ticket)</dt><dd>${r.deflected} — deflection rate ${pct(r.deflection_rate)}</dd>
    <dt>By priority</dt><dd>${kv(r.by_priority)}</dd><dt>By category</dt><dd>${kv(r.by_category)}</dd>
    <dt>Top problems</dt><dd>${r.top_problems.map(([k, n]) => `<code>${esc(k)}</code> ${n}`).join(" · ") || "-"}</dd></dl></section>`;
}

async function route() {
  logout.hidden = !token();
  signin.hidden = !!token();
  if (!token()) {
    main.innerHTML = refused ? `<p class="err">${esc(refused)}</p>` : `<p class="muted">Paste an analyst token to start.</p>`;
    return;
  }
  const h = location.hash || "#/devices";
  try {
    if (h.startsWith("#/device/")) await device(h.slice(9));
    else if (h.startsWith("#/ticket/")) await ticket(h.slice(9));
    else if (h.startsWith("#/tickets")) await tickets();
    else if (h.startsWith("#/report")) await report();
    else if (h.startsWith("#/assets")) await assets();
    else if (h.startsWith("#/releases")) await releases();
    else await devices();
  } catch (e) {
    if (!token()) return route();
    main.innerHTML = `<p class="err">${esc(e.message)}</p>`;
  }
}

document.getElementById("login").onsubmit = ev => {
  ev.preventDefault();
  if (tokenInput.value.trim()) { sessionStorage.setItem("tend-token", tokenInput.value.trim()); refused = ""; }
  tokenInput.value = "";
  route();
};
logout.onclick = () => { sessionStorage.removeItem("tend-token"); route(); };
window.onhashchange = route;
route();
setInterval(() => { if (token() && !document.hidden && !location.hash.startsWith("#/assets")) route(); }, 10000);
