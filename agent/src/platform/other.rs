//! Fallback platform layer for targets Tend does not support: minimal, never fails.

use tend_shared::inventory::{Battery, Hardware, OsInfo, Package};

pub fn hostname() -> String {
    "localhost".into()
}
pub fn hardware() -> Hardware {
    Hardware {
        hardware_uuid: format!("host-{}", hostname()),
        ..Default::default()
    }
}
pub fn os_info() -> OsInfo {
    OsInfo {
        name: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        ..Default::default()
    }
}
pub fn software() -> Vec<Package> {
    Vec::new()
}
pub fn battery() -> Option<Battery> {
    None
}
pub fn logged_in_users() -> Vec<String> {
    Vec::new()
}
pub fn pending_updates() -> Result<Vec<String>, String> {
    Err("unsupported platform".into())
}
pub fn disk_encrypted() -> Result<bool, String> {
    Err("unsupported platform".into())
}
pub fn firewall() -> Result<(bool, String), String> {
    Err("unsupported platform".into())
}
pub fn clock_synchronised() -> Result<bool, String> {
    Err("unsupported platform".into())
}
pub fn crash_dirs() -> Vec<std::path::PathBuf> {
    Vec::new()
}
pub fn routes() -> Result<serde_json::Value, String> {
    Err("unsupported platform".into())
}
pub fn listening_ports() -> Result<serde_json::Value, String> {
    Err("unsupported platform".into())
}
pub fn log_tail(_: tend_shared::diagnostics::LogSource, _: u32) -> Result<String, String> {
    Err("unsupported platform".into())
}
pub fn ping_args(host: &str) -> Vec<String> {
    vec!["-c".into(), "3".into(), host.into()]
}

/// The path an open descriptor refers to (unknown here).
pub fn fd_path(_fd: i32) -> Option<String> {
    None
}
