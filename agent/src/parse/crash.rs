//! Crash reports → (process, signal, exception): apport `.crash` (Linux), macOS
//! `.ips` (JSON header line + JSON body) and legacy `.crash` text, and
//! systemd-coredump file names. Pure; tested against real reports in `fixtures/`.

use serde::Serialize;

/// What a crash report says, as the `crash` event carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrashInfo {
    pub process: String,
    /// `SIGSEGV`, `SIGABRT`… when the report says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// macOS exception type (`EXC_BAD_ACCESS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
    /// Executable path, when the report has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable: Option<String>,
    pub file: String,
}

/// Linux signal names by number (the ones that kill with a report).
pub fn signal_name(n: u32) -> Option<&'static str> {
    Some(match n {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return None,
    })
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    })
}

fn basename(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// `s` without control characters, at most `max` bytes: crash folders are
/// world-writable, so every string read from them is anyone's choice.
fn bounded(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars().map(|c| if c.is_control() { '_' } else { c }) {
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

impl CrashInfo {
    fn bounded(self) -> CrashInfo {
        let b = |v: Option<String>, max| v.map(|v| bounded(&v, max));
        CrashInfo {
            process: bounded(&self.process, 64),
            signal: b(self.signal, 32),
            exception: b(self.exception, 64),
            executable: b(self.executable, 512),
            file: bounded(&self.file, 512),
        }
    }
}

/// An apport report (`ProblemType: Crash`, `ExecutablePath:`, `Signal: 11`).
fn parse_apport(text: &str, file: &str) -> Option<CrashInfo> {
    field(text, "ProblemType")?;
    let exe = field(text, "ExecutablePath").map(str::to_string);
    let process = exe.as_deref().map(basename).or_else(|| {
        field(text, "ProcCmdline").map(|c| basename(c.split(' ').next().unwrap_or(c)))
    })?;
    let signal = field(text, "Signal")
        .and_then(|s| s.parse::<u32>().ok())
        .map(|n| signal_name(n).map_or_else(|| format!("signal {n}"), str::to_string));
    Some(CrashInfo {
        process,
        signal,
        exception: None,
        executable: exe,
        file: file.to_string(),
    })
}

/// A macOS `.ips`: line 1 is a JSON header, the rest a JSON body.
fn parse_ips(text: &str, file: &str) -> Option<CrashInfo> {
    let (head, body) = text.split_once('\n').unwrap_or((text, ""));
    let head: serde_json::Value = serde_json::from_str(head.trim()).ok()?;
    let body: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
    let s = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let process = s(&body, "procName")
        .or_else(|| s(&head, "app_name"))
        .or_else(|| s(&head, "name"))?;
    let exc = body.get("exception").cloned().unwrap_or_default();
    Some(CrashInfo {
        process,
        signal: s(&exc, "signal"),
        exception: s(&exc, "type"),
        executable: s(&body, "procPath"),
        file: file.to_string(),
    })
}

/// A legacy macOS `.crash` text report (`Process:  Finder [123]`,
/// `Exception Type:  EXC_BAD_ACCESS (SIGSEGV)`).
fn parse_mac_text(text: &str, file: &str) -> Option<CrashInfo> {
    let process = field(text, "Process")?
        .split(" [")
        .next()
        .map(str::trim)
        .filter(|p| !p.is_empty())?
        .to_string();
    let exc = field(text, "Exception Type");
    let (exception, signal) = match exc {
        Some(e) => match e.split_once('(') {
            Some((t, sig)) => (
                Some(t.trim().to_string()),
                Some(sig.trim_end_matches(')').trim().to_string()),
            ),
            None => (Some(e.to_string()), None),
        },
        None => (None, None),
    };
    Some(CrashInfo {
        process,
        signal,
        exception,
        executable: field(text, "Path").map(str::to_string),
        file: file.to_string(),
    })
}

/// Parses a crash report's contents; falls back to the file name alone (binary
/// systemd-coredump cores, truncated reports). `None` when the file is no crash report.
pub fn parse_crash_report(file_name: &str, text: &str) -> Option<CrashInfo> {
    let by_content = if file_name.ends_with(".ips") {
        parse_ips(text, file_name)
    } else if file_name.ends_with(".crash") {
        parse_apport(text, file_name).or_else(|| parse_mac_text(text, file_name))
    } else {
        None
    };
    by_content
        .or_else(|| {
            crate::parse::crash::crash_process_name(file_name).map(|process| CrashInfo {
                process,
                signal: None,
                exception: None,
                executable: None,
                file: file_name.to_string(),
            })
        })
        .map(CrashInfo::bounded)
        .filter(|c| !c.process.is_empty())
}

/// Process name from a crash report's file name: apport (`_usr_bin_gedit.1000.crash`),
/// systemd-coredump (`core.gedit.1000.<boot>.<pid>.<ts>.zst`), macOS
/// (`Finder_2024-03-21-101010_host.ips`, `Finder-2024-03-21-101010.crash`).
pub fn crash_process_name(file_name: &str) -> Option<String> {
    if let Some(rest) = file_name.strip_prefix("core.") {
        return rest
            .split('.')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    }
    if let Some(stem) = file_name
        .strip_suffix(".crash")
        .filter(|s| s.starts_with('_'))
    {
        let stem = match stem.rsplit_once('.') {
            Some((a, uid)) if uid.chars().all(|c| c.is_ascii_digit()) => a,
            _ => stem,
        };
        return stem
            .rsplit('_')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    }
    let stem = file_name
        .strip_suffix(".ips")
        .or_else(|| file_name.strip_suffix(".crash"))?;
    // the name ends where the date begins: "_2024-" or "-2024-"
    let bytes = stem.as_bytes();
    for i in 0..bytes.len() {
        if (bytes[i] == b'_' || bytes[i] == b'-')
            && stem
                .get(i + 1..i + 5)
                .is_some_and(|y| y.chars().all(|c| c.is_ascii_digit()))
            && stem.get(i + 5..i + 6) == Some("-")
        {
            return Some(stem[..i].to_string()).filter(|s| !s.is_empty());
        }
    }
    Some(stem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn hostile_reports_name_a_bounded_clean_process() {
        let exe = format!("/tmp/{}\u{1b}[31m\nx", "a".repeat(300));
        let text = format!("ProblemType: Crash\nExecutablePath: {exe}\nSignal: 11\n");
        let c = parse_crash_report("_tmp_evil.1000.crash", &text).unwrap();
        assert!(c.process.len() <= 64, "{}", c.process.len());
        assert!(!c.process.chars().any(char::is_control), "{:?}", c.process);
        assert!(c.executable.unwrap().len() <= 512);
    }

    #[test]
    fn apport_report() {
        let c = parse_crash_report(
            "_sbin_upstart.1000.crash",
            &fixture("linux/apport-crash.ubuntu16.04-upstart.trimmed.crash"),
        )
        .unwrap();
        assert_eq!(c.process, "upstart");
        assert_eq!(c.signal.as_deref(), Some("SIGABRT"));
        assert_eq!(c.executable.as_deref(), Some("/sbin/upstart"));
    }

    #[test]
    fn macos_ips_and_text_reports() {
        let ips = parse_crash_report(
            "CrashingTest_2022-08-03-203647_host.ips",
            &fixture("macos/crash-report.intel-macmini7_1-12.4.CrashingTest.ips"),
        )
        .unwrap();
        assert_eq!(ips.process, "CrashingTest");
        assert_eq!(ips.signal.as_deref(), Some("SIGSEGV"));
        assert_eq!(ips.exception.as_deref(), Some("EXC_BAD_ACCESS"));
        let txt = parse_crash_report(
            "CrashingTest-2022-08-03-203644.crash",
            &fixture("macos/crash-report.intel-macmini7_1-12.4.CrashingTest.crash"),
        )
        .unwrap();
        assert_eq!(
            (txt.process.as_str(), txt.signal.as_deref()),
            ("CrashingTest", Some("SIGSEGV"))
        );
        assert_eq!(txt.exception.as_deref(), Some("EXC_BAD_ACCESS"));
        let old = parse_crash_report(
            "CrashingAndHangingTest_2019-09-04-010052_mac.crash",
            &fixture("macos/crash-report.intel-10.15-beta-19A546d.CrashingAndHangingTest.crash"),
        )
        .unwrap();
        assert_eq!(old.process, "CrashingAndHangingTest");
        assert_eq!(old.signal.as_deref(), Some("SIGSEGV"));
    }

    #[test]
    fn file_name_fallbacks_and_garbage() {
        let core =
            parse_crash_report("core.firefox.1000.3f2a.4242.1700000000000000.zst", "").unwrap();
        assert_eq!(core.process, "firefox");
        assert_eq!(core.signal, None);
        // an unreadable or half-written apport file still names its process
        let partial = parse_crash_report("_usr_bin_vim.0.crash", "ProblemTy").unwrap();
        assert_eq!(partial.process, "vim");
        assert_eq!(parse_crash_report("notes.txt", "hello"), None);
        assert_eq!(signal_name(11), Some("SIGSEGV"));
    }
}
