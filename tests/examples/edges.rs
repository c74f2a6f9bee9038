//! Prints every use between two top-level modules of a crate (default: the
//! collector), with the files behind it: `cargo run -p tend-e2e --example edges [crate/src]`.

use tend_e2e::demo::root;
use tend_e2e::shape;

fn main() {
    let krate = std::env::args().nth(1).unwrap_or("collector/src".into());
    let g = shape::graph(&root().join(krate));
    for ((a, b), uses) in g.sibling_edges() {
        let detail: Vec<String> = uses.iter().map(|(f, t)| format!("{f}->{t}")).collect();
        println!("{a} -> {b}: {}", detail.join(", "));
    }
}
