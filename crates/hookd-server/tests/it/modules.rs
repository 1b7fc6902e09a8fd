//! The shape of hookd-server's modules, read from `src/`: no two import each other, directly or
//! round a circle; config, signing, the clock and `error_chain` import nothing of the crate;
//! background work (commit loop, worker, sweep, challenge) never reaches the HTTP layer.
//!
//! An edge is a `crate::`, `super::`, `self::` or child-module path in a `use` or in code,
//! resolved to the longest module it names. `#[cfg(test)] mod tests` (kept at a file's end)
//! and comments do not count: a unit test may reach wherever it likes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module's path in the crate: `[]` for the root, `["worker", "lanes"]`.
type Module = Vec<String>;

/// Who imports whom, and where: `(from, to)` to the first `file:line` that does.
struct Graph {
    modules: BTreeSet<Module>,
    edges: BTreeMap<(Module, Module), String>,
}

/// What a module's `pub use` re-exports: `(module, item)` to the module the item is from, so
/// that `crate::api::ApiError` counts as an import of `api::error`, not of `api`.
type Reexports = BTreeMap<(Module, String), Module>;

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

/// Builds the graph of the `.rs` files below `src`.
fn read_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    collect(src, src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|(m, _, _)| m.clone()).collect();
    // Until nothing changes: a re-export may name another.
    let mut reexports = Reexports::new();
    loop {
        let mut next = Reexports::new();
        for (module, _, text) in &files {
            for (path, _, public) in paths(&strip(text)) {
                if let (true, Some(to), Some(item)) = (
                    public,
                    resolve(&modules, &reexports, module, &path),
                    path.last(),
                ) {
                    next.insert((module.clone(), item.clone()), to);
                }
            }
        }
        if next == reexports {
            break;
        }
        reexports = next;
    }
    let mut edges = BTreeMap::new();
    for (module, file, text) in &files {
        for (path, line, _) in paths(&strip(text)) {
            if let Some(to) = resolve(&modules, &reexports, module, &path)
                && to != *module
            {
                edges
                    .entry((module.clone(), to))
                    .or_insert_with(|| format!("{file}:{line}"));
            }
        }
    }
    Graph { modules, edges }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(Module, String, String)>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let mut module: Module = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(String::from)
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            out.push((module, format!("src/{rel}"), text));
        }
    }
}

/// The file without comments and without its unit tests, lines kept in place.
fn strip(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = (0..lines.len())
        .find(|&i| {
            lines[i].trim() == "#[cfg(test)]"
                && lines
                    .get(i + 1)
                    .is_some_and(|l| l.trim_start().starts_with("mod tests"))
        })
        .unwrap_or(lines.len());
    let mut out = String::new();
    for line in &lines[..end] {
        out.push_str(line.split("//").next().unwrap_or(""));
        out.push('\n');
    }
    out
}

/// Every path in `text` with the line it starts on and whether a `pub use` re-exports it: the
/// leaves of each `use` tree, and each `a::b::c` chain in code (a last segment followed by `(`
/// or `!` is a function or macro).
fn paths(text: &str) -> Vec<(Vec<String>, usize, bool)> {
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = find_use(rest) {
        let end = start + rest[start..].find(';').unwrap_or(rest.len() - start);
        let line = line_of(offset + start);
        let public = rest[..start].trim_end_matches(' ').ends_with(['b', ')']);
        chains(&rest[..start], offset, &line_of, &mut out);
        let mut leaves = Vec::new();
        flatten(rest[start + 4..end].trim(), &[], &mut leaves);
        out.extend(leaves.into_iter().map(|leaf| (leaf, line, public)));
        offset += end;
        rest = &rest[end..];
    }
    chains(rest, offset, &line_of, &mut out);
    out
}

/// Where the next `use` statement starts (its `use` keyword).
fn find_use(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find("use ") {
        let at = from + at;
        let before = text[..at].trim_end_matches(' ');
        let starts_item = before.is_empty()
            || before.ends_with('\n')
            || before.ends_with("pub")
            || before.ends_with(')') && before.trim_end_matches(|c| c != '(').ends_with("pub(");
        if starts_item {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// The leaf paths of a use tree such as `crate::api::{self, error::X, Y as Z}`.
fn flatten(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let mut head = prefix.to_vec();
        head.extend(segments(&tree[..open]));
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let (mut depth, mut from) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    flatten(&inner[from..i], &head, out);
                    from = i + 1;
                }
                _ => {}
            }
        }
        flatten(&inner[from..], &head, out);
    } else if !tree.is_empty() {
        let mut path = prefix.to_vec();
        path.extend(segments(tree.split(" as ").next().unwrap_or("")));
        out.push(path);
    }
}

fn segments(path: &str) -> impl Iterator<Item = String> + '_ {
    path.split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "*" && *s != "self")
        .map(String::from)
}

/// The `a::b` chains of code, each with the line it is on.
fn chains(
    text: &str,
    offset: usize,
    line_of: &dyn Fn(usize) -> usize,
    out: &mut Vec<(Vec<String>, usize, bool)>,
) {
    let bytes = text.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let starts =
            is_ident(bytes[i]) && (i == 0 || !is_ident(bytes[i - 1]) && !text[..i].ends_with("::"));
        if !starts {
            i += 1;
            continue;
        }
        let start = i;
        let mut path = Vec::new();
        loop {
            let from = i;
            while i < bytes.len() && is_ident(bytes[i]) {
                i += 1;
            }
            path.push(text[from..i].to_owned());
            if text[i..].starts_with("::") && bytes.get(i + 2).copied().is_some_and(is_ident) {
                i += 2;
            } else {
                break;
            }
        }
        let chained = path.len() >= 2;
        if matches!(bytes.get(i), Some(b'(' | b'!')) {
            path.pop();
        }
        if chained {
            out.push((path, line_of(offset + start), false));
        }
    }
}

/// The module `path`, written in `from`, names: the longest known module it starts with, or
/// where the item after that is re-exported from.
fn resolve(
    modules: &BTreeSet<Module>,
    reexports: &Reexports,
    from: &Module,
    path: &[String],
) -> Option<Module> {
    let mut base: Module = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "super" | "self" => from.clone(),
        child if modules.contains(&[from.as_slice(), &[child.to_owned()]].concat()) => from.clone(),
        _ => return None,
    };
    let mut rest = path;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "crate" | "self" => {}
            "super" => {
                base.pop();
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    let mut found = base.clone();
    for segment in rest {
        base.push(segment.clone());
        if modules.contains(&base) {
            found = base.clone();
        } else if let Some(origin) = reexports.get(&(found.clone(), segment.clone())) {
            return Some(origin.clone());
        } else {
            break;
        }
    }
    Some(found)
}

impl Graph {
    fn imports(&self, module: &Module) -> Vec<&Module> {
        self.edges
            .keys()
            .filter(|(from, _)| from == module)
            .map(|(_, to)| to)
            .collect()
    }

    /// One circle of imports for each group of modules that reach each other, as
    /// `a -> b (file:line) -> a (file:line)`.
    fn cycles(&self) -> Vec<String> {
        let mut reported: BTreeSet<Module> = BTreeSet::new();
        let mut out = Vec::new();
        for start in &self.modules {
            if reported.contains(start) {
                continue;
            }
            if let Some(circle) = self.circle_through(start) {
                reported.extend(circle.iter().cloned());
                let mut text = name(start);
                for pair in circle.windows(2) {
                    let at = &self.edges[&(pair[0].clone(), pair[1].clone())];
                    text.push_str(&format!(" -> {} ({at})", name(&pair[1])));
                }
                out.push(text);
            }
        }
        out
    }

    /// The shortest path of imports from `start` back to itself, both ends included.
    fn circle_through(&self, start: &Module) -> Option<Vec<Module>> {
        let mut came_from: BTreeMap<Module, Module> = BTreeMap::new();
        let mut frontier = vec![start.clone()];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for module in frontier {
                for to in self.imports(&module) {
                    if to == start {
                        let mut back = vec![module.clone()];
                        while back.last() != Some(start) {
                            back.push(came_from[back.last().unwrap()].clone());
                        }
                        back.reverse();
                        back.push(start.clone());
                        return Some(back);
                    }
                    if !came_from.contains_key(to) {
                        came_from.insert(to.clone(), module.clone());
                        next.push(to.clone());
                    }
                }
            }
            frontier = next;
        }
        None
    }

    /// Everything `module` reaches through imports, with the path it takes.
    fn reach(&self, module: &Module) -> BTreeMap<Module, Vec<Module>> {
        let mut seen: BTreeMap<Module, Vec<Module>> = BTreeMap::new();
        let mut stack = vec![vec![module.clone()]];
        while let Some(path) = stack.pop() {
            for to in self.imports(path.last().unwrap()) {
                if !seen.contains_key(to) {
                    let mut longer = path.clone();
                    longer.push(to.clone());
                    seen.insert(to.clone(), longer.clone());
                    stack.push(longer);
                }
            }
        }
        seen
    }
}

fn graph() -> Graph {
    read_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

fn module(path: &str) -> Module {
    path.split("::").map(String::from).collect()
}

#[test]
fn no_modules_of_the_server_import_each_other_in_a_circle() {
    let graph = graph();
    assert!(
        graph.edges.len() > 20,
        "the reader found too few imports to judge: {:?}",
        graph.edges.keys().collect::<Vec<_>>()
    );
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "modules that import each other:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn config_signing_the_clock_and_error_chain_import_nothing_of_the_crate() {
    let graph = graph();
    for leaf in ["config", "signing", "clock", "error_chain"] {
        let leaf = module(leaf);
        assert!(graph.modules.contains(&leaf), "no module {}", name(&leaf));
        let imports: Vec<String> = graph.imports(&leaf).into_iter().map(name).collect();
        assert!(imports.is_empty(), "{} imports {imports:?}", name(&leaf));
    }
}

#[test]
fn background_work_never_reaches_the_http_layer() {
    let graph = graph();
    let api = module("api");
    let background = graph.modules.iter().filter(|m| {
        matches!(
            m.first().map(String::as_str),
            Some("commit" | "worker" | "sweep" | "challenge")
        )
    });
    for from in background {
        let reach = graph.reach(from);
        if let Some((_, path)) = reach.iter().find(|(to, _)| to.starts_with(&api)) {
            let path: Vec<String> = path.iter().map(name).collect();
            panic!(
                "{} reaches the HTTP layer: {}",
                name(from),
                path.join(" -> ")
            );
        }
    }
}

#[test]
fn the_module_reader_sees_a_circle_and_a_use_tree() {
    let modules: BTreeSet<Module> = [vec![], module("a"), module("b"), module("b::c")].into();
    let text = "use crate::{a, b::c::{self, X}};\nfn f() { super::b::g(); c::h(); }\n";
    let found: Vec<Option<Module>> = paths(&strip(text))
        .into_iter()
        .map(|(path, _, _)| resolve(&modules, &Reexports::new(), &module("b"), &path))
        .collect();
    assert_eq!(
        found,
        [
            Some(module("a")),
            Some(module("b::c")),
            Some(module("b::c")),
            Some(module("b")),
            Some(module("b::c"))
        ]
    );
    let graph = Graph {
        modules,
        edges: [
            ((module("a"), module("b")), "a.rs:1".to_owned()),
            ((module("b"), module("b::c")), "b.rs:1".to_owned()),
            ((module("b::c"), module("a")), "c.rs:2".to_owned()),
        ]
        .into(),
    };
    assert_eq!(
        graph.cycles(),
        ["a -> b (a.rs:1) -> b::c (b.rs:1) -> a (c.rs:2)"]
    );
}
