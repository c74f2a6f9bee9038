//! `tendctl`: the analyst's command line. Talks to the collector's API over HTTPS,
//! trusting the collector CA given by `--ca`/`TEND_CA`; prints tables or `--json`.

use std::fmt::Write;

use serde::de::DeserializeOwned;
use tend_agent::transport::{Client, TransportError};
use tend_shared::api::AuditEntry;
use tend_shared::assets::Asset;
use tend_shared::devices::{DeviceDetail, DeviceSummary};

/// Formats Unix milliseconds as `YYYY-MM-DD HH:MM:SSZ` (UTC); `-` for zero.
pub fn fmt_ms(ms: u64) -> String {
    if ms == 0 {
        return "-".into();
    }
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil-from-days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// "3m ago"-style age of a timestamp relative to `now_ms`.
pub fn fmt_age(ms: u64, now_ms: u64) -> String {
    if ms == 0 {
        return "never".into();
    }
    let s = now_ms.saturating_sub(ms) / 1000;
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// Renders rows as an aligned text table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: Vec<String>| {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        let _ = writeln!(out, "{}", s.join("  ").trim_end());
    };
    line(&mut out, headers.iter().map(|h| h.to_uppercase()).collect());
    for r in rows {
        line(&mut out, r.clone());
    }
    out
}

/// A connected `tendctl`.
#[derive(Debug)]
pub struct Ctl {
    pub client: Client,
    pub json: bool,
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".into())
}

impl Ctl {
    pub fn new(server: &str, token: &str, ca_pem: &str, json: bool) -> Result<Ctl, TransportError> {
        Ok(Ctl {
            client: Client::new(server, ca_pem, Some(token.to_string()))?,
            json,
        })
    }

    async fn get<T: DeserializeOwned + serde::Serialize>(
        &self,
        path: &str,
    ) -> Result<(T, Option<String>), TransportError> {
        let v: T = self.client.get(path).await?;
        let json = self
            .json
            .then(|| serde_json::to_string_pretty(&v).unwrap_or_default());
        Ok((v, json))
    }

    /// `tendctl devices`.
    pub async fn devices(&self, query: &str) -> Result<String, TransportError> {
        let (list, json) = self
            .get::<Vec<DeviceSummary>>(&format!("/api/v1/devices{query}"))
            .await?;
        if let Some(j) = json {
            return Ok(j);
        }
        let now = tend_shared::now_ms();
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|d| {
                vec![
                    d.id.clone(),
                    d.hostname.clone(),
                    d.platform.as_str().into(),
                    d.os.clone(),
                    d.health.as_str().into(),
                    fmt_age(d.last_seen_ms, now),
                    opt(&d.serial),
                    d.agent_version.clone(),
                ]
            })
            .collect();
        Ok(table(
            &[
                "id",
                "hostname",
                "platform",
                "os",
                "health",
                "last seen",
                "serial",
                "agent",
            ],
            &rows,
        ))
    }

    /// `tendctl device ID`.
    pub async fn device(&self, id: &str) -> Result<String, TransportError> {
        let (d, json) = self
            .get::<DeviceDetail>(&format!("/api/v1/devices/{id}"))
            .await?;
        if let Some(j) = json {
            return Ok(j);
        }
        let now = tend_shared::now_ms();
        let s = &d.device;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Device {}  {}  ({})",
            s.id,
            s.hostname,
            s.platform.as_str()
        );
        let _ = writeln!(out, "  health      {}", s.health.as_str());
        let _ = writeln!(out, "  os          {}", s.os);
        let _ = writeln!(out, "  serial      {}", opt(&s.serial));
        let _ = writeln!(out, "  hardware    {}", s.hardware_uuid);
        let _ = writeln!(out, "  agent       {}", s.agent_version);
        if let Some(u) = &s.update {
            let _ = writeln!(
                out,
                "  update      {} {} at {} {}",
                u.target_version,
                u.state.as_str(),
                fmt_ms(u.at_ms),
                u.message
            );
        }
        let _ = writeln!(out, "  enrolled    {}", fmt_ms(s.enrolled_at_ms));
        let _ = writeln!(
            out,
            "  last seen   {} ({})",
            fmt_ms(s.last_seen_ms),
            fmt_age(s.last_seen_ms, now)
        );
        if let Some(inv) = &d.inventory {
            let _ = writeln!(
                out,
                "  cpu         {} ({} threads)",
                inv.cpu.model, inv.cpu.logical_cores
            );
            let _ = writeln!(
                out,
                "  memory      {:.1} GiB",
                inv.memory.total_bytes as f64 / (1u64 << 30) as f64
            );
            for disk in &inv.disks {
                let _ = writeln!(
                    out,
                    "  disk        {} {} {:.1}/{:.1} GiB free",
                    disk.mount,
                    disk.filesystem,
                    disk.free_bytes as f64 / (1u64 << 30) as f64,
                    disk.total_bytes as f64 / (1u64 << 30) as f64
                );
            }
            let _ = writeln!(out, "  software    {} packages", inv.software.len());
        }
        if let Some(a) = &d.asset {
            let _ = writeln!(
                out,
                "  asset       {} ({}) owner {} location {}",
                a.id,
                a.state.as_str(),
                opt(&a.owner),
                opt(&a.location)
            );
        }
        if !d.health.is_empty() {
            let _ = writeln!(out, "\nChecks:");
            let rows: Vec<Vec<String>> = d
                .health
                .iter()
                .map(|c| vec![c.id.clone(), c.status.as_str().into(), c.message.clone()])
                .collect();
            out.push_str(&table(&["check", "status", "message"], &rows));
        }
        if !d.events.is_empty() {
            let _ = writeln!(out, "\nRecent events:");
            let rows: Vec<Vec<String>> = d
                .events
                .iter()
                .map(|e| vec![fmt_ms(e.at_ms), e.kind.clone(), e.message.clone()])
                .collect();
            out.push_str(&table(&["at", "kind", "message"], &rows));
        }
        Ok(out)
    }

    /// `tendctl assets`.
    pub async fn assets(&self) -> Result<String, TransportError> {
        let (list, json) = self.get::<Vec<Asset>>("/api/v1/assets").await?;
        if let Some(j) = json {
            return Ok(j);
        }
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    a.serial.clone(),
                    a.state.as_str().into(),
                    opt(&a.model),
                    opt(&a.owner),
                    opt(&a.location),
                    opt(&a.device_id),
                ]
            })
            .collect();
        Ok(table(
            &[
                "id", "serial", "state", "model", "owner", "location", "device",
            ],
            &rows,
        ))
    }

    /// `tendctl audit`.
    pub async fn audit(&self, limit: usize) -> Result<String, TransportError> {
        let (list, json) = self
            .get::<Vec<AuditEntry>>(&format!("/api/v1/audit?limit={limit}"))
            .await?;
        if let Some(j) = json {
            return Ok(j);
        }
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|e| {
                vec![
                    fmt_ms(e.at_ms),
                    e.actor.clone(),
                    e.action.clone(),
                    e.target.clone(),
                    format!("{:?}", e.outcome).to_lowercase(),
                ]
            })
            .collect();
        Ok(table(
            &["at", "actor", "action", "target", "outcome"],
            &rows,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(fmt_ms(0), "-");
        assert_eq!(fmt_ms(1_700_000_000_000), "2023-11-14 22:13:20Z");
        assert_eq!(fmt_ms(951_782_400_000), "2000-02-29 00:00:00Z");
        assert_eq!(fmt_age(1_000, 61_000), "1m ago");
    }

    #[test]
    fn aligns_tables() {
        let t = table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "A    BB\nxxx  y\n");
    }
}

/// `?k=v&…` from the pairs that have a value, values percent-encoded ("" when none).
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let enc = |v: &str| -> String {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod query_tests {
    #[test]
    fn encodes_values() {
        assert_eq!(
            super::query(&[
                ("a", None),
                ("problem_key", Some("disk.free:/".into())),
                ("n", Some("2".into()))
            ]),
            "?problem_key=disk.free%3A%2F&n=2"
        );
        assert_eq!(super::query(&[("a", None)]), "");
    }
}
