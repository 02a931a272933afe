//! The status workflow of an agenda's case files, as data (`content/back-office/workflows/
//! <key>.toml`): its states, the transitions between them and who may take each. The code
//! knows only a few *actions* that transitions can carry, because they do more than change
//! the state: asking the applicant for missing items (with a deadline), the applicant's
//! answer, and a decision. Everything else — names, order, extra review steps, who may move a
//! case — is the agenda's choice.
//!
//! A definition is checked when it is loaded, so that a case can never reach a state it
//! cannot leave, or wait for an answer no transition expects.

use crate::access::StaffRole;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use urad_core::content::{file_error_field, parse, ContentError, ContentFile};
use urad_core::Text;

/// What a transition does besides changing the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// An official asks the applicant for missing items, with a deadline.
    RequestCompletion,
    /// The applicant answered a completion request through the portal. Taken by the system,
    /// never by staff.
    CompletionAnswered,
    /// The completion request's deadline passed unanswered. Taken by the system.
    CompletionLapsed,
    /// A decision is issued (approve, reject or stop), as a document delivered to the
    /// applicant.
    Decide,
}

/// The kinds of decision (rozhodnutí) an official can issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// The application is granted (vyhověno).
    Approve,
    /// The application is refused (zamítnuto).
    Reject,
    /// The proceedings are stopped (zastaveno), e.g. when items were not completed in time.
    Stop,
}

impl DecisionKind {
    pub fn code(self) -> &'static str {
        match self {
            DecisionKind::Approve => "approve",
            DecisionKind::Reject => "reject",
            DecisionKind::Stop => "stop",
        }
    }
}

/// A state of a case file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub key: String,
    /// As officials see it.
    pub name: Text,
    /// As the applicant sees it in "My submissions"; the official name when not given.
    #[serde(default)]
    pub public_name: Option<Text>,
    /// A case in a final state is closed: its retention period starts.
    #[serde(default, rename = "final")]
    pub is_final: bool,
}

impl State {
    pub fn public_name(&self) -> &Text {
        self.public_name.as_ref().unwrap_or(&self.name)
    }
}

/// A move from one of several states to another.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub key: String,
    /// The button's label.
    pub name: Text,
    pub from: Vec<String>,
    pub to: String,
    /// Staff roles that may take it; empty for transitions the system takes.
    #[serde(default)]
    pub roles: Vec<StaffRole>,
    #[serde(default)]
    pub action: Option<Action>,
    /// The decision a `decide` transition issues.
    #[serde(default)]
    pub decision: Option<DecisionKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowFile {
    key: String,
    name: Text,
    initial: String,
    #[serde(rename = "state")]
    states: Vec<State>,
    #[serde(rename = "transition")]
    transitions: Vec<Transition>,
}

/// A checked workflow.
#[derive(Clone, Debug)]
pub struct Workflow {
    pub key: String,
    pub name: Text,
    pub initial: String,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
}

impl Workflow {
    /// Parses and checks one workflow file; every problem is recorded in `errors`.
    pub fn load(file: &ContentFile, errors: &mut Vec<ContentError>) -> Option<Workflow> {
        let raw: WorkflowFile = parse(file, errors)?;
        let before = errors.len();
        let mut problem = |field: &str, message: String| {
            errors.push(file_error_field(&file.name, field, message));
        };

        let mut keys = BTreeSet::new();
        for s in &raw.states {
            if !valid_key(&s.key) {
                problem(
                    "state.key",
                    format!("`{}` is not a key (a-z, 0-9, -)", s.key),
                );
            }
            if !keys.insert(s.key.as_str()) {
                problem("state.key", format!("state `{}` is defined twice", s.key));
            }
        }
        if !keys.contains(raw.initial.as_str()) {
            problem(
                "initial",
                format!("`{}` is not one of the states", raw.initial),
            );
        }
        let mut transition_keys = BTreeSet::new();
        for t in &raw.transitions {
            let field = |f: &str| format!("transition.{}.{f}", t.key);
            if !transition_keys.insert(t.key.as_str()) {
                problem(
                    "transition.key",
                    format!("transition `{}` is defined twice", t.key),
                );
            }
            for from in t.from.iter().chain([&t.to]) {
                if !keys.contains(from.as_str()) {
                    problem(&field("from"), format!("`{from}` is not one of the states"));
                }
            }
            if t.from.is_empty() {
                problem(&field("from"), "names no state".into());
            }
            for from in &t.from {
                if raw.states.iter().any(|s| &s.key == from && s.is_final) {
                    problem(
                        &field("from"),
                        format!("`{from}` is final: a closed case does not move"),
                    );
                }
            }
            let by_system = matches!(
                t.action,
                Some(Action::CompletionAnswered | Action::CompletionLapsed)
            );
            if by_system && !t.roles.is_empty() {
                problem(
                    &field("roles"),
                    "the system takes this transition; it has no roles".into(),
                );
            }
            if !by_system && t.roles.is_empty() {
                problem(&field("roles"), "names no role that may take it".into());
            }
            match (t.action, t.decision) {
                (Some(Action::Decide), None) => problem(
                    &field("decision"),
                    "a `decide` transition names its decision".into(),
                ),
                (a, Some(_)) if a != Some(Action::Decide) => problem(
                    &field("decision"),
                    "only a `decide` transition issues a decision".into(),
                ),
                _ => {}
            }
        }

        // A completion request needs its answer and its lapse to leave the waiting state.
        for t in raw
            .transitions
            .iter()
            .filter(|t| t.action == Some(Action::RequestCompletion))
        {
            for needed in [Action::CompletionAnswered, Action::CompletionLapsed] {
                if !raw
                    .transitions
                    .iter()
                    .any(|o| o.action == Some(needed) && o.from.contains(&t.to))
                {
                    problem(
                        &format!("transition.{}.to", t.key),
                        format!(
                            "state `{}` waits for the applicant, but no `{}` transition leaves it",
                            t.to,
                            action_code(needed)
                        ),
                    );
                }
            }
        }

        // Every state is reachable from the initial one, and every state that is not final
        // can be left: no case is stuck.
        let mut reached = BTreeSet::from([raw.initial.as_str()]);
        let mut frontier = vec![raw.initial.as_str()];
        while let Some(state) = frontier.pop() {
            for t in raw
                .transitions
                .iter()
                .filter(|t| t.from.iter().any(|f| f == state))
            {
                if reached.insert(t.to.as_str()) {
                    frontier.push(t.to.as_str());
                }
            }
        }
        for s in &raw.states {
            if !reached.contains(s.key.as_str()) {
                problem(
                    "state",
                    format!("state `{}` cannot be reached from `{}`", s.key, raw.initial),
                );
            }
            if !s.is_final && !raw.transitions.iter().any(|t| t.from.contains(&s.key)) {
                problem(
                    "state",
                    format!(
                        "state `{}` is not final, but no transition leaves it",
                        s.key
                    ),
                );
            }
        }
        if !raw.states.iter().any(|s| s.is_final) {
            problem(
                "state",
                "no state is final: no case could ever be closed".into(),
            );
        }

        (errors.len() == before).then_some(Workflow {
            key: raw.key,
            name: raw.name,
            initial: raw.initial,
            states: raw.states,
            transitions: raw.transitions,
        })
    }

    pub fn state(&self, key: &str) -> Option<&State> {
        self.states.iter().find(|s| s.key == key)
    }

    pub fn transition(&self, key: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.key == key)
    }

    /// The transitions staff with `roles` may take from `state`.
    pub fn available<'w>(
        &'w self,
        state: &'w str,
        roles: &'w [StaffRole],
    ) -> impl Iterator<Item = &'w Transition> + 'w {
        self.transitions.iter().filter(move |t| {
            t.from.iter().any(|f| f == state) && t.roles.iter().any(|r| roles.contains(r))
        })
    }

    /// The transition the system takes from `state` for `action` (an answer or a lapse).
    pub fn system_transition(&self, state: &str, action: Action) -> Option<&Transition> {
        self.transitions
            .iter()
            .find(|t| t.action == Some(action) && t.from.iter().any(|f| f == state))
    }
}

fn action_code(a: Action) -> &'static str {
    match a {
        Action::RequestCompletion => "request_completion",
        Action::CompletionAnswered => "completion_answered",
        Action::CompletionLapsed => "completion_lapsed",
        Action::Decide => "decide",
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Workflows by key.
pub type Workflows = BTreeMap<String, Workflow>;

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Workflow, Vec<String>> {
        let file = ContentFile {
            name: "w.toml".into(),
            text: text.into(),
        };
        let mut errors = Vec::new();
        Workflow::load(&file, &mut errors).ok_or_else(|| {
            errors
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect()
        })
    }

    const SHIPPED: &str =
        include_str!("../../../content/back-office/workflows/administrative-procedure.toml");

    #[test]
    fn the_shipped_workflow_loads_and_offers_each_role_its_moves() {
        let w = load(SHIPPED).unwrap();
        assert_eq!(w.initial, "received");
        let official = [StaffRole::Official];
        let moves: Vec<&str> = w
            .available("received", &official)
            .map(|t| t.key.as_str())
            .collect();
        assert_eq!(moves, ["start", "stop"]);
        let moves: Vec<&str> = w
            .available("in-progress", &official)
            .map(|t| t.key.as_str())
            .collect();
        assert!(moves.contains(&"request-completion") && moves.contains(&"approve"));
        // A registry clerk moves no case; nobody takes the system's transitions by hand.
        assert_eq!(
            w.available("in-progress", &[StaffRole::RegistryClerk])
                .count(),
            0
        );
        assert_eq!(
            w.available(
                "awaiting-completion",
                &[StaffRole::Official, StaffRole::AgendaLead]
            )
            .count(),
            0
        );
        let answered = w
            .system_transition("awaiting-completion", Action::CompletionAnswered)
            .unwrap();
        assert_eq!(answered.to, "in-progress");
        assert!(w.state("approved").unwrap().is_final);
    }

    #[test]
    fn broken_workflows_are_refused_with_every_problem_named() {
        let broken = SHIPPED
            .replace("initial = \"received\"", "initial = \"nowhere\"")
            .replace("action = \"completion_lapsed\"", "action = \"decide\"");
        let errors = load(&broken).unwrap_err();
        let text = errors.join("\n");
        assert!(
            text.contains("initial: `nowhere` is not one of the states"),
            "{text}"
        );
        assert!(
            text.contains("no `completion_lapsed` transition leaves it"),
            "{text}"
        );
        assert!(
            text.contains("names its decision") || text.contains("has no roles"),
            "{text}"
        );
    }

    #[test]
    fn a_state_nobody_can_leave_or_reach_is_refused() {
        let text = r#"
key = "w"
name = { cs = "W", en = "W" }
initial = "a"
[[state]]
key = "a"
name = { cs = "A", en = "A" }
[[state]]
key = "b"
name = { cs = "B", en = "B" }
[[state]]
key = "island"
name = { cs = "I", en = "I" }
final = true
[[transition]]
key = "go"
name = { cs = "Jdi", en = "Go" }
from = ["a"]
to = "b"
roles = ["official"]
"#;
        let errors = load(text).unwrap_err().join("\n");
        assert!(
            errors.contains("state `b` is not final, but no transition leaves it"),
            "{errors}"
        );
        assert!(
            errors.contains("state `island` cannot be reached from `a`"),
            "{errors}"
        );
    }

    #[test]
    fn a_final_state_does_not_move_and_system_moves_have_no_roles() {
        let text = SHIPPED.replacen(
            "from = [\"in-progress\"]\nto = \"approved\"",
            "from = [\"approved\"]\nto = \"in-progress\"",
            1,
        );
        let errors = load(&text).unwrap_err().join("\n");
        assert!(errors.contains("`approved` is final"), "{errors}");
        let text = SHIPPED.replacen(
            "action = \"completion_answered\"",
            "action = \"completion_answered\"\nroles = [\"official\"]",
            1,
        );
        let errors = load(&text).unwrap_err().join("\n");
        assert!(
            errors.contains("the system takes this transition; it has no roles"),
            "{errors}"
        );
    }

    #[test]
    fn an_unknown_field_or_role_is_an_error_not_ignored() {
        let text = SHIPPED.replacen("roles = [\"official\"", "roles = [\"janitor\"", 1);
        assert!(load(&text).is_err());
        let text = SHIPPED.replacen("initial =", "colour = \"red\"\ninitial =", 1);
        let errors = load(&text).unwrap_err().join("\n");
        assert!(errors.contains("colour"), "{errors}");
    }
}
