//! The source tree's shape, read from the text (no compiler): which module uses which
//! (`crate::` and `super::` paths), the circles among sibling modules, how long each
//! function is, and counts of chosen call sites. The tidy test enforces limits on it
//! and `cargo run -p tend-e2e --example shape` prints the figures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One crate's modules and the module-level edges between them.
pub struct Graph {
    /// Module path (`store::devices`; `""` is the crate root) → its source, with test
    /// modules and comments cut.
    pub modules: BTreeMap<String, String>,
    /// `from` → the modules it names.
    pub edges: BTreeMap<String, BTreeSet<String>>,
}

/// Reads the crate rooted at `src` (its `lib.rs` or `main.rs` directory).
pub fn graph(src: &Path) -> Graph {
    let mut modules = BTreeMap::new();
    collect(src, src, &mut modules);
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    for (m, text) in &modules {
        let mut to = BTreeSet::new();
        for path in paths(text) {
            if let Some(target) = resolve(m, &path, &known) {
                if target != *m {
                    to.insert(target);
                }
            }
        }
        edges.insert(m.clone(), to);
    }
    Graph { modules, edges }
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "tests" || n == "bin") {
                continue;
            }
            collect(root, &p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let rel = p.strip_prefix(root).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        let name = parts.join("::");
        if parts
            .last()
            .is_some_and(|l| l.ends_with("tests") || l == "conformance" || l == "fixtures")
        {
            continue; // test-only modules may reach anywhere
        }
        out.insert(name, code_only(&std::fs::read_to_string(&p).unwrap()));
    }
}

/// The text without comments and without a trailing `#[cfg(test)] mod …` block.
pub fn code_only(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            if let Some(next) = lines.peek() {
                let n = next.trim_start();
                if n.starts_with("mod ") && n.ends_with('{') {
                    // the in-file test module runs to the end of the file by convention
                    if !line.starts_with(' ') {
                        break;
                    }
                }
            }
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line.split(" // ").next().unwrap_or(""));
        out.push('\n');
    }
    out
}

/// Every `crate::a::b` / `super::a` path in `text`, braces of `use` groups expanded.
fn paths(text: &str) -> Vec<Vec<String>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = |w: &str| b[i..].starts_with(w.as_bytes());
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if boundary && (i == 0 || b[i - 1] != b'$') && (starts("crate::") || starts("super::")) {
            let (end, found) = path_at(text, i, Vec::new());
            out.extend(found);
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Parses a path (with `{…}` groups) starting at `i`; returns where it ended and the
/// paths it names, each prefixed by `prefix`.
fn path_at(text: &str, mut i: usize, prefix: Vec<String>) -> (usize, Vec<Vec<String>>) {
    let b = text.as_bytes();
    let mut segs = prefix;
    loop {
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i > start {
            segs.push(text[start..i].to_string());
        }
        if b[i..].starts_with(b"::") {
            i += 2;
            if b.get(i) == Some(&b'{') {
                let mut out = Vec::new();
                i += 1;
                loop {
                    while i < b.len() && (b[i] as char).is_whitespace() || b.get(i) == Some(&b',') {
                        i += 1;
                    }
                    if i >= b.len() || b[i] == b'}' {
                        return (i + 1, out);
                    }
                    let (end, found) = path_at(text, i, segs.clone());
                    out.extend(found);
                    // skip `as name` and anything up to the next separator
                    i = end;
                    while i < b.len() && b[i] != b',' && b[i] != b'}' {
                        if b[i] == b'{' {
                            break;
                        }
                        i += 1;
                    }
                    if i == end && b.get(i).is_some_and(|c| *c != b',' && *c != b'}') {
                        i += 1;
                    }
                }
            }
            continue;
        }
        return (i, vec![segs]);
    }
}

/// The module a path names: the longest known module prefix, after `crate`/`super`.
fn resolve(from: &str, path: &[String], known: &BTreeSet<String>) -> Option<String> {
    let mut base: Vec<String> = if from.is_empty() {
        Vec::new()
    } else {
        from.split("::").map(str::to_string).collect()
    };
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    let mut best = None;
    let mut cur = base;
    if known.contains(&cur.join("::")) {
        best = Some(cur.join("::"));
    }
    for s in rest {
        cur.push(s.clone());
        let name = cur.join("::");
        if known.contains(&name) {
            best = Some(name);
        } else {
            break;
        }
    }
    best
}

fn is_within(m: &str, ancestor: &str) -> bool {
    ancestor.is_empty() || m == ancestor || m.starts_with(&format!("{ancestor}::"))
}

fn parent(m: &str) -> &str {
    m.rfind("::").map_or("", |i| &m[..i])
}

/// The child of `ancestor` that contains `m`.
fn child_of(ancestor: &str, m: &str) -> String {
    let rest = if ancestor.is_empty() {
        m
    } else {
        &m[ancestor.len() + 2..]
    };
    let first = rest.split("::").next().unwrap_or(rest);
    if ancestor.is_empty() {
        first.to_string()
    } else {
        format!("{ancestor}::{first}")
    }
}

impl Graph {
    /// Edges between siblings: `a → b` when something in `a` names something in `b`,
    /// `a` and `b` children of the same module (ancestor ↔ descendant uses do not
    /// count: a module may use its parent and re-export its children).
    pub fn sibling_edges(&self) -> BTreeMap<(String, String), Vec<(String, String)>> {
        let mut out: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
        for (from, tos) in &self.edges {
            for to in tos {
                if is_within(from, to) || is_within(to, from) {
                    continue;
                }
                let mut lca = parent(from).to_string();
                while !is_within(to, &lca) {
                    lca = parent(&lca).to_string();
                }
                let a = child_of(&lca, from);
                let b = child_of(&lca, to);
                out.entry((a, b))
                    .or_default()
                    .push((from.clone(), to.clone()));
            }
        }
        out
    }

    /// Groups of sibling modules that use each other in a circle (each group sorted).
    pub fn circles(&self) -> Vec<Vec<String>> {
        self.circles_except(&[])
    }

    /// [`Graph::circles`], not counting the uses made by the modules in `except`.
    pub fn circles_except(&self, except: &[&str]) -> Vec<Vec<String>> {
        let mut edges = self.sibling_edges();
        for uses in edges.values_mut() {
            uses.retain(|(from, _)| !except.iter().any(|e| is_within(from, e)));
        }
        edges.retain(|_, uses| !uses.is_empty());
        let mut adj: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (a, b) in edges.keys() {
            adj.entry(a).or_default().push(b);
            adj.entry(b).or_default();
        }
        let mut out = Vec::new();
        for scc in strongly_connected(&adj) {
            if scc.len() > 1 {
                let mut v: Vec<String> = scc.iter().map(|s| s.to_string()).collect();
                v.sort();
                out.push(v);
            }
        }
        out.sort();
        out
    }

    /// Uses that break `order`: `order` lists top-level modules from the top; a module
    /// may use what is listed after it (and anything unlisted may use and be used by
    /// anything). Returns `(from module, to module)` pairs.
    pub fn upward(&self, order: &[&[&str]]) -> Vec<(String, String)> {
        let rank = |m: &str| {
            let top = m.split("::").next().unwrap_or(m);
            order.iter().position(|layer| layer.contains(&top))
        };
        let mut out = Vec::new();
        for (from, tos) in &self.edges {
            for to in tos {
                let (Some(a), Some(b)) = (rank(from), rank(to)) else {
                    continue;
                };
                if a > b {
                    out.push((from.clone(), to.clone()));
                }
            }
        }
        out
    }
}

/// Tarjan's strongly connected components.
fn strongly_connected<'a>(adj: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    struct S<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        on: BTreeSet<&'a str>,
        stack: Vec<&'a str>,
        next: usize,
        out: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, adj: &BTreeMap<&'a str, Vec<&'a str>>, s: &mut S<'a>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for &w in adj.get(v).map(Vec::as_slice).unwrap_or(&[]) {
            if !s.index.contains_key(w) {
                visit(w, adj, s);
                let l = s.low[w].min(s.low[v]);
                s.low.insert(v, l);
            } else if s.on.contains(w) {
                let l = s.index[w].min(s.low[v]);
                s.low.insert(v, l);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                group.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(group);
        }
    }
    let mut s = S {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for &v in adj.keys() {
        if !s.index.contains_key(v) {
            visit(v, adj, &mut s);
        }
    }
    s.out
}

/// A function's name, first line (1-based) and length in lines.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub line: usize,
    pub lines: usize,
}

/// The functions in `text` with their lengths (from the `fn` line to its closing
/// brace, found by brace depth; strings with braces may confuse it, rarely).
pub fn functions(text: &str) -> Vec<Function> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let code = t.split("//").next().unwrap_or("");
        let Some(pos) = code.find("fn ") else {
            continue;
        };
        let before = &code[..pos];
        let starts_decl = before.is_empty()
            || before.split_whitespace().all(|w| {
                matches!(w, "pub" | "async" | "const" | "unsafe" | "extern")
                    || w.starts_with("pub(")
            });
        if !starts_decl {
            continue;
        }
        let name: String = code[pos + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        let mut depth = 0i32;
        let mut opened = false;
        for (j, l) in lines.iter().enumerate().skip(i) {
            let c = l.split("//").next().unwrap_or("");
            for ch in c.chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    ';' if !opened && depth == 0 => {
                        // a declaration without a body (trait method)
                        depth = -1;
                    }
                    _ => {}
                }
            }
            if depth < 0 || (opened && depth == 0) {
                if opened {
                    out.push(Function {
                        name: name.clone(),
                        line: i + 1,
                        lines: j - i + 1,
                    });
                }
                break;
            }
        }
    }
    out
}

/// How many times `needle` occurs in the code (comments cut) of `text`.
pub fn count(text: &str, needle: &str) -> usize {
    code_only(text).matches(needle).count()
}

/// Whether the function starting at `line` (1-based) of the file at `path` (relative
/// to the workspace) is test code: a test file, or inside the file's trailing
/// `#[cfg(test)] mod …` block.
pub fn is_test(path: &str, text: &str, line: usize) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    if path.starts_with("tests/")
        || path.contains("/tests/")
        || file.ends_with("tests.rs")
        || matches!(file, "conformance.rs" | "fixtures.rs")
    {
        return true;
    }
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.windows(2).position(|w| {
        w[0].starts_with("#[cfg(test)]") && w[1].starts_with("mod ") && w[1].ends_with('{')
    });
    start.is_some_and(|s| line > s + 1)
}

/// The workspace's crates, as folders.
pub const CRATES: [&str; 8] = [
    "shared",
    "client",
    "agent",
    "collector",
    "tendctl",
    "tests",
    "bench",
    "pgtest",
];

/// Every Rust source of the workspace's crates (build output and recorded fixtures left
/// out), as `(path relative to root, text)`, in path order.
pub fn workspace_sources(root: &Path) -> Vec<(String, String)> {
    let mut stack: Vec<_> = CRATES.iter().map(|c| root.join(c)).collect();
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p
                    .file_name()
                    .is_some_and(|n| n == "target" || n == "fixtures")
                {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Every function of the workspace's Rust sources longer than its limit (`code`
/// lines, or `test` lines for test code), as `(lines, path, name)`.
pub fn long_functions(root: &Path, code: usize, test: usize) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (rel, text) in workspace_sources(root) {
        for f in functions(&text) {
            let limit = if is_test(&rel, &text, f.line) {
                test
            } else {
                code
            };
            if f.lines > limit {
                out.push((f.lines, rel.clone(), f.name));
            }
        }
    }
    out.sort();
    out.reverse();
    out
}
