//! Lists functions longer than a limit (default 80 lines, tests too) in every crate:
//! `cargo run -p tend-e2e --example long_functions [limit]`.

use tend_e2e::demo::root;
use tend_e2e::shape;

fn main() {
    let limit: usize = std::env::args().nth(1).map_or(80, |s| s.parse().unwrap());
    let rows = shape::long_functions(&root(), limit, limit);
    for (n, path, name) in &rows {
        println!("{n:4} {path} {name}");
    }
    println!("{} over {limit} lines", rows.len());
}
