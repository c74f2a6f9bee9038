//! The employee's side (issue 16, first part), end to end with the real binaries:
//! `tend`, run as unprivileged local users against a running agent's socket, files a
//! user ticket carrying the evidence for its category and the requester's name;
//! `tend status` shows an analyst's public reply (never an internal note) and the
//! script IT ran here with who wrote and who approved it; another local user can
//! neither see nor rate that ticket; the requester's rating lands in the SLA report;
//! the requester gets a desktop notification on a session bus the test starts.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use tend_e2e::{as_user, bin, wait_for, AgentProc, CollectorProc};

/// `tend --socket SOCKET ARGS` as local user `uid` (the agent names it).
fn tend_cmd(uid: u32, socket: &Path, args: &[&str]) -> Command {
    let mut c = as_user(uid, bin("tend"));
    c.arg("--socket").arg(socket).args(args);
    c
}

fn tend_as(uid: u32, socket: &Path, args: &[&str]) -> Output {
    tend_cmd(uid, socket, args)
        .output()
        .expect("setpriv (util-linux) runs tend")
}

/// `tend ARGS` as `uid`, answering its question with `input`.
fn tend_answering(uid: u32, socket: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = tend_cmd(uid, socket, args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("setpriv runs tend");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "tend failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A session bus for `uid` under `dir/<uid>/bus` (the agent's `TEND_NOTIFY_BUS_DIR`)
/// with a monitor recording every notification sent on it: the test double of the
/// desktop's notification service. Both run as that user and stop on drop.
struct SessionBus {
    daemon: std::process::Child,
    monitor: std::process::Child,
    log: std::path::PathBuf,
}

impl SessionBus {
    fn start(dir: &Path, uid: u32) -> SessionBus {
        let home = dir.join(uid.to_string());
        std::fs::create_dir_all(&home).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        nix::unistd::chown(
            &home,
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(uid)),
        )
        .unwrap();
        let socket = home.join("bus");
        let conf = dir.join("session.conf");
        std::fs::write(&conf, format!(r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>"#, socket.display())).unwrap();
        let daemon = as_user(uid, "dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--nopidfile"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon)");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "no session bus at {}",
                socket.display()
            );
            std::thread::yield_now();
        }
        let log = dir.join("notifications.log");
        let monitor = as_user(uid, "dbus-monitor")
            .args(["--address", &format!("unix:path={}", socket.display())])
            .arg("interface='org.freedesktop.Notifications'")
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dbus-monitor (Debian package dbus-bin)");
        SessionBus {
            daemon,
            monitor,
            log,
        }
    }

    fn seen(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        for c in [&mut self.monitor, &mut self.daemon] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

const NOBODY: u32 = 65534;
const OTHER: u32 = 65533;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employee_asks_for_help_follows_it_and_rates_it() {
    let tmp = tempfile::tempdir().unwrap();
    // local users reach the socket beside the state dir, not the state dir itself
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let c = CollectorProc::start_with_admins(&tmp.path().join("data"), 0, &["alice", "bob"]);
    let (alice, bob) = (c.admins[0].clone(), c.admins[1].clone());
    let (state, device) = c.enroll_agent(tmp.path(), "laptop", "hw-employee-1");
    let socket = tmp.path().join("laptop.sock");
    let buses = tmp.path().join("run-user");
    let bus = SessionBus::start(&buses, NOBODY);
    let _agent = AgentProc::start_env(
        &state,
        Some("hw-employee-1"),
        &[
            ("TEND_NOTIFY_BUS_DIR", buses.as_path()),
            // whatever the hour the suite runs at
            ("TEND_NOTIFY_QUIET_HOURS", Path::new("off")),
        ],
    );
    tend_client::install_crypto_provider();
    let http = tend_client::pinned_client(&c.ca_pem(), Duration::from_secs(30)).unwrap();
    let api = |p: &str| format!("{}{p}", c.url);
    wait_for("the agent's socket", Duration::from_secs(60), || async {
        socket.exists().then_some(())
    })
    .await;

    // nobody asks for help; the ticket carries the network evidence and their name
    let out = ok(&tend_as(
        NOBODY,
        &socket,
        &["help", "wifi keeps dropping", "--category", "network"],
    ));
    assert!(out.starts_with("Filed as T-"), "{out}");
    let ticket = out["Filed as ".len()..]
        .split('.')
        .next()
        .unwrap()
        .to_string();
    // …and a desktop notification reached nobody's session bus
    let note = format!("Your request is {ticket}");
    wait_for(
        "the desktop notification",
        Duration::from_secs(30),
        || async { bus.seen().contains(&note).then_some(()) },
    )
    .await;
    assert!(bus.seen().contains("member=Notify"), "{}", bus.seen());
    let t: serde_json::Value = http
        .get(api(&format!("/api/v1/tickets/{ticket}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["source"], "user", "{t}");
    assert_eq!(t["requester"], "nobody");
    assert_eq!(t["category"], "network");
    assert_eq!(t["device_id"], device.as_str());
    assert_eq!(t["summary"], "wifi keeps dropping");
    let diagnostics = t["evidence"]["diagnostics"].as_object().unwrap();
    for d in ["interfaces", "routes", "dns 127.0.0.1"] {
        assert!(diagnostics.contains_key(d), "{d} in {diagnostics:?}");
    }
    assert!(diagnostics
        .keys()
        .any(|k| k.starts_with("http https://127.0.0.1:")));
    assert!(t["evidence"]["health"].is_array());

    // an internal note and a public reply; then IT runs a two-admin-approved script
    for (text, public) in [
        ("note to self: check the AP", false),
        ("Swapped the access point on floor 3", true),
    ] {
        let r = http
            .post(api(&format!("/api/v1/tickets/{ticket}/comments")))
            .bearer_auth(&alice)
            .json(&serde_json::json!({"text": text, "public": public}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let s: serde_json::Value = http
        .post(api("/api/v1/scripts"))
        .bearer_auth(&alice)
        .json(
            &serde_json::json!({"name": "renew-dhcp", "interpreter": "sh", "body": "echo renewed"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let script = s["id"].as_str().unwrap().to_string();
    let r = http
        .post(api(&format!("/api/v1/scripts/{script}/approve")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let job: serde_json::Value = http
        .post(api(&format!("/api/v1/devices/{device}/scripts")))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"script_id": script}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = job["id"].as_str().unwrap().to_string();
    wait_for("the script to run", Duration::from_secs(60), || async {
        let j: serde_json::Value = http
            .get(api(&format!("/api/v1/jobs/{job}")))
            .bearer_auth(&alice)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (j["state"] == "succeeded").then_some(())
    })
    .await;

    // nobody sees the reply (not the note) and the script with both admins (`tend` is
    // rate-limited per user, so the wait reads the agent's own record)
    wait_for(
        "the script in the agent's record",
        Duration::from_secs(30),
        || async {
            let log = std::fs::read_to_string(state.join("ran-here.json")).unwrap_or_default();
            log.contains("renew-dhcp").then_some(())
        },
    )
    .await;
    let status = ok(&tend_as(NOBODY, &socket, &["status"]));
    assert!(
        status.contains("Swapped the access point on floor 3"),
        "{status}"
    );
    assert!(
        !status.contains("note to self"),
        "internal notes stay internal: {status}"
    );
    assert!(status.contains("script renew-dhcp v1"), "{status}");
    assert!(
        status.contains("written by alice, approved by bob"),
        "{status}"
    );
    assert!(status.contains(&ticket), "{status}");

    // another local user sees none of it and cannot rate it
    let theirs = ok(&tend_as(OTHER, &socket, &["status"]));
    assert!(!theirs.contains(&ticket), "{theirs}");
    let r = tend_as(OTHER, &socket, &["rate", &ticket, "1"]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("not one of your tickets"));

    // not before it is resolved; then the rating reaches the report
    let early = tend_as(NOBODY, &socket, &["rate", &ticket, "4"]);
    assert!(!early.status.success(), "rated before resolution");
    let r = http
        .patch(api(&format!("/api/v1/tickets/{ticket}")))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = ok(&tend_as(
        NOBODY,
        &socket,
        &["rate", &ticket, "4", "quick", "fix"],
    ));
    assert!(out.contains("reached IT"), "{out}");
    let report: serde_json::Value = http
        .get(api("/api/v1/reports/sla"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["user_tickets_resolved"], 1, "{report}");
    assert_eq!(report["csat_responses"], 1);
    assert_eq!(report["csat_average"], 4.0);
    assert_eq!(report["csat_response_rate"], 1.0);
    let status = ok(&tend_as(NOBODY, &socket, &["status"]));
    assert!(status.contains("you rated it 4/5"), "{status}");

    // an article for network problems: shown first; withdrawing counts as self-service
    let md = tmp.path().join("vpn.md");
    std::fs::write(
        &md,
        "Quit the VPN client, turn Wi-Fi off and on, connect again.\n",
    )
    .unwrap();
    let added = c.tendctl(
        &alice,
        &[
            "--json",
            "kb",
            "add",
            "--title",
            "VPN will not connect",
            "--category",
            "network",
            md.to_str().unwrap(),
        ],
    );
    let article: serde_json::Value = serde_json::from_str(&added).unwrap();
    let out = ok(&tend_answering(
        NOBODY,
        &socket,
        &["help", "vpn does not connect", "--category", "network"],
        "1\n",
    ));
    assert!(out.contains("try this first"), "{out}");
    assert!(out.contains("Quit the VPN client"), "{out}");
    assert!(out.contains("Nothing was sent to IT"), "{out}");
    // pressing Enter sends it after all
    let out = ok(&tend_answering(
        NOBODY,
        &socket,
        &["help", "vpn still fails", "--category", "network"],
        "\n",
    ));
    assert!(out.contains("Filed as T-"), "{out}");
    let a: serde_json::Value = http
        .get(api(&format!(
            "/api/v1/kb/{}",
            article["id"].as_str().unwrap()
        )))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (a["views"].clone(), a["withdrawals"].clone()),
        (2.into(), 1.into()),
        "{a}"
    );
    let listed = c.tendctl(&alice, &["kb", "--category", "network"]);
    assert!(listed.contains("VPN will not connect"), "{listed}");
    let report: serde_json::Value = http
        .get(api("/api/v1/reports/sla"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["self_service_withdrawn"], 1, "{report}");
    // the service-desk report, as text and as CSV
    let text = c.tendctl(&alice, &["report", "service-desk"]);
    assert!(text.contains("first-contact resolution"), "{text}");
    assert!(text.contains("CSAT 4.0/5"), "{text}");
    let csv = c.tendctl(&alice, &["report", "service-desk", "--csv", "categories"]);
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][0], "category", "{csv}");
    assert!(rows.iter().any(|r| r[0] == "network"), "{csv}");
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{csv}");
    assert!(report["deflected"].as_u64().unwrap() >= 1, "{report}");
}
