//! The library's one-way flow, checked mechanically: no module of `src/` reaches a module above it.
//!
//! The order, lowest first (README, "Layout"): the foundations (`error`, `files`, `memory`,
//! `progress`, `random`, `special`, `linalg`, which may use one another) → `data` → `prior` →
//! `model` → `simulate` → `inference` → `codelength` → `fit` → `compare` → `report` → `run` →
//! the command line (`cli`, in the binary). A module may use its own layer and those below it.
//!
//! What counts as a use: a path `crate::X` (including each name of a `use crate::{…}` group) and
//! a `super::` chain that climbs out of the file's top-level module. Comments and test code (a
//! `#[cfg(test)] mod tests` block, a `tests.rs` file, `testing.rs`) are not read: tests may use
//! anything. Run it alone with `cargo test --test layering`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module's layer; equal numbers may use each other.
const LAYERS: &[(&str, usize)] = &[
    ("error", 0),
    ("files", 0),
    ("memory", 0),
    ("progress", 0),
    ("random", 0),
    ("special", 0),
    ("linalg", 0),
    ("data", 1),
    ("prior", 2),
    ("model", 3),
    ("simulate", 4),
    ("inference", 5),
    ("codelength", 6),
    ("fit", 7),
    ("compare", 8),
    ("report", 9),
    ("run", 10),
    ("cli", 11),
];

fn layer(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The file's module path below the crate root: `src/model/mlp/problem.rs` → [model, mlp,
/// problem], `src/model/mlp/mod.rs` → [model, mlp].
fn module_path(relative: &Path) -> Vec<String> {
    let mut segments: Vec<String> = relative
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = segments.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" {
        segments.push(stem.to_string());
    }
    segments
}

/// The file's code, line for line, with comments blanked and its test module cut off.
fn code_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut code = String::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]")
            && lines
                .get(i + 1)
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        if !trimmed.starts_with("//") {
            code.push_str(line.split(" // ").next().unwrap_or(line));
        }
        code.push('\n');
    }
    code
}

/// The 1-based line of byte `offset` in `code`.
fn line_of(code: &str, offset: usize) -> usize {
    code[..offset].matches('\n').count() + 1
}

/// Identifiers right after each `crate::` in `code` (one per name of a `crate::{…}` group, which
/// may span lines), with their byte offsets.
fn crate_targets(code: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    let mut offset = 0;
    while let Some(at) = code[offset..].find("crate::") {
        let start = offset + at;
        let before = code[..start].chars().next_back();
        offset = start + "crate::".len();
        // `$crate::` in a macro, or a longer identifier ending in `crate`.
        if before.is_some_and(|c| c == '$' || c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[offset..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group only: a nested `x::{…}` keeps its head `x`.
            let mut depth = 0;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        push_head(&mut targets, start, &name);
                        name.clear();
                    }
                    _ if depth == 0 => name.push(c),
                    _ => {}
                }
            }
            push_head(&mut targets, start, &name);
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            targets.push((start, name));
        }
    }
    targets
}

/// The first segment of a `use` group's entry, if any.
fn push_head(targets: &mut Vec<(usize, String)>, offset: usize, entry: &str) {
    let head = entry.trim().split("::").next().unwrap_or("").trim();
    if !head.is_empty() {
        targets.push((offset, head.to_string()));
    }
}

/// The top-level module a `super::super::…::X` chain in `code` reaches, for each chain that
/// climbs to the crate root from a file at `path`, with their byte offsets.
fn super_targets(code: &str, path: &[String]) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    let mut offset = 0;
    while let Some(at) = code[offset..].find("super::") {
        let start = offset + at;
        let before = code[..start].chars().next_back();
        offset = start + "super::".len();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut chain = &code[start..];
        let mut climbs = 0;
        while let Some(after) = chain.strip_prefix("super::") {
            climbs += 1;
            chain = after;
        }
        offset = code.len() - chain.len();
        if climbs >= path.len() {
            let name: String = chain
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            targets.push((start, name));
        }
    }
    targets
}

#[test]
fn no_module_uses_a_module_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut violations = BTreeSet::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap();
        let path = module_path(relative);
        let Some(top) = path.first() else { continue };
        // The crate roots, and test-only files.
        if matches!(top.as_str(), "lib" | "main" | "testing")
            || path.last().is_some_and(|m| m == "tests")
        {
            continue;
        }
        let own = layer(top).unwrap_or_else(|| {
            panic!(
                "{}: module '{top}' has no layer in LAYERS",
                relative.display()
            )
        });
        checked += 1;
        let code = code_of(&fs::read_to_string(file).unwrap());
        let targets = crate_targets(&code)
            .into_iter()
            .chain(super_targets(&code, &path));
        for (offset, target) in targets {
            if let Some(theirs) = layer(&target).filter(|theirs| *theirs > own) {
                violations.insert(format!(
                    "{}:{}: {top} (layer {own}) uses {target} (layer {theirs})",
                    relative.display(),
                    line_of(&code, offset)
                ));
            }
        }
    }
    assert!(checked > 50, "only {checked} source files found under src/");
    assert!(
        violations.is_empty(),
        "{} use(s) against the flow:\n{}",
        violations.len(),
        violations.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_reader_sees_crate_paths_groups_and_climbing_supers() {
    let names = |found: Vec<(usize, String)>| found.into_iter().map(|(_, n)| n).collect::<Vec<_>>();
    assert_eq!(
        names(crate_targets(
            "use crate::{\n    data::Dataset,\n    model::{a, b},\n    error,\n};"
        )),
        ["data", "model", "error"]
    );
    assert_eq!(
        names(crate_targets("x = $crate::fit::y + crate::report::z")),
        ["report"]
    );
    let path = ["model".to_string(), "logistic".to_string()];
    assert!(super_targets("use super::LastEvaluation;", &path).is_empty());
    assert_eq!(
        names(super_targets("use super::super::fit::X;", &path)),
        ["fit"]
    );
    assert_eq!(line_of("a\nb\ncrate::x", 4), 3);
}
