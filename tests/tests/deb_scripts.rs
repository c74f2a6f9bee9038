//! The agent .deb's maintainer scripts, run for real in a scratch root (issue 17): the
//! package is unpacked with `dpkg-deb -x`, its scripts run with their absolute paths
//! moved under the root and with stand-ins for `deb-systemd-helper`,
//! `deb-systemd-invoke` and `systemctl` that record their calls. `postinst configure`
//! enrolls the real agent from a dropped bundle against a real collector and enables
//! and starts the unit; `prerm remove` stops it; `postrm remove` keeps the state;
//! `postrm purge` deletes it.

use std::path::{Path, PathBuf};
use std::process::Command;

use tend_e2e::{bin, CollectorProc};

fn root_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The maintainer script `name` with every absolute path it touches moved under `root`.
fn script_in(control: &Path, name: &str, root: &Path) -> PathBuf {
    let r = root.display();
    let text = std::fs::read_to_string(control.join(name)).unwrap();
    let moved = text
        .replace("/var/lib/tend", &format!("{r}/var/lib/tend"))
        .replace("/usr/lib/tend", &format!("{r}/usr/lib/tend"))
        .replace("/usr/bin/tend-agent", &format!("{r}/usr/bin/tend-agent"))
        .replace("/etc/tend", &format!("{r}/etc/tend"))
        .replace("/run/systemd/system", &format!("{r}/run/systemd/system"));
    let out = root.join(format!("{name}.scratch"));
    std::fs::write(&out, moved).unwrap();
    out
}

#[test]
fn agent_deb_scripts_enroll_enable_stop_and_purge_in_a_scratch_root() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = CollectorProc::start(&tmp.path().join("collector"), 0);
    let admin = collector.admin_token.clone().expect("admin token");

    // the package, unpacked into a scratch root
    bin("tend-agent");
    let debs = tmp.path().join("debs");
    let deb = ok(Command::new("cargo")
        .args([
            "deb",
            "-p",
            "tend-agent",
            "--no-build",
            "--profile",
            "dev",
            "--fast",
        ])
        .args(["--no-strip", "-o"])
        .arg(&debs)
        .current_dir(root_dir()));
    let deb = PathBuf::from(deb.lines().last().unwrap().trim());
    let root = tmp.path().join("root");
    ok(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let control = tmp.path().join("control");
    ok(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    for d in ["usr/bin", "run/systemd/system", "etc/tend"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    collector.bundle(&root.join("etc/tend/enroll.json"));

    // stand-ins that record how they were called
    let fake = tmp.path().join("fake");
    std::fs::create_dir_all(&fake).unwrap();
    let log = tmp.path().join("calls.log");
    for tool in ["deb-systemd-helper", "deb-systemd-invoke", "systemctl"] {
        let p = fake.join(tool);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\necho \"{tool} $*\" >> {}\nexit 0\n",
                log.display()
            ),
        )
        .unwrap();
        ok(Command::new("chmod").arg("755").arg(&p));
    }
    let path = format!(
        "{}:{}:/usr/sbin:/usr/bin:/sbin:/bin",
        root.join("usr/bin").display(),
        fake.display()
    );
    let run = |name: &str, arg: &str| {
        let s = script_in(&control, name, &root);
        ok(Command::new("sh")
            .arg(&s)
            .arg(arg)
            .env("PATH", &path)
            .env("RUST_LOG", "warn")
            .env(tend_agent::identity::HARDWARE_UUID_ENV, "deb-scratch-root"));
        std::fs::read_to_string(&log).unwrap_or_default()
    };

    // install: enrolled from the bundle, enabled, started
    let calls = run("postinst", "configure");
    let state = root.join("var/lib/tend/agent");
    assert!(state.join("credentials.json").is_file(), "not enrolled");
    assert!(root.join("usr/bin/tend-agent").is_symlink());
    let devices = collector.tendctl(&admin, &["--json", "devices"]);
    let devices: serde_json::Value = serde_json::from_str(&devices).unwrap();
    assert_eq!(devices.as_array().map(Vec::len), Some(1), "{devices}");
    for want in [
        "deb-systemd-helper unmask tend-agent.service",
        "deb-systemd-helper enable tend-agent.service",
        "systemctl --system daemon-reload",
        "deb-systemd-invoke restart tend-agent.service",
    ] {
        assert!(calls.contains(want), "{want} not called:\n{calls}");
    }
    assert!(!calls.contains("systemctl enable"), "{calls}");

    // remove: stopped, masked, state kept
    let calls = run("prerm", "remove");
    assert!(
        calls.contains("deb-systemd-invoke stop tend-agent.service"),
        "{calls}"
    );
    let calls = run("postrm", "remove");
    assert!(
        calls.contains("deb-systemd-helper mask tend-agent.service"),
        "{calls}"
    );
    assert!(
        state.join("credentials.json").is_file(),
        "remove kept the state"
    );
    assert!(!root.join("usr/bin/tend-agent").exists());

    // purge: the unit forgotten, the state deleted
    let calls = run("postrm", "purge");
    assert!(
        calls.contains("deb-systemd-helper purge tend-agent.service"),
        "{calls}"
    );
    assert!(!state.exists(), "purge deletes the state");
}
