//! A strict, fast CSV reader for numeric tables.
//!
//! Only the selected columns are parsed as numbers, so a text column that is excluded does no
//! harm. Every error names the line (1-based, the header is line 1) and the column.

use super::{ColumnSelection, Dataset};
use crate::error::{OccamError, Result};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};

fn csv_error(source_name: &str, message: String) -> OccamError {
    OccamError::Csv {
        source_name: source_name.to_string(),
        message,
    }
}

/// Resolves `selection` against the header: the target's index and the features' indices.
fn select_columns(
    header: &[String],
    source_name: &str,
    selection: &ColumnSelection,
) -> Result<(usize, Vec<usize>)> {
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(csv_error(
                source_name,
                format!(
                    "line 1: column {} has an empty name; every column needs a header",
                    i + 1
                ),
            ));
        }
        if header[..i].contains(name) {
            return Err(csv_error(
                source_name,
                format!("line 1: column name '{name}' appears twice; rename one so that columns can be selected by name"),
            ));
        }
    }
    let available = || header.join(", ");
    let find = |flag: &str, name: &str| -> Result<usize> {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| OccamError::Column {
                flag: flag.to_string(),
                message: format!(
                    "no column '{name}' in {source_name} (columns: {})",
                    available()
                ),
            })
    };
    let target = match &selection.target {
        Some(name) => find("--target", name)?,
        None => header.len() - 1,
    };
    let check_unique = |flag: &str, names: &[String]| -> Result<()> {
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(OccamError::Column {
                    flag: flag.to_string(),
                    message: format!("column '{name}' is named twice"),
                });
            }
        }
        Ok(())
    };
    let features = match &selection.features {
        Some(names) => {
            if !selection.exclude.is_empty() {
                return Err(OccamError::Column {
                    flag: "--exclude".into(),
                    message: "give either --features or --exclude, not both".into(),
                });
            }
            check_unique("--features", names)?;
            let idx = names
                .iter()
                .map(|n| find("--features", n))
                .collect::<Result<Vec<_>>>()?;
            if idx.contains(&target) {
                return Err(OccamError::Column {
                    flag: "--features".into(),
                    message: format!(
                        "'{}' is the target; a column cannot be both",
                        header[target]
                    ),
                });
            }
            idx
        }
        None => {
            check_unique("--exclude", &selection.exclude)?;
            let excluded = selection
                .exclude
                .iter()
                .map(|n| find("--exclude", n))
                .collect::<Result<Vec<_>>>()?;
            (0..header.len())
                .filter(|i| *i != target && !excluded.contains(i))
                .collect()
        }
    };
    if features.is_empty() {
        return Err(OccamError::Column {
            flag: "--features".into(),
            message: format!(
                "no feature columns are left in {source_name} (columns: {}; target: '{}')",
                available(),
                header[target]
            ),
        });
    }
    Ok((target, features))
}

/// Parses one cell as a finite number, or says exactly why not.
fn parse_cell(field: &[u8], line: u64, column: &str, source_name: &str) -> Result<f64> {
    let Ok(text) = std::str::from_utf8(field).map(str::trim) else {
        return Err(csv_error(
            source_name,
            format!("line {line}, column '{column}': the cell is not valid UTF-8 text; save the file as UTF-8"),
        ));
    };
    if text.is_empty() {
        return Err(csv_error(
            source_name,
            format!("line {line}, column '{column}': empty cell (a missing value); occam neither drops nor imputes rows, so remove the row or fill the value"),
        ));
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(csv_error(
            source_name,
            format!("line {line}, column '{column}': '{text}' is not a finite number (NaN and infinities are not allowed); remove the row or fix the value"),
        )),
        Err(_) => Err(csv_error(
            source_name,
            format!("line {line}, column '{column}': cannot read '{}' as a number", String::from_utf8_lossy(field).trim()),
        )),
    }
}

/// Parses CSV bytes into a [`Dataset`]; see the module docs for the rules.
pub(super) fn parse_csv(
    bytes: &[u8],
    source_name: &str,
    selection: &ColumnSelection,
) -> Result<Dataset> {
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    parse_csv_with(
        bytes,
        source_name,
        selection,
        Some((threads, MIN_CHUNK_BYTES)),
    )
}

/// [`parse_csv`], trying the fast path first with `fast = Some((threads, min_chunk_bytes))`.
fn parse_csv_with(
    bytes: &[u8],
    source_name: &str,
    selection: &ColumnSelection,
    fast: Option<(usize, usize)>,
) -> Result<Dataset> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(csv_error(
            source_name,
            "the file is empty; expected a header row naming the columns, then one row per observation".into(),
        ));
    }
    if let Some((threads, min_chunk)) = fast {
        if let Some(data) = parse_fast(bytes, source_name, selection, threads, min_chunk) {
            return Ok(data);
        }
    }
    parse_with_csv_crate(bytes, source_name, selection)
}

/// The general path, for files with quotes and for every error: the csv crate's record reader.
fn parse_with_csv_crate(
    bytes: &[u8],
    source_name: &str,
    selection: &ColumnSelection,
) -> Result<Dataset> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(|e| csv_error(source_name, format!("cannot read the header row: {e}")))?
        .iter()
        .map(column_name)
        .collect();
    let (target, features) = select_columns(&header, source_name, selection)?;
    let k = features.len();
    let width = header.len();

    // Rough preallocation from the file size keeps the pushes below from reallocating often.
    let approx_rows = bytes.len() / (width * 4).max(1);
    let mut x = Vec::with_capacity(approx_rows.saturating_mul(k).min(1 << 28));
    let mut y = Vec::with_capacity(approx_rows.min(1 << 26));
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(source_name, format!("malformed CSV: {e}"))),
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record[0].iter().all(|b| b.is_ascii_whitespace()) {
            continue; // a blank line
        }
        if record.len() != width {
            return Err(csv_error(
                source_name,
                format!("line {line} has {} fields but the header has {width}; every row needs one value per column", record.len()),
            ));
        }
        for &j in &features {
            x.push(parse_cell(&record[j], line, &header[j], source_name)?);
        }
        y.push(parse_cell(
            &record[target],
            line,
            &header[target],
            source_name,
        )?);
    }
    if y.is_empty() {
        return Err(csv_error(
            source_name,
            "the file has a header row but no data rows".into(),
        ));
    }
    Ok(Dataset {
        source: source_name.to_string(),
        feature_names: features.iter().map(|&j| header[j].clone()).collect(),
        target_name: header[target].clone(),
        x,
        y,
    })
}

/// Marks a column that is neither a feature nor the target in the fast path's slot table.
const UNUSED: usize = usize::MAX;

/// Chunks smaller than this are not worth a thread of their own.
const MIN_CHUNK_BYTES: usize = 1 << 20;

/// The name of a header cell, exactly as both paths derive it.
fn column_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).trim().to_string()
}

/// The quote-free fast path: byte-level splitting, several threads, no error messages.
///
/// Without a `"` byte, the csv crate's default reader treats every `\r` and `\n` as a record
/// terminator and skips empty records, so a record is exactly a non-empty run of bytes between
/// terminators and a field is exactly a run between commas. This function returns the very
/// [`Dataset`] the csv-crate path would build, or `None` at the first sign of anything else —
/// a quote, a ragged or blank-but-not-empty oddity it does not handle, a cell that is not a
/// plain finite number, a selection error, no data rows — and the caller then re-reads the whole
/// file with the csv-crate path, which produces the error message (with its line numbers).
/// The result does not depend on `threads`: chunks are parsed separately and joined in order.
fn parse_fast(
    bytes: &[u8],
    source_name: &str,
    selection: &ColumnSelection,
    threads: usize,
    min_chunk: usize,
) -> Option<Dataset> {
    // The header is the first record: skip leading terminators as csv-core does.
    let start = bytes.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let rest = &bytes[start..];
    let end = memchr::memchr3(b'\r', b'\n', b'"', rest).unwrap_or(rest.len());
    if rest.get(end) == Some(&b'"') {
        return None;
    }
    let header: Vec<String> = rest[..end].split(|&b| b == b',').map(column_name).collect();
    let (target, features) = select_columns(&header, source_name, selection).ok()?;
    let k = features.len();
    // slots[j]: where column j's value goes in a row of k features then the target.
    let mut slots = vec![UNUSED; header.len()];
    for (i, &j) in features.iter().enumerate() {
        slots[j] = i;
    }
    slots[target] = k;

    let body = &rest[end..];
    let n_chunks = threads.min(body.len() / min_chunk.max(1)).max(1);
    let mut cuts = Vec::with_capacity(n_chunks + 1);
    cuts.push(0);
    for t in 1..n_chunks {
        let at = (body.len() / n_chunks * t).max(*cuts.last().unwrap_or(&0));
        let cut = memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |i| at + i + 1);
        cuts.push(cut);
    }
    cuts.push(body.len());
    let failed = AtomicBool::new(false);
    let parse = &|range: &[usize]| {
        let part = parse_chunk(&body[range[0]..range[1]], &slots, k, &failed);
        if part.is_none() {
            failed.store(true, Ordering::Relaxed);
        }
        part
    };
    let parts: Vec<Option<(Vec<f64>, Vec<f64>)>> = if n_chunks == 1 {
        vec![parse(&cuts)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = cuts
                .windows(2)
                .skip(1)
                .map(|range| s.spawn(move || parse(range)))
                .collect();
            let first = parse(&cuts[..2]);
            std::iter::once(first)
                .chain(handles.into_iter().map(|h| h.join().ok().flatten()))
                .collect()
        })
    };
    let mut parts = parts.into_iter().collect::<Option<Vec<_>>>()?.into_iter();
    let (mut x, mut y) = parts.next()?;
    let rest: Vec<_> = parts.collect();
    x.reserve(rest.iter().map(|p| p.0.len()).sum());
    y.reserve(rest.iter().map(|p| p.1.len()).sum());
    for (px, py) in rest {
        x.extend_from_slice(&px);
        y.extend_from_slice(&py);
    }
    if y.is_empty() {
        return None;
    }
    Some(Dataset {
        source: source_name.to_string(),
        feature_names: features.iter().map(|&j| header[j].clone()).collect(),
        target_name: header[target].clone(),
        x,
        y,
    })
}

/// Parses whole records of one chunk; `None` if any record is not a clean numeric row.
fn parse_chunk(
    chunk: &[u8],
    slots: &[usize],
    k: usize,
    failed: &AtomicBool,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let first_line = memchr::memchr(b'\n', chunk).unwrap_or(chunk.len()) + 1;
    let rows_guess = chunk.len() / first_line + 1;
    let mut x = Vec::with_capacity(rows_guess * k);
    let mut y = Vec::with_capacity(rows_guess);
    let mut row = vec![0.0; k + 1];
    let mut pos = 0;
    while pos < chunk.len() {
        let rest = &chunk[pos..];
        let end = memchr::memchr3(b'\n', b'\r', b'"', rest).unwrap_or(rest.len());
        if rest.get(end) == Some(&b'"') || failed.load(Ordering::Relaxed) {
            return None;
        }
        let line = &rest[..end];
        pos += end + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue; // an empty record, or one blank field: skipped by both paths
        }
        let mut fields = line.split(|&b| b == b',');
        for &slot in slots {
            let field = fields.next()?;
            if slot != UNUSED {
                row[slot] = parse_number(field)?;
            }
        }
        if fields.next().is_some() {
            return None;
        }
        x.extend_from_slice(&row[..k]);
        y.push(row[k]);
    }
    Some((x, y))
}

/// A cell's value if it is a finite number, which `parse_cell` would then accept with the same
/// value: a valid number has no whitespace at either end, so trimming ASCII here and Unicode
/// whitespace there leaves the same text.
#[inline]
fn parse_number(field: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(field.trim_ascii()).ok()?;
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, sel: &ColumnSelection) -> Result<Dataset> {
        parse_csv(text.as_bytes(), "t.csv", sel)
    }

    #[test]
    fn reads_selected_columns_in_order() {
        let sel = ColumnSelection {
            target: Some("y".into()),
            features: Some(vec!["b".into(), "a".into()]),
            exclude: vec![],
        };
        let d = parse("a,name,b,y\n1,foo,2,3\n4,bar,5,6\n", &sel).unwrap();
        assert_eq!(d.feature_names, vec!["b", "a"]);
        assert_eq!(d.x, vec![2.0, 1.0, 5.0, 4.0]);
        assert_eq!(d.y, vec![3.0, 6.0]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let sel = ColumnSelection::default();
        let msg = parse("a,b\n1,2\n3,x\n", &sel).unwrap_err().to_string();
        assert!(msg.contains("line 3, column 'b'"), "{msg}");
        let msg = parse("a,b\n1,2\nNaN,2\n", &sel).unwrap_err().to_string();
        assert!(
            msg.contains("line 3, column 'a'") && msg.contains("finite"),
            "{msg}"
        );
        let msg = parse("a,b\n1,2\n3\n", &sel).unwrap_err().to_string();
        assert!(msg.contains("line 3 has 1 fields"), "{msg}");
        let msg = parse("a,b\n", &sel).unwrap_err().to_string();
        assert!(msg.contains("no data rows"), "{msg}");
        let msg = parse("", &sel).unwrap_err().to_string();
        assert!(msg.contains("empty"), "{msg}");
        let msg = parse("a,a,b\n1,2,3\n", &sel).unwrap_err().to_string();
        assert!(msg.contains("appears twice"), "{msg}");
    }
}
