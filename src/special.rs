//! Special functions in forms that neither overflow nor lose digits.

/// softplus(η) = ln(1 + eᵑ) = max(η, 0) + ln(1 + e^(−|η|)): no overflow for any finite η.
///
/// ```
/// use occam::special::softplus;
/// assert_eq!(softplus(800.0), 800.0);
/// assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-16);
/// assert!(softplus(-800.0) >= 0.0);
/// ```
pub fn softplus(eta: f64) -> f64 {
    eta.max(0.0) + (-eta.abs()).exp().ln_1p()
}

/// σ(η) = 1/(1 + e^(−η)), evaluated on the side that cannot overflow.
///
/// ```
/// use occam::special::sigmoid;
/// assert_eq!(sigmoid(0.0), 0.5);
/// assert_eq!(sigmoid(-700.0) + sigmoid(700.0), 1.0);
/// ```
pub fn sigmoid(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}
