//! Incidents: a check that just started failing runs its approved remediation, is
//! re-checked, and becomes a deflected incident (event, no ticket) or a ticket that
//! carries the remediation's output. Tickets wait in the spool until filed.

use tend_shared::health::{CheckResult, CheckStatus};
use tend_shared::jobs::SignedScript;
use tend_shared::tickets::TicketRequest;

use super::{Agent, DaemonError};
use crate::remediate::{decide, Decision};

/// When a remediation's check is graded again: at once, then after these waits, until
/// it passes — a fix that starts a service or a process in the background (it
/// returns before the process is up) is seen within 5 s instead of judged failed.
const RECHECK_AFTER_MS: [u64; 4] = [0, 500, 1_500, 3_000];

impl Agent {
    /// `id` graded again after its remediation, settling as [`RECHECK_AFTER_MS`] says.
    async fn recheck(&mut self, id: &str) -> Option<CheckResult> {
        let mut last = None;
        for wait in RECHECK_AFTER_MS {
            if wait > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            }
            last = self.grade().await.into_iter().find(|x| x.id == id);
            if last.as_ref().is_some_and(|x| x.status == CheckStatus::Pass) {
                break;
            }
        }
        last
    }

    /// Remediate-then-ticket for one newly failing check.
    pub(crate) async fn handle_failure(&mut self, r: CheckResult, transition: serde_json::Value) {
        let now = tend_shared::now_ms();
        let mapping = self.policy.remediation_for(&r.id).cloned();
        let m = match decide(mapping.as_ref(), &self.ledger.get(&r.id), now) {
            Decision::NoneMapped => return self.queue_ticket(&r, transition, None),
            Decision::Skip(why) => {
                let note =
                    serde_json::json!({"script_id": mapping.map(|m| m.script_id), "skipped": why});
                return self.queue_ticket(&r, transition, Some(note));
            }
            Decision::Run => mapping.expect("decided to run a mapped script"),
        };
        self.ledger.ran(&r.id, now);
        let script: SignedScript = match self
            .client
            .get(&format!("/api/v1/scripts/{}/signed", m.script_id))
            .await
        {
            Ok(s) => s,
            Err(e) => {
                let note = serde_json::json!({"script_id": m.script_id, "error": format!("could not fetch the script: {e}")});
                self.event(
                    "remediation.failed",
                    Some(r.id.clone()),
                    format!("remediation {} unavailable: {e}", m.script_id),
                    note.clone(),
                );
                return self.queue_ticket(&r, transition, Some(note));
            }
        };
        let (key, work) = (self.signing_key.clone(), self.work_dir.clone());
        let run_id = format!("rem-{}", now);
        let s2 = script.clone();
        let out = tokio::task::spawn_blocking(move || {
            crate::jobs::exec::run_script(&s2, &key, &work, &run_id)
        })
        .await
        .unwrap_or_else(|e| crate::jobs::exec::rejected(format!("remediation task failed: {e}")));
        let recheck = self.recheck(&r.id).await;
        let fixed = recheck
            .as_ref()
            .is_some_and(|x| x.status == CheckStatus::Pass);
        let evidence = serde_json::json!({
            "script_id": script.script_id, "version": script.version, "state": out.state, "exit_code": out.exit_code,
            "duration_ms": out.duration_ms, "stdout": out.stdout, "stderr": out.stderr,
            "stdout_truncated": out.stdout_truncated, "stderr_truncated": out.stderr_truncated, "reason": out.reason,
            "recheck": recheck.as_ref().map(|x| x.status),
        });
        if fixed {
            let fixed_result = recheck.expect("fixed implies a recheck");
            self.event(
                "remediation.deflected",
                Some(r.id.clone()),
                format!(
                    "{} fixed by script {} v{}",
                    r.id, script.script_id, script.version
                ),
                evidence,
            );
            let users = self
                .inventory
                .as_ref()
                .map(|i| i.users.clone())
                .unwrap_or_default();
            self.notifier.send_to_names(
                &users,
                "Fixed automatically",
                &format!("{}: {} was repaired by an approved fix", r.id, r.message),
            );
            self.check_states.insert(r.id.clone(), CheckStatus::Pass);
            let _ = self.state.save_check_states(&self.check_states);
            if let Some(h) = self.health.iter_mut().find(|h| h.id == r.id) {
                *h = fixed_result;
            }
            self.ledger.recovered(&r.id);
        } else {
            self.event(
                "remediation.failed",
                Some(r.id.clone()),
                format!("script {} did not fix {}", script.script_id, r.id),
                evidence.clone(),
            );
            let latest = recheck.unwrap_or(r);
            self.queue_ticket(&latest, transition, Some(evidence));
        }
    }

    /// Spools a ticket request for a check that just started failing.
    pub(crate) fn queue_ticket(
        &mut self,
        r: &CheckResult,
        transition: serde_json::Value,
        remediation: Option<serde_json::Value>,
    ) {
        let mut id = [0u8; 12];
        let _ = getrandom::getrandom(&mut id);
        let inv = self.inventory.as_ref();
        let req = TicketRequest {
            request_id: format!("tk-{}", hex::encode(id)),
            device_id: None,
            problem_key: r.id.clone(),
            severity: r.severity,
            summary: r.message.clone(),
            description: format!(
                "Check {} is failing on {}: {}. It {}.",
                r.id,
                inv.map_or("this device", |i| i.hostname.as_str()),
                r.message,
                tend_shared::policy::threshold_words(&r.id, &r.threshold)
            ),
            check: Some(r.clone()),
            evidence: serde_json::json!({
                "transition": transition,
                "os": inv.map(|i| &i.os),
                "hardware": inv.map(|i| &i.hardware),
                "disks": inv.map(|i| &i.disks),
                "uptime_s": inv.map(|i| i.uptime_s),
                "agent_version": crate::VERSION,
                "remediation": remediation,
            }),
            observed_at_ms: tend_shared::now_ms(),
            requester: None,
            category: None,
        };
        if let Err(e) = self.spool.push_ticket(&req) {
            tracing::error!(error = %e, check = %r.id, "ticket request not spooled");
        }
    }

    /// Files spooled ticket requests. One the collector finds malformed or conflicting
    /// (400, 409, 413, 422) is dropped with an error log and an event, since sending it
    /// again cannot succeed; refused credentials (401, 403) or a rate limit (429) keep
    /// it for later, like an outage.
    pub(crate) async fn file_tickets(&mut self) -> Result<(), DaemonError> {
        for (name, req) in self.spool.pending_tickets()? {
            match self
                .client
                .post::<_, serde_json::Value>("/api/v1/tickets", &req)
                .await
            {
                Ok(t) => {
                    tracing::info!(ticket = %t["id"].as_str().unwrap_or("?"), problem = %req.problem_key, "ticket filed");
                    self.spool.remove_ticket(&name);
                    match (&req.requester, t["id"].as_str()) {
                        (Some(_), Some(id)) => self.user_ticket_filed(&req.request_id, id),
                        // the agent filed it: whoever is at the laptop hears of it
                        (None, Some(id)) if t["occurrences"] == 1 => {
                            let users = self
                                .inventory
                                .as_ref()
                                .map(|i| i.users.clone())
                                .unwrap_or_default();
                            self.notifier.send_to_names(
                                &users,
                                "IT has been told",
                                &format!("{id}: {}", req.summary),
                            );
                        }
                        _ => {}
                    }
                }
                Err(e) if matches!(e.status(), Some(400 | 409 | 413 | 422)) => {
                    tracing::error!(error = %e, problem = %req.problem_key, "ticket request rejected; dropped");
                    self.spool.remove_ticket(&name);
                    self.event(
                        "ticket.rejected",
                        Some(req.problem_key.clone()),
                        format!(
                            "the collector refused the ticket for {}: {e}",
                            req.problem_key
                        ),
                        serde_json::json!({"request_id": req.request_id}),
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
