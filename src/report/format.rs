//! Output formats, number formatting shared by every table, and atomic file writing.

use crate::error::Result;
use std::fmt::Write as _;
use std::path::Path;

/// The formats every command can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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

/// Escapes text for LaTeX so that it compiles with pdflatex and nothing but the packages a table
/// states (booktabs): the ten special characters, the three ASCII characters that print as other
/// glyphs in LaTeX's default OT1 text font (`|`, `<`, `>`), and every non-ASCII character occam
/// writes (Greek letters, math symbols, dashes, quotes) as its LaTeX command — pdflatex stops with
/// "Unicode character … not set up for use with LaTeX" on a raw λ or −.
///
/// Latin letters with accents (é, ü, ß, …) pass through: LaTeX's default UTF-8 input (since 2018)
/// sets them. Any other character is written as its code point in typewriter type (`U+2603`),
/// so a table always compiles and still shows what was there.
///
/// ```
/// use occam::report::format::tex_escape;
/// assert_eq!(tex_escape("50% of a_b"), r"50\% of a\_b");
/// assert_eq!(tex_escape("λ − 1"), r"$\lambda$ $-$ 1");
/// assert_eq!(tex_escape("|w|"), r"\textbar{}w\textbar{}");
/// ```
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
            '|' => out.push_str("\\textbar{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            c if c.is_ascii() => out.push(c),
            c => match tex_text_symbol(c) {
                Some(command) => out.push_str(command),
                None if is_latin_letter(c) => out.push(c),
                None => {
                    let _ = write!(out, "\\texttt{{U+{:04X}}}", c as u32);
                }
            },
        }
    }
    out
}

/// The LaTeX (text mode, no package beyond LaTeX itself) for a non-ASCII character occam's
/// tables and labels use; math symbols go through inline math.
fn tex_text_symbol(c: char) -> Option<&'static str> {
    const GREEK: [(char, &str); 40] = [
        ('α', "$\\alpha$"),
        ('β', "$\\beta$"),
        ('γ', "$\\gamma$"),
        ('δ', "$\\delta$"),
        ('ε', "$\\varepsilon$"),
        ('ζ', "$\\zeta$"),
        ('η', "$\\eta$"),
        ('θ', "$\\theta$"),
        ('ι', "$\\iota$"),
        ('κ', "$\\kappa$"),
        ('λ', "$\\lambda$"),
        ('μ', "$\\mu$"),
        ('ν', "$\\nu$"),
        ('ξ', "$\\xi$"),
        ('π', "$\\pi$"),
        ('ρ', "$\\rho$"),
        ('σ', "$\\sigma$"),
        ('τ', "$\\tau$"),
        ('υ', "$\\upsilon$"),
        ('φ', "$\\phi$"),
        ('χ', "$\\chi$"),
        ('ψ', "$\\psi$"),
        ('ω', "$\\omega$"),
        ('Γ', "$\\Gamma$"),
        ('Δ', "$\\Delta$"),
        ('Θ', "$\\Theta$"),
        ('Λ', "$\\Lambda$"),
        ('Ξ', "$\\Xi$"),
        ('Π', "$\\Pi$"),
        ('Σ', "$\\Sigma$"),
        ('Φ', "$\\Phi$"),
        ('Ψ', "$\\Psi$"),
        ('Ω', "$\\Omega$"),
        ('ς', "$\\varsigma$"),
        ('ϑ', "$\\vartheta$"),
        ('ϕ', "$\\varphi$"),
        ('ϵ', "$\\epsilon$"),
        ('ο', "o"),
        ('Υ', "$\\Upsilon$"),
        ('ϱ', "$\\varrho$"),
    ];
    const SYMBOLS: [(char, &str); 34] = [
        ('−', "$-$"),
        ('–', "--"),
        ('—', "---"),
        ('‖', "$\\|$"),
        ('∇', "$\\nabla$"),
        ('×', "$\\times$"),
        ('·', "$\\cdot$"),
        ('±', "$\\pm$"),
        ('≈', "$\\approx$"),
        ('≤', "$\\le$"),
        ('≥', "$\\ge$"),
        ('≠', "$\\ne$"),
        ('∞', "$\\infty$"),
        ('→', "$\\to$"),
        ('←', "$\\leftarrow$"),
        ('∈', "$\\in$"),
        ('∑', "$\\sum$"),
        ('√', "$\\surd$"),
        ('∂', "$\\partial$"),
        ('∝', "$\\propto$"),
        ('⁻', "$^{-}$"),
        ('¹', "$^{1}$"),
        ('²', "$^{2}$"),
        ('³', "$^{3}$"),
        ('½', "$\\frac12$"),
        ('…', "\\ldots{}"),
        ('‘', "`"),
        ('’', "'"),
        ('“', "``"),
        ('”', "''"),
        ('\u{a0}', "~"),
        ('°', "$^\\circ$"),
        ('§', "\\S{}"),
        ('∗', "$\\ast$"),
    ];
    GREEK
        .iter()
        .chain(SYMBOLS.iter())
        .find(|(from, _)| *from == c)
        .map(|(_, to)| *to)
}

/// Letters of the Latin-1 Supplement and Latin Extended-A blocks (é, ü, ß, ł, …), which
/// LaTeX's UTF-8 input sets without a package.
fn is_latin_letter(c: char) -> bool {
    c.is_alphabetic() && ('\u{c0}'..='\u{17f}').contains(&c)
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

    #[test]
    fn tex_escape_leaves_only_ascii_outside_latin_letters() {
        // Every character occam's tables use, and a few a user's column names might carry.
        let text = "λ − ‖∇‖ γ σ μ × ± ≈ ≤ → — – “q” … ² Größe café ☃ |x| <a> 100%";
        let escaped = tex_escape(text);
        let allowed = |c: char| c.is_ascii() || "öéß".contains(c);
        assert!(escaped.chars().all(allowed), "{escaped}");
        assert!(
            escaped.contains("$\\lambda$ $-$ $\\|$$\\nabla$$\\|$"),
            "{escaped}"
        );
        assert!(escaped.contains("Größe café \\texttt{U+2603}"), "{escaped}");
        assert!(escaped.contains("\\textbar{}x\\textbar{} \\textless{}a\\textgreater{} 100\\%"));
        // Each mapped symbol is pure ASCII LaTeX.
        for c in text.chars().filter(|c| !c.is_ascii()) {
            if let Some(latex) = tex_text_symbol(c) {
                assert!(latex.is_ascii(), "{c} → {latex}");
            }
        }
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
