//! How each agenda handles its case files (`content/back-office/agendas.toml`): the workflow
//! it follows, the retention schedule of its records (skartační režim), and the period the
//! applicant gets to complete a submission. The agendas themselves — keys, names,
//! departments — are the catalogue's (`content/agendas.toml`); this file only adds what the
//! back office needs, and every agenda key here must be one of the catalogue's.

use crate::workflow::{Workflow, Workflows};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use urad_core::content::{file_error, file_error_field, parse, ContentErrors, ContentFile};

/// The retention schedule of a record: its sign and its period in years (e.g. `V 5`), as the
/// office's filing and retention plan (spisový a skartační plán) gives it. The period runs
/// from 1 January of the year after the case was closed (vyhláška č. 259/2012 Sb., § 15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub sign: RetentionSign,
    pub years: u16,
}

/// What happens when the period ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionSign {
    /// A: handed to the archive.
    Archive,
    /// V: the archive selects (výběr) whether it keeps it.
    Selection,
    /// S: destroyed (skartace), after the archive agrees.
    Disposal,
}

impl Retention {
    /// Reads `A 10`, `V 5`, `S 1` (one space; the period 1–100 years).
    pub fn parse(text: &str) -> Result<Retention, String> {
        let bad = || {
            format!(
                "`{text}` is not a retention schedule such as `V 5` (A, V or S, a space, years)"
            )
        };
        let (sign, years) = text.split_once(' ').ok_or_else(bad)?;
        let sign = match sign {
            "A" => RetentionSign::Archive,
            "V" => RetentionSign::Selection,
            "S" => RetentionSign::Disposal,
            _ => return Err(bad()),
        };
        let years: u16 = years.parse().map_err(|_| bad())?;
        if !(1..=100).contains(&years) {
            return Err(bad());
        }
        Ok(Retention { sign, years })
    }

    pub fn code(self) -> String {
        let sign = match self.sign {
            RetentionSign::Archive => "A",
            RetentionSign::Selection => "V",
            RetentionSign::Disposal => "S",
        };
        format!("{sign} {}", self.years)
    }

    /// The year in which a record closed in `closed_year` comes up for disposal (its period
    /// has run on 1 January of that year).
    pub fn disposal_year(self, closed_year: i16) -> i16 {
        closed_year
            .saturating_add(1)
            .saturating_add(self.years as i16)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgenda {
    key: String,
    workflow: String,
    retention: String,
    /// Days the applicant gets to complete a submission when nothing else is chosen.
    #[serde(default = "default_completion_days")]
    completion_days: u32,
    /// Days within which a decision is due (správní řád § 71: 30 days, 60 in complex cases).
    #[serde(default = "default_decision_days")]
    decision_days: u32,
    /// The ministry that decides appeals against the agenda's decisions, as the instruction on
    /// appeal names it: in Czech in the dative (`Ministerstvu dopravy`), in English with its
    /// article (`the Ministry of Transport`).
    appeal_to: urad_core::Text,
}

fn default_decision_days() -> u32 {
    30
}

fn default_completion_days() -> u32 {
    15
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgendasFile {
    /// The agenda that receives submissions whose form names no agenda (the general
    /// submission), until the registry clerk reassigns them.
    default: String,
    /// Where decisions are issued (místo vydání): `Ostrava`.
    issued_in: String,
    /// The office as the instruction on appeal names it: in Czech in the genitive
    /// (`Krajského úřadu Moravskoslezského kraje`).
    appeal_office: urad_core::Text,
    agenda: Vec<RawAgenda>,
}

/// One agenda's back-office settings.
#[derive(Clone, Debug)]
pub struct AgendaSettings {
    pub key: String,
    pub workflow: String,
    pub retention: Retention,
    pub completion_days: u32,
    pub decision_days: u32,
    pub appeal_to: urad_core::Text,
}

/// The back office's configuration: agendas and workflows, checked together.
#[derive(Clone, Debug)]
pub struct BackOffice {
    pub default_agenda: String,
    pub issued_in: String,
    pub appeal_office: urad_core::Text,
    pub agendas: BTreeMap<String, AgendaSettings>,
    pub workflows: Workflows,
}

impl BackOffice {
    pub fn load(
        agendas: &ContentFile,
        workflow_files: &[ContentFile],
        catalogue_agendas: &[&str],
    ) -> Result<BackOffice, ContentErrors> {
        let mut errors = Vec::new();
        let mut workflows = Workflows::new();
        for file in workflow_files {
            if let Some(w) = Workflow::load(file, &mut errors) {
                let stem = Path::new(&file.name)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned());
                if stem.as_deref() != Some(w.key.as_str()) {
                    errors.push(file_error_field(
                        &file.name,
                        "key",
                        format!("`{}` must equal the file's name", w.key),
                    ));
                }
                workflows.insert(w.key.clone(), w);
            }
        }
        let raw: Option<AgendasFile> = parse(agendas, &mut errors);
        let mut settings = BTreeMap::new();
        let mut default_agenda = String::new();
        let mut issued_in = String::new();
        let mut appeal_office = urad_core::Text::default();
        if let Some(raw) = raw {
            let mut problem = |field: &str, message: String| {
                errors.push(file_error_field(&agendas.name, field, message))
            };
            for a in raw.agenda {
                if !catalogue_agendas.contains(&a.key.as_str()) {
                    problem(
                        "agenda.key",
                        format!("`{}` is not an agenda of content/agendas.toml", a.key),
                    );
                }
                if !workflows.contains_key(&a.workflow) && !workflow_files.is_empty() {
                    problem(
                        "agenda.workflow",
                        format!("agenda `{}`: no workflow `{}`", a.key, a.workflow),
                    );
                }
                let retention = match Retention::parse(&a.retention) {
                    Ok(r) => r,
                    Err(e) => {
                        problem("agenda.retention", format!("agenda `{}`: {e}", a.key));
                        continue;
                    }
                };
                for (field, days) in [
                    ("agenda.completion_days", a.completion_days),
                    ("agenda.decision_days", a.decision_days),
                ] {
                    if !(1..=365).contains(&days) {
                        problem(field, format!("agenda `{}`: 1–365 days", a.key));
                    }
                }
                let key = a.key.clone();
                if settings
                    .insert(
                        key.clone(),
                        AgendaSettings {
                            key: a.key,
                            workflow: a.workflow,
                            retention,
                            completion_days: a.completion_days,
                            decision_days: a.decision_days,
                            appeal_to: a.appeal_to,
                        },
                    )
                    .is_some()
                {
                    problem("agenda.key", format!("agenda `{key}` is listed twice"));
                }
            }
            if !settings.contains_key(&raw.default) {
                problem(
                    "default",
                    format!("`{}` is not one of the agendas listed here", raw.default),
                );
            }
            default_agenda = raw.default;
            issued_in = raw.issued_in;
            appeal_office = raw.appeal_office;
        }
        if workflow_files.is_empty() {
            errors.push(file_error(
                &agendas.name,
                "no workflow files in back-office/workflows/".into(),
            ));
        }
        if errors.is_empty() {
            Ok(BackOffice {
                default_agenda,
                issued_in,
                appeal_office,
                agendas: settings,
                workflows,
            })
        } else {
            Err(ContentErrors(errors))
        }
    }

    /// The agenda a case of `agenda` is handled in: itself when the back office knows it,
    /// else the default (the filing office's clerk reassigns it).
    pub fn agenda(&self, agenda: &str) -> &AgendaSettings {
        self.agendas
            .get(agenda)
            .or_else(|| self.agendas.get(&self.default_agenda))
            .expect("the default agenda is checked on load")
    }

    pub fn workflow(&self, agenda: &str) -> &Workflow {
        let settings = self.agenda(agenda);
        self.workflows
            .get(&settings.workflow)
            .expect("workflows of agendas are checked on load")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> ContentFile {
        ContentFile {
            name: name.into(),
            text: text.into(),
        }
    }

    fn shipped_workflow() -> ContentFile {
        file(
            "back-office/workflows/administrative-procedure.toml",
            include_str!("../../../content/back-office/workflows/administrative-procedure.toml"),
        )
    }

    #[test]
    fn retention_schedules_parse_and_count_from_the_next_year() {
        let r = Retention::parse("V 5").unwrap();
        assert_eq!((r.sign, r.years), (RetentionSign::Selection, 5));
        assert_eq!(r.code(), "V 5");
        // Closed in 2026: the period runs from 1 January 2027, so five years end in 2032.
        assert_eq!(r.disposal_year(2026), 2032);
        assert_eq!(
            Retention::parse("A 10").unwrap().sign,
            RetentionSign::Archive
        );
        for bad in ["V5", "X 5", "V 0", "V -1", "V 101", "", "S five"] {
            assert!(Retention::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_shipped_back_office_loads_for_every_catalogue_agenda() {
        let catalogue: Vec<String> =
            toml::from_str::<toml::Value>(include_str!("../../../content/agendas.toml")).unwrap()
                ["agenda"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["key"].as_str().unwrap().to_owned())
                .collect();
        let keys: Vec<&str> = catalogue.iter().map(String::as_str).collect();
        let office = BackOffice::load(
            &file(
                "back-office/agendas.toml",
                include_str!("../../../content/back-office/agendas.toml"),
            ),
            &[shipped_workflow()],
            &keys,
        )
        .unwrap();
        for key in &keys {
            assert!(
                office.agendas.contains_key(*key),
                "{key} has no back-office settings"
            );
        }
        assert_eq!(office.workflow("grants").key, "administrative-procedure");
        // An agenda the back office does not know goes to the default one.
        assert_eq!(office.agenda("no-such").key, office.default_agenda);
    }

    #[test]
    fn unknown_agendas_workflows_and_schedules_are_named() {
        let agendas = file(
            "agendas.toml",
            r#"
default = "nowhere"
issued_in = "Ostrava"
appeal_office = { cs = "Krajského úřadu", en = "the Regional Office" }
[[agenda]]
key = "grants"
workflow = "no-such-workflow"
retention = "V5"
appeal_to = { cs = "Ministerstvu", en = "the Ministry" }
[[agenda]]
key = "not-in-catalogue"
workflow = "administrative-procedure"
retention = "S 5"
completion_days = 0
appeal_to = { cs = "Ministerstvu", en = "the Ministry" }
"#,
        );
        let errors = BackOffice::load(&agendas, &[shipped_workflow()], &["grants"])
            .unwrap_err()
            .to_string();
        for expected in [
            "no workflow `no-such-workflow`",
            "`V5` is not a retention schedule",
            "`not-in-catalogue` is not an agenda of content/agendas.toml",
            "1–365 days",
            "`nowhere` is not one of the agendas listed here",
        ] {
            assert!(errors.contains(expected), "{expected} in {errors}");
        }
    }
}
