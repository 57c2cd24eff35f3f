//! The last-layer Laplace evidence of a network (math.md §9, `laplace-last-layer`): the earlier
//! layers fixed at θ̂, the output layer's (W, b) integrated out — the Laplace evidence of a GLM
//! (linear-Gaussian, logistic or softmax) on the network's last hidden features
//! φᵢ = h_L(xᵢ; θ̂), a different model from the network's: say so wherever it is printed.
//!
//! With θ_L the output layer's P_L parameters (the last P_L of θ, model docs), Λ_L, μ_L their prior:
//!
//!   ln p(D | body) ≈ ln p(D | θ̂) + ln π(θ̂_L) + (P_L/2) ln 2π − ½ ln|G_L + Λ_L|,
//!
//! G_L the GGN of the output layer, which for these canonical-link GLMs is their exact Hessian
//! (and for regression makes the evidence exact given the body). γ = P_L − tr(Λ_L(G_L + Λ_L)⁻¹);
//! the sds √diag((G_L + Λ_L)⁻¹). P_L × P_L only: (h_L + 1)·outputs.

use super::kfac::StructuredEvidence;
use super::laplace::log_prior_density;
use crate::error::{OccamError, Result, Setting};
use crate::message;
use crate::model::mlp::{Architecture, MlpProblem};
use nalgebra::DVector;
use std::f64::consts::PI;

/// The method's label in every output.
pub const METHOD: &str = "laplace-last-layer";

/// The last hidden layer's outputs φᵢ = h_L(zᵢ; θ) for the rows `z` (row-major n × k), row-major
/// n × h_L, and the GLM on them: an architecture with h_L inputs, no hidden layer, the network's
/// task and outputs. An error (typed, [`Setting::Hidden`]) for a network without hidden layers,
/// whose last layer is the whole model.
pub fn last_hidden_features(
    arch: &Architecture,
    theta: &DVector<f64>,
    z: &[f64],
) -> Result<(Vec<f64>, Architecture)> {
    let Some(&width) = arch.hidden.last() else {
        return Err(OccamError::invalid(
            Setting::Hidden,
            message![
                "a last-layer Laplace needs at least one hidden layer (without one the last layer \
                 is the whole network: use the full evidence, or set ",
                Setting::Hidden,
                ")"
            ],
        ));
    };
    let layers = arch.layers(theta);
    let mut features = Vec::with_capacity(z.len() / arch.inputs.max(1) * width);
    for row in z.chunks_exact(arch.inputs) {
        let mut h = row.to_vec();
        for (w, b) in &layers[..layers.len() - 1] {
            h = (0..w.nrows())
                .map(|o| {
                    let a = b[o] + w.row(o).iter().zip(&h).map(|(x, y)| x * y).sum::<f64>();
                    arch.activation.apply(a)
                })
                .collect();
        }
        features.extend(h);
    }
    let glm =
        Architecture::new(width, vec![], arch.activation, arch.task)?.with_outputs(arch.outputs)?;
    Ok((features, glm))
}

/// The last-layer evidence of `problem` at θ̂ = `theta` with prior centre `center` (see the module
/// docs); every prior precision of the output layer must be positive and finite.
pub fn last_layer_evidence(
    problem: &MlpProblem,
    theta: &DVector<f64>,
    center: &DVector<f64>,
) -> Result<StructuredEvidence> {
    let arch = problem.architecture();
    let p = theta.len();
    let n = problem.n();
    let z: Vec<f64> = (0..n).flat_map(|i| problem.row(i).to_vec()).collect();
    let y: Vec<f64> = (0..n).map(|i| problem.target(i)).collect();
    let (features, glm) = last_hidden_features(arch, theta, &z)?;
    let p_last = glm.n_params();
    let tail = |v: &DVector<f64>| DVector::from_column_slice(&v.as_slice()[p - p_last..]);
    let (theta_last, center_last, precision_last) =
        (tail(theta), tail(center), tail(problem.precision()));
    if let Some(j) = precision_last
        .iter()
        .position(|l| !(*l > 0.0 && l.is_finite()))
    {
        return Err(OccamError::invalid(
            Setting::Hessian,
            message!(format!(
                "the last-layer Laplace needs a finite, positive prior precision on every output-layer parameter; {} has {}",
                arch.parameter_names()[p - p_last + j],
                precision_last[j]
            )),
        ));
    }
    let glm_problem = MlpProblem::new(
        &glm,
        &features,
        &y,
        &center_last,
        &precision_last,
        problem.noise_precision(),
    );
    let hessian = glm_problem.hessian_ggn(&theta_last);
    let eigen = hessian.clone().symmetric_eigen();
    let Some(cholesky) = hessian.cholesky() else {
        return Err(OccamError::computation(
            "the last-layer Laplace evidence",
            "the output layer's curvature G_L + Λ_L is not positive definite",
        ));
    };
    let log_det_hessian = 2.0 * cholesky.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    let inverse = cholesky.inverse();
    let variance = inverse.diagonal();
    let gamma = p_last as f64
        - precision_last
            .iter()
            .zip(variance.iter())
            .map(|(l, v)| l * v)
            .sum::<f64>();
    let log_likelihood = -glm_problem.negative_log_likelihood(&theta_last);
    let log_prior = log_prior_density(&theta_last, &center_last, &precision_last);
    let curvature = glm_problem.ggn(&theta_last).symmetric_eigenvalues();
    Ok(StructuredEvidence {
        method: METHOD,
        log_evidence: log_likelihood + log_prior + 0.5 * p_last as f64 * (2.0 * PI).ln()
            - 0.5 * log_det_hessian,
        log_likelihood,
        log_prior,
        log_det_hessian,
        layer_effective_parameters: vec![gamma],
        effective_parameters: gamma,
        posterior_sd: variance.map(|v| v.max(0.0).sqrt()),
        eigenvalue_range: [eigen.eigenvalues.min(), eigen.eigenvalues.max()],
        curvature_eigenvalues: curvature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::network_mode::search_network_mode;
    use crate::model::mlp::{initial_parameters, Activation, Task};
    use crate::testing::random_design;
    use nalgebra::DMatrix;

    /// A network mode on random rows, and its problem's pieces.
    fn mode(task: Task, seed: u64) -> (Architecture, Vec<f64>, Vec<f64>, DVector<f64>, f64) {
        let (n, k) = (140, 3);
        let (x, y) = random_design(n, k, seed);
        let z = x.transpose().as_slice().to_vec();
        let y: Vec<f64> = match task {
            Task::Regression => y.as_slice().to_vec(),
            Task::Classification => y.iter().map(|v| f64::from(u8::from(*v > 0.0))).collect(),
        };
        let arch = Architecture::new(k, vec![4, 3], Activation::Tanh, task).unwrap();
        let p = arch.n_params();
        let precision = DVector::from_element(p, 1.5);
        let center = DVector::zeros(p);
        let beta = 2.0;
        let problem = MlpProblem::new(&arch, &z, &y, &center, &precision, beta);
        let tolerance = 1e-9 * problem.gradient_scale();
        let theta =
            search_network_mode(&problem, initial_parameters(&arch, 1), tolerance, tolerance)
                .unwrap()
                .params;
        (arch, z, y, theta, beta)
    }

    /// Φ̃ (n × (h + 1), the last column 1) and the output layer's (w, b) as one vector in Φ̃'s
    /// column order, built here from the network's definition (`Architecture::output_vector`'s
    /// row-by-row route is not used: the hidden outputs are recomputed from `layers`).
    fn features(
        arch: &Architecture,
        theta: &DVector<f64>,
        z: &[f64],
    ) -> (DMatrix<f64>, DVector<f64>) {
        let layers = arch.layers(theta);
        let rows: Vec<Vec<f64>> = z
            .chunks(arch.inputs)
            .map(|x| {
                let mut h = DVector::from_column_slice(x);
                for (w, b) in &layers[..layers.len() - 1] {
                    h = (w * &h + b).map(f64::tanh);
                }
                h.iter().copied().chain([1.0]).collect()
            })
            .collect();
        let phi = DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j]);
        let (w, b) = layers.last().unwrap();
        let beta = DVector::from_iterator(w.ncols() + 1, w.row(0).iter().copied().chain([b[0]]));
        (phi, beta)
    }

    /// Regression: the last-layer evidence is the closed-form linear-Gaussian evidence on the
    /// last hidden features (math.md §3), A = αI + βΦ̃ᵀΦ̃, m = A⁻¹βΦ̃ᵀy,
    /// ln p = (P/2) ln α + (n/2) ln β − E(m) − ½ ln|A| − (n/2) ln 2π — evaluated at its own m.
    #[test]
    fn regression_last_layer_is_the_linear_model_on_the_features() {
        let (arch, z, y, theta, beta) = mode(Task::Regression, 3);
        let p = arch.n_params();
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.5));
        let problem = MlpProblem::new(&arch, &z, &y, &center, &precision, beta);
        let ev = last_layer_evidence(&problem, &theta, &center).unwrap();
        let (phi, last) = features(&arch, &theta, &z);
        let (n, q) = phi.shape();
        let alpha = 1.5;
        let yv = DVector::from_column_slice(&y);
        let a = DMatrix::identity(q, q) * alpha + phi.transpose() * &phi * beta;
        let chol = a.clone().cholesky().unwrap();
        let m = chol.solve(&(phi.transpose() * &yv * beta));
        // The network's mode has the GLM's mode as its last layer.
        assert!((&m - &last).amax() < 1e-7, "{m} vs {last}");
        let e = 0.5 * beta * (&yv - &phi * &m).norm_squared() + 0.5 * alpha * m.norm_squared();
        let log_det = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let exact = 0.5 * q as f64 * alpha.ln() + 0.5 * n as f64 * beta.ln()
            - e
            - 0.5 * log_det
            - 0.5 * n as f64 * (2.0 * PI).ln();
        assert_eq!(ev.method, "laplace-last-layer");
        assert!(
            (ev.log_evidence - exact).abs() < 1e-9 * exact.abs(),
            "{} vs {exact}",
            ev.log_evidence
        );
        let inverse = chol.inverse();
        let gamma = q as f64 - alpha * inverse.trace();
        assert!((ev.effective_parameters - gamma).abs() < 1e-10);
        assert_eq!(ev.posterior_sd.len(), q);
    }

    /// Binary: the logistic model's Laplace evidence on the last hidden features (math.md §4),
    /// H = Φ̃ᵀSΦ̃ + αI, S = diag(pᵢ(1 − pᵢ)), computed densely here.
    #[test]
    fn binary_last_layer_is_the_logistic_model_on_the_features() {
        let (arch, z, y, theta, _) = mode(Task::Classification, 8);
        let p = arch.n_params();
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.5));
        let problem = MlpProblem::new(&arch, &z, &y, &center, &precision, 1.0);
        let ev = last_layer_evidence(&problem, &theta, &center).unwrap();
        let (phi, w) = features(&arch, &theta, &z);
        let q = phi.ncols();
        let alpha = 1.5;
        let eta = &phi * &w;
        let prob = eta.map(|e| 1.0 / (1.0 + (-e).exp()));
        let log_likelihood: f64 = prob
            .iter()
            .zip(&y)
            .map(|(p, y)| y * p.ln() + (1.0 - y) * (1.0 - p).ln())
            .sum();
        let gradient = phi.transpose() * (&prob - DVector::from_column_slice(&y)) + &w * alpha;
        assert!(gradient.amax() < 1e-7, "not the GLM's mode: {gradient}");
        let s = DMatrix::from_diagonal(&prob.map(|p| p * (1.0 - p)));
        let h = phi.transpose() * s * &phi + DMatrix::identity(q, q) * alpha;
        let log_det = 2.0
            * h.cholesky()
                .unwrap()
                .l()
                .diagonal()
                .iter()
                .map(|d| d.ln())
                .sum::<f64>();
        let log_prior = 0.5 * q as f64 * (alpha / (2.0 * PI)).ln() - 0.5 * alpha * w.norm_squared();
        let laplace = log_likelihood + log_prior + 0.5 * q as f64 * (2.0 * PI).ln() - 0.5 * log_det;
        assert!(
            (ev.log_evidence - laplace).abs() < 1e-9 * laplace.abs(),
            "{} vs {laplace}",
            ev.log_evidence
        );
    }

    #[test]
    fn a_network_without_hidden_layers_is_refused() {
        let arch = Architecture::new(2, vec![], Activation::Tanh, Task::Regression).unwrap();
        let theta = DVector::zeros(3);
        let e = last_hidden_features(&arch, &theta, &[0.0, 1.0]).unwrap_err();
        assert!(matches!(e, OccamError::InvalidArgument { .. }), "{e:?}");
    }
}
