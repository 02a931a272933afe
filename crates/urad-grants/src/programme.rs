//! Grant programmes as data: `content/grants/*.toml`, one programme a file with its calls,
//! its eligibility rules, amount formula and required attachments in CEL. A definition is
//! checked when it loads: unknown keys, expressions that do not parse, read names or fields
//! that do not exist, or do not give a boolean (a whole number for the amount) on a sample
//! application are errors naming the file and line. Format: docs/grants.md.

use crate::application::Application;
use crate::expr::{Expression, Shape};
use crate::registry::BuildingFacts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;
use urad_core::Text;

/// Areas of the catalogue.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    CrisisManagement,
    Transport,
    Culture,
    RegionalDevelopment,
    Health,
    Environment,
}

/// Where the money comes from.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The region's own budget.
    Region,
    /// EU Just Transition Fund calls the region runs.
    EuJustTransition,
    /// State programmes the region points to.
    State,
}

/// A call: when applications are received and how much money there is.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Call {
    pub id: String,
    pub name: Text,
    #[serde(with = "crate::application::instant")]
    pub opens_at: jiff::Timestamp,
    #[serde(with = "crate::application::instant")]
    pub closes_at: jiff::Timestamp,
    pub budget_czk: i64,
    #[serde(default)]
    pub priority_municipalities: Vec<String>,
}

impl Call {
    /// Inside `[opens_at, closes_at)`.
    pub fn receives_at(&self, instant: jiff::Timestamp) -> bool {
        self.opens_at <= instant && instant < self.closes_at
    }
}

/// An eligibility rule: it must hold; when it does not, `reason` is the code.
#[derive(Debug)]
pub struct Rule {
    pub reason: String,
    pub expression: Expression,
    pub explanation: Text,
}

/// A kind of attachment and when it is required.
#[derive(Debug)]
pub struct AttachmentRule {
    pub kind: String,
    pub name: Text,
    pub media_types: Vec<String>,
    pub required_when: Expression,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    /// Calendar days from the decision to the completion deadline.
    pub deadline_days: i64,
    /// How many days before the deadline the reminder goes out.
    pub reminder_days_before: i64,
}

/// A loaded, checked programme.
#[derive(Debug)]
pub struct Programme {
    pub id: String,
    pub area: Area,
    pub source: Source,
    /// The service (and so the form) through which one applies.
    pub service: String,
    pub name: Text,
    pub summary: Text,
    /// What expressions read as `programme.…`.
    pub parameters: serde_json::Value,
    pub completion: Completion,
    pub eligibility: Vec<Rule>,
    pub amount: Expression,
    pub amount_explanation: Text,
    pub attachments: Vec<AttachmentRule>,
    pub calls: Vec<Call>,
    pub file: PathBuf,
}

/// A programme file that does not hold; the message names the file and line.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct DefinitionError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// The top-level names an expression may use, and what each holds.
pub fn names(parameters: &serde_json::Value) -> BTreeMap<String, Shape> {
    let sample_call = serde_json::json!({
        "id": "", "opens_at": "", "closes_at": "", "budget_czk": 0, "priority_municipalities": [""]
    });
    [
        (
            "application",
            Shape::of(&serde_json::to_value(Application::sample()).expect("serialises")),
        ),
        (
            "registry",
            Shape::of(&serde_json::to_value(BuildingFacts::default()).expect("serialises")),
        ),
        ("programme", Shape::of(parameters)),
        ("call", Shape::of(&sample_call)),
        (
            "queue",
            Shape::of(&serde_json::json!({ "earlier_application_for_building": false })),
        ),
        // The day of receipt, YYYY-MM-DD in Europe/Prague.
        ("received_on", Shape::Value),
        // The day the decision is made, YYYY-MM-DD in Europe/Prague.
        ("decision_date", Shape::Value),
    ]
    .into_iter()
    .map(|(name, shape)| (name.to_owned(), shape))
    .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgramme {
    id: String,
    area: Area,
    source: Source,
    service: String,
    name: Text,
    summary: Text,
    #[serde(default)]
    parameters: toml::Table,
    completion: Completion,
    eligibility: Vec<RawRule>,
    amount: RawAmount,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
    #[serde(default)]
    calls: Vec<Spanned<Call>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    reason: Spanned<String>,
    rule: Spanned<String>,
    explanation: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAmount {
    formula: Spanned<String>,
    explanation: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttachment {
    kind: Spanned<String>,
    name: Text,
    media_types: Vec<String>,
    required_when: Spanned<String>,
}

/// Loads every `*.toml` under `dir` (a folder that does not exist holds no programmes).
pub fn load_dir(dir: &Path) -> Result<Vec<Programme>, DefinitionError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path).map_err(|e| DefinitionError {
                file: path.clone(),
                line: 0,
                message: e.to_string(),
            })?;
            files.push((path, text));
        }
    }
    load_files(files)
}

/// Parses and checks programme files (name, text); each programme id once.
pub fn load_files(mut files: Vec<(PathBuf, String)>) -> Result<Vec<Programme>, DefinitionError> {
    files.sort();
    let mut programmes: Vec<Programme> = Vec::new();
    for (file, text) in files {
        let programme = parse(&file, &text)?;
        if let Some(other) = programmes.iter().find(|p| p.id == programme.id) {
            return Err(DefinitionError {
                file,
                line: 1,
                message: format!(
                    "programme `{}` is defined in {} already",
                    programme.id,
                    other.file.display()
                ),
            });
        }
        programmes.push(programme);
    }
    Ok(programmes)
}

/// Parses and checks one programme file's text.
pub fn parse(file: &Path, text: &str) -> Result<Programme, DefinitionError> {
    let error = |line: usize, message: String| DefinitionError {
        file: file.to_owned(),
        line,
        message,
    };
    let raw: RawProgramme = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        error(line, e.message().to_owned())
    })?;
    let parameters = serde_json::to_value(&raw.parameters).expect("TOML values are JSON values");
    let names = names(&parameters);
    let compile = |source: &Spanned<String>| {
        Expression::compile(source.get_ref(), &names)
            .map_err(|e| error(expression_line(text, source), e.to_string()))
    };

    let mut eligibility = Vec::new();
    for rule in &raw.eligibility {
        let reason = rule.reason.get_ref();
        if !is_code(reason) {
            return Err(error(
                line_of(text, rule.reason.span().start),
                format!("reason `{reason}`: a reason code is lower-case letters, digits and `_`"),
            ));
        }
        if eligibility.iter().any(|r: &Rule| &r.reason == reason) {
            return Err(error(
                line_of(text, rule.reason.span().start),
                format!("reason `{reason}` is used by an earlier rule; each rule has its own"),
            ));
        }
        eligibility.push(Rule {
            reason: reason.clone(),
            expression: compile(&rule.rule)?,
            explanation: rule.explanation.clone(),
        });
    }
    let mut attachments = Vec::new();
    for a in &raw.attachments {
        if attachments
            .iter()
            .any(|x: &AttachmentRule| &x.kind == a.kind.get_ref())
        {
            return Err(error(
                line_of(text, a.kind.span().start),
                format!("attachment kind `{}` is listed twice", a.kind.get_ref()),
            ));
        }
        attachments.push(AttachmentRule {
            kind: a.kind.get_ref().clone(),
            name: a.name.clone(),
            media_types: a.media_types.clone(),
            required_when: compile(&a.required_when)?,
        });
    }
    let amount = compile(&raw.amount.formula)?;
    for call in &raw.calls {
        let line = line_of(text, call.span().start);
        let c = call.get_ref();
        if c.closes_at <= c.opens_at {
            return Err(error(
                line,
                format!("call `{}` closes before it opens", c.id),
            ));
        }
        if c.budget_czk < 0 {
            return Err(error(
                line,
                format!("call `{}` has a negative budget", c.id),
            ));
        }
    }
    let programme = Programme {
        id: raw.id,
        area: raw.area,
        source: raw.source,
        service: raw.service,
        name: raw.name,
        summary: raw.summary,
        parameters,
        completion: raw.completion,
        eligibility,
        amount,
        amount_explanation: raw.amount.explanation.clone(),
        attachments,
        calls: raw.calls.into_iter().map(Spanned::into_inner).collect(),
        file: file.to_owned(),
    };
    trial_run(
        &programme,
        text,
        &raw.eligibility,
        &raw.attachments,
        &raw.amount,
    )?;
    Ok(programme)
}

/// Evaluates every expression once on a sample application: a rule that gives no boolean (or
/// an amount that gives no whole number) is found now, not on a citizen's application.
fn trial_run(
    programme: &Programme,
    text: &str,
    rules: &[RawRule],
    attachments: &[RawAttachment],
    amount: &RawAmount,
) -> Result<(), DefinitionError> {
    let sample_call = programme.calls.first().cloned().unwrap_or(Call {
        id: "sample".into(),
        name: Text::default(),
        opens_at: jiff::Timestamp::UNIX_EPOCH,
        closes_at: jiff::Timestamp::MAX,
        budget_czk: 0,
        priority_municipalities: vec!["554821".into()],
    });
    let root = crate::engine::call_context(programme, &sample_call);
    let facts = BuildingFacts {
        owners: vec!["P1".into()],
        past_boiler_grant: false,
    };
    let context = crate::engine::application_context(
        &root,
        &Application::sample(),
        Some(&facts),
        false,
        "2026-01-01",
        "2026-01-01",
    );
    let error = |source: &Spanned<String>, message: String| DefinitionError {
        file: programme.file.clone(),
        line: expression_line(text, source),
        message: format!("on a sample application the expression {message}"),
    };
    for (rule, raw) in programme.eligibility.iter().zip(rules) {
        rule.expression
            .evaluate_bool(&context)
            .map_err(|e| error(&raw.rule, e))?;
    }
    for (a, raw) in programme.attachments.iter().zip(attachments) {
        a.required_when
            .evaluate_bool(&context)
            .map_err(|e| error(&raw.required_when, e))?;
    }
    programme
        .amount
        .evaluate_int(&context)
        .map_err(|e| error(&amount.formula, e))?;
    Ok(())
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line an expression's text starts on: a multi-line string's opening quotes stand on the
/// line before it.
fn expression_line(text: &str, source: &Spanned<String>) -> usize {
    let start = source.span().start;
    let line = line_of(text, start);
    let rest = &text[start.min(text.len())..];
    if rest.starts_with("\"\"\"\n") || rest.starts_with("'''\n") {
        line + 1
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../content/grants/KD-2026.toml");

    fn broken(from: &str, to: &str) -> DefinitionError {
        assert!(SHIPPED.contains(from), "{from}");
        parse(Path::new("KD-2026.toml"), &SHIPPED.replacen(from, to, 1)).unwrap_err()
    }

    fn line_containing(needle: &str) -> usize {
        SHIPPED.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn the_shipped_programme_loads() {
        let p = parse(Path::new("KD-2026.toml"), SHIPPED).unwrap();
        assert_eq!(p.id, "KD-2026");
        assert_eq!(p.eligibility.len(), 12);
        assert_eq!(p.eligibility[0].reason, "not_adult");
        assert_eq!(p.eligibility[11].reason, "duplicate_application");
        assert!(p.eligibility[1].expression.reads_name("registry"));
        assert!(!p.eligibility[0].expression.reads_name("registry"));
        assert_eq!(p.attachments.len(), 4);
        assert_eq!(p.calls[0].budget_czk, 50_000_000);
        assert_eq!(
            p.completion,
            Completion {
                deadline_days: 15,
                reminder_days_before: 5
            }
        );
    }

    #[test]
    fn a_broken_definition_names_file_line_and_cause() {
        let e = broken(
            "application.building.approved\"",
            "application.building.aproved\"",
        );
        assert_eq!(
            e.line,
            line_containing("rule = \"application.building.approved\"")
        );
        assert!(e.to_string().starts_with("KD-2026.toml:"), "{e}");
        assert!(e.message.contains("has no field `aproved`"), "{e}");

        let e = broken(
            "\"application.eligible_costs_czk > 0\"",
            "\"application.eligible_costs_czk >\"",
        );
        assert_eq!(
            e.line,
            line_containing("application.eligible_costs_czk > 0")
        );
        assert!(e.message.contains("does not parse"), "{e}");

        // A rule that is not a yes/no question.
        let e = broken(
            "\"application.eligible_costs_czk > 0\"",
            "\"application.eligible_costs_czk\"",
        );
        assert!(e.message.contains("not true or false"), "{e}");

        let e = broken(
            "deadline_days = 15",
            "deadline_days = 15\ndeadline_hours = 3",
        );
        assert_eq!(e.line, line_containing("deadline_days = 15") + 1);
        assert!(e.message.contains("unknown field `deadline_hours`"), "{e}");

        let e = broken("area = \"environment\"", "area = \"astrology\"");
        assert_eq!(e.line, line_containing("area = \"environment\""));

        let e = broken("reason = \"building_type\"", "reason = \"not_adult\"");
        assert!(e.message.contains("used by an earlier rule"), "{e}");

        // Line of a multi-line expression: the line after the opening quotes.
        let e = broken(
            "+ (application.building.municipality_code in call.priority_municipalities",
            "+ (application.building.municipality in call.priority_municipalities",
        );
        assert_eq!(
            e.line,
            line_containing("min(programme.new_sources[application.new_source].share_percent")
        );
        assert!(e.message.contains("no field `municipality`"), "{e}");
    }
}
