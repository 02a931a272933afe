//! The back office's pages for the office's staff (`/urad/…`, in English `/en/office/…`):
//! the inbox of an official's agendas, a case file with its actions, and the registry
//! journal of the filing office. Server-rendered forms, working without JavaScript.
//!
//! Every request is checked here against the staff member's roles (`urad_cases::access`);
//! a case of an agenda that is not theirs is "not found", like a case that does not exist.
//! Opening a case is recorded in the access log before anything of it is shown.

use crate::account::{csrf_ok, current_viewer, Viewer};
use crate::error::{error_page_with, render};
use crate::form_pages::{
    answer_groups, no_store, prague_time, see_other, sign_in_first, AnswerGroup,
};
use crate::i18n::Tr;
use crate::pages::{Layout, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;
use urad_cases::access::{Access, Resource, Staff};
use urad_cases::agenda::BackOffice;
use urad_cases::cases::{self, CaseError, CaseFile, InboxFilter, Move};
pub(crate) use urad_cases::deadline::day_text;
use urad_core::Lang;

pub(crate) mod paths {
    use urad_core::Lang;

    pub fn inbox(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/urad",
            Lang::En => "/en/office",
        }
    }

    pub fn case(lang: Lang, id: &str) -> String {
        match lang {
            Lang::Cs => format!("/urad/spisy/{id}"),
            Lang::En => format!("/en/office/cases/{id}"),
        }
    }

    pub fn case_action(lang: Lang, id: &str, action: &str) -> String {
        format!("{}/{action}", case(lang, id))
    }

    /// The path segment of a case's action in `lang`.
    pub fn action(lang: Lang, action: &'static str) -> &'static str {
        match (lang, action) {
            (Lang::Cs, "assign") => "prideleni",
            (Lang::Cs, "move") => "krok",
            (Lang::Cs, "note") => "poznamka",
            (_, other) => other,
        }
    }

    pub fn journal(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/urad/podaci-denik",
            Lang::En => "/en/office/registry-journal",
        }
    }

    pub fn journal_csv(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/urad/podaci-denik.csv",
            Lang::En => "/en/office/registry-journal.csv",
        }
    }

    pub fn dashboard(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/urad/prehled",
            Lang::En => "/en/office/dashboard",
        }
    }

    pub fn dashboard_csv(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/urad/prehled.csv",
            Lang::En => "/en/office/dashboard.csv",
        }
    }

    pub fn handoffs(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/urad/predani",
            Lang::En => "/en/office/hand-offs",
        }
    }

    pub fn resend(lang: Lang, job: &str) -> String {
        format!(
            "{}/{job}/{}",
            handoffs(lang),
            match lang {
                Lang::Cs => "znovu",
                Lang::En => "resend",
            }
        )
    }

    pub fn reassign(lang: Lang, case: &str) -> String {
        format!("{}/{case}/agenda", journal(lang))
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/urad", get(|s, q| inbox(s, q, Lang::Cs)))
        .route("/en/office", get(|s, q| inbox(s, q, Lang::En)))
        .route(
            "/urad/spisy/{id}",
            get(|s, p, h| case_page(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/office/cases/{id}",
            get(|s, p, h| case_page(s, p, h, Lang::En)),
        )
        .route(
            "/urad/spisy/{id}/prilohy/{attachment}",
            get(|s, p, h| case_file_download(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/office/cases/{id}/files/{attachment}",
            get(|s, p, h| case_file_download(s, p, h, Lang::En)),
        )
        .route(
            "/urad/spisy/{id}/{action}",
            post(|s, p, h, f| case_post(s, p, h, f, Lang::Cs)),
        )
        .route(
            "/en/office/cases/{id}/{action}",
            post(|s, p, h, f| case_post(s, p, h, f, Lang::En)),
        )
        .route("/urad/predani", get(|s| handoffs(s, Lang::Cs)))
        .route("/en/office/hand-offs", get(|s| handoffs(s, Lang::En)))
        .route(
            "/urad/predani/{id}/znovu",
            post(|s, p, f| resend(s, p, f, Lang::Cs)),
        )
        .route(
            "/en/office/hand-offs/{id}/resend",
            post(|s, p, f| resend(s, p, f, Lang::En)),
        )
        .route("/urad/prehled", get(|s, q| dashboard(s, q, Lang::Cs)))
        .route(
            "/en/office/dashboard",
            get(|s, q| dashboard(s, q, Lang::En)),
        )
        .route(
            "/urad/prehled.csv",
            get(|s, q| dashboard_csv(s, q, Lang::Cs)),
        )
        .route(
            "/en/office/dashboard.csv",
            get(|s, q| dashboard_csv(s, q, Lang::En)),
        )
        .route("/urad/podaci-denik", get(|s, q| journal(s, q, Lang::Cs)))
        .route(
            "/en/office/registry-journal",
            get(|s, q| journal(s, q, Lang::En)),
        )
        .route(
            "/urad/podaci-denik.csv",
            get(|s, q| journal_csv(s, q, Lang::Cs)),
        )
        .route(
            "/en/office/registry-journal.csv",
            get(|s, q| journal_csv(s, q, Lang::En)),
        )
        .route(
            "/urad/podaci-denik/{id}/agenda",
            post(|s, p, h, f| reassign(s, p, h, f, Lang::Cs)),
        )
        .route(
            "/en/office/registry-journal/{id}/agenda",
            post(|s, p, h, f| reassign(s, p, h, f, Lang::En)),
        )
}

/// A request answered at once (sign in first, not staff, not found …).
type Refused = Box<Response>;

/// The signed-in member of staff; else the way to sign in, or a page saying that this part
/// is for the office's staff.
fn staff_member(state: &AppState, lang: Lang, back_to: &str) -> Result<(Viewer, Staff), Refused> {
    let Some(viewer) = current_viewer() else {
        return Err(Box::new(sign_in_first(lang, back_to)));
    };
    match viewer.staff.clone() {
        Some(staff) => Ok((viewer, staff)),
        None => Err(Box::new(message(
            state,
            lang,
            StatusCode::FORBIDDEN,
            "office-staff-only-title",
            "office-staff-only-text",
        ))),
    }
}

fn office(state: &AppState, lang: Lang) -> Result<Arc<BackOffice>, Refused> {
    state.back_office.clone().ok_or_else(|| {
        Box::new(message(
            state,
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            "office-unavailable-title",
            "office-unavailable-text",
        ))
    })
}

#[derive(Template)]
#[template(path = "back_office/message.html")]
struct MessagePage {
    layout: Layout,
    heading: String,
    text: String,
}

fn layout(state: &AppState, lang: Lang, title: String, twin: String) -> Layout {
    let mut l = Layout::new(lang, title, Page::Home, Some(state.catalog.clone()));
    l.switch_href = twin;
    l
}

fn message(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> Response {
    let tr = Tr::new(lang);
    let page = MessagePage {
        layout: layout(
            state,
            lang,
            tr.ts(heading),
            paths::inbox(lang.other()).into(),
        ),
        heading: tr.ts(heading),
        text: tr.ts(text),
    };
    no_store(render(status, &page))
}

fn case_error(state: &AppState, lang: Lang, headers: &HeaderMap, e: &CaseError) -> Response {
    match e {
        CaseError::NotFound => no_store(error_page_with(
            lang,
            StatusCode::NOT_FOUND,
            headers,
            Some(state.catalog.clone()),
        )),
        CaseError::Store(_)
        | CaseError::Audit(_)
        | CaseError::Deadline(_)
        | CaseError::Unavailable(_) => {
            tracing::error!(error = %e, "the back office failed");
            no_store(error_page_with(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                headers,
                Some(state.catalog.clone()),
            ))
        }
        other => {
            let status = match other {
                CaseError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::CONFLICT,
            };
            let tr = Tr::new(lang);
            let page = MessagePage {
                layout: layout(
                    state,
                    lang,
                    tr.ts("office-step-refused"),
                    paths::inbox(lang.other()).into(),
                ),
                heading: tr.ts("office-step-refused"),
                text: other.message(lang),
            };
            no_store(render(status, &page))
        }
    }
}

fn agenda_name(state: &AppState, key: &str, lang: Lang) -> String {
    state
        .catalog
        .agenda(key)
        .map_or_else(|| key.to_owned(), |a| a.name.get(lang).to_owned())
}

fn state_name(office: &BackOffice, case: &CaseFile, lang: Lang) -> String {
    office
        .workflows
        .get(&case.workflow)
        .and_then(|w| w.state(&case.state))
        .map_or_else(|| case.state.clone(), |s| s.name.get(lang).to_owned())
}

// ---------------------------------------------------------------------------------------
// The inbox

#[derive(Deserialize, Default)]
struct InboxQuery {
    #[serde(default)]
    agenda: String,
    #[serde(default)]
    state: String,
    /// `me`, `none` or empty (anybody).
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    overdue: String,
}

struct CaseRow {
    href: String,
    reference: String,
    agenda: String,
    state: String,
    received: String,
    due: String,
    overdue: bool,
    assignee: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "back_office/inbox.html")]
struct InboxPage {
    layout: Layout,
    action: String,
    agendas: Vec<Choice>,
    states: Vec<Choice>,
    assignees: Vec<Choice>,
    overdue_only: bool,
    counts: Vec<(String, i64)>,
    overdue: i64,
    rows: Vec<CaseRow>,
    journal_href: Option<String>,
    dashboard_href: Option<String>,
}

async fn inbox(State(state): State<AppState>, Query(q): Query<InboxQuery>, lang: Lang) -> Response {
    let here = paths::inbox(lang);
    let (_, staff) = match staff_member(&state, lang, here) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let office = match office(&state, lang) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let tr = Tr::new(lang);
    let filter = InboxFilter {
        agenda: (!q.agenda.is_empty()).then(|| q.agenda.clone()),
        state: (!q.state.is_empty()).then(|| q.state.clone()),
        assignee: match q.assignee.as_str() {
            "me" => Some(staff.person_id.clone()),
            "none" => Some(String::new()),
            _ => None,
        },
        overdue_only: q.overdue == "1",
        open_only: false,
    };
    let found = match cases::inbox(&state.db, state.clock.as_ref(), &staff, &filter, 200).await {
        Ok(f) => f,
        Err(e) => return case_error(&state, lang, &HeaderMap::new(), &e),
    };
    let now = state.clock.now();
    let mut states: Vec<Choice> = Vec::new();
    for agenda in staff.agendas() {
        for s in &office.workflow(agenda).states {
            if !states.iter().any(|c| c.value == s.key) {
                states.push(Choice {
                    value: s.key.clone(),
                    label: s.name.get(lang).to_owned(),
                    selected: q.state == s.key,
                });
            }
        }
    }
    let counts = found
        .counts
        .iter()
        .map(|(s, n)| {
            let label = states
                .iter()
                .find(|c| &c.value == s)
                .map_or_else(|| s.clone(), |c| c.label.clone());
            (label, *n)
        })
        .collect();
    let page = InboxPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-inbox-title"),
            paths::inbox(lang.other()).into(),
        ),
        action: here.into(),
        agendas: staff
            .agendas()
            .into_iter()
            .map(|a| Choice {
                value: a.to_owned(),
                label: agenda_name(&state, a, lang),
                selected: q.agenda == a,
            })
            .collect(),
        states,
        assignees: [
            ("", "office-anybody"),
            ("me", "office-me"),
            ("none", "office-nobody"),
        ]
        .into_iter()
        .map(|(v, k)| Choice {
            value: v.into(),
            label: tr.ts(k),
            selected: q.assignee == v,
        })
        .collect(),
        overdue_only: filter.overdue_only,
        counts,
        overdue: found.overdue,
        rows: found
            .cases
            .iter()
            .map(|c| CaseRow {
                href: paths::case(lang, &c.id),
                reference: c.reference.clone(),
                agenda: agenda_name(&state, &c.agenda, lang),
                state: state_name(&office, c, lang),
                received: prague_time(c.opened_at, lang),
                due: day_text(&c.due_last_day, lang),
                overdue: c.is_overdue(now),
                assignee: match &c.assignee_id {
                    Some(a) if *a == staff.person_id => tr.ts("office-me"),
                    Some(_) => tr.ts("office-someone"),
                    None => tr.ts("office-nobody"),
                },
            })
            .collect(),
        journal_href: staff
            .may(Access::Read, Resource::RegistryJournal)
            .then(|| paths::journal(lang).to_owned()),
        dashboard_href: led_agenda(&staff, "").map(|_| paths::dashboard(lang).to_owned()),
    };
    no_store(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------
// A case

struct EventRow {
    at: String,
    text: String,
    body: String,
}

struct MoveButton {
    key: String,
    label: String,
    /// A completion request asks for a message and days.
    completion: bool,
    /// A decision asks for its reasoning.
    decision: bool,
}

struct RequestRow {
    message: String,
    last_day: String,
    state: String,
}

#[derive(Template)]
#[template(path = "back_office/case.html")]
struct CasePage {
    layout: Layout,
    inbox_href: String,
    reference: String,
    form_title: String,
    agenda: String,
    state: String,
    received: String,
    due: String,
    overdue: bool,
    assignee: String,
    assigned_to_me: bool,
    csrf: String,
    revision: i64,
    assign_href: String,
    move_href: String,
    note_href: String,
    groups: Vec<AnswerGroup>,
    /// The submission's files: name, details and where to download them.
    files: Vec<(String, String, String)>,
    events: Vec<EventRow>,
    requests: Vec<RequestRow>,
    moves: Vec<MoveButton>,
    default_days: u32,
    closed: bool,
}

async fn case_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let here = paths::case(lang, &id);
    let (viewer, staff) = match staff_member(&state, lang, &here) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let office = match office(&state, lang) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let case = match cases::for_staff(&state.db, &staff, &id).await {
        Ok(c) => c,
        Err(e) => return case_error(&state, lang, &headers, &e),
    };
    // Recorded before anything of it is shown: no record, no look.
    if let Err(e) =
        cases::record_read(&state.db, state.clock.as_ref(), &staff, &case, "case_page").await
    {
        return case_error(&state, lang, &headers, &e);
    }
    let tr = Tr::new(lang);
    let received = urad_filing::received(&state.db, &case.submission_id).await;
    let (receipt, data) = match received {
        Ok(Some(r)) => r,
        Ok(None) => return case_error(&state, lang, &headers, &CaseError::NotFound),
        Err(e) => {
            tracing::error!(error = %e, "reading a case's submission failed");
            return case_error(
                &state,
                lang,
                &headers,
                &CaseError::NotAllowed("read".into()),
            );
        }
    };
    let form = state.forms.version(&receipt.form_id, receipt.form_version);
    let files: Vec<urad_filing::attachments::Attachment> =
        urad_filing::attachments::list(&state.db, &case.applicant_id, &case.submission_id)
            .await
            .unwrap_or_default();
    let groups = form
        .map(|f| answer_groups(f, &data, &files, lang, None))
        .unwrap_or_default();
    let file_links = files
        .iter()
        .map(|a| {
            (
                a.file_name.clone(),
                format!(
                    "{}, {}",
                    urad_filing::attachments::size_text(u64::try_from(a.size).unwrap_or(0), lang),
                    a.media_type
                ),
                match lang {
                    Lang::Cs => format!("/urad/spisy/{}/prilohy/{}", case.id, a.id),
                    Lang::En => format!("/en/office/cases/{}/files/{}", case.id, a.id),
                },
            )
        })
        .collect();
    let events = cases::events(&state.db, &case.id, false)
        .await
        .unwrap_or_default();
    let requests = cases::completion_requests(&state.db, &case.id)
        .await
        .unwrap_or_default();
    let workflow = office.workflow(&case.agenda);
    let roles = staff.roles_in(&case.agenda);
    let may_change = staff.may(
        Access::Change,
        Resource::Case {
            agenda: &case.agenda,
        },
    );
    let moves = if may_change {
        workflow
            .available(&case.state, &roles)
            .map(|t| MoveButton {
                key: t.key.clone(),
                label: t.name.get(lang).to_owned(),
                completion: t.action == Some(urad_cases::workflow::Action::RequestCompletion),
                decision: t.action == Some(urad_cases::workflow::Action::Decide),
            })
            .collect()
    } else {
        Vec::new()
    };
    let state_label = |key: &Option<String>| {
        key.as_deref()
            .and_then(|k| workflow.state(k))
            .map(|s| s.name.get(lang).to_owned())
            .unwrap_or_default()
    };
    let page = CasePage {
        layout: layout(
            &state,
            lang,
            format!("{} {}", tr.t("office-case-title"), case.reference),
            paths::case(lang.other(), &id),
        ),
        inbox_href: paths::inbox(lang).into(),
        reference: case.reference.clone(),
        form_title: form.map_or_else(
            || receipt.form_id.clone(),
            |f| f.ui.title.get(lang).to_owned(),
        ),
        agenda: agenda_name(&state, &case.agenda, lang),
        state: state_name(&office, &case, lang),
        received: prague_time(receipt.received_at, lang),
        due: day_text(&case.due_last_day, lang),
        overdue: case.is_overdue(state.clock.now()),
        assignee: match &case.assignee_id {
            Some(a) if *a == staff.person_id => tr.ts("office-me"),
            Some(_) => tr.ts("office-someone"),
            None => tr.ts("office-nobody"),
        },
        assigned_to_me: case.assignee_id.as_deref() == Some(staff.person_id.as_str()),
        csrf: viewer.csrf.clone(),
        revision: case.revision,
        assign_href: paths::case_action(lang, &id, paths::action(lang, "assign")),
        move_href: paths::case_action(lang, &id, paths::action(lang, "move")),
        note_href: paths::case_action(lang, &id, paths::action(lang, "note")),
        groups,
        files: file_links,
        events: events
            .iter()
            .map(|e| EventRow {
                at: prague_time(e.at, lang),
                text: match (e.kind.as_str(), &e.to_state) {
                    ("opened", _) => tr.ts("office-event-opened"),
                    ("note", _) => tr.ts("office-event-note"),
                    ("assigned", _) => tr.ts("office-event-assigned"),
                    ("reassigned", _) => tr.ts("office-event-reassigned"),
                    ("completion_requested", _) => tr.ts("office-event-completion-requested"),
                    ("completed", _) => tr.ts("office-event-completed"),
                    ("completion_lapsed", _) => tr.ts("office-event-lapsed"),
                    (_, to) => tr.t1("office-event-moved", "state", state_label(to)),
                },
                body: e.body.clone().unwrap_or_default(),
            })
            .collect(),
        requests: requests
            .iter()
            .map(|r| RequestRow {
                message: r.message.clone(),
                last_day: day_text(&r.last_day, lang),
                state: if r.answered_at.is_some() {
                    tr.ts("office-request-answered")
                } else if r.lapsed_at.is_some() {
                    tr.ts("office-request-lapsed")
                } else {
                    tr.ts("office-request-open")
                },
            })
            .collect(),
        moves,
        default_days: office.agenda(&case.agenda).completion_days,
        closed: case.closed_at.is_some(),
    };
    no_store(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct CaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    revision: i64,
    #[serde(default)]
    transition: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    assign: String,
}

async fn case_post(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CaseForm>,
    lang: Lang,
) -> Response {
    let here = paths::case(lang, &id);
    let (viewer, staff) = match staff_member(&state, lang, &here) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if !csrf_ok(&viewer, &form.csrf) {
        return message(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            "office-csrf-title",
            "office-csrf-text",
        );
    }
    let office = match office(&state, lang) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let db = &state.db;
    let clock = state.clock.as_ref();
    let done = match action.as_str() {
        "krok" | "move" => {
            let days = match form.days.trim() {
                "" => None,
                d => match d.parse::<u32>() {
                    Ok(d) => Some(d),
                    Err(_) => {
                        return case_error(
                            &state,
                            lang,
                            &headers,
                            &CaseError::Invalid("the completion period is 1 to 365 days"),
                        )
                    }
                },
            };
            let document = match decision_document(&state, &office, &staff, &id, &form).await {
                Ok(d) => d,
                Err(e) => return case_error(&state, lang, &headers, &e),
            };
            // One instant for the move and its notice: the deadline they name is one.
            let now = state.clock.now();
            let also = match notice_for_move(&state, &office, &staff, &id, &form, days, now).await {
                Ok(a) => a,
                Err(e) => return case_error(&state, lang, &headers, &e),
            };
            let m = Move {
                transition: &form.transition,
                revision: form.revision,
                message: Some(form.message.as_str()),
                days,
                reasoning: Some(form.message.as_str()).filter(|m| !m.trim().is_empty()),
                document: document.as_deref(),
                also,
            };
            let at_now = urad_core::ManualClock::at(now);
            cases::take(db, &at_now, &office, &staff, &id, &m)
                .await
                .map(|_| ())
        }
        "prideleni" | "assign" => {
            let to = (form.assign == "me").then_some(staff.person_id.as_str());
            cases::assign(db, clock, &staff, &id, form.revision, to)
                .await
                .map(|_| ())
        }
        "poznamka" | "note" => cases::add_note(db, clock, &staff, &id, &form.note).await,
        _ => Err(CaseError::NotFound),
    };
    match done {
        Ok(()) => see_other(&here),
        Err(e) => case_error(&state, lang, &headers, &e),
    }
}

/// For a move that tells the applicant something (a completion request, a decision): their
/// portal notice and e-mail job, to commit with the move. `now` is the instant the move is
/// made at, so that the deadline named is the one the move counts.
async fn notice_for_move(
    state: &AppState,
    office: &BackOffice,
    staff: &Staff,
    case_id: &str,
    form: &CaseForm,
    days: Option<u32>,
    now: i64,
) -> Result<Vec<urad_store::statement::Statement>, CaseError> {
    use urad_cases::workflow::{Action, DecisionKind};
    let Some(templates) = state.notifications.as_deref() else {
        return Ok(Vec::new());
    };
    let case = cases::for_staff(&state.db, staff, case_id).await?;
    let Some(t) = office.workflow(&case.agenda).transition(&form.transition) else {
        return Ok(Vec::new());
    };
    let (receipt, _) = urad_filing::received(&state.db, &case.submission_id)
        .await
        .map_err(|e| CaseError::Unavailable(format!("the submission cannot be read: {e}")))?
        .ok_or(CaseError::NotFound)?;
    let service = state
        .forms
        .version(&receipt.form_id, receipt.form_version)
        .map_or_else(
            || urad_core::Text::new(receipt.form_id.clone(), receipt.form_id.clone()),
            |f| f.ui.title.clone(),
        );
    let url = format!(
        "{}{}",
        state.issuer,
        crate::form_pages::paths::detail(Lang::Cs, &case.submission_id)
    );
    let notification = match (t.action, t.decision) {
        (Some(Action::RequestCompletion), _) => {
            let days = days.unwrap_or(office.agenda(&case.agenda).completion_days);
            let Ok(deadline) = urad_cases::deadline::Deadline::in_days(now, days) else {
                // The move refuses such a period itself.
                return Ok(Vec::new());
            };
            let day = deadline.last_day().to_string();
            urad_notify::Notification::new(&case.applicant_id, "completion_requested")
                .text(
                    "deadline",
                    urad_core::Text::new(day_text(&day, Lang::Cs), day_text(&day, Lang::En)),
                )
                .value("message", form.message.trim())
        }
        (Some(Action::Decide), Some(kind)) => {
            let (cs, en) = match kind {
                DecisionKind::Approve => ("žádosti se vyhovuje", "the application is granted"),
                DecisionKind::Reject => ("žádost se zamítá", "the application is rejected"),
                DecisionKind::Stop => ("řízení se zastavuje", "the proceedings are stopped"),
            };
            urad_notify::Notification::new(&case.applicant_id, "decision_issued")
                .text("decision", urad_core::Text::new(cs, en))
        }
        _ => return Ok(Vec::new()),
    };
    let email = urad_identity::sessions::latest_email(&state.db, &case.applicant_id)
        .await
        .map_err(|e| {
            CaseError::Unavailable(format!("the applicant's address cannot be read: {e}"))
        })?;
    let notification = notification
        .case(&case.id)
        .value("reference", case.reference.as_str())
        .text("service", service)
        .value("url", url)
        .identity_email(email.as_deref())
        .dedup_key(&format!("{}:{}:{}", t.key, case.id, case.revision));
    urad_notify::notify(&state.db, state.clock.as_ref(), templates, &notification)
        .await
        .map_err(|e| CaseError::Unavailable(format!("the notice cannot be prepared: {e}")))
}

/// For a move that issues a decision: the decision as a PDF/A document, in Czech (the
/// binding language), from the decision template; `None` for every other move.
async fn decision_document(
    state: &AppState,
    office: &BackOffice,
    staff: &Staff,
    case_id: &str,
    form: &CaseForm,
) -> Result<Option<Vec<u8>>, CaseError> {
    use urad_cases::workflow::{Action, DecisionKind};
    let case = cases::for_staff(&state.db, staff, case_id).await?;
    let Some(t) = office.workflow(&case.agenda).transition(&form.transition) else {
        return Ok(None);
    };
    let (Some(Action::Decide), Some(kind)) = (t.action, t.decision) else {
        return Ok(None);
    };
    let kind = match kind {
        DecisionKind::Approve => urad_documents::DecisionKind::Approve,
        DecisionKind::Reject => urad_documents::DecisionKind::Reject,
        DecisionKind::Stop => urad_documents::DecisionKind::Stop,
    };
    let (receipt, data) = urad_filing::received(&state.db, &case.submission_id)
        .await
        .map_err(|e| CaseError::Unavailable(format!("the submission cannot be read: {e}")))?
        .ok_or(CaseError::NotFound)?;
    let form_def = state.forms.version(&receipt.form_id, receipt.form_version);
    // The applicant as the form names them: the fields the office's forms use for it.
    let text_at = |paths: &[&str]| {
        paths
            .iter()
            .find_map(|p| {
                p.split('.')
                    .try_fold(&data, |v, k| v.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    };
    let service = form_def
        .and_then(|f| f.ui.service.as_deref())
        .and_then(|s| state.catalog.service(s));
    let catalogue_office = &state.catalog.office;
    let settings = office.agenda(&case.agenda);
    let now = state.clock.now();
    let tz = urad_cases::deadline::office_time_zone();
    let reasoning = form.message.trim().to_owned();
    let data = urad_documents::DecisionData {
        office: urad_documents::OfficeData {
            name: catalogue_office.name.clone(),
            address: catalogue_office.address.clone(),
            data_box: catalogue_office.data_box.clone(),
        },
        reference: case.reference.clone(),
        issued_on: jiff::Timestamp::from_second(now)
            .map(|t| t.to_zoned(tz).date())
            .unwrap_or_default(),
        issued_in: office.issued_in.clone(),
        applicant_name: text_at(&["applicant.name", "sender.name", "name"]),
        applicant_address: text_at(&["applicant.address", "sender.address", "address"]),
        subject: form_def.map_or_else(
            || urad_core::Text::new(receipt.form_id.clone(), receipt.form_id.clone()),
            |f| f.ui.title.clone(),
        ),
        kind,
        operative: urad_core::Text::default(),
        // Written in Czech; the English rendering says it is not translated.
        reasoning: urad_core::Text::new(reasoning, String::new()),
        appeal: urad_documents::appeal_instruction(
            kind,
            &settings.appeal_to,
            &office.appeal_office,
        ),
        official_name: staff.name.clone(),
        official_function: urad_core::Text::new("oprávněná úřední osoba", "authorised official"),
        legal_basis: service
            .map(|s| {
                s.legal_basis
                    .iter()
                    .map(|l| urad_core::Text::new(l.clone(), l.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    tokio::task::spawn_blocking(move || urad_documents::decision_pdf(&data, Lang::Cs))
        .await
        .map_err(|e| CaseError::Unavailable(format!("rendering the decision stopped: {e}")))?
        .map(Some)
        .map_err(|e| CaseError::Unavailable(format!("the decision cannot be rendered: {e}")))
}

// ---------------------------------------------------------------------------------------
// The registry journal

#[derive(Deserialize, Default)]
struct JournalQuery {
    /// A reference number, or part of one.
    #[serde(default)]
    q: String,
    #[serde(default)]
    agenda: String,
}

struct JournalRow {
    case_id: String,
    reassign_href: String,
    reference: String,
    received: String,
    form: String,
    agenda_key: String,
    agenda: String,
    state: String,
    reassignable: bool,
}

#[derive(Template)]
#[template(path = "back_office/journal.html")]
struct JournalPage {
    layout: Layout,
    action: String,
    csv_href: String,
    q: String,
    agendas: Vec<Choice>,
    all_agendas: Vec<Choice>,
    rows: Vec<JournalRow>,
    csrf: String,
}

/// What the journal lists: every received submission with its case, newest first.
async fn journal_rows(
    state: &AppState,
    office: &BackOffice,
    q: &JournalQuery,
    lang: Lang,
) -> Result<Vec<JournalRow>, CaseError> {
    let rows = state
        .db
        .fetch_all(
            urad_store::sql(
                "SELECT c.id, c.reference, c.agenda, c.workflow, c.state, s.received_at, s.form_id, s.form_version \
                 FROM case_file c JOIN submission s ON s.id = c.submission_id \
                 WHERE ($1 = '' OR c.reference LIKE $2) AND ($3 = '' OR c.agenda = $3) \
                 ORDER BY s.log_index DESC LIMIT 500",
            )
            .bind(q.q.trim())
            .bind(format!("%{}%", q.q.trim()))
            .bind(q.agenda.as_str()),
        )
        .await?;
    rows.iter()
        .map(|r| {
            let workflow: String = r.get("workflow")?;
            let state_key: String = r.get("state")?;
            let agenda_key: String = r.get("agenda")?;
            let form_id: String = r.get("form_id")?;
            let version: i64 = r.get("form_version")?;
            let w = office.workflows.get(&workflow);
            let case_id: String = r.get("id")?;
            Ok(JournalRow {
                reassign_href: paths::reassign(lang, &case_id),
                case_id,
                reference: r.get("reference")?,
                received: prague_time(r.get("received_at")?, lang),
                form: state
                    .forms
                    .version(&form_id, version as u32)
                    .map_or(form_id.clone(), |f| f.ui.title.get(lang).to_owned()),
                agenda: agenda_name(state, &agenda_key, lang),
                agenda_key,
                state: w
                    .and_then(|w| w.state(&state_key))
                    .map_or(state_key.clone(), |s| s.name.get(lang).to_owned()),
                reassignable: w.is_some_and(|w| w.initial == state_key),
            })
        })
        .collect::<Result<_, urad_store::StoreError>>()
        .map_err(CaseError::from)
}

/// What the journal's page and its CSV both need: the clerk (else the way to sign in or a
/// refusal), the back office, and the rows asked for.
async fn journal_of(
    state: &AppState,
    q: &JournalQuery,
    lang: Lang,
) -> Result<(Viewer, Arc<BackOffice>, Vec<JournalRow>), Refused> {
    let (viewer, staff) = staff_member(state, lang, paths::journal(lang))?;
    if !staff.may(Access::Read, Resource::RegistryJournal) {
        return Err(Box::new(message(
            state,
            lang,
            StatusCode::FORBIDDEN,
            "office-journal-only-title",
            "office-journal-only-text",
        )));
    }
    let office = office(state, lang)?;
    let rows = journal_rows(state, &office, q, lang)
        .await
        .map_err(|e| Box::new(case_error(state, lang, &HeaderMap::new(), &e)))?;
    Ok((viewer, office, rows))
}

/// A CSV export as a download named `file_name`.
fn csv_download(csv: String, file_name: &'static str) -> Response {
    let mut response = csv.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    no_store(response)
}

async fn journal(
    State(state): State<AppState>,
    Query(q): Query<JournalQuery>,
    lang: Lang,
) -> Response {
    let (viewer, office, rows) = match journal_of(&state, &q, lang).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let here = paths::journal(lang);
    let tr = Tr::new(lang);
    let choices = |selected: &str| {
        office
            .agendas
            .keys()
            .map(|k| Choice {
                value: k.clone(),
                label: agenda_name(&state, k, lang),
                selected: selected == k,
            })
            .collect::<Vec<_>>()
    };
    let page = JournalPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-journal-title"),
            paths::journal(lang.other()).into(),
        ),
        action: here.into(),
        csv_href: format!(
            "{}?{}",
            paths::journal_csv(lang),
            serde_urlencoded::to_string([("q", q.q.as_str()), ("agenda", q.agenda.as_str())])
                .unwrap_or_default()
        ),
        q: q.q.clone(),
        agendas: choices(&q.agenda),
        all_agendas: choices(""),
        rows,
        csrf: viewer.csrf.clone(),
    };
    no_store(render(StatusCode::OK, &page))
}

/// One CSV field (RFC 4180): quoted when it holds a separator, a quote or a line break.
/// A leading `=`, `+`, `-` or `@` is prefixed with `'`, so that a spreadsheet does not run it
/// as a formula (CSV injection).
fn csv_field(value: &str) -> String {
    let value = match value.chars().next() {
        Some('=' | '+' | '-' | '@') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

async fn journal_csv(
    State(state): State<AppState>,
    Query(q): Query<JournalQuery>,
    lang: Lang,
) -> Response {
    let (_, _, rows) = match journal_of(&state, &q, lang).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let tr = Tr::new(lang);
    let mut csv = [
        "office-col-reference",
        "office-col-received",
        "office-col-form",
        "office-col-agenda",
        "office-col-state",
    ]
    .iter()
    .map(|k| csv_field(tr.t(k)))
    .collect::<Vec<_>>()
    .join(",");
    csv.push_str("\r\n");
    for r in &rows {
        let line = [&r.reference, &r.received, &r.form, &r.agenda, &r.state]
            .iter()
            .map(|v| csv_field(v))
            .collect::<Vec<_>>()
            .join(",");
        csv.push_str(&line);
        csv.push_str("\r\n");
    }
    csv_download(csv, "podaci-denik.csv")
}

#[derive(Deserialize)]
struct ReassignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    agenda: String,
}

async fn reassign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ReassignForm>,
    lang: Lang,
) -> Response {
    let here = paths::journal(lang);
    let (viewer, staff) = match staff_member(&state, lang, here) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if !csrf_ok(&viewer, &form.csrf) {
        return message(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            "office-csrf-title",
            "office-csrf-text",
        );
    }
    let office = match office(&state, lang) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    match cases::reassign(
        &state.db,
        state.clock.as_ref(),
        &office,
        &staff,
        &id,
        &form.agenda,
    )
    .await
    {
        Ok(_) => see_other(here),
        Err(e) => case_error(&state, lang, &headers, &e),
    }
}

// ---------------------------------------------------------------------------------------
// The agenda lead's dashboard

#[derive(Deserialize, Default)]
struct DashboardQuery {
    #[serde(default)]
    agenda: String,
}

/// How many days back the dashboard's chart goes.
const DASHBOARD_DAYS: i64 = 30;

#[derive(Template)]
#[template(path = "back_office/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    action: String,
    agendas: Vec<Choice>,
    counts: Vec<(String, i64)>,
    overdue: i64,
    chart: String,
    table: urad_cases::dashboard::DataTable,
    csv_href: String,
}

/// The agendas whose dashboard `staff` may read, and the one asked for (else the first).
fn led_agenda(staff: &Staff, asked: &str) -> Option<(Vec<String>, String)> {
    let led: Vec<String> = staff
        .agendas()
        .into_iter()
        .filter(|a| staff.may(Access::Read, Resource::Dashboard { agenda: a }))
        .map(str::to_owned)
        .collect();
    let chosen = led
        .iter()
        .find(|a| *a == asked)
        .or_else(|| led.first())?
        .clone();
    Some((led, chosen))
}

async fn dashboard_data(
    state: &AppState,
    staff: &Staff,
    agenda: &str,
) -> Result<urad_cases::dashboard::DailyCounts, CaseError> {
    let tz = urad_cases::deadline::office_time_zone();
    let today = jiff::Timestamp::from_second(state.clock.now())
        .map(|t| t.to_zoned(tz).date())
        .unwrap_or_default();
    let from = today
        .checked_sub(jiff::Span::new().days(DASHBOARD_DAYS - 1))
        .unwrap_or(today);
    cases::daily_counts(&state.db, staff, agenda, from, today).await
}

/// What the overview and its CSV both need: a head of agenda (else the way to sign in or a
/// refusal), the agendas they lead, the one shown and its daily counts.
async fn dashboard_of(
    state: &AppState,
    q: &DashboardQuery,
    lang: Lang,
) -> Result<
    (
        Staff,
        Vec<String>,
        String,
        urad_cases::dashboard::DailyCounts,
    ),
    Refused,
> {
    let (_, staff) = staff_member(state, lang, paths::dashboard(lang))?;
    let Some((led, agenda)) = led_agenda(&staff, &q.agenda) else {
        return Err(Box::new(message(
            state,
            lang,
            StatusCode::FORBIDDEN,
            "office-leads-only-title",
            "office-leads-only-text",
        )));
    };
    let counts = dashboard_data(state, &staff, &agenda)
        .await
        .map_err(|e| Box::new(case_error(state, lang, &HeaderMap::new(), &e)))?;
    Ok((staff, led, agenda, counts))
}

async fn dashboard(
    State(state): State<AppState>,
    Query(q): Query<DashboardQuery>,
    lang: Lang,
) -> Response {
    let (staff, led, agenda, counts) = match dashboard_of(&state, &q, lang).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let office = match office(&state, lang) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let here = paths::dashboard(lang);
    let filter = InboxFilter {
        agenda: Some(agenda.clone()),
        ..InboxFilter::default()
    };
    let inbox = match cases::inbox(&state.db, state.clock.as_ref(), &staff, &filter, 0).await {
        Ok(i) => i,
        Err(e) => return case_error(&state, lang, &HeaderMap::new(), &e),
    };
    let workflow = office.workflow(&agenda);
    let tr = Tr::new(lang);
    let name = agenda_name(&state, &agenda, lang);
    let page = DashboardPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-dashboard-title"),
            paths::dashboard(lang.other()).into(),
        ),
        action: here.into(),
        agendas: led
            .iter()
            .map(|a| Choice {
                value: a.clone(),
                label: agenda_name(&state, a, lang),
                selected: *a == agenda,
            })
            .collect(),
        counts: inbox
            .counts
            .iter()
            .map(|(s, n)| {
                let label = workflow
                    .state(s)
                    .map_or_else(|| s.clone(), |st| st.name.get(lang).to_owned());
                (label, *n)
            })
            .collect(),
        overdue: inbox.overdue,
        chart: urad_cases::dashboard::svg(
            &counts,
            lang,
            &urad_cases::dashboard::Chart {
                id: "daily",
                agenda: Some(&name),
            },
        ),
        table: urad_cases::dashboard::table(&counts, lang),
        csv_href: format!("{}?agenda={agenda}", paths::dashboard_csv(lang)),
    };
    no_store(render(StatusCode::OK, &page))
}

async fn dashboard_csv(
    State(state): State<AppState>,
    Query(q): Query<DashboardQuery>,
    lang: Lang,
) -> Response {
    let (_, _, _, counts) = match dashboard_of(&state, &q, lang).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    csv_download(
        urad_cases::dashboard::csv(&counts, lang),
        "prehled-agendy.csv",
    )
}

// ---------------------------------------------------------------------------------------
// The hand-offs to the records-management system: the visible queue

struct HandoffRow {
    reference: String,
    state: String,
    attempts: i64,
    error: String,
    when: String,
    resend_href: Option<String>,
}

#[derive(Template)]
#[template(path = "back_office/handoffs.html")]
struct HandoffPage {
    layout: Layout,
    counts: Vec<(String, i64)>,
    rows: Vec<HandoffRow>,
    csrf: String,
}

async fn handoffs(State(state): State<AppState>, lang: Lang) -> Response {
    let here = paths::handoffs(lang);
    let (viewer, staff) = match staff_member(&state, lang, here) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if !staff.may(Access::Read, Resource::RecordsQueue) {
        return message(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            "office-queue-only-title",
            "office-queue-only-text",
        );
    }
    let queue = cases::RECORDS_QUEUE;
    let (counts, jobs) = match (
        urad_jobs::counts(&state.db, queue).await,
        urad_jobs::list(&state.db, queue, None, 100).await,
    ) {
        (Ok(c), Ok(j)) => (c, j),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "cannot read the hand-off queue");
            return case_error(
                &state,
                lang,
                &HeaderMap::new(),
                &CaseError::Unavailable(e.to_string()),
            );
        }
    };
    let tr = Tr::new(lang);
    let mut rows = Vec::new();
    for job in &jobs {
        let case_id = job
            .payload::<serde_json::Value>()
            .ok()
            .and_then(|p| p["case_id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let reference = match cases::get(&state.db, &case_id).await {
            Ok(Some(c)) => c.reference,
            _ => case_id,
        };
        let failed = job.state == urad_jobs::JobState::Failed;
        rows.push(HandoffRow {
            reference,
            state: tr.ts(&format!("office-job-{}", job.state.code())),
            attempts: job.attempts,
            error: job.last_error.clone().unwrap_or_default(),
            when: prague_time(job.finished_at.unwrap_or(job.run_at), lang),
            resend_href: failed.then(|| paths::resend(lang, &job.id)),
        });
    }
    let page = HandoffPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-queue-title"),
            paths::handoffs(lang.other()).into(),
        ),
        counts: [
            ("pending", counts.pending),
            ("running", counts.running),
            ("done", counts.done),
            ("failed", counts.failed),
        ]
        .iter()
        .map(|(k, n)| (tr.ts(&format!("office-job-{k}")), *n))
        .collect(),
        rows,
        csrf: viewer.csrf.clone(),
    };
    no_store(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct ResendForm {
    #[serde(default)]
    csrf: String,
}

async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ResendForm>,
    lang: Lang,
) -> Response {
    let here = paths::handoffs(lang);
    let (viewer, staff) = match staff_member(&state, lang, here) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if !staff.may(Access::Change, Resource::RecordsQueue) {
        return message(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            "office-queue-only-title",
            "office-queue-only-text",
        );
    }
    if !csrf_ok(&viewer, &form.csrf) {
        return message(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            "office-csrf-title",
            "office-csrf-text",
        );
    }
    // Only this queue's jobs are resent from here.
    match urad_jobs::get(&state.db, &id).await {
        Ok(Some(job)) if job.queue == cases::RECORDS_QUEUE => {}
        _ => return case_error(&state, lang, &HeaderMap::new(), &CaseError::NotFound),
    }
    match urad_jobs::resend(&state.db, state.clock.as_ref(), &id).await {
        Ok(_) => see_other(here),
        Err(e) => case_error(
            &state,
            lang,
            &HeaderMap::new(),
            &CaseError::Unavailable(e.to_string()),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// A case's files

/// One attached file of the case's submission, for officials of its agenda; recorded in the
/// access log before it is sent.
async fn case_file_download(
    State(state): State<AppState>,
    Path((id, attachment)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let here = paths::case(lang, &id);
    let (_, staff) = match staff_member(&state, lang, &here) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let case = match cases::for_staff(&state.db, &staff, &id).await {
        Ok(c) => c,
        Err(e) => return case_error(&state, lang, &headers, &e),
    };
    let Some(store) = &state.attachments else {
        return case_error(
            &state,
            lang,
            &headers,
            &CaseError::Unavailable("no blob store".into()),
        );
    };
    let (file, bytes) =
        match urad_filing::attachments::read(store, &case.applicant_id, &attachment).await {
            Ok((a, b)) if a.draft_id == case.submission_id => (a, b),
            _ => return case_error(&state, lang, &headers, &CaseError::NotFound),
        };
    if let Err(e) =
        cases::record_read(&state.db, state.clock.as_ref(), &staff, &case, "attachment").await
    {
        return case_error(&state, lang, &headers, &e);
    }
    let mut response = axum::body::Body::from_stream(bytes).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    no_store(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("KUMSK 1/2026"), "KUMSK 1/2026");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
