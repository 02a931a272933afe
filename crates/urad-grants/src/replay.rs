//! The what-if replay: `urad robot evaluate --call CALL.json --registry REGISTRY.json
//! APPLICATIONS.jsonl`, the live robot's engine over a file, before a call opens. Formats in
//! shared/domain/boiler-grant.md; in the replay the decision date is the day of receipt.

use crate::application::Application;
use crate::engine::{Allocation, Decision, Engine};
use crate::programme::{Call, Programme};
use crate::registry::FileRegistry;
use serde::{Deserialize, Serialize};

/// `CALL.json`: the programme, and values that override the programme's (first) call.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFile {
    pub programme: String,
    /// Which of the programme's calls to start from; the first when absent.
    #[serde(default)]
    pub call: Option<String>,
    #[serde(default)]
    pub opens_at: Option<String>,
    #[serde(default)]
    pub closes_at: Option<String>,
    #[serde(default)]
    pub budget_czk: Option<i64>,
    #[serde(default)]
    pub priority_municipalities: Option<Vec<String>>,
}

impl CallFile {
    pub fn from_json(text: &str) -> Result<CallFile, String> {
        crate::application::from_json(&mut serde_json::Deserializer::from_str(text))
    }

    /// The call to replay: the programme's, with this file's values over it.
    pub fn resolve(&self, programmes: &[Programme]) -> Result<(usize, Call), String> {
        let known = || {
            programmes
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let index = programmes
            .iter()
            .position(|p| p.id == self.programme)
            .ok_or_else(|| {
                format!(
                    "field `programme`: no programme `{}`; there are: {}",
                    self.programme,
                    known()
                )
            })?;
        let programme = &programmes[index];
        let base = match &self.call {
            Some(id) => programme
                .calls
                .iter()
                .find(|c| &c.id == id)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "field `call`: programme {} has no call `{id}`",
                        programme.id
                    )
                })?,
            None => programme.calls.first().cloned().unwrap_or_else(|| Call {
                id: format!("{}-replay", programme.id),
                name: programme.name.clone(),
                opens_at: jiff::Timestamp::MIN,
                closes_at: jiff::Timestamp::MAX,
                budget_czk: 0,
                priority_municipalities: Vec::new(),
            }),
        };
        let instant = |field: &str, text: &Option<String>, default: jiff::Timestamp| match text {
            None => Ok(default),
            Some(t) => t
                .parse()
                .map_err(|e| format!("field `{field}`: `{t}` is not an RFC 3339 instant: {e}")),
        };
        let call = Call {
            opens_at: instant("opens_at", &self.opens_at, base.opens_at)?,
            closes_at: instant("closes_at", &self.closes_at, base.closes_at)?,
            budget_czk: self.budget_czk.unwrap_or(base.budget_czk),
            priority_municipalities: self
                .priority_municipalities
                .clone()
                .unwrap_or_else(|| base.priority_municipalities.clone()),
            ..base
        };
        if call.budget_czk < 0 {
            return Err("field `budget_czk`: the budget cannot be negative".into());
        }
        if call.closes_at <= call.opens_at {
            return Err("field `closes_at`: the call closes before it opens".into());
        }
        Ok((index, call))
    }
}

/// One line of the replay's output.
#[derive(Serialize)]
pub struct DecisionLine<'a> {
    pub application_id: &'a str,
    pub sequence: i64,
    pub outcome: &'static str,
    pub amount_czk: i64,
    pub reasons: &'a [String],
}

impl<'a> From<&'a Decision> for DecisionLine<'a> {
    fn from(d: &'a Decision) -> Self {
        DecisionLine {
            application_id: &d.application_id,
            sequence: d.sequence,
            outcome: d.outcome.code(),
            amount_czk: d.amount_czk,
            reasons: &d.reasons,
        }
    }
}

/// Decides every application in receipt order.
pub fn evaluate(
    programme: &Programme,
    call: Call,
    registry: &FileRegistry,
    applications: &[Application],
) -> Vec<Decision> {
    let engine = Engine::new(programme, call);
    let mut state = Allocation::new(engine.call.budget_czk);
    applications
        .iter()
        .map(|application| {
            let facts = registry.facts(&application.building.building_id);
            let day = engine.day_of(application.received_at);
            engine.decide(&mut state, application, facts.as_ref(), day, false)
        })
        .collect()
}
