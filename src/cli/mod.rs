//! The command line: flags → library calls → rendered output, with cli.md's exit codes.

use clap::{Args, Parser, Subcommand, ValueEnum};
use occam::codelength::{CodeKind, CodeSelection, RowOrder};
use occam::compare::structures::compare_structures;
use occam::compare::{compare, parse_centers, parse_sds, CompareOptions};
use occam::data::{self, ColumnSelection};
use occam::error::{OccamError, Result, Setting};
use occam::fit::{CheckedOptions, FitOptions, HessianKind, MlpOptions, ModelKind, Subset};
use occam::model::mlp::{Activation, Task};
use occam::model::Intercept;
use occam::prior::convert::{convert, ConversionContext, Knob, Loss};
use occam::prior::groups::PriorStructure;
use occam::prior::{CenterSpec, SdSpec};
use occam::progress;
use occam::report::compare_structures::StructuresReport;
use occam::report::convert::render_conversion;
use occam::report::datasets::render_datasets;
use occam::report::engine::{render_table, write_report, ReportOptions};
use occam::report::format::json_document;
use occam::report::studies::STUDIES;
use occam::report::{write_atomic, CompareReport, FitReport, OutputFormat};
use occam::run::flags::Flags;
use occam::run::spec::load_spec;
use occam::run::{default_out, render_table as render_run_table, run_spec};
use occam::simulate::{
    simulate, simulate_classes, simulate_mlp, to_csv, truth_path, SimulationSpec, Teacher,
    TeacherNetwork,
};
use std::io::Write;
use std::path::PathBuf;

mod stats;

/// occam: what an L2 penalty buys, read as a Gaussian prior — MAP, evidence and code lengths
/// under priors centred at zero or anywhere else.
#[derive(Debug, Parser)]
#[command(name = "occam", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One model, one prior: MAP, posterior sd, evidence (exact for linear, Laplace for logistic and mlp), effective parameters, code lengths.
    Fit(FitArgs),
    /// One model, many priors (every centre × every sd), ranked by code length.
    Compare(CompareArgs),
    /// An L2 strength in any library's convention → prior sd, and every other convention.
    Convert(ConvertArgs),
    /// The built-in studies: tables and figures for a writeup, into a folder.
    Report(ReportArgs),
    /// A study described in a TOML file (data, model, priors, codes, outputs) → a report folder.
    Run(RunArgs),
    /// Synthetic data from a teacher with known weights → CSV + truth JSON.
    Simulate(SimulateArgs),
    /// The built-in data sets, with n, k, task and provenance.
    Datasets(DatasetsArgs),
    /// The linear model's mergeable sufficient statistics of a data set (a shard), as a JSON
    /// file for `occam fit --stats` (docs/scale.md).
    Stats(stats::StatsArgs),
}

#[derive(Debug, Args)]
struct DataArgs {
    /// A CSV file with a header row, or the name of a built-in data set (see `occam datasets`).
    #[arg(long, value_name = "PATH|NAME")]
    data: Option<String>,
    /// The target column [default: the last column].
    #[arg(long, value_name = "COL")]
    target: Option<String>,
    /// Use only these feature columns, in this order.
    #[arg(
        long,
        value_name = "A,B,…",
        value_delimiter = ',',
        conflicts_with = "exclude"
    )]
    features: Option<Vec<String>>,
    /// Leave these columns out of the features.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    exclude: Vec<String>,
}

impl DataArgs {
    /// `--data` (each command's clap group makes it required, or `fit --stats` replaces it).
    fn name(&self) -> Result<&str> {
        self.data.as_deref().ok_or_else(|| {
            OccamError::invalid(
                Setting::Data,
                "name the data: a CSV file or a built-in data set (see `occam datasets`)",
            )
        })
    }

    fn selection(&self) -> ColumnSelection {
        ColumnSelection {
            target: self.target.clone(),
            features: self.features.clone(),
            exclude: self.exclude.clone(),
        }
    }
}

#[derive(Debug, Args)]
struct PriorArgs {
    /// Prior centre μ: zero, const:V, vec:v1,v2,…, file:PATH, sha256:TEXT[:SCALE], truth, fit:PATH.
    #[arg(
        long,
        value_name = "SPEC",
        default_value = "zero",
        allow_hyphen_values = true
    )]
    prior_center: String,
    /// Prior sd s on the standardised weights, or `auto` (empirical Bayes).
    #[arg(
        long,
        value_name = "S|auto",
        default_value = "auto",
        allow_hyphen_values = true
    )]
    prior_sd: String,
    /// A prior of several groups, each with its own centre and sd (linear and logistic models):
    /// 'GROUP=CENTER:SD; …' with GROUP all, weights, features:a,b, ard (one group per feature),
    /// rest, …; `ard` alone is ard=zero:auto. Replaces --prior-center and --prior-sd (for one
    /// group write all=CENTER:SD). See docs/cli.md.
    #[arg(
        long,
        value_name = "GROUP=CENTER:SD;…",
        allow_hyphen_values = true,
        conflicts_with_all = ["prior_center", "prior_sd"]
    )]
    prior: Option<String>,
}

#[derive(Debug, Args)]
struct ModelArgs {
    /// The model.
    #[arg(long, value_enum, default_value = "linear")]
    model: ModelKind,
    /// Noise sd σ (regression), or `auto` (empirical Bayes).
    #[arg(
        long,
        value_name = "S|auto",
        default_value = "auto",
        allow_hyphen_values = true
    )]
    noise_sd: String,
    /// Intercept: centered (linear default: data centred), shared (logistic default: under the
    /// weights' prior), free (flat prior), prior:SD, none.
    #[arg(long, value_name = "MODE")]
    intercept: Option<String>,
    /// Do not z-score the features (the prior then lives on raw-unit weights).
    #[arg(long)]
    no_standardize: bool,
    /// Visit the rows in an order shuffled with this seed in the prequential code [default: file order].
    #[arg(long, value_name = "SEED")]
    shuffle: Option<u64>,
    /// Code lengths to compute besides the mixture code: all, none, or a list of prequential,
    /// two_part, bic (the prequential and BIC codes refit iterative models several times).
    #[arg(long, value_name = "LIST", default_value = "all")]
    codes: String,
    /// MLP hidden layer widths, e.g. 16,16.
    #[arg(
        long,
        value_name = "H1,H2,…",
        value_delimiter = ',',
        default_value = "8"
    )]
    hidden: Vec<usize>,
    /// MLP hidden units' nonlinearity.
    #[arg(long, value_enum, default_value = "tanh")]
    activation: Activation,
    /// MLP task [default: classification for a two-valued target, else regression].
    #[arg(long, value_enum)]
    task: Option<Task>,
    /// MLP random restarts of the MAP search (the best log posterior is kept).
    #[arg(long, value_name = "N", default_value_t = 1)]
    restarts: usize,
    /// MLP initialisation seed (ChaCha20; deterministic on any thread count).
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// MLP curvature for the Laplace evidence.
    #[arg(long, value_enum, default_value = "ggn")]
    hessian: HessianKind,
    /// MLP parameters the Laplace evidence integrates over: all, or last-layer (the output
    /// layer only, the earlier layers fixed at the MAP: the evidence of a GLM on the network's
    /// learned features, labelled laplace-last-layer).
    #[arg(long, value_enum, default_value = "all")]
    subset: Subset,
    /// Rows in the first block of the prequential code; later blocks double.
    #[arg(long, value_name = "N", default_value_t = 16)]
    first_block: usize,
    /// How many of the fixed values given (--prior-sd, --sds, --noise-sd) were estimated from these
    /// same rows: each is then charged ½ log₂ n bits, so the code lengths stay decodable.
    #[arg(long, value_name = "N", default_value_t = 0)]
    charge_reals: usize,
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(true).args(["data", "stats"])))]
struct FitArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Fit the linear model from statistics files written by `occam stats`, merged in the order
    /// given, instead of --data (docs/scale.md).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    stats: Vec<PathBuf>,
    #[command(flatten)]
    prior: PriorArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["data"])))]
struct CompareArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Prior centres, separated by ';' (each as for --prior-center).
    #[arg(
        long,
        value_name = "SPEC;SPEC;…",
        default_value = "zero",
        allow_hyphen_values = true
    )]
    centers: String,
    /// Prior sds: values, 'auto', and logspace:LO:HI:N (log10 bounds), separated by ','.
    #[arg(
        long,
        value_name = "S,S,auto,logspace:LO:HI:N",
        default_value = "auto",
        allow_hyphen_values = true
    )]
    sds: String,
    /// The code length that ranks the rows.
    #[arg(long, value_enum, default_value = "mixture")]
    rank_by: CodeKind,
    /// Whole priors to compare instead of centres × sds, one argument each (as for `fit
    /// --prior`): e.g. --priors 'all=zero:auto' ard 'features:bmi,bp=zero:auto; rest=zero:auto'.
    /// Ranked by the mixture code with the bits charged for fitted scales shown.
    #[arg(
        long,
        num_args = 1..,
        value_name = "PRIOR",
        conflicts_with_all = ["centers", "sds", "rank_by"]
    )]
    priors: Vec<String>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct ConvertArgs {
    /// The knob whose value is given.
    #[arg(long, value_enum)]
    from: Knob,
    /// Its value (a positive strength).
    #[arg(long, allow_hyphen_values = true)]
    value: f64,
    /// Rows n (needed by mean losses and glmnet).
    #[arg(long)]
    n: Option<usize>,
    /// Noise sd σ (needed with squared error).
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    noise_sd: Option<f64>,
    /// The loss paired with the knob (implied by sklearn-ridge, glmnet, sklearn-logistic).
    #[arg(long, value_enum)]
    loss: Option<Loss>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// The folder to write (an existing one is replaced only if occam made it)
    /// [default: occam-report]; with --table, the file to write instead of standard output.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run only these studies (comma-separated ids: prior, capacity, centres, razor, saturation);
    /// an existing occam report at --out keeps its other sections.
    #[arg(
        long,
        value_name = "IDS",
        value_delimiter = ',',
        conflicts_with = "table"
    )]
    only: Vec<String>,
    /// Print one table instead of writing the folder, byte for byte as `tables/NAME.FORMAT` of a
    /// report (e.g. centres-diabetes); runs only that table's study.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
    /// With --table: the table's format [default: md].
    #[arg(long, value_enum, requires = "table")]
    format: Option<TableFormat>,
    /// Replace an occam report whose files were edited since occam wrote them.
    #[arg(long, conflicts_with = "table")]
    force: bool,
}

/// The file extension of a table format (md when none is given).
fn table_extension(format: Option<TableFormat>) -> &'static str {
    match format.unwrap_or(TableFormat::Md) {
        TableFormat::Md => "md",
        TableFormat::Tex => "tex",
        TableFormat::Csv => "csv",
        TableFormat::Json => "json",
    }
}

/// The file formats of a report's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TableFormat {
    /// Markdown (`tables/NAME.md`).
    Md,
    /// LaTeX with booktabs (`tables/NAME.tex`).
    Tex,
    /// CSV (`tables/NAME.csv`).
    Csv,
    /// JSON (`tables/NAME.json`).
    Json,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The study spec (TOML; the schema is in docs/run.md).
    #[arg(value_name = "SPEC.toml")]
    spec: PathBuf,
    /// The folder to write (an existing one is replaced only if occam made it)
    /// [default: occam-run-STEM for SPEC's file stem]; with --table, the file to write instead
    /// of standard output.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print one table instead of writing the folder, byte for byte as `tables/NAME.FORMAT`
    /// (`ID-priors`); runs only that study.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
    /// With --table: the table's format [default: md].
    #[arg(long, value_enum, requires = "table")]
    format: Option<TableFormat>,
    /// Replace an occam folder whose files were edited since occam wrote them.
    #[arg(long, conflicts_with = "table")]
    force: bool,
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// The teacher model.
    #[arg(value_enum)]
    teacher: Teacher,
    /// Rows.
    #[arg(long, default_value_t = 200)]
    n: usize,
    /// Features.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// Teacher weights are drawn N(C, S²): this is C.
    #[arg(
        long,
        value_name = "C",
        default_value_t = 0.0,
        allow_hyphen_values = true
    )]
    weight_center: f64,
    /// Teacher weights are drawn N(C, S²): this is S.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    weight_scale: f64,
    /// The teacher's intercept.
    #[arg(
        long,
        value_name = "B",
        default_value_t = 0.0,
        allow_hyphen_values = true
    )]
    intercept: f64,
    /// Noise sd σ (linear teacher; mlp teacher with --task regression).
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    noise_sd: f64,
    /// mlp teacher: hidden layer widths, e.g. 32,32.
    #[arg(
        long,
        value_name = "H1,H2,…",
        value_delimiter = ',',
        default_value = "8"
    )]
    hidden: Vec<usize>,
    /// mlp teacher: the hidden units' nonlinearity.
    #[arg(long, value_enum, default_value = "tanh")]
    activation: Activation,
    /// mlp teacher: a real target (y = net(x) + σε) or a 0/1 one (y ~ Bernoulli(σ(net(x)))).
    #[arg(long, value_enum, default_value = "regression")]
    task: Task,
    /// logistic teacher: the number of classes. 2 is the binary teacher; K ≥ 3 draws K weight
    /// vectors (each entry N(C, S²)), every class's intercept B, and y = c (labels 0…K−1) with
    /// probability softmax(w_cᵀx + B)_c; the truth JSON then holds them (`classes`). mlp teacher
    /// with --task classification: K ≥ 3 softmax outputs, y = c with probability
    /// softmax(net(x))_c (`network.outputs` in the truth JSON).
    #[arg(long, value_name = "K", default_value_t = 2)]
    classes: usize,
    /// The seed (ChaCha20; the same seed gives the same data everywhere).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The CSV to write; the truth goes beside it as NAME.truth.json.
    #[arg(long, value_name = "FILE.csv")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct DatasetsArgs {
    #[command(flatten)]
    output: OutputArgs,
}

impl ModelArgs {
    /// The model's options under the prior `center` and `prior_sd`, checked once against the
    /// model's rules (before any data are read, so a usage error is reported first).
    fn options(
        &self,
        selection: ColumnSelection,
        center: CenterSpec,
        prior_sd: SdSpec,
    ) -> Result<CheckedOptions> {
        FitOptions {
            selection,
            center,
            prior_sd,
            noise_sd: SdSpec::parse(Setting::NoiseSd, &self.noise_sd)?,
            intercept: match &self.intercept {
                Some(text) => Intercept::parse(text)?,
                None => self.model.default_intercept(),
            },
            standardize: !self.no_standardize,
            order: self.shuffle.map_or(RowOrder::AsGiven, RowOrder::Shuffled),
            first_block: self.first_block,
            codes: CodeSelection::parse(&self.codes)?,
            charged_reals: self.charge_reals,
            prior: None,
            mlp: MlpOptions {
                hidden: self.hidden.clone(),
                activation: self.activation,
                task: self.task,
                restarts: self.restarts,
                seed: self.seed,
                hessian: self.hessian,
                subset: self.subset,
            },
        }
        .check(self.model)
    }
}

/// The files a command reads: `--data` (when it names a file) and the files its centres name, so
/// that `--out` can never be one of them.
fn input_paths(data: &str, centers: &[CenterSpec]) -> Vec<PathBuf> {
    let data = PathBuf::from(data);
    let mut inputs = vec![truth_path(&data), data];
    for center in centers {
        if let CenterSpec::File(path) | CenterSpec::Fit(path) = center {
            inputs.push(path.path().to_path_buf());
        }
    }
    inputs
}

/// Refuses `--out` when it is one of `inputs` or a file occam may not replace, before anything is
/// computed (occam::files::check_file_out).
fn check_out(output: &OutputArgs, inputs: &[PathBuf]) -> Result<()> {
    let inputs: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
    output
        .out
        .as_ref()
        .map_or(Ok(()), |out| occam::files::check_file_out(out, &inputs))
}

/// Prints to stdout or writes `--out` (never over one of `inputs`; see occam::files); a closed
/// pipe on stdout is not an error.
fn emit(output: &OutputArgs, text: &str, inputs: &[PathBuf]) -> Result<()> {
    emit_to(output.out.as_deref(), text, inputs)
}

/// Writes `text` to `out` (never over one of `inputs`; see occam::files), or to standard output
/// (a closed pipe is not an error).
fn emit_to(out: Option<&std::path::Path>, text: &str, inputs: &[PathBuf]) -> Result<()> {
    match out {
        Some(path) => {
            let inputs: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
            occam::files::write_file(path, text.as_bytes(), &inputs)
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(OccamError::Write {
                    path: PathBuf::from("<stdout>"),
                    source: e,
                }),
                _ => Ok(()),
            }
        }
    }
}

/// Reads `--data` with its column selection, with a progress spinner for a long read.
fn load_data(args: &DataArgs) -> Result<data::Dataset> {
    let name = args.name()?;
    let _step = progress::step(format!("reading {name}"));
    data::load(name, &args.selection())
}

fn run_fit(args: &FitArgs) -> Result<()> {
    if !args.stats.is_empty() {
        return stats::run_fit_stats(args);
    }
    // Parse every flag before touching the data, so a usage error is reported first.
    let mut options = args.model.options(
        args.data.selection(),
        CenterSpec::parse(&args.prior.prior_center)?,
        SdSpec::parse(Setting::PriorSd, &args.prior.prior_sd)?,
    )?;
    if let Some(text) = &args.prior.prior {
        let structure = PriorStructure::parse(text)?;
        options = options
            .into_options()
            .with_prior(structure)
            .check(args.model.model)?;
    }
    let mut centers = vec![options.options().center.clone()];
    if let Some(structure) = &options.options().prior {
        centers.extend(structure.groups().iter().map(|g| g.center.clone()));
    }
    let inputs = input_paths(args.data.name()?, &centers);
    check_out(&args.output, &inputs)?;
    let dataset = load_data(&args.data)?;
    let step = progress::step(format!("fitting the {} model", args.model.model.name()));
    let report = FitReport::from_fit(&options.fit(&dataset)?, &Flags);
    // The spinner is cleared before the output reaches a terminal, so it never erases a line.
    drop(step);
    emit(&args.output, &report.render(args.output.format), &inputs)
}

fn run_compare(args: &CompareArgs) -> Result<()> {
    let fit = args
        .model
        .options(args.data.selection(), CenterSpec::Zero, SdSpec::Auto)?;
    if !args.priors.is_empty() {
        return run_compare_structures(args, fit);
    }
    let options = CompareOptions {
        fit: fit.options().clone(),
        centers: parse_centers(&args.centers)?,
        sds: parse_sds(&args.sds)?,
        rank_by: args.rank_by,
    };
    let inputs = input_paths(args.data.name()?, &options.centers);
    check_out(&args.output, &inputs)?;
    let dataset = load_data(&args.data)?;
    let step = progress::step(format!(
        "comparing {} prior(s) with the {} model",
        options.centers.len() * options.sds.len(),
        args.model.model.name()
    ));
    let comparison = compare(fit.study(&dataset)?.as_ref(), &options)?;
    drop(step);
    emit(
        &args.output,
        &CompareReport::from_comparison(&comparison, &Flags).render(args.output.format),
        &inputs,
    )
}

/// `compare --priors`: whole priors, each fitted alone, ranked by the mixture code.
fn run_compare_structures(args: &CompareArgs, fit: CheckedOptions) -> Result<()> {
    // An error about one prior names --priors and the prior.
    let at = |text: &str, e: OccamError| match e {
        OccamError::InvalidArgument { message, .. } => OccamError::invalid(
            Setting::Priors,
            occam::error::Message::from(format!("'{text}': ")).then(message),
        ),
        other => other,
    };
    let priors: Vec<PriorStructure> = args
        .priors
        .iter()
        .map(|text| PriorStructure::parse(text).map_err(|e| at(text, e)))
        .collect::<Result<_>>()?;
    let mut centers = Vec::new();
    for prior in &priors {
        centers.extend(prior.groups().iter().map(|g| g.center.clone()));
    }
    let inputs = input_paths(args.data.name()?, &centers);
    check_out(&args.output, &inputs)?;
    // Every prior checked against the model before the data are read.
    let kind = fit.kind();
    let base = fit.into_options();
    for (prior, text) in priors.iter().zip(&args.priors) {
        base.clone()
            .with_prior(prior.clone())
            .check(kind)
            .map_err(|e| at(text, e))?;
    }
    let dataset = load_data(&args.data)?;
    let step = progress::step(format!(
        "comparing {} whole prior(s) with the {} model",
        priors.len(),
        kind.name()
    ));
    let comparison = compare_structures(&dataset, &base, kind, &priors)?;
    drop(step);
    emit(
        &args.output,
        &StructuresReport::from_comparison(&comparison, &Flags).render(args.output.format),
        &inputs,
    )
}

fn run_convert(args: &ConvertArgs) -> Result<()> {
    if let Some(s) = args.noise_sd {
        occam::prior::check_sd(Setting::NoiseSd, s)?;
    }
    if args.n == Some(0) {
        return Err(OccamError::invalid(
            Setting::Rows,
            "the number of rows must be at least 1",
        ));
    }
    let context = ConversionContext {
        n: args.n,
        noise_sd: args.noise_sd,
    };
    let conversion = convert(args.from, args.value, args.loss, &context)?;
    emit(
        &args.output,
        &render_conversion(
            args.from,
            args.value,
            &conversion,
            args.output.format,
            &Flags,
        ),
        &[],
    )
}

fn run_report(args: &ReportArgs) -> Result<()> {
    if let Some(name) = &args.table {
        let text = render_table(STUDIES, name, table_extension(args.format), &Flags)?;
        return emit_to(args.out.as_deref(), &text, &[]);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("occam-report"));
    let mut command = format!("occam report --out {}", out.display());
    if !args.only.is_empty() {
        command += &format!(" --only {}", args.only.join(","));
    }
    let options = ReportOptions {
        out: out.clone(),
        only: args.only.clone(),
        progress: true,
        command,
        force: args.force,
        names: &Flags,
    };
    let started = std::time::Instant::now();
    let written = write_report(STUDIES, &options)?;
    eprintln!(
        "wrote {} files to {} in {:.1} s; start with {}",
        written.len(),
        out.display(),
        started.elapsed().as_secs_f64(),
        out.join("report.md").display()
    );
    Ok(())
}

fn run_run(args: &RunArgs) -> Result<()> {
    // Parse and check the whole spec before anything is computed or written.
    let spec = load_spec(&args.spec)?;
    if let Some(name) = &args.table {
        let text = render_run_table(&spec, name, table_extension(args.format))?;
        // The spec and the data files it names are inputs: --out may be none of them.
        let mut inputs = vec![args.spec.clone()];
        for study in &spec.studies {
            if let occam::run::spec::DataSource::Path { read, .. } = &study.data {
                inputs.push(read.clone());
            }
        }
        return emit_to(args.out.as_deref(), &text, &inputs);
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.spec));
    let command = format!("occam run {} --out {}", args.spec.display(), out.display());
    let started = std::time::Instant::now();
    let written = run_spec(&spec, &out, &command, true, args.force)?;
    eprintln!(
        "wrote {} files to {} in {:.1} s; start with {}",
        written.len(),
        out.display(),
        started.elapsed().as_secs_f64(),
        out.join("report.md").display()
    );
    Ok(())
}

fn run_simulate(args: &SimulateArgs) -> Result<()> {
    // Both outputs checked before anything is drawn or written.
    occam::files::check_file_out(&args.out, &[])?;
    occam::files::check_file_out(&truth_path(&args.out), &[])?;
    let spec = SimulationSpec {
        teacher: args.teacher,
        n: args.n,
        k: args.k,
        weight_center: args.weight_center,
        weight_scale: args.weight_scale,
        intercept: args.intercept,
        noise_sd: args.noise_sd,
        seed: args.seed,
    };
    let (dataset, truth) = match args.teacher {
        Teacher::Mlp => simulate_mlp(
            &spec,
            &TeacherNetwork {
                hidden: args.hidden.clone(),
                activation: args.activation,
                task: args.task,
                // K = 2 is the one-output binary teacher.
                outputs: if args.classes == 2 { 1 } else { args.classes },
            },
        )?,
        _ if args.classes != 2 => simulate_classes(&spec, args.classes)?,
        _ => simulate(&spec)?,
    };
    let truth_file = truth_path(&args.out);
    let truth_json = json_document(&truth);
    write_atomic(&args.out, &to_csv(&dataset))?;
    write_atomic(&truth_file, &truth_json).inspect_err(|_| {
        // Both files or neither — but only a regular file is taken back: `--out` may be a
        // device such as /dev/null, or a symlink, which must stay.
        if std::fs::symlink_metadata(&args.out).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(&args.out);
        }
    })?;
    emit(
        &OutputArgs {
            format: OutputFormat::Table,
            out: None,
        },
        &format!(
            "wrote {} ({} rows × {} features, target y) and {}\n{}\n",
            args.out.display(),
            args.n,
            args.k,
            truth_file.display(),
            truth.description
        ),
        &[],
    )
}

fn run_datasets(args: &DatasetsArgs) -> Result<()> {
    emit(
        &args.output,
        &render_datasets(args.output.format, &Flags),
        &[],
    )
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    occam::files::install_interrupt_cleanup();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return code;
        }
    };
    // Spinners for steps over a second, on stderr and only when it is a terminal.
    progress::enable();
    let result = match &cli.command {
        Command::Fit(args) => run_fit(args),
        Command::Compare(args) => run_compare(args),
        Command::Convert(args) => run_convert(args),
        Command::Report(args) => run_report(args),
        Command::Run(args) => run_run(args),
        Command::Simulate(args) => run_simulate(args),
        Command::Datasets(args) => run_datasets(args),
        Command::Stats(args) => stats::run_stats(args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("occam: error: {}", e.render(&Flags));
            e.exit_code()
        }
    }
}
