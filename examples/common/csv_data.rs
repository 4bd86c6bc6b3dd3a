//! Reading the examples' CSV files (a header, then rows of numbers with an integer label last)
//! with the `csv` crate. Errors name the file, the line and the field.

use std::path::{Path, PathBuf};

/// The path of a data file shipped in `examples/data/`.
pub fn data_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("data")
        .join(name)
}

/// Rows of `F` features and a class label below `classes`, from a CSV file whose header has
/// `F + 1` columns, the last named `label`.
pub fn load_labelled<const F: usize>(
    path: &Path,
    classes: usize,
) -> Result<(Vec<[f32; F]>, Vec<usize>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let headers = reader
        .headers()
        .map_err(|error| format!("{}: line 1: {error}", path.display()))?
        .clone();
    if headers.len() != F + 1 || headers.get(F) != Some("label") {
        return Err(format!(
            "{}: line 1: expected {} columns ending in `label`, found {} ({:?})",
            path.display(),
            F + 1,
            headers.len(),
            headers.iter().collect::<Vec<_>>()
        ));
    }
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = record.map_err(|error| format!("{}: {error}", path.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != F + 1 {
            return Err(format!(
                "{}: line {line}: expected {} fields, found {}",
                path.display(),
                F + 1,
                record.len()
            ));
        }
        let mut row = [0.0f32; F];
        for (column, value) in row.iter_mut().enumerate() {
            let field = &record[column];
            *value = field
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    format!(
                        "{}: line {line}, field {} (`{}`): `{field}` is not a finite number",
                        path.display(),
                        column + 1,
                        &headers[column]
                    )
                })?;
        }
        let field = &record[F];
        let label = field
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&l| l < classes)
            .ok_or_else(|| {
                format!(
                    "{}: line {line}, field {} (`label`): `{field}` is not a class 0..{}",
                    path.display(),
                    F + 1,
                    classes - 1
                )
            })?;
        features.push(row);
        labels.push(label);
    }
    Ok((features, labels))
}
