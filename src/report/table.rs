//! A plain table — named columns with units, rows of text and numbers — rendered as Markdown,
//! LaTeX (booktabs), CSV and JSON. The studies of `occam report` are made of these.

use super::command::Command;
use super::format::{csv_field, json_document, md_cell, tex_escape};
use crate::error::Setting;
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number, shown with this many decimals in Markdown and LaTeX (full precision in CSV/JSON).
    Number(f64, usize),
    /// A whole number.
    Count(usize),
    /// Not defined for this row.
    Empty,
}

impl Cell {
    /// A number with `decimals` decimals in the rendered tables.
    pub fn num(value: f64, decimals: usize) -> Self {
        Cell::Number(value, decimals)
    }

    /// An optional number.
    pub fn opt(value: Option<f64>, decimals: usize) -> Self {
        value.map_or(Cell::Empty, |v| Cell::Number(v, decimals))
    }

    /// Text.
    pub fn text(value: impl Into<String>) -> Self {
        Cell::Text(value.into())
    }

    fn display(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Number(v, d) if v.is_finite() => format!("{v:.d$}"),
            Cell::Number(v, _) => v.to_string(),
            Cell::Count(c) => c.to_string(),
            Cell::Empty => "—".into(),
        }
    }

    fn raw(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Number(v, _) => v.to_string(),
            Cell::Count(c) => c.to_string(),
            Cell::Empty => String::new(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(t) => json!(t),
            Cell::Number(v, _) if v.is_finite() => json!(v),
            Cell::Count(c) => json!(c),
            _ => Value::Null,
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Cell::Number(..) | Cell::Count(_))
    }
}

/// A column: a machine key (CSV/JSON), a human header, and a unit for the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The CSV/JSON key.
    pub key: String,
    /// The header shown in Markdown.
    pub header: String,
    /// The header in LaTeX (math allowed).
    pub tex_header: String,
    /// Numbers set in LaTeX math mode (`$1.23$`, the default) rather than as plain text.
    pub tex_math: bool,
}

impl Column {
    /// A column whose LaTeX header is the escaped Markdown one.
    pub fn new(key: &str, header: &str) -> Self {
        Column {
            key: key.into(),
            header: header.into(),
            tex_header: tex_escape(header),
            tex_math: true,
        }
    }

    /// A column with a LaTeX header of its own.
    pub fn with_tex(key: &str, header: &str, tex_header: &str) -> Self {
        Column {
            key: key.into(),
            header: header.into(),
            tex_header: tex_header.into(),
            tex_math: true,
        }
    }

    /// The column with its numbers as plain text in LaTeX.
    pub fn plain_tex_numbers(self) -> Self {
        Column {
            tex_math: false,
            ..self
        }
    }
}

/// A named table with its caption and the command that regenerates it.
#[derive(Debug, Clone)]
pub struct Table {
    /// File stem under `tables/`.
    pub name: String,
    /// One sentence saying what the table shows.
    pub caption: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows.
    pub rows: Vec<Vec<Cell>>,
    /// The command that computes the numbers (an `occam compare`, `fit` or `convert` a reader
    /// can rerun and vary).
    pub command: String,
    /// Warnings about the numbers (e.g. which MML87 form a two_part value used), shown under the
    /// table in report.md and kept in the JSON.
    pub notes: Vec<String>,
    /// The command that reproduces this table's files byte for byte, when there is one (the
    /// report's, given the table): given the format EXT as well, it prints `tables/NAME.EXT`.
    pub regenerate: Option<Command>,
}

impl Table {
    /// An empty table.
    pub fn new(
        name: &str,
        caption: &str,
        columns: Vec<Column>,
        command: impl Into<String>,
    ) -> Self {
        Table {
            name: name.into(),
            caption: caption.into(),
            columns,
            rows: Vec::new(),
            command: command.into(),
            notes: Vec::new(),
            regenerate: None,
        }
    }

    /// Adds a note, once.
    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// The table in one of the file formats of [`Table::FORMATS`] (`None` for any other).
    pub fn render(&self, format: &str) -> Option<String> {
        match format {
            "md" => Some(self.to_markdown()),
            "tex" => Some(self.to_tex()),
            "csv" => Some(self.to_csv()),
            "json" => Some(self.to_json()),
            _ => None,
        }
    }

    /// The file formats a table renders to, as file extensions.
    pub const FORMATS: [&'static str; 4] = ["md", "tex", "csv", "json"];

    /// The command that writes this table in `format` byte for byte, if there is one.
    pub fn regenerate_command(&self, format: &str) -> Option<String> {
        self.regenerate
            .as_ref()
            .map(|command| command.clone().with(Setting::Format, format).to_string())
    }

    /// Adds a row (as many cells as columns).
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(
            row.len(),
            self.columns.len(),
            "row width in table {}",
            self.name
        );
        self.rows.push(row);
    }

    fn numeric_column(&self, c: usize) -> bool {
        self.rows.iter().any(|r| r[c].is_numeric())
            && self
                .rows
                .iter()
                .all(|r| r[c].is_numeric() || r[c] == Cell::Empty)
    }

    /// GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let headers: Vec<String> = self.columns.iter().map(|c| md_cell(&c.header)).collect();
        let _ = writeln!(out, "| {} |", headers.join(" | "));
        let aligns: Vec<&str> = (0..self.columns.len())
            .map(|c| {
                if self.numeric_column(c) {
                    "---:"
                } else {
                    "---"
                }
            })
            .collect();
        let _ = writeln!(out, "|{}|", aligns.join("|"));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| md_cell(&c.display())).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out
    }

    /// LaTeX with booktabs, ready for `\input`.
    pub fn to_tex(&self) -> String {
        // The header is comments: the caption, how to rebuild the file, and its one package.
        let mut out = format!("% {}\n", tex_escape(&self.caption));
        if let Some(command) = self.regenerate_command("tex") {
            let _ = writeln!(out, "% regenerate: {command}");
            let _ = writeln!(out, "% numbers: {}", self.command);
        } else {
            let _ = writeln!(out, "% regenerate: {}", self.command);
        }
        out.push_str("% requires \\usepackage{booktabs}\n");
        out + &self.to_tex_tabular()
    }

    /// The `tabular` environment alone (booktabs rules), without the comment lines of
    /// [`Table::to_tex`].
    pub fn to_tex_tabular(&self) -> String {
        let spec: String = (0..self.columns.len())
            .map(|c| if self.numeric_column(c) { 'r' } else { 'l' })
            .collect();
        let mut out = format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n");
        let headers: Vec<&str> = self.columns.iter().map(|c| c.tex_header.as_str()).collect();
        let _ = writeln!(out, "{} \\\\\n\\midrule", headers.join(" & "));
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&self.columns)
                .map(|(cell, column)| match cell {
                    Cell::Text(t) => tex_escape(t),
                    Cell::Empty => "---".into(),
                    other if column.tex_math => format!("${}$", other.display()),
                    other => other.display(),
                })
                .collect();
            let _ = writeln!(out, "{} \\\\", cells.join(" & "));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        out
    }

    /// CSV with the column keys as header and full-precision numbers.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let keys: Vec<String> = self.columns.iter().map(|c| csv_field(&c.key)).collect();
        let _ = writeln!(out, "{}", keys.join(","));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| csv_field(&c.raw())).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }

    /// JSON: `{ "name", "caption", "command", "rows": [ {key: value, …}, … ], "notes": […] }`,
    /// and `"regenerate"` when the table has such a command.
    pub fn to_json(&self) -> String {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut object = Map::new();
                for (c, cell) in self.columns.iter().zip(row) {
                    object.insert(c.key.clone(), cell.json());
                }
                Value::Object(object)
            })
            .collect();
        let mut document = json!({
            "schema": 1, "name": self.name, "caption": self.caption, "command": self.command, "rows": rows,
            "notes": self.notes,
        });
        if let Some(command) = self.regenerate_command("json") {
            document["regenerate"] = json!(command);
        }
        json_document(&document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::LibraryNames;

    fn sample() -> Table {
        let mut t = Table::new(
            "t",
            "A test, 50% done",
            vec![
                Column::new("name", "name"),
                Column::with_tex("bits", "bits", "Bits [b]"),
            ],
            "occam x",
        );
        t.push(vec![Cell::text("a_b"), Cell::num(1.23456, 2)]);
        t.push(vec![Cell::text("c|d"), Cell::Empty]);
        t
    }

    #[test]
    fn renders_every_format() {
        let t = sample();
        assert!(t.to_markdown().contains("| a_b | 1.23 |") && t.to_markdown().contains("c\\|d"));
        assert!(t.to_markdown().contains("|---|---:|"));
        let tex = t.to_tex();
        assert!(
            tex.contains("a\\_b & $1.23$") && tex.contains("\\toprule") && tex.contains("50\\%")
        );
        assert_eq!(t.to_csv(), "name,bits\na_b,1.23456\nc|d,\n");
        let v: Value = serde_json::from_str(&t.to_json()).unwrap();
        assert_eq!(v["rows"][0]["bits"], 1.23456);
        assert!(v["rows"][1]["bits"].is_null());
        assert!(v.get("regenerate").is_none());
        assert!(tex.contains("% regenerate: occam x\n"));
        for format in Table::FORMATS {
            assert!(t.render(format).is_some());
        }
        assert!(t.render("pdf").is_none());
    }

    #[test]
    fn a_regenerate_command_names_each_files_format() {
        let mut t = sample();
        t.regenerate = Some(Command::occam("report", &LibraryNames).with(Setting::Table, "t"));
        assert!(t.to_tex().starts_with(
            "% A test, 50\\% done\n% regenerate: occam report table = t format = tex\n% numbers: occam x\n% requires \\usepackage{booktabs}\n"
        ));
        let v: Value = serde_json::from_str(&t.to_json()).unwrap();
        assert_eq!(v["regenerate"], "occam report table = t format = json");
        assert_eq!(v["command"], "occam x");
    }
}
