//! Content files (`content/`) are data reviewed like code: every problem found in one is
//! reported with the file, line, column and field, so that an editor can fix a whole review
//! round at once. The catalogue and the identity gateway's clients share these helpers.

use crate::{Lang, Text};
use serde::Deserialize;
use std::fmt;
use std::ops::Range;

/// One problem in one content file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: field `{}`: {}",
            self.file, self.line, self.column, self.field, self.message
        )
    }
}

/// Every problem found in the content, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ContentErrors(pub Vec<ContentError>);

impl fmt::Display for ContentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the content has {} problem(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

/// A content file: its name as shown in errors, and its text.
#[derive(Clone, Debug)]
pub struct ContentFile {
    pub name: String,
    pub text: String,
}

/// Reads a content file from disk; its name in errors is its path.
pub fn read_file(path: &std::path::Path) -> Result<ContentFile, ContentErrors> {
    let name = path.display().to_string();
    std::fs::read_to_string(path)
        .map(|text| ContentFile {
            name: name.clone(),
            text,
        })
        .map_err(|e| ContentErrors(vec![file_error(&name, format!("cannot read: {e}"))]))
}

/// The entries of a content folder, sorted by name (so errors come in a stable order).
pub fn list_dir(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, ContentErrors> {
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            ContentErrors(vec![file_error(
                &dir.display().to_string(),
                format!("cannot read the folder: {e}"),
            )])
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Records an error for each language in which `text` is empty.
pub fn check_text(
    file: &ContentFile,
    text: &Text,
    span: Range<usize>,
    field: &str,
    errors: &mut Vec<ContentError>,
) {
    for lang in Lang::ALL {
        if text.get(lang).trim().is_empty() {
            errors.push(error_at(
                file,
                span.clone(),
                format!("{field}.{lang}"),
                "is empty; every text needs Czech and English".into(),
            ));
        }
    }
}

/// Parses one TOML file, recording a located error when it does not match the schema.
pub fn parse<T: for<'de> Deserialize<'de>>(
    file: &ContentFile,
    errors: &mut Vec<ContentError>,
) -> Option<T> {
    match toml::from_str::<T>(&file.text) {
        Ok(v) => Some(v),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().to_owned();
            let field = field_at(&file.text, span.start, &message);
            errors.push(error_at(file, span, field, message));
            None
        }
    }
}

/// Names the field a serde error is about: the key in backticks in the message, prefixed by
/// the table the error points into (`name.en` for a missing `en` in `[name]`).
fn field_at(text: &str, offset: usize, message: &str) -> String {
    let key = message
        .split('`')
        .nth(1)
        .filter(|k| !k.contains(' '))
        .map(str::to_owned);
    let line_start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let table = line
        .strip_prefix('[')
        .and_then(|l| l.trim_start_matches('[').split(']').next())
        .map(str::trim)
        .map(str::to_owned);
    let assigned = line
        .split_once('=')
        .map(|(k, _)| k.trim().to_owned())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match (table, key, assigned) {
        (Some(t), Some(k), _) => format!("{t}.{k}"),
        (Some(t), None, _) => t,
        (None, Some(k), _) => k,
        (None, None, Some(a)) => a,
        (None, None, None) => "-".into(),
    }
}

/// An error at the position `span` points to (a byte range of the file's text).
pub fn error_at(
    file: &ContentFile,
    span: Range<usize>,
    field: String,
    message: String,
) -> ContentError {
    let offset = span.start.min(file.text.len());
    let before = &file.text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ContentError {
        file: file.name.clone(),
        line,
        column,
        field,
        message,
    }
}

/// An error about a whole file (reported at its first line).
pub fn file_error(file: &str, message: String) -> ContentError {
    file_error_field(file, "-", message)
}

/// An error about a whole file, naming a field.
pub fn file_error_field(file: &str, field: &str, message: String) -> ContentError {
    ContentError {
        file: file.to_owned(),
        line: 1,
        column: 1,
        field: field.to_owned(),
        message,
    }
}
