// Tend dashboard: a small client of the analyst API. The token lives in sessionStorage
// only; every request sends it as a bearer token. No third-party code.
"use strict";
const main = document.getElementById("main");
const tokenInput = document.getElementById("token");
const logout = document.getElementById("logout");
const token = () => sessionStorage.getItem("tend-token");

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function when(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z" : "-"; }
function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, (Date.now() - ms) / 1000);
  return s < 60 ? `${Math.round(s)}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}
function gib(b) { return (b / 2 ** 30).toFixed(1) + " GiB"; }
function pill(v) { return `<span class="pill ${esc(v)}">${esc(v)}</span>`; }

async function api(path) {
  const r = await fetch(path, {headers: {Authorization: `Bearer ${token()}`}});
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${r.status}`);
  return body;
}

function table(headers, rows, onclick) {
  const head = headers.map(h => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r, i) => `<tr class="${onclick ? "link" : ""}" data-i="${i}">${r.map(c => `<td>${c}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

async function devices() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const list = await api("/api/v1/devices?" + q.toString());
  const opt = (name, values) => `<select data-f="${name}"><option value="">${name}: any</option>${values.map(v => `<option ${q.get(name) === v ? "selected" : ""}>${v}</option>`).join("")}</select>`;
  main.innerHTML = `<section><h2>Devices (${list.length})</h2><div class="filters">${opt("health", ["healthy", "warning", "failing", "unknown"])}${opt("platform", ["linux", "macos"])}</div>` +
    table(["Hostname", "Health", "OS", "Last seen", "Serial", "Agent", "Id"],
      list.map(d => [esc(d.hostname), pill(d.health), esc(d.os), esc(ago(d.last_seen_ms)), esc(d.serial || "-"), esc(d.agent_version), `<code>${esc(d.id)}</code>`]), true) + "</section>";
  main.querySelectorAll("tr.link").forEach(tr => tr.onclick = () => location.hash = `#/device/${list[tr.dataset.i].id}`);
  main.querySelectorAll("select").forEach(s => s.onchange = () => {
    if (s.value) q.set(s.dataset.f, s.value); else q.delete(s.dataset.f);
    location.hash = "#/devices?" + q.toString();
  });
}

async function device(id) {
  const d = await api(`/api/v1/devices/${encodeURIComponent(id)}`);
  const s = d.device, inv = d.inventory, a = d.asset;
  let html = `<section><h2>${esc(s.hostname)} ${pill(s.health)}</h2><dl>
    <dt>Device</dt><dd><code>${esc(s.id)}</code> (${esc(s.platform)})</dd>
    <dt>OS</dt><dd>${esc(s.os)}</dd><dt>Serial</dt><dd>${esc(s.serial || "-")}</dd>
    <dt>Hardware UUID</dt><dd>${esc(s.hardware_uuid)}</dd><dt>Agent</dt><dd>${esc(s.agent_version)}</dd>
    <dt>Enrolled</dt><dd>${esc(when(s.enrolled_at_ms))}</dd><dt>Last seen</dt><dd>${esc(when(s.last_seen_ms))} (${esc(ago(s.last_seen_ms))})</dd>`;
  if (inv) html += `<dt>CPU</dt><dd>${esc(inv.cpu.model)} (${inv.cpu.logical_cores} threads)</dd><dt>Memory</dt><dd>${gib(inv.memory.total_bytes)}</dd>
    <dt>Disks</dt><dd>${inv.disks.map(x => `${esc(x.mount)} ${gib(x.free_bytes)} free of ${gib(x.total_bytes)}`).join("<br>")}</dd>
    <dt>Software</dt><dd>${inv.software.length} packages</dd><dt>Users</dt><dd>${esc(inv.users.join(", ") || "-")}</dd>`;
  if (a) html += `<dt>Asset</dt><dd><code>${esc(a.id)}</code> ${esc(a.state)} · owner ${esc(a.owner || "-")} · ${esc(a.location || "-")}</dd>`;
  html += "</dl></section>";
  html += `<section><h2>Checks</h2>` + table(["Check", "Status", "Value", "Message"], d.health.map(c => [esc(c.id), pill(c.status), esc(JSON.stringify(c.value)), esc(c.message)])) + "</section>";
  html += `<section><h2>Recent events</h2>` + table(["At", "Source", "Kind", "Message"], d.events.map(e => [esc(when(e.at_ms)), esc(e.source), esc(e.kind), esc(e.message)])) + "</section>";
  main.innerHTML = html;
}

async function assets() {
  const list = await api("/api/v1/assets");
  main.innerHTML = `<section><h2>Assets (${list.length})</h2>` + table(["Serial", "State", "Model", "Owner", "Location", "Device", "Warranty end"],
    list.map(a => [esc(a.serial || "-"), esc(a.state), esc(a.model || "-"), esc(a.owner || "-"), esc(a.location || "-"),
      a.device_id ? `<a href="#/device/${esc(a.device_id)}">${esc(a.device_id)}</a>` : "-", esc(a.warranty_end || "-")])) + "</section>";
}

async function route() {
  logout.hidden = !token();
  tokenInput.hidden = !!token();
  if (!token()) { main.innerHTML = `<p class="muted">Paste an analyst token to start.</p>`; return; }
  const h = location.hash || "#/devices";
  try {
    if (h.startsWith("#/device/")) await device(h.slice(9));
    else if (h.startsWith("#/assets")) await assets();
    else await devices();
  } catch (e) {
    main.innerHTML = `<p class="err">${esc(e.message)}</p>`;
  }
}

document.getElementById("login").onsubmit = ev => {
  ev.preventDefault();
  if (tokenInput.value.trim()) sessionStorage.setItem("tend-token", tokenInput.value.trim());
  tokenInput.value = "";
  route();
};
logout.onclick = () => { sessionStorage.removeItem("tend-token"); route(); };
window.onhashchange = route;
route();
setInterval(() => { if (token() && !document.hidden && !location.hash.startsWith("#/assets")) route(); }, 10000);
