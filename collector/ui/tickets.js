// Tickets: the queue (saved filters, SLA countdown, bulk assign; polled with ETags),
// the ticket page (allowed transitions only, assign to me, priority, comments, evidence
// in readable sections) and the problems page.
"use strict";
import { api, esc, when, ago, dur, bytes, pill, words, table, hashQuery, more, onSubmit, can, session } from "./lib.js";
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
  if (t.sla.own_breached || t.sla.resolve_breached) return `<span class="pill fail">breached</span>`;
  if (t.status === "pending") return `<span class="muted">paused</span>`;
  const due = t.owned_at_ms ? t.sla.resolve_due_ms : Math.min(t.sla.own_due_ms, t.sla.resolve_due_ms);
  const left = (due - Date.now()) / 1000;
  const cls = left < 4 * 3600 ? "warn" : "";
  return `<span class="pill ${cls}" title="${esc(when(due))}">${t.owned_at_ms ? "resolve" : "own"} in ${dur(left)}</span>`;
}

export async function tickets(main) {
  const raw = location.hash.split("?")[1];
  const q = raw === undefined ? new URLSearchParams("open=true") : hashQuery();
  const url = "/api/v1/tickets?" + q.toString();
  const current = q.toString();
  const draw = page => {
    const list = page.items;
    const sel = (name, label, values) => `<label>${label} <select data-f="${name}"><option value="">any</option>${values.map(v => `<option ${q.get(name) === v ? "selected" : ""}>${v}</option>`).join("")}</select></label>`;
    const checked = new Set([...main.querySelectorAll("input.pick:checked")].map(i => i.value));
    main.innerHTML = `<section><h2>Tickets</h2><nav class="saved" aria-label="Saved filters">${SAVED.map(([n, s]) => `<a href="#/tickets?${s}" ${s === current ? 'aria-current="page"' : ""}>${n}</a>`).join("")}</nav>
      <div class="filters">${sel("status", "Status", ["new", "in_progress", "pending", "resolved", "closed"])}${sel("priority", "Priority", ["P1", "P2", "P3", "P4"])}${sel("sort", "Sort", ["created", "updated", "priority", "due"])}</div>
      ${can("analyst") ? `<form id="bulk" class="filters"><label>Assign selected to <input name="assignee" placeholder="me or a user name" size="16" required></label> <button type="submit">Assign</button> <span class="form-err err" role="alert"></span></form>` : ""}` +
      table([`<input type="checkbox" id="pick-all" aria-label="Select all">`, "Ticket", "Pri", "Status", "Host", "Problem", "Seen", "Assignee", "Opened", "SLA", "Summary"],
        list.map(t => [`<input type="checkbox" class="pick" value="${esc(t.id)}" aria-label="Select ${esc(t.id)}" ${checked.has(t.id) ? "checked" : ""}>`,
          `<a href="#/ticket/${esc(t.id)}">${esc(t.id)}</a>`, esc(t.priority), pill(t.status), esc(t.hostname), `<code>${esc(t.problem_key)}</code>`, String(t.occurrences),
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
  if (!ev || typeof ev !== "object" || !Object.keys(ev).length) return `<p class="muted">No evidence attached.</p>`;
  let html = "";
  const rest = { ...ev };
  const take = k => { const v = rest[k]; delete rest[k]; return v; };
  const tr = take("transition");
  if (tr) html += `<h3>What changed</h3>${generic(tr)}`;
  if (t.check) html += `<h3>Check</h3><p><code>${esc(t.check.id)}</code> ${pill(t.check.status)} — ${esc(t.check.message)}</p>`;
  if (t.description) html += `<p>${esc(t.description)}</p>`;
  const disks = take("disks");
  if (Array.isArray(disks) && disks.length) html += `<h3>Disks</h3>` + table(["Mount", "Free", "Size", "Free %"], disks.map(d => [esc(d.mount), bytes(d.free_bytes), bytes(d.total_bytes), d.total_bytes ? `${(100 * d.free_bytes / d.total_bytes).toFixed(1)}%` : "-"]));
  const rem = take("remediation");
  if (rem) html += `<h3>Remediation tried</h3><p>script ${esc(rem.script_id)} v${esc(rem.version)}: ${esc(words(rem.state))}, exit code ${esc(rem.exit_code ?? "-")}, ${esc(rem.duration_ms)} ms; re-check ${esc(rem.recheck || "-")}</p>` +
    (rem.stdout ? `<pre class="output">${esc(rem.stdout)}</pre>` : "") + (rem.stderr ? `<pre class="output">${esc(rem.stderr)}</pre>` : "");
  const os = take("os"), hw = take("hardware"), up = take("uptime_s"), ver = take("agent_version");
  if (os || hw) html += `<h3>Device</h3><dl>${os ? `<dt>OS</dt><dd>${esc(os.name)} ${esc(os.version)} (${esc(os.kernel)})</dd>` : ""}${hw ? `<dt>Hardware</dt><dd>${esc(hw.vendor || "")} ${esc(hw.model || "")}</dd>` : ""}${up != null ? `<dt>Up</dt><dd>${dur(up)}</dd>` : ""}${ver ? `<dt>Agent</dt><dd>${esc(ver)}</dd>` : ""}</dl>`;
  for (const [k, v] of Object.entries(rest)) if (v != null) html += `<h3>${esc(words(k))}</h3>${generic(v, k)}`;
  return html;
}

export async function ticket(main, id) {
  const url = `/api/v1/tickets/${encodeURIComponent(id)}`;
  const t = await api(url);
  const kbq = new URLSearchParams({ problem_key: t.problem_key });
  if (t.source === "user") kbq.set("category", t.category);
  const articles = await api(`/api/v1/kb?${kbq}`).catch(() => []);
  const me = session.info.user.name;
  const act = can("analyst");
  const moves = t.next_statuses.map(s => `<button type="button" class="move" data-status="${esc(s)}">${esc(moveLabel(t.status, s))}</button>`).join(" ");
  main.innerHTML = `<section><h2 id="ticket-title">${esc(t.id)} [${esc(t.priority)}] ${esc(t.summary)}</h2><dl>
    <dt>Status</dt><dd id="ticket-status">${pill(t.status)}${t.auto_resolved ? " (auto-resolved)" : ""}</dd>
    <dt>Device</dt><dd><a href="#/device/${esc(t.device_id)}">${esc(t.hostname)}</a>${t.asset_id ? ` · asset <a href="#/asset/${esc(t.asset_id)}">${esc(t.asset_id)}</a>` : ""}</dd>
    <dt>Problem</dt><dd><a href="#/tickets?problem_key=${encodeURIComponent(t.problem_key)}"><code>${esc(t.problem_key)}</code></a> (${esc(t.category)}), seen ${t.occurrences}×, reopened ${t.reopen_count}×${t.problem_id ? ` · fleet problem <a href="#/problems">${esc(t.problem_id)}</a>` : ""}</dd>
    <dt>Source</dt><dd>${esc(t.source)}${t.requester ? ` — asked by <strong id="ticket-requester">${esc(t.requester)}</strong> with <code>tend help</code>` : ""}</dd>
    ${t.csat ? `<dt>Satisfaction</dt><dd id="ticket-csat">${"★".repeat(t.csat.score)}${"☆".repeat(5 - t.csat.score)} ${t.csat.score}/5${t.csat.comment ? ` — “${esc(t.csat.comment)}”` : ""}</dd>` : ""}
    <dt>Assignee</dt><dd id="ticket-assignee">${esc(t.assignee || "nobody")}</dd>
    <dt>Own by</dt><dd>${esc(when(t.sla.own_due_ms))}${t.sla.own_breached ? " — breached" : ""}</dd>
    <dt>Resolve by</dt><dd>${esc(when(t.sla.resolve_due_ms))}${t.sla.resolve_breached ? " — breached" : ""} ${countdown(t)}</dd></dl></section>` +
    (act ? `<section class="actions"><h2>Work it</h2><p>${moves || `<span class="muted">No status change is possible from ${esc(words(t.status))}.</span>`}
      ${t.assignee !== me ? `<button type="button" id="assign-me">Assign to me</button>` : ""}
      <label>Priority <select id="priority">${["P1", "P2", "P3", "P4"].map(p => `<option ${p === t.priority ? "selected" : ""}>${p}</option>`).join("")}</select></label></p>
      <form id="comment-form"><label for="comment">Comment</label><textarea id="comment" name="text" rows="3" required></textarea>
      ${t.requester ? `<label><input type="checkbox" name="public" id="comment-public"> Reply to ${esc(t.requester)} (they see it in <code>tend status</code>; otherwise an internal note)</label><br>` : ""}
      <button type="submit">Add comment</button> <span class="form-err err" role="alert"></span></form></section>` : "") +
    `<section id="evidence"><h2>Evidence</h2>${evidence(t.evidence, t)}</section>` +
    (articles.length ? `<section id="ticket-kb"><h2>Knowledge base</h2>${articles.map(a => `<details><summary>${esc(a.title)} <span class="muted">(shown ${a.views}×, solved ${a.withdrawals} requests)</span></summary><pre class="kb">${esc(a.body)}</pre></details>`).join("")}</section>` : "") +
    `<section><h2>Timeline</h2><ol class="timeline" id="timeline">${t.timeline.map(e => `<li class="${e.kind === "reply" ? "reply" : ""}"><time>${esc(when(e.at_ms))}</time> <strong>${esc(e.actor)}</strong> ${esc(e.kind === "reply" ? "replied to the requester" : words(e.kind))}${e.message ? `: ${esc(e.message)}` : ""}</li>`).join("")}</ol></section>`;
  if (!act) return;
  const patch = async body => { await api(url, { method: "PATCH", body }); await ticket(main, id); };
  const fail = e => { main.querySelector(".actions p").insertAdjacentHTML("beforeend", `<span class="err" role="alert"> ${esc(e.message)}</span>`); };
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
  main.innerHTML = `<section><h2>Problems (the same failure on many devices)</h2>` +
    table(["Problem", "Key", "Devices", "Tickets", "First seen", "Last seen"], list.map(p => [esc(p.id), `<a href="#/tickets?problem_key=${encodeURIComponent(p.problem_key)}"><code>${esc(p.problem_key)}</code></a>`,
      String(p.device_ids.length), String(p.ticket_ids.length), esc(when(p.created_at_ms)), esc(when(p.updated_at_ms))])) + "</section>";
}
