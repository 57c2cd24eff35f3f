//! Output formats, number formatting shared by every table, and atomic file writing.

use crate::error::{OccamError, Result};
use std::io::Write;
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
    /// CSV: fit as group,name,value rows; compare one row per prior; convert one row per knob.
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

/// Writes `contents` to `path` atomically: a temporary file in the same directory, then a rename,
/// so a failure never leaves a partial file at `path`.
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let fail = |source: std::io::Error| OccamError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| fail(std::io::Error::other("not a file name")))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(contents.as_bytes())?;
            f.sync_all()
        })
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
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

    #[test]
    fn atomic_write_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/out.json");
        assert!(write_atomic(&missing, "x").is_err());
        let ok = dir.path().join("out.json");
        write_atomic(&ok, "{}").unwrap();
        assert_eq!(std::fs::read_to_string(&ok).unwrap(), "{}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
