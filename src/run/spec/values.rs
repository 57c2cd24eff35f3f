//! The values of a spec that carry their own syntax: prior sds, centres (paths resolved against
//! the spec's folder) and the offsets of a `[priors.along]` sweep.

use super::raw::RawAlong;
use super::source::Source;
use super::{Along, CenterChoice, Direction, Rows, SdChoice};
use crate::compare::parse_sds;
use crate::error::{OccamError, Result, Setting};
use crate::prior::{CenterPath, CenterSpec};
use crate::run::flags::Flags;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A spec path resolved against the spec's folder (absolute paths stay as they are).
pub(super) fn resolve_path(base: &Path, text: &str) -> PathBuf {
    let path = Path::new(text);
    if path.is_absolute() || base.as_os_str().is_empty() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// A sd value of the spec: a number, "auto", "auto:zero" or (for sds) "logspace:LO:HI:N".
pub(super) fn sd_values(
    source: &Source<'_>,
    value: &Spanned<toml::Value>,
    key: &str,
    allow_logspace: bool,
) -> Result<Vec<SdChoice>> {
    let span = value.span();
    let text = match value.get_ref() {
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::String(s) => s.trim().to_string(),
        other => {
            return Err(source.error(
                &span,
                key,
                format!(
                    "wrong type: expected a number or a string such as \"auto\", found a {}",
                    other.type_str()
                ),
            ))
        }
    };
    if text.eq_ignore_ascii_case("auto:zero") {
        return Ok(vec![SdChoice::AutoZero]);
    }
    if text.starts_with("logspace:") && !allow_logspace {
        return Err(source.error(
            &span,
            key,
            "logspace: is for the list of prior sds; give one number, \"auto\" or \"auto:zero\"",
        ));
    }
    let parsed = parse_sds(&text).map_err(|e| {
        let message = match e {
            OccamError::InvalidArgument { message, .. } => message.render(&Flags),
            other => other.render(&Flags),
        };
        source.error(
            &span,
            key,
            format!(
                "{message} (a sd is a positive number, \"auto\", \"auto:zero\"{})",
                if allow_logspace {
                    " or \"logspace:LO:HI:N\""
                } else {
                    ""
                }
            ),
        )
    })?;
    Ok(parsed.into_iter().map(SdChoice::Spec).collect())
}

/// The message of a library error about `setting`, for the spec's key that sets it: without the
/// setting at fault (the key names it), and with the settings its fix mentions spelled as flags,
/// as `occam run` has always printed them.
pub(super) fn fault_message(error: OccamError, setting: Setting) -> String {
    match error {
        OccamError::InvalidArgument { message, .. } => message.render(&Flags),
        OccamError::Column {
            setting: at_fault,
            message,
        } if at_fault == setting => message.render(&Flags),
        other => other.render(&Flags),
    }
}

/// A centre of the spec: math.md §6's syntax, `fit:@rest`, paths against the spec's folder.
pub(super) fn parse_center(
    text: &str,
    base: &Path,
    rows: Rows,
) -> std::result::Result<CenterChoice, String> {
    let text = text.trim();
    if text == "fit:@rest" {
        if rows == Rows::All {
            return Err("fit:@rest fits the rows that data.rows leaves out, but this study codes every row; set rows = \"odd\", \"even\" or \"START:END\" in [data]".into());
        }
        return Ok(CenterChoice::FitRest);
    }
    let spec = CenterSpec::parse(text).map_err(|e| {
        format!(
            "{} (centres: zero, const:V, vec:v1,v2,…, file:PATH, sha256:TEXT[:SCALE], truth, fit:PATH, fit:@rest)",
            fault_message(e, Setting::PriorCenter)
        )
    })?;
    // The file is opened in the spec's folder but shown as the spec wrote it, so labels and
    // commands do not depend on the working directory `occam run` was called from.
    Ok(CenterChoice::Spec(match spec {
        CenterSpec::File(p) => {
            let resolved = resolve_path(base, p.shown());
            if !resolved.is_file() {
                return Err(format!(
                    "no centre file {} (paths are relative to the spec's folder)",
                    resolved.display()
                ));
            }
            CenterSpec::File(CenterPath::shown_as(resolved, p.shown()))
        }
        CenterSpec::Fit(p) => {
            let resolved = resolve_path(base, p.shown());
            if !resolved.is_file() {
                return Err(format!(
                    "no donor data file {} for fit: (paths are relative to the spec's folder)",
                    resolved.display()
                ));
            }
            CenterSpec::Fit(CenterPath::shown_as(resolved, p.shown()))
        }
        other => other,
    }))
}

/// `[priors.along]` → directions and offsets.
pub(super) fn build_along(
    source: &Source<'_>,
    base: &Path,
    prefix: &str,
    along: &Spanned<RawAlong>,
) -> Result<Along> {
    let a = along.get_ref();
    let location = source.location(&along.span(), &format!("{prefix}priors.along"));
    if a.directions.get_ref().is_empty() {
        return Err(source.error(
            &a.directions.span(),
            &format!("{prefix}priors.along.directions"),
            "no directions; give e.g. directions = [\"sha256:razor-1\", \"w*\"]",
        ));
    }
    let mut directions = Vec::new();
    for (i, d) in a.directions.get_ref().iter().enumerate() {
        let k = format!("{prefix}priors.along.directions[{}]", i + 1);
        let text = d.get_ref().trim();
        let direction = if text == "w*" {
            Direction::MapZero
        } else {
            match parse_center(text, base, Rows::All) {
                Ok(CenterChoice::Spec(CenterSpec::Zero)) => {
                    return Err(source.error(
                        &d.span(),
                        &k,
                        "zero has no direction; use a centre such as sha256:TEXT, vec:…, file:PATH, or w* (the zero-centred MAP)",
                    ))
                }
                Ok(CenterChoice::Spec(spec)) => Direction::Center(spec),
                Ok(CenterChoice::FitRest) => unreachable!("fit:@rest is refused for Rows::All"),
                Err(message) => return Err(source.error(&d.span(), &k, message)),
            }
        };
        directions.push((text.to_string(), direction));
    }
    let k = format!("{prefix}priors.along.offsets");
    let span = a.offsets.span();
    let offsets = match a.offsets.get_ref() {
        toml::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                toml::Value::Integer(i) => Ok(*i as f64),
                toml::Value::Float(f) if f.is_finite() => Ok(*f),
                other => Err(source.error(
                    &span,
                    &k,
                    format!(
                        "wrong type: offsets are finite numbers, found a {}",
                        other.type_str()
                    ),
                )),
            })
            .collect::<Result<Vec<f64>>>()?,
        toml::Value::String(s) => linspace(s).map_err(|m| source.error(&span, &k, m))?,
        other => {
            return Err(source.error(
                &span,
                &k,
                format!(
                    "wrong type: expected a list of numbers or \"linspace:LO:HI:N\", found a {}",
                    other.type_str()
                ),
            ))
        }
    };
    if offsets.is_empty() {
        return Err(source.error(&span, &k, "no offsets; e.g. offsets = \"linspace:-4:4:17\""));
    }
    Ok(Along {
        directions,
        offsets,
        location,
    })
}

/// `linspace:LO:HI:N`: N evenly spaced values from LO to HI, computed as LO + (HI − LO)·i/(N − 1)
/// and rounded to 12 decimals so that e.g. 0.5 steps are exact.
pub(super) fn linspace(text: &str) -> std::result::Result<Vec<f64>, String> {
    let bad = || {
        format!("'{text}': expected linspace:LO:HI:N with LO ≤ HI and N ≥ 1, e.g. linspace:-4:4:17")
    };
    let rest = text.trim().strip_prefix("linspace:").ok_or_else(bad)?;
    let fields: Vec<&str> = rest.split(':').collect();
    if fields.len() != 3 {
        return Err(bad());
    }
    let lo: f64 = fields[0].trim().parse().map_err(|_| bad())?;
    let hi: f64 = fields[1].trim().parse().map_err(|_| bad())?;
    let n: usize = fields[2].trim().parse().map_err(|_| bad())?;
    if !(lo.is_finite() && hi.is_finite()) || lo > hi || n == 0 || n > 100_000 {
        return Err(bad());
    }
    Ok((0..n)
        .map(|i| {
            let v = if n == 1 {
                lo
            } else {
                lo + (hi - lo) * i as f64 / (n - 1) as f64
            };
            (v * 1e12).round() / 1e12
        })
        .collect())
}
