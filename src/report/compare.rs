//! The report of `occam compare`: one row per prior, ranked.

use super::fit::{
    render_all, DatasetInfo, EvidenceInfo, ModelInfo, PriorInfo, TargetMapping, SCHEMA,
};
use super::format::{
    csv_field, json_document, md_cell, significant, tex_escape, tex_number, OutputFormat,
};
use crate::codelength::{CodeKind, CodeLengths, MmlForm};
use crate::compare::Comparison;
use crate::error::SettingNames;
use crate::fit::ModelKind;
use serde::Serialize;
use std::fmt::Write;

/// One row of the comparison JSON (cli.md: prior, evidence, code_length_bits, effective_parameters).
#[derive(Debug, Clone, Serialize)]
pub struct CompareRowInfo {
    /// 1 for the shortest code.
    pub rank: usize,
    /// The prior.
    pub prior: PriorInfo,
    /// σ used (fixed or fitted for this row; regression only).
    pub noise_sd: Option<f64>,
    /// The evidence.
    pub evidence: EvidenceInfo,
    /// The code lengths, charges included.
    pub code_length_bits: CodeLengths,
    /// γ; null outside [0, P], with the reason in the notes.
    pub effective_parameters: Option<f64>,
    /// ‖m − μ‖.
    pub distance_from_center: f64,
    /// Ranking code minus the zero-centred prior's at the same sd.
    pub delta_bits: Option<f64>,
    /// Bits charged for reals estimated from the coded rows.
    pub charged_bits: f64,
    /// Model-specific diagnostics (networks: saturation, dead units, participation ratios).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<serde_json::Value>,
    /// Why this prior could not be scored (its numbers are then null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// The comparison JSON.
#[derive(Debug, Clone, Serialize)]
pub struct CompareReport {
    /// Schema version.
    pub schema: u32,
    /// The data.
    pub dataset: DatasetInfo,
    /// The model.
    pub model: ModelInfo,
    /// The ranking code.
    pub rank_by: CodeKind,
    /// The rows, best first.
    pub rows: Vec<CompareRowInfo>,
    /// Notes.
    pub notes: Vec<String>,
}

impl CompareReport {
    /// The report of a comparison; `names` spells the settings its notes and failures mention.
    pub fn from_comparison(c: &Comparison, names: &dyn SettingNames) -> Self {
        let options = &c.study.options;
        let regression = c.study.kind == ModelKind::Linear;
        CompareReport {
            schema: SCHEMA,
            dataset: DatasetInfo::of(&c.study),
            model: ModelInfo {
                kind: c.study.kind.name().into(),
                noise_sd: options.noise_sd.fixed().filter(|_| regression),
                noise_sd_fitted: regression && options.noise_sd.fixed().is_none(),
                intercept: options.intercept.to_string(),
                standardized: options.standardize,
                target_mapping: c
                    .study
                    .target_mapping
                    .map(|(zero, one)| TargetMapping { zero, one }),
                classes: crate::fit::class_labels(&c.study),
            },
            rank_by: c.rank_by,
            rows: c
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let e = &r.evaluation;
                    CompareRowInfo {
                        rank: i + 1,
                        prior: PriorInfo::of(e),
                        noise_sd: e.noise_sd,
                        evidence: EvidenceInfo::of(e),
                        code_length_bits: e.code_lengths,
                        effective_parameters: e.printed_effective_parameters(),
                        distance_from_center: e.distance_from_center,
                        delta_bits: r.delta_bits,
                        charged_bits: e.charge_bits,
                        diagnostics: e.diagnostics.clone(),
                        failure: r.failure.as_ref().map(|f| f.render(names)),
                    }
                })
                .collect(),
            notes: render_all(&c.notes, names),
        }
    }

    /// The report in `format`.
    pub fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Json => json_document(self),
            OutputFormat::Table => self.render_table(),
            OutputFormat::Md => self.render_markdown(),
            OutputFormat::Tex => self.render_tex(),
            OutputFormat::Csv => self.render_csv(),
        }
    }

    const HEADER: [&'static str; 12] = [
        "#",
        "centre",
        "s",
        "σ",
        "ln p(y)",
        "γ",
        "‖m − μ‖",
        "mixture",
        "prequential",
        "two_part",
        "bic",
        "Δbits",
    ];

    fn cells(&self, r: &CompareRowInfo) -> [String; 12] {
        let code = |v: Option<f64>| v.map_or("—".to_string(), |b| format!("{b:.2}"));
        // A prior that failed has NaN numbers: shown as "—", like a missing code.
        let number = |v: f64, text: String| {
            if v.is_finite() {
                text
            } else {
                "—".to_string()
            }
        };
        let fitted = |v: f64, fitted: bool| {
            if fitted {
                format!("{} (EB)", significant(v, 4))
            } else {
                significant(v, 4)
            }
        };
        [
            r.rank.to_string(),
            r.prior.center.clone(),
            number(r.prior.sd, fitted(r.prior.sd, r.prior.sd_fitted)),
            r.noise_sd
                .map_or("—".to_string(), |v| fitted(v, self.model.noise_sd_fitted)),
            number(r.evidence.log_nats, format!("{:.3}", r.evidence.log_nats)),
            r.effective_parameters
                .map_or("—".to_string(), |g| number(g, format!("{g:.3}"))),
            number(
                r.distance_from_center,
                significant(r.distance_from_center, 4),
            ),
            code(r.code_length_bits.mixture),
            code(r.code_length_bits.prequential),
            two_part_cell(&r.code_length_bits),
            code(r.code_length_bits.bic),
            r.delta_bits.map_or("—".to_string(), |d| format!("{d:+.2}")),
        ]
    }

    fn title(&self) -> String {
        format!(
            "occam compare — {} model on {} (n = {}, k = {}), ranked by the {} code (bits); Δbits against the zero centre at the same s",
            self.model.kind,
            self.dataset.source,
            self.dataset.n,
            self.dataset.features.len(),
            self.rank_by.name()
        )
    }

    /// Saturation and dead-unit fractions of a network row, for the tables.
    fn network_cells(r: &CompareRowInfo) -> Option<[String; 2]> {
        let d = r.diagnostics.as_ref()?;
        let fraction = |key: &str| {
            d.get(key)
                .and_then(|v| v.as_f64())
                .map_or("—".to_string(), |v| format!("{v:.3}"))
        };
        Some([
            fraction("saturation_fraction"),
            fraction("dead_relu_fraction"),
        ])
    }

    fn render_table(&self) -> String {
        if self.rows.iter().any(|r| r.diagnostics.is_some()) {
            return self.render_network_table();
        }
        let rows: Vec<[String; 12]> = self.rows.iter().map(|r| self.cells(r)).collect();
        let widths: Vec<usize> = (0..12)
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].chars().count())
                    .chain([Self::HEADER[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| -> String {
            let mut s = String::new();
            for (c, cell) in cells.iter().enumerate() {
                if c == 1 {
                    let _ = write!(s, "  {:<w$}", cell, w = widths[c]);
                } else {
                    let _ = write!(s, "  {:>w$}", cell, w = widths[c]);
                }
            }
            s.trim_end().to_string()
        };
        let mut out = format!("{}\n\n", self.title());
        let _ = writeln!(out, "{}", line(Self::HEADER.to_vec()));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r.iter().map(String::as_str).collect()));
        }
        out.push_str("\nnotes\n");
        for note in &self.notes {
            let _ = writeln!(out, "  - {note}");
        }
        out
    }

    /// The terminal table for networks: the saturation question's columns beside the codes.
    fn render_network_table(&self) -> String {
        let header = [
            "#",
            "centre",
            "s",
            "ln p(y)",
            "γ",
            "‖θ − μ‖",
            "mixture",
            "prequential",
            "two_part",
            "saturated",
            "dead ReLU",
            "Δbits",
        ];
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let c = self.cells(r);
                let [saturated, dead] =
                    Self::network_cells(r).unwrap_or_else(|| ["—".into(), "—".into()]);
                vec![
                    c[0].clone(),
                    c[1].clone(),
                    c[2].clone(),
                    c[4].clone(),
                    c[5].clone(),
                    c[6].clone(),
                    c[7].clone(),
                    c[8].clone(),
                    c[9].clone(),
                    saturated,
                    dead,
                    c[11].clone(),
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].chars().count())
                    .chain([header[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| -> String {
            let mut s = String::new();
            for (c, cell) in cells.iter().enumerate() {
                if c == 1 {
                    let _ = write!(s, "  {:<w$}", cell, w = widths[c]);
                } else {
                    let _ = write!(s, "  {:>w$}", cell, w = widths[c]);
                }
            }
            s.trim_end().to_string()
        };
        let mut out = format!("{}\n\n", self.title());
        let _ = writeln!(out, "{}", line(&header.map(String::from)));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r));
        }
        out.push_str("\nsaturated: fraction of (hidden unit, row) pairs with |pre-activation| ≥ 4 (sigmoid) or ≥ 2 (tanh); dead ReLU: fraction of ReLU units inactive on every row\n\nnotes\n");
        for note in &self.notes {
            let _ = writeln!(out, "  - {note}");
        }
        out
    }

    fn render_markdown(&self) -> String {
        let mut out = format!("{}\n\n", self.title());
        let header = [
            "#",
            "centre",
            "s",
            "σ",
            "ln p(y) (nats)",
            "γ",
            "‖m − μ‖",
            "mixture (bits)",
            "prequential (bits)",
            "two_part (bits)",
            "bic (bits)",
            "Δbits",
        ];
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|---:|---|{}", "---:|".repeat(10));
        for r in &self.rows {
            let cells: Vec<String> = self.cells(r).iter().map(|c| md_cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
        for note in &self.notes {
            let _ = writeln!(out, "- {}", md_cell(note));
        }
        out
    }

    fn render_tex(&self) -> String {
        let mut out = format!("% {}\n% requires \\usepackage{{booktabs}}\n", self.title());
        out.push_str("\\begin{tabular}{lrrrrrrrrrr}\n\\toprule\n");
        out.push_str("Centre & $s$ & $\\sigma$ & $\\ln p(y)$ [nats] & $\\gamma$ & $\\|m-\\mu\\|$ & Mixture [bits] & Prequential [bits] & Two-part [bits] & BIC [bits] & $\\Delta$ [bits] \\\\\n\\midrule\n");
        // The same "(EB)" marker as the other formats on a scale fitted by empirical Bayes.
        let fitted = |v: f64, fitted: bool| {
            if fitted {
                format!("{} (EB)", tex_number(v, 4))
            } else {
                tex_number(v, 4)
            }
        };
        for r in &self.rows {
            let code = |v: Option<f64>| v.map_or("---".to_string(), |b| format!("${b:.2}$"));
            // A prior that failed has NaN numbers: "---", like a missing code.
            let number = |v: f64, text: String| if v.is_finite() { text } else { "---".into() };
            let _ = writeln!(
                out,
                "{} & {} & {} & {} & {} & {} & {} & {} & {} & {} & {} \\\\",
                tex_escape(&r.prior.center),
                number(r.prior.sd, fitted(r.prior.sd, r.prior.sd_fitted)),
                r.noise_sd
                    .map_or("---".to_string(), |v| fitted(v, self.model.noise_sd_fitted)),
                number(r.evidence.log_nats, format!("${:.3}$", r.evidence.log_nats)),
                r.effective_parameters
                    .map_or("---".to_string(), |g| number(g, format!("${g:.3}$"))),
                number(
                    r.distance_from_center,
                    tex_number(r.distance_from_center, 4)
                ),
                code(r.code_length_bits.mixture),
                code(r.code_length_bits.prequential),
                code(r.code_length_bits.two_part),
                code(r.code_length_bits.bic),
                r.delta_bits
                    .map_or("---".to_string(), |d| format!("${d:+.2}$")),
            );
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        out
    }

    fn render_csv(&self) -> String {
        let mut out = String::from("rank,center,sd,sd_fitted,noise_sd,log_evidence_nats,effective_parameters,distance_from_center,mixture_bits,prequential_bits,two_part_bits,bic_bits,delta_bits,charged_bits,two_part_form\n");
        let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
        // Empty, like a missing code, for the NaN numbers of a prior that failed.
        let finite = |v: f64| opt(Some(v).filter(|x| x.is_finite()));
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.rank,
                csv_field(&r.prior.center),
                finite(r.prior.sd),
                r.prior.sd_fitted,
                opt(r.noise_sd),
                finite(r.evidence.log_nats),
                opt(r.effective_parameters.filter(|g| g.is_finite())),
                finite(r.distance_from_center),
                opt(r.code_length_bits.mixture),
                opt(r.code_length_bits.prequential),
                opt(r.code_length_bits.two_part),
                opt(r.code_length_bits.bic),
                opt(r.delta_bits),
                r.charged_bits,
                r.code_length_bits.two_part_form.map_or("", MmlForm::key)
            );
        }
        out
    }
}

/// The two_part cell: bits, marked "(F+Λ)" where MML87 used the prior's curvature.
fn two_part_cell(codes: &CodeLengths) -> String {
    match (codes.two_part, codes.two_part_form) {
        (Some(b), Some(MmlForm::FisherPlusPrior)) => format!("{b:.2} (F+Λ)"),
        (Some(b), _) => format!("{b:.2}"),
        (None, _) => "—".to_string(),
    }
}
