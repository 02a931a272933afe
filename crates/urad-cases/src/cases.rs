//! Case files (spisy): one per received submission, in an agenda, moved through the agenda's
//! workflow by its officials.
//!
//! - **Intake** opens a case for every submission the filing office received, in receipt-log
//!   order (commit order, without gaps), so nothing received is ever left without a case —
//!   also when a process stops in the middle: intake is idempotent and goes on from the
//!   highest submission taken in. A submission that answers a completion request is added to
//!   that request's case instead, and moves it on.
//! - **Moves** are checked against the workflow and the person's roles in the agenda, and
//!   written with the case's revision: two officials moving one case at once cannot both
//!   succeed.
//! - **Deadlines** (the decision's, a completion request's) are counted by Czech rules
//!   ([`crate::deadline`]).

use crate::access::{Access, Resource, Staff};
use crate::agenda::BackOffice;
use crate::deadline::{Deadline, DeadlineError};
use crate::workflow::{Action, DecisionKind};
use serde::Serialize;
use urad_core::{Clock, Lang};
use urad_store::statement::{Row, Statement, Written};
use urad_store::{sql, Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// No such case, or one the person may not see (the same answer, so that nobody learns
    /// which cases exist in agendas that are not theirs).
    #[error("no such case")]
    NotFound,
    #[error("the move `{0}` is not possible in the case's state or for this person")]
    NotAllowed(String),
    #[error("the case was changed by someone else in the meantime")]
    Changed,
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    #[error("no such completion request of this person, or it is no longer open")]
    NoOpenRequest,
    #[error(transparent)]
    Deadline(#[from] DeadlineError),
    #[error("the access log refused the entry: {0}")]
    Audit(String),
    /// Something the move needs is not available now (a document that cannot be rendered,
    /// a submission that cannot be read).
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CaseError {
    /// What to tell the person, in their language.
    pub fn message(&self, lang: Lang) -> String {
        let (cs, en) = match self {
            CaseError::NotFound => (
                "Tento spis neexistuje, nebo k němu nemáte přístup.",
                "There is no such case, or you have no access to it.",
            ),
            CaseError::NotAllowed(_) => (
                "Tento krok teď ve spisu udělat nelze.",
                "This step cannot be taken in the case now.",
            ),
            CaseError::Changed => (
                "Spis mezitím změnil někdo jiný. Načtěte jej znovu a krok zopakujte.",
                "Someone else changed the case in the meantime. Load it again and repeat the step.",
            ),
            CaseError::Invalid(what) => {
                return match lang {
                    Lang::Cs => format!("Neplatný údaj: {}.", invalid_cs(what)),
                    Lang::En => format!("Invalid input: {what}."),
                }
            }
            CaseError::NoOpenRequest => (
                "Tato výzva k doplnění neexistuje, nebo už není otevřená.",
                "There is no such completion request, or it is no longer open.",
            ),
            CaseError::Deadline(_) => (
                "Lhůtu se nepodařilo spočítat.",
                "The deadline could not be counted.",
            ),
            CaseError::Audit(_) => (
                "Přístup se nepodařilo zaznamenat, proto se neprovedl.",
                "The access could not be recorded, so it was not made.",
            ),
            CaseError::Store(_) | CaseError::Unavailable(_) => (
                "Spis se teď nepodařilo uložit ani načíst; zkuste to prosím znovu.",
                "The case could not be saved or loaded now; please try again.",
            ),
        };
        match lang {
            Lang::Cs => cs.into(),
            Lang::En => en.into(),
        }
    }
}

fn invalid_cs(what: &str) -> &'static str {
    match what {
        "the message to the applicant is empty" => "zpráva žadateli je prázdná",
        "the completion period is 1 to 365 days" => "lhůta k doplnění je 1 až 365 dní",
        "the note is empty" => "poznámka je prázdná",
        "the note is longer than 10 000 characters" => "poznámka je delší než 10 000 znaků",
        "no such agenda" => "takovou agendu úřad nemá",
        _ => "zkontrolujte vyplněné údaje",
    }
}

pub(crate) fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A case file as officials see it.
#[derive(Clone, Debug, Serialize)]
pub struct CaseFile {
    pub id: String,
    pub submission_id: String,
    /// The submission's reference number (číslo jednací).
    pub reference: String,
    pub agenda: String,
    pub workflow: String,
    pub state: String,
    pub applicant_id: String,
    pub assignee_id: Option<String>,
    pub opened_at: i64,
    pub updated_at: i64,
    pub due_last_day: String,
    pub due_at: i64,
    pub closed_at: Option<i64>,
    pub disposal_year: Option<i64>,
    pub revision: i64,
}

macro_rules! case_columns {
    () => {
        "id, submission_id, reference, agenda, workflow, state, applicant_id, assignee_id, \
         opened_at, updated_at, due_last_day, due_at, closed_at, disposal_year, revision"
    };
}

impl CaseFile {
    fn from_row(r: &Row) -> Result<CaseFile, StoreError> {
        Ok(CaseFile {
            id: r.get("id")?,
            submission_id: r.get("submission_id")?,
            reference: r.get("reference")?,
            agenda: r.get("agenda")?,
            workflow: r.get("workflow")?,
            state: r.get("state")?,
            applicant_id: r.get("applicant_id")?,
            assignee_id: r.get("assignee_id")?,
            opened_at: r.get("opened_at")?,
            updated_at: r.get("updated_at")?,
            due_last_day: r.get("due_last_day")?,
            due_at: r.get("due_at")?,
            closed_at: r.get("closed_at")?,
            disposal_year: r.get("disposal_year")?,
            revision: r.get("revision")?,
        })
    }

    pub fn is_overdue(&self, now: i64) -> bool {
        self.closed_at.is_none() && now >= self.due_at
    }
}

/// One entry of a case's timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub at: i64,
    /// Empty for the system.
    pub actor_id: Option<String>,
    pub kind: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub body: Option<String>,
    /// Shown to the applicant.
    pub public: bool,
}

/// A request to the applicant to complete the submission.
#[derive(Clone, Debug, Serialize)]
pub struct CompletionRequest {
    pub id: String,
    pub case_id: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub message: String,
    pub days: i64,
    /// The last day to answer (YYYY-MM-DD, Europe/Prague), already moved past weekends and
    /// holidays.
    pub last_day: String,
    pub deadline_at: i64,
    pub answer_draft_id: Option<String>,
    pub answer_submission_id: Option<String>,
    pub answered_at: Option<i64>,
    pub lapsed_at: Option<i64>,
}

impl CompletionRequest {
    fn from_row(r: &Row) -> Result<CompletionRequest, StoreError> {
        Ok(CompletionRequest {
            id: r.get("id")?,
            case_id: r.get("case_id")?,
            requested_by: r.get("requested_by")?,
            requested_at: r.get("requested_at")?,
            message: r.get("message")?,
            days: r.get("days")?,
            last_day: r.get("last_day")?,
            deadline_at: r.get("deadline_at")?,
            answer_draft_id: r.get("answer_draft_id")?,
            answer_submission_id: r.get("answer_submission_id")?,
            answered_at: r.get("answered_at")?,
            lapsed_at: r.get("lapsed_at")?,
        })
    }

    pub fn is_open(&self) -> bool {
        self.answered_at.is_none() && self.lapsed_at.is_none()
    }
}

macro_rules! request_columns {
    () => {
        "id, case_id, requested_by, requested_at, message, days, last_day, deadline_at, \
         answer_draft_id, answer_submission_id, answered_at, lapsed_at"
    };
}

/// An id that sorts in the order this process made them: the nanoseconds since the epoch
/// (never the same twice, never going back), then random digits so that processes differ.
/// A case's events that share a second are listed in the order they happened.
fn ordered_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut last = LAST.load(Ordering::Relaxed);
    let stamp = loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(seen) => last = seen,
        }
    };
    format!("{stamp:016x}{}", &new_id()[..8])
}

fn event(
    case_id: &str,
    at: i64,
    actor: Option<&str>,
    kind: &'static str,
    states: (Option<&str>, Option<&str>),
    body: Option<&str>,
    public: bool,
) -> Statement {
    sql("INSERT INTO case_event (id, case_id, at, actor_id, kind, from_state, to_state, body, public) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
    .bind(ordered_id())
    .bind(case_id)
    .bind(at)
    .bind(actor)
    .bind(kind)
    .bind(states.0)
    .bind(states.1)
    .bind(body)
    .bind(i64::from(public))
}

// ---------------------------------------------------------------------------------------
// The access log: every read and change of a case by staff is recorded, with the change in
// one write (urad-audit). Purposes are codes the pages name in Czech and English.

/// Why staff touch a case: handling it (the only purpose the back office has today).
pub const PURPOSE_HANDLING: &str = "case_handling";
/// The registry clerk keeping the journal.
pub const PURPOSE_REGISTRY: &str = "registry_journal";

fn audit_entry(
    staff: &Staff,
    case: &CaseFile,
    action: urad_audit::Action,
    purpose: &str,
    what: &str,
) -> urad_audit::Entry {
    urad_audit::Entry {
        actor_person_id: staff.person_id.clone(),
        actor_role: staff.role_code_in(&case.agenda).to_owned(),
        subject_person_id: case.applicant_id.clone(),
        action,
        resource_kind: "case".into(),
        resource_id: case.id.clone(),
        case_id: Some(case.id.clone()),
        agenda: Some(case.agenda.clone()),
        purpose: purpose.to_owned(),
        details: serde_json::json!({
            "actor_name": staff.name,
            "reference": case.reference,
            "what": what,
        }),
    }
}

fn audit(
    staff: &Staff,
    case: &CaseFile,
    action: urad_audit::Action,
    purpose: &str,
    what: &str,
    at: i64,
) -> Result<[Statement; 2], CaseError> {
    urad_audit::append(&audit_entry(staff, case, action, purpose, what), at).map_err(audit_failed)
}

/// The access log's statements for the end of a write: they run only when the statement
/// before them changed something (a refused change is not logged as made).
fn logged(statements: [Statement; 2]) -> impl Iterator<Item = Statement> {
    let [head, entry] = statements;
    [
        head.only_if_previous_changed(),
        entry.only_if_previous_changed(),
    ]
    .into_iter()
}

fn audit_failed(e: urad_audit::AuditError) -> CaseError {
    match e {
        urad_audit::AuditError::Store(e) => CaseError::Store(e),
        other => CaseError::Audit(other.to_string()),
    }
}

/// Records that `staff` read a case (its page, the submission's data or a document), for
/// the applicant's "Who accessed my data". Reading fails when it cannot be recorded.
pub async fn record_read(
    db: &Db,
    clock: &dyn Clock,
    staff: &Staff,
    case: &CaseFile,
    what: &str,
) -> Result<(), CaseError> {
    let entry = audit_entry(
        staff,
        case,
        urad_audit::Action::Read,
        PURPOSE_HANDLING,
        what,
    );
    urad_audit::record(db, clock, &entry)
        .await
        .map(|_| ())
        .map_err(audit_failed)
}

// ---------------------------------------------------------------------------------------
// Intake

/// What one round of intake did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Intake {
    pub opened: usize,
    pub answers: usize,
}

/// Takes in up to `limit` received submissions not taken in yet, in receipt-log order:
/// opens a case for each in the agenda `agenda_of_form` names for its form (the default
/// agenda when it names none), or adds an answer to its completion request's case.
pub async fn intake(
    db: &Db,
    clock: &dyn Clock,
    office: &BackOffice,
    agenda_of_form: &(dyn Fn(&str) -> Option<String> + Sync),
    limit: i64,
) -> Result<Intake, CaseError> {
    let rows = db
        .fetch_all(
            sql(
                "SELECT s.id, s.reference, s.person_id, s.form_id, s.received_at, s.log_index, \
                 r.id AS request_id, r.case_id AS request_case \
                 FROM submission s LEFT JOIN completion_request r ON r.answer_draft_id = s.id \
                 WHERE s.log_index IS NOT NULL \
                 AND s.log_index > (SELECT COALESCE(MAX(log_index), -1) FROM case_intake) \
                 ORDER BY s.log_index LIMIT $1",
            )
            .bind(limit),
        )
        .await?;
    let mut done = Intake::default();
    for r in rows {
        let id: String = r.get("id")?;
        let log_index: i64 = r.get("log_index")?;
        let now = clock.now();
        let request: Option<String> = r.get("request_id")?;
        if let (Some(request_id), Some(case_id)) =
            (request, r.get::<Option<String>>("request_case")?)
        {
            if answer(db, office, &id, log_index, &request_id, &case_id, now).await? {
                done.answers += 1;
            }
            continue;
        }
        let form: String = r.get("form_id")?;
        let agenda_key = agenda_of_form(&form).unwrap_or_else(|| office.default_agenda.clone());
        let settings = office.agenda(&agenda_key);
        let workflow = office.workflow(&settings.key);
        let received_at: i64 = r.get("received_at")?;
        let due = Deadline::in_days(received_at, settings.decision_days)?;
        let case_id = new_id();
        let written = db
            .write([
                sql("INSERT INTO case_intake (submission_id, log_index, case_id, at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(&id)
                .bind(log_index)
                .bind(&case_id)
                .bind(now),
                sql("INSERT INTO case_file (id, submission_id, reference, agenda, workflow, state, \
                     applicant_id, opened_at, updated_at, due_last_day, due_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)")
                .bind(&case_id)
                .bind(&id)
                .bind(r.get::<String>("reference")?)
                .bind(&settings.key)
                .bind(&workflow.key)
                .bind(&workflow.initial)
                .bind(r.get::<String>("person_id")?)
                .bind(now)
                .bind(due.last_day().to_string())
                .bind(due.ends_at())
                .only_if_previous_changed(),
                event(&case_id, now, None, "opened", (None, Some(&workflow.initial)), None, true)
                    .only_if_previous_changed(),
            ])
            .await?;
        if written.first().is_some_and(|w| w.changed > 0) {
            done.opened += 1;
        }
    }
    Ok(done)
}

/// Adds an answering submission to its case and takes the workflow's answer transition.
async fn answer(
    db: &Db,
    office: &BackOffice,
    submission_id: &str,
    log_index: i64,
    request_id: &str,
    case_id: &str,
    now: i64,
) -> Result<bool, CaseError> {
    let case = get(db, case_id).await?.ok_or(CaseError::NotFound)?;
    let request = db
        .fetch_optional(
            sql(concat!(
                "SELECT ",
                request_columns!(),
                " FROM completion_request WHERE id = $1"
            ))
            .bind(request_id),
        )
        .await?
        .map(|r| CompletionRequest::from_row(&r))
        .transpose()?
        .ok_or(CaseError::NoOpenRequest)?;
    let workflow = office.workflow(&case.agenda);
    let to = workflow
        .system_transition(&case.state, Action::CompletionAnswered)
        .filter(|_| request.lapsed_at.is_none())
        .map(|t| t.to.clone());
    // The time the applicant took does not count towards the decision's deadline: what was
    // left of it when the request went out is counted again from the answer.
    let left = ((case.due_at - request.requested_at) / 86_400).max(1) as u32;
    let due = Deadline::in_days(now, left)?;
    let mut statements = vec![sql(
        "INSERT INTO case_intake (submission_id, log_index, case_id, at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(submission_id)
    .bind(log_index)
    .bind(case_id)
    .bind(now)];
    statements.push(
        sql(
            "UPDATE completion_request SET answer_submission_id = $2, answered_at = $3 \
             WHERE id = $1 AND answered_at IS NULL",
        )
        .bind(request_id)
        .bind(submission_id)
        .bind(now)
        .only_if_previous_changed(),
    );
    if let Some(to) = &to {
        statements.push(
            sql("UPDATE case_file SET state = $2, due_last_day = $4, due_at = $5, updated_at = $3, \
                 revision = revision + 1 WHERE id = $1")
            .bind(case_id)
            .bind(to)
            .bind(now)
            .bind(due.last_day().to_string())
            .bind(due.ends_at())
            .only_if_previous_changed(),
        );
    }
    statements.push(
        event(
            case_id,
            now,
            None,
            "completed",
            (
                Some(&case.state),
                Some(to.as_deref().unwrap_or(&case.state)),
            ),
            Some(submission_id),
            true,
        )
        .only_if_previous_changed(),
    );
    let written = db.write(statements).await?;
    Ok(written.first().is_some_and(|w| w.changed > 0))
}

// ---------------------------------------------------------------------------------------
// Reading

/// A case by id, with no check of who asks: for the module's own use and for the applicant's
/// pages, which check ownership themselves.
pub async fn get(db: &Db, id: &str) -> Result<Option<CaseFile>, CaseError> {
    db.fetch_optional(
        sql(concat!(
            "SELECT ",
            case_columns!(),
            " FROM case_file WHERE id = $1"
        ))
        .bind(id),
    )
    .await?
    .map(|r| CaseFile::from_row(&r))
    .transpose()
    .map_err(CaseError::from)
}

/// A case by its reference number (`KUMSK 12/2026`), with no check of who asks.
pub async fn by_reference(db: &Db, reference: &str) -> Result<Option<CaseFile>, CaseError> {
    db.fetch_optional(
        sql(concat!(
            "SELECT ",
            case_columns!(),
            " FROM case_file WHERE reference = $1"
        ))
        .bind(reference.trim()),
    )
    .await?
    .map(|r| CaseFile::from_row(&r))
    .transpose()
    .map_err(CaseError::from)
}

/// The case of a submission.
pub async fn of_submission(db: &Db, submission_id: &str) -> Result<Option<CaseFile>, CaseError> {
    db.fetch_optional(
        sql(concat!(
            "SELECT ",
            case_columns!(),
            " FROM case_file WHERE submission_id = $1"
        ))
        .bind(submission_id),
    )
    .await?
    .map(|r| CaseFile::from_row(&r))
    .transpose()
    .map_err(CaseError::from)
}

/// A case for a member of staff who may read it.
pub async fn for_staff(db: &Db, staff: &Staff, id: &str) -> Result<CaseFile, CaseError> {
    let case = get(db, id).await?.ok_or(CaseError::NotFound)?;
    if !staff.may(
        Access::Read,
        Resource::Case {
            agenda: &case.agenda,
        },
    ) {
        return Err(CaseError::NotFound);
    }
    Ok(case)
}

/// A case's timeline, oldest first; only what the applicant may see when `public_only`.
pub async fn events(db: &Db, case_id: &str, public_only: bool) -> Result<Vec<Event>, CaseError> {
    let rows = db
        .fetch_all(
            sql(
                "SELECT at, actor_id, kind, from_state, to_state, body, public FROM case_event \
                 WHERE case_id = $1 AND (public = 1 OR $2 = 0) ORDER BY at, id",
            )
            .bind(case_id)
            .bind(i64::from(public_only)),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                at: r.get("at")?,
                actor_id: r.get("actor_id")?,
                kind: r.get("kind")?,
                from_state: r.get("from_state")?,
                to_state: r.get("to_state")?,
                body: r.get("body")?,
                public: r.get("public")?,
            })
        })
        .collect()
}

/// A case's completion requests, newest first.
pub async fn completion_requests(
    db: &Db,
    case_id: &str,
) -> Result<Vec<CompletionRequest>, CaseError> {
    let rows = db
        .fetch_all(
            sql(concat!(
                "SELECT ",
                request_columns!(),
                " FROM completion_request WHERE case_id = $1 ORDER BY requested_at DESC, id"
            ))
            .bind(case_id),
        )
        .await?;
    rows.iter()
        .map(|r| CompletionRequest::from_row(r).map_err(CaseError::from))
        .collect()
}

/// Which cases an inbox shows.
#[derive(Clone, Debug, Default)]
pub struct InboxFilter {
    /// One of the person's agendas; all of them when `None`.
    pub agenda: Option<String>,
    pub state: Option<String>,
    /// `Some(person)`: assigned to them; `Some("")`: to nobody.
    pub assignee: Option<String>,
    pub overdue_only: bool,
    /// Open cases only (not in a final state).
    pub open_only: bool,
}

/// An inbox: its cases (newest first, at most `limit`) and how many of the filtered cases are
/// in each state.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Inbox {
    pub cases: Vec<CaseFile>,
    pub counts: Vec<(String, i64)>,
    pub overdue: i64,
}

pub async fn inbox(
    db: &Db,
    clock: &dyn Clock,
    staff: &Staff,
    filter: &InboxFilter,
    limit: i64,
) -> Result<Inbox, CaseError> {
    let agendas = staff.agendas();
    let wanted: Vec<&str> = match &filter.agenda {
        Some(a) if agendas.contains(&a.as_str()) => vec![a.as_str()],
        Some(_) => return Ok(Inbox::default()),
        None => agendas,
    };
    let now = clock.now();
    let mut inbox = Inbox::default();
    for agenda in wanted {
        let rows = db
            .fetch_all(
                sql(concat!(
                    "SELECT ",
                    case_columns!(),
                    " FROM case_file WHERE agenda = $1 \
                     AND ($2 = '' OR state = $2) \
                     AND ($3 = '-' OR COALESCE(assignee_id, '') = $3) \
                     AND ($4 = 0 OR (closed_at IS NULL AND due_at <= $5)) \
                     AND ($6 = 0 OR closed_at IS NULL) \
                     ORDER BY opened_at DESC, id LIMIT $7"
                ))
                .bind(agenda)
                .bind(filter.state.as_deref().unwrap_or(""))
                .bind(filter.assignee.as_deref().unwrap_or("-"))
                .bind(i64::from(filter.overdue_only))
                .bind(now)
                .bind(i64::from(filter.open_only))
                .bind(limit),
            )
            .await?;
        for r in &rows {
            inbox.cases.push(CaseFile::from_row(r)?);
        }
        let counts = db
            .fetch_all(
                sql("SELECT state, COUNT(*) AS n, \
                     SUM(CASE WHEN closed_at IS NULL AND due_at <= $2 THEN 1 ELSE 0 END) AS overdue \
                     FROM case_file WHERE agenda = $1 GROUP BY state ORDER BY state")
                .bind(agenda)
                .bind(now),
            )
            .await?;
        for r in &counts {
            let state: String = r.get("state")?;
            let n: i64 = r.get("n")?;
            inbox.overdue += r.get::<Option<i64>>("overdue")?.unwrap_or(0);
            match inbox.counts.iter_mut().find(|(s, _)| *s == state) {
                Some((_, total)) => *total += n,
                None => inbox.counts.push((state, n)),
            }
        }
    }
    inbox
        .cases
        .sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(a.id.cmp(&b.id)));
    inbox.cases.truncate(limit.max(0) as usize);
    Ok(inbox)
}

// ---------------------------------------------------------------------------------------
// Changing

/// Assigns the case to an official of its agenda (`None`: to nobody).
pub async fn assign(
    db: &Db,
    clock: &dyn Clock,
    staff: &Staff,
    case_id: &str,
    revision: i64,
    assignee: Option<&str>,
) -> Result<CaseFile, CaseError> {
    let case = for_staff(db, staff, case_id).await?;
    if !staff.may(
        Access::Change,
        Resource::Case {
            agenda: &case.agenda,
        },
    ) {
        return Err(CaseError::NotFound);
    }
    let now = clock.now();
    let written = db
        .write([
            sql(
                "UPDATE case_file SET assignee_id = $2, updated_at = $3, revision = revision + 1 \
                 WHERE id = $1 AND revision = $4 AND closed_at IS NULL",
            )
            .bind(case_id)
            .bind(assignee)
            .bind(now)
            .bind(revision),
            event(
                case_id,
                now,
                Some(&staff.person_id),
                "assigned",
                (None, None),
                assignee,
                false,
            )
            .only_if_previous_changed(),
        ]
        .into_iter()
        .chain(logged(audit(staff, &case, urad_audit::Action::Change, PURPOSE_HANDLING, "assigned", now)?)))
        .await?;
    changed_or_conflict(db, case_id, &written).await
}

/// Adds an internal note (never shown to the applicant).
pub async fn add_note(
    db: &Db,
    clock: &dyn Clock,
    staff: &Staff,
    case_id: &str,
    note: &str,
) -> Result<(), CaseError> {
    let case = for_staff(db, staff, case_id).await?;
    if !staff.may(
        Access::Change,
        Resource::Case {
            agenda: &case.agenda,
        },
    ) {
        return Err(CaseError::NotFound);
    }
    let note = note.trim();
    if note.is_empty() {
        return Err(CaseError::Invalid("the note is empty"));
    }
    if note.chars().count() > 10_000 {
        return Err(CaseError::Invalid(
            "the note is longer than 10 000 characters",
        ));
    }
    let now = clock.now();
    db.write(
        [event(
            case_id,
            now,
            Some(&staff.person_id),
            "note",
            (None, None),
            Some(note),
            false,
        )]
        .into_iter()
        .chain(logged(audit(
            staff,
            &case,
            urad_audit::Action::Change,
            PURPOSE_HANDLING,
            "note",
            now,
        )?)),
    )
    .await?;
    Ok(())
}

/// A move an official asks for: the workflow transition, the revision of the case they saw,
/// and what the transition needs.
#[derive(Clone, Debug, Default)]
pub struct Move<'a> {
    pub transition: &'a str,
    pub revision: i64,
    /// For `request_completion`: the message to the applicant, and the days they get (the
    /// agenda's default when `None`).
    pub message: Option<&'a str>,
    pub days: Option<u32>,
    /// For `decide`: the reasoning (odůvodnění) the decision document carries.
    pub reasoning: Option<&'a str>,
    /// For `decide`: the decision as issued, a PDF/A document (rendered by the caller, who
    /// has the templates); stored with the move, in the same write.
    pub document: Option<&'a [u8]>,
    /// What else commits with the move, only if it is made: the applicant's notice and its
    /// e-mail job (urad-notify), so that neither is lost nor sent for a move that failed.
    pub also: Vec<Statement>,
}

/// What a move did.
#[derive(Clone, Debug)]
pub struct Moved {
    pub case: CaseFile,
    pub completion_request: Option<CompletionRequest>,
    pub decision: Option<DecisionKind>,
}

/// Takes a workflow transition on a case, as `staff`, if the case is still at the revision
/// they saw.
pub async fn take(
    db: &Db,
    clock: &dyn Clock,
    office: &BackOffice,
    staff: &Staff,
    case_id: &str,
    input: &Move<'_>,
) -> Result<Moved, CaseError> {
    let case = for_staff(db, staff, case_id).await?;
    let workflow = office.workflow(&case.agenda);
    let roles = staff.roles_in(&case.agenda);
    let t = workflow
        .available(&case.state, &roles)
        .find(|t| t.key == input.transition)
        .ok_or_else(|| CaseError::NotAllowed(input.transition.to_owned()))?;
    let revision = input.revision;
    if case.revision != revision {
        return Err(CaseError::Changed);
    }
    let now = clock.now();
    let is_final = workflow.state(&t.to).is_some_and(|s| s.is_final);
    let disposal_year = is_final.then(|| {
        i64::from(
            office
                .agenda(&case.agenda)
                .retention
                .disposal_year(year_in_office(now)),
        )
    });
    let mut statements = vec![sql(
        "UPDATE case_file SET state = $2, updated_at = $3, revision = revision + 1, \
         closed_at = $5, disposal_year = $6 WHERE id = $1 AND revision = $4 AND state = $7",
    )
    .bind(case_id)
    .bind(&t.to)
    .bind(now)
    .bind(revision)
    .bind(is_final.then_some(now))
    .bind(disposal_year)
    .bind(&case.state)];
    let mut request = None;
    match t.action {
        Some(Action::RequestCompletion) => {
            let message = input.message.map(str::trim).unwrap_or("");
            if message.is_empty() {
                return Err(CaseError::Invalid("the message to the applicant is empty"));
            }
            let days = input
                .days
                .unwrap_or(office.agenda(&case.agenda).completion_days);
            if !(1..=365).contains(&days) {
                return Err(CaseError::Invalid("the completion period is 1 to 365 days"));
            }
            let deadline = Deadline::in_days(now, days)?;
            let r = CompletionRequest {
                id: new_id(),
                case_id: case_id.to_owned(),
                requested_by: staff.person_id.clone(),
                requested_at: now,
                message: message.to_owned(),
                days: i64::from(days),
                last_day: deadline.last_day().to_string(),
                deadline_at: deadline.ends_at(),
                answer_draft_id: None,
                answer_submission_id: None,
                answered_at: None,
                lapsed_at: None,
            };
            statements.push(
                sql("INSERT INTO completion_request (id, case_id, requested_by, requested_at, message, days, last_day, deadline_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&r.id)
                .bind(case_id)
                .bind(&r.requested_by)
                .bind(now)
                .bind(&r.message)
                .bind(r.days)
                .bind(&r.last_day)
                .bind(r.deadline_at)
                .only_if_previous_changed(),
            );
            request = Some(r);
        }
        Some(Action::Decide) => {
            let Some(pdf) = input.document.filter(|d| d.starts_with(b"%PDF-")) else {
                return Err(CaseError::Invalid("the decision document is missing"));
            };
            use base64::Engine as _;
            use sha2::Digest as _;
            statements.push(
                sql("INSERT INTO decision (id, case_id, applicant_id, kind, reference, issued_at, issued_by, pdf_base64, pdf_sha256) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(new_id())
                .bind(case_id)
                .bind(&case.applicant_id)
                .bind(t.decision.map_or("", DecisionKind::code))
                .bind(&case.reference)
                .bind(now)
                .bind(&staff.person_id)
                .bind(base64::engine::general_purpose::STANDARD.encode(pdf))
                .bind(hex(&sha2::Sha256::digest(pdf)))
                .only_if_previous_changed(),
            );
        }
        Some(Action::CompletionAnswered | Action::CompletionLapsed) | None => {}
    }
    let body = match (&request, input.reasoning) {
        (Some(r), _) => Some(r.message.as_str()),
        (None, Some(reasoning)) => Some(reasoning),
        (None, None) => None,
    };
    statements.push(
        event(
            case_id,
            now,
            Some(&staff.person_id),
            kind_of(t.action),
            (Some(&case.state), Some(&t.to)),
            body,
            true,
        )
        .only_if_previous_changed(),
    );
    let action = if t.action == Some(Action::Decide) {
        urad_audit::Action::Decision
    } else {
        urad_audit::Action::Change
    };
    statements.extend(logged(audit(
        staff,
        &case,
        action,
        PURPOSE_HANDLING,
        &t.key,
        now,
    )?));
    if is_final {
        // The closed case goes to the records-management system: a durable job, written with
        // the closing, so a hand-off is never forgotten (docs/records.md).
        statements
            .push(urad_jobs::enqueue(&handoff_job(case_id), clock).only_if_previous_changed());
    }
    statements.extend(
        input
            .also
            .iter()
            .cloned()
            .map(Statement::only_if_previous_changed),
    );
    let written = db.write(statements).await?;
    let case = changed_or_conflict(db, case_id, &written).await?;
    Ok(Moved {
        case,
        completion_request: request,
        decision: t.decision,
    })
}

/// The calendar year at `now` in the office's time zone (a case closed on New Year's Eve at
/// 23:30 in Prague is closed in that year, whatever UTC says).
fn year_in_office(now: i64) -> i16 {
    jiff::Timestamp::from_second(now)
        .map(|t| t.to_zoned(crate::deadline::office_time_zone()).year())
        .unwrap_or(1970)
}

/// The queue of hand-offs of closed cases to the records-management system (spisová služba).
pub const RECORDS_QUEUE: &str = "records";

/// The hand-off of a closed case: once per case.
pub fn handoff_job(case_id: &str) -> urad_jobs::NewJob {
    urad_jobs::NewJob::new(
        RECORDS_QUEUE,
        "handoff",
        &serde_json::json!({ "case_id": case_id }),
    )
    .dedup_key(format!("handoff:{case_id}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A decision as the applicant's inbox lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    pub id: String,
    pub case_id: String,
    pub kind: String,
    pub reference: String,
    pub issued_at: i64,
    pub pdf_sha256: String,
}

/// The decision of a case, if one was issued (for staff and for the applicant's pages, who
/// check access themselves).
pub async fn decision_of_case(db: &Db, case_id: &str) -> Result<Option<Decision>, CaseError> {
    let row = db
        .fetch_optional(
            sql("SELECT id, case_id, kind, reference, issued_at, pdf_sha256 FROM decision WHERE case_id = $1")
                .bind(case_id),
        )
        .await?;
    row.map(|r| {
        Ok(Decision {
            id: r.get("id")?,
            case_id: r.get("case_id")?,
            kind: r.get("kind")?,
            reference: r.get("reference")?,
            issued_at: r.get("issued_at")?,
            pdf_sha256: r.get("pdf_sha256")?,
        })
    })
    .transpose()
}

/// The PDF of a decision issued to `applicant_id`; `None` for anybody else's.
pub async fn decision_pdf(
    db: &Db,
    applicant_id: &str,
    case_id: &str,
) -> Result<Option<Vec<u8>>, CaseError> {
    let row = db
        .fetch_optional(
            sql("SELECT pdf_base64 FROM decision WHERE case_id = $1 AND applicant_id = $2")
                .bind(case_id)
                .bind(applicant_id),
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    use base64::Engine as _;
    let text: String = row.get("pdf_base64")?;
    Ok(base64::engine::general_purpose::STANDARD.decode(text).ok())
}

fn kind_of(action: Option<Action>) -> &'static str {
    match action {
        None => "moved",
        Some(Action::RequestCompletion) => "completion_requested",
        Some(Action::CompletionAnswered) => "completed",
        Some(Action::CompletionLapsed) => "completion_lapsed",
        Some(Action::Decide) => "decided",
    }
}

async fn changed_or_conflict(
    db: &Db,
    case_id: &str,
    written: &[Written],
) -> Result<CaseFile, CaseError> {
    if written.first().is_none_or(|w| w.changed == 0) {
        return Err(CaseError::Changed);
    }
    get(db, case_id).await?.ok_or(CaseError::NotFound)
}

/// Moves the case to another agenda, as the registry clerk does with a submission that came
/// to the wrong one. Only while nobody has started handling it (its workflow's first state).
pub async fn reassign(
    db: &Db,
    clock: &dyn Clock,
    office: &BackOffice,
    staff: &Staff,
    case_id: &str,
    agenda: &str,
) -> Result<CaseFile, CaseError> {
    if !staff.may(Access::Change, Resource::RegistryJournal) {
        return Err(CaseError::NotFound);
    }
    let case = get(db, case_id).await?.ok_or(CaseError::NotFound)?;
    let Some(settings) = office.agendas.get(agenda) else {
        return Err(CaseError::Invalid("no such agenda"));
    };
    let current = office.workflow(&case.agenda);
    if case.state != current.initial {
        return Err(CaseError::NotAllowed("reassign".into()));
    }
    let workflow = office.workflow(&settings.key);
    let now = clock.now();
    let written = db
        .write([
            sql(
                "UPDATE case_file SET agenda = $2, workflow = $3, state = $4, assignee_id = NULL, \
                 updated_at = $5, revision = revision + 1 WHERE id = $1 AND revision = $6",
            )
            .bind(case_id)
            .bind(&settings.key)
            .bind(&workflow.key)
            .bind(&workflow.initial)
            .bind(now)
            .bind(case.revision),
            event(
                case_id,
                now,
                Some(&staff.person_id),
                "reassigned",
                (Some(&case.state), Some(&workflow.initial)),
                Some(&format!("{} → {}", case.agenda, settings.key)),
                false,
            )
            .only_if_previous_changed(),
        ]
        .into_iter()
        .chain(logged(audit(staff, &case, urad_audit::Action::Change, PURPOSE_REGISTRY, "reassigned", now)?)))
        .await?;
    changed_or_conflict(db, case_id, &written).await
}

// ---------------------------------------------------------------------------------------
// The applicant's side

/// The applicant's cases with the open completion requests in them, newest first.
pub async fn of_applicant(db: &Db, person_id: &str) -> Result<Vec<CaseFile>, CaseError> {
    let rows = db
        .fetch_all(
            sql(concat!(
                "SELECT ",
                case_columns!(),
                " FROM case_file WHERE applicant_id = $1 ORDER BY opened_at DESC, id"
            ))
            .bind(person_id),
        )
        .await?;
    rows.iter()
        .map(|r| CaseFile::from_row(r).map_err(CaseError::from))
        .collect()
}

/// Links the draft the applicant answers a completion request with: when it is submitted,
/// intake adds it to the request's case. Only the case's applicant, only while it is open.
pub async fn start_answer(
    db: &Db,
    clock: &dyn Clock,
    person_id: &str,
    request_id: &str,
    draft_id: &str,
) -> Result<(), CaseError> {
    let written = db
        .write_one(
            sql(
                "UPDATE completion_request SET answer_draft_id = $3 WHERE id = $1 \
                 AND answered_at IS NULL AND lapsed_at IS NULL AND deadline_at > $4 \
                 AND (answer_draft_id IS NULL OR answer_draft_id = $3) \
                 AND case_id IN (SELECT id FROM case_file WHERE applicant_id = $2)",
            )
            .bind(request_id)
            .bind(person_id)
            .bind(draft_id)
            .bind(clock.now()),
        )
        .await?;
    if written.changed == 0 {
        return Err(CaseError::NoOpenRequest);
    }
    Ok(())
}

/// The open completion request a draft answers, if any.
pub async fn request_answered_by(
    db: &Db,
    draft_id: &str,
) -> Result<Option<CompletionRequest>, CaseError> {
    db.fetch_optional(
        sql(concat!(
            "SELECT ",
            request_columns!(),
            " FROM completion_request WHERE answer_draft_id = $1"
        ))
        .bind(draft_id),
    )
    .await?
    .map(|r| CompletionRequest::from_row(&r))
    .transpose()
    .map_err(CaseError::from)
}

/// Marks completion requests whose deadline has passed unanswered and takes their cases'
/// lapse transition (the official then decides, e.g. stops the proceedings).
pub async fn lapse_overdue(
    db: &Db,
    clock: &dyn Clock,
    office: &BackOffice,
) -> Result<usize, CaseError> {
    let now = clock.now();
    let rows = db
        .fetch_all(
            sql(concat!(
                "SELECT ",
                request_columns!(),
                " FROM completion_request WHERE answered_at IS NULL AND lapsed_at IS NULL \
                 AND deadline_at <= $1 ORDER BY deadline_at LIMIT 100"
            ))
            .bind(now),
        )
        .await?;
    let mut lapsed = 0;
    for r in rows {
        let request = CompletionRequest::from_row(&r)?;
        let Some(case) = get(db, &request.case_id).await? else {
            continue;
        };
        let workflow = office.workflow(&case.agenda);
        let to = workflow
            .system_transition(&case.state, Action::CompletionLapsed)
            .map(|t| t.to.clone())
            .unwrap_or_else(|| case.state.clone());
        let written = db
            .write([
                sql("UPDATE completion_request SET lapsed_at = $2 WHERE id = $1 \
                     AND answered_at IS NULL AND lapsed_at IS NULL")
                .bind(&request.id)
                .bind(now),
                sql("UPDATE case_file SET state = $2, updated_at = $3, revision = revision + 1 WHERE id = $1")
                    .bind(&case.id)
                    .bind(&to)
                    .bind(now)
                    .only_if_previous_changed(),
                event(&case.id, now, None, "completion_lapsed", (Some(&case.state), Some(&to)), None, true)
                    .only_if_previous_changed(),
            ])
            .await?;
        if written.first().is_some_and(|w| w.changed > 0) {
            lapsed += 1;
        }
    }
    Ok(lapsed)
}

// ---------------------------------------------------------------------------------------
// The agenda lead's dashboard

/// Cases of `agenda` received and decided on each Prague day from `from` to `to` (both
/// included), for the dashboard's chart; only for who may read the agenda's dashboard.
pub async fn daily_counts(
    db: &Db,
    staff: &Staff,
    agenda: &str,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<crate::dashboard::DailyCounts, CaseError> {
    if !staff.may(Access::Read, Resource::Dashboard { agenda }) {
        return Err(CaseError::NotFound);
    }
    let tz = jiff::tz::TimeZone::get(crate::deadline::OFFICE_TIME_ZONE)
        .map_err(|_| CaseError::Unavailable("no time zone data".into()))?;
    let instant = |d: jiff::civil::Date| {
        d.to_zoned(tz.clone())
            .map(|z| z.timestamp().as_second())
            .map_err(|_| CaseError::Invalid("the period is out of range"))
    };
    let start = instant(from)?;
    let end = instant(
        to.tomorrow()
            .map_err(|_| CaseError::Invalid("the period is out of range"))?,
    )?;
    let day_of = |at: i64| {
        jiff::Timestamp::from_second(at)
            .map(|t| t.to_zoned(tz.clone()).date())
            .ok()
    };
    let opened = db
        .fetch_all(
            sql("SELECT opened_at AS at FROM case_file WHERE agenda = $1 AND opened_at >= $2 AND opened_at < $3")
                .bind(agenda)
                .bind(start)
                .bind(end),
        )
        .await?;
    let decided = db
        .fetch_all(
            sql(
                "SELECT d.issued_at AS at FROM decision d JOIN case_file c ON c.id = d.case_id \
                 WHERE c.agenda = $1 AND d.issued_at >= $2 AND d.issued_at < $3",
            )
            .bind(agenda)
            .bind(start)
            .bind(end),
        )
        .await?;
    let mut known = Vec::new();
    for (rows, is_received) in [(&opened, true), (&decided, false)] {
        for r in rows {
            if let Some(date) = day_of(r.get("at")?) {
                known.push(crate::dashboard::DayCount {
                    date,
                    received: u32::from(is_received),
                    decided: u32::from(!is_received),
                });
            }
        }
    }
    crate::dashboard::DailyCounts::for_range(from, to, known)
        .map_err(|_| CaseError::Invalid("the period is longer than two years"))
}

// ---------------------------------------------------------------------------------------
// Reminders

/// Days before a completion request's last day that its applicant is reminded.
pub const REMIND_DAYS_BEFORE: u32 = 3;

/// Open completion requests whose reminder is due at `now` (from the start of the day
/// [`REMIND_DAYS_BEFORE`] days before their last day, in Prague) and not sent yet, with their
/// cases.
pub async fn reminders_due(
    db: &Db,
    now: i64,
) -> Result<Vec<(CompletionRequest, CaseFile)>, CaseError> {
    // A superset by instants (summer time moves a day's start by an hour); the rule below.
    let horizon = now + i64::from(REMIND_DAYS_BEFORE + 1) * 86_400;
    let rows = db
        .fetch_all(
            sql(concat!(
                "SELECT ",
                request_columns!(),
                " FROM completion_request WHERE answered_at IS NULL AND lapsed_at IS NULL \
                 AND reminded_at IS NULL AND deadline_at > $1 AND deadline_at <= $2 \
                 ORDER BY deadline_at LIMIT 100"
            ))
            .bind(now)
            .bind(horizon),
        )
        .await?;
    let mut due = Vec::new();
    for r in rows {
        let request = CompletionRequest::from_row(&r)?;
        let remind_at = Deadline::in_days(request.requested_at, request.days as u32)?
            .remind_at(REMIND_DAYS_BEFORE);
        if remind_at <= now {
            if let Some(case) = get(db, &request.case_id).await? {
                due.push((request, case));
            }
        }
    }
    Ok(due)
}

/// Marks a request reminded, for the write that sends the reminder (changes nothing when it
/// was reminded, answered or lapsed meanwhile, so the reminder's statements after it do not
/// run either).
pub fn mark_reminded(request_id: &str, now: i64) -> Statement {
    sql(
        "UPDATE completion_request SET reminded_at = $2 WHERE id = $1 \
         AND reminded_at IS NULL AND answered_at IS NULL AND lapsed_at IS NULL",
    )
    .bind(request_id)
    .bind(now)
}
