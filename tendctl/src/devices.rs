//! Device, asset and audit views.

use std::fmt::Write;

use tend_client::TransportError;
use tend_shared::api::AuditEntry;
use tend_shared::assets::Asset;
use tend_shared::devices::{DeviceDetail, DeviceSummary};
use tend_shared::releases::DeviceUpdate;

use crate::ctl::Ctl;
use crate::fmt::{fmt_age, fmt_ms, human_bytes, opt, table, table_or};
use crate::tickets::sla_text;

/// "0.2.0 rolled back" for a device's last self-update, "-" when none.
pub fn update_text(u: &Option<DeviceUpdate>) -> String {
    u.as_ref().map_or("-".into(), |u| {
        format!(
            "{} {}",
            u.target_version,
            u.state.as_str().replace('_', " ")
        )
    })
}

fn devices_text(list: &[DeviceSummary]) -> String {
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
                update_text(&d.update),
            ]
        })
        .collect();
    table_or(
        "devices",
        &[
            "id",
            "hostname",
            "platform",
            "os",
            "health",
            "last seen",
            "serial",
            "agent",
            "update",
        ],
        &rows,
    )
}

fn device_text(d: &DeviceDetail) -> String {
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
            "  update      {} at {} {}",
            update_text(&s.update),
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
        let _ = writeln!(out, "  memory      {}", human_bytes(inv.memory.total_bytes));
        for disk in &inv.disks {
            let _ = writeln!(
                out,
                "  disk        {} {} {} free of {}",
                disk.mount,
                disk.filesystem,
                human_bytes(disk.free_bytes),
                human_bytes(disk.total_bytes)
            );
        }
        let _ = writeln!(out, "  software    {} packages", inv.software.len());
    }
    if let Some(t) = s.decommissioned_at_ms {
        let _ = writeln!(out, "  DECOMMISSIONED at {}", fmt_ms(t));
    }
    if let Some(r) = &d.reenroll_request {
        let _ = writeln!(
            out,
            "  re-enrollment waiting since {} from {} ({}): `tendctl device {} --approve-reenroll`",
            fmt_ms(r.requested_at_ms),
            r.source,
            r.hostname,
            s.id
        );
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
            .map(|c| {
                vec![
                    c.id.clone(),
                    c.status.as_str().into(),
                    c.message.clone(),
                    tend_shared::policy::threshold_words(&c.id, &c.threshold),
                ]
            })
            .collect();
        out.push_str(&table(&["check", "status", "message", "threshold"], &rows));
    }
    let _ = writeln!(out, "\nTickets:");
    let rows: Vec<Vec<String>> = d
        .tickets
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.priority.as_str().into(),
                t.status.label().into(),
                t.problem_key.clone(),
                sla_text(t, now),
                t.summary.chars().take(60).collect(),
            ]
        })
        .collect();
    out.push_str(&table_or(
        "tickets",
        &["id", "pri", "status", "problem", "sla", "summary"],
        &rows,
    ));
    if !d.events.is_empty() {
        let _ = writeln!(out, "\nRecent events:");
        let rows: Vec<Vec<String>> = d
            .events
            .iter()
            .map(|e| vec![fmt_ms(e.at_ms), e.kind.clone(), e.message.clone()])
            .collect();
        out.push_str(&table(&["at", "kind", "message"], &rows));
    }
    out
}

fn assets_text(list: &[Asset]) -> String {
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
    table_or(
        "assets",
        &[
            "id", "serial", "state", "model", "owner", "location", "device",
        ],
        &rows,
    )
}

fn audit_text(list: &[AuditEntry]) -> String {
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
    table_or(
        "audit entries",
        &["at", "actor", "action", "target", "outcome"],
        &rows,
    )
}

impl Ctl {
    /// `tendctl devices`.
    pub async fn devices(&self, query: &str, max: Option<usize>) -> Result<String, TransportError> {
        let (list, more) = self.list(&format!("/api/v1/devices{query}"), max).await?;
        Ok(self.show_list(&list, more, devices_text))
    }

    /// `tendctl device DEVICE`.
    pub async fn device(&self, query: &str) -> anyhow::Result<String> {
        let id = self.resolve_device(query).await?;
        Ok(self
            .get_show(&format!("/api/v1/devices/{id}"), device_text)
            .await?)
    }

    /// `tendctl device DEVICE --approve-reenroll | --decommission`.
    pub async fn device_action(&self, query: &str, approve: bool) -> anyhow::Result<String> {
        let id = self.resolve_device(query).await?;
        if approve {
            let r: tend_shared::enroll::ReenrollRequest = self
                .client
                .post(
                    &format!("/api/v1/devices/{id}/reenroll/approve"),
                    &serde_json::json!({}),
                )
                .await?;
            return Ok(self.show(&r, |r| {
                format!(
                    "re-enrollment of {} ({}) from {} approved: that installation may enroll within 24 h",
                    r.device_id, r.hostname, r.source
                )
            }));
        }
        let d: DeviceSummary = self
            .client
            .post(
                &format!("/api/v1/devices/{id}/decommission"),
                &serde_json::json!({}),
            )
            .await?;
        Ok(self.show(&d, |d| {
            format!(
                "{} ({}) decommissioned: its token is revoked, its asset retired, its open tickets closed",
                d.hostname, d.id
            )
        }))
    }

    /// `tendctl assets`.
    pub async fn assets(&self, max: Option<usize>) -> Result<String, TransportError> {
        let (list, more) = self.list("/api/v1/assets", max).await?;
        Ok(self.show_list(&list, more, assets_text))
    }

    /// `tendctl audit`.
    pub async fn audit(&self, max: Option<usize>) -> Result<String, TransportError> {
        let (list, more) = self.list("/api/v1/audit", max).await?;
        Ok(self.show_list(&list, more, audit_text))
    }
}
