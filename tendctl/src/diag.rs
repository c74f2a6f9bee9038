//! Diagnostic results for people: each catalogue entry rendered as a table or a few
//! lines with human sizes, never raw JSON (that is what `--json` is for). Output a
//! renderer does not recognise (an older or newer agent) falls back to JSON.

use std::fmt::Write;

use serde::de::DeserializeOwned;
use tend_shared::diagnostics::{
    DiskUsage, DnsAnswer, HttpAnswer, Interface, ListeningPort, ProcessRow, Route, TopProcesses,
};
use tend_shared::health::CheckResult;
use tend_shared::jobs::JobResult;

use crate::fmt::{human_bytes, table, table_or};

fn typed<T: DeserializeOwned>(v: &serde_json::Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

fn processes(rows: &[ProcessRow]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|p| {
            vec![
                p.pid.to_string(),
                p.name.clone(),
                format!("{:.1} %", p.cpu_percent),
                human_bytes(p.memory_bytes),
            ]
        })
        .collect();
    table(&["pid", "process", "cpu", "memory"], &rows)
}

fn structured(name: &str, v: &serde_json::Value) -> Option<String> {
    let mut out = String::new();
    match name {
        "dns" => {
            let a: DnsAnswer = typed(v)?;
            let _ = writeln!(
                out,
                "{} resolves to {} ({} ms)",
                a.host,
                if a.addresses.is_empty() {
                    "nothing".into()
                } else {
                    a.addresses.join(", ")
                },
                a.elapsed_ms
            );
        }
        "http" => {
            let a: HttpAnswer = typed(v)?;
            let _ = writeln!(
                out,
                "HTTP {} from {} in {} ms{}",
                a.status,
                a.final_url,
                a.elapsed_ms,
                a.server
                    .map(|s| format!(" (server: {s})"))
                    .unwrap_or_default()
            );
        }
        "disk-usage" => {
            let d: DiskUsage = typed(v)?;
            let _ = writeln!(
                out,
                "{} holds {} ({} entries scanned{})",
                d.path,
                human_bytes(d.total_bytes),
                d.entries_scanned,
                if d.truncated {
                    "; stopped at the limit, sizes are at least these"
                } else {
                    ""
                }
            );
            let rows: Vec<Vec<String>> = d
                .largest
                .iter()
                .map(|p| vec![human_bytes(p.bytes), p.path.clone()])
                .collect();
            out.push_str(&table_or("entries", &["size", "path"], &rows));
        }
        "top-processes" => {
            let t: TopProcesses = typed(v)?;
            let _ = writeln!(
                out,
                "{} processes; CPU measured over {} ms (100 % = one core)\n\nBusiest by CPU:",
                t.processes, t.interval_ms
            );
            out.push_str(&processes(&t.by_cpu));
            let _ = writeln!(out, "\nLargest by memory:");
            out.push_str(&processes(&t.by_memory));
        }
        "interfaces" => {
            let list: Vec<Interface> = typed(v)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|i| {
                    vec![
                        i.name.clone(),
                        i.mac.clone(),
                        i.addresses.join(" "),
                        human_bytes(i.rx_bytes),
                        human_bytes(i.tx_bytes),
                    ]
                })
                .collect();
            out.push_str(&table_or(
                "interfaces",
                &["interface", "mac", "addresses", "received", "sent"],
                &rows,
            ));
        }
        "routes" => {
            if let Some(text) = v.as_str() {
                out.push_str(text);
            } else {
                let list: Vec<Route> = typed(v)?;
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|r| {
                        vec![
                            r.destination.clone(),
                            r.mask.clone(),
                            r.gateway.clone(),
                            r.iface.clone(),
                            r.metric.to_string(),
                        ]
                    })
                    .collect();
                out.push_str(&table_or(
                    "routes",
                    &["destination", "mask", "gateway", "interface", "metric"],
                    &rows,
                ));
            }
        }
        "listening-ports" => {
            if let Some(text) = v.as_str() {
                out.push_str(text);
            } else {
                let list: Vec<ListeningPort> = typed(v)?;
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|p| vec![p.address.clone(), p.port.to_string(), p.uid.to_string()])
                    .collect();
                out.push_str(&table_or(
                    "listening sockets",
                    &["address", "port", "uid"],
                    &rows,
                ));
            }
        }
        "health-now" => {
            let list: Vec<CheckResult> = typed(v)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| vec![c.id.clone(), c.status.as_str().into(), c.message.clone()])
                .collect();
            out.push_str(&table_or("checks", &["check", "status", "message"], &rows));
        }
        "inventory-refresh" => {
            let _ = writeln!(
                out,
                "inventory collected again and sent (hash {})",
                v.get("inventory_hash")?.as_str().unwrap_or("-")
            );
        }
        _ => return None,
    }
    Some(out)
}

/// A diagnostic's result as text.
pub fn render(name: &str, r: &JobResult) -> String {
    let mut out = String::new();
    if !r.output.is_null() && !matches!(name, "ping" | "log-tail") {
        match structured(name, &r.output) {
            Some(text) => out.push_str(&text),
            None => {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&r.output).unwrap_or_default()
                );
            }
        }
    }
    if !r.stdout.is_empty() {
        let _ = writeln!(
            out,
            "{}{}",
            r.stdout.trim_end(),
            if r.stdout_truncated {
                "\n(output cut at 64 KiB)"
            } else {
                ""
            }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(output: serde_json::Value) -> JobResult {
        JobResult {
            output,
            ..JobResult::new(tend_shared::jobs::JobState::Succeeded)
        }
    }

    #[test]
    fn disk_usage_reads_as_a_table_with_decimal_sizes() {
        let d = DiskUsage {
            path: "/tmp".into(),
            total_bytes: 2_500_000,
            largest: vec![tend_shared::diagnostics::PathSize {
                path: "/tmp/big".into(),
                bytes: 2_000_000,
            }],
            entries_scanned: 12,
            truncated: false,
        };
        let text = render("disk-usage", &result(serde_json::to_value(d).unwrap()));
        assert!(
            text.starts_with("/tmp holds 2.5 MB (12 entries scanned)"),
            "{text}"
        );
        assert!(text.contains("2.0 MB  /tmp/big"), "{text}");
        assert!(!text.contains('{'), "no raw JSON: {text}");
    }

    #[test]
    fn unknown_shapes_fall_back_to_json() {
        let text = render("disk-usage", &result(serde_json::json!({"odd": 1})));
        assert!(text.contains("\"odd\": 1"), "{text}");
    }
}
