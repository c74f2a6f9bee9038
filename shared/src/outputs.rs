//! The typed shapes of what a device reports beyond its check-in: each diagnostic's
//! structured output and a ticket's evidence. The collector checks both against these
//! before storing anything and refuses what does not fit with a 400, so a value the
//! console shows as a number is a number, whoever sent it (issue 23 #3b). Unknown
//! evidence keys stay allowed (analysts attach their own), the known ones are typed.

use serde::Deserialize;
use serde_json::Value;

use crate::diagnostics::{
    DiskUsage, DnsAnswer, HttpAnswer, Interface, ListeningPort, Route, TopProcesses,
};
use crate::health::{CheckResult, CheckStatus};
use crate::inventory::{Disk, Hardware, OsInfo};
use crate::jobs::JobState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ping {
    #[allow(dead_code)]
    exit_code: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogTail {
    #[allow(dead_code)]
    lines: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryRefreshed {
    #[allow(dead_code)]
    inventory_hash: Option<String>,
}

/// Linux returns rows, macOS the tool's text.
#[derive(Deserialize)]
#[serde(untagged)]
enum RowsOrText<T> {
    #[allow(dead_code)]
    Rows(Vec<T>),
    #[allow(dead_code)]
    Text(String),
}

fn fits<T: for<'de> Deserialize<'de>>(what: &str, v: &Value) -> Result<(), String> {
    T::deserialize(v)
        .map(|_| ())
        .map_err(|e| format!("{what} does not have its typed shape: {e}"))
}

/// Checks the structured output of diagnostic `name` (`null`: none, always fine).
pub fn check_output(name: &str, output: &Value) -> Result<(), String> {
    if output.is_null() {
        return Ok(());
    }
    let what = format!("the output of {name}");
    match name {
        "ping" => fits::<Ping>(&what, output),
        "dns" => fits::<DnsAnswer>(&what, output),
        "http" => fits::<HttpAnswer>(&what, output),
        "disk-usage" => fits::<DiskUsage>(&what, output),
        "top-processes" => fits::<TopProcesses>(&what, output),
        "interfaces" => fits::<Vec<Interface>>(&what, output),
        "routes" => fits::<RowsOrText<Route>>(&what, output),
        "listening-ports" => fits::<RowsOrText<ListeningPort>>(&what, output),
        "log-tail" => fits::<LogTail>(&what, output),
        "inventory-refresh" => fits::<InventoryRefreshed>(&what, output),
        "health-now" => fits::<Vec<CheckResult>>(&what, output),
        other => Err(format!("{other} is not a diagnostic")),
    }
}

/// The remediation an agent tried before filing (`evidence.remediation`).
#[derive(Deserialize)]
#[allow(dead_code)]
struct Remediation {
    script_id: String,
    version: u32,
    state: JobState,
    exit_code: Option<i32>,
    #[serde(default)]
    duration_ms: u64,
    #[serde(default)]
    stdout: String,
    #[serde(default)]
    stderr: String,
    #[serde(default)]
    stdout_truncated: bool,
    #[serde(default)]
    stderr_truncated: bool,
    reason: Option<String>,
    recheck: Option<CheckStatus>,
}

/// One check in `tend help`'s `evidence.health`.
#[derive(Deserialize)]
#[allow(dead_code)]
struct HealthLine {
    check: String,
    status: CheckStatus,
    #[serde(default)]
    message: String,
}

/// One diagnostic `tend help` ran (`evidence.diagnostics["name args"]`).
#[derive(Deserialize)]
struct HelpDiagnostic {
    #[allow(dead_code)]
    state: JobState,
    #[serde(default)]
    output: Value,
    #[serde(default)]
    #[allow(dead_code)]
    text: String,
    #[allow(dead_code)]
    reason: Option<String>,
}

/// The evidence keys agents send, typed; anything else is the filer's own.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Evidence {
    transition: Option<serde_json::Map<String, Value>>,
    os: Option<OsInfo>,
    hardware: Option<Hardware>,
    disks: Option<Vec<Disk>>,
    uptime_s: Option<u64>,
    agent_version: Option<String>,
    remediation: Option<Remediation>,
    requested_by: Option<String>,
    category: Option<String>,
    health: Option<Vec<HealthLine>>,
    diagnostics: Option<std::collections::BTreeMap<String, HelpDiagnostic>>,
    last_seen_ms: Option<u64>,
}

/// Checks a ticket's evidence: `null` or an object whose known keys have their
/// types (a diagnostic `tend help` attached is checked as that diagnostic's output).
pub fn check_evidence(evidence: &Value) -> Result<(), String> {
    if evidence.is_null() {
        return Ok(());
    }
    if !evidence.is_object() {
        return Err("evidence must be an object".into());
    }
    let e = Evidence::deserialize(evidence)
        .map_err(|e| format!("evidence does not have its typed shape: {e}"))?;
    for (run, d) in e.diagnostics.iter().flatten() {
        let name = run.split_whitespace().next().unwrap_or("");
        check_output(name, &d.output).map_err(|e| format!("evidence.diagnostics[{run:?}]: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outputs_of_the_right_shape_pass_and_strings_for_numbers_do_not() {
        let du = json!({"path": "/tmp", "total_bytes": 5, "largest": [{"path": "/tmp/a", "bytes": 5}], "entries_scanned": 1});
        assert!(check_output("disk-usage", &du).is_ok());
        let mut bad = du.clone();
        bad["entries_scanned"] = json!("<meta http-equiv=refresh content=0;url=//evil>");
        assert!(check_output("disk-usage", &bad).is_err());
        assert!(check_output("routes", &json!("Routing tables\n...")).is_ok());
        assert!(check_output(
            "routes",
            &json!([{"iface": "eth0", "destination": "0.0.0.0",
            "gateway": "10.0.0.1", "mask": "0.0.0.0", "metric": 0}])
        )
        .is_ok());
        assert!(check_output("ping", &json!({"exit_code": 0})).is_ok());
        assert!(check_output("ping", &json!({"exit_code": 0, "html": "<b>"})).is_err());
        assert!(check_output(
            "http",
            &json!({"status": "200", "final_url": "x", "elapsed_ms": 1})
        )
        .is_err());
        assert!(check_output("anything", &Value::Null).is_ok());
    }

    #[test]
    fn evidence_keys_agents_send_are_typed() {
        let good = json!({"disks": [{"mount": "/", "total_bytes": 10, "free_bytes": 1}],
            "uptime_s": 5, "agent_version": "1.0", "analyst_note": "<anything>",
            "diagnostics": {"dns example.com": {"state": "succeeded",
                "output": {"host": "example.com", "addresses": [], "elapsed_ms": 1}}}});
        assert!(check_evidence(&good).is_ok());
        for bad in [
            json!({"disks": [{"mount": "/", "free_bytes": "<meta http-equiv=refresh>"}]}),
            json!({"uptime_s": "soon"}),
            json!({"diagnostics": {"dns x": {"state": "succeeded", "output": {"host": 1}}}}),
            json!("a string"),
        ] {
            assert!(check_evidence(&bad).is_err(), "{bad}");
        }
    }
}
