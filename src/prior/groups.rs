//! Prior structure (math.md §8): a list of groups, each with its own centre μ_g and sd s_g.
//!
//! The prior precision is Λ = diag(α_g on group g), α_g = 1/s_g², and every parameter belongs to
//! exactly one group. The default is one group, `all`, which is the isotropic N(μ, s²I) of
//! math.md §2–§7 unchanged.
//!
//! # Syntax (one for the command line and for `run` specs)
//!
//! `GROUP=CENTER:SD; GROUP=CENTER:SD; …` — groups separated by `;`, each a selector, `=`, a centre
//! of math.md §6 and, after the last `:`, an sd: a positive number or `auto` (empirical Bayes).
//! The centre may contain colons itself (`file:pre.json:auto`, `sha256:occam:0.5:auto`).
//! Selectors:
//!
//! | selector | parameters |
//! |---|---|
//! | `all` | every parameter |
//! | `weights` | every weight |
//! | `biases` | every bias (intercept) |
//! | `layerL` | layer L's weights and biases (1-based; a GLM has one layer) |
//! | `layerL.weights`, `layerL.biases` | layer L's weights, or its biases |
//! | `output`, `output.weights`, `output.biases` | the last layer (a network's head; `layerL+1` for L hidden layers) |
//! | `features:a,b,…` | the weights leaving the named input features (all classes, all units) |
//! | `ard` | one group per input feature, named by the feature: its outgoing weights |
//! | `rest` | every parameter no other group claims |
//!
//! `ard` alone is short for `ard=zero:auto` (MacKay's and Tipping's ARD). A group's `file:`
//! centre covers that group only: its length is the group's size.

use super::{CenterSpec, SdSpec};
use crate::error::{Message, OccamError, Result, Setting};
use std::fmt;

const FLAG: Setting = Setting::Prior;

/// Which parameters a group covers, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every parameter.
    All,
    /// Every weight.
    Weights,
    /// Every bias.
    Biases,
    /// Layer L (1-based): its weights and biases, or one of the two.
    Layer {
        /// The layer, counted from 1 at the inputs.
        layer: usize,
        /// Which of its parameters.
        part: LayerPart,
    },
    /// The last layer (a network's `output`, a GLM's one layer): its weights and biases, or one
    /// of the two.
    Output(LayerPart),
    /// The weights leaving the named input features, as one group.
    Features(Vec<String>),
    /// One group per input feature (automatic relevance determination).
    Ard,
    /// Every parameter no other group claims.
    Rest,
}

/// The part of a layer a [`Selector::Layer`] covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerPart {
    /// Weights and biases.
    Both,
    /// The weights only.
    Weights,
    /// The biases only.
    Biases,
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::All => write!(f, "all"),
            Selector::Weights => write!(f, "weights"),
            Selector::Biases => write!(f, "biases"),
            Selector::Layer { layer, part } => match part {
                LayerPart::Both => write!(f, "layer{layer}"),
                LayerPart::Weights => write!(f, "layer{layer}.weights"),
                LayerPart::Biases => write!(f, "layer{layer}.biases"),
            },
            Selector::Output(part) => match part {
                LayerPart::Both => write!(f, "output"),
                LayerPart::Weights => write!(f, "output.weights"),
                LayerPart::Biases => write!(f, "output.biases"),
            },
            Selector::Features(names) => write!(f, "features:{}", names.join(",")),
            Selector::Ard => write!(f, "ard"),
            Selector::Rest => write!(f, "rest"),
        }
    }
}

/// One group as the user wrote it: a selector, a centre and an sd.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// The parameters it covers.
    pub selector: Selector,
    /// Its centre μ_g.
    pub center: CenterSpec,
    /// Its sd s_g, fixed or fitted.
    pub sd: SdSpec,
}

impl fmt::Display for GroupSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}:{}", self.selector, self.center, self.sd)
    }
}

/// A prior structure as the user wrote it: groups not yet matched to any model's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorStructure {
    groups: Vec<GroupSpec>,
}

impl fmt::Display for PriorStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.groups.iter().map(|g| g.to_string()).collect();
        f.write_str(&parts.join("; "))
    }
}

fn invalid(message: String) -> OccamError {
    OccamError::invalid(FLAG, message)
}

fn parse_layer(text: &str) -> Option<usize> {
    let digits = text.strip_prefix("layer")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok().filter(|&l| l >= 1)
}

impl Selector {
    /// Parses the left-hand side of a group.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        match text {
            "all" => return Ok(Selector::All),
            "weights" => return Ok(Selector::Weights),
            "biases" => return Ok(Selector::Biases),
            "ard" => return Ok(Selector::Ard),
            "rest" => return Ok(Selector::Rest),
            _ => {}
        }
        if let Some(names) = text.strip_prefix("features:") {
            let names: Vec<String> = names.split(',').map(|n| n.trim().to_string()).collect();
            if names.iter().any(|n| n.is_empty()) {
                return Err(invalid(format!(
                    "'{text}' has an empty feature name; write features:a,b"
                )));
            }
            let mut seen = std::collections::BTreeSet::new();
            if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
                return Err(invalid(format!("'{text}' names feature '{dup}' twice")));
            }
            return Ok(Selector::Features(names));
        }
        let (layer_text, part) = match text.split_once('.') {
            None => (text, LayerPart::Both),
            Some((l, "weights")) => (l, LayerPart::Weights),
            Some((l, "biases")) => (l, LayerPart::Biases),
            Some(_) => (text, LayerPart::Both),
        };
        if let Some(layer) = parse_layer(layer_text) {
            return Ok(Selector::Layer { layer, part });
        }
        if layer_text == "output" {
            return Ok(Selector::Output(part));
        }
        Err(invalid(format!(
            "unknown group '{text}'; use all, weights, biases, layerL, layerL.weights, layerL.biases, output, output.weights, output.biases, features:a,b, ard or rest"
        )))
    }
}

impl GroupSpec {
    /// Parses `GROUP=CENTER:SD` (or `ard`, short for `ard=zero:auto`).
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let Some((left, right)) = text.split_once('=') else {
            if text == "ard" {
                return Ok(GroupSpec {
                    selector: Selector::Ard,
                    center: CenterSpec::Zero,
                    sd: SdSpec::Auto,
                });
            }
            return Err(invalid(format!(
                "'{text}' needs GROUP=CENTER:SD, e.g. weights=zero:auto or layer1=file:pre.json:0.5"
            )));
        };
        let selector = Selector::parse(left)?;
        let right = right.trim();
        let Some((center_text, sd_text)) = right.rsplit_once(':') else {
            return Err(invalid(format!(
                "'{text}' needs an sd after the centre: {left}={right}:auto or {left}={right}:0.5"
            )));
        };
        let wrap = |e: OccamError| {
            OccamError::invalid(FLAG, Message::from(format!("'{text}': ")).then(e.message()))
        };
        let sd = match SdSpec::parse(FLAG, sd_text) {
            Ok(sd) => sd,
            Err(_) if sd_text.trim().parse::<f64>().is_err() => {
                return Err(invalid(format!(
                "'{text}': the sd after the last ':' must be a positive number or 'auto', not '{}'",
                sd_text.trim()
            )))
            }
            Err(e) => return Err(wrap(e)),
        };
        let center = CenterSpec::parse(center_text).map_err(wrap)?;
        // truth and fit: name every parameter of a model; a part of one has no such file.
        if matches!(center, CenterSpec::Truth | CenterSpec::Fit(_)) && selector != Selector::All {
            return Err(invalid(format!(
                "'{text}': centre '{center}' names every parameter of a model; use it with the group 'all', or give the group a file: centre"
            )));
        }
        Ok(GroupSpec {
            selector,
            center,
            sd,
        })
    }
}

impl PriorStructure {
    /// The default: one group `all` with centre `center` and sd `sd` — today's N(μ, s²I).
    pub fn single(center: CenterSpec, sd: SdSpec) -> Self {
        PriorStructure {
            groups: vec![GroupSpec {
                selector: Selector::All,
                center,
                sd,
            }],
        }
    }

    /// Parses `GROUP=CENTER:SD; …` (see the module documentation).
    ///
    /// ```
    /// use occam::prior::groups::{PriorStructure, Selector};
    /// let p = PriorStructure::parse("layer1=file:pre.json:auto; layer2=zero:auto").unwrap();
    /// assert_eq!(p.groups().len(), 2);
    /// assert_eq!(p.to_string(), "layer1=file:pre.json:auto; layer2=zero:auto");
    /// assert_eq!(PriorStructure::parse("ard").unwrap().groups()[0].selector, Selector::Ard);
    /// assert!(PriorStructure::parse("layer0=zero:1").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split(';').map(str::trim).collect();
        if parts.iter().all(|p| p.is_empty()) {
            return Err(invalid(
                "is empty; give GROUP=CENTER:SD groups separated by ';', e.g. weights=zero:auto; biases=zero:10".into(),
            ));
        }
        let mut groups = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() {
                // A trailing ';' is harmless; an empty group between two is a typo.
                if i + 1 == parts.len() {
                    continue;
                }
                return Err(invalid(format!(
                    "group {} is empty (two ';' in a row)",
                    i + 1
                )));
            }
            groups.push(GroupSpec::parse(part)?);
        }
        let mut seen = std::collections::BTreeSet::new();
        for g in &groups {
            if !seen.insert(g.selector.to_string()) {
                return Err(invalid(format!("group '{}' is given twice", g.selector)));
            }
        }
        Ok(PriorStructure { groups })
    }

    /// The groups, in the order given.
    pub fn groups(&self) -> &[GroupSpec] {
        &self.groups
    }

    /// Its groups, to rewrite in place (e.g. a `run` spec anchoring `file:` centres at the
    /// spec's folder).
    pub fn groups_mut(&mut self) -> &mut [GroupSpec] {
        &mut self.groups
    }

    /// Whether this is the one-group prior of math.md §2–§7.
    pub fn is_single(&self) -> bool {
        self.groups.len() == 1 && self.groups[0].selector == Selector::All
    }

    /// Matches the groups to a model's parameters: every parameter in exactly one group, no group
    /// empty. `ard` expands to one group per input feature, in the features' order.
    ///
    /// ```
    /// use occam::prior::groups::{ParameterInfo, PriorStructure};
    /// let params = vec![
    ///     ParameterInfo::weight("w_age", 1, Some("age")),
    ///     ParameterInfo::weight("w_bmi", 1, Some("bmi")),
    ///     ParameterInfo::bias("intercept", 1),
    /// ];
    /// let groups = PriorStructure::parse("ard; rest=zero:10").unwrap().resolve(&params).unwrap();
    /// let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    /// assert_eq!(names, ["age", "bmi", "rest"]);
    /// assert_eq!(groups[2].indices, [2]);
    /// assert!(PriorStructure::parse("ard").unwrap().resolve(&params).is_err()); // intercept in no group
    /// ```
    pub fn resolve(&self, params: &[ParameterInfo]) -> Result<Vec<Group>> {
        let mut owner: Vec<Option<usize>> = vec![None; params.len()];
        let mut groups: Vec<Group> = Vec::new();
        let claim = |groups: &mut Vec<Group>,
                     owner: &mut Vec<Option<usize>>,
                     name: String,
                     spec: &GroupSpec,
                     indices: Vec<usize>|
         -> Result<()> {
            if indices.is_empty() {
                return Err(invalid(format!(
                    "group '{name}' covers no parameter of this model"
                )));
            }
            let gi = groups.len();
            for &j in &indices {
                if let Some(other) = owner[j] {
                    return Err(invalid(format!(
                        "parameter '{}' is in two groups, '{}' and '{name}'; every parameter belongs to exactly one",
                        params[j].name, groups[other].name
                    )));
                }
                owner[j] = Some(gi);
            }
            groups.push(Group {
                name,
                indices,
                center: spec.center.clone(),
                sd: spec.sd,
            });
            Ok(())
        };
        let select = |pred: &dyn Fn(&ParameterInfo) -> bool| -> Vec<usize> {
            (0..params.len()).filter(|&j| pred(&params[j])).collect()
        };
        let last_layer = params.iter().map(|p| p.layer).max().unwrap_or(0);
        let mut rest = None;
        for spec in &self.groups {
            match &spec.selector {
                Selector::Rest => rest = Some(spec),
                Selector::All => claim(
                    &mut groups,
                    &mut owner,
                    "all".into(),
                    spec,
                    select(&|_| true),
                )?,
                Selector::Weights => claim(
                    &mut groups,
                    &mut owner,
                    "weights".into(),
                    spec,
                    select(&|p| p.kind == ParameterKind::Weight),
                )?,
                Selector::Biases => claim(
                    &mut groups,
                    &mut owner,
                    "biases".into(),
                    spec,
                    select(&|p| p.kind == ParameterKind::Bias),
                )?,
                Selector::Output(part) => claim(
                    &mut groups,
                    &mut owner,
                    spec.selector.to_string(),
                    spec,
                    select(&|p| {
                        p.layer == last_layer
                            && match part {
                                LayerPart::Both => true,
                                LayerPart::Weights => p.kind == ParameterKind::Weight,
                                LayerPart::Biases => p.kind == ParameterKind::Bias,
                            }
                    }),
                )?,
                Selector::Layer { layer, part } => claim(
                    &mut groups,
                    &mut owner,
                    spec.selector.to_string(),
                    spec,
                    select(&|p| {
                        p.layer == *layer
                            && match part {
                                LayerPart::Both => true,
                                LayerPart::Weights => p.kind == ParameterKind::Weight,
                                LayerPart::Biases => p.kind == ParameterKind::Bias,
                            }
                    }),
                )?,
                Selector::Features(names) => {
                    if let Some(missing) = names.iter().find(|n| {
                        !params
                            .iter()
                            .any(|p| p.feature.as_deref() == Some(n.as_str()))
                    }) {
                        return Err(invalid(format!(
                            "group '{}': no input feature '{missing}' in this model",
                            spec.selector
                        )));
                    }
                    claim(
                        &mut groups,
                        &mut owner,
                        names.join(","),
                        spec,
                        select(&|p| p.feature.as_ref().is_some_and(|f| names.contains(f))),
                    )?
                }
                Selector::Ard => {
                    let mut features: Vec<&str> = Vec::new();
                    for p in params {
                        if let Some(f) = p.feature.as_deref() {
                            if !features.contains(&f) {
                                features.push(f);
                            }
                        }
                    }
                    if features.is_empty() {
                        return Err(invalid(
                            "group 'ard': this model has no input feature weights".into(),
                        ));
                    }
                    for f in features {
                        claim(
                            &mut groups,
                            &mut owner,
                            f.to_string(),
                            spec,
                            select(&|p| p.feature.as_deref() == Some(f)),
                        )?;
                    }
                }
            }
        }
        if let Some(spec) = rest {
            let left: Vec<usize> = (0..params.len()).filter(|&j| owner[j].is_none()).collect();
            claim(&mut groups, &mut owner, "rest".into(), spec, left)?;
        }
        if let Some(j) = owner.iter().position(Option::is_none) {
            return Err(invalid(format!(
                "parameter '{}' is in no group; add a group for it, e.g. 'rest=zero:auto'",
                params[j].name
            )));
        }
        // Group names name output rows: they must be distinct (a feature called `rest` would clash).
        let mut names = std::collections::BTreeSet::new();
        if let Some(g) = groups.iter().find(|g| !names.insert(g.name.as_str())) {
            return Err(invalid(format!(
                "two groups are named '{}'; rename the feature or group them differently",
                g.name
            )));
        }
        Ok(groups)
    }
}

/// Whether a parameter is a weight or a bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKind {
    /// A weight (multiplies an input or a hidden unit).
    Weight,
    /// A bias (intercept).
    Bias,
}

/// What a group selector needs to know about one parameter of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterInfo {
    /// The parameter's name, as outputs show it.
    pub name: String,
    /// Weight or bias.
    pub kind: ParameterKind,
    /// Its layer, counted from 1 at the inputs (a GLM has one layer).
    pub layer: usize,
    /// For a weight leaving an input feature, the feature's name.
    pub feature: Option<String>,
}

impl ParameterInfo {
    /// A weight of layer `layer`, leaving input `feature` if it is a first-layer weight.
    pub fn weight(name: &str, layer: usize, feature: Option<&str>) -> Self {
        ParameterInfo {
            name: name.to_string(),
            kind: ParameterKind::Weight,
            layer,
            feature: feature.map(str::to_string),
        }
    }

    /// The parameters of a GLM (linear or logistic regression) in its order: one weight per
    /// feature, then, if it is a parameter, the intercept `(intercept)` (one layer).
    ///
    /// ```
    /// use occam::prior::groups::ParameterInfo;
    /// let p = ParameterInfo::glm(&["age".to_string(), "bmi".to_string()], true);
    /// assert_eq!(p[1].feature.as_deref(), Some("bmi"));
    /// assert_eq!(p[2].name, "(intercept)");
    /// ```
    pub fn glm(feature_names: &[String], intercept: bool) -> Vec<Self> {
        let mut info: Vec<Self> = feature_names
            .iter()
            .map(|f| ParameterInfo::weight(f, 1, Some(f)))
            .collect();
        if intercept {
            info.push(ParameterInfo::bias("(intercept)", 1));
        }
        info
    }

    /// A bias of layer `layer`.
    pub fn bias(name: &str, layer: usize) -> Self {
        ParameterInfo {
            name: name.to_string(),
            kind: ParameterKind::Bias,
            layer,
            feature: None,
        }
    }
}

/// One group matched to a model's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Its name in outputs: the selector, or the feature's name for an `ard` group.
    pub name: String,
    /// The indices of its parameters, increasing.
    pub indices: Vec<usize>,
    /// Its centre (resolved on `indices.len()` coordinates).
    pub center: CenterSpec,
    /// Its sd.
    pub sd: SdSpec,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prior::CenterPath;

    fn mlp_params() -> Vec<ParameterInfo> {
        // 2 inputs (a, b) → 2 hidden → 1 output.
        vec![
            ParameterInfo::weight("W1[1,a]", 1, Some("a")),
            ParameterInfo::weight("W1[1,b]", 1, Some("b")),
            ParameterInfo::weight("W1[2,a]", 1, Some("a")),
            ParameterInfo::weight("W1[2,b]", 1, Some("b")),
            ParameterInfo::bias("b1[1]", 1),
            ParameterInfo::bias("b1[2]", 1),
            ParameterInfo::weight("W2[1,1]", 2, None),
            ParameterInfo::weight("W2[1,2]", 2, None),
            ParameterInfo::bias("b2[1]", 2),
        ]
    }

    fn err(text: &str) -> String {
        PriorStructure::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn parses_every_selector_and_round_trips() {
        for text in [
            "all=zero:auto",
            "weights=const:0.5:1; biases=zero:10",
            "layer1=file:pre.json:auto; layer2=zero:auto",
            "layer1.weights=zero:1; layer1.biases=zero:2; layer2=zero:auto",
            "features:age,bmi=zero:auto; rest=zero:1",
            "ard=zero:auto; rest=zero:auto",
            "layer1=file:pre.json:auto; output=zero:auto",
            "output.weights=zero:1; output.biases=zero:2; rest=zero:auto",
            "all=sha256:occam:0.5:auto",
        ] {
            let p = PriorStructure::parse(text).unwrap();
            assert_eq!(p.to_string(), text);
            assert_eq!(PriorStructure::parse(&p.to_string()).unwrap(), p);
        }
        let p = PriorStructure::parse(" layer1 = file:pre.json:auto ;layer2=zero:0.25; ").unwrap();
        assert_eq!(
            p.groups()[0],
            GroupSpec {
                selector: Selector::Layer {
                    layer: 1,
                    part: LayerPart::Both
                },
                center: CenterSpec::File(CenterPath::new("pre.json")),
                sd: SdSpec::Auto
            }
        );
        assert_eq!(p.groups()[1].sd, SdSpec::Fixed(0.25));
        let s = PriorStructure::parse("all=sha256:occam:0.5:auto").unwrap();
        assert_eq!(
            s.groups()[0].center,
            CenterSpec::Sha256 {
                text: "occam".into(),
                scale: Some(0.5)
            }
        );
        assert_eq!(
            PriorStructure::parse("ard").unwrap().to_string(),
            "ard=zero:auto"
        );
    }

    #[test]
    fn the_default_is_one_group_all() {
        let p = PriorStructure::single(CenterSpec::Zero, SdSpec::Fixed(1.0));
        assert!(p.is_single());
        assert_eq!(p.to_string(), "all=zero:1");
        let g = p.resolve(&mlp_params()).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].name, "all");
        assert_eq!(g[0].indices, (0..9).collect::<Vec<_>>());
        assert!(!PriorStructure::parse("weights=zero:1; biases=zero:1")
            .unwrap()
            .is_single());
    }

    #[test]
    fn typed_errors_name_the_prior_setting() {
        let e = PriorStructure::parse("layer0=zero:1").unwrap_err();
        assert!(matches!(e, OccamError::InvalidArgument { .. }));
        assert!(e.to_string().starts_with("prior: "), "{e}");
        assert!(err("").contains("is empty"));
        assert!(err("weights").contains("needs GROUP=CENTER:SD"));
        assert!(err("weights=zero").contains("needs an sd"));
        assert!(err("weights=zero:-1").contains("not a positive finite standard deviation"));
        assert!(err("weights=zero:fast").contains("positive number or 'auto'"));
        assert!(err("weights=nowhere:1").contains("unknown centre"));
        assert!(err("heads=zero:1").contains("unknown group 'heads'"));
        assert!(err("layer1.gates=zero:1").contains("unknown group"));
        assert!(err("features:=zero:1").contains("empty feature name"));
        assert!(err("features:a,a=zero:1").contains("twice"));
        assert!(err("weights=zero:1; weights=zero:2").contains("given twice"));
        assert!(err("weights=zero:1;; biases=zero:1").contains("two ';' in a row"));
        assert!(err("layer1=truth:auto").contains("group 'all'"));
        assert!(err("layer1=fit:a.csv:auto").contains("group 'all'"));
        assert!(PriorStructure::parse("all=truth:auto").is_ok());
    }

    #[test]
    fn every_parameter_in_exactly_one_group() {
        let params = mlp_params();
        let g = PriorStructure::parse("layer1=zero:auto; layer2=zero:auto")
            .unwrap()
            .resolve(&params)
            .unwrap();
        assert_eq!(g[0].indices, [0, 1, 2, 3, 4, 5]);
        assert_eq!(g[1].indices, [6, 7, 8]);
        let g =
            PriorStructure::parse("layer1=zero:auto; output.weights=zero:1; output.biases=zero:1")
                .unwrap()
                .resolve(&params)
                .unwrap();
        assert_eq!(g[1].name, "output.weights");
        assert_eq!(g[1].indices, [6, 7]);
        assert_eq!(g[2].indices, [8]);
        assert!(
            PriorStructure::parse("layer2=zero:1; output=zero:1; layer1=zero:1")
                .unwrap()
                .resolve(&params)
                .unwrap_err()
                .to_string()
                .contains("in two groups, 'layer2' and 'output'")
        );

        let g = PriorStructure::parse("ard; rest=zero:1")
            .unwrap()
            .resolve(&params)
            .unwrap();
        let names: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "rest"]);
        assert_eq!(g[0].indices, [0, 2]);
        assert_eq!(g[1].indices, [1, 3]);
        assert_eq!(g[2].indices, [4, 5, 6, 7, 8]);

        let g = PriorStructure::parse("rest=zero:1; features:b=zero:auto; biases=zero:10")
            .unwrap()
            .resolve(&params)
            .unwrap();
        assert_eq!(g[0].name, "b");
        assert_eq!(g[0].indices, [1, 3]);
        assert_eq!(g[1].indices, [4, 5, 8]);
        assert_eq!(g[2].name, "rest");
        assert_eq!(g[2].indices, [0, 2, 6, 7]);

        let e = |t: &str| {
            PriorStructure::parse(t)
                .unwrap()
                .resolve(&params)
                .unwrap_err()
                .to_string()
        };
        assert!(e("weights=zero:1").contains("parameter 'b1[1]' is in no group"));
        assert!(
            e("weights=zero:1; layer2=zero:1").contains("in two groups, 'weights' and 'layer2'")
        );
        assert!(e("layer3=zero:1; all=zero:1").contains("group 'layer3' covers no parameter"));
        assert!(e("features:c=zero:1; rest=zero:1").contains("no input feature 'c'"));
        assert!(e("all=zero:1; rest=zero:1").contains("group 'rest' covers no parameter"));
        let clash = vec![
            ParameterInfo::weight("w_rest", 1, Some("rest")),
            ParameterInfo::bias("b", 1),
        ];
        let e = PriorStructure::parse("ard; rest=zero:1")
            .unwrap()
            .resolve(&clash)
            .unwrap_err();
        assert!(e.to_string().contains("two groups are named 'rest'"));
    }
}
