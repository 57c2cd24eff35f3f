//! The built-in studies of `occam report`: each answers one question about the Gaussian-prior
//! reading of L2 with tables and figures computed on built-in or simulated data.
//!
//! A study returns a [`Section`]: prose, tables and figures in reading order. Studies never touch
//! the file system except through [`StudyContext::data_file`], which stages data files (halves of
//! a data set, a simulation) inside the report folder so that every table's command reruns.

pub mod capacity;
pub mod centres;
pub mod groups;
pub mod prior;
pub mod razor;
pub mod saturation;
mod structures;

use super::figure::Figure;
use super::table::Table;
use crate::error::{OccamError, Result, SettingNames};
use std::path::{Path, PathBuf};

/// One piece of a section, in reading order.
#[derive(Debug, Clone)]
pub enum Block {
    /// A Markdown paragraph.
    Text(String),
    /// A table, shown inline and written to `tables/NAME.{md,tex,csv,json}`.
    Table(Table),
    /// A figure, written to `figures/NAME.svg` and embedded.
    Figure {
        /// File stem.
        name: String,
        /// Caption under the figure.
        caption: String,
        /// The figure.
        figure: Figure,
    },
}

/// A section of report.md.
#[derive(Debug, Clone)]
pub struct Section {
    /// Short id (`--only` uses it).
    pub id: String,
    /// The heading.
    pub title: String,
    /// Prose, tables and figures.
    pub blocks: Vec<Block>,
    /// Data files the section staged (`data/NAME`), so that `--only` can keep other sections'.
    pub data_files: Vec<String>,
}

impl Section {
    /// An empty section.
    pub fn new(id: &str, title: &str) -> Self {
        Section {
            id: id.into(),
            title: title.into(),
            blocks: Vec::new(),
            data_files: Vec::new(),
        }
    }

    /// Adds a paragraph.
    pub fn text(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Text(text.into()));
    }

    /// Adds a table.
    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }

    /// Adds a figure.
    pub fn figure(&mut self, name: &str, caption: &str, figure: Figure) {
        self.blocks.push(Block::Figure {
            name: name.into(),
            caption: caption.into(),
            figure,
        });
    }
}

/// Where a study may stage data files, and how to name them in what a reader sees.
///
/// Staged files are named relative to the finished folder (`data/diabetes-even.csv`), never by
/// where the folder is written or the staging folder's path: a table's labels and commands are
/// then the same bytes wherever the report is written, and its commands run from inside it.
#[derive(Debug, Clone)]
pub struct StudyContext {
    /// The folder being written (a temporary sibling of the final one).
    pub staging: PathBuf,
    /// `data/NAME` of every file staged since the last [`StudyContext::take_data_files`].
    pub data_written: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// How the front end spells settings, for the commands and notes a study prints.
    pub names: &'static dyn SettingNames,
}

impl StudyContext {
    /// Writes `contents` to `data/NAME` in the report and returns (path to use now, path as
    /// tables and commands name it: `data/NAME`, relative to the report folder).
    pub fn data_file(&self, name: &str, contents: &str) -> Result<(PathBuf, String)> {
        let dir = self.staging.join("data");
        std::fs::create_dir_all(&dir).map_err(|source| OccamError::Write {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(name);
        std::fs::write(&path, contents).map_err(|source| OccamError::Write {
            path: path.clone(),
            source,
        })?;
        self.data_written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("data/{name}"));
        let printed = self.printed(&path);
        Ok((path, printed))
    }

    /// The data files staged since the last call, for the section that staged them.
    pub fn take_data_files(&self) -> Vec<String> {
        std::mem::take(&mut *self.data_written.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `study` with its data files staged in a fresh temporary folder, removed afterwards
    /// whatever the outcome (and on SIGINT/SIGTERM: it is an occam staging folder, see
    /// [`crate::files::Staging`]): for printing one table, where no folder is written. Tables
    /// name staged files `data/…`, so they are the same bytes as in a written folder.
    pub fn in_temporary_folder<T>(
        names: &'static dyn SettingNames,
        study: impl FnOnce(&StudyContext) -> Result<T>,
    ) -> Result<T> {
        let staging = crate::files::Staging::beside(&std::env::temp_dir().join("occam-table"))?;
        std::fs::create_dir_all(staging.path()).map_err(|source| OccamError::Write {
            path: staging.path().to_path_buf(),
            source,
        })?;
        study(&StudyContext {
            staging: staging.path().to_path_buf(),
            data_written: Default::default(),
            names,
        })
    }

    /// The printed form of a staged path: relative to the report folder, with `/` separators
    /// on every platform (the same bytes wherever the report was made).
    pub fn printed(&self, staged: &Path) -> String {
        match staged.strip_prefix(&self.staging) {
            Ok(rest) => rest
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => staged.display().to_string(),
        }
    }
}

/// A study: its id, title and the function that runs it.
pub struct Study {
    /// Short id for `--only`.
    pub id: &'static str,
    /// What it answers.
    pub title: &'static str,
    /// Runs it.
    pub run: fn(&StudyContext) -> Result<Section>,
}

/// The built-in studies in report order.
pub const STUDIES: &[Study] = &[
    Study {
        id: "prior",
        title: "L2 is a Gaussian prior",
        run: prior::run,
    },
    Study {
        id: "capacity",
        title: "Capacity, not magic",
        run: capacity::run,
    },
    Study {
        id: "centres",
        title: "Why zero?",
        run: centres::run,
    },
    Study {
        id: "razor",
        title: "Is the razor arbitrary?",
        run: razor::run,
    },
    Study {
        id: "saturation",
        title: "Saturation and balance",
        run: saturation::run,
    },
    Study {
        id: "groups",
        title: "One prior or many?",
        run: groups::run,
    },
];
