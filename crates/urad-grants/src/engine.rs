//! The decision engine the live robot and the what-if replay share: one application at a
//! time, in receipt order, against a call's [`Allocation`] (budget left, reserve list, the
//! buildings seen so far). Deterministic: the same programme, call, registry facts and
//! applications give the same decisions.

use crate::application::Application;
use crate::expr::{self, Expression};
use crate::programme::{Call, Programme};
use crate::registry::{BuildingFacts, RegistryError};
use cel_interpreter::{Context, Value};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Outside `[opens_at, closes_at)`: refused, not checked further, not an earlier application.
pub const OUTSIDE_CALL_WINDOW: &str = "outside_call_window";
/// A registry lookup failed or had no answer: a person decides.
pub const REGISTRY_UNAVAILABLE: &str = "registry_unavailable";
/// An expression could not be evaluated on this application: a person decides.
pub const EVALUATION_ERROR: &str = "evaluation_error";
/// The prefix of a missing attachment's reason: `missing_attachment:old_boiler_photo`.
pub const MISSING_ATTACHMENT: &str = "missing_attachment:";
/// The completion deadline passed without the missing attachments (the live robot's reason).
pub const COMPLETION_DEADLINE_MISSED: &str = "completion_deadline_missed";

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Reserve,
    NeedsCompletion,
    Rejected,
    ManualReview,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Reserve => "reserve",
            Outcome::NeedsCompletion => "needs_completion",
            Outcome::Rejected => "rejected",
            Outcome::ManualReview => "manual_review",
        }
    }
}

/// What the engine decided for one application, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub application_id: String,
    pub sequence: i64,
    pub outcome: Outcome,
    /// Granted, reserved or that it would get; 0 when rejected.
    pub amount_czk: i64,
    /// Failed rules' reason codes in the programme's order, or missing attachments, or
    /// `registry_unavailable`; empty when approved.
    pub reasons: Vec<String>,
    /// Whether it holds part of the budget (approved, waiting for completion, or in manual
    /// review with its amount set aside).
    pub holds_budget: bool,
    /// Every check in order with the values it saw; empty unless asked for.
    pub trace: Vec<Step>,
}

/// One check of a trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// A reason code, `attachment:<kind>`, `amount` or `budget`.
    pub check: String,
    pub result: StepResult,
    pub values: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "is", content = "detail")]
pub enum StepResult {
    Passed,
    Failed,
    /// Needs the registry, which did not answer.
    NotChecked,
    Value(i64),
    Error(String),
}

/// An application on the reserve list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub application_id: String,
    pub sequence: i64,
    pub amount_czk: i64,
}

/// The state of a call's queue between applications.
#[derive(Clone, Debug, Default)]
pub struct Allocation {
    pub remaining_czk: i64,
    /// In receipt order. Once it has one application, every later eligible one joins it.
    pub reserve: Vec<Waiting>,
    buildings_seen: HashSet<String>,
}

impl Allocation {
    pub fn new(budget_czk: i64) -> Allocation {
        Allocation {
            remaining_czk: budget_czk,
            ..Allocation::default()
        }
    }

    /// Budget comes back (a completion deadline missed, an override): the first applications
    /// on the reserve list that now fit get it, in receipt order. Returns those promoted.
    pub fn release(&mut self, amount_czk: i64) -> Vec<Waiting> {
        self.remaining_czk += amount_czk;
        let mut promoted = Vec::new();
        while let Some(i) = self
            .reserve
            .iter()
            .position(|w| w.amount_czk <= self.remaining_czk)
        {
            let waiting = self.reserve.remove(i);
            self.remaining_czk -= waiting.amount_czk;
            promoted.push(waiting);
        }
        promoted
    }

    /// Marks a building as having an application in the call (for restoring a robot's
    /// state from what it recorded).
    pub fn saw_building(&mut self, building_id: &str) -> bool {
        !self.buildings_seen.insert(building_id.to_owned())
    }
}

/// A programme's rules bound to one call.
pub struct Engine<'p> {
    pub programme: &'p Programme,
    pub call: Call,
    root: Context<'p>,
    prague: jiff::tz::TimeZone,
}

impl<'p> Engine<'p> {
    pub fn new(programme: &'p Programme, call: Call) -> Engine<'p> {
        Engine {
            root: call_context(programme, &call),
            programme,
            call,
            prague: jiff::tz::TimeZone::get("Europe/Prague").expect("the bundled tzdb has Prague"),
        }
    }

    /// The calendar day of an instant in Europe/Prague.
    pub fn day_of(&self, instant: jiff::Timestamp) -> jiff::civil::Date {
        instant.to_zoned(self.prague.clone()).date()
    }

    /// Decides one application. Call in receipt order: `state` carries the budget, the reserve
    /// list and the buildings seen from one application to the next.
    pub fn decide(
        &self,
        state: &mut Allocation,
        application: &Application,
        facts: Result<&BuildingFacts, &RegistryError>,
        decision_date: jiff::civil::Date,
        with_trace: bool,
    ) -> Decision {
        let mut decision = Decision {
            application_id: application.application_id.clone(),
            sequence: application.sequence,
            outcome: Outcome::Rejected,
            amount_czk: 0,
            reasons: Vec::new(),
            holds_budget: false,
            trace: Vec::new(),
        };
        if !self.call.receives_at(application.received_at) {
            decision.reasons.push(OUTSIDE_CALL_WINDOW.into());
            return decision;
        }
        let earlier = state.saw_building(&application.building.building_id);
        let facts = facts.ok();
        let context = application_context(
            &self.root,
            application,
            facts,
            earlier,
            &self.day_of(application.received_at).to_string(),
            &decision_date.to_string(),
        );
        let mut trace = Trace {
            on: with_trace,
            steps: Vec::new(),
            context: &context,
        };

        // Eligibility: every rule, each failure listed; those needing the registry only when
        // it answered.
        let mut failed = Vec::new();
        let mut errors = Vec::new();
        for rule in &self.programme.eligibility {
            if facts.is_none() && rule.expression.reads_name("registry") {
                trace.step(&rule.reason, StepResult::NotChecked, &rule.expression);
                continue;
            }
            match rule.expression.evaluate_bool(&context) {
                Ok(true) => trace.step(&rule.reason, StepResult::Passed, &rule.expression),
                Ok(false) => {
                    trace.step(&rule.reason, StepResult::Failed, &rule.expression);
                    failed.push(rule.reason.clone());
                }
                Err(e) => {
                    trace.step(&rule.reason, StepResult::Error(e), &rule.expression);
                    errors.push(rule.reason.clone());
                }
            }
        }
        if !failed.is_empty() {
            decision.reasons = failed;
            decision.trace = trace.steps;
            return decision;
        }
        let amount = if facts.is_none() && self.programme.amount.reads_name("registry") {
            trace.step("amount", StepResult::NotChecked, &self.programme.amount);
            None
        } else {
            match self.programme.amount.evaluate_int(&context) {
                Ok(n) if n >= 0 => {
                    trace.step("amount", StepResult::Value(n), &self.programme.amount);
                    Some(n)
                }
                Ok(n) => {
                    let e = format!("gives a negative amount {n}");
                    trace.step("amount", StepResult::Error(e), &self.programme.amount);
                    errors.push("amount".into());
                    None
                }
                Err(e) => {
                    trace.step("amount", StepResult::Error(e), &self.programme.amount);
                    errors.push("amount".into());
                    None
                }
            }
        };
        let mut missing = Vec::new();
        for a in &self.programme.attachments {
            let check = format!("attachment:{}", a.kind);
            if facts.is_none() && a.required_when.reads_name("registry") {
                trace.step(&check, StepResult::NotChecked, &a.required_when);
                continue;
            }
            let required = match a.required_when.evaluate_bool(&context) {
                Ok(required) => required,
                Err(e) => {
                    trace.step(&check, StepResult::Error(e), &a.required_when);
                    errors.push(check);
                    continue;
                }
            };
            let present = application
                .attachments
                .iter()
                .any(|x| x.kind == a.kind && a.media_types.contains(&x.media_type));
            let result = if !required || present {
                StepResult::Passed
            } else {
                missing.push(format!("{MISSING_ATTACHMENT}{}", a.kind));
                StepResult::Failed
            };
            trace.step(&check, result, &a.required_when);
        }
        let steps = trace.steps;
        decision.trace = steps;
        if !errors.is_empty() {
            // Never a guess: a person looks at it; it takes no budget.
            decision.outcome = Outcome::ManualReview;
            decision.reasons = errors
                .into_iter()
                .map(|check| format!("{EVALUATION_ERROR}:{check}"))
                .collect();
            return decision;
        }
        let Some(amount) = amount else {
            decision.outcome = Outcome::ManualReview;
            decision.reasons = vec![REGISTRY_UNAVAILABLE.into()];
            return decision;
        };
        decision.amount_czk = amount;
        let fits = state.reserve.is_empty() && amount <= state.remaining_czk;
        if with_trace {
            decision.trace.push(Step {
                check: "budget".into(),
                result: if fits {
                    StepResult::Passed
                } else {
                    StepResult::Failed
                },
                values: BTreeMap::from([
                    ("remaining_czk".into(), state.remaining_czk.into()),
                    ("reserve_list".into(), state.reserve.len().into()),
                ]),
            });
        }
        if fits {
            state.remaining_czk -= amount;
            decision.holds_budget = true;
        } else {
            state.reserve.push(Waiting {
                application_id: application.application_id.clone(),
                sequence: application.sequence,
                amount_czk: amount,
            });
        }
        (decision.outcome, decision.reasons) = match (facts.is_some(), fits, missing.is_empty()) {
            (false, _, _) => (Outcome::ManualReview, vec![REGISTRY_UNAVAILABLE.into()]),
            (true, true, true) => (Outcome::Approved, Vec::new()),
            (true, true, false) => (Outcome::NeedsCompletion, missing),
            (true, false, _) => (Outcome::Reserve, missing),
        };
        decision
    }
}

struct Trace<'c, 'a> {
    on: bool,
    steps: Vec<Step>,
    context: &'c Context<'a>,
}

impl Trace<'_, '_> {
    fn step(&mut self, check: &str, result: StepResult, expression: &Expression) {
        if self.on {
            self.steps.push(Step {
                check: check.to_owned(),
                result,
                values: expression.values_seen(self.context),
            });
        }
    }
}

/// The context shared by every application of a call: functions, `programme`, `call`.
pub fn call_context<'a>(programme: &Programme, call: &Call) -> Context<'a> {
    let mut context = expr::root_context();
    context.add_variable_from_value("programme", expr::cel_value(&programme.parameters));
    context.add_variable_from_value(
        "call",
        expr::cel_value(&serde_json::json!({
            "id": call.id,
            "opens_at": call.opens_at.to_string(),
            "closes_at": call.closes_at.to_string(),
            "budget_czk": call.budget_czk,
            "priority_municipalities": call.priority_municipalities,
        })),
    );
    context
}

/// One application's context: `application`, `registry` (when it answered), `queue`,
/// `received_on`, `decision_date`.
pub fn application_context<'c>(
    root: &'c Context<'c>,
    application: &Application,
    facts: Option<&BuildingFacts>,
    earlier_application_for_building: bool,
    received_on: &str,
    decision_date: &str,
) -> Context<'c> {
    let mut context = root.new_inner_scope();
    context.add_variable_from_value(
        "application",
        cel_interpreter::to_value(application).expect("an application converts to CEL"),
    );
    if let Some(facts) = facts {
        context.add_variable_from_value(
            "registry",
            cel_interpreter::to_value(facts).expect("facts convert to CEL"),
        );
    }
    context.add_variable_from_value(
        "queue",
        Value::Map(
            [(
                "earlier_application_for_building",
                Value::Bool(earlier_application_for_building),
            )]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
            .into(),
        ),
    );
    context.add_variable_from_value("received_on", received_on.to_owned());
    context.add_variable_from_value("decision_date", decision_date.to_owned());
    context
}
