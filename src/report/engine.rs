//! Writes a report folder: `report.md`, `figures/*.svg`, `tables/*.{md,tex,csv,json}`, `data/`
//! and `manifest.json` — byte-identical on rerun, and atomic: the folder is built beside the
//! target and renamed into place, so a failed run leaves the old report (or nothing).
//!
//! [`write_report`] runs the built-in studies; [`write_sections`] is the same folder writer for
//! any producer of sections (`occam run` uses it for a spec's studies).

use super::studies::{Block, Section, Study, StudyContext};
use super::table::Table;
use crate::error::{OccamError, Result};
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What to run and where to write it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// The folder to write.
    pub out: PathBuf,
    /// Study ids to run (all when empty).
    pub only: Vec<String>,
    /// Show a progress bar on stderr (it stays silent when stderr is not a terminal).
    pub progress: bool,
    /// The command line that made the report as it was typed, for the manifest.
    pub command: String,
}

/// The command that reproduces a built-in table's files from any folder: with `--format EXT`
/// it prints `tables/NAME.EXT` of a report byte for byte.
pub fn regenerate_command(table: &str) -> String {
    format!("occam report --table {table}")
}

/// Gives every table of a built-in study's section its [`regenerate_command`].
fn with_regenerate(mut section: Section) -> Section {
    for block in &mut section.blocks {
        if let Block::Table(table) = block {
            table.regenerate = Some(regenerate_command(&table.name));
        }
    }
    section
}

/// Runs the one built-in study that makes table `name` and renders the table as `format` (md,
/// tex, csv or json): what `occam report --table NAME --format FORMAT` prints, the same bytes as
/// `tables/NAME.FORMAT` in a report written anywhere.
///
/// Every table's name starts with its study's id (`centres-diabetes` is made by `centres`), so
/// only that study runs, its data files staged in a temporary folder
/// ([`StudyContext::in_temporary_folder`]).
pub fn render_table(studies: &[Study], name: &str, format: &str) -> Result<String> {
    let ids: Vec<&str> = studies.iter().map(|s| s.id).collect();
    let study = studies
        .iter()
        .find(|s| name == s.id || name.starts_with(&format!("{}-", s.id)))
        .ok_or_else(|| {
            OccamError::invalid(
                "--table",
                format!(
                    "no table '{name}': a table's name starts with its study's id ({}); a report lists its tables in report.md and manifest.json",
                    ids.join(", ")
                ),
            )
        })?;
    let section = with_regenerate(StudyContext::in_temporary_folder(study.run)?);
    let tables: Vec<&Table> = section
        .blocks
        .iter()
        .filter_map(|block| match block {
            Block::Table(table) => Some(table),
            _ => None,
        })
        .collect();
    let table = tables.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        OccamError::invalid(
            "--table",
            format!(
                "no table '{name}'; the study '{}' makes {}",
                study.id,
                names.join(", ")
            ),
        )
    })?;
    table.render(format).ok_or_else(|| {
        OccamError::invalid(
            "--format",
            format!(
                "a table is written as {}, not '{format}'",
                Table::FORMATS.join(", ")
            ),
        )
    })
}

/// What a folder says about itself besides its sections: the heading of report.md, an optional
/// opening paragraph, extra manifest keys, and which table formats to write.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderOptions {
    /// The folder to write.
    pub out: PathBuf,
    /// Show a progress bar on stderr (silent when stderr is not a terminal).
    pub progress: bool,
    /// The command that made the folder as report.md shows it: without the output folder or
    /// anything else of the machine it ran on, so report.md is the same bytes wherever written.
    pub command: String,
    /// The command line as it was typed, recorded in manifest.json only.
    pub typed_command: String,
    /// The `# heading` of report.md.
    pub heading: String,
    /// A paragraph after the generated-by line, if any.
    pub intro: Option<String>,
    /// Extra top-level manifest keys (seeds, the spec), merged after the standard ones.
    pub manifest: serde_json::Map<String, serde_json::Value>,
    /// Table files to write under `tables/`: any of md, tex, csv, json (every table is inline
    /// in report.md whatever this says).
    pub table_formats: Vec<String>,
}

/// Every table format the engine writes.
pub const TABLE_FORMATS: [&str; 4] = Table::FORMATS;

fn write(path: &Path, contents: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| OccamError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, contents).map_err(|source| OccamError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Runs the chosen studies and writes the report folder.
pub fn write_report(studies: &[Study], options: &ReportOptions) -> Result<Vec<String>> {
    let chosen: Vec<&Study> = if options.only.is_empty() {
        studies.iter().collect()
    } else {
        for id in &options.only {
            if !studies.iter().any(|s| s.id == id) {
                let ids: Vec<&str> = studies.iter().map(|s| s.id).collect();
                return Err(OccamError::invalid(
                    "--only",
                    format!("no study '{id}'; the studies are {}", ids.join(", ")),
                ));
            }
        }
        studies
            .iter()
            .filter(|s| options.only.iter().any(|id| id == s.id))
            .collect()
    };
    let mut manifest = serde_json::Map::new();
    manifest.insert(
        "seeds".into(),
        json!({ "capacity": super::studies::capacity::SEED, "centres_simulation": 7, "sha256_centres": ["occam-1", "occam-2", "occam-3", "razor-1", "razor-2", "razor-3"] }),
    );
    // report.md names the command without its output folder: the same bytes wherever written.
    let mut command = "occam report".to_string();
    if !options.only.is_empty() {
        command += &format!(" --only {}", options.only.join(","));
    }
    let folder = FolderOptions {
        out: options.out.clone(),
        progress: options.progress,
        command,
        typed_command: options.command.clone(),
        heading: "occam report — what the Gaussian-prior reading of L2 explains".into(),
        intro: None,
        manifest,
        table_formats: TABLE_FORMATS.iter().map(|f| f.to_string()).collect(),
    };
    write_sections(&folder, chosen.len(), |context, bar| {
        let mut sections = Vec::new();
        for study in &chosen {
            bar.set_message(study.title);
            sections.push(with_regenerate((study.run)(context)?));
            bar.inc(1);
        }
        Ok(sections)
    })
}

/// Writes a report folder from the sections `run` produces, atomically: `run` stages any data
/// files through its [`StudyContext`] and advances the progress bar (`steps` long) as it goes.
/// On any error nothing is left behind and an existing folder is untouched.
pub fn write_sections<F>(options: &FolderOptions, steps: usize, run: F) -> Result<Vec<String>>
where
    F: FnOnce(&StudyContext, &indicatif::ProgressBar) -> Result<Vec<Section>>,
{
    let out = &options.out;
    let name = out.file_name().map_or_else(
        || "occam-report".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = build(options, steps, run, &staging);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    // Swap the new folder in: move the old one aside first so there is never a half-written report.
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if out.exists() {
        std::fs::rename(out, &old).map_err(|source| OccamError::Write {
            path: out.clone(),
            source,
        })?;
    }
    if let Err(source) = std::fs::rename(&staging, out) {
        let _ = std::fs::rename(&old, out);
        let _ = std::fs::remove_dir_all(&staging);
        return Err(OccamError::Write {
            path: out.clone(),
            source,
        });
    }
    let _ = std::fs::remove_dir_all(&old);
    result
}

fn build<F>(options: &FolderOptions, steps: usize, run: F, staging: &Path) -> Result<Vec<String>>
where
    F: FnOnce(&StudyContext, &indicatif::ProgressBar) -> Result<Vec<Section>>,
{
    std::fs::create_dir_all(staging).map_err(|source| OccamError::Write {
        path: staging.to_path_buf(),
        source,
    })?;
    let context = StudyContext {
        staging: staging.to_path_buf(),
    };
    let bar = if options.progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = indicatif::ProgressBar::new(steps as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let sections = run(&context, &bar)?;
    bar.finish_and_clear();

    let mut markdown = format!("# {}\n\n", options.heading);
    let _ = writeln!(
        markdown,
        "Generated by `{}` (occam {}). Every number below is recomputed by that command; each table's own command is under it and in `manifest.json`. Tables are also in `tables/` as {}; figures are SVG in `figures/`.\n",
        options.command,
        env!("CARGO_PKG_VERSION"),
        format_list(&options.table_formats)
    );
    if let Some(intro) = &options.intro {
        let _ = writeln!(markdown, "{intro}\n");
    }
    for (i, section) in sections.iter().enumerate() {
        let _ = writeln!(
            markdown,
            "{}. [{}](#{})",
            i + 1,
            section.title,
            anchor(i + 1, &section.title)
        );
    }
    markdown.push('\n');
    let mut manifest_tables = Vec::new();
    let mut manifest_figures = Vec::new();
    let mut written = Vec::new();
    for (i, section) in sections.iter().enumerate() {
        let _ = writeln!(markdown, "## {}. {}\n", i + 1, section.title);
        render_section(
            section,
            staging,
            &mut markdown,
            &mut manifest_tables,
            &mut manifest_figures,
            &mut written,
            &options.table_formats,
        )?;
    }
    let _ = writeln!(markdown, "---\n\nConventions: `docs/math.md` in the occam repository. Continuous targets are coded at unit precision; code lengths are in bits.");
    write(&staging.join("report.md"), &markdown)?;
    let mut manifest = serde_json::Map::new();
    manifest.insert("schema".into(), json!(1));
    manifest.insert("occam_version".into(), json!(env!("CARGO_PKG_VERSION")));
    manifest.insert("command".into(), json!(options.typed_command));
    manifest.insert(
        "studies".into(),
        json!(sections.iter().map(|s| s.id.as_str()).collect::<Vec<_>>()),
    );
    for (key, value) in &options.manifest {
        manifest.insert(key.clone(), value.clone());
    }
    manifest.insert("tables".into(), json!(manifest_tables));
    manifest.insert("figures".into(), json!(manifest_figures));
    let manifest = serde_json::Value::Object(manifest);
    write(
        &staging.join("manifest.json"),
        &super::format::json_document(&manifest),
    )?;
    written.push("report.md".into());
    written.push("manifest.json".into());
    Ok(written)
}

/// "Markdown, LaTeX (booktabs), CSV and JSON" for the formats written.
fn format_list(formats: &[String]) -> String {
    let names: Vec<&str> = formats
        .iter()
        .map(|f| match f.as_str() {
            "md" => "Markdown",
            "tex" => "LaTeX (booktabs)",
            "csv" => "CSV",
            "json" => "JSON",
            other => other,
        })
        .collect();
    match names.as_slice() {
        [] => "nothing (inline only)".into(),
        [one] => (*one).into(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// GitHub's heading anchor for "N. Title".
fn anchor(number: usize, title: &str) -> String {
    let text = format!("{number}. {title}").to_lowercase();
    text.chars()
        .filter_map(|c| {
            if c.is_alphanumeric() {
                Some(c)
            } else if c == ' ' || c == '-' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

fn render_section(
    section: &Section,
    staging: &Path,
    markdown: &mut String,
    tables: &mut Vec<serde_json::Value>,
    figures: &mut Vec<serde_json::Value>,
    written: &mut Vec<String>,
    formats: &[String],
) -> Result<()> {
    for block in &section.blocks {
        match block {
            Block::Text(text) => {
                let _ = writeln!(markdown, "{text}\n");
            }
            Block::Table(table) => {
                let _ = writeln!(markdown, "**{}**\n", table.caption);
                markdown.push_str(&table.to_markdown());
                let links: String = ["csv", "tex", "json"]
                    .iter()
                    .filter(|ext| formats.iter().any(|f| f == *ext))
                    .map(|ext| format!(" · [{ext}](tables/{}.{ext})", table.name))
                    .collect();
                let regenerate = match table.regenerate_command("md") {
                    Some(command) => {
                        format!("Regenerate: `{command}` · numbers: `{}`", table.command)
                    }
                    None => format!("Regenerate: `{}`", table.command),
                };
                let _ = writeln!(markdown, "\n<sub>{regenerate}{links}</sub>\n");
                for ext in Table::FORMATS {
                    let Some(text) = table
                        .render(ext)
                        .filter(|_| formats.iter().any(|f| f == ext))
                    else {
                        continue;
                    };
                    let file = format!("tables/{}.{ext}", table.name);
                    write(&staging.join(&file), &text)?;
                    written.push(file);
                }
                let mut entry = json!({ "name": table.name, "section": section.id, "caption": table.caption, "command": table.command });
                if let Some(command) = &table.regenerate {
                    entry["regenerate"] = json!(command);
                }
                tables.push(entry);
            }
            Block::Figure {
                name,
                caption,
                figure,
            } => {
                let file = format!("figures/{name}.svg");
                write(&staging.join(&file), &figure.to_svg()?)?;
                let _ = writeln!(markdown, "![{caption}]({file})\n\n*{caption}*\n");
                figures.push(json!({ "name": name, "section": section.id, "caption": caption, "file": file }));
                written.push(file);
            }
        }
    }
    Ok(())
}
