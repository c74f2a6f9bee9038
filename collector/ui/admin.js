// Admin and asset pages: the policy editor (validation errors next to the field they
// name), the audit log filtered by actor, action and time, and assets with their edit
// form (owner, location, lifecycle state).
"use strict";
import { api, esc, when, pill, table, hashQuery, more, onSubmit, can } from "./lib.js";

export async function policy(main) {
  const p = await api("/api/v1/policy");
  const admin = can("admin");
  const checks = (p.checks || []).map(c => [`<code>${esc(c.id || c.kind)}</code>`, esc(c.severity || "-"), esc(JSON.stringify(c.warn ?? c.threshold ?? "")), esc(JSON.stringify(c.fail ?? ""))]);
  main.innerHTML = `<section><h2>Policy</h2><p class="muted">What every agent checks, how often it reports, and which approved script remediates what.</p>` +
    (checks.length ? table(["Check", "Severity", "Warn", "Fail"], checks) : "") +
    `<form id="policy-form"><label for="policy-json">Policy (JSON)${admin ? "" : " — read only: admins edit it"}</label>
    <textarea id="policy-json" name="policy" rows="24" spellcheck="false" ${admin ? "" : "readonly"} aria-describedby="policy-err">${esc(JSON.stringify(p, null, 2))}</textarea>
    <p id="policy-err" class="form-err err" role="alert"></p>${admin ? `<button type="submit">Save policy</button> <span id="policy-ok" class="muted"></span>` : ""}</form></section>`;
  if (!admin) return;
  onSubmit(main.querySelector("#policy-form"), async f => {
    const area = main.querySelector("#policy-json");
    area.removeAttribute("aria-invalid");
    let body;
    try { body = JSON.parse(f.policy); } catch (e) { area.setAttribute("aria-invalid", "true"); throw new Error(`Not valid JSON: ${e.message}`); }
    try {
      const saved = await api("/api/v1/policy", { method: "PUT", body });
      area.value = JSON.stringify(saved, null, 2);
      main.querySelector("#policy-ok").textContent = `Saved ${new Date().toLocaleTimeString()}; agents pick it up at their next check-in.`;
    } catch (e) {
      area.setAttribute("aria-invalid", "true");
      throw e;
    }
  });
}

export async function audit(main) {
  const q = hashQuery();
  const api_q = new URLSearchParams();
  for (const k of ["actor", "action", "target", "cursor"]) if (q.get(k)) api_q.set(k, q.get(k));
  for (const [k, p] of [["from", "from_ms"], ["to", "to_ms"]]) if (q.get(k)) api_q.set(p, String(Date.parse(q.get(k) + "Z")));
  const page = await api("/api/v1/audit?" + api_q.toString());
  main.innerHTML = `<section><h2>Audit log</h2><form id="audit-filter" class="filters">
    <label>Actor <input name="actor" value="${esc(q.get("actor") || "")}" size="14"></label>
    <label>Action starts with <input name="action" value="${esc(q.get("action") || "")}" placeholder="script." size="14"></label>
    <label>Target <input name="target" value="${esc(q.get("target") || "")}" size="14"></label>
    <label>From <input name="from" type="datetime-local" value="${esc(q.get("from") || "")}"></label>
    <label>To <input name="to" type="datetime-local" value="${esc(q.get("to") || "")}"></label> <span class="muted">(UTC)</span>
    <button type="submit">Filter</button></form>` +
    table(["At", "Actor", "Action", "Target", "Outcome", "Detail"], page.items.map(e => [esc(when(e.at_ms)), esc(e.actor), `<code>${esc(e.action)}</code>`, esc(e.target),
      pill(e.outcome === "success" ? "pass" : "fail", e.outcome), esc(e.detail && Object.keys(e.detail).length ? JSON.stringify(e.detail) : "")])) +
    more(page, "#/audit", q) + "</section>";
  main.querySelector("#audit-filter").addEventListener("submit", ev => {
    ev.preventDefault();
    const f = new FormData(ev.target), n = new URLSearchParams();
    for (const k of ["actor", "action", "target", "from", "to"]) if (f.get(k).trim()) n.set(k, f.get(k).trim());
    location.hash = "#/audit?" + n.toString();
  });
}

const STATES = ["ordered", "in_stock", "deployed", "in_repair", "retired"];

export async function assets(main) {
  const q = hashQuery();
  const page = await api("/api/v1/assets?" + q.toString());
  main.innerHTML = `<section><h2>Assets</h2>` + table(["Serial", "State", "Model", "Owner", "Location", "Device", "Warranty end"],
    page.items.map(a => [esc(a.serial || a.id), pill(a.state), esc(a.model || "-"), esc(a.owner || "-"), esc(a.location || "-"),
      a.device_id ? `<a href="#/device/${esc(a.device_id)}">${esc(a.device_id)}</a>` : "-", esc(a.warranty_end || "-")]),
    i => `#/asset/${page.items[i].id}`) + more(page, "#/assets", q) + "</section>";
}

export async function asset(main, id) {
  const a = await api(`/api/v1/assets/${encodeURIComponent(id)}`);
  const edit = can("analyst");
  main.innerHTML = `<section><h2>Asset ${esc(a.serial || a.id)} ${pill(a.state)}</h2><dl>
    <dt>Id</dt><dd><code>${esc(a.id)}</code></dd><dt>Model</dt><dd>${esc(a.model || "-")}</dd>
    <dt>Device</dt><dd>${a.device_id ? `<a href="#/device/${esc(a.device_id)}">${esc(a.device_id)}</a>` : "-"}</dd>
    <dt>Purchased</dt><dd>${esc(a.purchase_date || "-")}</dd><dt>Warranty end</dt><dd>${esc(a.warranty_end || "-")}</dd>
    <dt>Updated</dt><dd>${esc(when(a.updated_at_ms))}</dd></dl></section>` +
    (edit ? `<section><h2>Edit</h2><form id="asset-form" class="stack">
      <label>Owner <input name="owner" value="${esc(a.owner || "")}" size="30"></label>
      <label>Location <input name="location" value="${esc(a.location || "")}" size="30"></label>
      <label>Lifecycle state <select name="state">${STATES.map(s => `<option value="${s}" ${s === a.state ? "selected" : ""}>${s.replace("_", " ")}</option>`).join("")}</select></label>
      <label>Notes <input name="notes" value="${esc(a.notes || "")}" size="60"></label>
      <p><button type="submit">Save</button> <span class="form-err err" role="alert"></span> <span id="asset-ok" class="muted"></span></p></form></section>` : "");
  if (!edit) return;
  onSubmit(main.querySelector("#asset-form"), async f => {
    await api(`/api/v1/assets/${encodeURIComponent(id)}`, { method: "PATCH", body: { owner: f.owner, location: f.location, state: f.state, notes: f.notes } });
    await asset(main, id);
    main.querySelector("#asset-ok").textContent = "Saved.";
  });
}
