//! Linux implementation of the platform layer: files under /sys, /proc, /etc and
//! /var/lib, and a few commands (lsblk, timedatectl, ufw, apt-get).

use std::fs;
use std::time::Duration;

use tend_shared::inventory::{Battery, Hardware, OsInfo, Package};

use super::{has_command, run_command};
use crate::parse::linux as p;

fn read_trim(path: &str) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| {
            !s.is_empty()
                && s != "None"
                && !s.starts_with("To be filled")
                && !s.starts_with("Default string")
        })
}

pub fn hostname() -> String {
    read_trim("/proc/sys/kernel/hostname").unwrap_or_else(|| "localhost".into())
}

pub fn hardware() -> Hardware {
    Hardware {
        vendor: read_trim("/sys/class/dmi/id/sys_vendor"),
        model: read_trim("/sys/class/dmi/id/product_name"),
        serial: read_trim("/sys/class/dmi/id/product_serial"),
        hardware_uuid: read_trim("/sys/class/dmi/id/product_uuid")
            .map(|s| s.to_ascii_uppercase())
            .or_else(|| read_trim("/etc/machine-id"))
            .or_else(|| read_trim("/var/lib/dbus/machine-id"))
            .unwrap_or_else(|| format!("host-{}", hostname())),
    }
}

pub fn os_info() -> OsInfo {
    let rel = fs::read_to_string("/etc/os-release")
        .or_else(|_| fs::read_to_string("/usr/lib/os-release"))
        .ok()
        .and_then(|t| p::parse_os_release(&t).ok())
        .unwrap_or_default();
    OsInfo {
        name: rel.get("NAME").cloned().unwrap_or_else(|| "Linux".into()),
        version: rel.get("VERSION_ID").cloned().unwrap_or_default(),
        build: rel.get("VERSION_CODENAME").cloned(),
        kernel: read_trim("/proc/sys/kernel/osrelease").unwrap_or_default(),
        arch: std::env::consts::ARCH.to_string(),
    }
}

pub fn software() -> Vec<Package> {
    let mut out = fs::read_to_string("/var/lib/dpkg/status")
        .ok()
        .and_then(|t| p::parse_dpkg_status(&t).ok())
        .unwrap_or_default();
    if std::path::Path::new("/var/lib/rpm").exists() && has_command("rpm") {
        if let Some(o) = run_command(
            "rpm",
            &["-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n"],
            Duration::from_secs(30),
        ) {
            out.extend(p::parse_rpm_qa(&o.stdout));
        }
    }
    out
}

pub fn battery() -> Option<Battery> {
    let dir = fs::read_dir("/sys/class/power_supply").ok()?;
    for entry in dir.flatten() {
        let text = fs::read_to_string(entry.path().join("uevent")).unwrap_or_default();
        let kv = p::parse_power_supply_uevent(&text);
        if kv.get("TYPE").map(String::as_str) != Some("Battery") {
            continue;
        }
        return Some(battery_from_uevent(&kv));
    }
    None
}

/// Builds a `Battery` from a power_supply uevent map (µWh or µAh × µV).
pub fn battery_from_uevent(kv: &std::collections::BTreeMap<String, String>) -> Battery {
    let num = |k: &str| kv.get(k).and_then(|v| v.parse::<f64>().ok());
    let wh = |energy: &str, charge: &str| {
        num(energy).map(|e| e / 1e6).or_else(|| {
            let v = num("VOLTAGE_MIN_DESIGN")?;
            num(charge).map(|c| c * v / 1e12)
        })
    };
    let design = wh("ENERGY_FULL_DESIGN", "CHARGE_FULL_DESIGN");
    let full = wh("ENERGY_FULL", "CHARGE_FULL");
    let health = match (full, design) {
        (Some(f), Some(d)) if d > 0.0 => Some((f / d * 100.0).min(100.0)),
        _ => None,
    };
    Battery {
        design_capacity_wh: design,
        full_capacity_wh: full,
        cycle_count: num("CYCLE_COUNT").map(|c| c as u32).filter(|c| *c > 0),
        state: kv
            .get("STATUS")
            .map(|s| s.to_ascii_lowercase().replace(' ', "_"))
            .unwrap_or_else(|| "unknown".into()),
        percent: num("CAPACITY"),
        health_percent: health,
    }
}

/// Users with a session (`who`), deduplicated by the caller.
pub fn logged_in_users() -> Vec<String> {
    run_command("who", &[], Duration::from_secs(5))
        .map(|o| crate::parse::parse_who(&o.stdout))
        .unwrap_or_default()
}

/// Pending package upgrades (apt, else dnf).
pub fn pending_updates() -> Result<Vec<String>, String> {
    if has_command("apt-get") {
        let o = run_command(
            "apt-get",
            &["-s", "-o", "Debug::NoLocking=1", "upgrade"],
            Duration::from_secs(120),
        )
        .ok_or("apt-get -s upgrade did not finish")?;
        if o.code != Some(0) {
            return Err(format!(
                "apt-get -s upgrade exited {:?}: {}",
                o.code,
                o.stderr.lines().next().unwrap_or("")
            ));
        }
        return Ok(p::parse_apt_simulate(&o.stdout));
    }
    if has_command("dnf") {
        let o = run_command("dnf", &["check-update", "-q"], Duration::from_secs(300))
            .ok_or("dnf check-update did not finish")?;
        return match o.code {
            Some(0) => Ok(Vec::new()),
            Some(100) => Ok(p::parse_dnf_check_update(&o.stdout)),
            c => Err(format!("dnf check-update exited {c:?}")),
        };
    }
    Err("neither apt-get nor dnf found".into())
}

/// Root filesystem on LUKS (from `lsblk -J`).
pub fn disk_encrypted() -> Result<bool, String> {
    let o = run_command(
        "lsblk",
        &["-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT,RM"],
        Duration::from_secs(10),
    )
    .ok_or("lsblk not available")?;
    let devices = p::parse_lsblk(&o.stdout).map_err(|e| e.to_string())?;
    p::mount_is_encrypted(&devices, "/")
        .ok_or_else(|| "lsblk does not list the device mounted at /".into())
}

/// Host firewall state: ufw, else firewalld, else an nftables input filter.
pub fn firewall() -> Result<(bool, String), String> {
    if has_command("ufw") {
        if let Some(o) = run_command("ufw", &["status"], Duration::from_secs(10)) {
            if let Ok(active) = p::parse_ufw_status(&o.stdout) {
                return Ok((active, "ufw".into()));
            }
        }
    }
    if has_command("firewall-cmd") {
        if let Some(o) = run_command("firewall-cmd", &["--state"], Duration::from_secs(10)) {
            if let Ok(running) = p::parse_firewalld_state(&format!("{}{}", o.stdout, o.stderr)) {
                return Ok((running, "firewalld".into()));
            }
        }
    }
    if has_command("nft") {
        if let Some(o) = run_command("nft", &["list", "ruleset"], Duration::from_secs(10)) {
            if o.code == Some(0) {
                return Ok((p::parse_nft_ruleset(&o.stdout), "nftables".into()));
            }
        }
    }
    Ok((false, "no ufw, firewalld or nftables ruleset found".into()))
}

/// NTP synchronisation from `timedatectl show`.
pub fn clock_synchronised() -> Result<bool, String> {
    let o = run_command("timedatectl", &["show"], Duration::from_secs(10))
        .ok_or("timedatectl not available")?;
    p::parse_timedatectl_show(&o.stdout).map_err(|e| e.to_string())
}

/// Where crash reports land: apport and systemd-coredump.
pub fn crash_dirs() -> Vec<std::path::PathBuf> {
    vec!["/var/crash".into(), "/var/lib/systemd/coredump".into()]
}

/// Routing table (`/proc/net/route`).
pub fn routes() -> Result<serde_json::Value, String> {
    let text = fs::read_to_string("/proc/net/route").map_err(|e| e.to_string())?;
    p::parse_proc_net_route(&text)
        .map(|r| serde_json::json!(r))
        .map_err(|e| e.to_string())
}

/// Listening TCP sockets (`/proc/net/tcp{,6}`).
pub fn listening_ports() -> Result<serde_json::Value, String> {
    let mut out = Vec::new();
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = fs::read_to_string(f) {
            for (addr, port, uid, inode) in
                p::parse_proc_net_tcp_listen(&text).map_err(|e| e.to_string())?
            {
                out.push(tend_shared::diagnostics::ListeningPort {
                    address: addr,
                    port,
                    uid,
                    inode,
                });
            }
        }
    }
    Ok(serde_json::json!(out))
}

/// The last `n` log lines of `source`.
pub fn log_tail(source: tend_shared::diagnostics::LogSource, n: u32) -> Result<String, String> {
    use tend_shared::diagnostics::LogSource;
    match source {
        LogSource::Journal => {
            let o = run_command(
                "journalctl",
                &["-n", &n.to_string(), "--no-pager", "-q"],
                Duration::from_secs(20),
            )
            .ok_or("journalctl not available")?;
            if o.code != Some(0) {
                return Err(format!(
                    "journalctl: {}",
                    o.stderr.lines().next().unwrap_or("failed")
                ));
            }
            Ok(o.stdout)
        }
        LogSource::Syslog => {
            // from the end: a syslog of gigabytes costs one block, not the file
            crate::platform::tail(std::path::Path::new("/var/log/syslog"), n as usize)
                .or_else(|_| {
                    crate::platform::tail(std::path::Path::new("/var/log/messages"), n as usize)
                })
                .map_err(|e| format!("no syslog file: {e}"))
        }
        LogSource::Unified => Err("the unified log is macOS only".into()),
    }
}

/// `ping` arguments: three probes, two seconds each.
pub fn ping_args(host: &str) -> Vec<String> {
    ["-c", "3", "-W", "2", "--", host]
        .iter()
        .map(|s| s.to_string())
        .collect()
}
