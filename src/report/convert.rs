//! The report of `occam convert`.

use super::format::{
    csv_field, json_document, md_cell, significant, tex_escape, tex_number, OutputFormat,
};
use crate::error::SettingNames;
use crate::prior::convert::{Conversion, Knob};
use serde_json::json;
use std::fmt::Write;

/// Renders a conversion of `knob = value` in `format`, the settings a missing equivalent needs
/// spelled by `names`.
pub fn render_conversion(
    knob: Knob,
    value: f64,
    c: &Conversion,
    format: OutputFormat,
    names: &dyn SettingNames,
) -> String {
    let rows: Vec<[String; 3]> = c
        .equivalents
        .iter()
        .map(|e| {
            [
                format!("{} [{}]", e.knob.describe(), e.loss),
                e.value
                    .as_ref()
                    .map_or_else(|_| "—".to_string(), |v| significant(*v, 6)),
                e.value
                    .as_ref()
                    .err()
                    .map_or_else(String::new, |reason| reason.render(names)),
            ]
        })
        .collect();
    let title = format!(
        "{} = {} is the Gaussian prior w ~ N(0, s²I) with s = {}, α = 1/s² = {}",
        knob.name(),
        crate::prior::compact_number(value),
        significant(c.prior_sd, 6),
        significant(c.prior_precision, 6)
    );
    match format {
        OutputFormat::Json => {
            let equivalents: Vec<_> = c
                .equivalents
                .iter()
                .map(|e| match &e.value {
                    Ok(v) => json!({ "knob": e.knob.name(), "loss": e.loss.to_string(), "value": v }),
                    Err(reason) => json!({ "knob": e.knob.name(), "loss": e.loss.to_string(), "value": null, "reason": reason.render(names) }),
                })
                .collect();
            json_document(&json!({
                "schema": 1,
                "from": { "knob": knob.name(), "value": value },
                "prior_sd": c.prior_sd,
                "prior_precision": c.prior_precision,
                "equivalents": equivalents,
            }))
        }
        OutputFormat::Table => {
            let w = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
            let mut out = format!("{title}\n\n");
            for r in &rows {
                let line = format!("  {:<w$}  {:>12}  {}", r[0], r[1], r[2], w = w);
                let _ = writeln!(out, "{}", line.trim_end());
            }
            out
        }
        OutputFormat::Md => {
            let mut out = format!("{title}\n\n| knob [loss] | value | note |\n|---|---:|---|\n");
            for r in &rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    md_cell(&r[0]),
                    r[1],
                    md_cell(&r[2])
                );
            }
            out
        }
        OutputFormat::Tex => {
            let mut out = format!(
                "% {}\n\\begin{{tabular}}{{lr}}\n\\toprule\nKnob [loss] & Value \\\\\n\\midrule\n",
                tex_escape(&title)
            );
            for e in &c.equivalents {
                let value = e
                    .value
                    .as_ref()
                    .map_or_else(|_| "---".to_string(), |v| tex_number(*v, 6));
                let _ = writeln!(
                    out,
                    "{} [{}] & {} \\\\",
                    tex_escape(e.knob.describe()),
                    e.loss,
                    value
                );
            }
            out + "\\bottomrule\n\\end{tabular}\n"
        }
        OutputFormat::Csv => {
            let mut out = String::from("knob,loss,value,note\n");
            let _ = writeln!(out, "prior-sd,,{},", c.prior_sd);
            for e in &c.equivalents {
                let (v, note) = match &e.value {
                    Ok(v) => (v.to_string(), String::new()),
                    Err(r) => (String::new(), r.render(names)),
                };
                let _ = writeln!(
                    out,
                    "{},{},{},{}",
                    e.knob.name(),
                    e.loss,
                    v,
                    csv_field(&note)
                );
            }
            out
        }
    }
}
