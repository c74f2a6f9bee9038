//! Prints the source tree's shape figures (module uses, circles, long functions, the
//! store's unit-of-work surface and hand-written flushes/audits) for the closing notes:
//! `cargo run -p tend-e2e --example shape [checkout]` (default: this workspace; give an
//! older checkout's path to compare).

use tend_e2e::shape;

fn main() {
    let base = std::env::args()
        .nth(1)
        .map_or_else(tend_e2e::demo::root, std::path::PathBuf::from);
    let root = || base.clone();
    let src = root().join("collector/src");
    let g = shape::graph(&src);
    println!("collector modules: {}", g.modules.len());
    let mut top: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for ((a, b), uses) in g.sibling_edges() {
        if !a.contains("::") {
            *top.entry((a, b)).or_default() += uses.len();
        }
    }
    println!("top-level uses (from -> to: count):");
    for ((a, b), n) in &top {
        println!("  {a} -> {b}: {n}");
    }
    println!("circles:");
    for c in g.circles() {
        println!("  {}", c.join(" <-> "));
    }
    println!("circles not counting store::legacy's uses (the one listed exception):");
    for c in g.circles_except(&["store::legacy"]) {
        println!("  {}", c.join(" <-> "));
    }
    for krate in ["agent/src", "shared/src", "client/src", "tendctl/src"] {
        let g = shape::graph(&root().join(krate));
        for c in g.circles() {
            println!("  {krate}: {}", c.join(" <-> "));
        }
    }
    let mut files = Vec::new();
    let mut funcs = Vec::new();
    let (mut flushes, mut audits, mut tx_calls, mut tx_methods, mut tx_files) = (0, 0, 0, 0, 0);
    for (rel, text) in shape::workspace_sources(&root()) {
        if !rel.starts_with("collector/src/") {
            continue;
        }
        files.push((text.lines().count(), rel.clone()));
        for f in shape::functions(&text) {
            funcs.push((f.lines, format!("{rel}:{} {}", f.line, f.name)));
        }
        if rel.contains("/tests") || rel.contains("tests.rs") {
            continue;
        }
        let code = shape::code_only(&text);
        for block in code.split("\nimpl Tx {").skip(1) {
            let end = block.find("\n}\n").unwrap_or(block.len());
            tx_methods += shape::functions(&block[..end]).len();
            tx_files += 1;
        }
        if !rel.contains("collector/src/store/") {
            flushes += code.matches(".flush().await").count();
            tx_calls += code.matches("tx.").count();
        }
        audits += code.matches(".audit(").count() + code.matches(".audit_in(").count();
    }
    println!("hand-written flushes outside the store: {flushes}");
    println!("Tx methods (fn in `impl Tx` blocks): {tx_methods}, in {tx_files} blocks");
    println!("hand-written audit calls: {audits}");
    println!("tx. call sites outside the store: {tx_calls}");
    files.sort();
    funcs.sort();
    println!("largest files:");
    for (n, f) in files.iter().rev().take(5) {
        println!("  {n} {f}");
    }
    println!(
        "collector functions over 80 lines: {}",
        funcs.iter().filter(|f| f.0 > 80).count()
    );
    for (n, f) in funcs.iter().rev().take(8) {
        println!("  {n} {f}");
    }
    let long = shape::long_functions(&root(), 80, 150);
    println!(
        "functions over 80 lines (150 in tests), all crates: {}",
        long.len()
    );
}
