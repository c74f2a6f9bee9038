//! ARCHITECTURE.md kept true: every invariant names the test guarding it (and that test
//! exists) or says why none can, and the code map names every top-level module of the
//! collector.

use tend_e2e::demo::root;
use tend_e2e::shape;

fn architecture() -> String {
    std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap()
}

/// The invariants' bullets, each joined onto one line.
fn invariants(doc: &str) -> Vec<String> {
    let section = &doc[doc.find("## Invariants").expect("an Invariants section")..];
    let mut out: Vec<String> = Vec::new();
    for line in section.lines() {
        if line.starts_with("- **Invariant:**") {
            out.push(line.to_string());
        } else if line.starts_with("  ") && !out.is_empty() {
            let last = out.last_mut().unwrap();
            last.push(' ');
            last.push_str(line.trim());
        } else if !line.starts_with("  ") && !line.trim().is_empty() {
            // a heading or paragraph ends the bullet
            out.push(String::new());
        }
    }
    out.retain(|b| !b.is_empty());
    out
}

/// Every `path.rs::function` named in `text`.
fn named_tests(text: &str) -> Vec<(String, String)> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| {
            let (path, func) = code.split_once(".rs::")?;
            Some((format!("{path}.rs"), func.to_string()))
        })
        .collect()
}

#[test]
fn every_invariant_names_its_guard_and_the_guard_exists() {
    let doc = architecture();
    let all = invariants(&doc);
    assert!(all.len() >= 30, "found only {} invariants", all.len());
    let mut problems = Vec::new();
    for inv in &all {
        let head: String = inv.chars().take(90).collect();
        let guarded = inv.contains("*Guarded by*");
        if !guarded && !inv.contains("*Not checkable") {
            problems.push(format!("no *Guarded by* or *Not checkable*: {head}"));
        }
        let tests = named_tests(inv);
        if guarded && tests.is_empty() {
            problems.push(format!("*Guarded by* names no `file.rs::test`: {head}"));
        }
        for (path, func) in tests {
            match std::fs::read_to_string(root().join(&path)) {
                Err(_) => problems.push(format!("{path} (named by: {head}) does not exist")),
                Ok(text) if !text.contains(&format!("fn {func}(")) => {
                    problems.push(format!("{path} has no `fn {func}` (named by: {head})"))
                }
                Ok(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_code_map_names_every_collector_module() {
    let doc = architecture();
    let map = &doc[doc.find("## Code map").unwrap()..doc.find("## Invariants").unwrap()];
    let g = shape::graph(&root().join("collector/src"));
    let mut missing = Vec::new();
    for m in g
        .modules
        .keys()
        .filter(|m| !m.is_empty() && !m.contains("::"))
    {
        if !map.contains(&format!("`{m}/`")) && !map.contains(&format!("`{m}.rs`")) {
            missing.push(m.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name: {missing:?}"
    );
}

#[test]
fn the_reader_finds_bullets_and_named_tests() {
    let doc = "## Invariants\n\n- **Invariant:** a.\n  *Guarded by* `x/y.rs::t1`,\n  `z.rs::t2`.\n\n### B\n\n- **Invariant:** b. *Not checkable:* why.\n";
    let all = invariants(doc);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        named_tests(&all[0]),
        vec![("x/y.rs".into(), "t1".into()), ("z.rs".into(), "t2".into())]
    );
}
