//! `occam stats` (a shard's sufficient statistics → a file) and `occam fit --stats` (files →
//! merged → the linear fit); the file format and the merge are `occam::data::shard` and
//! `occam::data::shard_file` (docs/scale.md).

use super::{check_out, emit, emit_to, input_paths, load_data, DataArgs, FitArgs};
use clap::Args;
use occam::data::shard_file::merge_stats_files;
use occam::data::{ColumnSelection, ShardStats};
use occam::error::{OccamError, Result, Setting};
use occam::fit::{fit_linear_shards, ModelKind};
use occam::message;
use occam::prior::{CenterSpec, SdSpec};
use occam::progress;
use occam::report::FitReport;
use occam::run::flags::Flags;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["data"])))]
pub(super) struct StatsArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The statistics file to write (atomically; never over an input) instead of standard output.
    #[arg(long, value_name = "FILE.json")]
    out: Option<PathBuf>,
}

/// `occam stats`: n, the means and the centred co-moments of (features, target), as JSON.
pub(super) fn run_stats(args: &StatsArgs) -> Result<()> {
    let data = args.data.name()?;
    let inputs = input_paths(data, &[]);
    if let Some(out) = &args.out {
        let refs: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
        occam::files::check_file_out(out, &refs)?;
    }
    let dataset = load_data(&args.data)?;
    let step = progress::step(format!("summing the statistics of {data}"));
    let stats = ShardStats::from_dataset(&dataset)?;
    drop(step);
    emit_to(args.out.as_deref(), &stats.to_json(), &inputs)
}

/// `occam fit --stats FILE…`: the files merged in the order given, then the linear fit.
pub(super) fn run_fit_stats(args: &FitArgs) -> Result<()> {
    if args.data.data.is_some() {
        return Err(OccamError::invalid(
            Setting::Stats,
            message![
                "fits from statistics files or from ",
                Setting::Data,
                ", not both: drop ",
                Setting::Data,
                " (to add its rows, write their statistics with `occam stats` and name that file too)"
            ],
        ));
    }
    let selection = args.data.selection();
    if selection != ColumnSelection::default() {
        let setting = if selection.target.is_some() {
            Setting::Target
        } else if selection.features.is_some() {
            Setting::Features
        } else {
            Setting::Exclude
        };
        return Err(OccamError::invalid(
            setting,
            message![
                "statistics files already fix the target and features; choose them when writing the files (`occam stats` takes ",
                Setting::Target,
                ", ",
                Setting::Features,
                " and ",
                Setting::Exclude,
                "), and drop them here"
            ],
        ));
    }
    if args.model.model != ModelKind::Linear {
        return Err(OccamError::invalid(
            Setting::Model,
            message![
                format!(
                    "statistics files hold the linear model's sufficient statistics; the {} model needs the rows at every step of its search: fit it with ",
                    args.model.model.name()
                ),
                Setting::Data,
                " instead of ",
                Setting::Stats
            ],
        ));
    }
    if args.prior.prior.is_some() {
        return Err(OccamError::invalid(
            Setting::Prior,
            message![
                "a prior of several groups is not fitted from statistics files; use ",
                Setting::PriorCenter,
                " and ",
                Setting::PriorSd,
                ", or fit with ",
                Setting::Data
            ],
        ));
    }
    let options = args.model.options(
        ColumnSelection::default(),
        CenterSpec::parse(&args.prior.prior_center)?,
        SdSpec::parse(Setting::PriorSd, &args.prior.prior_sd)?,
    )?;
    let mut inputs = args.stats.clone();
    if let CenterSpec::File(path) | CenterSpec::Fit(path) = &options.options().center {
        inputs.push(path.path().to_path_buf());
    }
    check_out(&args.output, &inputs)?;
    let merged = {
        let _step = progress::step(format!("merging {} statistics file(s)", args.stats.len()));
        merge_stats_files(&args.stats)?
    };
    let source = args
        .stats
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    let step = progress::step("fitting the linear model".to_string());
    let fit = fit_linear_shards(&merged, &source, options.options())?;
    let report = FitReport::from_linear(&fit, &Flags);
    drop(step);
    emit(&args.output, &report.render(args.output.format), &inputs)
}
