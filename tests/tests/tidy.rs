//! ARCHITECTURE.md's invariants that a program can check, checked on every run
//! (rust-analyzer's `tidy` idea): what depends on what, where sled may appear, module
//! docs, file sizes, and no sleeps or `#[ignore]` in the tests.

use tend_e2e::demo::root;

const MAX_LINES: usize = 600;

fn sources() -> Vec<(String, String)> {
    let files = tend_e2e::shape::workspace_sources(&root());
    assert!(files.len() > 50, "found only {} files", files.len());
    files
}

fn dependencies(krate: &str) -> String {
    let manifest = std::fs::read_to_string(root().join(krate).join("Cargo.toml")).unwrap();
    let start = manifest.find("[dependencies]").expect("[dependencies]");
    let rest = &manifest[start + 14..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].to_string()
}

#[test]
fn a_binary_depends_on_what_it_runs() {
    // the server links no agent code; tendctl links neither; wire types come from shared
    for (krate, forbidden) in [
        ("collector", &["tend-agent", "tendctl"][..]),
        ("tendctl", &["tend-agent", "tend-collector"][..]),
        ("client", &["tend-agent", "tend-collector"][..]),
        (
            "shared",
            &["tend-agent", "tend-collector", "tend-client"][..],
        ),
    ] {
        let deps = dependencies(krate);
        for f in forbidden {
            assert!(
                !deps.lines().any(|l| l.trim_start().starts_with(f)),
                "{krate} must not depend on {f}"
            );
        }
    }
}

#[test]
fn only_the_store_touches_sled() {
    for (path, text) in sources() {
        if path.starts_with("collector/src/store/") || path.starts_with("tests/") {
            continue;
        }
        assert!(
            !text.contains("sled::"),
            "{path} uses sled directly; go through the store"
        );
    }
}

#[test]
fn each_engine_is_the_only_user_of_its_driver() {
    for (path, text) in sources() {
        if path.starts_with("tests/") || path.starts_with("pgtest/") {
            continue;
        }
        let pg = text.contains("tokio_postgres") || text.contains("deadpool_postgres");
        assert!(
            !pg || path.starts_with("collector/src/store/kv/pg"),
            "{path} uses the PostgreSQL driver; only the store's engine may"
        );
        // above the engine boundary nothing knows which engine it runs on, except
        // the store's own front (choosing one), the sled engine, its upgrades and its
        // backups (a sled store's whole-tree snapshot and restore)
        let sled_engine = text.contains("SledKv") || text.contains("sled_kv::");
        assert!(
            !sled_engine
                || path.starts_with("collector/src/store/kv/")
                || path == "collector/src/store/mod.rs"
                || path.starts_with("collector/src/store/legacy/")
                || path == "collector/src/store/backup.rs",
            "{path} reaches into the sled engine; use the store's units of work"
        );
    }
}

#[test]
fn only_the_writer_thread_writes_the_sled_tree() {
    // validating a unit's reads at commit is serialisable only while the writer thread
    // is the tree's one writer
    for (path, text) in sources() {
        if path.starts_with("tests/") || path == "collector/src/store/kv/sled_writer.rs" {
            continue;
        }
        if !path.starts_with("collector/src/store/") {
            continue;
        }
        for call in [
            "tree.insert(",
            "tree.remove(",
            "tree.apply_batch(",
            "tree.transaction(",
            ".compare_and_swap(",
        ] {
            let in_test = text
                .find("#[cfg(test)]")
                .is_some_and(|t| text.find(call).is_some_and(|c| c > t));
            assert!(
                !text.contains(call) || in_test,
                "{path} calls {call} on the sled tree; commit a unit of work instead"
            );
        }
    }
}

#[test]
fn no_global_lock_serialises_ticket_changes() {
    for (path, text) in sources() {
        if path.starts_with("collector/src/") {
            assert!(
                !text.contains("tickets_lock"),
                "{path}: ticket changes are units of work, not a process-wide lock"
            );
        }
    }
}

#[test]
fn every_file_says_what_it_is_for_and_stays_small() {
    for (path, text) in sources() {
        assert!(
            text.trim_start().starts_with("//!"),
            "{path} has no //! header"
        );
        let n = text.lines().count();
        assert!(n <= MAX_LINES, "{path} has {n} lines (split it by role)");
    }
}

#[test]
fn tests_wait_on_conditions_and_all_run() {
    for (path, text) in sources() {
        if path == "tests/tests/tidy.rs" {
            continue; // it names what it looks for
        }
        assert!(!text.contains("#[ignore"), "{path} ignores a test");
        if path.starts_with("tests/tests/") {
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                assert!(
                    !code.contains("time::sleep") && !code.contains("thread::sleep"),
                    "{path}:{} sleeps; wait on a condition with a deadline (tend_e2e::wait_for)",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn the_console_has_no_inline_code_no_outside_origin_and_every_file_is_served() {
    let ui = root().join("collector/ui");
    let served = std::fs::read_to_string(root().join("collector/src/http/ui.rs")).unwrap();
    for e in std::fs::read_dir(&ui).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(e.path()).unwrap();
        assert!(
            name == "index.html" || served.contains(&format!("(\"{name}\",")),
            "collector/ui/{name} is not in ui.rs's FILES"
        );
        assert!(
            text.lines().count() <= MAX_LINES,
            "collector/ui/{name} is too long"
        );
        // the CSP forbids them anyway; a page relying on one would silently break
        for bad in [
            " style=\"",
            " onclick=",
            " onload=",
            " onsubmit=",
            "javascript:",
            "eval(",
            "new Function(",
        ] {
            assert!(!text.contains(bad), "collector/ui/{name} uses {bad:?}");
        }
        for origin in ["http://", "https://", "//cdn", "fonts.googleapis"] {
            assert!(
                !text.contains(origin),
                "collector/ui/{name} loads from {origin:?}"
            );
        }
        if name.ends_with(".js") {
            assert!(
                text.starts_with("//"),
                "collector/ui/{name} starts with what it is for"
            );
        }
    }
    let index = std::fs::read_to_string(ui.join("index.html")).unwrap();
    assert!(index.contains(r#"<script type="module" src="/ui/app.js"></script>"#));
    assert_eq!(
        index.matches("<script").count(),
        1,
        "one script tag, no inline code"
    );
}

/// Escape by default (issue 23 #3a): markup is built only with `html\`…\``, whose
/// interpolations are escaped; an untagged template with markup in it is a place where
/// a device-reported value could become markup.
#[test]
fn every_piece_of_console_markup_is_built_with_the_escaping_html_tag() {
    let ui = root().join("collector/ui");
    let mut bad = Vec::new();
    for e in std::fs::read_dir(&ui).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".js") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        assert!(
            !tend_e2e::jsscan::templates(&text).is_empty() || !text.contains('`'),
            "collector/ui/{name}: the scanner found no template in a file with backticks"
        );
        for t in tend_e2e::jsscan::untagged_markup(&text) {
            bad.push(format!("collector/ui/{name}:{}: {:?}", t.line, t.text));
        }
    }
    assert!(
        bad.is_empty(),
        "markup built without html`…` (its interpolations are not escaped):\n{}",
        bad.join("\n")
    );
}
