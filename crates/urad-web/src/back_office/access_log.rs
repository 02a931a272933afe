//! The administrator's view of the whole access log: every recorded read, change, export and
//! decision of everybody's data, filtered by whose data, which official, which case or what
//! was done, newest first, with the chain's head to write down as an anchor for
//! `urad audit verify --anchor` (docs/audit.md).
//!
//! The log holds identifiers and purposes, not the data itself; what the entries are about
//! is read on the case pages, where each look is recorded in turn.

use super::*;
use crate::applicant_cases::access_row;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/urad/pristupy", get(|s, q| access_log(s, q, Lang::Cs)))
        .route(
            "/en/office/access-log",
            get(|s, q| access_log(s, q, Lang::En)),
        )
}

#[derive(Deserialize, Default)]
struct LogQuery {
    /// Whose data: a person id.
    #[serde(default)]
    person: String,
    /// Which official: a person id.
    #[serde(default)]
    official: String,
    /// A case's reference number, whole.
    #[serde(default)]
    reference: String,
    #[serde(default)]
    action: String,
    /// Entries before this sequence number (the next page).
    before: Option<i64>,
}

struct LogRow {
    seq: i64,
    subject: String,
    actor: String,
    action: String,
    resource: String,
    /// The row in words, as the citizen sees it.
    words: crate::applicant_cases::AccessRow,
}

#[derive(Template)]
#[template(path = "back_office/access_log.html")]
struct AccessLogPage {
    layout: Layout,
    action: String,
    person: String,
    official: String,
    reference: String,
    actions: Vec<Choice>,
    rows: Vec<LogRow>,
    /// The reference number asked for names no case.
    unknown_reference: bool,
    head_seq: i64,
    head_hash: String,
    next_href: Option<String>,
}

const PAGE: u32 = 100;

/// The action codes an entry has, for the filter.
const ACTIONS: [&str; 4] = ["read", "change", "decision", "export"];

async fn access_log(
    State(state): State<AppState>,
    Query(q): Query<LogQuery>,
    lang: Lang,
) -> Answer {
    let here = paths::access_log(lang);
    let (_, staff) = staff_member(&state, lang, here)?;
    if !staff.may(Access::Read, Resource::AuditLog) {
        return Err(message(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            "office-log-only-title",
            "office-log-only-text",
        )
        .into());
    }
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "cannot read the access log");
        failed(
            &state,
            lang,
            &HeaderMap::new(),
            &CaseError::Unavailable(e.to_string()),
        )
    };
    let reference = q.reference.trim();
    let case = if reference.is_empty() {
        None
    } else {
        cases::by_reference(&state.db, reference)
            .await
            .map_err(|e| unavailable(&e))?
    };
    let unknown_reference = !reference.is_empty() && case.is_none();
    let filter = urad_audit::Filter {
        subject_person_id: q.person.clone(),
        actor_person_id: q.official.clone(),
        case_id: case.map(|c| c.id).unwrap_or_default(),
        action: q.action.clone(),
    };
    let entries = if unknown_reference {
        Vec::new()
    } else {
        let page = urad_audit::Page {
            before: q.before,
            limit: PAGE,
        };
        urad_audit::search(&state.db, &filter, page)
            .await
            .map_err(|e| unavailable(&e))?
    };
    let head = urad_audit::head(&state.db).await.ok();
    let tr = Tr::new(lang);
    // A code a newer release wrote shows as stored.
    let action_name = |code: &str| {
        let key = format!("office-log-action-{code}");
        let text = tr.ts(&key);
        if text == key {
            code.to_owned()
        } else {
            text
        }
    };
    let next_href = (entries.len() == PAGE as usize)
        .then(|| entries.last())
        .flatten()
        .map(|last| {
            let query = serde_urlencoded::to_string([
                ("person", q.person.as_str()),
                ("official", q.official.as_str()),
                ("reference", reference),
                ("action", q.action.as_str()),
                ("before", &last.seq.to_string()),
            ])
            .unwrap_or_default();
            format!("{here}?{query}")
        });
    let page = AccessLogPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-log-title"),
            paths::access_log(lang.other()).into(),
        ),
        action: here.into(),
        person: q.person.clone(),
        official: q.official.clone(),
        reference: reference.to_owned(),
        actions: ACTIONS
            .iter()
            .map(|a| Choice {
                value: (*a).to_owned(),
                label: action_name(a),
                selected: q.action == *a,
            })
            .collect(),
        rows: entries
            .iter()
            .map(|r| LogRow {
                seq: r.seq,
                subject: r.entry.subject_person_id.clone(),
                actor: r.entry.actor_person_id.clone(),
                action: action_name(r.entry.action.code()),
                resource: format!("{} {}", r.entry.resource_kind, r.entry.resource_id),
                words: access_row(&state, r, lang),
            })
            .collect(),
        unknown_reference,
        head_seq: head.as_ref().map_or(0, |h| h.seq),
        head_hash: head.map(|h| h.chain_hash).unwrap_or_default(),
        next_href,
    };
    Ok(no_store(render(StatusCode::OK, &page)))
}
