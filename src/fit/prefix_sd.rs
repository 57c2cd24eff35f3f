//! The prior sd each prequential prefix is coded with, when s is `auto`, for the models whose
//! evidence is a Laplace approximation in s alone (binary and multinomial logistic).
//!
//! Each later block is coded with the MAP fitted on the rows before it at that prefix's own ŝ.
//! A prefix whose evidence has no maximum inside s ∈ [1e-4, 1e4] (too few rows, or classes that
//! are still separable) cannot give one; the next block then uses the s of the previous prefix,
//! and before any prefix has had an ŝ, the full-data ŝ — which the receiver does not have, so it
//! is sent first at ½ log₂ n bits (docs/codes.md, "prequential").

use crate::codelength::estimate_charge_bits;
use crate::error::Message;
use crate::prior::SdSpec;
use std::cell::Cell;

/// Chooses the s of each prefix and remembers what it had to carry, for the charge and the note.
///
/// ```
/// use occam::fit::prefix_sd::PrefixPriorSd;
/// use occam::prior::SdSpec;
///
/// let sds = PrefixPriorSd::new(SdSpec::Auto, 2.0);
/// assert_eq!(sds.for_prefix(|| None), 2.0); // no ŝ yet: the full-data ŝ, sent first
/// assert_eq!(sds.for_prefix(|| Some(0.5)), 0.5); // the prefix's own ŝ
/// assert_eq!(sds.for_prefix(|| None), 0.5); // carried from the previous prefix
/// assert_eq!(sds.extra_charged_reals(), 1);
/// assert!(sds.note(2.0, 100).is_some());
/// ```
#[derive(Debug)]
pub struct PrefixPriorSd {
    spec: SdSpec,
    carried: Cell<f64>,
    own_seen: Cell<bool>,
    carried_blocks: Cell<usize>,
    full_data_used: Cell<bool>,
}

impl PrefixPriorSd {
    /// `spec` as the user gave it; `full_data_sd` the s of the fit on all rows.
    pub fn new(spec: SdSpec, full_data_sd: f64) -> Self {
        PrefixPriorSd {
            spec,
            carried: Cell::new(full_data_sd),
            own_seen: Cell::new(false),
            carried_blocks: Cell::new(0),
            full_data_used: Cell::new(false),
        }
    }

    /// The s of the next prefix: the fixed s, or `prefix_optimum()` (the prefix's ŝ, `None`
    /// without an interior maximum), or the carried s.
    pub fn for_prefix(&self, prefix_optimum: impl FnOnce() -> Option<f64>) -> f64 {
        match self.spec {
            SdSpec::Fixed(s) => s,
            SdSpec::Auto => match prefix_optimum() {
                Some(s) => {
                    self.own_seen.set(true);
                    self.carried.set(s);
                    s
                }
                None => {
                    self.carried_blocks.set(self.carried_blocks.get() + 1);
                    if !self.own_seen.get() {
                        self.full_data_used.set(true);
                    }
                    self.carried.get()
                }
            },
        }
    }

    /// Reals sent before the first block: 1 when the full-data ŝ was used, else 0.
    pub fn extra_charged_reals(&self) -> usize {
        usize::from(self.full_data_used.get())
    }

    /// What the reader needs to know when a prefix had no ŝ of its own; `full_data_sd` as printed.
    pub fn note(&self, full_data_sd: f64, n: usize) -> Option<Message> {
        let carried = self.carried_blocks.get();
        (carried > 0).then(|| {
            format!(
                "prequential: on {carried} prefix(es) the evidence has no maximum inside s ∈ [1e-4, 1e4] (too few rows, or separable classes), so the next block uses the s of the previous prefix{}",
                if self.full_data_used.get() {
                    format!("; before any prefix had one, the full-data ŝ = {full_data_sd:.6}, sent first at ½ log₂ n = {:.4} bits (included)", estimate_charge_bits(1, n))
                } else {
                    String::new()
                }
            )
            .into()
        })
    }
}

/// The note for prefixes whose fit failed (the block reuses the previous parameters).
pub fn refit_failure_note(failures: usize) -> Option<Message> {
    (failures > 0).then(|| {
        format!("prequential: the fit on {failures} prefix(es) failed (too few rows); those blocks reuse the previous block's parameters, which the receiver can reproduce").into()
    })
}
