//! The root agent's employee socket survives a flood (issue 23 #10), with the real
//! agent and real unprivileged local users: one user opens hundreds of connections
//! and holds them; the agent's open file descriptors stay bounded, another user's
//! `tend status` is answered meanwhile, and the flooder is served again once it stops.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use tend_e2e::{as_user, bin, wait_for, AgentProc, CollectorProc};

const NOBODY: u32 = 65534;
const OTHER: u32 = 65533;
const FLOOD: usize = 300;

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_local_user_cannot_exhaust_the_agents_descriptors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let c = CollectorProc::start_with_admins(&tmp.path().join("data"), 0, &["alice"]);
    let (state, _device) = c.enroll_agent(tmp.path(), "laptop", "hw-flood-1");
    let socket = tmp.path().join("laptop.sock");
    let agent = AgentProc::start(&state, Some("hw-flood-1"));
    let pid = agent.0.id();
    wait_for("the agent's socket", Duration::from_secs(60), || async {
        socket.exists().then_some(())
    })
    .await;
    let status = |uid: u32| {
        as_user(uid, bin("tend"))
            .arg("--socket")
            .arg(&socket)
            .arg("status")
            .output()
            .expect("setpriv (util-linux) runs tend")
    };
    assert!(status(NOBODY).status.success());
    let before = open_fds(pid);

    // nobody opens FLOOD connections, sends nothing and holds them until stdin closes
    let script = format!(
        "use IO::Socket::UNIX; $| = 1; my @s; for (1..{FLOOD}) {{ my $c = IO::Socket::UNIX->new(Peer => '{}'); push @s, $c if $c; }} print scalar(@s), \"\\n\"; <STDIN>;",
        socket.display()
    );
    let mut flood = as_user(NOBODY, "perl")
        .args(["-e", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("perl (perl-base) runs the flood");
    let mut opened = String::new();
    BufReader::new(flood.stdout.take().unwrap())
        .read_line(&mut opened)
        .unwrap();
    let opened: usize = opened.trim().parse().unwrap_or(0);
    assert!(opened > 100, "the flood opened only {opened} connections");

    // while they are held: the agent holds at most its per-user share of them …
    let during = open_fds(pid);
    assert!(
        during <= before + tend_agent::local::MAX_PER_USER + 8,
        "{during} descriptors open in the agent during the flood ({before} before)"
    );
    // … and another local user is answered
    let other = status(OTHER);
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );

    // the flood stops; its user is served again
    flood.stdin.take().unwrap().write_all(b"done\n").unwrap();
    flood.wait().unwrap();
    wait_for("nobody served again", Duration::from_secs(60), || async {
        status(NOBODY).status.success().then_some(())
    })
    .await;
}
