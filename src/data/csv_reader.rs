//! A strict, fast CSV reader for numeric tables.
//!
//! Only the selected columns are parsed as numbers, so a text column that is excluded does no
//! harm. Every error names the line (1-based, the header is line 1) and the column.

use super::{ColumnSelection, Dataset};
use crate::error::{OccamError, Result};

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
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(csv_error(
            source_name,
            "the file is empty; expected a header row naming the columns, then one row per observation".into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(|e| csv_error(source_name, format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
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
