//! macOS implementation of the platform layer: a thin shell over `sw_vers`,
//! `system_profiler`, `pmset`, `who` and `sysctl`. Parsing lives in
//! `crate::parse::macos` and is tested on Linux against real captured outputs.

use std::time::Duration;

use tend_shared::inventory::{Battery, Hardware, OsInfo, Package};

use super::run_command;
use crate::parse::macos as p;

const T: Duration = Duration::from_secs(60);

fn stdout(program: &str, args: &[&str]) -> Option<String> {
    run_command(program, args, T).map(|o| o.stdout)
}

pub fn hostname() -> String {
    stdout("/usr/sbin/scutil", &["--get", "LocalHostName"])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| stdout("/bin/hostname", &[]).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "mac".into())
}

pub fn hardware() -> Hardware {
    let hw = stdout(
        "/usr/sbin/system_profiler",
        &["-json", "SPHardwareDataType"],
    )
    .and_then(|t| p::parse_sp_hardware_json(&t).ok())
    .unwrap_or_default();
    Hardware {
        vendor: Some("Apple".into()),
        model: hw.model_identifier.or(hw.model_name),
        serial: hw.serial,
        hardware_uuid: hw
            .platform_uuid
            .unwrap_or_else(|| format!("host-{}", hostname())),
    }
}

pub fn os_info() -> OsInfo {
    let v = stdout("/usr/bin/sw_vers", &[])
        .and_then(|t| p::parse_sw_vers(&t).ok())
        .unwrap_or_default();
    OsInfo {
        name: v
            .get("ProductName")
            .cloned()
            .unwrap_or_else(|| "macOS".into()),
        version: v.get("ProductVersion").cloned().unwrap_or_default(),
        build: v.get("BuildVersion").cloned(),
        kernel: stdout("/usr/bin/uname", &["-r"])
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        arch: std::env::consts::ARCH.to_string(),
    }
}

pub fn software() -> Vec<Package> {
    run_command(
        "/usr/sbin/system_profiler",
        &["-xml", "-detailLevel", "mini", "SPApplicationsDataType"],
        Duration::from_secs(120),
    )
    .and_then(|o| p::parse_sp_applications_xml(o.stdout.as_bytes()).ok())
    .unwrap_or_default()
}

pub fn battery() -> Option<Battery> {
    let pm =
        stdout("/usr/bin/pmset", &["-g", "batt"]).and_then(|t| p::parse_pmset_batt(&t).ok())?;
    if !pm.present {
        return None;
    }
    let power = stdout("/usr/sbin/system_profiler", &["SPPowerDataType"])
        .and_then(|t| p::parse_sp_power_text(&t).ok())
        .unwrap_or_default();
    Some(Battery {
        design_capacity_wh: None,
        full_capacity_wh: None,
        cycle_count: power.cycle_count,
        state: pm.state.unwrap_or_else(|| "unknown".into()),
        percent: pm.percent,
        health_percent: power.maximum_capacity_percent,
    })
}

pub fn logged_in_users() -> Vec<String> {
    stdout("/usr/bin/who", &[])
        .map(|t| crate::parse::parse_who(&t))
        .unwrap_or_default()
}

/// Updates `softwareupdate -l` offers (stderr merged, as the parser expects).
pub fn pending_updates() -> Result<Vec<String>, String> {
    let o = run_command(
        "/usr/sbin/softwareupdate",
        &["-l"],
        Duration::from_secs(300),
    )
    .ok_or("softwareupdate -l did not finish")?;
    p::parse_softwareupdate(&format!("{}{}", o.stderr, o.stdout))
        .map(|u| u.into_iter().map(|u| u.title.unwrap_or(u.label)).collect())
        .map_err(|e| e.to_string())
}

/// FileVault from `fdesetup status`.
pub fn disk_encrypted() -> Result<bool, String> {
    let o = stdout("/usr/bin/fdesetup", &["status"]).ok_or("fdesetup not available")?;
    p::parse_fdesetup_status(&o).map_err(|e| e.to_string())
}

/// The application firewall's global state.
pub fn firewall() -> Result<(bool, String), String> {
    let o = stdout(
        "/usr/libexec/ApplicationFirewall/socketfilterfw",
        &["--getglobalstate"],
    )
    .ok_or("socketfilterfw not available")?;
    p::parse_socketfilterfw_state(&o)
        .map(|on| (on, "application firewall".to_string()))
        .map_err(|e| e.to_string())
}

/// Network time on (`systemsetup -getusingnetworktime`, needs root), else an `sntp`
/// offset under one second.
pub fn clock_synchronised() -> Result<bool, String> {
    if let Some(o) = stdout("/usr/sbin/systemsetup", &["-getusingnetworktime"]) {
        if let Ok(on) = p::parse_systemsetup_network_time(&o) {
            return Ok(on);
        }
    }
    let o = stdout("/usr/bin/sntp", &["time.apple.com"]).ok_or("sntp not available")?;
    p::parse_sntp_offset(&o)
        .map(|off| off.abs() < 1.0)
        .map_err(|e| e.to_string())
}

/// System and per-user DiagnosticReports folders.
pub fn crash_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs = vec![std::path::PathBuf::from("/Library/Logs/DiagnosticReports")];
    if let Ok(users) = std::fs::read_dir("/Users") {
        for u in users.flatten() {
            let d = u.path().join("Library/Logs/DiagnosticReports");
            if d.is_dir() {
                dirs.push(d);
            }
        }
    }
    dirs
}

/// Routing table (`netstat -rn`).
pub fn routes() -> Result<serde_json::Value, String> {
    stdout("/usr/sbin/netstat", &["-rn"])
        .map(serde_json::Value::String)
        .ok_or_else(|| "netstat not available".into())
}

/// The path an open descriptor refers to (`/dev/fd/N` resolves to it on macOS).
pub fn fd_path(fd: i32) -> Option<String> {
    std::fs::canonicalize(format!("/dev/fd/{fd}"))
        .ok()
        .map(|p| p.display().to_string())
}

/// Listening TCP sockets (`lsof`).
pub fn listening_ports() -> Result<serde_json::Value, String> {
    stdout("/usr/sbin/lsof", &["-nP", "-iTCP", "-sTCP:LISTEN"])
        .map(serde_json::Value::String)
        .ok_or_else(|| "lsof not available".into())
}

/// The last `n` lines of the unified log (last 10 minutes) or of system.log.
pub fn log_tail(source: tend_shared::diagnostics::LogSource, n: u32) -> Result<String, String> {
    use tend_shared::diagnostics::LogSource;
    let text = match source {
        LogSource::Unified => stdout(
            "/usr/bin/log",
            &["show", "--last", "10m", "--style", "compact"],
        )
        .ok_or("log show failed")?,
        LogSource::Syslog => {
            return crate::platform::tail(std::path::Path::new("/var/log/system.log"), n as usize)
                .map_err(|e| e.to_string())
        }
        LogSource::Journal => return Err("journald is Linux only".into()),
    };
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(n as usize)..].join("\n"))
}

/// `ping` arguments: three probes, five seconds overall.
pub fn ping_args(host: &str) -> Vec<String> {
    ["-c", "3", "-t", "5", "--", host]
        .iter()
        .map(|s| s.to_string())
        .collect()
}
