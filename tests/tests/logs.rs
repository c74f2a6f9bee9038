//! `--log-format json`: every line the collector logs is one JSON object a log shipper
//! can read, with its level, target and fields (the default stays text).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tend_e2e::{bin, signal};

#[test]
fn json_logs_are_one_object_per_line_with_level_and_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin("tend-collector"))
        .args(["--log-format", "json", "serve", "--data"])
        .arg(tmp.path().join("data"))
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let serving = loop {
        let line = lines
            .next()
            .expect("the collector exited before it served")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["target"].is_string(), "{line}");
        if v["message"] == "collector serving" {
            break v;
        }
    };
    assert!(
        serving["addr"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{serving}"
    );
    assert_eq!(serving["store"], "sled", "{serving}");
    signal(&child, "TERM");
    assert!(child.wait().unwrap().success());
}
