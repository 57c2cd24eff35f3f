//! Code lengths of linear-softmax regression (math.md §5, §7): the two_part (MML87) length.
//!
//! **The structural null space.** In the symmetric parametrisation every θ_c may be shifted by one
//! vector v ∈ ℝᵐ without changing a probability, so the data part of the Hessian,
//! F = Σᵢ (diag pᵢ − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ, annihilates the m directions 1_K ⊗ v: its rank is at most
//! (K − 1)·m for every data set. Only the prior pins those directions. So F is never
//! non-singular, and the binary model's rule "F singular ⇒ two_part undefined" would leave the
//! softmax two_part always null. Instead:
//!
//! * the m structural directions are set aside (they are null by construction, not for lack of
//!   data); F is singular — two_part null, with the reason — only if another eigenvalue is at or
//!   below 1e-12 of the largest (n too small, collinear features, or a class separated so that
//!   p(1 − p) → 0);
//! * in the structural directions F = 0 is less curved than any proper prior, so MML87's own
//!   switching rule (math.md §5: use F + Λ wherever F − Λ has a negative eigenvalue) always takes
//!   the F + Λ form: two_part = −ln π(θ̂) − ln p(y | θ̂) + ½ ln|F + Λ| + (P/2)(1 + ln κ_P).
//!
//! Since F + Λ is the Hessian H at the mode, two_part − (Laplace mixture) =
//! (P/2)(1 + ln 2πκ_P) exactly (the identity math.md §5 states for the linear-Gaussian model);
//! the test checks it.

use super::{lattice_term, MmlForm, TwoPartCode};
use crate::inference::Mode;
use crate::model::softmax::SoftmaxProblem;

/// MML87 two_part length in nats for a softmax fit at its mode (see the module documentation):
/// always the F + Λ form; `Err` with the reason where F is singular beyond its m structural
/// directions, or the length comes out negative.
pub fn two_part_nats(
    problem: &SoftmaxProblem,
    mode: &Mode,
    log_likelihood: f64,
    log_prior: f64,
) -> std::result::Result<TwoPartCode, String> {
    let fisher = problem.fisher_information(&mode.params);
    let p = fisher.nrows();
    let structural = problem.width();
    let singular = || {
        format!(
            "two_part is undefined: the Fisher information is singular beyond the {structural} directions that shift every class's parameters alike (n too small, collinear features, or a class separated so that p(1 − p) → 0)"
        )
    };
    let mut eigenvalues: Vec<f64> = fisher
        .clone()
        .symmetric_eigenvalues()
        .iter()
        .copied()
        .collect();
    eigenvalues.sort_by(f64::total_cmp);
    let largest = eigenvalues.last().copied().unwrap_or(0.0);
    if !(largest > 0.0)
        || !eigenvalues[structural..]
            .iter()
            .all(|l| *l > 1e-12 * largest)
    {
        return Err(singular());
    }
    let lambda = nalgebra::DMatrix::from_diagonal(problem.precision());
    let weak_directions = (&fisher - &lambda)
        .symmetric_eigenvalues()
        .iter()
        .filter(|l| **l < 0.0)
        .count();
    let Some(cholesky) = (fisher + lambda).cholesky() else {
        return Err(singular());
    };
    let half_log_det: f64 = cholesky.l().diagonal().iter().map(|d| d.ln()).sum();
    let code = TwoPartCode {
        nats: -log_prior - log_likelihood + half_log_det + lattice_term(p).0,
        form: MmlForm::FisherPlusPrior,
        weak_directions,
        parameters: p,
    };
    if code.nats < 0.0 {
        return Err(super::logistic::negative_length(&code));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::softmax_mode::softmax_mode_and_evidence;
    use crate::model::logistic::Rows;
    use crate::testing::random_design;
    use nalgebra::DVector;
    use std::f64::consts::PI;

    fn data(n: usize, k: usize, classes: usize, seed: u64) -> (Vec<f64>, Vec<usize>) {
        let (x, noise) = random_design(n, k, seed);
        let z = x.transpose().as_slice().to_vec();
        let labels = (0..n)
            .map(|i| {
                let score =
                    |c: usize| z[i * k + c % k] * (1.0 + c as f64) + 0.7 * noise[i] * c as f64;
                (0..classes)
                    .max_by(|&a, &b| score(a).total_cmp(&score(b)))
                    .unwrap()
            })
            .collect();
        (z, labels)
    }

    #[test]
    fn two_part_exceeds_the_laplace_mixture_by_the_lattice_constant() {
        for (intercept_precision, n) in [(0.5, 120), (0.01, 200)] {
            let (k, classes) = (2, 3);
            let (z, labels) = data(n, k, classes, 31);
            let m = k + 1;
            let p = classes * m;
            let center = DVector::from_fn(p, |i, _| 0.05 * i as f64);
            let precision =
                DVector::from_fn(p, |i, _| if i % m == k { intercept_precision } else { 0.5 });
            let problem = SoftmaxProblem::new(
                Rows::design(&z, k),
                &labels,
                classes,
                true,
                &center,
                &precision,
            );
            let (mode, laplace) = softmax_mode_and_evidence(&problem, DVector::zeros(p)).unwrap();
            let code =
                two_part_nats(&problem, &mode, laplace.log_likelihood, laplace.log_prior).unwrap();
            assert_eq!(code.form, MmlForm::FisherPlusPrior);
            assert!(code.weak_directions >= m, "{}", code.weak_directions);
            // (P/2)(1 + ln 2πκ_P) = lattice_term(P) + (P/2) ln 2π.
            let expected_simple = lattice_term(p).0 + 0.5 * p as f64 * (2.0 * PI).ln();
            let gap = code.nats + laplace.log_evidence;
            assert!(
                (gap - expected_simple).abs() < 1e-9 * code.nats.abs(),
                "{gap} vs {expected_simple}"
            );
        }
    }

    #[test]
    fn two_part_is_null_when_the_data_cannot_fix_the_parameters() {
        // Two rows, three classes, three features: F has rank ≤ 2 < (K − 1)·m = 8.
        let (k, classes) = (3, 3);
        let (z, labels) = data(2, k, classes, 5);
        let p = classes * (k + 1);
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = SoftmaxProblem::new(
            Rows::design(&z, k),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        let (mode, laplace) = softmax_mode_and_evidence(&problem, DVector::zeros(p)).unwrap();
        let e =
            two_part_nats(&problem, &mode, laplace.log_likelihood, laplace.log_prior).unwrap_err();
        assert!(e.contains("singular beyond the 4 directions"), "{e}");
    }
}
