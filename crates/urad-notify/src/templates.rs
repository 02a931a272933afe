//! Notification templates as data: `content/notifications/<kind>.toml`, one per kind, each
//! with a subject and a body in Czech and English and `{placeholders}` filled from values
//! the caller gives. Every file is checked at load, and every problem is reported with its
//! file, line, column and field:
//!
//! - the file's name is the kind (`a-z`, digits, `_`); the fields are `placeholders`,
//!   `subject.cs`, `subject.en`, `body.cs`, `body.en` and no others; no text is empty; a
//!   subject is one line;
//! - `{name}` must name a declared placeholder; `{{` and `}}` stand for braces; a lone brace
//!   is an error;
//! - a placeholder used in one language of a field must be used in the other too (the two
//!   translations carry the same facts), and each declared placeholder must be used.
//!
//! Values are plain text: the e-mail is text/plain and the portal escapes what it shows.
//! Line breaks and other control characters in a value are replaced by spaces in a subject
//! (one line) and dropped, but for line breaks and tabs, in a body.

use crate::NotifyError;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml::Spanned;
use urad_core::content::{
    error_at, file_error, file_error_field, list_dir, parse, read_file, ContentError,
    ContentErrors, ContentFile,
};
use urad_core::{Lang, Text};

/// The kinds of notification the office sends; [`Templates::load_dir`] requires a template
/// for each.
pub const KINDS: &[&str] = &[
    "completion_requested",
    "deadline_reminder",
    "decision_issued",
    "submission_received",
];

/// A piece of a parsed template text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Placeholder(String),
}

/// A text of one language, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parsed(Vec<Piece>);

impl Parsed {
    fn placeholders(&self) -> BTreeSet<&str> {
        self.0
            .iter()
            .filter_map(|p| match p {
                Piece::Placeholder(name) => Some(name.as_str()),
                Piece::Literal(_) => None,
            })
            .collect()
    }

    fn render(&self, values: &BTreeMap<String, Text>, lang: Lang, one_line: bool) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Placeholder(name) => {
                    let value = values.get(name).map_or("", |v| v.get(lang));
                    push_plain(&mut out, value, one_line);
                }
            }
        }
        out
    }
}

/// Appends a value as plain text: no control characters but line breaks and tabs in a body,
/// none at all in a subject (they become spaces).
fn push_plain(out: &mut String, value: &str, one_line: bool) {
    let value = value.replace("\r\n", "\n");
    for c in value.chars() {
        if one_line && c.is_control() {
            out.push(' ');
        } else if !one_line && c.is_control() && c != '\n' && c != '\t' {
            // dropped
        } else {
            out.push(c);
        }
    }
}

/// Parses `{name}`, `{{`, `}}` and literal text.
fn parse_text(text: &str) -> Result<Parsed, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                chars.next();
                literal.push('}');
            }
            '}' => {
                return Err(format!(
                    "a lone `}}` at character {}; write `}}}}` for a brace",
                    char_number(text, at)
                ))
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for (_, n) in chars.by_ref() {
                    if n == '}' {
                        closed = true;
                        break;
                    }
                    name.push(n);
                }
                if !closed {
                    return Err(format!(
                        "the `{{` at character {} is not closed; write `{{{{` for a brace",
                        char_number(text, at)
                    ));
                }
                if !is_name(&name) {
                    return Err(format!(
                        "`{{{name}}}` is not a placeholder: names are a-z, digits and `_`, \
                         starting with a letter; write `{{{{` for a brace"
                    ));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Placeholder(name));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(Parsed(pieces))
}

fn char_number(text: &str, byte: usize) -> usize {
    text[..byte].chars().count() + 1
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// One template: a kind's subject and body in both languages.
#[derive(Clone, Debug)]
pub struct Template {
    pub kind: String,
    /// The placeholders its texts may use; a notification gives a value for each.
    pub placeholders: BTreeSet<String>,
    subject: [Parsed; 2],
    body: [Parsed; 2],
}

/// A template filled in, in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: Text,
    pub body: Text,
}

/// The values of a notification's placeholders; the same in both languages unless given
/// per language ([`Values::text`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values(BTreeMap<String, Text>);

impl Values {
    pub fn new() -> Values {
        Values::default()
    }

    /// `{name}` is `value` in both languages.
    pub fn set(mut self, name: &str, value: impl Into<String>) -> Values {
        let value = value.into();
        self.0
            .insert(name.to_owned(), Text::new(value.clone(), value));
        self
    }

    /// `{name}` differs by language (an agenda's name, a date written out).
    pub fn text(mut self, name: &str, value: Text) -> Values {
        self.0.insert(name.to_owned(), value);
        self
    }
}

impl Template {
    /// Fills the template. Every declared placeholder needs a value, and no other value may
    /// be given (a caller that names one the template lacks has a bug).
    pub fn render(&self, values: &Values) -> Result<Rendered, NotifyError> {
        if let Some(missing) = self
            .placeholders
            .iter()
            .find(|p| !values.0.contains_key(*p))
        {
            return Err(NotifyError::MissingValue {
                kind: self.kind.clone(),
                placeholder: missing.clone(),
            });
        }
        if let Some(extra) = values.0.keys().find(|k| !self.placeholders.contains(*k)) {
            return Err(NotifyError::UnknownValue {
                kind: self.kind.clone(),
                placeholder: extra.clone(),
            });
        }
        let fill = |parsed: &[Parsed; 2], one_line: bool| {
            Text::new(
                parsed[0].render(&values.0, Lang::Cs, one_line),
                parsed[1].render(&values.0, Lang::En, one_line),
            )
        };
        Ok(Rendered {
            subject: fill(&self.subject, true),
            body: fill(&self.body, false),
        })
    }
}

/// Every template, by kind.
#[derive(Clone, Debug, Default)]
pub struct Templates {
    by_kind: BTreeMap<String, Template>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    placeholders: Spanned<Vec<Spanned<String>>>,
    subject: RawText,
    body: RawText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawText {
    cs: Spanned<String>,
    en: Spanned<String>,
}

impl Templates {
    /// Reads and checks every `*.toml` in `dir` (`content/notifications`), and requires a
    /// template for each of [`KINDS`].
    pub fn load_dir(dir: &Path) -> Result<Templates, ContentErrors> {
        let files = list_dir(dir)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| read_file(&p))
            .collect::<Result<Vec<_>, _>>()?;
        let templates = Templates::from_files(&files);
        let mut errors = match &templates {
            Ok(_) => Vec::new(),
            Err(e) => e.0.clone(),
        };
        for kind in KINDS {
            if !files.iter().any(|f| kind_of(&f.name) == *kind) {
                errors.push(file_error(
                    &dir.join(format!("{kind}.toml")).display().to_string(),
                    format!("missing: the office sends notifications of the kind `{kind}`"),
                ));
            }
        }
        if errors.is_empty() {
            templates
        } else {
            Err(ContentErrors(errors))
        }
    }

    /// Parses and checks templates; each file's name (without `.toml`) is its kind.
    pub fn from_files(files: &[ContentFile]) -> Result<Templates, ContentErrors> {
        let mut errors = Vec::new();
        let mut by_kind = BTreeMap::new();
        for file in files {
            if let Some(template) = check_file(file, &mut errors) {
                by_kind.insert(template.kind.clone(), template);
            }
        }
        if errors.is_empty() {
            Ok(Templates { by_kind })
        } else {
            Err(ContentErrors(errors))
        }
    }

    pub fn get(&self, kind: &str) -> Option<&Template> {
        self.by_kind.get(kind)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.by_kind.keys().map(String::as_str)
    }

    /// Fills the template of `kind` (see [`Template::render`]).
    pub fn render(&self, kind: &str, values: &Values) -> Result<Rendered, NotifyError> {
        self.get(kind)
            .ok_or_else(|| NotifyError::UnknownKind(kind.to_owned()))?
            .render(values)
    }
}

/// The kind a template file stands for: its name without the folder and `.toml`.
fn kind_of(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.strip_suffix(".toml").unwrap_or(base)
}

fn check_file(file: &ContentFile, errors: &mut Vec<ContentError>) -> Option<Template> {
    let before = errors.len();
    let kind = kind_of(&file.name).to_owned();
    if !is_name(&kind) {
        errors.push(file_error_field(
            &file.name,
            "-",
            format!(
                "`{kind}` is not a kind: a template's file name is its kind, \
                 a-z, digits and `_`, starting with a letter"
            ),
        ));
    }
    let raw = parse::<RawTemplate>(file, errors)?;
    let mut declared = BTreeSet::new();
    for p in raw.placeholders.get_ref() {
        if !is_name(p.get_ref()) {
            errors.push(error_at(
                file,
                p.span(),
                "placeholders".into(),
                format!(
                    "`{}` is not a placeholder name: a-z, digits and `_`, starting with a letter",
                    p.get_ref()
                ),
            ));
        } else if !declared.insert(p.get_ref().clone()) {
            errors.push(error_at(
                file,
                p.span(),
                "placeholders".into(),
                format!("`{}` is declared twice", p.get_ref()),
            ));
        }
    }
    let mut used = BTreeSet::new();
    let subject = check_field(
        file,
        "subject",
        &raw.subject,
        true,
        &declared,
        &mut used,
        errors,
    );
    let body = check_field(file, "body", &raw.body, false, &declared, &mut used, errors);
    for name in &declared {
        if !used.contains(name) {
            errors.push(error_at(
                file,
                raw.placeholders.span(),
                "placeholders".into(),
                format!("`{name}` is declared but no text uses `{{{name}}}`"),
            ));
        }
    }
    match (subject, body) {
        (Some(subject), Some(body)) if errors.len() == before => Some(Template {
            kind,
            placeholders: declared,
            subject,
            body,
        }),
        _ => None,
    }
}

/// Checks both languages of one field; the parsed texts if they are sound.
fn check_field(
    file: &ContentFile,
    field: &str,
    raw: &RawText,
    one_line: bool,
    declared: &BTreeSet<String>,
    used: &mut BTreeSet<String>,
    errors: &mut Vec<ContentError>,
) -> Option<[Parsed; 2]> {
    let mut parsed: Vec<Option<Parsed>> = Vec::new();
    for (lang, text) in [(Lang::Cs, &raw.cs), (Lang::En, &raw.en)] {
        let name = format!("{field}.{lang}");
        let mut error = |message: String| {
            errors.push(error_at(file, text.span(), name.clone(), message));
        };
        let value = text.get_ref();
        if value.trim().is_empty() {
            error("is empty; every text needs Czech and English".into());
            parsed.push(None);
            continue;
        }
        if one_line && value.trim().contains('\n') {
            error("a subject is one line".into());
        }
        match parse_text(value) {
            Err(message) => {
                error(message);
                parsed.push(None);
            }
            Ok(p) => {
                let unknown: Vec<&str> = p
                    .placeholders()
                    .into_iter()
                    .filter(|name| !declared.contains(*name))
                    .collect();
                if unknown.is_empty() {
                    used.extend(p.placeholders().into_iter().map(str::to_owned));
                    parsed.push(Some(p));
                } else {
                    let declared: Vec<&str> = declared.iter().map(String::as_str).collect();
                    error(format!(
                        "unknown placeholder(s) {}; declared in `placeholders`: {}",
                        unknown
                            .iter()
                            .map(|u| format!("`{{{u}}}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if declared.is_empty() {
                            "none".to_owned()
                        } else {
                            declared.join(", ")
                        }
                    ));
                    parsed.push(None);
                }
            }
        }
    }
    let en = parsed.pop().flatten();
    let cs = parsed.pop().flatten();
    let (cs, en) = (cs?, en?);
    let (in_cs, in_en) = (cs.placeholders(), en.placeholders());
    let mut sound = true;
    for (lang, text, only) in [
        (
            Lang::En,
            &raw.en,
            in_cs.difference(&in_en).collect::<Vec<_>>(),
        ),
        (
            Lang::Cs,
            &raw.cs,
            in_en.difference(&in_cs).collect::<Vec<_>>(),
        ),
    ] {
        for name in only {
            sound = false;
            errors.push(error_at(
                file,
                text.span(),
                format!("{field}.{lang}"),
                format!(
                    "does not use `{{{name}}}`, which `{field}.{}` does: both languages \
                     carry the same facts",
                    lang.other()
                ),
            ));
        }
    }
    if !sound {
        return None;
    }
    // Trailing line breaks of a TOML multi-line string are not part of the text.
    let trim = |p: Parsed| {
        let mut pieces = p.0;
        if let Some(Piece::Literal(last)) = pieces.last_mut() {
            let kept = last.trim_end().len();
            last.truncate(kept);
            if last.is_empty() {
                pieces.pop();
            }
        }
        if let Some(Piece::Literal(first)) = pieces.first_mut() {
            *first = first.trim_start_matches(['\n', '\r']).to_owned();
        }
        Parsed(pieces)
    };
    Some([trim(cs), trim(en)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> ContentFile {
        ContentFile {
            name: format!("content/notifications/{name}.toml"),
            text: text.to_owned(),
        }
    }

    const GOOD: &str = r#"
placeholders = ["reference", "deadline"]

[subject]
cs = "Výzva k doplnění {reference}"
en = "Please complete {reference}"

[body]
cs = """
Doplňte podání {reference} do {deadline}. Závorky: {{ a }}.
"""
en = """
Complete submission {reference} by {deadline}. Braces: {{ and }}.
"""
"#;

    #[test]
    fn templates_fill_placeholders_in_both_languages_as_plain_text() {
        let templates = Templates::from_files(&[file("completion_requested", GOOD)]).unwrap();
        let values = Values::new()
            .set("reference", "KUOK 12/2027\r\nBcc: x@example.cz")
            .text("deadline", Text::new("31. 1. 2027", "31 January 2027"));
        let r = templates.render("completion_requested", &values).unwrap();
        assert_eq!(
            r.subject.cs, "Výzva k doplnění KUOK 12/2027 Bcc: x@example.cz",
            "a value cannot break the subject's line"
        );
        assert_eq!(
            r.subject.en,
            "Please complete KUOK 12/2027 Bcc: x@example.cz"
        );
        assert_eq!(
            r.body.cs,
            "Doplňte podání KUOK 12/2027\nBcc: x@example.cz do 31. 1. 2027. Závorky: { a }."
        );
        assert!(r.body.en.contains("by 31 January 2027. Braces: { and }."));

        let missing = templates
            .render("completion_requested", &Values::new().set("reference", "1"))
            .unwrap_err();
        assert!(
            matches!(missing, NotifyError::MissingValue { ref placeholder, .. } if placeholder == "deadline"),
            "{missing}"
        );
        let extra = templates
            .render(
                "completion_requested",
                &values.clone().set("url", "https://x"),
            )
            .unwrap_err();
        assert!(matches!(extra, NotifyError::UnknownValue { .. }), "{extra}");
        assert!(matches!(
            templates.render("nothing", &values).unwrap_err(),
            NotifyError::UnknownKind(_)
        ));
        // Values are not templates: braces in them stay as they are.
        let r = templates
            .render(
                "completion_requested",
                &Values::new()
                    .set("reference", "{deadline}")
                    .set("deadline", "x"),
            )
            .unwrap();
        assert_eq!(r.subject.en, "Please complete {deadline}");
    }

    #[test]
    fn every_problem_is_reported_with_file_line_and_field() {
        let bad = r#"placeholders = ["reference", "unused", "reference", "Bad"]

[subject]
cs = "Podání {reference} {oops}"
en = """
Submission {reference}
second line"""

[body]
cs = "Text {reference} }"
en = ""
"#;
        let errors = Templates::from_files(&[file("completion_requested", bad)])
            .unwrap_err()
            .0;
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let has = |needle: &str| {
            assert!(
                text.iter().any(|t| t.contains(needle)),
                "no error with {needle:?} in {text:#?}"
            )
        };
        has("content/notifications/completion_requested.toml:1:");
        has("`reference` is declared twice");
        has("`Bad` is not a placeholder name");
        has(":4:6: field `subject.cs`: unknown placeholder(s) `{oops}`");
        has("field `subject.en`: a subject is one line");
        has(":10:6: field `body.cs`: a lone `}`");
        has("field `body.en`: is empty");
        has("`unused` is declared but no text uses `{unused}`");

        let mismatch = r#"placeholders = ["reference", "deadline"]
subject = { cs = "Podání {reference}", en = "Submission" }
body = { cs = "Do {deadline}", en = "By {deadline}, {reference}" }
"#;
        let text = Templates::from_files(&[file("x", mismatch)])
            .unwrap_err()
            .to_string();
        assert!(
            text.contains(
                "field `subject.en`: does not use `{reference}`, which `subject.cs` does"
            ),
            "{text}"
        );
        assert!(
            text.contains("field `body.cs`: does not use `{reference}`"),
            "{text}"
        );

        let unknown_field = "placeholders = []\nsubject = { cs = \"a\", en = \"b\" }\n\
                             body = { cs = \"a\", en = \"b\", de = \"c\" }\n";
        let text = Templates::from_files(&[file("x", unknown_field)])
            .unwrap_err()
            .to_string();
        assert!(text.contains("x.toml:3:") && text.contains("de"), "{text}");
        let text = Templates::from_files(&[file("Bad-Kind", GOOD)])
            .unwrap_err()
            .to_string();
        assert!(text.contains("`Bad-Kind` is not a kind"), "{text}");
        for broken in ["{unclosed", "{Not A Name}", "{}"] {
            assert!(parse_text(broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn the_shipped_templates_are_sound_and_complete() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content/notifications");
        let templates = Templates::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        for kind in KINDS {
            let template = templates.get(kind).unwrap();
            let mut values = Values::new();
            for p in &template.placeholders {
                values = values.set(p, format!("<{p}>"));
            }
            let r = template.render(&values).unwrap();
            for lang in Lang::ALL {
                assert!(!r.subject.get(lang).contains('{'), "{kind}");
                assert!(!r.body.get(lang).trim().is_empty(), "{kind}");
            }
        }
        let missing = tempfile::tempdir().unwrap();
        let text = Templates::load_dir(missing.path()).unwrap_err().to_string();
        assert!(
            text.contains("decision_issued.toml:1:1: field `-`: missing"),
            "{text}"
        );
    }
}
