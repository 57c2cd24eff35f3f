//! The settings an error can blame or mention, as a type: the library names a setting, and the
//! front end spells it (`cli` as a flag, `occam run`'s spec reader as a key of its TOML file).

use std::fmt;

/// A setting of a fit, a comparison, a conversion, a simulation or a report: what an error is
/// about, or what its fix tells the user to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The data: a CSV file or a built-in data set.
    Data,
    /// The target column.
    Target,
    /// The feature columns kept.
    Features,
    /// The columns left out.
    Exclude,
    /// The model (linear, logistic, mlp).
    Model,
    /// How the intercept is treated.
    Intercept,
    /// The prior sd s.
    PriorSd,
    /// The prior centre μ.
    PriorCenter,
    /// The prior's structure: its groups, each with a centre and an sd (math.md §8).
    Prior,
    /// The noise sd σ of a regression.
    NoiseSd,
    /// The rows of the prequential code's first block.
    FirstBlock,
    /// The code lengths computed.
    Codes,
    /// The fixed values charged to every code.
    ChargeReals,
    /// A network's task (regression or classification).
    Task,
    /// A network's hidden layer widths.
    Hidden,
    /// A network's activation.
    Activation,
    /// A network's random starts.
    Restarts,
    /// The random seed.
    Seed,
    /// A network's curvature (exact Hessian or generalised Gauss–Newton).
    Hessian,
    /// Which of a network's parameters the Laplace evidence integrates over (all, or the last
    /// layer's).
    Subset,
    /// The centres of a comparison.
    Centers,
    /// The prior sds of a comparison.
    Sds,
    /// The whole priors (prior structures) of a comparison across structures.
    Priors,
    /// The number of rows (of a conversion's data, of a simulation).
    Rows,
    /// A simulation's size: its rows and features together.
    Size,
    /// The value converted.
    Value,
    /// The convention a value is converted from.
    From,
    /// The loss a converted value weighs.
    Loss,
    /// The kind of teacher a simulation draws from.
    Teacher,
    /// The centre a teacher's weights are drawn around.
    WeightCenter,
    /// The sd a teacher's weights are drawn with.
    WeightScale,
    /// The number of classes a simulated classification target has.
    Classes,
    /// The output file or folder.
    Out,
    /// Replacing an occam output whose files were edited.
    Force,
    /// The studies of a report that are run.
    Only,
    /// One table of the report.
    Table,
    /// An output format.
    Format,
    /// Statistics files to fit from (`occam stats`'s output).
    Stats,
}

impl Setting {
    /// The setting's name in the library: the snake_case name a Rust user reads in option
    /// fields and in [`Display`](fmt::Display).
    pub fn name(self) -> &'static str {
        match self {
            Setting::Data => "data",
            Setting::Target => "target",
            Setting::Features => "features",
            Setting::Exclude => "exclude",
            Setting::Model => "model",
            Setting::Intercept => "intercept",
            Setting::PriorSd => "prior_sd",
            Setting::PriorCenter => "prior_center",
            Setting::Prior => "prior",
            Setting::NoiseSd => "noise_sd",
            Setting::FirstBlock => "first_block",
            Setting::Codes => "codes",
            Setting::ChargeReals => "charge_reals",
            Setting::Hidden => "hidden",
            Setting::Activation => "activation",
            Setting::Restarts => "restarts",
            Setting::Seed => "seed",
            Setting::Hessian => "hessian",
            Setting::Subset => "subset",
            Setting::Task => "task",
            Setting::Centers => "centers",
            Setting::Sds => "sds",
            Setting::Priors => "priors",
            Setting::Rows => "n",
            Setting::Size => "n/k",
            Setting::Value => "value",
            Setting::From => "from",
            Setting::Loss => "loss",
            Setting::Teacher => "teacher",
            Setting::WeightCenter => "weight_center",
            Setting::WeightScale => "weight_scale",
            Setting::Classes => "classes",
            Setting::Out => "out",
            Setting::Force => "force",
            Setting::Only => "only",
            Setting::Table => "table",
            Setting::Format => "format",
            Setting::Stats => "stats",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
