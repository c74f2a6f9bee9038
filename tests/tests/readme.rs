//! README.md's two commands, verbatim: command 1 (the demo) is run exactly as written
//! until it prints the dashboard URL and the CLI it points at answers; command 2 is
//! what `.ci/run` runs.

use std::time::Duration;

use tend_e2e::demo::{readme_commands, root, Demo};

#[test]
fn ci_runs_the_readme_test_command() {
    let (_, test) = readme_commands();
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == test),
        ".ci/run must run README command 2 verbatim: {test}"
    );
}

#[test]
fn readme_first_command_starts_the_demo() {
    let (run, _) = readme_commands();
    assert!(run.starts_with("cargo "), "{run}");
    // a scratch folder inside the workspace (cargo finds the workspace from there);
    // the demo's relative ./tend-data lands in it, not in the checkout
    let scratch = root().join("target").join("readme-demo");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let demo = Demo::start(
        &run,
        &scratch,
        &[("TEND_DEMO_LISTEN", "127.0.0.1:0"), ("RUST_LOG", "warn")],
        // the first run builds three release binaries
        Duration::from_secs(1500),
    );
    assert!(
        demo.banner.contains("console:        https://127.0.0.1:"),
        "{}",
        demo.banner
    );
    assert!(scratch.join("tend-data/ca.pem").exists());
    // the printed PATH holds the release tendctl, which talks to this demo
    assert!(
        demo.env["PATH"].contains("target/release"),
        "{}",
        demo.export
    );
    let devices = demo.ok("tendctl devices");
    assert!(
        devices.contains("linux") || devices.contains("macos"),
        "{devices}"
    );
}
