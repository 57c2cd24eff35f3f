//! A strict, fast CSV reader for numeric tables.
//!
//! Only the selected columns are parsed as numbers, so a text column that is excluded does no
//! harm. Every error names the line (1-based, the header is line 1) and the column.
//!
//! Two paths read a file. The fast path (a file with no `"` byte) splits the bytes itself, on
//! several threads; it builds exactly the data set the general path would, and at the first sign
//! of anything else — a quote, a bad cell, a ragged row, a selection error — it gives up and the
//! general path, the csv crate's record reader, reads the whole file again and reports the error.
//! So errors, and their line numbers, always come from one place.

use super::{ColumnSelection, Dataset};
use crate::error::{Message, OccamError, Result, Setting};
use crate::linalg::{map_ordered, Par};
use crate::message;
use std::sync::atomic::{AtomicBool, Ordering};

fn csv_error(source_name: &str, message: impl Into<Message>) -> OccamError {
    OccamError::Csv {
        source_name: source_name.to_string(),
        message: message.into(),
    }
}

/// Resolves `selection` against the header: the target's index and the features' indices.
fn select_columns(
    header: &[String],
    source_name: &str,
    selection: &ColumnSelection,
) -> Result<(usize, Vec<usize>)> {
    // A set, not a scan of the names before each: a header of 200 000 columns is checked in
    // milliseconds rather than minutes.
    let mut seen = std::collections::HashSet::with_capacity(header.len());
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
        if !seen.insert(name.as_str()) {
            return Err(csv_error(
                source_name,
                format!("line 1: column name '{name}' appears twice; rename one so that columns can be selected by name"),
            ));
        }
    }
    let available = || header.join(", ");
    let find = |setting: Setting, name: &str| -> Result<usize> {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| OccamError::Column {
                setting,
                message: format!(
                    "no column '{name}' in {source_name} (columns: {})",
                    available()
                )
                .into(),
            })
    };
    let target = match &selection.target {
        Some(name) => find(Setting::Target, name)?,
        None => header.len() - 1,
    };
    let check_unique = |setting: Setting, names: &[String]| -> Result<()> {
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(OccamError::Column {
                    setting,
                    message: format!("column '{name}' is named twice").into(),
                });
            }
        }
        Ok(())
    };
    let features = match &selection.features {
        Some(names) => {
            if !selection.exclude.is_empty() {
                return Err(OccamError::Column {
                    setting: Setting::Exclude,
                    message: message![
                        "give either ",
                        Setting::Features,
                        " or ",
                        Setting::Exclude,
                        ", not both"
                    ],
                });
            }
            check_unique(Setting::Features, names)?;
            let idx = names
                .iter()
                .map(|n| find(Setting::Features, n))
                .collect::<Result<Vec<_>>>()?;
            if idx.contains(&target) {
                return Err(OccamError::Column {
                    setting: Setting::Features,
                    message: format!(
                        "'{}' is the target; a column cannot be both",
                        header[target]
                    )
                    .into(),
                });
            }
            idx
        }
        None => {
            check_unique(Setting::Exclude, &selection.exclude)?;
            let excluded = selection
                .exclude
                .iter()
                .map(|n| find(Setting::Exclude, n))
                .collect::<Result<Vec<_>>>()?;
            (0..header.len())
                .filter(|i| *i != target && !excluded.contains(i))
                .collect()
        }
    };
    if features.is_empty() {
        return Err(OccamError::Column {
            setting: Setting::Features,
            message: format!(
                "no feature columns are left in {source_name} (columns: {}; target: '{}')",
                available(),
                header[target]
            )
            .into(),
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
        Err(_) if looks_missing(text) => Err(csv_error(
            source_name,
            format!("line {line}, column '{column}': '{text}' marks a missing value; occam neither drops nor imputes rows, so drop the rows with missing values or impute them (e.g. with the column's mean) before fitting"),
        )),
        Err(_) => Err(csv_error(
            source_name,
            message![
                format!("line {line}, column '{column}': cannot read '{text}' as a number; fix the cell, or leave a text column out with "),
                (Setting::Exclude, format!("'{column}'"))
            ],
        )),
    }
}

/// Whether a cell is one of the usual spellings of a missing value (R's NA, pandas' N/A, SQL's
/// NULL, …), which is never a class label nor a number.
fn looks_missing(text: &str) -> bool {
    ["na", "n/a", "nan", "null", "none", "missing", "?", "-", "."]
        .iter()
        .any(|m| text.eq_ignore_ascii_case(m))
}

/// Whether a target cell is a text class label: non-empty UTF-8 that is neither a number nor a
/// missing value.
fn is_text_label(field: &[u8]) -> bool {
    std::str::from_utf8(field)
        .map(str::trim)
        .is_ok_and(|t| !t.is_empty() && t.parse::<f64>().is_err() && !looks_missing(t))
}

/// Reads a target cell of a column of text labels, or says why it is not one.
fn parse_label(
    field: &[u8],
    line: u64,
    column: &str,
    first_line: u64,
    source_name: &str,
) -> Result<String> {
    if is_text_label(field) {
        return Ok(String::from_utf8_lossy(field).trim().to_string());
    }
    // Not a label: a number or a missing value, which parse_cell explains (with the fix) …
    parse_cell(field, line, column, source_name)?;
    // … or a number among labels.
    Err(csv_error(
        source_name,
        format!(
            "line {line}, column '{column}': the target holds text labels (from line {first_line}) but this cell is the number '{}'; make the column all labels or all numbers",
            String::from_utf8_lossy(field).trim()
        ),
    ))
}

/// Maps text labels to 0…K−1 in sorted (lexicographic) order: the codes and the sorted labels.
fn encode_labels(texts: &[String]) -> (Vec<f64>, Vec<String>) {
    let mut classes: Vec<String> = texts.to_vec();
    classes.sort();
    classes.dedup();
    let codes = texts
        .iter()
        .map(|t| classes.binary_search(t).unwrap_or(0) as f64)
        .collect();
    (codes, classes)
}

/// Parses CSV bytes into a [`Dataset`]; see the module docs for the rules.
pub(super) fn parse_csv(
    bytes: &[u8],
    source_name: &str,
    selection: &ColumnSelection,
) -> Result<Dataset> {
    let threads = crate::linalg::threads();
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
            "the file is empty; expected a header row naming the columns, then one row per observation",
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
    let mut rows = 0usize;
    let mut label_texts: Option<(u64, Vec<String>)> = None;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(source_name, format!("malformed CSV: {e}"))),
        }
        // The reader's position is taken before it skips blank lines; step over them so that the
        // line named in a message is the record's own.
        let line = record.position().map_or(0, |p| {
            let (mut line, mut i) = (p.line(), p.byte() as usize);
            while let Some(&b) = bytes.get(i).filter(|b| **b == b'\n' || **b == b'\r') {
                if b == b'\n' || bytes.get(i + 1) != Some(&b'\n') {
                    line += 1;
                }
                i += 1;
            }
            line
        });
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
        // A target whose first cell is a text label is a column of labels (math.md §7), mapped
        // to 0…K−1 in sorted order below; any other target is numeric.
        if rows == 0 && is_text_label(&record[target]) {
            label_texts = Some((line, Vec::new()));
        }
        match &mut label_texts {
            Some((first_line, texts)) => texts.push(parse_label(
                &record[target],
                line,
                &header[target],
                *first_line,
                source_name,
            )?),
            None => y.push(parse_cell(
                &record[target],
                line,
                &header[target],
                source_name,
            )?),
        }
        rows += 1;
    }
    let target_labels = match label_texts {
        Some((_, texts)) => {
            let (codes, classes) = encode_labels(&texts);
            y = codes;
            classes
        }
        None => Vec::new(),
    };
    if y.is_empty() {
        return Err(csv_error(
            source_name,
            "the file has a header row but no data rows",
        ));
    }
    Ok(Dataset {
        source: source_name.to_string(),
        feature_names: features.iter().map(|&j| header[j].clone()).collect(),
        target_name: header[target].clone(),
        x,
        y,
        target_labels,
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

/// The fast path: byte-level splitting on up to `threads` threads, and no error messages.
///
/// Without a `"` byte, the csv crate's reader (as configured in [`parse_with_csv_crate`]) ends a
/// record at every `\r` and `\n` and skips empty records, so a record is exactly a non-empty run
/// of bytes between terminators and a field exactly a run between commas. This returns the very
/// [`Dataset`] that path would build from `bytes` (already without the first BOM and known not to
/// be blank), or `None` if it meets a quote, a record that is neither blank nor as many fields as
/// the header, a selected cell that is not a finite number, a selection error or no data rows;
/// the caller then runs that path, which reports the error. The data are cut into chunks of whole
/// records (at least `min_chunk` bytes each, at most `threads` of them), each parsed into its own
/// stretch of the output, so the result is the same for every `threads`.
fn parse_fast(
    bytes: &[u8],
    source_name: &str,
    selection: &ColumnSelection,
    threads: usize,
    min_chunk: usize,
) -> Option<Dataset> {
    // csv-core drops one more UTF-8 BOM at the very start, then reads the header as the first
    // record, skipping terminators before it.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
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

    let body = rest.get(end + 1..).unwrap_or_default();
    let n_chunks = threads.min(body.len() / min_chunk.max(1)).max(1);
    let mut cuts = vec![0];
    for t in 1..n_chunks {
        let at = (body.len() / n_chunks * t).max(cuts[t - 1]);
        cuts.push(memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |i| at + i + 1));
    }
    cuts.push(body.len());
    let chunks: Vec<&[u8]> = cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect();

    // Pass 1: a bound on each chunk's rows, so that pass 2 can parse every chunk straight into
    // its own stretch of x and y (no copying the parts together afterwards).
    let par = Par::threads(n_chunks);
    let bounds = map_ordered(par, chunks.iter().copied(), max_records);
    let total: usize = bounds.iter().sum();
    let mut x = vec![0.0; total.checked_mul(k)?];
    let mut y = vec![0.0; total];
    let mut parts = Vec::with_capacity(n_chunks);
    let (mut x_rest, mut y_rest) = (x.as_mut_slice(), y.as_mut_slice());
    for (&chunk, &bound) in chunks.iter().zip(&bounds) {
        let (x_part, x_tail) = x_rest.split_at_mut(bound * k);
        let (y_part, y_tail) = y_rest.split_at_mut(bound);
        parts.push((chunk, x_part, y_part));
        (x_rest, y_rest) = (x_tail, y_tail);
    }
    // Pass 2: parse; one failing chunk stops the others early.
    let failed = AtomicBool::new(false);
    let rows = map_ordered(par, parts, |(chunk, x_part, y_part)| {
        let rows = parse_chunk(chunk, &slots, k, x_part, y_part, &failed);
        if rows.is_none() {
            failed.store(true, Ordering::Relaxed);
        }
        rows
    });
    let rows = rows.into_iter().collect::<Option<Vec<usize>>>()?;
    if rows != bounds {
        // Blank lines left gaps at the ends of some stretches: close them, in order.
        let (mut from, mut to) = (0, 0);
        for (&r, &bound) in rows.iter().zip(&bounds) {
            x.copy_within(from * k..(from + r) * k, to * k);
            y.copy_within(from..from + r, to);
            from += bound;
            to += r;
        }
        x.truncate(to * k);
        y.truncate(to);
        x.shrink_to_fit();
        y.shrink_to_fit();
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
        target_labels: Vec::new(),
    })
}

/// An upper bound on the records in `chunk`: one for each `\n`, each `\r` not followed by `\n`,
/// and the unterminated end, if any.
fn max_records(chunk: &[u8]) -> usize {
    let terminators = memchr::memchr2_iter(b'\n', b'\r', chunk)
        .filter(|&i| chunk[i] == b'\n' || chunk.get(i + 1) != Some(&b'\n'))
        .count();
    let open_end = !matches!(chunk.last(), None | Some(b'\n' | b'\r'));
    terminators + usize::from(open_end)
}

/// Parses the records of one chunk into `x` and `y` (room for at least as many rows as it has
/// records) and returns the number of rows; `None` if any record is not a clean numeric row.
fn parse_chunk(
    chunk: &[u8],
    slots: &[usize],
    k: usize,
    x: &mut [f64],
    y: &mut [f64],
    failed: &AtomicBool,
) -> Option<usize> {
    let mut row = vec![0.0; k + 1];
    let mut rows = 0;
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
        let ascii = line.is_ascii();
        let mut start = 0;
        for &slot in slots {
            if start > line.len() {
                return None; // fewer fields than the header
            }
            let end = find_comma(line, start);
            if slot != UNUSED {
                row[slot] = parse_number(&line[start..end], ascii)?;
            }
            start = end + 1;
        }
        if start != line.len() + 1 {
            return None; // more fields than the header
        }
        x.get_mut(rows * k..(rows + 1) * k)?
            .copy_from_slice(&row[..k]);
        *y.get_mut(rows)? = row[k];
        rows += 1;
    }
    Some(rows)
}

/// The index of the first `,` in `line` at or after `from`, or `line.len()`: eight bytes at a
/// time, as cells are short and a call to `memchr` costs more than it saves.
#[inline]
fn find_comma(line: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(word) = line.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default()) ^ (ONES * u64::from(b','));
        // The lowest high bit set marks the first zero byte of `w`, the first comma.
        let zero = w.wrapping_sub(ONES) & !w & HIGHS;
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < line.len() && line[i] != b',' {
        i += 1;
    }
    i
}

/// A cell's value if it is a finite number, which `parse_cell` then reads the same: the same
/// `str::parse`, and as a number has no whitespace at either end, trimming ASCII whitespace here
/// and Unicode whitespace there leaves the same text. `ascii`: the whole line is ASCII.
#[inline]
fn parse_number(field: &[u8], ascii: bool) -> Option<f64> {
    let field = field.trim_ascii();
    let text = if ascii {
        // SAFETY: the caller checked that every byte of the line, so of this field, is ASCII.
        unsafe { std::str::from_utf8_unchecked(field) }
    } else {
        std::str::from_utf8(field).ok()?
    };
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
        let msg = parse("a,b\n1,2\n\n\n3,x\n", &sel).unwrap_err().to_string();
        assert!(
            msg.contains("line 5, column 'b'"),
            "blank lines are counted: {msg}"
        );
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

    // ---- The fast path against the csv-crate path ----

    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Both paths' results are the same: equal data sets, bit for bit, or equal messages.
    fn assert_same(fast: &Result<Dataset>, slow: &Result<Dataset>, context: &dyn Fn() -> String) {
        match (fast, slow) {
            (Ok(a), Ok(b)) => {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert!(
                    a == b && bits(&a.x) == bits(&b.x) && bits(&a.y) == bits(&b.y),
                    "{}\nfast: {a:?}\nslow: {b:?}",
                    context()
                );
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", context()),
            _ => panic!("{}\nfast: {fast:?}\nslow: {slow:?}", context()),
        }
    }

    /// Parses `bytes` with the csv-crate path alone and with the fast path first under several
    /// thread counts (chunks as small as one record), asserts that all agree, and says whether
    /// the fast path itself produced the result.
    fn check_both_paths(bytes: &[u8], sel: &ColumnSelection) -> bool {
        let slow = parse_csv_with(bytes, "t.csv", sel, None);
        let context = || {
            format!(
                "input {:?}\nselection {sel:?}",
                String::from_utf8_lossy(bytes)
            )
        };
        for threads in [1, 2, 3, 8] {
            let fast = parse_csv_with(bytes, "t.csv", sel, Some((threads, 1)));
            assert_same(&fast, &slow, &context);
        }
        let stripped = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        !stripped.iter().all(u8::is_ascii_whitespace)
            && parse_fast(stripped, "t.csv", sel, 2, 1).is_some()
    }

    /// A number as someone might write it, sometimes padded with spaces or tabs.
    fn random_number(rng: &mut ChaCha8Rng) -> String {
        let scale = 10f64.powi(rng.random_range(-5..6));
        let normal = (rng.random::<f64>() - 0.5) * scale;
        let text = match rng.random_range(0..12) {
            0 => rng.random_range(-1000i64..1000).to_string(),
            1 => loop {
                let v = f64::from_bits(rng.random::<u64>());
                if v.is_finite() {
                    break format!("{v:?}");
                }
            },
            2 => format!("{normal:e}"),
            3 => format!("{normal:E}"),
            4 => format!("{normal:.3}"),
            5 => [
                "+1.5", ".5", "-.25", "5.", "1E+05", "1e-05", "00012", "-0", "0.0", "+0", "1e0",
            ][rng.random_range(0..11)]
            .to_string(),
            6 => {
                let digits: String = (0..rng.random_range(18..40))
                    .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                    .collect();
                let dot = rng.random_range(0..digits.len());
                format!("{}.{}", &digits[..dot], &digits[dot..])
            }
            7 => [
                "4.9e-324",
                "2.2250738585072014e-308",
                "1.7976931348623157e308",
                "9007199254740993",
                "0.1e-400",
            ][rng.random_range(0..5)]
            .to_string(),
            _ => format!("{normal}"), // shortest round trip, as pandas writes
        };
        match rng.random_range(0..10) {
            0 => format!(" {text}"),
            1 => format!("{text}\t "),
            _ => text,
        }
    }

    /// Something that is not a clean number, or that only the csv-crate path reads.
    fn random_defect(rng: &mut ChaCha8Rng) -> Vec<u8> {
        let cases: [&[u8]; 19] = [
            b"",
            b"  ",
            b"abc",
            b"NaN",
            b"-inf",
            b"infinity",
            b"1e400",
            b"1.2.3",
            b"1e",
            b"--1",
            b"1,5",
            b"\xff",
            b"\"2.5\"",
            b"\"1,5\"",
            b"\"a\nb\"",
            "\u{a0}7".as_bytes(),
            b"\x0b8",
            b"\x0c9",
            b"4\r5",
        ];
        cases[rng.random_range(0..cases.len())].to_vec()
    }

    /// A random CSV file and column selection: mostly clean, sometimes with one defect.
    fn random_case(rng: &mut ChaCha8Rng) -> (Vec<u8>, ColumnSelection) {
        let width = rng.random_range(2..8);
        let text_column = rng.random_bool(0.3).then(|| rng.random_range(0..width));
        let mut names: Vec<String> = (0..width).map(|j| format!("c{j}")).collect();
        if rng.random_bool(0.1) {
            names[0] = " c0 ".into();
        }
        if rng.random_bool(0.05) {
            let j = rng.random_range(0..width);
            names[j] = if rng.random_bool(0.5) {
                String::new()
            } else {
                "c0".into()
            };
        }
        let trimmed: Vec<String> = names.iter().map(|n| n.trim().to_string()).collect();

        // The selection: by default the last column is the target.
        let mut sel = ColumnSelection::default();
        if rng.random_bool(0.5) {
            sel.target = Some(trimmed[rng.random_range(0..width)].clone());
        }
        match rng.random_range(0..3) {
            0 => {
                let mut pick: Vec<String> = trimmed
                    .iter()
                    .filter(|n| Some(*n) != sel.target.as_ref())
                    .filter(|_| rng.random_bool(0.7))
                    .cloned()
                    .collect();
                pick.shuffle(rng);
                sel.features = Some(pick);
            }
            1 => {
                sel.exclude = trimmed
                    .iter()
                    .filter(|_| rng.random_bool(0.2))
                    .cloned()
                    .collect();
            }
            _ => {}
        }
        if let Some(j) = text_column {
            if rng.random_bool(0.8) {
                // Usually leave the text column out; else reading it is an error.
                let name = &trimmed[j];
                if sel.target.as_ref() == Some(name) || (sel.target.is_none() && j == width - 1) {
                    sel.target = Some(trimmed[(j + 1) % width].clone());
                }
                match &mut sel.features {
                    Some(features) => features.retain(|n| n != name),
                    None if !sel.exclude.contains(name) => sel.exclude.push(name.clone()),
                    None => {}
                }
            }
        }

        let terminators: [&[u8]; 3] = [b"\n", b"\r\n", b"\r"];
        let style = rng.random_range(0..4); // LF, CRLF, lone CR, or a mix
        let newline = |rng: &mut ChaCha8Rng| -> &[u8] {
            terminators[if style == 3 {
                rng.random_range(0..3)
            } else {
                style
            }]
        };
        let mut out = Vec::new();
        match rng.random_range(0..20) {
            0 => out.extend_from_slice(b"\xEF\xBB\xBF"),
            1 => out.extend_from_slice(b"\xEF\xBB\xBF\xEF\xBB\xBF"),
            2 => out.extend_from_slice(b"\n\r\n"),
            3 => out.extend_from_slice(b"  \n"),
            _ => {}
        }
        out.extend_from_slice(names.join(",").as_bytes());
        let rows = rng.random_range(0..30);
        let defect = rng
            .random_bool(0.3)
            .then(|| (rng.random_range(0..rows.max(1)), rng.random_range(0..width)));
        let texts: [&[u8]; 4] = [b"x", "café".as_bytes(), b"a b", b"\xff\xfe"];
        for i in 0..rows {
            out.extend_from_slice(newline(rng));
            if rng.random_bool(0.1) {
                out.extend_from_slice([&b""[..], b" ", b"\t ", b"\x0c"][rng.random_range(0..4)]);
                out.extend_from_slice(newline(rng));
            }
            let mut fields: Vec<Vec<u8>> = (0..width)
                .map(|j| {
                    if Some(j) == text_column {
                        texts[rng.random_range(0..texts.len())].to_vec()
                    } else {
                        random_number(rng).into_bytes()
                    }
                })
                .collect();
            if let Some((row, col)) = defect {
                if row == i {
                    match rng.random_range(0..6) {
                        0 => {
                            fields.pop();
                        }
                        1 => fields.push(b"1".to_vec()),
                        _ => fields[col] = random_defect(rng),
                    }
                }
            }
            out.extend_from_slice(&fields.join(&b","[..]));
        }
        if rng.random_bool(0.7) {
            out.extend_from_slice(newline(rng));
        }
        if rng.random_bool(0.1) {
            out.extend_from_slice(b"\n \n\n");
        }
        (out, sel)
    }

    #[test]
    fn fast_path_matches_csv_crate_path_on_random_files() {
        let mut fast_hits = 0;
        let cases = 3000;
        for seed in 0..cases {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (bytes, sel) = random_case(&mut rng);
            fast_hits += usize::from(check_both_paths(&bytes, &sel));
        }
        // Most generated files are clean, so the fast path must have read most of them itself.
        assert!(
            fast_hits > cases as usize / 3,
            "fast path used {fast_hits} times"
        );
    }

    #[test]
    fn fast_path_matches_on_hand_written_edge_cases() {
        let default = ColumnSelection::default();
        let cases: &[&[u8]] = &[
            b"",
            b" \n\r\n\t",
            b"a,b",
            b"a,b\n",
            b"a,b\n\n \n",
            b"a,b\r\n1,2\r\n3,4\r\n",
            b"a,b\r1,2\r3,4",
            b"a,b\n1,2\r\n\r\n\n3,4",
            b"\n\na,b\n1,2\n",
            b"\xEF\xBB\xBFa,b\n1,2\n",
            b"\xEF\xBB\xBF\xEF\xBB\xBFa,b\n1,2\n",
            b" a , b \n 1 ,\t2\t\n",
            b"a,b\n1,2,\n",
            b"a,b\n1\n",
            b"a,b\n 1 \n",
            b"a,b\n,2\n",
            b"a,b\n1, \n",
            b"a,b\nNaN,2\n",
            b"a,b\n1,inf\n",
            b"a,b\n1,\xff\n",
            b"a,b\n\"1\",2\n",
            b"\"a\",b\n1,2\n",
            b"a,b\n\xc2\xa01,2\n",
            b"a,b\n\x0b1,2\n",
            b"a,b\n\x0c1,2\x0c\n",
            b"a,,b\n1,2,3\n",
            b"a,a\n1,2\n",
            b"a\n1\n",
            b"a,b\n1,2\n3,4\n5,6,7\n",
            b"a,b\n1e308,1e-308\n1e309,0\n",
        ];
        for bytes in cases {
            check_both_paths(bytes, &default);
        }
        // The fast path does read the plain cases itself.
        for bytes in [
            &b"a,b\r\n1,2\r\n3,4\r\n"[..],
            b"a,b\r1,2\r3,4",
            b" a , b \n 1 ,\t2\t\n",
        ] {
            assert!(check_both_paths(bytes, &default), "{bytes:?}");
        }
    }

    #[test]
    fn fast_path_result_does_not_depend_on_the_number_of_threads() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut text = String::from("p,q,name,r,y\n");
        for i in 0..3000 {
            let line = format!(
                "{},{},n{i},{},{}\n",
                random_number(&mut rng),
                random_number(&mut rng),
                random_number(&mut rng),
                random_number(&mut rng)
            );
            text.push_str(&line);
            if i % 97 == 0 {
                text.push_str("\r\n  \n");
            }
        }
        let sel = ColumnSelection {
            target: Some("q".into()),
            features: None,
            exclude: vec!["name".into()],
        };
        let slow = parse_csv_with(text.as_bytes(), "t.csv", &sel, None);
        let d = slow.as_ref().unwrap();
        assert_eq!((d.n(), d.k()), (3000, 3));
        for threads in 1..=9 {
            for min_chunk in [1, 100, 10_000] {
                let fast = parse_fast(text.as_bytes(), "t.csv", &sel, threads, min_chunk);
                assert!(fast.is_some(), "{threads} threads");
                assert_same(
                    &fast.ok_or(OccamError::Csv {
                        source_name: String::new(),
                        message: Message::default(),
                    }),
                    &slow,
                    &|| format!("{threads} threads, chunks of {min_chunk}"),
                );
            }
        }
    }
}
