//! The report of `occam datasets`: the built-in data sets with n, k, task and provenance — a
//! [`Table`] in Markdown, LaTeX and CSV, a JSON document, and a terminal listing.

use super::command::Command;
use super::format::{json_document, OutputFormat};
use super::table::{Cell, Column, Table};
use crate::data::{BuiltinDataset, BUILTINS};
use crate::error::{Setting, SettingNames};

/// Rows n and features k of a built-in: its CSV's non-blank lines less the header, and its
/// columns less the target.
fn shape(dataset: &BuiltinDataset) -> (usize, usize) {
    let lines = dataset.csv.lines().filter(|l| !l.trim().is_empty()).count();
    let columns = dataset
        .csv
        .lines()
        .next()
        .map_or(0, |h| h.split(',').count());
    (lines - 1, columns - 1)
}

/// The built-ins as a table (the target is in the JSON and terminal forms only).
fn table() -> Table {
    let mut table = Table::new(
        "datasets",
        "The built-in data sets.",
        vec![
            Column::with_tex("name", "name", "Name"),
            Column::with_tex("n", "n", "$n$").plain_tex_numbers(),
            Column::with_tex("k", "k", "$k$").plain_tex_numbers(),
            Column::with_tex("task", "task", "Task"),
            Column::with_tex("provenance", "provenance", "Provenance"),
        ],
        "occam datasets",
    );
    for dataset in BUILTINS {
        let (n, k) = shape(dataset);
        table.push(vec![
            Cell::text(dataset.name),
            Cell::Count(n),
            Cell::Count(k),
            Cell::text(dataset.task),
            Cell::text(dataset.provenance),
        ]);
    }
    table
}

/// The built-in data sets in `format`.
pub fn render_datasets(format: OutputFormat, names: &'static dyn SettingNames) -> String {
    match format {
        OutputFormat::Md => table().to_markdown(),
        OutputFormat::Csv => table().to_csv(),
        OutputFormat::Tex => table().to_tex_tabular(),
        OutputFormat::Json => {
            let list: Vec<serde_json::Value> = BUILTINS
                .iter()
                .map(|b| {
                    let (n, k) = shape(b);
                    serde_json::json!({
                        "name": b.name, "n": n, "k": k,
                        "task": b.task, "target": b.target, "provenance": b.provenance,
                    })
                })
                .collect();
            json_document(&serde_json::json!({ "schema": 1, "datasets": list }))
        }
        OutputFormat::Table => {
            let mut text = String::new();
            for b in BUILTINS {
                let (n, k) = shape(b);
                text += &format!(
                    "{:<14} n = {n:>4}  k = {k:>2}  {}\n{:<14} target: {}\n{:<14} {}\n\n",
                    b.name, b.task, "", b.target, "", b.provenance
                );
            }
            let example = Command::occam("fit", names).with(Setting::Data, "diabetes");
            format!(
                "{text}use one with {}, e.g. {example}\n",
                names.assignment(Setting::Data, "NAME")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_forms_keep_their_layout() {
        let md = render_datasets(OutputFormat::Md, &crate::error::LibraryNames);
        assert!(md.starts_with("| name | n | k | task | provenance |\n|---|---:|---:|---|---|\n| diabetes | 442 | 10 |"));
        let tex = render_datasets(OutputFormat::Tex, &crate::error::LibraryNames);
        assert!(tex.starts_with("\\begin{tabular}{lrrll}\n\\toprule\nName & $n$ & $k$ & Task & Provenance \\\\\n\\midrule\ndiabetes & 442 & 10 & "));
        assert!(tex.ends_with("\\bottomrule\n\\end{tabular}\n"));
        let csv = render_datasets(OutputFormat::Csv, &crate::error::LibraryNames);
        assert!(csv.starts_with("name,n,k,task,provenance\ndiabetes,442,10,"));
        assert_eq!(csv.lines().count(), BUILTINS.len() + 1);
    }
}
