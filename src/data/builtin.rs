//! Data sets compiled into the binary, so `--data diabetes` works from any directory.
//!
//! Provenance and licences: `data/README.md`.

/// A data set shipped inside the binary.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinDataset {
    /// The name used with `--data`.
    pub name: &'static str,
    /// The learning task the target supports.
    pub task: &'static str,
    /// The target column and what it measures.
    pub target: &'static str,
    /// Where the data come from and under which licence.
    pub provenance: &'static str,
    /// The CSV text (header row, then data).
    pub csv: &'static str,
}

/// Every built-in data set, in the order `occam datasets` lists them.
pub const BUILTINS: &[BuiltinDataset] = &[
    BuiltinDataset {
        name: "diabetes",
        task: "regression",
        target: "progression (disease progression one year after baseline)",
        provenance: "Efron, Hastie, Johnstone & Tibshirani (2004), Least Angle Regression; scikit-learn's copy (BSD-3-Clause)",
        csv: include_str!("../../data/diabetes.csv"),
    },
    BuiltinDataset {
        name: "breast_cancer",
        task: "binary classification",
        target: "benign (1) / malignant (0)",
        provenance: "Wisconsin Diagnostic Breast Cancer, UCI ML Repository (CC BY 4.0), Street, Wolberg & Mangasarian (1993); scikit-learn's copy",
        csv: include_str!("../../data/breast_cancer.csv"),
    },
    BuiltinDataset {
        name: "iris",
        task: "classification (3 classes)",
        target: "species 0/1/2",
        provenance: "Fisher (1936), UCI ML Repository (CC BY 4.0); scikit-learn's copy",
        csv: include_str!("../../data/iris.csv"),
    },
];

/// The built-in data set called `name`, if there is one.
pub fn builtin(name: &str) -> Option<&'static BuiltinDataset> {
    BUILTINS.iter().find(|d| d.name == name)
}

/// The built-in names, comma-separated, for error messages.
pub fn builtin_names() -> String {
    BUILTINS
        .iter()
        .map(|d| d.name)
        .collect::<Vec<_>>()
        .join(", ")
}
