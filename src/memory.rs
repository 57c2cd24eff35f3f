//! Memory checked before it is allocated: a model whose matrices cannot fit is refused with the
//! figure and the fix (exit 2) instead of aborting halfway with "memory allocation failed".

use crate::error::{Message, OccamError, Result, Setting};
use crate::files::human_bytes;
use crate::message;

/// Bytes of one f64.
const F64: f64 = 8.0;

/// The memory the system can give a new allocation without swapping: `MemAvailable` of
/// `/proc/meminfo` (Linux). `None` where that is not known; [`check_fits`] then still refuses
/// what no machine has (more than [`NO_MACHINE_HAS`]).
pub fn available_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_available(&text)
}

/// `MemAvailable:  22930172 kB` → bytes.
fn parse_mem_available(meminfo: &str) -> Option<f64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut parts = line["MemAvailable:".len()..].split_whitespace();
    let value: f64 = parts.next()?.parse().ok()?;
    let scale = match parts.next() {
        Some("kB") => 1024.0,
        None => 1.0,
        Some(_) => return None,
    };
    Some(value * scale)
}

/// A figure above any machine's memory (1 PiB), refused even where the available memory is not
/// known.
pub const NO_MACHINE_HAS: f64 = 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0;

/// Refuses `needed` bytes (for `what`, with `fix` saying how to need less) when they exceed the
/// memory available now, or [`NO_MACHINE_HAS`] where that is not known.
pub fn check_fits(
    needed: f64,
    setting: Setting,
    what: &str,
    fix: impl Into<Message>,
) -> Result<()> {
    check_fits_in(needed, available_bytes(), setting, what, fix)
}

fn check_fits_in(
    needed: f64,
    available: Option<f64>,
    setting: Setting,
    what: &str,
    fix: impl Into<Message>,
) -> Result<()> {
    let limit = available.unwrap_or(NO_MACHINE_HAS);
    if needed <= limit {
        return Ok(());
    }
    let have = match available {
        Some(bytes) => format!("only {} is available", human_bytes(bytes)),
        None => "no machine has that much".to_string(),
    };
    Err(OccamError::invalid(
        setting,
        Message::from(format!(
            "{what} needs at least {} of memory and {have}; ",
            human_bytes(needed)
        ))
        .then(fix.into()),
    ))
}

/// P × P matrices of f64 alive at once where a network fit forms its curvature (`--hessian
/// ggn|exact`, or the dense whitened search up to
/// `inference::kfac_search::KFAC_SEARCH_ABOVE` parameters), counted in the code: the
/// curvature matrix, its Cholesky factor L and L⁻¹ (fit/mlp/mode.rs: `hessian_ggn` then
/// `Factored::new`, the matrix kept for its eigenvalues), and in the search's double-precision
/// fallback (inference/network_mode.rs) the same three plus L⁻¹'s lower triangle in single
/// precision (P²/2 × 4 bytes = ¼ of a copy). (The GGN's own assembly, a row-major sum copied into
/// a matrix, peaks at two; the two_part code's Fisher matrix and its eigenvalue copy at two, after
/// the evidence's matrices are freed.)
pub const MLP_SQUARE_COPIES: f64 = 3.25;

/// f64 vectors of P a network search without a P × P matrix holds at once: L-BFGS's history
/// (2 × 20), the whitened problem's origin, cached point, gradients and the search's own (≈ 10).
pub const MLP_VECTOR_COPIES: f64 = 50.0;

/// The least memory a network fit needs, in bytes, for n rows, k inputs, hidden widths h₁…h_L,
/// `outputs` output units (1, or K softmax outputs) and `chunk_rows` rows per Jacobian block, with
/// P = Σ (fan-in + 1)·fan-out the parameter count (computed in floating point, so no width can
/// overflow it). When the fit forms P × P matrices (`full`):
///
/// 8·(3.25·P² + chunk_rows·P + 4n·Σh + n·k)
///
/// — [`MLP_SQUARE_COPIES`] of the curvature, one block of Jacobian rows, the forward/backward
/// buffers (pre-activations, activations, deltas, back-propagated errors) for every row, and the
/// standardised inputs. Without (`--hessian kfac|diag` above the switch size):
///
/// 8·(50·P + Σ_ℓ ((fan_in + 1)² + fan_out²) + 4n·Σh + n·k)
///
/// — [`MLP_VECTOR_COPIES`] vectors of P and the Kronecker factors. Lower bounds: the
/// factorisations' workspace comes on top.
pub fn mlp_bytes(
    n: usize,
    k: usize,
    hidden: &[usize],
    outputs: usize,
    chunk_rows: usize,
    full: bool,
) -> f64 {
    let p = mlp_params(k, hidden, outputs);
    let widths: Vec<f64> = std::iter::once(k)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(outputs))
        .map(|w| w as f64)
        .collect();
    let (n, k) = (n as f64, k as f64);
    let hidden_total: f64 = hidden.iter().map(|&h| h as f64).sum();
    let rows = 4.0 * n * hidden_total + n * k;
    if full {
        F64 * (MLP_SQUARE_COPIES * p * p + chunk_rows as f64 * p + rows)
    } else {
        let factors: f64 = widths
            .windows(2)
            .map(|w| (w[0] + 1.0).powi(2) + w[1] * w[1])
            .sum();
        F64 * (MLP_VECTOR_COPIES * p + factors + rows)
    }
}

/// P = Σ (fan-in + 1)·fan-out of a k-input network with `outputs` output units, in floating
/// point so that no width can overflow it.
pub fn mlp_params(k: usize, hidden: &[usize], outputs: usize) -> f64 {
    let widths: Vec<f64> = std::iter::once(k)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(outputs))
        .map(|w| w as f64)
        .collect();
    widths.windows(2).map(|w| (w[0] + 1.0) * w[1]).sum()
}

/// The least memory `occam simulate` needs for n rows of k features from a teacher with
/// `params` parameters: 8 bytes per parameter and per value held, and up to 24 characters of CSV
/// text per value written:
///
/// 8·params + (8 + 24)·n·(k + 1)
pub fn simulation_bytes(n: usize, k: usize, params: f64) -> f64 {
    F64 * params + (F64 + 24.0) * n as f64 * (k as f64 + 1.0)
}

/// Refuses a network teacher whose [`simulation_bytes`] exceed the available memory (the rows
/// alone are bounded by `simulate`'s own n·k limit).
pub fn check_simulation(n: usize, k: usize, params: f64) -> Result<()> {
    check_fits(
        simulation_bytes(n, k, params),
        Setting::Hidden,
        &format!("a teacher network of {params:.0} parameters simulating {n} rows"),
        message![
            "use fewer or narrower hidden layers (a smaller ",
            Setting::Hidden,
            ")"
        ],
    )
}

/// Refuses a network whose [`mlp_bytes`] exceed the available memory (exit 2, with the figure),
/// naming `--hessian kfac` as the fix when the fit would form P × P matrices (`full`).
pub fn check_mlp(
    n: usize,
    k: usize,
    hidden: &[usize],
    outputs: usize,
    chunk_rows: usize,
    full: bool,
) -> Result<()> {
    let shape: Vec<String> = std::iter::once(k)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(outputs))
        .map(|w| w.to_string())
        .collect();
    let narrower = message![
        "use fewer or narrower hidden layers (a smaller ",
        Setting::Hidden,
        ")"
    ];
    if full {
        let p = mlp_params(k, hidden, outputs);
        check_fits(
            mlp_bytes(n, k, hidden, outputs, chunk_rows, true),
            Setting::Hessian,
            &format!(
                "a {} network on {n} rows (P = {p:.0}; its full curvature holds {MLP_SQUARE_COPIES} P×P matrices of 8-byte numbers at once: the matrix, its Cholesky factor and that factor's inverse)",
                shape.join("-")
            ),
            message![
                "use ",
                (Setting::Hessian, "kfac"),
                " (Kronecker-factored curvature, never a P×P matrix; or ",
                (Setting::Hessian, "diag"),
                "), or "
            ]
            .then(narrower),
        )
    } else {
        check_fits(
            mlp_bytes(n, k, hidden, outputs, chunk_rows, false),
            Setting::Hidden,
            &format!("a {} network on {n} rows", shape.join("-")),
            narrower,
        )
    }
}

/// The fix for a design too large: fewer feature columns.
pub fn fewer_features() -> Message {
    message![
        "use fewer features (",
        Setting::Features,
        " or ",
        Setting::Exclude,
        ")"
    ]
}

/// Refuses a linear or logistic fit whose [`design_bytes`] exceed the available memory; `k`
/// counts the design's columns (the features, plus the intercept where it is a parameter).
pub fn check_design(n: usize, k: usize, k_by_k: usize, fix: Message) -> Result<()> {
    check_fits(
        design_bytes(n, k, k_by_k),
        Setting::Data,
        &format!("a design of {k} columns on {n} rows ({k_by_k} matrices of {k}×{k})"),
        fix,
    )
}

/// Refuses a wide linear fit (n < k, the n × n route) whose [`wide_design_bytes`] exceed the
/// available memory.
pub fn check_wide_design(n: usize, k: usize, prequential: bool) -> Result<()> {
    check_fits(
        wide_design_bytes(n, k, prequential),
        Setting::Data,
        &format!("a design of {k} columns on {n} rows (the n × n route: {n}×{n} Gram matrix, {n}×{k} rows and eigenvectors)"),
        fewer_features()
            .and(", or ")
            .and((Setting::Codes, "none"))
            .and(" (the prequential prefixes keep their own eigenvectors)"),
    )
}

/// The least memory a wide linear fit (n < k) needs, in bytes: the n × n Gram matrix XXᵀ and its
/// eigenvectors, the n × k standardised rows and the k × r ≤ n eigenvectors V = XᵀUΛ^{-1/2}, and
/// with the prequential code the prefixes' eigenvectors (doubling prefixes: fewer than 2n·k):
///
/// 8·(2n² + 2n·k), or 8·(2n² + 4n·k) with the prequential code — never a k × k matrix.
pub fn wide_design_bytes(n: usize, k: usize, prequential: bool) -> f64 {
    let (n, k) = (n as f64, k as f64);
    let n_by_k = if prequential { 4.0 } else { 2.0 };
    F64 * (2.0 * n * n + n_by_k * n * k)
}

/// The least memory a linear or logistic fit on k standardised features needs, in bytes, with
/// `k_by_k` k×k matrices alive at once (Gram matrix, eigenvectors, factor, …) and the n×k design:
///
/// 8·(k_by_k·k² + n·k)
pub fn design_bytes(n: usize, k: usize, k_by_k: usize) -> f64 {
    let (n, k) = (n as f64, k as f64);
    F64 * (k_by_k as f64 * k * k + n * k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_available_is_read_in_bytes() {
        let text = "MemTotal:       24683772 kB\nMemFree:  1 kB\nMemAvailable:   22930172 kB\n";
        assert_eq!(parse_mem_available(text), Some(22930172.0 * 1024.0));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn the_mlp_figure_counts_its_terms() {
        // k = 1, one hidden layer of 1 → P = (1+1)·1 + (1+1)·1 = 4; n = 2, chunk 2:
        // 8·(2·16 + 2·4 + 4·2·1 + 2·1) = 8·50.
        // 8·(3.25·16 + 2·4 + 4·2·1 + 2·1) = 8·70.
        assert_eq!(mlp_bytes(2, 1, &[1], 1, 2, true), 8.0 * 70.0);
        // Without P × P matrices: 8·(50·4 + (2² + 1) + (2² + 1) + 10) = 8·220.
        assert_eq!(mlp_bytes(2, 1, &[1], 1, 2, false), 8.0 * 220.0);
        // The parameter count agrees with the architecture's own.
        let arch = crate::model::mlp::Architecture::new(
            10,
            vec![7, 5],
            crate::model::mlp::Activation::Tanh,
            crate::model::mlp::Task::Regression,
        )
        .unwrap();
        let p = arch.n_params() as f64;
        assert_eq!(mlp_bytes(0, 10, &[7, 5], 1, 0, true), 8.0 * 3.25 * p * p);
        assert_eq!(mlp_params(10, &[7, 5], 1), p);
        // K softmax outputs: the output layer is K × (h_L + 1).
        assert_eq!(mlp_params(10, &[7, 5], 3), p + 2.0 * 6.0);
        // 8·4 + 32·2·(3 + 1)
        assert_eq!(simulation_bytes(2, 3, 4.0), 8.0 * 4.0 + 32.0 * 8.0);
        assert_eq!(design_bytes(10, 3, 2), 8.0 * (2.0 * 9.0 + 30.0));
        // 8·(2·25 + 2·5·300), and 8·(2·25 + 4·5·300) with the prequential code.
        assert_eq!(wide_design_bytes(5, 300, false), 8.0 * (50.0 + 3000.0));
        assert_eq!(wide_design_bytes(5, 300, true), 8.0 * (50.0 + 6000.0));
    }

    #[test]
    fn over_the_limit_is_refused_with_the_figure() {
        assert!(check_fits_in(1.0e6, Some(2.0e6), Setting::Hidden, "x", "y").is_ok());
        let e = check_fits_in(
            4.0 * 1024.0 * 1024.0,
            Some(1024.0 * 1024.0),
            Setting::Hidden,
            "a network",
            "use fewer units",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("4.0 MiB") && text.contains("1.0 MiB") && text.contains("fewer units"),
            "{text}"
        );
        assert_eq!(e.exit_code(), 2);
        assert!(check_fits_in(2.0 * NO_MACHINE_HAS, None, Setting::Hidden, "x", "y").is_err());
    }
}
