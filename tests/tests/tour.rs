//! Issue 11: the README's short tour, line by line, against `tend-collector demo` run
//! with its default *relative* data dir from a scratch folder — plus the newcomer
//! traps it used to hit: a script run from the demo, a failing job's exit status,
//! closed pipes, device lookup by hostname and prefix, and a read-only `status`.

use std::time::Duration;

use tend_e2e::demo::{readme_blocks, Demo};
use tend_e2e::{bin, wait_for};

/// The tour's command lines (comments stripped; `# refused` marks an expected failure).
fn tour() -> Vec<(String, bool)> {
    let blocks = readme_blocks("A short tour");
    assert!(!blocks.is_empty(), "the tour has a sh block");
    blocks[0]
        .iter()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (cmd, comment) = l.split_once("  #").unwrap_or((l, ""));
            (cmd.trim().to_string(), comment.contains("refused"))
        })
        .collect()
}

/// README's "On the laptop" lines.
fn laptop() -> Vec<String> {
    let blocks = readme_blocks("On the laptop");
    assert!(!blocks.is_empty(), "the laptop section has a sh block");
    blocks[0]
        .iter()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split_once("  #")
                .map_or(l.as_str(), |(c, _)| c)
                .trim()
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_tour_works_against_a_demo_with_a_relative_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = Demo::start(
        &format!("exec {} demo", bin("tend-collector").display()),
        tmp.path(),
        &[("TEND_DEMO_LISTEN", "127.0.0.1:0"), ("RUST_LOG", "warn")],
        Duration::from_secs(120),
    );
    // every path it prints is absolute, so the CLI works from any folder
    let ca = &demo.env["TEND_CA"];
    assert!(ca.starts_with('/'), "absolute CA path: {ca}");
    assert!(tmp.path().join("tend-data/ca.pem").exists());
    assert!(demo.env["TEND_AGENT_STATE"].starts_with('/'));
    let api = tend_client::Client::new(
        &demo.env["TEND_SERVER"],
        &std::fs::read_to_string(ca).unwrap(),
        Some(demo.env["TEND_TOKEN"].clone()),
    )
    .unwrap();

    for (line, refused) in tour() {
        if line.starts_with("tendctl ticket T-1") {
            // the agent files its tickets a moment after the policy change
            wait_for(
                "the agent's first ticket",
                Duration::from_secs(60),
                || async {
                    let t: tend_shared::api::Page<tend_shared::tickets::Ticket> =
                        api.get("/api/v1/tickets?status=open").await.ok()?;
                    t.items.iter().any(|t| t.id == "T-1").then_some(())
                },
            )
            .await;
        }
        let out = demo.sh(&line);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if refused {
            assert!(!out.status.success(), "`{line}` should be refused");
            assert!(
                stderr.contains("two-person") || stderr.contains("other than"),
                "{stderr}"
            );
            continue;
        }
        assert!(
            out.status.success(),
            "tour line `{line}` failed ({}):\n{stdout}{stderr}",
            out.status
        );
        assert!(!stderr.contains("panicked"), "{line}: {stderr}");
        if line.contains("--json") {
            serde_json::from_str::<serde_json::Value>(&stdout)
                .unwrap_or_else(|e| panic!("`{line}` printed no JSON ({e}): {stdout}"));
        }
    }

    // "On the laptop": `tend` against the demo's own agent, as the demo's user
    assert!(demo.env["TEND_AGENT_SOCKET"].ends_with("agent.sock"));
    for line in laptop() {
        let out = demo.sh(&line);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "laptop line `{line}` failed:\n{stdout}{stderr}"
        );
        if line.starts_with("tend help") {
            assert!(stdout.starts_with("Filed as T-"), "{stdout}");
        }
    }
    let open = demo.ok("tendctl --json tickets --status open");
    assert!(open.contains("my wifi keeps dropping"), "{open}");

    // `--assignee me` stored the caller's name, not the word "me"
    let t1: tend_shared::tickets::TicketDetail = api.get("/api/v1/tickets/T-1").await.unwrap();
    assert_eq!(t1.ticket.assignee.as_deref(), Some("demo-analyst"));
    let mine = demo.ok("tendctl --json tickets --assignee me");
    let mine: Vec<tend_shared::tickets::Ticket> = serde_json::from_str(&mine).unwrap();
    assert!(mine.iter().any(|t| t.id == "T-1"));

    // a CA that is not the collector's gets a hint, not just a TLS error
    let other_ca = tmp.path().join("other-ca.pem");
    let other = tend_e2e::CollectorProc::start(&tmp.path().join("other"), 0);
    std::fs::write(&other_ca, other.ca_pem()).unwrap();
    other.stop();
    let wrong = demo.sh(&format!("TEND_CA={} tendctl devices", other_ca.display()));
    assert_eq!(wrong.status.code(), Some(2));
    let why = String::from_utf8_lossy(&wrong.stderr);
    assert!(why.contains("hint:") && why.contains("TEND_CA"), "{why}");

    // --json on a mutation gives JSON too
    std::fs::write(tmp.path().join("hello.sh"), "echo hello\n").unwrap();
    let submitted =
        demo.ok("TEND_TOKEN=$ADMIN tendctl --json scripts submit --name hello hello.sh");
    let s: tend_shared::jobs::Script = serde_json::from_str(&submitted).unwrap();
    assert_eq!(s.status, tend_shared::jobs::ScriptStatus::PendingApproval);

    // the script ran in the demo's own relative data dir, by name and by hostname
    let ran = demo.ok("tendctl --json run $(hostname) clear-cache --wait");
    let job: tend_shared::jobs::JobView = serde_json::from_str(&ran).unwrap();
    assert_eq!(job.state, tend_shared::jobs::JobState::Succeeded, "{ran}");
    assert_eq!(job.result.unwrap().stdout, "clearing the cache\n");

    // a job that fails is a non-zero exit
    std::fs::write(tmp.path().join("fail.sh"), "echo broken >&2\nexit 2\n").unwrap();
    demo.ok("TEND_TOKEN=$ADMIN tendctl scripts submit --name fails fail.sh");
    demo.ok("TEND_TOKEN=$ADMIN2 tendctl scripts approve fails");
    let failed = demo.sh("tendctl run $(hostname) fails --wait");
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    assert!(String::from_utf8_lossy(&failed.stdout).contains("exit code 2"));
    let dns = demo.sh("tendctl diagnose $(hostname) dns no-such-host.invalid --wait");
    assert_eq!(dns.status.code(), Some(1), "{dns:?}");

    // closed pipes end quietly
    for line in [
        "tend-agent inventory | head -1",
        "tendctl --json device $(hostname) | head -1",
        "tendctl --json devices | head -c 1",
    ] {
        let out = demo.sh(line);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{line}: {stderr}"
        );
        assert!(!out.stdout.is_empty(), "{line} printed nothing");
    }

    // devices by hostname, by id prefix, and an ambiguous prefix that lists them
    let host = demo.ok("hostname").trim().to_string();
    let by_host = demo.ok(&format!("tendctl --json device {host}"));
    let id = serde_json::from_str::<serde_json::Value>(&by_host).unwrap()["device"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    demo.ok(&format!("tendctl device {}", &id[..6]));
    // the agent's bundle lost its enroll secret once it had enrolled
    let bundle: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tmp.path().join("tend-data/agent-bundle.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        bundle["enroll_secret"], "",
        "the secret stays on disk after enrolling"
    );
    let secret = std::fs::read_to_string(tmp.path().join("tend-data/enroll.secret")).unwrap();
    let twin: serde_json::Value = api
        .post(
            "/api/v1/enroll",
            &serde_json::json!({
                "enroll_secret": secret.trim(),
                "identity": {"hardware_uuid": "TOUR-TWIN", "hostname": format!("{host}-twin"), "platform": "linux"},
                "agent_version": "0.1.0",
            }),
        )
        .await
        .unwrap();
    demo.ok(&format!("tendctl device {host}")); // the exact hostname still wins
    let prefix = &host[..1];
    let ambiguous = demo.sh(&format!("tendctl device {prefix}"));
    assert_eq!(ambiguous.status.code(), Some(2));
    let why = String::from_utf8_lossy(&ambiguous.stderr);
    assert!(
        why.contains("matches 2 devices") && why.contains(twin["device_id"].as_str().unwrap()),
        "{why}"
    );

    // `status` reads only: a missing state dir is named, not created
    let missing = tmp.path().join("no-agent-here");
    let status = demo.sh(&format!(
        "TEND_AGENT_STATE={} tend-agent status",
        missing.display()
    ));
    assert!(status.status.success());
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains(&missing.display().to_string()), "{text}");
    assert!(!missing.exists(), "status created its state dir");
    let mine = demo.ok("tend-agent status");
    assert!(mine.contains("enrolled:        yes"), "{mine}");

    // ticket numbers are consecutive from T-1
    let list = api
        .get::<tend_shared::api::Page<tend_shared::tickets::Ticket>>("/api/v1/tickets")
        .await
        .unwrap()
        .items;
    let mut numbers: Vec<u64> = list
        .iter()
        .map(|t| t.id.trim_start_matches("T-").parse().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>());
}
