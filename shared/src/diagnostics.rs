//! The built-in diagnostics catalogue and its argument validation. Both sides call
//! `validate`: the collector refuses bad arguments with a 400, and the agent refuses
//! them again before running anything (never through a shell).

use serde::{Deserialize, Serialize};

/// Where `disk-usage` may look. macOS's `/tmp` and `/var` are `/private/tmp` and
/// `/private/var` once resolved, so those count too.
pub const DISK_USAGE_ROOTS: [&str; 10] = [
    "/home",
    "/Users",
    "/tmp",
    "/var",
    "/opt",
    "/srv",
    "/Applications",
    "/Library",
    "/private/tmp",
    "/private/var",
];
/// Most lines `log-tail` returns.
pub const MAX_LOG_LINES: u32 = 500;

/// A validated diagnostic, ready to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Diagnostic {
    Ping { host: String },
    Dns { host: String },
    Http { url: String },
    DiskUsage { path: String },
    TopProcesses,
    Interfaces,
    Routes,
    ListeningPorts,
    LogTail { source: LogSource, lines: u32 },
    InventoryRefresh,
    HealthNow,
}

/// Log sources `log-tail` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    Journal,
    Syslog,
    Unified,
}

/// Every diagnostic name, with its argument synopsis.
pub const CATALOGUE: [(&str, &str); 11] = [
    ("ping", "HOST"),
    ("dns", "HOST"),
    ("http", "URL"),
    ("disk-usage", "PATH"),
    ("top-processes", ""),
    ("interfaces", ""),
    ("routes", ""),
    ("listening-ports", ""),
    ("log-tail", "journal|syslog|unified N"),
    ("inventory-refresh", ""),
    ("health-now", ""),
];

/// What `disk-usage` returns: the sizes of the entries directly under `path`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskUsage {
    pub path: String,
    pub total_bytes: u64,
    /// Largest first, at most 25.
    pub largest: Vec<PathSize>,
    pub entries_scanned: u64,
    /// The walk stopped at its entry limit: sizes are lower bounds.
    #[serde(default)]
    pub truncated: bool,
}

/// One entry of `DiskUsage::largest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathSize {
    pub path: String,
    pub bytes: u64,
}

/// What `top-processes` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopProcesses {
    pub by_cpu: Vec<ProcessRow>,
    pub by_memory: Vec<ProcessRow>,
    /// Processes seen (threads not counted).
    pub processes: u64,
    /// The interval CPU use was measured over.
    #[serde(default)]
    pub interval_ms: u64,
}

/// One process of `TopProcesses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRow {
    pub pid: u32,
    pub name: String,
    /// Percent of one core over the interval.
    pub cpu_percent: f32,
    pub memory_bytes: u64,
}

/// One network interface of `interfaces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    pub mac: String,
    pub addresses: Vec<String>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// One IPv4 route of `routes` (Linux; macOS returns `netstat -rn` as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub iface: String,
    pub destination: String,
    pub gateway: String,
    pub mask: String,
    pub metric: u32,
}

/// One listening TCP socket of `listening-ports` (Linux; macOS returns `lsof` text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListeningPort {
    pub address: String,
    pub port: u16,
    pub uid: u32,
    pub inode: u64,
}

/// What `dns` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsAnswer {
    pub host: String,
    pub addresses: Vec<String>,
    pub elapsed_ms: u64,
}

/// What `http` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpAnswer {
    pub status: u16,
    pub final_url: String,
    #[serde(default)]
    pub server: Option<String>,
    pub elapsed_ms: u64,
    /// Where a redirect pointed (`status` 3xx): reported, never followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A host name or IP literal: letters, digits, `.`, `-`, `:` (IPv6), no leading `-`.
pub fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && !h.starts_with('-')
        && !h.starts_with('.')
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

fn valid_url(u: &str) -> bool {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(r) => {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.split_once(']'))
                .map_or_else(
                    || {
                        host.rsplit_once(':')
                            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
                            .map_or(host, |(h, _)| h)
                    },
                    |(h, _)| h,
                );
            u.len() <= 2048
                && valid_host(host)
                && !u.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// An absolute path under one of the allowed roots, without `..` or odd characters.
pub fn valid_disk_path(p: &str) -> bool {
    p.starts_with('/')
        && p.len() <= 1024
        && !p.split('/').any(|c| c == "..")
        && !p.chars().any(|c| c.is_control())
        && DISK_USAGE_ROOTS
            .iter()
            .any(|r| p == *r || p.starts_with(&format!("{r}/")))
}

/// The catalogue with typed arguments, for forms (`GET /api/v1/diagnostics`); the
/// same names as [`CATALOGUE`], and [`validate`] stays the judge of the values.
pub fn specs() -> Vec<crate::console::DiagnosticSpec> {
    use crate::console::{ArgKind, ArgSpec, DiagnosticSpec};
    let arg = |name: &str, kind: ArgKind, help: &str| ArgSpec {
        name: name.into(),
        kind,
        required: true,
        choices: Vec::new(),
        default: None,
        help: help.into(),
    };
    let host = || arg("host", ArgKind::Host, "a host name or IP address");
    let spec = |name: &str, summary: &str, args: Vec<ArgSpec>| DiagnosticSpec {
        name: name.into(),
        summary: summary.into(),
        args,
    };
    vec![
        spec("ping", "Is a host reachable (ICMP echo)?", vec![host()]),
        spec("dns", "What a host name resolves to", vec![host()]),
        spec(
            "http",
            "Can the device reach a web address (status, time)?",
            vec![arg("url", ArgKind::Url, "http(s)://host[:port][/path]")],
        ),
        spec(
            "disk-usage",
            "The largest entries under a folder",
            vec![ArgSpec {
                default: Some("/home".into()),
                ..arg(
                    "path",
                    ArgKind::Path,
                    &format!("under {}", DISK_USAGE_ROOTS.join(", ")),
                )
            }],
        ),
        spec(
            "top-processes",
            "Processes using the most CPU and memory",
            vec![],
        ),
        spec("interfaces", "Network interfaces and addresses", vec![]),
        spec("routes", "The routing table", vec![]),
        spec("listening-ports", "Ports open for connections", vec![]),
        spec(
            "log-tail",
            "The last lines of the system log",
            vec![
                ArgSpec {
                    choices: vec!["journal".into(), "syslog".into(), "unified".into()],
                    default: Some("journal".into()),
                    ..arg("source", ArgKind::Choice, "which log")
                },
                ArgSpec {
                    required: false,
                    default: Some("100".into()),
                    ..arg(
                        "lines",
                        ArgKind::Number,
                        &format!("1 to {MAX_LOG_LINES} lines"),
                    )
                },
            ],
        ),
        spec("inventory-refresh", "Send a fresh inventory now", vec![]),
        spec("health-now", "Run every check now and report", vec![]),
    ]
}

/// Validates a diagnostic request (`name` plus string arguments).
pub fn validate(name: &str, args: &[String]) -> Result<Diagnostic, String> {
    let one = |what: &str| -> Result<&String, String> {
        match args {
            [a] => Ok(a),
            _ => Err(format!("{name} takes exactly one argument: {what}")),
        }
    };
    let none = || {
        if args.is_empty() {
            Ok(())
        } else {
            Err(format!("{name} takes no arguments"))
        }
    };
    match name {
        "ping" | "dns" => {
            let h = one("HOST")?;
            if !valid_host(h) {
                return Err(format!(
                    "invalid host {h:?}: letters, digits, '.', '-' and ':' only"
                ));
            }
            Ok(if name == "ping" {
                Diagnostic::Ping { host: h.clone() }
            } else {
                Diagnostic::Dns { host: h.clone() }
            })
        }
        "http" => {
            let u = one("URL")?;
            if !valid_url(u) {
                return Err(format!("invalid URL {u:?}: http(s)://host[:port][/path]"));
            }
            Ok(Diagnostic::Http { url: u.clone() })
        }
        "disk-usage" => {
            let p = one("PATH")?;
            if !valid_disk_path(p) {
                return Err(format!(
                    "path {p:?} is not under an allowed root ({})",
                    DISK_USAGE_ROOTS.join(", ")
                ));
            }
            Ok(Diagnostic::DiskUsage {
                path: p.trim_end_matches('/').to_string().max("/".into()),
            })
        }
        "top-processes" => none().map(|_| Diagnostic::TopProcesses),
        "interfaces" => none().map(|_| Diagnostic::Interfaces),
        "routes" => none().map(|_| Diagnostic::Routes),
        "listening-ports" => none().map(|_| Diagnostic::ListeningPorts),
        "inventory-refresh" => none().map(|_| Diagnostic::InventoryRefresh),
        "health-now" => none().map(|_| Diagnostic::HealthNow),
        "log-tail" => {
            let (src, n) = match args {
                [s] => (s.as_str(), 100),
                [s, n] => (
                    s.as_str(),
                    n.parse::<u32>()
                        .map_err(|_| format!("line count {n:?} is not a number"))?,
                ),
                _ => return Err("log-tail takes SOURCE [N]".into()),
            };
            let source = match src {
                "journal" => LogSource::Journal,
                "syslog" => LogSource::Syslog,
                "unified" => LogSource::Unified,
                other => {
                    return Err(format!(
                        "unknown log source {other:?} (journal|syslog|unified)"
                    ))
                }
            };
            if n == 0 || n > MAX_LOG_LINES {
                return Err(format!("line count must be 1..={MAX_LOG_LINES}"));
            }
            Ok(Diagnostic::LogTail { source, lines: n })
        }
        other => Err(format!(
            "unknown diagnostic {other:?}; known: {}",
            CATALOGUE
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn every_catalogue_entry_has_a_spec_whose_defaults_validate() {
        let specs = specs();
        assert_eq!(specs.len(), CATALOGUE.len());
        for ((name, _), spec) in CATALOGUE.iter().zip(&specs) {
            assert_eq!(*name, spec.name);
            let args: Vec<String> = spec
                .args
                .iter()
                .map(|a| match a.kind {
                    crate::console::ArgKind::Host => "example.com".into(),
                    crate::console::ArgKind::Url => "https://example.com/".into(),
                    _ => a.default.clone().expect("a default for paths and choices"),
                })
                .collect();
            validate(name, &args).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn accepts_good_arguments() {
        assert_eq!(
            validate("ping", &s(&["example.com"])),
            Ok(Diagnostic::Ping {
                host: "example.com".into()
            })
        );
        assert!(validate("dns", &s(&["2001:db8::1"])).is_ok());
        assert!(validate(
            "http",
            &s(&["https://intranet.example.com:8443/health?x=1"])
        )
        .is_ok());
        assert_eq!(
            validate("disk-usage", &s(&["/tmp/"])),
            Ok(Diagnostic::DiskUsage {
                path: "/tmp".into()
            })
        );
        assert_eq!(
            validate("log-tail", &s(&["journal", "50"])),
            Ok(Diagnostic::LogTail {
                source: LogSource::Journal,
                lines: 50
            })
        );
        assert_eq!(validate("health-now", &[]), Ok(Diagnostic::HealthNow));
    }

    #[test]
    fn rejects_injection_and_escapes() {
        for bad in [
            "example.com; rm -rf /",
            "$(reboot)",
            "a b",
            "-oProxyCommand=x",
            "`id`",
            "host|cat",
            "",
        ] {
            assert!(validate("ping", &s(&[bad])).is_err(), "{bad}");
        }
        for bad in [
            "/etc/shadow",
            "/tmp/../etc",
            "tmp",
            "/home/../../root",
            "/tmpfoo",
        ] {
            assert!(validate("disk-usage", &s(&[bad])).is_err(), "{bad}");
        }
        for bad in [
            "file:///etc/passwd",
            "https://a b",
            "ftp://x",
            "https://;id/",
        ] {
            assert!(validate("http", &s(&[bad])).is_err(), "{bad}");
        }
        assert!(validate("log-tail", &s(&["journal", "100000"])).is_err());
        assert!(validate("log-tail", &s(&["/var/log/auth.log"])).is_err());
        assert!(validate("top-processes", &s(&["x"])).is_err());
        assert!(validate("rm", &[]).is_err());
    }
}
