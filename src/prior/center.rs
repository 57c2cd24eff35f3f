//! Prior centres (math.md §6): where the Gaussian prior puts its mean.
//!
//! `zero` · `const:V` · `vec:v1,v2,…` · `file:PATH` · `sha256:TEXT[:SCALE]` · `truth` · `fit:PATH`.

use crate::error::{Message, OccamError, Result, Setting};
use crate::random::Stream;
use nalgebra::DVector;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

const FLAG: Setting = Setting::PriorCenter;

/// A prior centre as the user wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum CenterSpec {
    /// μ = 0: plain weight decay.
    Zero,
    /// Every coordinate equal to V.
    Const(f64),
    /// An explicit vector.
    Vector(Vec<f64>),
    /// A vector read from a JSON array or a one-column CSV (e.g. pretrained weights: L2-SP).
    File(CenterPath),
    /// A fixed pseudo-random point: ChaCha20 seeded with SHA-256(TEXT), coordinates N(0, SCALE²);
    /// SCALE defaults to the prior sd.
    Sha256 {
        /// The text hashed into the seed.
        text: String,
        /// The coordinates' sd, if given.
        scale: Option<f64>,
    },
    /// The generating weights of simulated data.
    Truth,
    /// The MAP fitted, with the same model and columns, on another data set.
    Fit(CenterPath),
}

/// The file a `file:` or `fit:` centre reads: the path occam opens, and the text every label,
/// table and command shows for it.
///
/// The two differ when a file is named relative to somewhere other than the working directory: a
/// spec's file is opened at `SPEC_FOLDER/other.csv` but shown as `other.csv`, as the spec wrote
/// it; a report's staged file is opened in the folder being built but shown as
/// `data/diabetes-even.csv`, relative to the finished folder. So what a reader sees never carries
/// a path of the machine or the working directory it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct CenterPath {
    read: PathBuf,
    shown: String,
}

impl CenterPath {
    /// A path shown as it is opened (as the user typed it on the command line).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let read = path.into();
        let shown = read.display().to_string();
        CenterPath { read, shown }
    }

    /// A path opened at `read` and shown as `shown`.
    pub fn shown_as(read: impl Into<PathBuf>, shown: impl Into<String>) -> Self {
        CenterPath {
            read: read.into(),
            shown: shown.into(),
        }
    }

    /// The path occam opens.
    pub fn path(&self) -> &Path {
        &self.read
    }

    /// The text shown for it in labels, tables and commands.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl std::ops::Deref for CenterPath {
    type Target = Path;

    /// The path occam opens, so a `CenterPath` reads like a `&Path`.
    fn deref(&self) -> &Path {
        &self.read
    }
}

fn parse_number(text: &str, what: &str) -> Result<f64> {
    match text.trim().parse::<f64>() {
        Ok(v) => super::check_center(FLAG, what, &[v]).map(|_| v),
        Err(_) => Err(OccamError::invalid(
            FLAG,
            format!("cannot read '{}' as a finite number in {what}", text.trim()),
        )),
    }
}

impl CenterSpec {
    /// Parses a centre specification.
    ///
    /// ```
    /// use occam::prior::CenterSpec;
    /// assert_eq!(CenterSpec::parse("const:0.5").unwrap(), CenterSpec::Const(0.5));
    /// assert_eq!(
    ///     CenterSpec::parse("sha256:occam:2").unwrap(),
    ///     CenterSpec::Sha256 { text: "occam".into(), scale: Some(2.0) }
    /// );
    /// assert!(CenterSpec::parse("nowhere").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let (kind, rest) = match text.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (text, None),
        };
        let need_rest = |example: &str| -> Result<&str> {
            match rest {
                Some(r) if !r.trim().is_empty() => Ok(r),
                _ => Err(OccamError::invalid(
                    FLAG,
                    format!("'{text}' needs a value after the colon, e.g. {example}"),
                )),
            }
        };
        match kind {
            "zero" if rest.is_none() => Ok(CenterSpec::Zero),
            "truth" if rest.is_none() => Ok(CenterSpec::Truth),
            "const" => Ok(CenterSpec::Const(parse_number(need_rest("const:0.5")?, "const:V")?)),
            "vec" => need_rest("vec:0.1,-2,3")?
                .split(',')
                .map(|v| parse_number(v, "vec:v1,v2,…"))
                .collect::<Result<Vec<_>>>()
                .map(CenterSpec::Vector),
            "file" => Ok(CenterSpec::File(CenterPath::new(need_rest("file:weights.json")?))),
            "fit" => Ok(CenterSpec::Fit(CenterPath::new(need_rest("fit:other.csv")?))),
            "sha256" => {
                let body = need_rest("sha256:occam or sha256:occam:0.5")?;
                // A trailing `:NUMBER` is the scale; anything else belongs to the text.
                if let Some((t, s)) = body.rsplit_once(':') {
                    if let Ok(scale) = s.trim().parse::<f64>() {
                        // The scale is an sd: the same range check as every other sd.
                        super::check_sd(FLAG, scale).map_err(|e| match e {
                            OccamError::InvalidArgument { message, .. } => OccamError::invalid(
                                FLAG,
                                Message::from(format!("'{text}': the scale ")).then(message),
                            ),
                            other => other,
                        })?;
                        return Ok(CenterSpec::Sha256 {
                            text: t.to_string(),
                            scale: Some(scale),
                        });
                    }
                }
                Ok(CenterSpec::Sha256 {
                    text: body.to_string(),
                    scale: None,
                })
            }
            _ => Err(OccamError::invalid(
                FLAG,
                format!("unknown centre '{text}'; use zero, const:V, vec:v1,v2,…, file:PATH, sha256:TEXT[:SCALE], truth or fit:PATH"),
            )),
        }
    }

    /// Whether the centre was derived from data (and so may need to be paid for in a code).
    pub fn is_data_derived(&self) -> bool {
        matches!(self, CenterSpec::Fit(_))
    }

    /// For `file:` of a truth file of `occam simulate`: the note that says its `parameters` are
    /// used as they are, on the scale where the prior lives, unlike `truth`, which maps the
    /// teacher's raw-unit weights into this data's standardisation (the two differ unless the
    /// features were not standardised). `None` for every other centre.
    pub fn truth_file_note(&self) -> Option<Message> {
        let CenterSpec::File(path) = self else {
            return None;
        };
        let bytes = crate::files::read_bounded(
            path.path(),
            crate::files::MAX_VECTOR_BYTES,
            "a centre file",
        )
        .ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let trimmed = text.trim_start();
        if !trimmed.starts_with('{') {
            return None;
        }
        let value: serde_json::Value = serde_json::from_str(trimmed).ok()?;
        if value.get("parameters").is_none() && value.get("map").is_some() {
            return Some(crate::message![
                format!("prior centre {self}: occam's fit JSON, its map.weights used as they are — the donor's standardised-unit weights as this data's standardised-unit weights (the same where the two data sets' feature means and sds agree); "),
                (Setting::PriorCenter, "fit:DATA.csv"),
                " instead refits on the donor's rows and maps through original units"
            ]);
        }
        Some(crate::message![
            format!("prior centre {self}: the truth file's 'parameters' used as they are, as standardised-unit weights; "),
            (Setting::PriorCenter, "truth"),
            " instead maps the teacher's raw-unit weights into this data's standardisation, so the two differ — use truth for the generating weights"
        ])
    }

    /// The coordinates of a centre that needs no fitting, for `k` parameters.
    ///
    /// `default_scale` is the sd of `sha256:` coordinates when the spec gives none (the prior sd).
    /// `fit:` and `truth` need data and are resolved by the caller that has it.
    pub fn resolve(
        &self,
        k: usize,
        default_scale: f64,
        parameter_names: &[String],
    ) -> Result<DVector<f64>> {
        let values = match self {
            CenterSpec::Zero => vec![0.0; k],
            CenterSpec::Const(v) => vec![*v; k],
            CenterSpec::Vector(v) => v.clone(),
            CenterSpec::File(path) => read_center_file(path)?,
            CenterSpec::Sha256 { text, scale } => {
                sha256_point(text, k, scale.unwrap_or(default_scale))
            }
            CenterSpec::Truth | CenterSpec::Fit(_) => {
                return Err(OccamError::invalid(
                    FLAG,
                    format!("'{self}' must be resolved against data; this is a bug in the caller"),
                ))
            }
        };
        check_length(self, values, k, parameter_names)
    }
}

/// Checks that a centre has one coordinate per parameter, naming the order when it does not.
pub fn check_length(
    spec: &CenterSpec,
    values: Vec<f64>,
    k: usize,
    parameter_names: &[String],
) -> Result<DVector<f64>> {
    if values.len() != k {
        return Err(OccamError::CenterLength {
            spec: spec.to_string(),
            expected: k,
            found: values.len(),
            detail: format!("in this order: {}", parameter_names.join(", ")),
        });
    }
    super::check_center(FLAG, &spec.to_string(), &values)?;
    Ok(DVector::from_vec(values))
}

impl fmt::Display for CenterSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CenterSpec::Zero => write!(f, "zero"),
            CenterSpec::Const(v) => write!(f, "const:{}", super::compact_number(*v)),
            CenterSpec::Vector(v) => {
                let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                write!(f, "vec:{}", parts.join(","))
            }
            CenterSpec::File(p) => write!(f, "file:{}", p.shown()),
            CenterSpec::Sha256 { text, scale: None } => write!(f, "sha256:{text}"),
            CenterSpec::Sha256 {
                text,
                scale: Some(s),
            } => write!(f, "sha256:{text}:{s}"),
            CenterSpec::Truth => write!(f, "truth"),
            CenterSpec::Fit(p) => write!(f, "fit:{}", p.shown()),
        }
    }
}

/// Reads a centre from a JSON array of numbers, a truth file of `occam simulate` (its
/// `parameters`), or a one-column CSV (an optional header line).
fn read_center_file(path: &Path) -> Result<Vec<f64>> {
    let text =
        crate::files::read_text_bounded(path, crate::files::MAX_VECTOR_BYTES, "a centre file")
            .map_err(|e| {
                OccamError::invalid(
                    FLAG,
                    Message::from(format!("file:{}: ", path.display())).then(e.message()),
                )
            })?;
    let bad =
        |message: String| OccamError::invalid(FLAG, format!("file:{}: {message}", path.display()));
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        // A truth file of occam simulate (its `parameters`), or occam's own fit JSON (its
        // `map.weights`, θ in the model's parameter order, on the standardised features).
        let value: serde_json::Value =
            serde_json::from_str(trimmed).map_err(|e| bad(format!("not JSON ({e})")))?;
        return json_center(&value).ok_or_else(|| {
            bad("a JSON object must be a truth file of occam simulate (a 'parameters' array) or occam's fit JSON (occam fit --format json: its 'map.weights')".into())
        });
    }
    if trimmed.starts_with('[') {
        // A flat array, or a nested one (one row per class of a multinomial model, K × (k+1)),
        // read row by row — the class-major parameter order.
        if let Ok(rows) = serde_json::from_str::<Vec<Vec<f64>>>(trimmed) {
            let width = rows.first().map_or(0, Vec::len);
            if let Some(r) = rows.iter().position(|row| row.len() != width) {
                return Err(bad(format!(
                    "a nested array must be rectangular (one row per class), but row {} has {} numbers and row 1 has {width}",
                    r + 1,
                    rows[r].len()
                )));
            }
            return Ok(rows.into_iter().flatten().collect());
        }
        let values: Vec<f64> = serde_json::from_str(trimmed).map_err(|e| {
            bad(format!(
                "not a JSON array of numbers, nor an array of equal-length arrays of numbers ({e})"
            ))
        })?;
        return Ok(values);
    }
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cell = line.trim();
        if cell.is_empty() {
            continue;
        }
        if cell.contains(',') {
            return Err(bad(format!("line {} has more than one column; a centre file is a JSON array or a one-column CSV", i + 1)));
        }
        match cell.parse::<f64>() {
            Ok(v) if v.is_finite() => values.push(v),
            Ok(_) => return Err(bad(format!("line {}: '{cell}' is not finite", i + 1))),
            Err(_) if i == 0 => {} // a header
            Err(_) => {
                return Err(bad(format!(
                    "line {}: cannot read '{cell}' as a number",
                    i + 1
                )))
            }
        }
    }
    if values.is_empty() {
        return Err(bad("no numbers found".into()));
    }
    Ok(values)
}

/// The centre in a JSON object: a truth file's `parameters`, else a fit JSON's `map.weights`;
/// `None` when neither is an array of numbers.
fn json_center(value: &serde_json::Value) -> Option<Vec<f64>> {
    let numbers = |v: &serde_json::Value| -> Option<Vec<f64>> {
        v.as_array()?
            .iter()
            .map(serde_json::Value::as_f64)
            .collect()
    };
    match value.get("parameters") {
        Some(parameters) => numbers(parameters),
        None => numbers(value.get("map")?.get("weights")?),
    }
}

/// A value-stable pseudo-random point: `k` coordinates N(0, scale²) from ChaCha20 seeded with
/// SHA-256(`text`).
///
/// Each coordinate is [`crate::random::Stream::normal`]: two 64-bit outputs and the cosine branch
/// of Box–Muller, a recipe spelled out in this crate so that the point never changes with a
/// dependency's version.
///
/// ```
/// let p = occam::prior::sha256_point("occam", 3, 1.0);
/// assert_eq!(p, occam::prior::sha256_point("occam", 3, 1.0));
/// assert_eq!(p.len(), 3);
/// ```
pub fn sha256_point(text: &str, k: usize, scale: f64) -> Vec<f64> {
    let mut stream = Stream::from_key(Sha256::digest(text.as_bytes()).into());
    (0..k).map(|_| scale * stream.normal()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_through_display() {
        for text in [
            "zero",
            "const:-1.5",
            "vec:1,2.5,-3",
            "file:w.json",
            "sha256:occam",
            "sha256:a:b:0.25",
            "truth",
            "fit:other.csv",
        ] {
            let spec = CenterSpec::parse(text).unwrap();
            assert_eq!(
                CenterSpec::parse(&spec.to_string()).unwrap(),
                spec,
                "{text}"
            );
        }
        assert_eq!(
            CenterSpec::parse("sha256:a:b").unwrap(),
            CenterSpec::Sha256 {
                text: "a:b".into(),
                scale: None
            }
        );
    }

    #[test]
    fn a_centre_file_is_shown_as_written_and_read_where_it_is() {
        let spec = CenterSpec::Fit(CenterPath::shown_as(
            "/tmp/spec-folder/other.csv",
            "other.csv",
        ));
        assert_eq!(spec.to_string(), "fit:other.csv");
        let CenterSpec::Fit(path) = &spec else {
            unreachable!()
        };
        assert_eq!(path.path(), Path::new("/tmp/spec-folder/other.csv"));
        // Typed on the command line, the two are the same text.
        let typed = CenterSpec::parse("file:w.json").unwrap();
        assert_eq!(typed, CenterSpec::File(CenterPath::new("w.json")));
    }

    #[test]
    fn bad_specs_are_refused() {
        for text in [
            "",
            "const:",
            "const:x",
            "vec:1,,2",
            "sha256:",
            "sha256:x:-1",
            "zero:1",
            "elsewhere",
        ] {
            assert!(CenterSpec::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn sha256_point_is_value_stable() {
        // Pinned: changing these digits changes every published sha256: result.
        let p = sha256_point("occam", 4, 1.0);
        let pinned = [
            1.3172620337998315,
            -1.7309588123404716,
            -0.14635073860619036,
            0.4985140377779292,
        ];
        for (a, b) in p.iter().zip(pinned) {
            assert_eq!(*a, b);
        }
        // The scale multiplies; a different text gives a different point.
        let q = sha256_point("occam", 4, 2.0);
        assert!(p.iter().zip(&q).all(|(a, b)| (2.0 * a - b).abs() < 1e-15));
        assert_ne!(sha256_point("occam!", 4, 1.0), p);
    }

    #[test]
    fn sha256_points_look_standard_normal() {
        let p = sha256_point("moments", 20_000, 1.0);
        let mean = p.iter().sum::<f64>() / p.len() as f64;
        let var = p.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / p.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn wrong_length_names_the_order() {
        let names = vec!["a".to_string(), "b".to_string()];
        let err = CenterSpec::parse("vec:1,2,3")
            .unwrap()
            .resolve(2, 1.0, &names)
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("3 coordinates") && msg.contains("2 parameters") && msg.contains("a, b"),
            "{msg}"
        );
    }
}
