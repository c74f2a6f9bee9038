//! Packaging: the .debs cargo-deb builds (files, unit, conffiles, maintainer scripts,
//! inspected with `dpkg-deb`), the systemd units (`systemd-analyze verify` in a
//! scratch root where systemd-analyze exists), the launchd plist (parsed with the
//! `plist` crate), install.sh into a scratch prefix with and without --purge, and the
//! `validate` commands on bad configs.

use std::path::{Path, PathBuf};
use std::process::Command;

use tend_e2e::bin;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds one .deb from the already-built dev binaries (fast; `.ci/run` also builds
/// the release ones).
fn build_deb(package: &str, out: &Path) -> PathBuf {
    bin("tend-agent");
    let status = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .map(|o| o.status.success());
    assert!(
        status.unwrap_or(false),
        "cargo-deb is missing: cargo install cargo-deb --locked"
    );
    let stdout = run(Command::new("cargo")
        .args([
            "deb",
            "-p",
            package,
            "--no-build",
            "--profile",
            "dev",
            "--fast",
            "--no-strip",
            "-o",
        ])
        .arg(out)
        .current_dir(root()));
    PathBuf::from(stdout.lines().last().expect("deb path").trim())
}

#[test]
fn debs_hold_the_binaries_units_configs_and_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    let agent = build_deb("tend-agent", tmp.path());
    let files = run(Command::new("dpkg-deb").arg("-c").arg(&agent));
    for f in [
        "./usr/lib/tend/bin/tend-agent",
        "./usr/bin/tend",
        "./usr/share/man/man1/tend.1",
        "./lib/systemd/system/tend-agent.service",
        "./etc/tend/agent.toml",
        "./usr/share/man/man1/tend-agent.1",
        "./usr/share/bash-completion/completions/tend-agent",
        "./usr/share/zsh/vendor-completions/_tend-agent",
        "./usr/share/fish/vendor_completions.d/tend-agent.fish",
    ] {
        assert!(
            files.contains(f),
            "{f} missing from the agent deb:\n{files}"
        );
    }
    let info = run(Command::new("dpkg-deb").arg("-I").arg(&agent));
    for want in [
        "Package: tend-agent",
        "postinst",
        "prerm",
        "postrm",
        "conffiles",
    ] {
        assert!(info.contains(want), "{want} missing:\n{info}");
    }
    let control = tmp.path().join("agent-control");
    run(Command::new("dpkg-deb").arg("-e").arg(&agent).arg(&control));
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("tend-agent enroll --bundle \"$BUNDLE\""));
    assert!(postinst.contains("/etc/tend/enroll.json"));
    let postrm = std::fs::read_to_string(control.join("postrm")).unwrap();
    assert!(postrm.contains("\"purge\"") && postrm.contains("rm -rf /var/lib/tend/agent"));
    assert!(std::fs::read_to_string(control.join("conffiles"))
        .unwrap()
        .contains("/etc/tend/agent.toml"));

    let collector = build_deb("tend-collector", tmp.path());
    let files = run(Command::new("dpkg-deb").arg("-c").arg(&collector));
    assert!(
        !files.contains("tendctl"),
        "tendctl has its own package:\n{files}"
    );
    for f in [
        "./usr/bin/tend-collector",
        "./lib/systemd/system/tend-collector.service",
        "./etc/tend/collector.toml",
        "./usr/share/man/man1/tend-collector.1",
        "./usr/share/bash-completion/completions/tend-collector",
    ] {
        assert!(
            files.contains(f),
            "{f} missing from the collector deb:\n{files}"
        );
    }
    let info = run(Command::new("dpkg-deb").arg("-I").arg(&collector));
    assert!(
        info.contains("Package: tend-collector") && info.contains("adduser"),
        "{info}"
    );

    let ctl = build_deb("tendctl", tmp.path());
    let files = run(Command::new("dpkg-deb").arg("-c").arg(&ctl));
    assert!(files.contains("./usr/bin/tendctl"), "{files}");
    assert!(!files.contains("tend-agent"), "{files}");
}

#[test]
fn systemd_units_are_hardened_and_verify() {
    let units = root().join("packaging/systemd");
    for (unit, exe) in [
        ("tend-agent.service", "usr/lib/tend/bin/tend-agent"),
        ("tend-collector.service", "usr/bin/tend-collector"),
    ] {
        let text = std::fs::read_to_string(units.join(unit)).unwrap();
        for want in [
            "ExecStartPre=/",
            " validate --config /etc/tend/",
            "ProtectSystem=strict",
            "StateDirectory=tend",
            "NoNewPrivileges=true",
        ] {
            assert!(text.contains(want), "{unit}: {want} missing");
        }
        assert!(text.contains(&format!("ExecStart=/{exe} ")), "{unit}");
    }
    // systemd-analyze verify in a scratch root holding the binaries and the targets
    let analyze = Command::new("systemd-analyze").arg("--version").output();
    let targets = ["/usr/lib/systemd/system", "/lib/systemd/system"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.join("multi-user.target").exists());
    let (Ok(_), Some(targets)) = (analyze, targets) else {
        eprintln!(
            "systemd-analyze or the system's targets are not available; unit text checked only"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    for d in [
        "usr/lib/tend/bin",
        "usr/bin",
        "etc/systemd/system",
        "usr/lib/systemd/system",
    ] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    for exe in ["usr/lib/tend/bin/tend-agent", "usr/bin/tend-collector"] {
        std::fs::copy(bin("tend-agent"), r.join(exe)).unwrap();
    }
    for e in std::fs::read_dir(targets).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "target") {
            let _ = std::fs::copy(
                e.path(),
                r.join("usr/lib/systemd/system").join(e.file_name()),
            );
        }
    }
    let mut cmd = Command::new("systemd-analyze");
    cmd.arg(format!("--root={}", r.display())).arg("verify");
    for unit in ["tend-agent.service", "tend-collector.service"] {
        let dest = r.join("etc/systemd/system").join(unit);
        std::fs::copy(units.join(unit), &dest).unwrap();
        cmd.arg(dest);
    }
    let out = cmd.output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
}

#[test]
fn launchd_plist_is_valid() {
    let v = plist::Value::from_file(root().join("packaging/launchd/com.tend.agent.plist")).unwrap();
    let d = v.as_dictionary().unwrap();
    assert_eq!(d["Label"].as_string(), Some("com.tend.agent"));
    let args: Vec<&str> = d["ProgramArguments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_string())
        .collect();
    assert!(
        args[0].ends_with("/bin/tend-agent") && args[1] == "run",
        "{args:?}"
    );
    assert_eq!(
        d["KeepAlive"].as_boolean(),
        Some(true),
        "launchd restarts it after an update"
    );
    assert_eq!(d["RunAtLoad"].as_boolean(), Some(true));
    let pkg = std::fs::read_to_string(root().join("packaging/macos/build-pkg.sh")).unwrap();
    assert!(pkg.contains("pkgbuild") && pkg.contains("productbuild") && pkg.contains("lipo"));
    let post = std::fs::read_to_string(root().join("packaging/macos/scripts/postinstall")).unwrap();
    assert!(post.contains("launchctl bootstrap system") && post.contains("enroll --bundle"));
}

#[test]
fn install_sh_installs_and_uninstalls_keeping_state_unless_purged() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("root");
    let script = root().join("packaging/install.sh");
    let install = |args: &[&str]| {
        run(Command::new("sh")
            .arg(&script)
            .args(args)
            .env("PREFIX", &prefix))
    };
    let out = install(&["--binary", bin("tend-agent").to_str().unwrap()]);
    assert!(out.contains("ok (state"), "{out}");
    assert!(prefix.join("usr/lib/tend/bin/tend-agent").is_file());
    assert!(prefix
        .join("etc/systemd/system/tend-agent.service")
        .is_file());
    std::fs::write(prefix.join("var/lib/tend/agent/status.json"), "{}").unwrap();
    install(&["--uninstall"]);
    assert!(!prefix.join("usr/lib/tend/bin/tend-agent").exists());
    assert!(
        prefix.join("var/lib/tend/agent/status.json").exists(),
        "state kept"
    );
    install(&["--binary", bin("tend-agent").to_str().unwrap()]);
    install(&["--uninstall", "--purge"]);
    assert!(!prefix.join("var/lib/tend/agent").exists(), "state purged");
}

#[test]
fn validate_commands_reject_bad_configs_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("collector.toml");
    std::fs::write(&bad, "listen = \"everywhere\"\n").unwrap();
    let out = Command::new(bin("tend-collector"))
        .args(["validate", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen = \"everywhere\""));
    let good = root().join("packaging/config/collector.toml");
    let out = run(Command::new(bin("tend-collector"))
        .args(["validate", "--config"])
        .arg(good));
    assert!(out.contains("ok"), "{out}");
    let out = Command::new(bin("tend-agent"))
        .args(["validate", "--config"])
        .arg(tmp.path().join("missing.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[test]
fn rpms_carry_units_configs_docs_and_scriptlets() {
    // rpmbuild comes with Debian's `rpm` package (.ci/run installs it)
    bin("tend-agent");
    let tmp = tempfile::tempdir().unwrap();
    let bins = bin("tend-agent").parent().unwrap().to_path_buf();
    run(Command::new(root().join("packaging/rpm/build.sh"))
        .arg(&bins)
        .arg(tmp.path()));
    let agent = tmp.path().join("tend-agent-0.1.0-1.x86_64.rpm");
    let files = run(Command::new("rpm").arg("-qpl").arg(&agent));
    for f in [
        "/usr/lib/tend/bin/tend-agent",
        "/usr/bin/tend",
        "/usr/share/man/man1/tend.1.gz",
        "/usr/lib/systemd/system/tend-agent.service",
        "/etc/tend/agent.toml",
        "/usr/share/man/man1/tend-agent.1.gz",
        "/usr/share/bash-completion/completions/tend-agent",
    ] {
        assert!(
            files.contains(f),
            "{f} missing from the agent rpm:\n{files}"
        );
    }
    let config = run(Command::new("rpm").arg("-qpc").arg(&agent));
    assert!(config.contains("/etc/tend/agent.toml"), "{config}");
    let scripts = run(Command::new("rpm").args(["-qp", "--scripts"]).arg(&agent));
    // %post enrolls from the dropped bundle and enables on first install only; %preun
    // stops on erase only; the state stays after erase
    assert!(
        scripts.contains("tend-agent enroll --bundle \"$BUNDLE\""),
        "{scripts}"
    );
    assert!(scripts.contains("if [ \"$1\" -eq 1 ]; then"), "{scripts}");
    assert!(
        scripts.contains("if [ \"$1\" -eq 0 ] && [ -d /run/systemd/system ]; then"),
        "{scripts}"
    );
    assert!(
        !scripts
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("rm -rf /var/lib/tend")),
        "erasing the rpm must keep the state:\n{scripts}"
    );

    let collector = tmp.path().join("tend-collector-0.1.0-1.x86_64.rpm");
    let files = run(Command::new("rpm").arg("-qpl").arg(&collector));
    for f in [
        "/usr/bin/tend-collector",
        "/usr/lib/systemd/system/tend-collector.service",
        "/etc/tend/collector.toml",
        "/usr/share/man/man1/tend-collector.1.gz",
    ] {
        assert!(
            files.contains(f),
            "{f} missing from the collector rpm:\n{files}"
        );
    }
    let scripts = run(Command::new("rpm")
        .args(["-qp", "--scripts"])
        .arg(&collector));
    assert!(scripts.contains("useradd --system"), "{scripts}");
}

/// The macOS .pkg cannot be built here (pkgbuild, lipo are Apple tools): its scripts
/// are linted (`sh -n`, shellcheck) and its payload laid out with `--layout-only`,
/// the dry run of exactly the tree `pkgbuild` would pack (issue 24).
#[test]
fn the_macos_pkg_scripts_lint_clean_and_lay_out_the_payload() {
    let scripts = [
        root().join("packaging/macos/build-pkg.sh"),
        root().join("packaging/macos/scripts/postinstall"),
    ];
    for s in &scripts {
        run(Command::new("sh").arg("-n").arg(s));
    }
    // shellcheck is installed by .ci/run (Debian package shellcheck)
    run(Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style"])
        .args(&scripts));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pkg");
    let listed = run(Command::new("sh")
        .arg(&scripts[0])
        .arg("--layout-only")
        .arg(&out));
    let files: Vec<&str> = listed.lines().collect();
    assert_eq!(
        files,
        [
            "root/Library/Application Support/Tend/agent.toml.default",
            "root/Library/Application Support/Tend/bin/tend",
            "root/Library/Application Support/Tend/bin/tend-agent",
            "root/Library/LaunchDaemons/com.tend.agent.plist",
            "root/usr/local/bin/tend",
            "scripts/postinstall",
        ],
        "{listed}"
    );
    // the launchd job runs the binary the payload puts there, and tend is on PATH
    let plist =
        std::fs::read_to_string(out.join("root/Library/LaunchDaemons/com.tend.agent.plist"))
            .unwrap();
    assert!(plist.contains("/Library/Application Support/Tend/bin/tend-agent"));
    assert_eq!(
        std::fs::read_link(out.join("root/usr/local/bin/tend")).unwrap(),
        Path::new("/Library/Application Support/Tend/bin/tend")
    );
}
