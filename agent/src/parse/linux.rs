//! Linux parsers: os-release, dpkg status, rpm query output, lsblk JSON,
//! `timedatectl show`, `ufw status`, `firewall-cmd --state`, `/proc/loadavg`,
//! `apt-get -s upgrade`, `dnf check-update`, power_supply uevent.

use std::collections::BTreeMap;

use serde::Deserialize;
use tend_shared::inventory::Package;

use super::ParseError;

/// `/etc/os-release` as key → unquoted value.
pub fn parse_os_release(text: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(v);
        out.insert(
            k.trim().to_string(),
            v.replace("\\\"", "\"").replace("\\\\", "\\"),
        );
    }
    if out.is_empty() {
        return Err(ParseError::Empty { what: "os-release" });
    }
    Ok(out)
}

/// Installed packages from `/var/lib/dpkg/status` (only `install ok installed`).
pub fn parse_dpkg_status(text: &str) -> Result<Vec<Package>, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty {
            what: "dpkg status",
        });
    }
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let (mut name, mut version, mut status, mut arch) = (None, None, None, None);
        for line in stanza.lines() {
            if line.starts_with(' ') {
                continue;
            }
            if let Some(v) = line.strip_prefix("Package: ") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Version: ") {
                version = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Status: ") {
                status = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Architecture: ") {
                arch = Some(v.trim());
            }
        }
        if let (Some(n), Some("install ok installed")) = (name, status) {
            let name = match arch {
                Some(a) if a != "all" && a != "amd64" && a != "arm64" => format!("{n}:{a}"),
                _ => n.to_string(),
            };
            out.push(Package {
                name,
                version: version.unwrap_or("").to_string(),
                source: "dpkg".into(),
            });
        }
    }
    if out.is_empty() && !text.contains("Package:") {
        return Err(ParseError::invalid("dpkg status", "no Package: stanzas"));
    }
    out.sort();
    Ok(out)
}

/// `rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n'`.
pub fn parse_rpm_qa(text: &str) -> Vec<Package> {
    let mut out: Vec<Package> = text
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once('\t')?;
            (!n.trim().is_empty()).then(|| Package {
                name: n.trim().into(),
                version: v.trim().into(),
                source: "rpm".into(),
            })
        })
        .collect();
    out.sort();
    out
}

/// One block device from `lsblk -J -b -o NAME,TYPE,FSTYPE,MOUNTPOINT,RM,SIZE`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BlockDevice {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub fstype: Option<String>,
    #[serde(default)]
    pub mountpoint: Option<String>,
    #[serde(default, deserialize_with = "bool_or_str")]
    pub rm: bool,
    #[serde(default)]
    pub children: Vec<BlockDevice>,
}

fn bool_or_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => s == "1" || s == "true",
        serde_json::Value::Number(n) => n.as_u64() == Some(1),
        _ => false,
    })
}

/// Parses `lsblk -J`.
pub fn parse_lsblk(text: &str) -> Result<Vec<BlockDevice>, ParseError> {
    #[derive(Deserialize)]
    struct Root {
        blockdevices: Vec<BlockDevice>,
    }
    if text.trim().is_empty() {
        return Err(ParseError::Empty { what: "lsblk" });
    }
    serde_json::from_str::<Root>(text)
        .map(|r| r.blockdevices)
        .map_err(|e| ParseError::invalid("lsblk", e.to_string()))
}

/// True when the device mounted at `mount` sits on a LUKS (`crypto_LUKS`) layer: the
/// mount's device or one of its ancestors is a `crypt` device or has that fstype.
pub fn mount_is_encrypted(devices: &[BlockDevice], mount: &str) -> Option<bool> {
    fn walk(d: &BlockDevice, mount: &str, encrypted_above: bool) -> Option<bool> {
        let enc =
            encrypted_above || d.kind == "crypt" || d.fstype.as_deref() == Some("crypto_LUKS");
        if d.mountpoint.as_deref() == Some(mount) {
            return Some(enc);
        }
        d.children.iter().find_map(|c| walk(c, mount, enc))
    }
    devices.iter().find_map(|d| walk(d, mount, false))
}

/// `timedatectl show` → `NTPSynchronized=yes|no`.
pub fn parse_timedatectl_show(text: &str) -> Result<bool, ParseError> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("NTPSynchronized="))
        .map(|v| v.trim() == "yes")
        .ok_or_else(|| ParseError::invalid("timedatectl show", "no NTPSynchronized= line"))
}

/// `ufw status` → active or not.
pub fn parse_ufw_status(text: &str) -> Result<bool, ParseError> {
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Status:"))
        .ok_or_else(|| ParseError::invalid("ufw status", "no Status: line"))?;
    match line.trim() {
        "active" => Ok(true),
        "inactive" => Ok(false),
        other => Err(ParseError::invalid(
            "ufw status",
            format!("unknown state {other:?}"),
        )),
    }
}

/// `firewall-cmd --state` → running or not.
pub fn parse_firewalld_state(text: &str) -> Result<bool, ParseError> {
    match text.trim() {
        "running" => Ok(true),
        "not running" => Ok(false),
        "" => Err(ParseError::Empty {
            what: "firewall-cmd --state",
        }),
        other => Err(ParseError::invalid(
            "firewall-cmd --state",
            format!("unknown state {other:?}"),
        )),
    }
}

/// `nft list ruleset` → true when any chain has an input hook with a drop policy or
/// drop/reject rules (an empty ruleset is no firewall).
pub fn parse_nft_ruleset(text: &str) -> bool {
    let has_input = text.contains("hook input");
    let filters =
        text.contains("policy drop") || text.contains(" drop") || text.contains(" reject");
    has_input && filters
}

/// `/proc/loadavg` → (1, 5, 15 minute load).
pub fn parse_loadavg(text: &str) -> Result<(f64, f64, f64), ParseError> {
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    match (it.next(), it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(b)), Some(Ok(c))) => Ok((a, b, c)),
        _ if text.trim().is_empty() => Err(ParseError::Empty { what: "loadavg" }),
        _ => Err(ParseError::invalid("loadavg", "expected three numbers")),
    }
}

/// `apt-get -s upgrade` (or `apt-get -s dist-upgrade`) → packages that would be upgraded.
pub fn parse_apt_simulate(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        .filter_map(|rest| rest.split_whitespace().next().map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// `dnf check-update -q` (exit 100 when updates exist) → package names.
pub fn parse_dnf_check_update(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .take_while(|l| !l.starts_with("Obsoleting"))
        .filter(|l| !l.trim().is_empty() && !l.starts_with(' ') && !l.starts_with("Last metadata"))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() == 3).then(|| cols[0].to_string())
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// `/sys/class/power_supply/BAT*/uevent` → key/value map without the `POWER_SUPPLY_` prefix.
pub fn parse_power_supply_uevent(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim_start_matches("POWER_SUPPLY_").to_string(),
                v.trim().to_string(),
            )
        })
        .collect()
}

/// `/proc/meminfo` → values in bytes for the keys it has.
pub fn parse_meminfo(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, rest) = l.split_once(':')?;
            let mut parts = rest.split_whitespace();
            let n: u64 = parts.next()?.parse().ok()?;
            let mult = if parts.next() == Some("kB") { 1024 } else { 1 };
            Some((k.trim().to_string(), n * mult))
        })
        .collect()
}

/// One route from `/proc/net/route` (the wire type of the `routes` diagnostic).
pub use tend_shared::diagnostics::Route;

fn hex_ipv4(h: &str) -> Option<String> {
    let v = u32::from_str_radix(h, 16).ok()?;
    // the kernel prints the address in host (little-endian) byte order
    let b = v.to_le_bytes();
    Some(format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
}

/// Parses `/proc/net/route`.
pub fn parse_proc_net_route(text: &str) -> Result<Vec<Route>, ParseError> {
    let mut lines = text.lines();
    let header = lines.next().ok_or(ParseError::Empty {
        what: "/proc/net/route",
    })?;
    if !header.starts_with("Iface") {
        return Err(ParseError::invalid("/proc/net/route", "no Iface header"));
    }
    Ok(lines
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            (c.len() >= 8).then_some(())?;
            Some(Route {
                iface: c[0].into(),
                destination: hex_ipv4(c[1])?,
                gateway: hex_ipv4(c[2])?,
                mask: hex_ipv4(c[7])?,
                metric: c[6].parse().ok()?,
            })
        })
        .collect())
}

/// Listening TCP ports from `/proc/net/tcp` or `/proc/net/tcp6` (state `0A`):
/// (local address, port, uid, inode).
pub fn parse_proc_net_tcp_listen(text: &str) -> Result<Vec<(String, u16, u32, u64)>, ParseError> {
    let mut lines = text.lines();
    let header = lines.next().ok_or(ParseError::Empty {
        what: "/proc/net/tcp",
    })?;
    if !header.contains("local_address") {
        return Err(ParseError::invalid(
            "/proc/net/tcp",
            "no local_address header",
        ));
    }
    Ok(lines
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            if c.len() < 10 || c[3] != "0A" {
                return None;
            }
            let (addr, port) = c[1].split_once(':')?;
            let addr = if addr.len() == 8 {
                hex_ipv4(addr)?
            } else {
                format!("[{addr}]")
            };
            Some((
                addr,
                u16::from_str_radix(port, 16).ok()?,
                c[7].parse().ok()?,
                c[9].parse().ok()?,
            ))
        })
        .collect())
}
