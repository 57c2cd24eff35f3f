//! The models occam fits, named once: the command line's `--model`, a spec's `model.kind` and a
//! study's [`StudyInfo::kind`](super::StudyInfo::kind).

use crate::model::Intercept;

/// The models occam fits. Adding a model means a variant here (its name, default intercept and
/// noise), its rules in [`FitOptions::problem`](super::FitOptions::problem) and its arms in
/// [`CheckedOptions::study`](super::CheckedOptions::study) and
/// [`CheckedOptions::fit`](super::CheckedOptions::fit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ModelKind {
    /// Linear regression with Gaussian noise: exact evidence.
    Linear,
    /// Logistic regression, binary on two classes and multinomial (softmax) on three or more:
    /// Laplace evidence.
    Logistic,
    /// A multilayer perceptron (--hidden, --activation, --task): Laplace evidence.
    Mlp,
}

impl ModelKind {
    /// Every kind, in the order they are listed to users.
    pub const ALL: [ModelKind; 3] = [ModelKind::Linear, ModelKind::Logistic, ModelKind::Mlp];

    /// The name printed in outputs and accepted in commands and specs.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Logistic => "logistic",
            ModelKind::Mlp => "mlp",
        }
    }

    /// The intercept when none is asked for: the linear model centres the data; the logistic
    /// model and the network put their intercepts under the weights' prior.
    pub fn default_intercept(self) -> Intercept {
        match self {
            ModelKind::Linear => Intercept::Centered,
            ModelKind::Logistic | ModelKind::Mlp => Intercept::Shared,
        }
    }

    /// Whether the model has a noise sd σ to fix or fit (the logistic model has none; a network
    /// has one only for a regression task, which is known once the target is read).
    pub fn may_have_noise_sd(self) -> bool {
        self != ModelKind::Logistic
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn names_are_the_command_line_values() {
        for kind in ModelKind::ALL {
            let value = kind.to_possible_value().expect("every kind is a value");
            assert_eq!(value.get_name(), kind.name());
            assert_eq!(ModelKind::from_str(kind.name(), false), Ok(kind));
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!(ModelKind::value_variants(), &ModelKind::ALL);
    }
}
