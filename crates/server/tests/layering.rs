//! The server's layering, checked on its source: `http` (the wire) is the floor, `dialect` sits on it, `ops` on
//! both, and `pipeline` (with `fuzzing` and `workers`) on top. A module may import only from its own layer or
//! the ones below (the crate root, start-up and run, above them all; `fuzzing`, which drives start-up, on top);
//! a dialect's folder never imports another dialect's, and `ops` none of them; and no chain of imports between
//! the files comes back to where it started. The crate root's shared context (`State`,
//! `Config`) may be named from every layer.
//!
//! Every `crate::…` and `super::…` path in a file (in `use` lines and in code, brace groups expanded) is
//! resolved to the file that defines it; that file is the edge's target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The crate-root items every layer may name.
const CONTEXT: &[&str] = &["State", "Config"];

/// A module's layer rank: a module may import from ranks at or below its own.
fn rank(module: &[String]) -> Option<u8> {
    match module.first().map(String::as_str) {
        Some("http") => Some(0),
        Some("dialect") => Some(1),
        Some("ops") => Some(2),
        // rtmp/ is LiveChannel's second front end (RTMP ingest into the engine), beside the HTTP pipeline.
        Some("pipeline" | "workers" | "rtmp") => Some(3),
        None => Some(4),
        // The fuzz targets' entry points drive the whole server, start-up included.
        Some("fuzzing") => Some(5),
        Some(_) => None,
    }
}

/// The dialect folders.
const DIALECTS: &[&str] = &["oss", "s3", "cos", "obs"];

/// The module path of a source file, from its path below `src/`.
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The text without comments (line comments, doc comments) and string literals' contents, so that a path in
/// prose or a message is not taken for an import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_str {
                if c == '"' && prev != '\\' {
                    in_str = false;
                    out.push('"');
                }
                prev = if prev == '\\' && c == '\\' { ' ' } else { c };
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' {
                in_str = true;
            }
            out.push(c);
            prev = c;
        }
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands a path that may end in a brace group (`a::{b, c::{d}, self}`) into its full paths.
fn expand(prefix: &[String], s: &str, out: &mut Vec<Vec<String>>) {
    let s = s.trim();
    if s.is_empty() {
        return;
    }
    if let Some(inner) = s.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(prefix, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(prefix, &inner[start..], out);
        return;
    }
    let (head, rest) = match s.find("::") {
        Some(i) => (&s[..i], Some(&s[i + 2..])),
        None => (s, None),
    };
    let head = head.split_whitespace().next().unwrap_or("");
    let mut p = prefix.to_vec();
    if head != "self" && head != "*" && !head.is_empty() {
        p.push(head.to_string());
    }
    match rest {
        Some(r) => expand(&p, r, out),
        None => out.push(p),
    }
}

/// Every `crate::`/`super::` path in `code`, made absolute for a file whose module is `module`.
fn paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let at_word = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != ':';
        let rest: String = bytes[i..bytes.len().min(i + 8)].iter().collect();
        let start = if at_word && rest.starts_with("crate::") {
            Some((Vec::new(), 7))
        } else if at_word && rest.starts_with("super::") {
            let mut base = module.to_vec();
            let mut j = i;
            loop {
                let r: String = bytes[j..bytes.len().min(j + 7)].iter().collect();
                if r != "super::" {
                    break;
                }
                base.pop();
                j += 7;
            }
            Some((base, j - i))
        } else {
            None
        };
        let Some((base, skip)) = start else {
            i += 1;
            continue;
        };
        // The path runs over identifiers, `::` and one brace group (with its nesting).
        let mut j = i + skip;
        let mut depth = 0;
        while j < bytes.len() {
            let c = bytes[j];
            if c == '{' {
                depth += 1;
            } else if c == '}' {
                if depth == 0 {
                    break;
                }
                depth -= 1;
                if depth == 0 {
                    j += 1;
                    break;
                }
            } else if depth == 0 && !(is_ident(c) || c == ':') {
                break;
            }
            j += 1;
        }
        let text: String = bytes[i + skip..j].iter().collect();
        expand(&base, &text, &mut out);
        i = j.max(i + 1);
    }
    out
}

/// The defining module of `path`: its longest prefix that is a module; and the item named after it, if any.
fn resolve<'a>(modules: &'a BTreeSet<Vec<String>>, path: &[String]) -> Option<(&'a Vec<String>, Option<String>)> {
    (0..=path.len()).rev().find_map(|n| modules.get(&path[..n]).map(|m| (m, path.get(n).cloned())))
}

/// Checks a source tree given as (path below `src/`, text) pairs; returns every breach found.
fn check(files: &[(String, String)]) -> Vec<String> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(p, _)| module_of(p)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let mut errors = Vec::new();
    for (rel, text) in files {
        let from = module_of(rel);
        let code = code_only(text);
        // A file's inline `mod tests` sits one level down: its `super::` is the file itself.
        let (main, tests) = match code.find("mod tests {") {
            Some(i) => (&code[..i], &code[i..]),
            None => (&code[..], ""),
        };
        let mut test_module = from.clone();
        test_module.push("tests".into());
        let found = paths(&from, main).into_iter().chain(paths(&test_module, tests));
        for path in found {
            let Some((to, item)) = resolve(&modules, &path) else { continue };
            if *to == from {
                continue;
            }
            let name = |m: &[String]| if m.is_empty() { "crate".to_string() } else { m.join("::") };
            let (rf, rt) = (rank(&from), rank(to));
            let (Some(rf), Some(rt)) = (rf, rt) else {
                errors.push(format!("{rel}: {} is in no layer (add it to rank())", name(to)));
                continue;
            };
            let context = to.is_empty() && item.as_deref().is_some_and(|i| CONTEXT.contains(&i));
            if rt > rf && !context {
                errors.push(format!("{rel}: imports {} (a layer above it)", path.join("::")));
            }
            let dialect_of =
                |m: &[String]| (m.first().map(String::as_str) == Some("dialect")).then(|| m.get(1).cloned()).flatten();
            if let Some(d) = dialect_of(to).filter(|d| DIALECTS.contains(&d.as_str())) {
                let own = dialect_of(&from);
                if from.first().map(String::as_str) == Some("ops") {
                    errors.push(format!("{rel}: ops import the dialect folder {d}: {}", path.join("::")));
                } else if from.first().map(String::as_str) == Some("dialect")
                    && own.as_deref() != Some(d.as_str())
                    // dialect/mod.rs dispatches to every dialect; any other file of dialect/ stays in its own.
                    && from.len() > 1
                {
                    errors.push(format!("{rel}: imports another dialect's folder: {}", path.join("::")));
                }
            }
            if !context {
                edges.entry(from.clone()).or_default().insert(to.clone());
            }
        }
    }
    // No circle: a depth-first search over the file graph finds no edge back into its own stack.
    let mut state: BTreeMap<Vec<String>, u8> = BTreeMap::new();
    let mut stack: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
    for start in edges.keys() {
        if state.contains_key(start) {
            continue;
        }
        state.insert(start.clone(), 1);
        stack.push((start.clone(), edges[start].iter().cloned().collect()));
        while let Some((node, next)) = stack.last_mut() {
            let Some(n) = next.pop() else {
                state.insert(node.clone(), 2);
                stack.pop();
                continue;
            };
            match state.get(&n) {
                Some(1) => {
                    let mut cycle: Vec<String> =
                        stack.iter().map(|(m, _)| m.join("::")).skip_while(|m| *m != n.join("::")).collect();
                    cycle.push(n.join("::"));
                    errors.push(format!("import circle: {}", cycle.join(" -> ")));
                }
                Some(_) => {}
                None => {
                    state.insert(n.clone(), 1);
                    let out = edges.get(&n).map(|s| s.iter().cloned().collect()).unwrap_or_default();
                    stack.push((n, out));
                }
            }
        }
    }
    errors
}

fn read_tree(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read src").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_tree(&p, base, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(base).expect("below src").to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).expect("read file")));
        }
    }
}

#[test]
fn the_server_is_layered_without_circles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&src, &src, &mut files);
    for folder in ["http/mod.rs", "dialect/mod.rs", "ops/mod.rs", "pipeline.rs", "dialect/oss/mod.rs"] {
        assert!(files.iter().any(|(p, _)| p == folder), "{folder} is part of the layout");
    }
    let errors = check(&files);
    assert!(errors.is_empty(), "layering breaches:\n{}", errors.join("\n"));
}

fn tree(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
}

#[test]
fn the_check_finds_each_kind_of_breach() {
    let base = [
        ("lib.rs", "pub struct State; pub fn run() { crate::pipeline::go() }"),
        ("http/mod.rs", "pub mod req;"),
        ("http/req.rs", "use crate::State;"),
        ("dialect/mod.rs", "pub mod oss; pub mod s3; pub mod sign;"),
        ("dialect/sign.rs", "use crate::http::req::Req;"),
        ("dialect/oss/mod.rs", "use crate::dialect::sign;"),
        ("dialect/s3/mod.rs", "use super::sign::{self, user};"),
        ("ops/mod.rs", "pub mod a; pub mod b;"),
        ("ops/a.rs", "use super::b::x; use crate::dialect::sign;"),
        ("ops/b.rs", "// crate::ops::a::y in a comment is no import\nfn f() { let s = \"crate::ops::a\"; }"),
        ("pipeline.rs", "use crate::{dialect, ops::{a, b}};"),
    ];
    assert_eq!(check(&tree(&base)), Vec::<String>::new());
    let with = |path: &str, text: &str| {
        let mut t = tree(&base);
        t.iter_mut().find(|(p, _)| p == path).expect("in the tree").1 = text.to_string();
        check(&t)
    };
    let one = |errors: Vec<String>, what: &str| {
        assert!(errors.iter().any(|e| e.contains(what)), "{what} not in {errors:?}");
    };
    one(with("http/req.rs", "use crate::ops::a;"), "a layer above");
    one(with("http/req.rs", "fn f() { crate::dialect::sign::user(); }"), "a layer above");
    one(with("http/req.rs", "use crate::run;"), "a layer above");
    one(with("dialect/oss/mod.rs", "use crate::dialect::s3;"), "another dialect's folder");
    one(with("dialect/s3/mod.rs", "use super::oss::auth;"), "another dialect's folder");
    one(with("dialect/sign.rs", "use super::oss;"), "another dialect's folder");
    one(with("ops/a.rs", "use crate::dialect::{sign, oss::x};"), "ops import the dialect folder");
    one(with("ops/b.rs", "use super::a::z;"), "import circle");
    one(with("dialect/sign.rs", "use crate::pipeline;"), "a layer above");
}
