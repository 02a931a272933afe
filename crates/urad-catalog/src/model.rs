//! The catalogue as the rest of urad sees it: validated, both languages present.

use serde::{Deserialize, Serialize};
use urad_core::{ApplicantType, Channel, Czk, Text};

/// The office that runs the portal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Office {
    pub code: String,
    pub data_box: String,
    pub email: String,
    pub phone: String,
    pub web: String,
    pub name: Text,
    pub address: Text,
    pub office_hours: Vec<OfficeHours>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeHours {
    pub days: Text,
    pub hours: String,
}

/// An area of the office's work, handled by one department.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agenda {
    pub key: String,
    pub name: Text,
    pub department: Text,
}

/// What happens in a person's life that leads them to the office.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifeSituation {
    pub key: String,
    pub name: Text,
    pub summary: Text,
}

/// One service of the office.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub slug: String,
    pub agenda: String,
    pub applicant_types: Vec<ApplicantType>,
    pub life_situations: Vec<String>,
    pub channel: Channel,
    pub popularity: u8,
    /// Expected processing time in calendar days; 0 means on the spot.
    pub processing_days: u32,
    pub fee: Option<Czk>,
    pub fee_note: Option<Text>,
    pub legal_basis: Vec<String>,
    pub keywords: Vec<String>,
    pub documents: Vec<Text>,
    pub name: Text,
    pub summary: Text,
    pub description: Text,
    pub in_person: Option<InPerson>,
    pub contact: Contact,
    /// The eIDAS level of assurance the online service needs: `low`, `substantial` or
    /// `high`; a session below it steps up before the service starts.
    #[serde(default = "substantial")]
    pub level_of_assurance: String,
}

fn substantial() -> String {
    "substantial".into()
}

/// Why and where a service is used at the office.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InPerson {
    /// Why a visit is needed; required for services that are in person only.
    pub reason: Option<Text>,
    pub place: Text,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub email: String,
    pub phone: String,
    pub office_hours: Option<Text>,
}

impl Service {
    /// Paragraphs of the description in one language.
    pub fn paragraphs(&self, lang: urad_core::Lang) -> impl Iterator<Item = &str> {
        self.description
            .get(lang)
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }
}

/// The whole catalogue: what `urad seed` loads and the portal serves.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogData {
    pub office: Office,
    pub agendas: Vec<Agenda>,
    pub situations: Vec<LifeSituation>,
    pub services: Vec<Service>,
    /// Content file each service came from, as shown in error messages.
    pub sources: Vec<String>,
}
