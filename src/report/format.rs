//! Output formats, number formatting shared by every table, and atomic file writing.

use crate::error::Result;
use std::path::Path;

/// The formats every command can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A readable table for the terminal.
    Table,
    /// JSON with the keys of cli.md.
    Json,
    /// GitHub-flavoured Markdown tables.
    Md,
    /// LaTeX tables (booktabs), ready for `\input`.
    Tex,
    /// CSV (long format: group, name, value).
    Csv,
}

/// A number with `digits` significant digits, fixed-point for moderate magnitudes and scientific
/// otherwise; the same bits always print the same text.
///
/// ```
/// use occam::report::format::significant;
/// assert_eq!(significant(-2405.771307, 6), "-2405.77");
/// assert_eq!(significant(0.000123456, 3), "0.000123");
/// assert_eq!(significant(1.5e-9, 3), "1.50e-9");
/// assert_eq!(significant(0.0, 3), "0");
/// ```
pub fn significant(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return x.to_string();
    }
    let exponent = x.abs().log10().floor() as i32;
    if (-4..9).contains(&exponent) {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        let text = format!("{x:.decimals$}");
        // Rounding can carry into a new leading digit (9.99996 → 10.0000): drop one decimal.
        let carried = text
            .trim_start_matches('-')
            .parse::<f64>()
            .is_ok_and(|v| v >= 10f64.powi(exponent + 1));
        if carried && decimals > 0 {
            format!("{x:.*}", decimals - 1)
        } else {
            text
        }
    } else {
        format!("{:.*e}", digits.saturating_sub(1), x)
    }
}

/// A value as a pretty-printed JSON document ending in a newline: the one serialisation every
/// JSON output of occam goes through.
///
/// serde_json fails only for maps with non-string keys or `Serialize` impls that fail, neither of
/// which occam's outputs have; the fallback is still valid JSON rather than a panic.
pub fn json_document<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    text.push('\n');
    text
}

/// Escapes text for LaTeX.
pub fn tex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\textbackslash{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            _ => out.push(c),
        }
    }
    out
}

/// A number for a LaTeX table cell: math mode, with a true minus sign.
pub fn tex_number(x: f64, digits: usize) -> String {
    let text = significant(x, digits);
    match text.split_once('e') {
        Some((mantissa, exp)) => format!("${mantissa}\\times10^{{{exp}}}$"),
        None => format!("${text}$"),
    }
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Escapes a Markdown table cell.
pub fn md_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Writes `contents` to the file `path` safely: atomically through a staging file for a regular
/// file (keeping its permissions), through a symlink to its target, straight into a device or
/// FIFO; see [`crate::files::write_file`], which also refuses an output that is an input.
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    crate::files::write_file(path, contents.as_bytes(), &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(9.99996, 5), "10.000");
        assert_eq!(significant(-0.5, 3), "-0.500");
        assert_eq!(significant(123456789012.0, 4), "1.235e11");
        assert_eq!(significant(42.0, 6), "42.0000");
    }
}
