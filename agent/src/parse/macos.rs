//! macOS parsers, tested on Linux against outputs captured on real Macs
//! (`agent/fixtures/macos/`, provenance in its SOURCES.md).

use std::collections::BTreeMap;

use super::{colon_kv, ParseError};

/// `sw_vers` → ProductName, ProductVersion, BuildVersion (TABs or spaces).
pub fn parse_sw_vers(text: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let map: BTreeMap<String, String> = text
        .lines()
        .filter_map(colon_kv)
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if text.trim().is_empty() {
        return Err(ParseError::Empty { what: "sw_vers" });
    }
    if !map.contains_key("ProductVersion") {
        return Err(ParseError::invalid("sw_vers", "no ProductVersion"));
    }
    Ok(map)
}

/// What `system_profiler -json SPHardwareDataType` says about the machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MacHardware {
    pub model_name: Option<String>,
    pub model_identifier: Option<String>,
    pub chip: Option<String>,
    pub serial: Option<String>,
    pub platform_uuid: Option<String>,
    pub memory: Option<String>,
}

/// Parses `system_profiler -json SPHardwareDataType`.
pub fn parse_sp_hardware_json(text: &str) -> Result<MacHardware, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty {
            what: "system_profiler SPHardwareDataType",
        });
    }
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ParseError::invalid("system_profiler SPHardwareDataType", e.to_string()))?;
    let item = v
        .get("SPHardwareDataType")
        .and_then(|a| a.get(0))
        .ok_or_else(|| {
            ParseError::invalid(
                "system_profiler SPHardwareDataType",
                "no SPHardwareDataType[0]",
            )
        })?;
    let s = |k: &str| {
        item.get(k)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .filter(|x| !x.is_empty() && x != "Unknown")
    };
    Ok(MacHardware {
        model_name: s("machine_name"),
        model_identifier: s("machine_model"),
        chip: s("chip_type").or_else(|| s("cpu_type")),
        serial: s("serial_number"),
        platform_uuid: s("platform_UUID"),
        memory: s("physical_memory"),
    })
}

/// Battery as `pmset -g batt` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PmsetBattery {
    /// `AC Power` or `Battery Power`.
    pub source: String,
    pub percent: Option<f64>,
    /// `charging`, `discharging`, `charged`, `not_charging`, ...
    pub state: Option<String>,
    /// True when an internal battery is listed at all.
    pub present: bool,
}

/// Parses `pmset -g batt` (TABs or spaces; with or without `(id=…)` and `present:`).
pub fn parse_pmset_batt(text: &str) -> Result<PmsetBattery, ParseError> {
    let mut lines = text.lines();
    let first = lines.next().ok_or(ParseError::Empty {
        what: "pmset -g batt",
    })?;
    let source = first
        .split('\'')
        .nth(1)
        .ok_or_else(|| ParseError::invalid("pmset -g batt", "no \"Now drawing from '...'\" line"))?
        .to_string();
    let Some(batt) = lines.find(|l| l.contains("InternalBattery")) else {
        return Ok(PmsetBattery {
            source,
            percent: None,
            state: None,
            present: false,
        });
    };
    let fields: Vec<&str> = batt.split(';').map(str::trim).collect();
    let percent = fields
        .first()
        .and_then(|f| f.rsplit(|c: char| c.is_whitespace()).next())
        .and_then(|p| p.trim_end_matches('%').parse::<f64>().ok());
    let state = fields.get(1).map(|s| match *s {
        "AC attached" => match fields.get(2) {
            Some(x) if x.starts_with("not charging") => "not_charging".to_string(),
            _ => "ac_attached".to_string(),
        },
        other => other.replace(' ', "_"),
    });
    Ok(PmsetBattery {
        source,
        percent,
        state,
        present: true,
    })
}

/// `system_profiler SPPowerDataType` (text): cycle count, condition, and maximum
/// capacity (Apple silicon prints `Maximum Capacity: 100 %`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MacPower {
    pub cycle_count: Option<u32>,
    pub condition: Option<String>,
    pub maximum_capacity_percent: Option<f64>,
    pub full_charge_capacity_mah: Option<f64>,
}

/// Parses the text output of `system_profiler SPPowerDataType`.
pub fn parse_sp_power_text(text: &str) -> Result<MacPower, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty {
            what: "system_profiler SPPowerDataType",
        });
    }
    let mut p = MacPower::default();
    for (k, v) in text.lines().filter_map(colon_kv) {
        let num = || {
            v.trim_end_matches('%')
                .trim()
                .replace(['\u{a0}', ' '], "")
                .parse::<f64>()
                .ok()
        };
        match k {
            "Cycle Count" => p.cycle_count = num().map(|n| n as u32),
            "Condition" => p.condition = Some(v.to_string()),
            "Maximum Capacity" => p.maximum_capacity_percent = num(),
            "Full Charge Capacity (mAh)" => p.full_charge_capacity_mah = num(),
            _ => {}
        }
    }
    if p == MacPower::default() && !text.contains("Power") {
        return Err(ParseError::invalid(
            "system_profiler SPPowerDataType",
            "no power section",
        ));
    }
    Ok(p)
}

/// `fdesetup status` → FileVault on?
pub fn parse_fdesetup_status(text: &str) -> Result<bool, ParseError> {
    let first = text.lines().next().map(str::trim).unwrap_or("");
    if first.is_empty() {
        return Err(ParseError::Empty {
            what: "fdesetup status",
        });
    }
    if first.starts_with("FileVault is On") || first.starts_with("Encryption in progress") {
        Ok(true)
    } else if first.starts_with("FileVault is Off") || first.starts_with("Decryption in progress") {
        Ok(false)
    } else {
        Err(ParseError::invalid(
            "fdesetup status",
            format!("unexpected {first:?}"),
        ))
    }
}

/// One update `softwareupdate -l` offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacUpdate {
    pub label: String,
    pub title: Option<String>,
    pub version: Option<String>,
    pub restart: bool,
    pub recommended: bool,
}

/// Parses `softwareupdate -l` (stdout and stderr merged). A scan error is an error.
pub fn parse_softwareupdate(text: &str) -> Result<Vec<MacUpdate>, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty {
            what: "softwareupdate -l",
        });
    }
    if let Some(line) = text
        .lines()
        .find(|l| l.contains("finished with error") || l.starts_with("Error"))
    {
        return Err(ParseError::invalid(
            "softwareupdate -l",
            line.chars().take(200).collect::<String>(),
        ));
    }
    let mut out: Vec<MacUpdate> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(label) = t.strip_prefix("* Label:") {
            out.push(MacUpdate {
                label: label.trim().into(),
                title: None,
                version: None,
                restart: false,
                recommended: false,
            });
        } else if let (Some(u), Some(rest)) = (out.last_mut(), t.strip_prefix("Title:")) {
            for part in format!("Title:{rest}").split(", ") {
                if let Some((k, v)) = part.split_once(':') {
                    let v = v.trim().trim_end_matches(',').trim();
                    match k.trim() {
                        "Title" => u.title = Some(v.into()),
                        "Version" => u.version = Some(v.into()),
                        "Action" => u.restart = v == "restart",
                        "Recommended" => u.recommended = v == "YES",
                        _ => {}
                    }
                }
            }
        }
    }
    if out.is_empty() && !text.contains("No new software available") {
        return Err(ParseError::invalid(
            "softwareupdate -l",
            "neither updates nor \"No new software available\"",
        ));
    }
    Ok(out)
}

/// `socketfilterfw --getglobalstate` → application firewall enabled?
pub fn parse_socketfilterfw_state(text: &str) -> Result<bool, ParseError> {
    let line = text
        .lines()
        .find(|l| l.starts_with("Firewall is"))
        .ok_or_else(|| {
            if text.trim().is_empty() {
                ParseError::Empty {
                    what: "socketfilterfw",
                }
            } else {
                ParseError::invalid("socketfilterfw", "no \"Firewall is ...\" line")
            }
        })?;
    if line.starts_with("Firewall is enabled") {
        Ok(true)
    } else if line.starts_with("Firewall is disabled") {
        Ok(false)
    } else {
        Err(ParseError::invalid(
            "socketfilterfw",
            format!("unexpected {line:?}"),
        ))
    }
}

/// `systemsetup -getusingnetworktime` → network time on?
pub fn parse_systemsetup_network_time(text: &str) -> Result<bool, ParseError> {
    let v = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Network Time:"))
        .ok_or_else(|| {
            ParseError::invalid(
                "systemsetup -getusingnetworktime",
                "no \"Network Time:\" line",
            )
        })?;
    Ok(v.trim().eq_ignore_ascii_case("on"))
}

/// `sntp HOST` → clock offset in seconds (second line `… +1087.742403 +/- …`, or the
/// one-line modern form `+0.01 +/- 0.02 …`).
pub fn parse_sntp_offset(text: &str) -> Result<f64, ParseError> {
    for line in text.lines() {
        let toks: Vec<&str> = line.split_whitespace().collect();
        if let Some(i) = toks.iter().position(|t| *t == "+/-") {
            if i > 0 {
                if let Ok(v) = toks[i - 1].parse::<f64>() {
                    return Ok(v);
                }
            }
        }
    }
    Err(ParseError::invalid("sntp", "no \"OFFSET +/- ERROR\" pair"))
}

/// Applications from `system_profiler -xml SPApplicationsDataType` as packages.
pub fn parse_sp_applications_xml(
    xml: &[u8],
) -> Result<Vec<tend_shared::inventory::Package>, ParseError> {
    if xml.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty {
            what: "system_profiler SPApplicationsDataType",
        });
    }
    let v = plist::Value::from_reader_xml(xml).map_err(|e| {
        ParseError::invalid("system_profiler SPApplicationsDataType", e.to_string())
    })?;
    let items = v
        .as_array()
        .and_then(|a| a.first())
        .and_then(|d| d.as_dictionary())
        .and_then(|d| d.get("_items"))
        .and_then(|i| i.as_array())
        .ok_or_else(|| {
            ParseError::invalid("system_profiler SPApplicationsDataType", "no _items array")
        })?;
    let mut out: Vec<_> = items
        .iter()
        .filter_map(|i| i.as_dictionary())
        .filter_map(|d| {
            let name = d.get("_name")?.as_string()?.to_string();
            let version = d
                .get("version")
                .and_then(|v| v.as_string())
                .unwrap_or("")
                .to_string();
            Some(tend_shared::inventory::Package {
                name,
                version,
                source: "app".into(),
            })
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Parses `sysctl -n hw.memsize`.
pub fn parse_memsize(text: &str) -> Result<u64, ParseError> {
    text.trim()
        .parse()
        .map_err(|_| ParseError::invalid("sysctl hw.memsize", format!("{:?}", text.trim())))
}
