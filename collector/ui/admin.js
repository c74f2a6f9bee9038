// Admin and asset pages: the policy editor (validation errors next to the field they
// name), the audit log filtered by actor, action and time, and assets with their edit
// form (owner, location, lifecycle state).
"use strict";
import { html, api, esc, when, pill, table, hashQuery, more, onSubmit, can, num } from "./lib.js";

const SCALARS = [
  ["checkin_interval_s", "Check-in interval (s)"],
  ["evaluation_interval_s", "Check evaluation interval (s)"],
  ["inventory_interval_s", "Inventory interval (s)"],
  ["offline_threshold_s", "Offline after (s)"],
  ["recovery_count", "Passes before a ticket resolves itself"],
  ["reopen_window_s", "Reopen instead of a new ticket within (s)"],
];
const SEVERITIES = ["info", "low", "medium", "high", "critical"];

/** An error slot beside the field `name` (the server names it in `error.field`). */
function slot(name) { return html`<span class="err field-err" data-err="${esc(name)}" role="alert"></span>`; }

export async function policy(main) {
  const p = await api("/api/v1/policy");
  const admin = can("admin");
  const ro = admin ? "" : "disabled";
  const rest = { ...p };
  delete rest.version; delete rest.checks;
  SCALARS.forEach(([k]) => delete rest[k]);
  const checks = Object.entries(p.checks || {});
  main.innerHTML = html`<section><h2>Policy <span class="muted">version ${p.version}</span></h2>
    <p class="muted">What every agent checks, how often it reports, and which approved script remediates what.${admin ? "" : " Read only: admins edit it."}</p>
    <form id="policy-form"><fieldset class="grid-form"><legend>Timing</legend>${SCALARS.map(([k, label]) =>
      html`<label for="pf-${k}">${esc(label)}</label><input id="pf-${k}" name="${k}" type="number" min="0" value="${esc(p[k])}" ${ro}>${slot(k)}`)}</fieldset>
    <fieldset><legend>Checks</legend><div class="scroll"><table><thead><tr><th>Check</th><th>On</th><th>Warn at</th><th>Fail at</th><th>Severity</th><th></th></tr></thead><tbody>
    ${checks.map(([k, c]) => html`<tr data-check="${esc(k)}"><td><code>${esc(k)}</code></td>
      <td><input type="checkbox" aria-label="${esc(k)} enabled" data-f="enabled" ${c.enabled ? "checked" : ""} ${ro}></td>
      <td><input type="number" step="any" aria-label="${esc(k)} warn" data-f="warn" value="${esc(c.warn ?? "")}" size="6" ${ro}></td>
      <td><input type="number" step="any" aria-label="${esc(k)} fail" data-f="fail" value="${esc(c.fail ?? "")}" size="6" ${ro}></td>
      <td><select aria-label="${esc(k)} severity" data-f="severity" ${ro}>${SEVERITIES.map(v => html`<option ${v === c.severity ? "selected" : ""}>${v}</option>`)}</select></td>
      <td>${slot(html`checks.${k}`)}</td></tr>`)}</tbody></table></div></fieldset>
    <fieldset><legend>Disk mounts, required processes, remediations (JSON)</legend>
    <textarea id="policy-json" name="rest" rows="12" spellcheck="false" ${admin ? "" : "readonly"}>${esc(JSON.stringify(rest, null, 2))}</textarea>
    ${slot("rest")}${slot("disk_mounts")}${slot("remediations")}${slot("required_processes")}</fieldset>
    <p class="form-err err" role="alert"></p>${admin ? html`<button type="submit" id="policy-save">Save policy</button> <span id="policy-ok" class="muted"></span>` : ""}</form></section>`;
  if (!admin) return;
  const form = main.querySelector("#policy-form");
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    form.querySelectorAll(".field-err").forEach(e => { e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(e => e.removeAttribute("aria-invalid"));
    form.querySelector(".form-err").textContent = "";
    const show = (field, message) => {
      const at = form.querySelector(`[data-err="${CSS.escape(field)}"]`);
      if (at) {
        at.textContent = message;
        const input = form.querySelector(`[name="${CSS.escape(field)}"]`) || form.querySelector(`tr[data-check="${CSS.escape(field.replace(/^checks\./, ""))}"] input`);
        if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
      } else form.querySelector(".form-err").textContent = message;
    };
    let body;
    try { body = JSON.parse(form.rest.value || "{}"); } catch (e) { return show("rest", `Not valid JSON: ${e.message}`); }
    for (const [k] of SCALARS) body[k] = Number(form[k].value);
    body.checks = {};
    form.querySelectorAll("tr[data-check]").forEach(tr => {
      const f = n => tr.querySelector(`[data-f=${n}]`);
      const num = n => f(n).value.trim() === "" ? null : Number(f(n).value);
      body.checks[tr.dataset.check] = { enabled: f("enabled").checked, warn: num("warn"), fail: num("fail"), severity: f("severity").value };
    });
    try {
      const saved = await api("/api/v1/policy", { method: "PUT", body });
      main.querySelector("#policy-ok").textContent = `Saved as version ${saved.version}; agents pick it up at their next check-in.`;
    } catch (e) {
      show(e.field || "", e.message);
    }
  });
}

export async function audit(main) {
  const q = hashQuery();
  const api_q = new URLSearchParams();
  for (const k of ["actor", "action", "target", "cursor"]) if (q.get(k)) api_q.set(k, q.get(k));
  for (const [k, p] of [["from", "from_ms"], ["to", "to_ms"]]) if (q.get(k)) api_q.set(p, String(Date.parse(q.get(k) + "Z")));
  const page = await api("/api/v1/audit?" + api_q.toString());
  main.innerHTML = html`<section><h2>Audit log</h2><form id="audit-filter" class="filters">
    <label>Actor <input name="actor" value="${esc(q.get("actor") || "")}" size="14"></label>
    <label>Action starts with <input name="action" value="${esc(q.get("action") || "")}" placeholder="script." size="14"></label>
    <label>Target <input name="target" value="${esc(q.get("target") || "")}" size="14"></label>
    <label>From <input name="from" type="datetime-local" value="${esc(q.get("from") || "")}"></label>
    <label>To <input name="to" type="datetime-local" value="${esc(q.get("to") || "")}"></label> <span class="muted">(UTC)</span>
    <button type="submit">Filter</button></form>` +
    table(["At", "Actor", "Action", "Target", "Outcome", "Detail"], page.items.map(e => [esc(when(e.at_ms)), esc(e.actor), html`<code>${esc(e.action)}</code>`, esc(e.target),
      pill(e.outcome === "success" ? "pass" : "fail", e.outcome), esc(e.detail && Object.keys(e.detail).length ? JSON.stringify(e.detail) : "")])) +
    more(page, "#/audit", q) + "</section>";
  main.querySelector("#audit-filter").addEventListener("submit", ev => {
    ev.preventDefault();
    const f = new FormData(ev.target), n = new URLSearchParams();
    for (const k of ["actor", "action", "target", "from", "to"]) if (f.get(k).trim()) n.set(k, f.get(k).trim());
    location.hash = "#/audit?" + n.toString();
  });
}

const STATES = ["ordered", "in_stock", "deployed", "in_repair", "collecting", "wiping", "retired"];
/** Offboarding: the next step from each state. */
const NEXT_STEP = { deployed: "collect", in_stock: "collect", in_repair: "collect", collecting: "wipe", wiping: "retire" };

export async function assets(main) {
  const q = hashQuery();
  const page = await api("/api/v1/assets?" + q.toString());
  main.innerHTML = html`<section><h2>Assets</h2>` + table(["Serial", "State", "Model", "Owner", "Location", "Device", "Warranty end"],
    page.items.map(a => [esc(a.serial || a.id), pill(a.state), esc(a.model || "-"), esc(a.owner || "-"), esc(a.location || "-"),
      a.device_id ? html`<a href="#/device/${esc(a.device_id)}">${esc(a.device_id)}</a>` : "-", esc(a.warranty_end || "-")]),
    i => `#/asset/${page.items[i].id}`) + more(page, "#/assets", q) + "</section>";
}

export async function asset(main, id) {
  const a = await api(`/api/v1/assets/${encodeURIComponent(id)}`);
  const edit = can("analyst");
  main.innerHTML = html`<section><h2>Asset ${esc(a.serial || a.id)} ${pill(a.state)}</h2><dl>
    <dt>Id</dt><dd><code>${esc(a.id)}</code></dd><dt>Model</dt><dd>${esc(a.model || "-")}</dd>
    <dt>Device</dt><dd>${a.device_id ? html`<a href="#/device/${esc(a.device_id)}">${esc(a.device_id)}</a>` : "-"}</dd>
    <dt>Purchased</dt><dd>${esc(a.purchase_date || "-")}</dd><dt>Warranty end</dt><dd>${esc(a.warranty_end || "-")}</dd>
    <dt>Updated</dt><dd>${esc(when(a.updated_at_ms))}</dd></dl></section>` +
    (edit ? html`<section><h2>Edit</h2><form id="asset-form" class="stack">
      <label>Owner <input name="owner" value="${esc(a.owner || "")}" size="30"></label>
      <label>Location <input name="location" value="${esc(a.location || "")}" size="30"></label>
      <label>Lifecycle state <select name="state">${STATES.map(s => html`<option value="${s}" ${s === a.state ? "selected" : ""}>${s.replace("_", " ")}</option>`)}</select></label>
      <label>Notes <input name="notes" value="${esc(a.notes || "")}" size="60"></label>
      <p><button type="submit">Save</button> <span class="form-err err" role="alert"></span> <span id="asset-ok" class="muted"></span></p></form></section>` : "") +
    (edit && NEXT_STEP[a.state] ? html`<section><h2>Offboarding</h2><p class="muted">Collect the laptop, wipe it, retire it; each step is audited, and retiring revokes the device and closes its open tickets.</p>
      <form id="offboard-form"><label>Note <input name="note" size="40" placeholder="leaver, ticket, courier…"></label> <button type="submit" id="offboard-next">${esc(NEXT_STEP[a.state])}</button> <span class="form-err err" role="alert"></span></form></section>` : "");
  if (!edit) return;
  const off = main.querySelector("#offboard-form");
  if (off) onSubmit(off, async f => {
    await api(`/api/v1/assets/${encodeURIComponent(id)}/offboard`, { method: "POST", body: { step: NEXT_STEP[a.state], note: f.note } });
    await asset(main, id);
  });
  onSubmit(main.querySelector("#asset-form"), async f => {
    await api(`/api/v1/assets/${encodeURIComponent(id)}`, { method: "PATCH", body: { owner: f.owner, location: f.location, state: f.state, notes: f.notes } });
    await asset(main, id);
    main.querySelector("#asset-ok").textContent = "Saved.";
  });
}

const CATEGORIES = ["network", "disk", "performance", "software", "hardware", "account", "other"];

/** The knowledge base: what `tend help` shows before a request reaches IT. */
export async function kb(main) {
  const list = await api("/api/v1/kb");
  const edit = can("analyst");
  main.innerHTML = html`<section><h2>Knowledge base</h2><p class="muted">Shown on the laptop by <code>tend help</code> before a request is filed; a request withdrawn after reading one counts as self-service deflection.</p>` +
    table(["Title", "Answers", "Shown", "Withdrew", "Updated", ""], list.map(a => [esc(a.title), esc([...a.categories, ...a.problem_keys].join(", ")), String(a.views), String(a.withdrawals),
      `${esc(a.updated_by)} ${esc(when(a.updated_at_ms))}`, edit ? html`<button type="button" class="kb-rm" data-id="${esc(a.id)}">Remove</button>` : ""])) + "</section>" +
    (edit ? html`<section><h2>Add an article</h2><form id="kb-form" class="stack">
      <label>Title <input name="title" required maxlength="200" size="50"></label>
      <fieldset><legend>Request categories it answers</legend>${CATEGORIES.map(c => html`<label><input type="checkbox" name="cat-${c}"> ${c}</label> `)}</fieldset>
      <label>Problem keys it answers (comma-separated, e.g. <code>disk.free, vpn.down</code>) <input name="keys" size="50"></label>
      <label for="kb-body">Body (markdown)</label><textarea id="kb-body" name="body" rows="8" required></textarea>
      <p><button type="submit">Add</button> <span class="form-err err" role="alert"></span></p></form></section>` : "");
  main.querySelectorAll("button.kb-rm").forEach(b => b.addEventListener("click", async () => {
    await api(`/api/v1/kb/${encodeURIComponent(b.dataset.id)}`, { method: "DELETE" });
    await kb(main);
  }));
  const form = main.querySelector("#kb-form");
  if (form) onSubmit(form, async f => {
    await api("/api/v1/kb", { method: "POST", body: {
      title: f.title, body: f.body, categories: CATEGORIES.filter(c => f[`cat-${c}`]),
      problem_keys: (f.keys || "").split(",").map(k => k.trim()).filter(Boolean) } });
    await kb(main);
  });
}
