//! Registry facts the rules need, behind traits: the property registry (who owns a building)
//! and the register of grants paid earlier. A region configures its production adapters (the
//! land register's and its own grant records' services); the demo, the tests and the what-if
//! replay use [`FileRegistry`], a JSON file in the replay's `REGISTRY.json` format.
//!
//! A lookup that fails, times out or has no answer is [`RegistryError`]: the robot then stops
//! for that application (`manual_review`) and never guesses.

use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

/// What a lookup returns: its answer later, or why there is none.
pub type Lookup<'a, T> = Pin<Box<dyn Future<Output = Result<T, RegistryError>> + Send + 'a>>;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("the registry did not answer: {0}")]
    Unavailable(String),
    #[error("the registry has no record of building {0}")]
    NoAnswer(String),
}

/// The property registry (katastr nemovitostí): the owners of a building.
pub trait PropertyRegistry: Send + Sync {
    fn owners<'a>(&'a self, building_id: &'a str) -> Lookup<'a, Vec<String>>;
}

/// The register of grants paid earlier: was a boiler grant paid for this building.
pub trait GrantHistory: Send + Sync {
    fn boiler_grant_paid<'a>(&'a self, building_id: &'a str) -> Lookup<'a, bool>;
}

/// What the rules read as `registry.…` for one application's building.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BuildingFacts {
    pub owners: Vec<String>,
    pub past_boiler_grant: bool,
}

/// Both lookups for one building; the first that fails decides.
pub async fn building_facts(
    property: &dyn PropertyRegistry,
    grants: &dyn GrantHistory,
    building_id: &str,
) -> Result<BuildingFacts, RegistryError> {
    Ok(BuildingFacts {
        owners: property.owners(building_id).await?,
        past_boiler_grant: grants.boiler_grant_paid(building_id).await?,
    })
}

/// Registry facts from a file; for the demo, tests and the what-if replay. A building listed
/// under `unavailable` answers as if the registry were down; a building without owners in the
/// file is one the registry has no record of, which is not an answer either.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRegistry {
    #[serde(default)]
    owners: HashMap<String, Vec<String>>,
    #[serde(default)]
    past_boiler_grants: HashSet<String>,
    #[serde(default)]
    unavailable: HashSet<String>,
}

impl FileRegistry {
    /// Reads `{"owners": {...}, "past_boiler_grants": [...], "unavailable": [...]}`.
    pub fn from_json(text: &str) -> Result<FileRegistry, String> {
        crate::application::from_json(&mut serde_json::Deserializer::from_str(text))
    }

    /// The facts for a building, at once (the file is in memory).
    pub fn facts(&self, building_id: &str) -> Result<BuildingFacts, RegistryError> {
        if self.unavailable.contains(building_id) {
            return Err(RegistryError::Unavailable(format!(
                "building {building_id} is marked unavailable"
            )));
        }
        let owners = self
            .owners
            .get(building_id)
            .ok_or_else(|| RegistryError::NoAnswer(building_id.to_owned()))?;
        Ok(BuildingFacts {
            owners: owners.clone(),
            past_boiler_grant: self.past_boiler_grants.contains(building_id),
        })
    }
}

impl PropertyRegistry for FileRegistry {
    fn owners<'a>(&'a self, building_id: &'a str) -> Lookup<'a, Vec<String>> {
        Box::pin(async move { self.facts(building_id).map(|f| f.owners) })
    }
}

impl GrantHistory for FileRegistry {
    fn boiler_grant_paid<'a>(&'a self, building_id: &'a str) -> Lookup<'a, bool> {
        Box::pin(async move {
            if self.unavailable.contains(building_id) {
                return Err(RegistryError::Unavailable(format!(
                    "building {building_id} is marked unavailable"
                )));
            }
            Ok(self.past_boiler_grants.contains(building_id))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_answers_marks_outages_and_knows_what_it_does_not_know() {
        let r = FileRegistry::from_json(
            r#"{"owners": {"B1": ["P1", "P2"], "B2": ["P3"]}, "past_boiler_grants": ["B2"], "unavailable": ["B3"]}"#,
        )
        .unwrap();
        assert_eq!(
            r.facts("B1").unwrap(),
            BuildingFacts {
                owners: vec!["P1".into(), "P2".into()],
                past_boiler_grant: false
            }
        );
        assert!(r.facts("B2").unwrap().past_boiler_grant);
        assert!(matches!(r.facts("B3"), Err(RegistryError::Unavailable(_))));
        assert!(matches!(r.facts("B4"), Err(RegistryError::NoAnswer(_))));
        let e = FileRegistry::from_json(r#"{"owners": {"B1": "P1"}}"#).unwrap_err();
        assert!(e.contains("owners.B1"), "{e}");
        let e = FileRegistry::from_json(r#"{"owner": {}}"#).unwrap_err();
        assert!(e.contains("unknown field `owner`"), "{e}");
    }
}
