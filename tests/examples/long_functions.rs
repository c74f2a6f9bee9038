//! Lists functions longer than a limit (default 80 lines) in every crate, code and
//! tests apart: `cargo run -p tend-e2e --example long_functions [limit]`.

use tend_e2e::demo::root;
use tend_e2e::shape;

fn main() {
    let limit: usize = std::env::args().nth(1).map_or(80, |s| s.parse().unwrap());
    let mut stack: Vec<_> = [
        "shared",
        "client",
        "agent",
        "collector",
        "tendctl",
        "tests",
        "bench",
        "pgtest",
    ]
    .iter()
    .map(|c| root().join(c))
    .collect();
    let mut rows = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("target") {
                    stack.push(p);
                }
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let rel = p.strip_prefix(root()).unwrap().display().to_string();
            let code = shape::code_only(&text);
            let code_lines = code.lines().count();
            for f in shape::functions(&text) {
                if f.lines > limit {
                    let test = rel.contains("tests") || f.line > code_lines;
                    rows.push((f.lines, test, format!("{rel}:{} {}", f.line, f.name)));
                }
            }
        }
    }
    rows.sort();
    for (n, test, f) in rows.iter().rev() {
        println!("{n:4} {} {f}", if *test { "test" } else { "code" });
    }
    println!(
        "{} over {limit} lines ({} in code)",
        rows.len(),
        rows.iter().filter(|r| !r.1).count()
    );
}
