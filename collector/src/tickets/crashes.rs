//! Repeated crashes become a ticket: the agent reports each new crash report as a
//! `crash` event (process, signal or exception); when one process crashed
//! `CRASH_TICKET_COUNT` times on a device within 24 h, the collector files a ticket
//! keyed `crash:<process>`. Further crashes while it is open add occurrences.

use tend_shared::checkin::AgentEvent;
use tend_shared::health::Severity;
use tend_shared::tickets::{TicketRequest, TicketSource};

use crate::error::ApiError;
use crate::fleet::DeviceRecord;
use crate::state::AppState;

/// Crashes of one process within the window that make a ticket.
pub const CRASH_TICKET_COUNT: usize = 3;
/// The window.
pub const CRASH_WINDOW_MS: u64 = 86_400_000;

/// The process a `crash` event names.
fn process(e: &AgentEvent) -> Option<&str> {
    e.data
        .get("process")
        .and_then(|p| p.as_str())
        .filter(|p| !p.is_empty())
}

/// Called for each newly stored `crash` event (after it is in the store).
pub async fn on_crash(
    state: &AppState,
    device: &DeviceRecord,
    e: &AgentEvent,
) -> Result<(), ApiError> {
    let Some(raw) = process(e) else {
        return Ok(());
    };
    // agent-supplied: bounded and cleaned before it names a ticket
    let proc_name = crate::text::text(raw, 64);
    let proc_name = proc_name.as_str();
    let since = e.at_ms.saturating_sub(CRASH_WINDOW_MS);
    let recent: Vec<_> = state
        .store
        .read()
        .events_since(&device.id, since, 5_000)
        .await?
        .into_iter()
        .filter(|ev| ev.kind == "crash" && ev.at_ms <= e.at_ms)
        .filter(|ev| ev.data.get("process").and_then(|p| p.as_str()) == Some(raw))
        .collect();
    if recent.len() < CRASH_TICKET_COUNT {
        return Ok(());
    }
    let signals: Vec<String> = recent
        .iter()
        .filter_map(|ev| {
            ev.data
                .get("signal")
                .or_else(|| ev.data.get("exception"))
                .and_then(|s| s.as_str())
                .map(str::to_string)
        })
        .collect();
    let req = TicketRequest {
        // one request per crash event: the 4th crash is an occurrence of the ticket
        request_id: format!(
            "crash-{}-{}",
            &tend_shared::signing::sha256_hex(raw.as_bytes())[..16],
            e.seq
        ),
        device_id: Some(device.id.clone()),
        problem_key: format!("crash:{proc_name}"),
        severity: Severity::Medium,
        summary: format!(
            "{proc_name} crashed {} times in 24 h on {}",
            recent.len(),
            device.hostname
        ),
        description: format!(
            "Crash reports for {proc_name} in the 24 h before {} ms: {}. Signals/exceptions: {}.",
            e.at_ms,
            recent.len(),
            if signals.is_empty() {
                "not recorded".to_string()
            } else {
                signals.join(", ")
            }
        ),
        check: None,
        evidence: serde_json::json!({
            "process": proc_name,
            "crashes": recent.iter().map(|ev| &ev.data).collect::<Vec<_>>(),
        }),
        observed_at_ms: e.at_ms,
        requester: None,
        category: None,
    };
    super::file(state, device, req, TicketSource::Collector, "system").await?;
    Ok(())
}
