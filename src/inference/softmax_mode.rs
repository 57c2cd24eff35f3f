//! The MAP and Laplace evidence of linear-softmax regression ([`SoftmaxProblem`], math.md §7)
//! through the shared solver: L-BFGS in Hessian-diagonal-scaled coordinates, then Newton
//! ([`find_mode_scaled`]), the mode's gradient rechecked on a fresh pass, then
//! ln p(D) ≈ ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|H| ([`laplace_evidence`]).
//!
//! **K = 2 against the binary model.** With two classes the likelihood depends on θ only through
//! δ = θ₁ − θ₀ (p(y = 1) = σ(δᵀx̃)). Under the prior θ_c ~ N(μ_c, Λ⁻¹) (the same diagonal Λ for
//! both classes), δ = θ₁ − θ₀ and σ = θ₁ + θ₀ are independent, δ ~ N(μ₁ − μ₀, 2Λ⁻¹) and
//! σ ~ N(μ₁ + μ₀, 2Λ⁻¹); the linear change of variables (θ₀, θ₁) → (δ, σ) carries the prior
//! density to theirs, so
//! p(D) = ∫ p(D | δ) N(δ; μ₁ − μ₀, 2Λ⁻¹) dδ · ∫ N(σ; μ₁ + μ₀, 2Λ⁻¹) dσ
//! = the binary model's evidence with centre μ₁ − μ₀ and precision Λ/2 (prior sd s√2), exactly.
//! The same holds of the Laplace approximations (Laplace is invariant under a linear
//! reparametrisation, and the σ part of the posterior is exactly Gaussian), of γ (a trace,
//! tr(H⁻¹F), invariant under the change of basis), and of the mode: θ̂₁ − θ̂₀ is the binary MAP and
//! θ̂₁ + θ̂₀ = μ₁ + μ₀. The tests check all four.

use super::laplace::{
    find_mode_scaled, laplace_evidence, lbfgs_scaled_to_tolerance, maximize_over_log_sd,
    scales_from_diagonal, LaplaceEvidence, LogSdOptimum, Mode, MODE_TOLERANCE,
};
use crate::error::{OccamError, Result};
use crate::model::logistic::Rows;
use crate::model::softmax::{prior_arrays, SoftmaxProblem};
use crate::model::Intercept;
use nalgebra::DVector;

/// The mode of a softmax problem from `init` and the Laplace evidence there.
///
/// The mode is accepted only if a fresh pass over the rows (not the solver's own last
/// evaluation) finds ‖∇f(θ̂)‖ within the tolerance MODE_TOLERANCE × the problem's gradient scale.
pub fn softmax_mode_and_evidence(
    problem: &SoftmaxProblem<'_>,
    init: DVector<f64>,
) -> Result<(Mode, LaplaceEvidence)> {
    let zero = problem
        .likelihood_and_gradient(&DVector::zeros(problem.n_params()))
        .1;
    softmax_mode_and_evidence_from(problem, init, &zero)
}

/// [`softmax_mode_and_evidence`] given ∇ℓ(0) on the problem's rows (for its gradient scale,
/// [`SoftmaxProblem::gradient_scale_from`]), so that a search over priors on the same rows
/// computes it once.
pub fn softmax_mode_and_evidence_from(
    problem: &SoftmaxProblem<'_>,
    init: DVector<f64>,
    likelihood_gradient_at_zero: &DVector<f64>,
) -> Result<(Mode, LaplaceEvidence)> {
    let scale = scales_from_diagonal(&problem.hessian_diagonal(&init));
    let tolerance = MODE_TOLERANCE * problem.gradient_scale_from(likelihood_gradient_at_zero);
    // L-BFGS asks for f and ∇f at each point: one pass for both through the fused problem. It
    // runs to the mode's own tolerance when a Hessian costs more than the passes that saves
    // ([`lbfgs_budget`]), so that the only Hessian formed is the one at the mode.
    let fused = problem.fused();
    let budget = lbfgs_budget(problem);
    let (start, extra) = lbfgs_scaled_to_tolerance(&fused, init, tolerance, &scale, budget);
    let mut mode = find_mode_scaled(&fused, start, tolerance, Some(&scale))?;
    mode.lbfgs_iterations += extra;
    let (nll, gradient) = problem.likelihood_and_gradient(&mode.params);
    let recheck = (gradient + problem.penalty_gradient(&mode.params)).norm();
    if recheck.is_nan() || recheck > tolerance {
        return Err(OccamError::computation(
            "rechecking the softmax posterior mode",
            format!(
                "a fresh pass finds ‖∇f‖ = {recheck:.3e} at the mode, above the tolerance {tolerance:.3e}"
            ),
        ));
    }
    let laplace = laplace_evidence(&mode, -nll, problem.center(), problem.precision());
    Ok((mode, laplace))
}

/// How many L-BFGS iterations [`softmax_mode_and_evidence_from`] may spend reaching the mode
/// before the Newton polish takes over: the iterations the usual L-BFGS stage takes
/// ([`LBFGS_STAGE_ITERS`], what [`find_mode_scaled`] allows itself) plus the passes over the rows
/// that one Hessian costs, h ≈ m(K − 1)/[`PASSES_PER_HESSIAN_DIVISOR`] for m columns (k + 1 with
/// an intercept) and K classes — a pass forms K predictors and K gradient rows per row, ≈ 4mK
/// flops; the Fisher information's K(K − 1)/2 block products ≈ m²K(K − 1) flops, at
/// matrix-product speed — at most [`LBFGS_BUDGET_MAX`]. When h < 2 (a Hessian costs about a
/// pass) the budget is 0 and the search is L-BFGS to the hand-off, then Newton, as before.
fn lbfgs_budget(problem: &SoftmaxProblem<'_>) -> u64 {
    let (m, kk) = (problem.width(), problem.classes());
    let h = (m * kk.saturating_sub(1)) as u64 / PASSES_PER_HESSIAN_DIVISOR;
    if h < 2 {
        0
    } else {
        (LBFGS_STAGE_ITERS + h).min(LBFGS_BUDGET_MAX)
    }
}

/// [`find_mode_scaled`]'s own cap on its L-BFGS stage (its `SCALED_MAX_ITERS`).
const LBFGS_STAGE_ITERS: u64 = 20;

/// Measured at 100 000 × 50, K = 10 (m = 51): one Hessian 3.0–3.3 s, one f + ∇f pass 0.15 s, so
/// one Hessian ≈ 20 passes ≈ 51 · 9 / 23.
const PASSES_PER_HESSIAN_DIVISOR: u64 = 23;

/// The cap on [`lbfgs_budget`], so that an ill-conditioned problem (where L-BFGS converges
/// slowly) does not spend more than a few Hessians' worth of passes before Newton.
const LBFGS_BUDGET_MAX: u64 = 60;

/// Empirical Bayes for the prior sd s of a softmax model: the s maximising the Laplace evidence
/// ([`maximize_over_log_sd`]: a grid in ln s, then Brent), the prior at each s built by
/// [`prior_arrays`] from the intercept treatment and the shared centre (class-major, length
/// K·[`crate::model::softmax::shared_width`]). Every evaluation fits the mode from the same `init`
/// (as the binary study does), so the evidence is a function of s alone.
///
/// By the K = 2 relation above, two classes give ŝ = ŝ_binary/√2 with the same evidence (tested).
pub fn softmax_empirical_bayes(
    rows: Rows<'_>,
    labels: &[usize],
    classes: usize,
    intercept: Intercept,
    shared_center: &DVector<f64>,
    init: &DVector<f64>,
) -> Result<LogSdOptimum> {
    let zero = std::sync::OnceLock::new();
    let evaluate = |log_sd: f64| -> Result<f64> {
        let prior = prior_arrays(rows.k(), classes, intercept, log_sd.exp(), shared_center)?;
        let problem = SoftmaxProblem::new(
            rows,
            labels,
            classes,
            intercept != Intercept::None,
            &prior.center,
            &prior.precision,
        );
        let zero = zero.get_or_init(|| {
            problem
                .likelihood_and_gradient(&DVector::zeros(problem.n_params()))
                .1
        });
        Ok(
            softmax_mode_and_evidence_from(&problem, init.clone(), zero)?
                .1
                .log_evidence,
        )
    };
    maximize_over_log_sd(&evaluate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::logistic::{LogisticProblem, Rows};
    use crate::testing::random_design;

    /// Labels in 0..classes from a noisy argmax of fixed linear scores (deterministic).
    fn data(n: usize, k: usize, classes: usize, seed: u64) -> (Vec<f64>, Vec<usize>) {
        let (x, noise) = random_design(n, k, seed);
        let z = x.transpose().as_slice().to_vec();
        let labels = (0..n)
            .map(|i| {
                let score = |c: usize| {
                    z[i * k..(i + 1) * k]
                        .iter()
                        .enumerate()
                        .map(|(j, v)| v * (((c * 7 + j * 3) % 5) as f64 - 2.0) * 0.5)
                        .sum::<f64>()
                        + noise[i] * if c % 2 == 0 { 0.9 } else { -0.9 }
                };
                (0..classes)
                    .max_by(|&a, &b| score(a).total_cmp(&score(b)))
                    .unwrap()
            })
            .collect();
        (z, labels)
    }

    #[test]
    fn two_classes_equal_the_binary_model_with_prior_sd_times_root_two() {
        // (intercept, intercept precision): shared (= α) and prior:SD (its own precision).
        for (intercept, intercept_precision) in [(true, 0.4), (true, 0.02), (false, 0.0)] {
            let (k, n) = (3, 80);
            let (z, labels) = data(n, k, 2, 7);
            let m = k + usize::from(intercept);
            let alpha = 0.4;
            let lambda = DVector::from_fn(m, |j, _| {
                if intercept && j == k {
                    intercept_precision
                } else {
                    alpha
                }
            });
            let mu0 = DVector::from_fn(m, |j, _| 0.1 * j as f64 - 0.2);
            let mu1 = DVector::from_fn(m, |j, _| 0.3 - 0.15 * j as f64);
            let center = DVector::from_iterator(2 * m, mu0.iter().chain(mu1.iter()).copied());
            let precision =
                DVector::from_iterator(2 * m, lambda.iter().chain(lambda.iter()).copied());
            let multi = SoftmaxProblem::new(
                Rows::design(&z, k),
                &labels,
                2,
                intercept,
                &center,
                &precision,
            );
            let (mode, laplace) = softmax_mode_and_evidence(&multi, DVector::zeros(2 * m)).unwrap();

            let y: Vec<f64> = labels.iter().map(|&c| c as f64).collect();
            let binary_center = &mu1 - &mu0;
            let binary_precision = &lambda * 0.5;
            let binary =
                LogisticProblem::new(&z, &y, k, intercept, &binary_center, &binary_precision);
            let binary_mode = crate::inference::laplace::find_mode(
                &binary,
                DVector::zeros(m),
                1e-11 * binary.gradient_scale(),
            )
            .unwrap();
            let binary_laplace = laplace_evidence(
                &binary_mode,
                -binary.negative_log_likelihood(&binary_mode.params),
                &binary_center,
                &binary_precision,
            );

            let e = laplace.log_evidence;
            let eb = binary_laplace.log_evidence;
            assert!((e - eb).abs() <= 1e-9 * eb.abs(), "{e} vs {eb}");
            assert!(
                (laplace.log_likelihood - binary_laplace.log_likelihood).abs() <= 1e-9 * eb.abs()
            );
            let (g, gb) = (
                laplace.effective_parameters,
                binary_laplace.effective_parameters,
            );
            assert!((g - gb).abs() <= 1e-8, "γ {g} vs {gb}");
            for j in 0..m {
                let (t0, t1) = (mode.params[j], mode.params[m + j]);
                let d = binary_mode.params[j];
                assert!((t1 - t0 - d).abs() <= 1e-7 * d.abs().max(1.0), "δ{j}");
                if lambda[j] > 0.0 {
                    assert!((t1 + t0 - (mu0[j] + mu1[j])).abs() <= 1e-7, "σ{j}");
                }
            }
        }
    }

    #[test]
    fn lbfgs_to_the_tolerance_leaves_only_the_hessian_at_the_mode() {
        // m = 10, K = 6: a Hessian ≈ 50/23 ≥ 2 passes, so the fit runs L-BFGS toward the mode's
        // tolerance (budget > the usual stage), here with a budget that lets it get there or to
        // where f stalls at its rounding (COST_STALL_RELATIVE): the Newton polish then takes at
        // most one step and no second L-BFGS stage runs.
        let (k, n, classes) = (9, 1500, 6);
        let (z, labels) = data(n, k, classes, 11);
        let p = classes * (k + 1);
        let center = DVector::from_fn(p, |j, _| 0.05 * ((j % 7) as f64) - 0.1);
        let precision = DVector::from_element(p, 20.0);
        let problem = SoftmaxProblem::new(
            Rows::design(&z, k),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        assert!(lbfgs_budget(&problem) > LBFGS_STAGE_ITERS);
        let tolerance = MODE_TOLERANCE * problem.gradient_scale();
        let init = DVector::zeros(p);
        let scale = scales_from_diagonal(&problem.hessian_diagonal(&init));
        let fused = problem.fused();
        let (start, iterations) = lbfgs_scaled_to_tolerance(&fused, init, tolerance, &scale, 500);
        assert!(iterations > 0 && iterations < 500);
        let mode = find_mode_scaled(&fused, start, tolerance, Some(&scale)).unwrap();
        assert!(
            mode.newton_iterations <= 1,
            "at most one Newton step from where L-BFGS stopped, not {}",
            mode.newton_iterations
        );
        assert_eq!(mode.lbfgs_iterations, 0, "no second L-BFGS stage");
        assert!(problem.gradient_at(&mode.params).norm() <= tolerance);
        let laplace = laplace_evidence(
            &mode,
            -problem.likelihood_and_gradient(&mode.params).0,
            &center,
            &precision,
        );

        // Independent route: Newton from zero to a tolerance 100× tighter, then the evidence.
        let newton =
            crate::inference::laplace::find_mode(&problem, DVector::zeros(p), 1e-2 * tolerance)
                .unwrap();
        let reference = laplace_evidence(
            &newton,
            -problem.likelihood_and_gradient(&newton.params).0,
            &center,
            &precision,
        );
        let scale = newton.params.amax();
        assert!((&mode.params - &newton.params).amax() <= 1e-7 * scale);
        let (e, r) = (laplace.log_evidence, reference.log_evidence);
        assert!((e - r).abs() <= 1e-9 * r.abs(), "{e} vs {r}");
    }

    #[test]
    fn two_class_empirical_bayes_is_the_binary_one_over_root_two() {
        let (k, n) = (2, 60);
        let (z, labels) = data(n, k, 2, 21);
        let m = k + 1;
        let shared = DVector::zeros(2 * m);
        let init = DVector::zeros(2 * m);
        let multi = softmax_empirical_bayes(
            Rows::design(&z, k),
            &labels,
            2,
            Intercept::Shared,
            &shared,
            &init,
        )
        .unwrap();
        let y: Vec<f64> = labels.iter().map(|&c| c as f64).collect();
        let center = DVector::zeros(m);
        let binary = maximize_over_log_sd(&|log_sd: f64| {
            let precision = DVector::from_element(m, (-2.0 * log_sd).exp());
            let problem = LogisticProblem::new(&z, &y, k, true, &center, &precision);
            let mode = crate::inference::laplace::find_mode(
                &problem,
                DVector::zeros(m),
                MODE_TOLERANCE * problem.gradient_scale(),
            )?;
            Ok(laplace_evidence(
                &mode,
                -problem.negative_log_likelihood(&mode.params),
                &center,
                &precision,
            )
            .log_evidence)
        })
        .unwrap();
        let shift = multi.log_sd - (binary.log_sd - 0.5 * 2f64.ln());
        assert!(
            shift.abs() < 1e-5,
            "ln ŝ {} vs {}",
            multi.log_sd,
            binary.log_sd
        );
        assert!(
            (multi.log_evidence - binary.log_evidence).abs() < 1e-9 * binary.log_evidence.abs(),
            "{} vs {}",
            multi.log_evidence,
            binary.log_evidence
        );
    }

    #[test]
    fn three_class_empirical_bayes_finds_the_evidence_maximum() {
        let (k, n, classes) = (3, 90, 3);
        let (z, labels) = data(n, k, classes, 17);
        let m = k + 1;
        let shared = DVector::zeros(classes * m);
        let init = DVector::zeros(classes * m);
        let rows = Rows::design(&z, k);
        let best =
            softmax_empirical_bayes(rows, &labels, classes, Intercept::Shared, &shared, &init)
                .unwrap();
        let at = |log_sd: f64| {
            let prior = prior_arrays(k, classes, Intercept::Shared, log_sd.exp(), &shared).unwrap();
            let problem = SoftmaxProblem::new(
                rows,
                &labels,
                classes,
                true,
                &prior.center,
                &prior.precision,
            );
            softmax_mode_and_evidence(&problem, init.clone())
                .unwrap()
                .1
                .log_evidence
        };
        assert!((at(best.log_sd) - best.log_evidence).abs() < 1e-9 * best.log_evidence.abs());
        for step in [-0.05, 0.05, -0.5, 0.5] {
            assert!(
                at(best.log_sd + step) < best.log_evidence,
                "ln s {} + {step} beats the optimum",
                best.log_sd
            );
        }
    }

    /// ln ∫∫ p(y | μ + a·u₁ + b·u₂) N(a; 0, s²) N(b; 0, s²) da db by the trapezoid rule on a
    /// grid of `points`² nodes spanning ±`width` posterior sds around the mode: the exact evidence
    /// of a K = 3, k = 1 model with no intercept (P = 3), whose likelihood is constant along
    /// (1, 1, 1) so that the third orthonormal direction integrates to one.
    fn quadrature_log_evidence(
        problem: &SoftmaxProblem<'_>,
        center: &DVector<f64>,
        s: f64,
        mode: &Mode,
        points: usize,
        width: f64,
    ) -> f64 {
        let r2 = 2f64.sqrt();
        let r6 = 6f64.sqrt();
        let u1 = DVector::from_vec(vec![1.0 / r2, -1.0 / r2, 0.0]);
        let u2 = DVector::from_vec(vec![1.0 / r6, 1.0 / r6, -2.0 / r6]);
        // The mode and the posterior sds in these coordinates.
        let t = &mode.params - center;
        let (a0, b0) = (t.dot(&u1), t.dot(&u2));
        let basis = nalgebra::DMatrix::from_columns(&[u1.clone(), u2.clone()]);
        let h2 = basis.transpose() * &mode.hessian * &basis;
        let cov = h2.try_inverse().unwrap();
        let (sa, sb) = (cov[(0, 0)].sqrt(), cov[(1, 1)].sqrt());
        let (ha, hb) = (
            2.0 * width * sa / (points - 1) as f64,
            2.0 * width * sb / (points - 1) as f64,
        );
        let log_normal =
            |v: f64| -0.5 * (v / s).powi(2) - (s * (2.0 * std::f64::consts::PI).sqrt()).ln();
        let log_integrand = |a: f64, b: f64| {
            let theta = center + &u1 * a + &u2 * b;
            -problem.negative_log_likelihood(&theta) + log_normal(a) + log_normal(b)
        };
        let peak = log_integrand(a0, b0);
        let mut sum = 0.0;
        for i in 0..points {
            let a = a0 - width * sa + i as f64 * ha;
            for j in 0..points {
                let b = b0 - width * sb + j as f64 * hb;
                sum += (log_integrand(a, b) - peak).exp();
            }
        }
        peak + (sum * ha * hb).ln()
    }

    #[test]
    fn laplace_tracks_two_dimensional_quadrature_at_three_classes() {
        let mut gaps = Vec::new();
        for n in [30, 240] {
            let (z, labels) = data(n, 1, 3, 13);
            let s: f64 = 1.5;
            let center = DVector::from_vec(vec![0.2, -0.1, 0.3]);
            let precision = DVector::from_element(3, 1.0 / (s * s));
            let problem =
                SoftmaxProblem::new(Rows::design(&z, 1), &labels, 3, false, &center, &precision);
            let (mode, laplace) = softmax_mode_and_evidence(&problem, DVector::zeros(3)).unwrap();
            let exact = quadrature_log_evidence(&problem, &center, s, &mode, 161, 9.0);
            // The quadrature has converged: a coarser grid and a narrower span agree.
            let coarse = quadrature_log_evidence(&problem, &center, s, &mode, 81, 8.0);
            assert!((exact - coarse).abs() < 1e-6, "{exact} vs {coarse}");
            let gap = (laplace.log_evidence - exact).abs();
            gaps.push(gap);
            assert!(
                gap < 0.05,
                "n = {n}: Laplace {} vs quadrature {exact}",
                laplace.log_evidence
            );
        }
        // Laplace's error shrinks with n (O(1/n) in ln p).
        assert!(gaps[1] < gaps[0], "{gaps:?}");
    }
}
