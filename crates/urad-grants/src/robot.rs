//! The live processing robot: decides every application received in a programme's call, in
//! receipt order, with the engine the what-if replay uses, and records each decision with its
//! full trace.
//!
//! Each round takes the next applications of a call after the last one decided (the filing
//! office's receipt sequences have no gaps and follow commit order), looks their buildings up
//! in the registries (a lookup that fails or takes too long is `manual_review`, never a
//! guess), and writes the batch's decisions together with the call's new position and budget
//! in one transaction guarded by the position it started from. A restart therefore repeats
//! and loses nothing; two robots on one database cannot both decide one application.

use crate::application::Application;
use crate::engine::{Allocation, Decision, Engine, Waiting};
use crate::programme::{Call, Programme};
use crate::registry::{building_facts, GrantHistory, PropertyRegistry, RegistryError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use urad_core::Clock;
use urad_store::statement::Row;
use urad_store::{sql, Db, StoreError};

/// Who decided, in `grant_decision.decided_by`, when it was the robot.
pub const ROBOT: &str = "robot";

/// The receipt-sequence scope of a call's applications in the filing office.
pub fn scope_of(call: &Call) -> String {
    format!("call:{}", call.id)
}

#[derive(Debug, thiserror::Error)]
pub enum RobotError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a recorded decision cannot be read: {0}")]
    Corrupt(String),
}

/// The robot with its programmes and registries. Keeps each call's allocation in memory
/// between rounds and reads it again from the database whenever the position moved elsewhere.
pub struct Robot {
    programmes: Arc<Vec<Programme>>,
    property: Arc<dyn PropertyRegistry>,
    grants: Arc<dyn GrantHistory>,
    lookup_timeout: Duration,
    queues: Mutex<HashMap<String, (i64, Allocation)>>,
}

impl Robot {
    pub fn new(
        programmes: Arc<Vec<Programme>>,
        property: Arc<dyn PropertyRegistry>,
        grants: Arc<dyn GrantHistory>,
        lookup_timeout: Duration,
    ) -> Robot {
        Robot {
            programmes,
            property,
            grants,
            lookup_timeout,
            queues: Mutex::new(HashMap::new()),
        }
    }

    pub fn programmes(&self) -> &[Programme] {
        &self.programmes
    }

    /// Decides up to `limit` applications of each call; returns how many it decided.
    pub async fn run_once(
        &self,
        db: &Db,
        clock: &dyn Clock,
        limit: i64,
    ) -> Result<usize, RobotError> {
        let mut decided = 0;
        for programme in self.programmes.iter() {
            for call in &programme.calls {
                decided += self.decide_call(db, clock, programme, call, limit).await?;
            }
        }
        Ok(decided)
    }

    async fn decide_call(
        &self,
        db: &Db,
        clock: &dyn Clock,
        programme: &Programme,
        call: &Call,
        limit: i64,
    ) -> Result<usize, RobotError> {
        let position = db
            .fetch_optional(
                sql("SELECT last_sequence FROM grant_call_state WHERE call_id = $1").bind(&call.id),
            )
            .await?
            .map(|r| r.get::<i64>("last_sequence"))
            .transpose()?;
        let last = position.unwrap_or(0);
        let rows = db
            .fetch_all(
                sql(
                    "SELECT id, sequence, received_at, person_id, data FROM submission \
                     WHERE scope = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
                )
                .bind(scope_of(call))
                .bind(last)
                .bind(limit),
            )
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut allocation = self.allocation(db, call, position).await?;
        let until: i64 = rows.last().expect("not empty").get("sequence")?;
        let attachments = attachments(db, call, last, until).await?;
        let engine = Engine::new(programme, call.clone());
        let now = clock.now();
        let today = engine.day_of(jiff::Timestamp::from_second(now).unwrap_or_default());

        let mut statements = Vec::new();
        let mut expected = last;
        for row in &rows {
            let sequence: i64 = row.get("sequence")?;
            expected += 1;
            if sequence != expected {
                // The filing office's sequences have no gaps; a gap is a submission still
                // committing. Decide up to it and come back.
                break;
            }
            let id: String = row.get("id")?;
            let decision = match read_application(row, attachments.get(&id)) {
                Ok(application) => {
                    let facts = tokio::time::timeout(
                        self.lookup_timeout,
                        building_facts(
                            self.property.as_ref(),
                            self.grants.as_ref(),
                            &application.building.building_id,
                        ),
                    )
                    .await
                    .unwrap_or_else(|_| {
                        Err(RegistryError::Unavailable(
                            "the lookup took too long".into(),
                        ))
                    });
                    let decision =
                        engine.decide(&mut allocation, &application, facts.as_ref(), today, true);
                    let in_window = call.receives_at(application.received_at);
                    Recorded {
                        decision,
                        building_id: application.building.building_id,
                        in_window,
                    }
                }
                Err(problem) => Recorded::unreadable(&id, sequence, problem),
            };
            let on_reserve = allocation
                .reserve
                .last()
                .is_some_and(|w| w.application_id == id);
            let last_day =
                (decision.decision.outcome == crate::Outcome::NeedsCompletion).then(|| {
                    today
                        .checked_add(jiff::Span::new().days(programme.completion.deadline_days))
                        .unwrap_or(today)
                        .to_string()
                });
            statements.push(
                sql("INSERT INTO grant_decision (submission_id, call_id, sequence, building_id, in_window, \
                     outcome, amount_czk, holds_budget, on_reserve, reasons, trace, completion_last_day, \
                     decided_at, decided_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
                .bind(&id)
                .bind(&call.id)
                .bind(sequence)
                .bind(&decision.building_id)
                .bind(i64::from(decision.in_window))
                .bind(decision.decision.outcome.code())
                .bind(decision.decision.amount_czk)
                .bind(i64::from(decision.decision.holds_budget))
                .bind(i64::from(on_reserve))
                .bind(serde_json::to_string(&decision.decision.reasons).expect("strings"))
                .bind(serde_json::to_string(&decision.decision.trace).expect("JSON values"))
                .bind(last_day)
                .bind(now)
                .bind(ROBOT)
                .only_if_previous_changed(),
            );
        }
        let count = statements.len();
        if count == 0 {
            return Ok(0);
        }
        let decided_until = last + count as i64;
        // The guard first: when another robot moved the call on, nothing after it runs.
        let guard = match position {
            Some(_) => sql("UPDATE grant_call_state SET last_sequence = $2, remaining_czk = $3, updated_at = $4 \
                            WHERE call_id = $1 AND last_sequence = $5")
            .bind(&call.id)
            .bind(decided_until)
            .bind(allocation.remaining_czk)
            .bind(now)
            .bind(last),
            None => sql("INSERT INTO grant_call_state (call_id, last_sequence, remaining_czk, updated_at, \
                         programme_id, budget_czk) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING")
            .bind(&call.id)
            .bind(decided_until)
            .bind(allocation.remaining_czk)
            .bind(now)
            .bind(&programme.id)
            .bind(call.budget_czk),
        };
        statements.insert(0, guard);
        let written = db.write(statements).await?;
        let mut queues = self.queues.lock().expect("not poisoned");
        if written.len() == count + 1 && written.iter().all(|w| w.changed > 0) {
            queues.insert(call.id.clone(), (decided_until, allocation));
            Ok(count)
        } else {
            // Another robot moved this call on first: nothing of this batch was written.
            queues.remove(&call.id);
            Ok(0)
        }
    }

    /// The call's allocation after `position`: from memory when it is still at that position,
    /// otherwise from the decisions recorded.
    async fn allocation(
        &self,
        db: &Db,
        call: &Call,
        position: Option<i64>,
    ) -> Result<Allocation, RobotError> {
        let Some(position) = position else {
            return Ok(Allocation::new(call.budget_czk));
        };
        if let Some((at, allocation)) = self.queues.lock().expect("not poisoned").get(&call.id) {
            if *at == position {
                return Ok(allocation.clone());
            }
        }
        let state = db
            .fetch_optional(
                sql("SELECT remaining_czk FROM grant_call_state WHERE call_id = $1").bind(&call.id),
            )
            .await?
            .ok_or_else(|| RobotError::Corrupt(format!("call {} has no state", call.id)))?;
        let mut allocation = Allocation::new(state.get("remaining_czk")?);
        for row in db
            .fetch_all(
                sql(
                    "SELECT submission_id, sequence, amount_czk FROM grant_decision \
                     WHERE call_id = $1 AND on_reserve = 1 ORDER BY sequence",
                )
                .bind(&call.id),
            )
            .await?
        {
            allocation.reserve.push(Waiting {
                application_id: row.get("submission_id")?,
                sequence: row.get("sequence")?,
                amount_czk: row.get("amount_czk")?,
            });
        }
        for row in db
            .fetch_all(
                sql("SELECT building_id FROM grant_decision WHERE call_id = $1 AND in_window = 1")
                    .bind(&call.id),
            )
            .await?
        {
            allocation.saw_building(&row.get::<String>("building_id")?);
        }
        Ok(allocation)
    }
}

/// A decision with what the call's queue needs of it later.
struct Recorded {
    decision: Decision,
    building_id: String,
    in_window: bool,
}

impl Recorded {
    /// A submission whose data the engine cannot read (a form version without the fields the
    /// rules need): a person decides; it takes no budget.
    fn unreadable(id: &str, sequence: i64, problem: String) -> Recorded {
        Recorded {
            decision: Decision {
                application_id: id.to_owned(),
                sequence,
                outcome: crate::Outcome::ManualReview,
                amount_czk: 0,
                reasons: vec![format!("{}:application", crate::engine::EVALUATION_ERROR)],
                holds_budget: false,
                trace: vec![crate::engine::Step {
                    check: "application".into(),
                    result: crate::engine::StepResult::Error(problem),
                    values: Default::default(),
                }],
            },
            building_id: String::new(),
            in_window: false,
        }
    }
}

/// Each submission's attachments (kind = the form's slot, media type decided from content).
async fn attachments(
    db: &Db,
    call: &Call,
    after: i64,
    until: i64,
) -> Result<HashMap<String, Vec<serde_json::Value>>, RobotError> {
    let mut by_submission: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    for row in db
        .fetch_all(
            sql("SELECT a.draft_id, a.slot, a.media_type FROM attachment a \
                 JOIN submission s ON s.id = a.draft_id \
                 WHERE s.scope = $1 AND s.sequence > $2 AND s.sequence <= $3 \
                 ORDER BY a.draft_id, a.slot_index, a.position")
            .bind(scope_of(call))
            .bind(after)
            .bind(until),
        )
        .await?
    {
        by_submission
            .entry(row.get("draft_id")?)
            .or_default()
            .push(serde_json::json!({
                "kind": row.get::<String>("slot")?,
                "media_type": row.get::<String>("media_type")?,
            }));
    }
    Ok(by_submission)
}

/// The engine's application from a submission: the form's data, the person and the receipt
/// from the filing office, the attachments' kinds and types.
fn read_application(
    row: &Row,
    attachments: Option<&Vec<serde_json::Value>>,
) -> Result<Application, String> {
    let field = |e: StoreError| e.to_string();
    let data: String = row.get("data").map_err(field)?;
    let mut data: serde_json::Value =
        serde_json::from_str(&data).map_err(|e| format!("the data is not JSON: {e}"))?;
    let received_at: i64 = row.get("received_at").map_err(field)?;
    let object = data
        .as_object_mut()
        .ok_or_else(|| "the data is not a JSON object".to_owned())?;
    object.insert(
        "application_id".into(),
        row.get::<String>("id").map_err(field)?.into(),
    );
    object.insert(
        "sequence".into(),
        row.get::<i64>("sequence").map_err(field)?.into(),
    );
    object.insert(
        "received_at".into(),
        jiff::Timestamp::from_second(received_at)
            .map_err(|e| e.to_string())?
            .to_string()
            .into(),
    );
    object.insert(
        "attachments".into(),
        attachments.cloned().unwrap_or_default().into(),
    );
    if let Some(applicant) = object.get_mut("applicant").and_then(|a| a.as_object_mut()) {
        applicant.insert(
            "person_id".into(),
            row.get::<String>("person_id").map_err(field)?.into(),
        );
    }
    crate::application::from_json(data)
}
