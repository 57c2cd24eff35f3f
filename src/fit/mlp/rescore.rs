//! A fitted network's mode scored again under another curvature or parameter subset (math.md §9),
//! with no new search: the same θ̂, s, σ and centre, so that evidences of the full GGN, KFAC, the
//! diagonal and the last layer can be set side by side at one mode (the report's gap table).

use super::search::BestStart;
use super::{HessianKind, MlpFit, MlpMode, Subset};
use crate::error::Result;

impl MlpFit {
    /// The evidence of this fit's mode with the curvature `hessian` over `subset`, in y's units
    /// (the target's Jacobian taken off as in the fit): the mode is not searched again, so every
    /// method is scored at exactly the same θ̂.
    pub fn rescore(&self, hessian: HessianKind, subset: Subset) -> Result<MlpMode> {
        let sd = self.evaluation.prior_sd;
        let found = BestStart {
            params: self.mode.params.clone(),
            objective: f64::NAN,
            gradient_norm: self.mode.gradient_norm,
            iterations: self.mode.iterations,
            start: self.mode.restart,
        };
        let mut mode = self.study.evidence_at(
            &self.evaluation.center.values,
            1.0 / (sd * sd),
            self.mode.noise_precision,
            found,
            hessian,
            subset,
        )?;
        let jacobian = self.study.target.log_jacobian(self.study.n);
        mode.log_likelihood -= jacobian;
        mode.log_evidence -= jacobian;
        Ok(mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codelength::CodeSelection;
    use crate::data::{self, ColumnSelection};
    use crate::fit::{fit_mlp, EvidenceMethod, FitOptions, MlpOptions};
    use crate::model::mlp::Task;
    use crate::model::Intercept;
    use crate::prior::SdSpec;

    /// Scoring a fit's own mode with its own options gives back its evidence bit for bit, and a
    /// fit under each other option gives the rescored evidence (the search does not depend on
    /// the curvature, so the modes are the same point).
    #[test]
    fn rescoring_agrees_with_fitting_under_each_method() {
        let cancer = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
        let options = |hessian, subset| FitOptions {
            prior_sd: SdSpec::Fixed(0.5),
            intercept: Intercept::Shared,
            codes: CodeSelection::MIXTURE_ONLY,
            mlp: MlpOptions {
                hidden: vec![3],
                task: Some(Task::Classification),
                hessian,
                subset,
                ..MlpOptions::default()
            },
            ..FitOptions::default()
        };
        let ggn = fit_mlp(&cancer, &options(HessianKind::Ggn, Subset::All)).unwrap();
        let same = ggn.rescore(HessianKind::Ggn, Subset::All).unwrap();
        assert_eq!(same.log_evidence, ggn.evaluation.log_evidence);
        for (hessian, subset, method) in [
            (HessianKind::Kfac, Subset::All, EvidenceMethod::LaplaceKfac),
            (HessianKind::Diag, Subset::All, EvidenceMethod::LaplaceDiag),
            (
                HessianKind::Ggn,
                Subset::LastLayer,
                EvidenceMethod::LaplaceLastLayer,
            ),
        ] {
            let fit = fit_mlp(&cancer, &options(hessian, subset)).unwrap();
            assert_eq!(fit.mode.params, ggn.mode.params);
            let rescored = ggn.rescore(hessian, subset).unwrap();
            assert_eq!(rescored.method, method);
            assert_eq!(
                rescored.log_evidence, fit.evaluation.log_evidence,
                "{method:?}"
            );
            assert_eq!(
                rescored.effective_parameters,
                fit.evaluation.effective_parameters
            );
        }
    }
}
