// Tickets: the queue (saved filters, SLA countdown, bulk assign; polled with ETags),
// the ticket page (allowed transitions only, assign to me, priority, comments, evidence
// in readable sections) and the problems page.
"use strict";
import { html, api, esc, when, ago, dur, bytes, pill, words, table, hashQuery, more, onSubmit, can, session, cat, num } from "./lib.js";
import { generic } from "./results.js";

/** Saved filters: name → query. */
const SAVED = [
  ["Open", "open=true"],
  ["My tickets", "open=true&assignee=me"],
  ["Unassigned", "open=true&assignee=none"],
  ["Breaching soon", "open=true&sort=due"],
  ["Breached", "open=true&breached=true"],
  ["Resolved", "status=resolved"],
];

/** "due in 2.5h" / "breached 20m ago" for an open ticket's next SLA target. */
function countdown(t) {
  if (!["new", "in_progress", "pending"].includes(t.status)) return "";
  if (t.sla.own_breached || t.sla.resolve_breached) return html`<span class="pill fail">breached</span>`;
  if (t.status === "pending") return html`<span class="muted">paused</span>`;
  const due = t.owned_at_ms ? t.sla.resolve_due_ms : Math.min(t.sla.own_due_ms, t.sla.resolve_due_ms);
  const left = (due - Date.now()) / 1000;
  const cls = left < 4 * 3600 ? "warn" : "";
  return html`<span class="pill ${cls}" title="${esc(when(due))}">${t.owned_at_ms ? "resolve" : "own"} in ${dur(left)}</span>`;
}

export async function tickets(main) {
  const raw = location.hash.split("?")[1];
  const q = raw === undefined ? new URLSearchParams("open=true") : hashQuery();
  const url = "/api/v1/tickets?" + q.toString();
  const current = q.toString();
  const draw = page => {
    const list = page.items;
    const sel = (name, label, values) => html`<label>${label} <select data-f="${name}"><option value="">any</option>${values.map(v => html`<option ${q.get(name) === v ? "selected" : ""}>${v}</option>`)}</select></label>`;
    const checked = new Set([...main.querySelectorAll("input.pick:checked")].map(i => i.value));
    main.innerHTML = html`<section><h2>Tickets</h2><nav class="saved" aria-label="Saved filters">${SAVED.map(([n, s]) => html`<a href="#/tickets?${s}" ${s === current ? html`aria-current="page"` : ""}>${n}</a>`)}</nav>
      <div class="filters">${sel("status", "Status", ["new", "in_progress", "pending", "resolved", "closed"])}${sel("priority", "Priority", ["P1", "P2", "P3", "P4"])}${sel("sort", "Sort", ["created", "updated", "priority", "due"])}</div>
      ${can("analyst") ? html`<form id="bulk" class="filters"><label>Assign selected to <input name="assignee" placeholder="me or a user name" size="16" required></label> <button type="submit">Assign</button> <span class="form-err err" role="alert"></span></form>` : ""}` +
      table([html`<input type="checkbox" id="pick-all" aria-label="Select all">`, "Ticket", "Pri", "Status", "Host", "Problem", "Seen", "Assignee", "Opened", "SLA", "Summary"],
        list.map(t => [html`<input type="checkbox" class="pick" value="${esc(t.id)}" aria-label="Select ${esc(t.id)}" ${checked.has(t.id) ? "checked" : ""}>`,
          html`<a href="#/ticket/${esc(t.id)}">${esc(t.id)}</a>`, esc(t.priority), pill(t.status), esc(t.hostname), html`<code>${esc(t.problem_key)}</code>`, String(t.occurrences),
          esc(t.assignee || "-"), esc(ago(t.created_at_ms)), countdown(t), esc(t.summary)])) + more(page, "#/tickets", q) + "</section>";
    main.querySelectorAll("select").forEach(s => s.addEventListener("change", () => {
      if (s.value) q.set(s.dataset.f, s.value); else q.delete(s.dataset.f);
      q.delete("cursor");
      location.hash = "#/tickets?" + q.toString();
    }));
    const all = main.querySelector("#pick-all");
    if (all) all.addEventListener("change", () => main.querySelectorAll("input.pick").forEach(i => { i.checked = all.checked; }));
    const bulk = main.querySelector("#bulk");
    if (bulk) onSubmit(bulk, async f => {
      const ids = [...main.querySelectorAll("input.pick:checked")].map(i => i.value);
      if (!ids.length) throw new Error("Select tickets first.");
      const failed = [];
      for (const id of ids) {
        try { await api(`/api/v1/tickets/${encodeURIComponent(id)}`, { method: "PATCH", body: { assignee: f.assignee.trim() } }); } catch (e) { failed.push(`${id}: ${e.message}`); }
      }
      main.querySelectorAll("input.pick").forEach(i => { i.checked = false; });
      draw(await api(url, { poll: "fresh" }));
      if (failed.length) main.querySelector("#bulk .form-err").textContent = failed.join("; ");
    });
  };
  draw(await api(url, { poll: "fresh" }));
  return async () => {
    const page = await api(url, { poll: true });
    if (page) draw(page);
  };
}

function evidence(ev, t) {
  if (!ev || typeof ev !== "object" || !Object.keys(ev).length) return html`<p class="muted">No evidence attached.</p>`;
  const out = [];
  const rest = { ...ev };
  const take = k => { const v = rest[k]; delete rest[k]; return v; };
  const tr = take("transition");
  if (tr) out.push(html`<h3>What changed</h3>${generic(tr)}`);
  if (t.check) out.push(html`<h3>Check</h3><p><code>${t.check.id}</code> ${pill(t.check.status)} — ${t.check.message}</p>`);
  if (t.description) out.push(html`<p>${t.description}</p>`);
  const disks = take("disks");
  if (Array.isArray(disks) && disks.length) {
    const free = d => Number(d.total_bytes) > 0 ? `${num(100 * Number(d.free_bytes) / Number(d.total_bytes), 1)}%` : "-";
    out.push(html`<h3>Disks</h3>`, table(["Mount", "Free", "Size", "Free %"], disks.map(d => [d.mount, bytes(d.free_bytes), bytes(d.total_bytes), free(d)])));
  }
  const rem = take("remediation");
  if (rem) {
    out.push(html`<h3>Remediation tried</h3><p>script ${rem.script_id} v${rem.version}: ${words(rem.state)}, exit code ${rem.exit_code ?? "-"}, ${num(rem.duration_ms)} ms; re-check ${rem.recheck || "-"}</p>`);
    if (rem.stdout) out.push(html`<pre class="output">${rem.stdout}</pre>`);
    if (rem.stderr) out.push(html`<pre class="output">${rem.stderr}</pre>`);
  }
  const os = take("os"), hw = take("hardware"), up = take("uptime_s"), ver = take("agent_version");
  if (os || hw) out.push(html`<h3>Device</h3><dl>${os ? html`<dt>OS</dt><dd>${os.name} ${os.version} (${os.kernel})</dd>` : ""}${hw ? html`<dt>Hardware</dt><dd>${hw.vendor || ""} ${hw.model || ""}</dd>` : ""}${up != null ? html`<dt>Up</dt><dd>${dur(Number(up))}</dd>` : ""}${ver ? html`<dt>Agent</dt><dd>${ver}</dd>` : ""}</dl>`);
  for (const [k, v] of Object.entries(rest)) if (v != null) out.push(html`<h3>${words(k)}</h3>${generic(v, k)}`);
  return cat(out);
}

export async function ticket(main, id) {
  const url = `/api/v1/tickets/${encodeURIComponent(id)}`;
  const t = await api(url);
  const kbq = new URLSearchParams({ problem_key: t.problem_key });
  if (t.source === "user") kbq.set("category", t.category);
  const articles = await api(`/api/v1/kb?${kbq}`).catch(() => []);
  const me = session.info.user.name;
  const act = can("analyst");
  const moves = t.next_statuses.map(s => html`<button type="button" class="move" data-status="${esc(s)}">${esc(moveLabel(t.status, s))}</button>`);
  main.innerHTML = html`<section><h2 id="ticket-title">${esc(t.id)} [${esc(t.priority)}] ${esc(t.summary)}</h2><dl>
    <dt>Status</dt><dd id="ticket-status">${pill(t.status)}${t.auto_resolved ? " (auto-resolved)" : ""}</dd>
    <dt>Device</dt><dd><a href="#/device/${esc(t.device_id)}">${esc(t.hostname)}</a>${t.asset_id ? html` · asset <a href="#/asset/${esc(t.asset_id)}">${esc(t.asset_id)}</a>` : ""}</dd>
    <dt>Problem</dt><dd><a href="#/tickets?problem_key=${encodeURIComponent(t.problem_key)}"><code>${esc(t.problem_key)}</code></a> (${esc(t.category)}), seen ${t.occurrences}×, reopened ${t.reopen_count}×${t.problem_id ? html` · fleet problem <a href="#/tickets?problem=${encodeURIComponent(t.problem_id)}">${esc(t.problem_id)}</a>` : ""}</dd>
    <dt>Source</dt><dd>${esc(t.source)}${t.requester ? html` — asked by <strong id="ticket-requester">${esc(t.requester)}</strong> with <code>tend help</code>` : ""}</dd>
    ${t.csat ? html`<dt>Satisfaction</dt><dd id="ticket-csat">${"★".repeat(t.csat.score)}${"☆".repeat(5 - t.csat.score)} ${t.csat.score}/5${t.csat.comment ? html` — “${esc(t.csat.comment)}”` : ""}</dd>` : ""}
    <dt>Assignee</dt><dd id="ticket-assignee">${esc(t.assignee || "nobody")}</dd>
    <dt>Own by</dt><dd>${esc(when(t.sla.own_due_ms))}${t.sla.own_breached ? " — breached" : ""}</dd>
    <dt>Resolve by</dt><dd>${esc(when(t.sla.resolve_due_ms))}${t.sla.resolve_breached ? " — breached" : ""} ${countdown(t)}</dd></dl></section>` +
    (act ? html`<section class="actions"><h2>Work it</h2><p>${moves.length ? moves : html`<span class="muted">No status change is possible from ${esc(words(t.status))}.</span>`}
      ${t.assignee !== me ? html`<button type="button" id="assign-me">Assign to me</button>` : ""}
      <label>Priority <select id="priority">${["P1", "P2", "P3", "P4"].map(p => html`<option ${p === t.priority ? "selected" : ""}>${p}</option>`)}</select></label></p>
      <form id="comment-form"><label for="comment">Comment</label><textarea id="comment" name="text" rows="3" required></textarea>
      ${t.requester ? html`<label><input type="checkbox" name="public" id="comment-public"> Reply to ${esc(t.requester)} (they see it in <code>tend status</code>; otherwise an internal note)</label><br>` : ""}
      <button type="submit">Add comment</button> <span class="form-err err" role="alert"></span></form></section>` : "") +
    html`<section id="evidence"><h2>Evidence</h2>${evidence(t.evidence, t)}</section>` +
    (articles.length ? html`<section id="ticket-kb"><h2>Knowledge base</h2>${articles.map(a => html`<details><summary>${esc(a.title)} <span class="muted">(shown ${a.views}×, solved ${a.withdrawals} requests)</span></summary><pre class="kb">${esc(a.body)}</pre></details>`)}</section>` : "") +
    html`<section><h2>Timeline</h2><ol class="timeline" id="timeline">${t.timeline.map(e => html`<li class="${e.kind === "reply" ? "reply" : ""}"><time>${esc(when(e.at_ms))}</time> <strong>${esc(e.actor)}</strong> ${esc(e.kind === "reply" ? "replied to the requester" : words(e.kind))}${e.message ? html`: ${esc(e.message)}` : ""}</li>`)}</ol></section>`;
  if (!act) return;
  const patch = async body => { await api(url, { method: "PATCH", body }); await ticket(main, id); };
  const fail = e => { main.querySelector(".actions p").insertAdjacentHTML("beforeend", html`<span class="err" role="alert"> ${esc(e.message)}</span>`); };
  main.querySelectorAll("button.move").forEach(b => b.addEventListener("click", () => patch({ status: b.dataset.status }).catch(fail)));
  const mine = main.querySelector("#assign-me");
  if (mine) mine.addEventListener("click", () => patch({ assignee: "me" }).catch(fail));
  main.querySelector("#priority").addEventListener("change", ev => patch({ priority: ev.target.value }).catch(fail));
  onSubmit(main.querySelector("#comment-form"), async f => {
    await api(`${url}/comments`, { method: "POST", body: { text: f.text, public: f.public === "on" } });
    await ticket(main, id);
  });
}

function moveLabel(from, to) {
  if (to === "in_progress") return from === "new" ? "Start work" : from === "pending" ? "Resume work" : "Reopen";
  return { pending: "Set pending (waiting on someone)", resolved: "Resolve", closed: "Close" }[to] || words(to);
}

export async function problems(main) {
  const list = (await api("/api/v1/problems?limit=200")).items;
  main.innerHTML = html`<section><h2>Problems (the same failure on many devices)</h2>` +
    table(["Problem", "Key", "Devices", "Tickets", "First seen", "Last seen"], list.map(p => [esc(p.id), html`<a href="#/tickets?problem_key=${encodeURIComponent(p.problem_key)}"><code>${esc(p.problem_key)}</code></a>`,
      String(p.device_count), html`<a href="#/tickets?problem=${encodeURIComponent(p.id)}">${String(p.ticket_count)}</a>`, esc(when(p.created_at_ms)), esc(when(p.updated_at_ms))])) + "</section>";
}
