//! The report of `occam compare --priors`: one row per whole prior, ranked by the mixture code,
//! with the bits charged for its fitted scales.

use super::fit::{render_all, DatasetInfo, SCHEMA};
use super::format::{json_document, OutputFormat};
use super::table::{Cell, Column, Table};
use crate::compare::structures::StructureComparison;
use crate::error::SettingNames;
use serde::Serialize;

/// One row of the JSON.
#[derive(Debug, Clone, Serialize)]
pub struct StructureRowInfo {
    /// 1 for the shortest code.
    pub rank: usize,
    /// The prior as given.
    pub prior: String,
    /// Groups (after `ard` expands).
    pub groups: usize,
    /// Groups pruned.
    pub pruned: usize,
    /// Real numbers estimated from the coded rows.
    pub charged_reals: usize,
    /// Their bits (in `mixture`).
    pub charged_bits: Option<f64>,
    /// ln p in nats.
    pub log_evidence_nats: Option<f64>,
    /// γ.
    pub effective_parameters: Option<f64>,
    /// P.
    pub parameters: usize,
    /// The mixture code in bits, charges included.
    pub mixture_bits: Option<f64>,
    /// The prequential code in bits, charges included.
    pub prequential_bits: Option<f64>,
    /// The two-part code in bits, charges included.
    pub two_part_bits: Option<f64>,
    /// BIC in bits.
    pub bic_bits: Option<f64>,
    /// Why the prior could not be fitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// The report (cli.md "compare --priors").
#[derive(Debug, Clone, Serialize)]
pub struct StructuresReport {
    /// Schema version.
    pub schema: u32,
    /// The data.
    pub dataset: DatasetInfo,
    /// The model.
    pub model: String,
    /// The ranking code.
    pub rank_by: String,
    /// Rows, best first.
    pub rows: Vec<StructureRowInfo>,
    /// Notes.
    pub notes: Vec<String>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl StructuresReport {
    /// The report of a comparison; `names` spells the settings in failures.
    pub fn from_comparison(c: &StructureComparison, names: &dyn SettingNames) -> Self {
        let rows = c
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| StructureRowInfo {
                rank: i + 1,
                prior: r.prior.clone(),
                groups: r.groups,
                pruned: r.pruned,
                charged_reals: r.charged_reals,
                charged_bits: finite(r.charge_bits),
                log_evidence_nats: finite(r.log_evidence),
                effective_parameters: r.effective_parameters,
                parameters: r.parameters,
                mixture_bits: r.mixture,
                prequential_bits: r.prequential,
                two_part_bits: r.two_part,
                bic_bits: r.bic,
                failure: r.failure.as_ref().map(|m| m.render(names)),
            })
            .collect();
        let notes: Vec<String> = vec![
            "each row is the fit of that whole prior alone (occam fit --prior …), ranked by the mixture code −log₂ p(y) + charged bits".into(),
            format!(
                "charged: every real number estimated from the coded rows (each fitted group sd s_g — pruned ones included — and σ when fitted) costs ½ log₂ n = {:.4} bits; extra scales pay for themselves only if the evidence gains more",
                0.5 * (c.n.max(1) as f64).log2()
            ),
        ];
        let mut notes: Vec<String> = notes;
        if c.kind == crate::fit::ModelKind::Linear {
            notes.push("continuous targets are coded at unit precision: a precision ε adds n·log₂(1/ε) bits to every row alike".into());
        }
        let failures: Vec<_> = c.rows.iter().filter_map(|r| r.failure.as_ref()).collect();
        notes.extend(render_all(
            &failures.into_iter().cloned().collect::<Vec<_>>(),
            names,
        ));
        StructuresReport {
            schema: SCHEMA,
            dataset: DatasetInfo {
                source: c.source.clone(),
                n: c.n,
                features: c.feature_names.clone(),
                target: c.target_name.clone(),
            },
            model: c.kind.name().into(),
            rank_by: "mixture".into(),
            rows,
            notes,
        }
    }

    /// The rows as a report table (named `priors`; `occam run` renames it).
    pub fn table(&self) -> Table {
        let columns = vec![
            Column::new("rank", "#"),
            Column::new("prior", "prior").plain_tex_numbers(),
            Column::new("groups", "groups"),
            Column::new("pruned", "pruned"),
            Column::new("charged_reals", "charged reals"),
            Column::new("charged_bits", "charged bits"),
            Column::with_tex("log_evidence_nats", "ln p (nats)", "$\\ln p$ (nats)"),
            Column::with_tex("effective_parameters", "γ", "$\\gamma$"),
            Column::new("parameters", "P"),
            Column::new("mixture_bits", "mixture (bits)"),
            Column::new("prequential_bits", "prequential (bits)"),
            Column::new("two_part_bits", "two-part (bits)"),
            Column::new("bic_bits", "BIC (bits)"),
        ];
        let mut table = Table::new(
            "priors",
            &format!(
                "{} model on {} (n = {}): whole priors ranked by the mixture code",
                self.model, self.dataset.source, self.dataset.n
            ),
            columns,
            self.command(),
        );
        for r in &self.rows {
            table.push(vec![
                Cell::Count(r.rank),
                Cell::text(r.prior.clone()),
                Cell::Count(r.groups),
                Cell::Count(r.pruned),
                Cell::Count(r.charged_reals),
                Cell::opt(r.charged_bits, 2),
                Cell::opt(r.log_evidence_nats, 3),
                Cell::opt(r.effective_parameters, 3),
                Cell::Count(r.parameters),
                Cell::opt(r.mixture_bits, 3),
                Cell::opt(r.prequential_bits, 3),
                Cell::opt(r.two_part_bits, 3),
                Cell::opt(r.bic_bits, 3),
            ]);
        }
        for note in &self.notes {
            table.note(note.clone());
        }
        table
    }

    /// The command that computes these numbers (data, model and priors; other flags left out).
    fn command(&self) -> String {
        let source = self
            .dataset
            .source
            .strip_prefix("builtin:")
            .unwrap_or(&self.dataset.source);
        let priors: Vec<String> = self
            .rows
            .iter()
            .map(|r| format!("'{}'", r.prior.replace('\'', "'\\''")))
            .collect();
        format!(
            "occam compare --data {source} --model {} --priors {}",
            self.model,
            priors.join(" ")
        )
    }

    /// The report in `format`: `table` and `md` are the caption, the Markdown table and the
    /// notes.
    pub fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Json => json_document(self),
            OutputFormat::Table | OutputFormat::Md => {
                let table = self.table();
                let mut out = format!(
                    "{}

{}
notes
",
                    table.caption,
                    table.to_markdown()
                );
                for note in &table.notes {
                    out.push_str(&format!(
                        "  - {note}
"
                    ));
                }
                out
            }
            OutputFormat::Tex => self.table().to_tex(),
            OutputFormat::Csv => self.table().to_csv(),
        }
    }
}
