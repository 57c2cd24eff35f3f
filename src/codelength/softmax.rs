//! Code lengths of linear-softmax regression (math.md §5, §7): prequential (doubling blocks, as
//! the binary model: [`prequential_blocks`]), the two_part (MML87) length and bic.
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

use super::logistic::{prequential_blocks_of, Block, PrefixFit};
use super::{bits, lattice_term, MmlForm, TwoPartCode};
use crate::inference::laplace::MODE_TOLERANCE;
use crate::inference::Mode;
use crate::model::softmax::SoftmaxProblem;
use nalgebra::{DMatrix, DVector};

/// The prequential code of a softmax problem's rows (already in visiting order) in the blocks
/// `boundaries`: block 0 at `center`, block j at `fit_prefix(start_j, previous θ)` (the MAP on the
/// rows before it); a failed prefix fit keeps the previous parameters.
pub fn prequential_blocks(
    problem: &SoftmaxProblem,
    boundaries: &[usize],
    center: &DVector<f64>,
    fit_prefix: &PrefixFit,
) -> Vec<Block> {
    prequential_blocks_of(
        &|theta, rows| problem.rows_negative_log_likelihood(theta, rows),
        boundaries,
        center,
        fit_prefix,
    )
}

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
    let structural = problem.width();
    two_part_beyond_structural(
        &fisher,
        problem.precision(),
        structural,
        log_likelihood,
        log_prior,
        || {
            format!(
                "two_part is undefined: the Fisher information is singular beyond the {structural} directions that shift every class's parameters alike (n too small, collinear features, or a class separated so that p(1 − p) → 0)"
            )
        },
    )
}

/// MML87 two_part length in nats of any softmax model (linear, or a network's output layer) from
/// its Fisher information F at the mode, whose `structural` smallest eigenvalues are null by
/// construction (see the module documentation): `Err(singular())` where another eigenvalue is at
/// or below 1e-12 of the largest, else the F + Λ form
/// −ln π(θ̂) − ln p(y | θ̂) + ½ ln|F + Λ| + (P/2)(1 + ln κ_P); `Err` also for a negative length.
pub fn two_part_beyond_structural(
    fisher: &DMatrix<f64>,
    precision: &DVector<f64>,
    structural: usize,
    log_likelihood: f64,
    log_prior: f64,
    singular: impl Fn() -> String,
) -> std::result::Result<TwoPartCode, String> {
    let p = fisher.nrows();
    let mut eigenvalues: Vec<f64> = fisher
        .clone()
        .symmetric_eigenvalues()
        .iter()
        .copied()
        .collect();
    eigenvalues.sort_by(f64::total_cmp);
    let largest = eigenvalues.last().copied().unwrap_or(0.0);
    if largest.is_nan()
        || largest <= 0.0
        || structural >= p
        || !eigenvalues[structural..]
            .iter()
            .all(|l| *l > 1e-12 * largest)
    {
        return Err(singular());
    }
    let lambda = DMatrix::from_diagonal(precision);
    let weak_directions = (fisher - &lambda)
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

/// [`two_part_beyond_structural`] from the P eigenvalues λᵢ of F (e.g. a structured curvature:
/// KFAC's gⱼa_k or the GGN's diagonal, math.md §9, where no P × P matrix is formed) and an
/// isotropic prior precision α: `Err(singular())` unless every eigenvalue beyond the `structural`
/// smallest exceeds 1e-12 of the largest; else the F + Λ form with ½ ln|F + αI| = ½ Σ ln(λᵢ + α)
/// and the weak directions those with λᵢ < α; `Err` also for a negative length.
pub fn two_part_beyond_structural_isotropic(
    eigenvalues: &DVector<f64>,
    alpha: f64,
    structural: usize,
    log_likelihood: f64,
    log_prior: f64,
    singular: impl Fn() -> String,
) -> std::result::Result<TwoPartCode, String> {
    let p = eigenvalues.len();
    let mut sorted: Vec<f64> = eigenvalues.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let largest = sorted.last().copied().unwrap_or(0.0);
    if largest.is_nan()
        || largest <= 0.0
        || structural >= p
        || !sorted[structural..].iter().all(|l| *l > 1e-12 * largest)
    {
        return Err(singular());
    }
    let code = TwoPartCode {
        nats: -log_prior - log_likelihood
            + 0.5 * sorted.iter().map(|l| (l + alpha).ln()).sum::<f64>()
            + lattice_term(p).0,
        form: MmlForm::FisherPlusPrior,
        weak_directions: sorted.iter().filter(|l| **l < alpha).count(),
        parameters: p,
    };
    if code.nats < 0.0 {
        return Err(super::logistic::negative_length(&code));
    }
    Ok(code)
}

/// BIC in bits, −log₂ p(y | θ̂_ML) + (P_eff/2) log₂ n with P_eff = (K − 1)·m, the identifiable
/// parameter count (the m structural directions carry no information, as for two_part); `Err`
/// with the reason where the ML estimate does not exist. `flat` is the problem whose prior is
/// ignored (only its likelihood is used), `start` e.g. the MAP.
///
/// The ML fit pins the structural directions with the sum-to-zero constraint Σ_c θ_c = 0, by
/// minimising ℓ(θ) + ½‖Σ_c θ_c‖²: the pin changes no probability, and ∇ℓ sums to zero over the
/// classes (Σ_c (p_ic − [yᵢ = c]) = 0), so every stationary point of the pinned objective is an ML
/// point with Σ_c θ_c = 0. Its Hessian is F + (1_K1_Kᵀ) ⊗ I_m. Damped Newton from `start`.
///
/// Non-existence: if for some class c the iterate's θ_c (with Σ_c θ_c = 0, θ_c ∝ θ_c − the mean
/// of the others) scores every row of class c above 0 and every other row below, moving θ_c along
/// itself raises every row's likelihood (∂ℓᵢ/∂t = (p_ic − [yᵢ = c])·θ_cᵀx̃ᵢ < 0 for every i, at
/// every θ), so no ML estimate exists: that class is linearly separable from the rest. Newton's
/// failure to converge is reported as quasi-separation or collinearity.
pub fn bic_bits(flat: &SoftmaxProblem, start: &DVector<f64>) -> std::result::Result<f64, String> {
    let (n, m, classes) = (flat.n(), flat.width(), flat.classes());
    let p = flat.n_params();
    let effective = (classes - 1) * m;
    if n <= effective {
        return Err(format!("bic is undefined: n = {n} ≤ (K − 1)·m = {effective}, so the maximum-likelihood estimate is not determined"));
    }
    let pin = |theta: &DVector<f64>| -> DVector<f64> {
        let mut sum = DVector::zeros(m);
        for c in 0..classes {
            sum += theta.rows(c * m, m);
        }
        sum
    };
    let cost_of = |theta: &DVector<f64>| {
        flat.negative_log_likelihood(theta) + 0.5 * pin(theta).norm_squared()
    };
    let tolerance = MODE_TOLERANCE * flat.gradient_scale();
    let mut theta = start.clone();
    let mut cost = cost_of(&theta);
    for _ in 0..200 {
        if let Some(c) = separated_class(flat, &theta) {
            return Err(format!("bic is undefined: class {c} is linearly separable from the rest, so the likelihood rises without bound and no maximum-likelihood estimate exists"));
        }
        let sum = pin(&theta);
        let mut gradient = flat.likelihood_and_gradient(&theta).1;
        for c in 0..classes {
            let mut block = gradient.rows_mut(c * m, m);
            block += &sum;
        }
        if gradient.norm() <= tolerance {
            return Ok(bits(flat.negative_log_likelihood(&theta))
                + 0.5 * effective as f64 * (n as f64).log2());
        }
        let mut hessian = flat.fisher_information(&theta);
        hessian += DMatrix::from_element(classes, classes, 1.0).kronecker(&DMatrix::identity(m, m));
        let Some(cholesky) = hessian.cholesky() else {
            break;
        };
        let step = cholesky.solve(&gradient);
        let decrement = gradient.dot(&step);
        let mut t = 1.0;
        loop {
            let candidate = &theta - &step * t;
            let candidate_cost = cost_of(&candidate);
            if candidate_cost <= cost - 1e-4 * t * decrement
                || (decrement <= 1e-13 * cost.max(1.0) && t == 1.0)
            {
                theta = candidate;
                cost = candidate_cost;
                break;
            }
            t *= 0.5;
            if t < 1e-12 {
                return Err("bic is undefined: the maximum-likelihood fit stalled (the classes are probably quasi-separated)".into());
            }
        }
    }
    debug_assert_eq!(theta.len(), p);
    if let Some(c) = separated_class(flat, &theta) {
        return Err(format!("bic is undefined: class {c} is linearly separable from the rest, so the likelihood rises without bound and no maximum-likelihood estimate exists"));
    }
    Err("bic is undefined: no finite maximum-likelihood estimate (Newton without a prior did not converge: the classes are quasi-separated or the features collinear)".into())
}

/// A class c whose centred score (θ_c − mean_d θ_d)ᵀx̃ᵢ is positive on every row of class c and
/// negative on every other row, if there is one: a certificate that no ML estimate exists.
fn separated_class(problem: &SoftmaxProblem, theta: &DVector<f64>) -> Option<usize> {
    let (m, classes) = (problem.width(), problem.classes());
    let mut mean = DVector::zeros(m);
    for c in 0..classes {
        mean += theta.rows(c * m, m);
    }
    mean /= classes as f64;
    (0..classes).find(|&c| {
        let mut direction = DVector::zeros(theta.len());
        direction
            .rows_mut(c * m, m)
            .copy_from(&(theta.rows(c * m, m) - &mean));
        problem.separates_class(&direction, c)
    })
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
    fn two_class_prequential_equals_the_binary_one_at_root_two_sd() {
        use crate::inference::laplace::find_mode;
        use crate::model::logistic::LogisticProblem;
        let (k, n) = (2, 100);
        let (z, labels) = data(n, k, 2, 44);
        let m = k + 1;
        let alpha = 0.5;
        let mu0 = DVector::from_fn(m, |j, _| 0.1 * j as f64);
        let mu1 = DVector::from_fn(m, |j, _| -0.2 + 0.05 * j as f64);
        let center = DVector::from_iterator(2 * m, mu0.iter().chain(mu1.iter()).copied());
        let precision = DVector::from_element(2 * m, alpha);
        let boundaries = crate::codelength::doubling_boundaries(n, 10);
        let multi = SoftmaxProblem::new(Rows::design(&z, k), &labels, 2, true, &center, &precision);
        let fit_multi = |rows: usize, warm: &DVector<f64>| {
            let prefix = SoftmaxProblem::new(
                Rows::design(&z[..rows * k], k),
                &labels[..rows],
                2,
                true,
                &center,
                &precision,
            );
            softmax_mode_and_evidence(&prefix, warm.clone())
                .ok()
                .map(|(mode, _)| mode.params)
        };
        let ours = prequential_blocks(&multi, &boundaries, &center, &fit_multi);

        let y: Vec<f64> = labels.iter().map(|&c| c as f64).collect();
        let (bc, bp) = (&mu1 - &mu0, DVector::from_element(m, alpha / 2.0));
        let binary = LogisticProblem::new(&z, &y, k, true, &bc, &bp);
        let fit_binary = |rows: usize, warm: &DVector<f64>| {
            let prefix = LogisticProblem::new(&z[..rows * k], &y[..rows], k, true, &bc, &bp);
            find_mode(&prefix, warm.clone(), 1e-11 * prefix.gradient_scale())
                .ok()
                .map(|mode| mode.params)
        };
        let theirs =
            crate::codelength::logistic::prequential_blocks(&binary, &boundaries, &bc, &fit_binary);
        assert_eq!(ours.len(), theirs.len());
        assert!(ours.len() >= 3);
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(
                (a.start, a.end, a.refit_failed),
                (b.start, b.end, b.refit_failed)
            );
            assert!(
                (a.bits - b.bits).abs() <= 1e-7 * b.bits.max(1.0),
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn two_class_bic_equals_the_binary_bic() {
        use crate::model::logistic::LogisticProblem;
        let (k, n) = (2, 80);
        let (z, labels) = data(n, k, 2, 8);
        let m = k + 1;
        let (center, precision) = (DVector::zeros(2 * m), DVector::from_element(2 * m, 0.3));
        let multi = SoftmaxProblem::new(Rows::design(&z, k), &labels, 2, true, &center, &precision);
        let (mode, _) = softmax_mode_and_evidence(&multi, DVector::zeros(2 * m)).unwrap();
        let ours = bic_bits(&multi, &mode.params).unwrap();
        let y: Vec<f64> = labels.iter().map(|&c| c as f64).collect();
        let (bc, bp) = (DVector::zeros(m), DVector::zeros(m));
        let binary = LogisticProblem::new(&z, &y, k, true, &bc, &bp);
        let theirs = crate::codelength::logistic::bic_bits(&binary, &DVector::zeros(m)).unwrap();
        assert!((ours - theirs).abs() <= 1e-9 * theirs, "{ours} vs {theirs}");
    }

    #[test]
    fn bic_is_null_where_a_class_is_separable() {
        // Class 0 is x₀ < −0.5, class 1 and 2 overlap on x₀ ≥ −0.5 (told apart by noise).
        let (k, n, classes) = (2, 90, 3);
        let (z, _) = data(n, k, classes, 12);
        let labels: Vec<usize> = (0..n)
            .map(|i| {
                if z[i * k] < -0.5 {
                    0
                } else if (i * 7) % 3 == 0 {
                    1
                } else {
                    2
                }
            })
            .collect();
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
        let (mode, _) = softmax_mode_and_evidence(&problem, DVector::zeros(p)).unwrap();
        let e = bic_bits(&problem, &mode.params).unwrap_err();
        assert!(e.contains("class 0 is linearly separable"), "{e}");
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
