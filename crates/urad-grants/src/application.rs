//! A grant application as the robot sees it: the form's data with what the filing office and
//! the identity gateway added (receipt instant and sequence, person id, birth date) and the
//! attachments' kinds and media types. Fields as in shared/domain/boiler-grant.md.
//!
//! Closed vocabularies are enums: an unknown value is bad input, named by line and field, never
//! a rule that silently fails.

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Application {
    pub application_id: String,
    #[serde(with = "instant")]
    pub received_at: jiff::Timestamp,
    pub sequence: i64,
    pub applicant: Applicant,
    pub building: Building,
    pub old_boiler: OldBoiler,
    pub new_source: NewSource,
    #[serde(deserialize_with = "non_negative")]
    pub eligible_costs_czk: i64,
    pub micro_measures: bool,
    pub attachments: Vec<Attachment>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Applicant {
    pub person_id: String,
    #[serde(deserialize_with = "date")]
    pub birth_date: String,
    pub permanent_address_building_id: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Building {
    pub building_id: String,
    #[serde(rename = "type")]
    pub kind: BuildingType,
    pub approved: bool,
    pub municipality_code: String,
    pub energy_class: EnergyClass,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct OldBoiler {
    pub fuel: Fuel,
    pub feeding: Feeding,
    pub emission_class: EmissionClass,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Attachment {
    pub kind: String,
    pub media_type: String,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BuildingType {
    FamilyHouse,
    Recreational,
    ApartmentBuilding,
    Other,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum EnergyClass {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Fuel {
    Coal,
    Wood,
    Combined,
    Gas,
    Oil,
    Electric,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Feeding {
    Manual,
    Automatic,
}

/// `1` … `5` or `unknown`; the form sends strings, other tools may send the digits as numbers.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub enum EmissionClass {
    #[serde(rename = "1")]
    One,
    #[serde(rename = "2")]
    Two,
    #[serde(rename = "3")]
    Three,
    #[serde(rename = "4")]
    Four,
    #[serde(rename = "5")]
    Five,
    #[serde(rename = "unknown")]
    Unknown,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NewSource {
    HeatPump,
    BiomassAutomatic,
    BiomassManual,
    GasCondensing,
    Coal,
    Combined,
}

impl<'de> Deserialize<'de> for EmissionClass {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(s) => s,
        };
        Ok(match text.as_str() {
            "1" => EmissionClass::One,
            "2" => EmissionClass::Two,
            "3" => EmissionClass::Three,
            "4" => EmissionClass::Four,
            "5" => EmissionClass::Five,
            "unknown" => EmissionClass::Unknown,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown value `{other}`, expected one of `1`, `2`, `3`, `4`, `5`, `unknown`"
                )))
            }
        })
    }
}

/// An RFC 3339 instant as text (`#[serde(with = "instant")]`).
pub(crate) mod instant {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<jiff::Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|e| {
            serde::de::Error::custom(format!("`{text}` is not an RFC 3339 instant: {e}"))
        })
    }

    pub fn serialize<S: Serializer>(t: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }
}

/// Reads JSON into `T`; an error names the field's path (`field `owners.B1`: …`).
pub fn from_json<'de, T: Deserialize<'de>>(
    json: impl Deserializer<'de, Error = serde_json::Error>,
) -> Result<T, String> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let path = e.path().to_string();
        format!("field `{path}`: {}", e.into_inner())
    })
}

fn date<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    match text.parse::<jiff::civil::Date>() {
        Ok(date) if date.to_string() == text => Ok(text),
        _ => Err(serde::de::Error::custom(format!(
            "`{text}` is not a date (YYYY-MM-DD)"
        ))),
    }
}

fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = i64::deserialize(d)?;
    if n < 0 {
        return Err(serde::de::Error::custom(format!("{n} is less than 0")));
    }
    Ok(n)
}

/// Bad input: where it is (1-based line; field path, when known) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
pub struct InputError {
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

/// Reads one application from a line of JSON.
pub fn parse_line(line_number: usize, line: &str) -> Result<Application, InputError> {
    let mut de = serde_json::Deserializer::from_str(line);
    let result: Result<Application, _> = serde_path_to_error::deserialize(&mut de);
    let application = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // serde names a missing field in the message, at the path of the record that lacks
        // it; the field's own path is what a person looks for.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        let field = match (missing, path.as_str()) {
            (Some(name), ".") => Some(name),
            (Some(name), parent) => Some(format!("{parent}.{name}")),
            (None, ".") => None,
            (None, path) => Some(path.to_owned()),
        };
        // serde_json appends "at line 1 column N"; the line is the file's, given above.
        let message = match message.rfind(" at line ") {
            Some(i) if inner.is_data() || inner.is_syntax() || inner.is_eof() => {
                message[..i].to_owned()
            }
            _ => message,
        };
        InputError {
            line: line_number,
            field,
            message,
        }
    })?;
    de.end().map_err(|e| InputError {
        line: line_number,
        field: None,
        message: format!("unexpected text after the application: {e}"),
    })?;
    Ok(application)
}

/// Reads a JSON Lines file of applications (blank lines skipped), all or nothing; sorted by
/// sequence. Two applications with one id or one sequence number are bad input.
pub fn parse_lines(text: &str) -> Result<Vec<Application>, InputError> {
    let mut applications = Vec::new();
    let mut ids = std::collections::HashMap::new();
    let mut sequences = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let application = parse_line(i + 1, line)?;
        if let Some(first) = ids.insert(application.application_id.clone(), i + 1) {
            return Err(InputError {
                line: i + 1,
                field: Some("application_id".into()),
                message: format!(
                    "`{}` is on line {first} already; each application once",
                    application.application_id
                ),
            });
        }
        if let Some(first) = sequences.insert(application.sequence, i + 1) {
            return Err(InputError {
                line: i + 1,
                field: Some("sequence".into()),
                message: format!(
                    "sequence {} is on line {first} already; the filing office gives each \
                     application its own",
                    application.sequence
                ),
            });
        }
        applications.push(application);
    }
    applications.sort_by_key(|a| a.sequence);
    Ok(applications)
}

impl Application {
    /// An application with every field, for the names expressions may use and for the
    /// loader's trial run of each expression.
    pub fn sample() -> Application {
        Application {
            application_id: "sample".into(),
            received_at: jiff::Timestamp::UNIX_EPOCH,
            sequence: 1,
            applicant: Applicant {
                person_id: "P1".into(),
                birth_date: "1980-01-01".into(),
                permanent_address_building_id: "B1".into(),
            },
            building: Building {
                building_id: "B1".into(),
                kind: BuildingType::FamilyHouse,
                approved: true,
                municipality_code: "554821".into(),
                energy_class: EnergyClass::D,
            },
            old_boiler: OldBoiler {
                fuel: Fuel::Coal,
                feeding: Feeding::Manual,
                emission_class: EmissionClass::One,
            },
            new_source: NewSource::HeatPump,
            eligible_costs_czk: 100_000,
            micro_measures: true,
            attachments: vec![Attachment {
                kind: "old_boiler_photo".into(),
                media_type: "image/jpeg".into(),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> serde_json::Value {
        serde_json::to_value(Application::sample()).unwrap()
    }

    fn error(value: serde_json::Value) -> InputError {
        parse_line(7, &value.to_string()).unwrap_err()
    }

    #[test]
    fn a_good_line_reads_back_the_same() {
        let a = parse_line(1, &line().to_string()).unwrap();
        assert_eq!(a, Application::sample());
        let mut numeric = line();
        numeric["old_boiler"]["emission_class"] = 2.into();
        assert_eq!(
            parse_line(1, &numeric.to_string())
                .unwrap()
                .old_boiler
                .emission_class,
            EmissionClass::Two
        );
    }

    #[test]
    fn bad_input_names_the_line_and_the_field() {
        let mut v = line();
        v["building"]["type"] = "castle".into();
        let e = error(v);
        assert_eq!((e.line, e.field.as_deref()), (7, Some("building.type")));
        assert!(
            e.message.contains("castle") && e.message.contains("family_house"),
            "{e}"
        );

        let mut v = line();
        v["old_boiler"].as_object_mut().unwrap().remove("fuel");
        let e = error(v);
        assert_eq!(e.field.as_deref(), Some("old_boiler.fuel"), "{e}");
        assert_eq!(
            e.to_string(),
            "line 7, field `old_boiler.fuel`: missing field `fuel`"
        );

        let mut v = line();
        v.as_object_mut().unwrap().remove("sequence");
        assert_eq!(error(v).field.as_deref(), Some("sequence"));

        let mut v = line();
        v["applicant"]["birth_date"] = "1980-02-30".into();
        assert_eq!(error(v).field.as_deref(), Some("applicant.birth_date"));

        let mut v = line();
        v["received_at"] = "yesterday".into();
        assert_eq!(error(v).field.as_deref(), Some("received_at"));

        let mut v = line();
        v["eligible_costs_czk"] = (-1).into();
        assert_eq!(error(v).field.as_deref(), Some("eligible_costs_czk"));

        let mut v = line();
        v["old_boiler"]["emission_class"] = "6".into();
        assert_eq!(error(v).field.as_deref(), Some("old_boiler.emission_class"));

        let e = parse_line(3, "{\"application_id\": ").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("EOF"), "{e}");
    }

    #[test]
    fn ids_and_sequences_are_unique_and_the_file_is_sorted() {
        let mut first = line();
        first["sequence"] = 5.into();
        let mut second = line();
        second["application_id"] = "other".into();
        second["sequence"] = 2.into();
        let text = format!("{first}\n\n{second}\n");
        let sorted = parse_lines(&text).unwrap();
        assert_eq!(
            sorted.iter().map(|a| a.sequence).collect::<Vec<_>>(),
            [2, 5]
        );

        second["application_id"] = "sample".into();
        let e = parse_lines(&format!("{first}\n{second}\n")).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("application_id")));
        second["application_id"] = "other".into();
        second["sequence"] = 5.into();
        let e = parse_lines(&format!("{first}\n{second}\n")).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("sequence")));
    }
}
