//! Writes a report folder: `report.md`, `figures/*.svg`, `tables/*.{md,tex,csv,json}`, `data/`
//! and `manifest.json` — byte-identical on rerun, and atomic: the folder is built beside the
//! target and put in its place in one step, so a failed or interrupted run leaves the old report
//! (or nothing). Only a folder occam made is ever replaced: the manifest lists every file written,
//! with its SHA-256 (the rules are in [`crate::files`]).
//!
//! [`write_report`] runs the built-in studies; [`write_sections`] is the same folder writer for
//! any producer of sections (`occam run` uses it for a spec's studies).

use super::command::Command;
use super::studies::{Block, Section, Study, StudyContext};
use super::table::Table;
use crate::error::{OccamError, Result, Setting, SettingNames};
use crate::files::{self, Staging};
use crate::message;
use crate::progress;
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What to run and where to write it.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The folder to write.
    pub out: PathBuf,
    /// Study ids to run (all when empty).
    pub only: Vec<String>,
    /// Show a progress bar on stderr (it stays silent when stderr is not a terminal).
    pub progress: bool,
    /// The command line that made the report as it was typed, for the manifest.
    pub command: String,
    /// Replace an occam report whose files were edited since occam wrote them.
    pub force: bool,
    /// How the front end spells settings, in the commands and notes the report prints.
    pub names: &'static dyn SettingNames,
}

/// The command that reproduces a built-in table's files from any folder: given the format as
/// well, it prints `tables/NAME.FORMAT` of a report byte for byte.
pub fn regenerate_command(table: &str, names: &'static dyn SettingNames) -> Command {
    Command::occam("report", names).with(Setting::Table, table)
}

/// Gives every table of a built-in study's section its [`regenerate_command`].
fn with_regenerate(mut section: Section, names: &'static dyn SettingNames) -> Section {
    for block in &mut section.blocks {
        if let Block::Table(table) = block {
            table.regenerate = Some(regenerate_command(&table.name, names));
        }
    }
    section
}

/// Runs the one built-in study that makes table `name` and renders the table as `format` (md,
/// tex, csv or json): what `occam report` prints for one table in one format, the same bytes as
/// `tables/NAME.FORMAT` in a report written anywhere. `names` spells the settings it mentions.
///
/// Every table's name starts with its study's id (`centres-diabetes` is made by `centres`), so
/// only that study runs, its data files staged in a temporary folder
/// ([`StudyContext::in_temporary_folder`]).
pub fn render_table(
    studies: &[Study],
    name: &str,
    format: &str,
    names: &'static dyn SettingNames,
) -> Result<String> {
    let ids: Vec<&str> = studies.iter().map(|s| s.id).collect();
    let study = studies
        .iter()
        .find(|s| name == s.id || name.starts_with(&format!("{}-", s.id)))
        .ok_or_else(|| {
            OccamError::invalid(
                Setting::Table,
                format!(
                    "no table '{name}': a table's name starts with its study's id ({}); a report lists its tables in report.md and manifest.json",
                    ids.join(", ")
                ),
            )
        })?;
    let section = with_regenerate(StudyContext::in_temporary_folder(names, study.run)?, names);
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
            Setting::Table,
            format!(
                "no table '{name}'; the study '{}' makes {}",
                study.id,
                names.join(", ")
            ),
        )
    })?;
    table.render(format).ok_or_else(|| {
        OccamError::invalid(
            Setting::Format,
            format!(
                "a table is written as {}, not '{format}'",
                Table::FORMATS.join(", ")
            ),
        )
    })
}

/// What a folder says about itself besides its sections: the heading of report.md, an optional
/// opening paragraph, extra manifest keys, and which table formats to write.
#[derive(Debug, Clone)]
pub struct FolderOptions {
    /// The folder to write.
    pub out: PathBuf,
    /// Show a progress bar on stderr (silent when stderr is not a terminal).
    pub progress: bool,
    /// The command that made the folder as report.md shows it: without the output folder or
    /// anything else of the machine it ran on, so report.md is the same bytes wherever written.
    pub command: Command,
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
    /// Replace an occam folder whose files were edited since occam wrote them (never one that
    /// holds files occam did not write).
    pub force: bool,
    /// Keep the sections of an existing report that `run` does not produce (a report of only
    /// some studies).
    pub merge: Option<Merge>,
    /// How the front end spells settings, for the studies' commands and notes.
    pub names: &'static dyn SettingNames,
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

/// Runs the chosen studies and writes the report folder. With only some studies chosen, an
/// existing occam report
/// at `out` keeps its other sections (their report.md text and files); see [`Merge`].
pub fn write_report(studies: &[Study], options: &ReportOptions) -> Result<Vec<String>> {
    let chosen: Vec<&Study> = if options.only.is_empty() {
        studies.iter().collect()
    } else {
        for id in &options.only {
            if !studies.iter().any(|s| s.id == id) {
                let ids: Vec<&str> = studies.iter().map(|s| s.id).collect();
                return Err(OccamError::invalid(
                    Setting::Only,
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
    let mut command = Command::occam("report", options.names);
    if !options.only.is_empty() {
        command = command.with(Setting::Only, options.only.join(","));
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
        force: options.force,
        merge: (!options.only.is_empty()).then(|| Merge {
            order: studies.iter().map(|s| s.id.to_string()).collect(),
            // Named without its output folder, like every command report.md shows.
            command: Command::occam("report", options.names),
        }),
        names: options.names,
    };
    write_sections(&folder, chosen.len(), |context, bar| {
        let mut sections = Vec::new();
        for study in &chosen {
            bar.set_message(study.title);
            let mut section = with_regenerate((study.run)(context)?, options.names);
            section.data_files = context.take_data_files();
            sections.push(section);
            bar.inc(1);
        }
        Ok(sections)
    })
}

/// Writes a report folder from the sections `run` produces, atomically: `run` stages any data
/// files through its [`StudyContext`] and advances the progress bar (`steps` long) as it goes.
///
/// The folder is built at `.NAME.occam-staging-PID` beside `out` and put in place in one step;
/// on any error or signal nothing is left behind and an existing folder is untouched. An
/// existing `out` must pass [`files::check_folder_out`] (an occam folder holding only occam's
/// files) before anything is computed.
pub fn write_sections<F>(options: &FolderOptions, steps: usize, run: F) -> Result<Vec<String>>
where
    F: FnOnce(&StudyContext, &progress::Bar) -> Result<Vec<Section>>,
{
    let out = files::resolve_out(&options.out)?;
    let previous = files::check_folder_out(&out, options.force)?;
    let kept = match (&options.merge, &previous) {
        (Some(merge), Some(manifest)) => kept_sections(&out, manifest, &merge.order)?,
        _ => Vec::new(),
    };
    let staging = Staging::beside(&out)?;
    let written = build(options, steps, run, staging.path(), &out, kept)?;
    // The whole folder is checked again just before it is replaced: a file a user put there
    // while the studies ran must survive too.
    files::check_folder_out(&out, options.force)?;
    staging.commit_folder(&out)?;
    Ok(written)
}

/// Keeping the other sections of an existing report when only some studies are rerun.
#[derive(Debug, Clone)]
pub struct Merge {
    /// Every section id, in report order: kept and rerun sections are listed in this order.
    pub order: Vec<String>,
    /// The command without the studies chosen; the folder's command adds the ids present when
    /// they are not all of `order`.
    pub command: Command,
}

/// A section as it stands in report.md: its text under the heading, the files it owns, and its
/// entries in the manifest's `tables` and `figures`.
struct RenderedSection {
    id: String,
    title: String,
    body: String,
    files: Vec<String>,
    tables: Vec<serde_json::Value>,
    figures: Vec<serde_json::Value>,
}

/// The sections of the occam report at `out` (whose manifest is `manifest`), read back from its
/// report.md: occam wrote it as `## N. TITLE` headings in the manifest's section order, ending
/// with the `---` conventions line, and [`files::check_folder_out`] has checked its bytes
/// against the manifest (unless `--force`, when an edit that breaks that shape is refused here).
fn kept_sections(
    out: &Path,
    manifest: &serde_json::Value,
    order: &[String],
) -> Result<Vec<RenderedSection>> {
    let report_path = out.join("report.md");
    let cannot = |why: &str| {
        OccamError::invalid(
            Setting::Only,
            message![
                format!(
                    "cannot keep the other sections of {}: {why}; rerun without ",
                    out.display()
                ),
                Setting::Only,
                " to rewrite the whole report, or choose another ",
                Setting::Out
            ],
        )
    };
    let Some(listed) = manifest.get("sections").and_then(|s| s.as_array()) else {
        return Err(cannot("its manifest.json does not list its sections"));
    };
    let markdown = std::fs::read_to_string(&report_path).map_err(|source| OccamError::Read {
        path: report_path.clone(),
        source,
    })?;
    let entries = |key: &str, id: &str| -> Vec<serde_json::Value> {
        manifest
            .get(key)
            .and_then(|v| v.as_array())
            .map(|list| {
                list.iter()
                    .filter(|e| e.get("section").and_then(|s| s.as_str()) == Some(id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut sections = Vec::new();
    for (i, entry) in listed.iter().enumerate() {
        let text = |key: &str| entry.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let (Some(id), Some(title)) = (text("id"), text("title")) else {
            return Err(cannot("a section in manifest.json has no id or title"));
        };
        if !order.contains(&id) {
            return Err(cannot(&format!(
                "its section '{id}' is not one of these studies ({}), so it is another kind of occam folder",
                order.join(", ")
            )));
        }
        let heading = format!("\n## {}. {title}\n\n", i + 1);
        let next = match listed.get(i + 1) {
            Some(n) => format!(
                "\n## {}. {}\n\n",
                i + 2,
                n.get("title").and_then(|t| t.as_str()).unwrap_or_default()
            ),
            None => format!("\n{CONVENTIONS_RULE}"),
        };
        let start = markdown
            .find(&heading)
            .ok_or_else(|| cannot(&format!("report.md has no heading '## {}. {title}'", i + 1)))?
            + heading.len();
        let end = markdown[start..]
            .find(&next)
            .ok_or_else(|| cannot("report.md does not have the shape occam wrote"))?
            + start
            + 1; // the blank line before the next heading belongs to this body
        let files = entry
            .get("files")
            .and_then(|f| f.as_array())
            .map(|f| {
                f.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        sections.push(RenderedSection {
            tables: entries("tables", &id),
            figures: entries("figures", &id),
            id,
            title,
            body: markdown[start..end].to_string(),
            files,
        });
    }
    Ok(sections)
}

/// The line that ends every report.md before the conventions note.
const CONVENTIONS_RULE: &str = "---\n\nConventions:";

fn build<F>(
    options: &FolderOptions,
    steps: usize,
    run: F,
    staging: &Path,
    out: &Path,
    kept: Vec<RenderedSection>,
) -> Result<Vec<String>>
where
    F: FnOnce(&StudyContext, &progress::Bar) -> Result<Vec<Section>>,
{
    std::fs::create_dir_all(staging).map_err(|source| OccamError::Write {
        path: staging.to_path_buf(),
        source,
    })?;
    let context = StudyContext {
        staging: staging.to_path_buf(),
        data_written: Default::default(),
        names: options.names,
    };
    let bar = progress::Bar::new(steps, options.progress);
    let sections = run(&context, &bar)?;
    bar.finish();

    let mut rendered = Vec::new();
    for section in &sections {
        rendered.push(render_section(section, staging, &options.table_formats)?);
    }
    // Sections not rerun keep their text and files, copied from the existing report.
    for old in kept {
        if rendered.iter().any(|r| r.id == old.id) {
            continue;
        }
        for file in &old.files {
            let (from, to) = (out.join(file), staging.join(file));
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|source| OccamError::Write {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::copy(&from, &to).map_err(|source| OccamError::Read { path: from, source })?;
        }
        rendered.push(old);
    }
    let mut command = options.command.clone();
    if let Some(merge) = &options.merge {
        rendered.sort_by_key(|r| merge.order.iter().position(|id| *id == r.id));
        command = merge.command.clone();
        if rendered.len() < merge.order.len() {
            let ids: Vec<&str> = rendered.iter().map(|r| r.id.as_str()).collect();
            command = command.with(Setting::Only, ids.join(","));
        }
    }

    let mut markdown = format!("# {}\n\n", options.heading);
    let _ = writeln!(
        markdown,
        "Generated by `{command}` (occam {}). Every number below is recomputed by that command; each table's own command is under it and in `manifest.json`. Tables are also in `tables/` as {}; figures are SVG in `figures/`.\n",
        env!("CARGO_PKG_VERSION"),
        format_list(&options.table_formats)
    );
    if let Some(intro) = &options.intro {
        let _ = writeln!(markdown, "{intro}\n");
    }
    for (i, section) in rendered.iter().enumerate() {
        let _ = writeln!(
            markdown,
            "{}. [{}](#{})",
            i + 1,
            section.title,
            anchor(i + 1, &section.title)
        );
    }
    markdown.push('\n');
    for (i, section) in rendered.iter().enumerate() {
        let _ = write!(
            markdown,
            "## {}. {}\n\n{}",
            i + 1,
            section.title,
            section.body
        );
    }
    let _ = writeln!(markdown, "{CONVENTIONS_RULE} `docs/math.md` in the occam repository. Continuous targets are coded at unit precision; code lengths are in bits.");
    write(&staging.join("report.md"), &markdown)?;

    let mut manifest = serde_json::Map::new();
    manifest.insert("schema".into(), json!(1));
    manifest.insert("occam_version".into(), json!(env!("CARGO_PKG_VERSION")));
    manifest.insert("command".into(), json!(options.typed_command));
    manifest.insert(
        "studies".into(),
        json!(rendered.iter().map(|s| s.id.as_str()).collect::<Vec<_>>()),
    );
    for (key, value) in &options.manifest {
        manifest.insert(key.clone(), value.clone());
    }
    let all = |list: fn(&RenderedSection) -> &Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        rendered
            .iter()
            .flat_map(|s| list(s).iter().cloned())
            .collect()
    };
    manifest.insert("tables".into(), json!(all(|s| &s.tables)));
    manifest.insert("figures".into(), json!(all(|s| &s.figures)));
    manifest.insert(
        "sections".into(),
        json!(rendered
            .iter()
            .map(|s| json!({ "id": s.id, "title": s.title, "files": s.files }))
            .collect::<Vec<_>>()),
    );
    // What occam wrote, so a later run replaces this folder only while it holds nothing else.
    let mut written = Vec::new();
    let mut listed = Vec::new();
    for file in files::list_tree(staging)? {
        let bytes = std::fs::read(staging.join(&file)).map_err(|source| OccamError::Read {
            path: staging.join(&file),
            source,
        })?;
        listed.push(json!({ "path": file, "sha256": files::sha256_hex(&bytes) }));
        written.push(file);
    }
    manifest.insert("files".into(), json!(listed));
    write(
        &staging.join(files::MANIFEST),
        &super::format::json_document(&serde_json::Value::Object(manifest)),
    )?;
    written.push(files::MANIFEST.into());
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

/// A section's text under its heading, written files, and manifest entries.
fn render_section(
    section: &Section,
    staging: &Path,
    formats: &[String],
) -> Result<RenderedSection> {
    let mut markdown = String::new();
    let mut tables = Vec::new();
    let mut figures = Vec::new();
    let mut written = section.data_files.clone();
    for block in &section.blocks {
        match block {
            Block::Text(text) => {
                let _ = writeln!(markdown, "{text}\n");
            }
            Block::Table(table) => {
                let _ = writeln!(markdown, "**{}**\n", table.caption);
                markdown.push_str(&table.to_markdown());
                if !table.notes.is_empty() {
                    markdown.push('\n');
                }
                for note in &table.notes {
                    let _ = writeln!(markdown, "- {note}");
                }
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
                    entry["regenerate"] = json!(command.to_string());
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
    Ok(RenderedSection {
        id: section.id.clone(),
        title: section.title.clone(),
        body: markdown,
        files: written,
        tables,
        figures,
    })
}
