//! The source tree's shape, enforced (ARCHITECTURE.md, "Invariants"): uses point down
//! the collector's layers and never run in a circle in any crate, and functions stay
//! short. The figures behind it: `cargo run -p tend-e2e --example shape`.

use tend_e2e::demo::root;
use tend_e2e::shape;

/// The collector's top-level modules, from the top. A module uses only its own layer
/// and the layers below; within a layer, uses must not run in a circle.
const COLLECTOR_LAYERS: &[&[&str]] = &[
    // entry points: the binary's commands, the demo, serving
    &["admin", "config", "demo", "server"],
    // the router and middleware; the periodic upkeep that calls several features
    &["http", "sweep"],
    // the features, each a folder with its routes, logic and store records
    &[
        "accounts", "assets", "audit", "checkin", "devices", "enroll", "fleet", "jobs", "kb",
        "policy", "releases", "tickets", "users", "webhooks",
    ],
    // what every feature stands on
    &["cluster", "error", "settings", "state", "text"],
    &["clock", "limits", "metrics", "pki", "store"],
];

/// Modules whose uses the circle check does not count, and why.
const CIRCLE_EXCEPTIONS: &[(&str, &str)] = &[(
    "store::legacy",
    "upgrades a layout-1 sled store in place by rewriting every feature's old records \
     through the features' typed methods; it runs inside Store::open, before anything \
     else sees the store, and nothing else in the store names a feature",
)];

#[test]
fn collector_uses_point_down_its_layers() {
    let g = shape::graph(&root().join("collector/src"));
    let listed: Vec<&str> = COLLECTOR_LAYERS
        .iter()
        .flat_map(|l| l.iter().copied())
        .collect();
    for m in g.modules.keys() {
        let top = m.split("::").next().unwrap();
        assert!(
            m.is_empty() || listed.contains(&top),
            "collector module `{top}` is in no layer: add it to COLLECTOR_LAYERS and ARCHITECTURE.md"
        );
    }
    let except: Vec<&str> = CIRCLE_EXCEPTIONS.iter().map(|e| e.0).collect();
    let upward: Vec<String> = g
        .upward(COLLECTOR_LAYERS)
        .into_iter()
        .filter(|(from, _)| !except.iter().any(|e| from.starts_with(e)))
        .map(|(a, b)| format!("{a} -> {b}"))
        .collect();
    assert!(
        upward.is_empty(),
        "uses pointing up the layers: {upward:#?}"
    );
}

#[test]
fn no_crate_has_modules_that_use_each_other_in_a_circle() {
    let except: Vec<&str> = CIRCLE_EXCEPTIONS.iter().map(|e| e.0).collect();
    for krate in [
        "collector/src",
        "agent/src",
        "shared/src",
        "client/src",
        "tendctl/src",
        "bench/src",
    ] {
        let g = shape::graph(&root().join(krate));
        assert!(g.modules.len() > 1, "{krate}: read no modules");
        let circles = g.circles_except(&except);
        assert!(
            circles.is_empty(),
            "{krate}: modules that use each other in a circle (move what both need below \
             both): {circles:?}"
        );
    }
}

#[test]
fn the_shape_reader_sees_uses_and_circles() {
    // the checks above are only as good as the reader: a circle it must find
    let dir = tempfile::tempdir().unwrap();
    let w = |p: &str, t: &str| {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    };
    w("lib.rs", "//! x\npub mod a;\npub mod b;\npub mod c;\n");
    w(
        "a/mod.rs",
        "//! a\nuse crate::b::{self, B};\npub mod inner;\n",
    );
    w("a/inner.rs", "//! a::inner\nuse super::super::c::C;\n");
    w("b.rs", "//! b\nuse crate::{c::C as D, a::inner};\n");
    w(
        "c.rs",
        "//! c\npub struct C;\n#[cfg(test)]\nmod tests {\n    use crate::a::X;\n}\n",
    );
    let g = shape::graph(dir.path());
    assert_eq!(g.circles(), vec![vec!["a".to_string(), "b".to_string()]]);
    let layers: &[&[&str]] = &[&["a", "b"], &["c"]];
    assert!(
        g.upward(layers).is_empty(),
        "c's test module does not count"
    );
    let layers: &[&[&str]] = &[&["c"], &["a", "b"]];
    let mut up = g.upward(layers);
    up.sort();
    assert_eq!(
        up,
        vec![
            ("a::inner".to_string(), "c".to_string()),
            ("b".to_string(), "c".to_string())
        ]
    );
}

/// The functions that flush by hand, and why: each acknowledges several units of work
/// with one flush. Everywhere else a change is made with `commit!` (commit, then flush).
const HAND_FLUSHES: &[(&str, &str, &str)] = &[
    ("checkin/mod.rs", "checkin", "one flush acknowledges a check-in's units: apply, automation, crash tickets, the release offer"),
    ("jobs/mod.rs", "take_queued", "flushes only when something was delivered: an empty long-poll writes nothing"),
    ("sweep.rs", "sweep", "one flush after the sweep's many small units"),
    ("webhooks/mod.rs", "deliver_due", "one flush after a batch of delivery attempts"),
    ("tickets/routes.rs", "put_settings", "the settings, then the re-index of every open ticket's due time"),
    ("server/mod.rs", "open_with", "after the start-up migrations"),
    ("server/mod.rs", "run_with", "the last flush at shutdown"),
];

#[test]
fn changes_are_made_durable_in_one_place() {
    let mut found = Vec::new();
    for (path, text) in shape::workspace_sources(&root()) {
        let Some(rel) = path.strip_prefix("collector/src/") else {
            continue;
        };
        if rel.starts_with("store/") || rel.starts_with("bin/") || rel.contains("tests") {
            continue;
        }
        let code = shape::code_only(&text);
        let funcs = shape::functions(&code);
        for (i, line) in code.lines().enumerate() {
            if !(line.contains("store.flush()") || line.contains(".flush_blocking()")) {
                continue;
            }
            let n = i + 1;
            let inner = funcs
                .iter()
                .filter(|f| f.line <= n && n < f.line + f.lines)
                .min_by_key(|f| f.lines)
                .map_or("?".to_string(), |f| f.name.clone());
            found.push((rel.to_string(), inner));
        }
    }
    assert!(
        !found.is_empty(),
        "found no flush at all: the reader is broken"
    );
    let unlisted: Vec<String> = found
        .iter()
        .filter(|(file, func)| !HAND_FLUSHES.iter().any(|(f, n, _)| f == file && n == func))
        .map(|(file, func)| format!("{file}: {func}"))
        .collect();
    assert!(
        unlisted.is_empty(),
        "these flush by hand; make the change with `commit!` (or list them in HAND_FLUSHES \
         with why): {unlisted:#?}"
    );
    for (file, func, _) in HAND_FLUSHES {
        assert!(
            found.iter().any(|(f, n)| f == file && n == func),
            "HAND_FLUSHES lists {file}: {func}, which no longer flushes: take it off"
        );
    }
}

#[test]
fn the_end_to_end_tests_rebuild_from_every_crate_a_binary_is_made_of() {
    let crates = tend_e2e::binary_crates(&root());
    for c in ["shared", "client", "agent", "collector", "tendctl", "bench"] {
        assert!(crates.iter().any(|x| x == c), "{c} missing from {crates:?}");
    }
    assert!(!crates.iter().any(|x| x == "tests"), "{crates:?}");
    for b in tend_e2e::BINARIES {
        assert!(tend_e2e::bin(b).exists(), "{b} was not built");
    }
}

/// A function's longest, in lines: code, and a test (one scenario read top to bottom).
const MAX_FN_LINES: usize = 80;
const MAX_TEST_FN_LINES: usize = 150;

#[test]
fn functions_stay_short_and_the_long_ones_only_shrink() {
    let listed = std::fs::read_to_string(root().join("tests/long-functions.txt")).unwrap();
    let allowed: Vec<(usize, &str, &str)> = listed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let n = w.next().and_then(|n| n.parse().ok()).expect("lines");
            (n, w.next().expect("file"), w.next().expect("function"))
        })
        .collect();
    let long = shape::long_functions(&root(), MAX_FN_LINES, MAX_TEST_FN_LINES);
    let mut problems = Vec::new();
    for (n, path, name) in &long {
        match allowed.iter().find(|(_, p, f)| p == path && f == name) {
            None => problems.push(format!(
                "{path}: `{name}` has {n} lines (at most {MAX_FN_LINES}, {MAX_TEST_FN_LINES} in a test): split it by step"
            )),
            Some((max, ..)) if n > max => problems.push(format!(
                "{path}: `{name}` grew to {n} lines, past the {max} recorded in tests/long-functions.txt: split it"
            )),
            Some(_) => {}
        }
    }
    for (_, path, name) in &allowed {
        if !long.iter().any(|(_, p, f)| p == path && f == name) {
            problems.push(format!(
                "{path}: `{name}` is within the limit now: take it off tests/long-functions.txt"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
