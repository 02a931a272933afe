//! Reading and validating the catalogue's content files (`content/`). Every problem is
//! reported with the file, line, column and field, and all problems are reported at once, so
//! an editor can fix a whole review round in one go.

use crate::model::*;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use urad_core::content::{check_text, error_at, file_error, file_error_field, parse};
use urad_core::content::{list_dir, read_file};
pub use urad_core::content::{ContentError, ContentErrors, ContentFile};
use urad_core::{ApplicantType, Channel, Czk, Text};

/// The content files that make up a catalogue, before validation.
#[derive(Clone, Debug)]
pub struct ContentSource {
    pub office: ContentFile,
    pub agendas: ContentFile,
    pub situations: ContentFile,
    pub services: Vec<ContentFile>,
}

impl ContentSource {
    /// Reads `office.toml`, `agendas.toml`, `life-situations.toml` and `services/*.toml`.
    pub fn read_dir(dir: &Path) -> Result<ContentSource, ContentErrors> {
        let read = |path: PathBuf| read_file(&path);
        let paths: Vec<PathBuf> = list_dir(&dir.join("services"))?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        Ok(ContentSource {
            office: read(dir.join("office.toml"))?,
            agendas: read(dir.join("agendas.toml"))?,
            situations: read(dir.join("life-situations.toml"))?,
            services: paths.into_iter().map(read).collect::<Result<_, _>>()?,
        })
    }

    /// Parses and validates everything.
    pub fn validate(&self) -> Result<CatalogData, ContentErrors> {
        let mut errors = Vec::new();
        let office = parse::<Office>(&self.office, &mut errors);
        if let Some(office) = &office {
            check_text(&self.office, &office.name, 0..0, "name", &mut errors);
        }
        let agendas = parse::<AgendaFile>(&self.agendas, &mut errors)
            .map(|f| f.agenda)
            .unwrap_or_default();
        let situations = parse::<SituationFile>(&self.situations, &mut errors)
            .map(|f| f.situation)
            .unwrap_or_default();
        let agenda_keys = unique_keys(
            &self.agendas,
            agendas.iter().map(|a| a.key.as_str()),
            "agenda.key",
            &mut errors,
        );
        let situation_keys = unique_keys(
            &self.situations,
            situations.iter().map(|s| s.key.as_str()),
            "situation.key",
            &mut errors,
        );

        let mut services = Vec::new();
        let mut sources = Vec::new();
        let mut slugs: BTreeMap<String, String> = BTreeMap::new();
        for file in &self.services {
            let Some(raw) = parse::<RawService>(file, &mut errors) else {
                continue;
            };
            let mut v = Validator {
                file,
                errors: &mut errors,
            };
            if let Some(service) = v.service(raw, &agenda_keys, &situation_keys) {
                if let Some(first) = slugs.insert(service.slug.clone(), file.name.clone()) {
                    v.errors.push(file_error(
                        &file.name,
                        format!("slug `{}` is already used by {first}", service.slug),
                    ));
                }
                services.push(service);
                sources.push(file.name.clone());
            }
        }
        if self.services.is_empty() {
            errors.push(file_error("services/", "there are no service files".into()));
        }
        match (errors.is_empty(), office) {
            (true, Some(office)) => Ok(CatalogData {
                office,
                agendas,
                situations,
                services,
                sources,
            }),
            _ => Err(ContentErrors(errors)),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgendaFile {
    agenda: Vec<Agenda>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SituationFile {
    situation: Vec<LifeSituation>,
}

/// A service file as written; spans let validation point at the offending line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    slug: Spanned<String>,
    agenda: Spanned<String>,
    applicant_types: Spanned<Vec<Spanned<String>>>,
    life_situations: Spanned<Vec<Spanned<String>>>,
    channel: Spanned<String>,
    popularity: Spanned<i64>,
    processing_days: Spanned<i64>,
    fee_czk: Option<Spanned<i64>>,
    fee_note: Option<Spanned<Text>>,
    legal_basis: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    documents: Vec<Spanned<Text>>,
    name: Spanned<Text>,
    summary: Spanned<Text>,
    description: Spanned<Text>,
    in_person: Option<Spanned<RawInPerson>>,
    contact: Spanned<RawContact>,
    level_of_assurance: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInPerson {
    reason: Option<Spanned<Text>>,
    place: Spanned<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContact {
    email: Spanned<String>,
    phone: Spanned<String>,
    office_hours: Option<Spanned<Text>>,
}

const SUMMARY_MAX_CHARS: usize = 300;

struct Validator<'a> {
    file: &'a ContentFile,
    errors: &'a mut Vec<ContentError>,
}

impl Validator<'_> {
    fn error(&mut self, span: Range<usize>, field: &str, message: String) {
        self.errors
            .push(error_at(self.file, span, field.to_owned(), message));
    }

    fn text(&mut self, text: &Spanned<Text>, field: &str) -> Text {
        check_text(self.file, text.get_ref(), text.span(), field, self.errors);
        text.get_ref().clone()
    }

    fn service(
        &mut self,
        raw: RawService,
        agendas: &HashSet<String>,
        situations: &HashSet<String>,
    ) -> Option<Service> {
        let before = self.errors.len();

        let slug = raw.slug.get_ref();
        if !is_slug(slug) {
            self.error(
                raw.slug.span(),
                "slug",
                format!(
                    "`{slug}` is not a slug: use 3–80 lowercase letters a–z, digits and hyphens"
                ),
            );
        }
        let stem = Path::new(&self.file.name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if stem != *slug {
            self.error(
                raw.slug.span(),
                "slug",
                format!("slug `{slug}` must equal the file name `{stem}`"),
            );
        }
        if !agendas.contains(raw.agenda.get_ref()) {
            self.error(
                raw.agenda.span(),
                "agenda",
                format!(
                    "unknown agenda `{}`; known: {}",
                    raw.agenda.get_ref(),
                    sorted(agendas)
                ),
            );
        }

        let mut applicant_types = Vec::new();
        if raw.applicant_types.get_ref().is_empty() {
            self.error(
                raw.applicant_types.span(),
                "applicant_types",
                "must name at least one applicant type".into(),
            );
        }
        for t in raw.applicant_types.get_ref() {
            match t.get_ref().parse::<ApplicantType>() {
                Ok(t) if applicant_types.contains(&t) => self.error(
                    raw.applicant_types.span(),
                    "applicant_types",
                    format!("`{t}` is listed twice"),
                ),
                Ok(t) => applicant_types.push(t),
                Err(e) => self.error(t.span(), "applicant_types", e.to_string()),
            }
        }

        let mut life_situations = Vec::new();
        if raw.life_situations.get_ref().is_empty() {
            self.error(
                raw.life_situations.span(),
                "life_situations",
                "must name at least one life situation".into(),
            );
        }
        for s in raw.life_situations.get_ref() {
            if !situations.contains(s.get_ref()) {
                self.error(
                    s.span(),
                    "life_situations",
                    format!(
                        "unknown life situation `{}`; known: {}",
                        s.get_ref(),
                        sorted(situations)
                    ),
                );
            } else if life_situations.contains(s.get_ref()) {
                self.error(
                    s.span(),
                    "life_situations",
                    format!("`{}` is listed twice", s.get_ref()),
                );
            } else {
                life_situations.push(s.get_ref().clone());
            }
        }

        let channel = match raw.channel.get_ref().parse::<Channel>() {
            Ok(c) => Some(c),
            Err(e) => {
                self.error(raw.channel.span(), "channel", e.to_string());
                None
            }
        };

        let popularity = *raw.popularity.get_ref();
        if !(0..=100).contains(&popularity) {
            self.error(
                raw.popularity.span(),
                "popularity",
                format!("{popularity} is outside 0–100"),
            );
        }
        let processing_days = *raw.processing_days.get_ref();
        if !(0..=3650).contains(&processing_days) {
            self.error(
                raw.processing_days.span(),
                "processing_days",
                format!("{processing_days} is outside 0–3650 days"),
            );
        }
        if let Some(fee) = &raw.fee_czk {
            if *fee.get_ref() < 0 {
                self.error(
                    fee.span(),
                    "fee_czk",
                    "a fee cannot be negative; omit the field for no fee".into(),
                );
            }
        }
        let fee_note = raw.fee_note.as_ref().map(|n| self.text(n, "fee_note"));

        if raw.legal_basis.get_ref().is_empty() {
            self.error(
                raw.legal_basis.span(),
                "legal_basis",
                "must cite at least one law".into(),
            );
        }
        for law in raw.legal_basis.get_ref() {
            if law.get_ref().trim().is_empty() {
                self.error(law.span(), "legal_basis", "an empty citation".into());
            }
        }

        let documents = raw
            .documents
            .iter()
            .map(|d| self.text(d, "documents"))
            .collect();
        let name = self.text(&raw.name, "name");
        let summary = self.text(&raw.summary, "summary");
        for lang in urad_core::Lang::ALL {
            let len = summary.get(lang).chars().count();
            if len > SUMMARY_MAX_CHARS {
                self.error(
                    raw.summary.span(),
                    &format!("summary.{lang}"),
                    format!("is {len} characters long; at most {SUMMARY_MAX_CHARS}"),
                );
            }
        }
        let description = self.text(&raw.description, "description");

        let in_person = raw.in_person.as_ref().map(|p| {
            let reason = p
                .get_ref()
                .reason
                .as_ref()
                .map(|r| self.text(r, "in_person.reason"));
            let place = self.text(&p.get_ref().place, "in_person.place");
            (p.span(), InPerson { reason, place })
        });
        match (channel, &in_person) {
            (Some(Channel::Online), Some((span, _))) => self.error(
                span.clone(),
                "in_person",
                "an online-only service has no `[in_person]` section; use channel = \"both\""
                    .into(),
            ),
            (Some(c), None) if c.is_in_person() => self.error(
                raw.channel.span(),
                "in_person",
                format!("channel `{c}` needs an `[in_person]` section with `place`"),
            ),
            (Some(Channel::InPerson), Some((span, p))) if p.reason.is_none() => self.error(
                span.clone(),
                "in_person.reason",
                "an in-person-only service must say why a visit is needed".into(),
            ),
            _ => {}
        }

        let contact = raw.contact.get_ref();
        if !contact.email.get_ref().contains('@') {
            self.error(
                contact.email.span(),
                "contact.email",
                format!("`{}` is not an e-mail address", contact.email.get_ref()),
            );
        }
        if contact.phone.get_ref().trim().is_empty() {
            self.error(contact.phone.span(), "contact.phone", "is empty".into());
        }
        let office_hours = contact
            .office_hours
            .as_ref()
            .map(|h| self.text(h, "contact.office_hours"));

        let level_of_assurance = match &raw.level_of_assurance {
            None => "substantial".to_owned(),
            Some(l) if ["low", "substantial", "high"].contains(&l.get_ref().as_str()) => {
                l.get_ref().clone()
            }
            Some(l) => {
                self.error(
                    l.span(),
                    "level_of_assurance",
                    format!(
                        "`{}` is not a level; use low, substantial or high",
                        l.get_ref()
                    ),
                );
                String::new()
            }
        };

        if self.errors.len() > before {
            return None;
        }
        Some(Service {
            level_of_assurance,
            slug: slug.clone(),
            agenda: raw.agenda.into_inner(),
            applicant_types,
            life_situations,
            channel: channel?,
            popularity: popularity as u8,
            processing_days: processing_days as u32,
            fee: raw.fee_czk.map(|f| Czk(f.into_inner())),
            fee_note,
            legal_basis: raw
                .legal_basis
                .into_inner()
                .into_iter()
                .map(|l| l.into_inner().trim().to_owned())
                .collect(),
            keywords: raw.keywords,
            documents,
            name,
            summary,
            description,
            in_person: in_person.map(|(_, p)| p),
            contact: Contact {
                email: contact.email.get_ref().clone(),
                phone: contact.phone.get_ref().clone(),
                office_hours,
            },
        })
    }
}

fn is_slug(s: &str) -> bool {
    (3..=80).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn sorted(set: &HashSet<String>) -> String {
    let mut v: Vec<&str> = set.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.join(", ")
}

fn unique_keys<'a>(
    file: &ContentFile,
    keys: impl Iterator<Item = &'a str>,
    field: &str,
    errors: &mut Vec<ContentError>,
) -> HashSet<String> {
    let mut seen = HashSet::new();
    for key in keys {
        if !is_slug(key) {
            errors.push(file_error_field(
                &file.name,
                field,
                format!("`{key}` is not a valid key"),
            ));
        }
        if !seen.insert(key.to_owned()) {
            errors.push(file_error_field(
                &file.name,
                field,
                format!("`{key}` is defined twice"),
            ));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICE: &str = r#"code = "KU"
data_box = "abc1234"
email = "posta@example.cz"
phone = "+420 1"
web = "https://example.cz"
name = { cs = "Úřad", en = "Office" }
address = { cs = "Ulice 1", en = "Street 1" }
office_hours = [{ days = { cs = "Po", en = "Mon" }, hours = "8–17" }]
"#;
    const AGENDAS: &str = r#"[[agenda]]
key = "grants"
name = { cs = "Dotace", en = "Grants" }
department = { cs = "Odbor", en = "Department" }
"#;
    const SITUATIONS: &str = r#"[[situation]]
key = "housing"
name = { cs = "Bydlení", en = "Housing" }
summary = { cs = "B", en = "H" }
"#;
    const SERVICE: &str = r#"slug = "good"
agenda = "grants"
applicant_types = ["citizen"]
life_situations = ["housing"]
channel = "online"
popularity = 5
processing_days = 30
legal_basis = ["Zákon č. 1/2000 Sb."]
name = { cs = "Dobrá", en = "Good" }
summary = { cs = "Shrnutí", en = "Summary" }
description = { cs = "Popis", en = "Description" }
contact = { email = "a@b.cz", phone = "+420 2" }
"#;

    fn source(services: &[(&str, String)]) -> ContentSource {
        let file = |name: &str, text: &str| ContentFile {
            name: name.to_owned(),
            text: text.to_owned(),
        };
        ContentSource {
            office: file("office.toml", OFFICE),
            agendas: file("agendas.toml", AGENDAS),
            situations: file("life-situations.toml", SITUATIONS),
            services: services
                .iter()
                .map(|(name, text)| file(&format!("services/{name}.toml"), text))
                .collect(),
        }
    }

    fn errors(name: &str, text: String) -> Vec<ContentError> {
        source(&[(name, text)]).validate().unwrap_err().0
    }

    fn one_error(name: &str, text: String) -> ContentError {
        let mut e = errors(name, text);
        assert_eq!(e.len(), 1, "{e:?}");
        e.remove(0)
    }

    #[test]
    fn a_valid_service_loads() {
        let data = source(&[("good", SERVICE.into())]).validate().unwrap();
        let s = &data.services[0];
        assert_eq!(s.slug, "good");
        assert_eq!(s.channel, Channel::Online);
        assert_eq!(s.level_of_assurance, "substantial", "the default level");
        assert_eq!(s.applicant_types, vec![ApplicantType::Citizen]);
        assert_eq!(s.fee, None);
        assert_eq!(data.sources, vec!["services/good.toml".to_owned()]);
    }

    #[test]
    fn unknown_fields_name_the_field_and_line() {
        let e = one_error(
            "good",
            SERVICE.replace("popularity = 5", "popularity = 5\npopularty = 6"),
        );
        assert_eq!(
            (e.file.as_str(), e.line, e.field.as_str()),
            ("services/good.toml", 7, "popularty")
        );
        assert!(e.message.contains("unknown field"), "{e}");
    }

    #[test]
    fn a_missing_translation_names_the_table_and_language() {
        let e = one_error(
            "good",
            SERVICE
                .replace(
                    r#"name = { cs = "Dobrá", en = "Good" }"#,
                    "[name]\ncs = \"Dobrá\"",
                )
                .replace("summary = {", "[other]\nsummary = {"),
        );
        // Reported where the table starts, with the missing key.
        assert!(e.message.contains("missing field `en`"), "{e}");
        assert!(e.field.ends_with("en"), "{e}");
        let e = one_error("good", SERVICE.replace(r#"en = "Summary""#, r#"en = " ""#));
        assert_eq!((e.line, e.field.as_str()), (10, "summary.en"));
    }

    #[test]
    fn levels_of_assurance_are_checked() {
        let e = one_error(
            "good",
            SERVICE.replace(
                "popularity = 5",
                "popularity = 5\nlevel_of_assurance = \"medium\"",
            ),
        );
        assert_eq!(e.field, "level_of_assurance");
        assert!(e.message.contains("medium"), "{e}");
    }

    #[test]
    fn unknown_keys_and_values_point_at_their_position() {
        let e = one_error(
            "good",
            SERVICE.replace(r#"agenda = "grants""#, r#"agenda = "astrology""#),
        );
        assert_eq!((e.line, e.column, e.field.as_str()), (2, 10, "agenda"));
        assert!(
            e.message.contains("astrology") && e.message.contains("grants"),
            "{e}"
        );
        let e = one_error(
            "good",
            SERVICE.replace(r#"["citizen"]"#, r#"["citizen", "alien"]"#),
        );
        assert_eq!((e.line, e.field.as_str()), (3, "applicant_types"));
        let e = one_error("good", SERVICE.replace(r#"["housing"]"#, r#"["space"]"#));
        assert_eq!((e.line, e.field.as_str()), (4, "life_situations"));
        let e = one_error("good", SERVICE.replace(r#""online""#, r#""fax""#));
        assert_eq!((e.line, e.field.as_str()), (5, "channel"));
        let e = one_error(
            "good",
            SERVICE.replace("popularity = 5", "popularity = 500"),
        );
        assert_eq!(e.field, "popularity");
        let e = one_error(
            "good",
            SERVICE.replace("processing_days = 30", "processing_days = 30\nfee_czk = -5"),
        );
        assert_eq!(e.field, "fee_czk");
    }

    #[test]
    fn channel_and_in_person_section_must_agree() {
        let in_person = "\nin_person = { place = { cs = \"Tady\", en = \"Here\" } }\n";
        let e = one_error("good", format!("{SERVICE}{in_person}"));
        assert_eq!(e.field, "in_person");
        let e = one_error("good", SERVICE.replace(r#""online""#, r#""in_person""#));
        assert!(e.message.contains("[in_person]"), "{e}");
        let e = one_error(
            "good",
            format!(
                "{}{in_person}",
                SERVICE.replace(r#""online""#, r#""in_person""#)
            ),
        );
        assert_eq!(e.field, "in_person.reason");
        // `both` needs a place but no reason.
        source(&[(
            "good",
            format!("{}{in_person}", SERVICE.replace(r#""online""#, r#""both""#)),
        )])
        .validate()
        .unwrap();
    }

    #[test]
    fn slugs_must_be_valid_unique_and_match_the_file() {
        let e = one_error("other", SERVICE.into());
        assert!(
            e.message.contains("must equal the file name `other`"),
            "{e}"
        );
        let bad = errors(
            "Bad Slug",
            SERVICE.replace(r#"slug = "good""#, r#"slug = "Bad Slug""#),
        );
        assert!(
            bad.iter().any(|e| e.message.contains("is not a slug")),
            "{bad:?}"
        );
        let dup = source(&[("good", SERVICE.into()), ("good", SERVICE.into())])
            .validate()
            .unwrap_err()
            .0;
        assert!(
            dup.iter().any(|e| e.message.contains("already used")),
            "{dup:?}"
        );
    }

    #[test]
    fn long_summaries_and_syntax_errors_are_reported() {
        let long = "x".repeat(SUMMARY_MAX_CHARS + 1);
        let e = one_error(
            "good",
            SERVICE.replace(r#"cs = "Shrnutí""#, &format!(r#"cs = "{long}""#)),
        );
        assert_eq!(e.field, "summary.cs");
        let e = one_error("good", SERVICE.replace("popularity = 5", "popularity = "));
        assert_eq!(e.line, 6, "{e}");
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let all = source(&[
            ("good", SERVICE.replace(r#""online""#, r#""fax""#)),
            (
                "second",
                SERVICE
                    .replace(r#"slug = "good""#, r#"slug = "second""#)
                    .replace("grants", "nope"),
            ),
        ])
        .validate()
        .unwrap_err();
        assert_eq!(all.0.len(), 2, "{all}");
        let text = all.to_string();
        assert!(
            text.contains("services/good.toml:5:") && text.contains("services/second.toml:2:"),
            "{text}"
        );
    }

    #[test]
    fn the_shipped_content_is_valid() {
        let dir = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test"))
            .join("../../content");
        let data = ContentSource::read_dir(&dir).unwrap().validate().unwrap();
        assert!(data.services.len() >= 40);
        for slug in [
            "kotlikova-dotace",
            "verejna-sbirka",
            "zapisovy-listek",
            "predani-zdravotnicke-dokumentace",
            "osvedceni-stk",
            "czech-point",
            "overeni-podpisu",
            "statni-obcanstvi",
            "dotace-krizove-rizeni",
            "dotace-doprava",
            "dotace-kultura",
            "dotace-regionalni-rozvoj",
            "dotace-zdravotnictvi",
            "dotace-zivotni-prostredi",
        ] {
            assert!(
                data.services.iter().any(|s| s.slug == slug),
                "{slug} missing"
            );
        }
        for slug in ["czech-point", "overeni-podpisu", "statni-obcanstvi"] {
            let s = data.services.iter().find(|s| s.slug == slug).unwrap();
            assert_eq!(s.channel, Channel::InPerson, "{slug}");
        }
    }
}
