//! What the applicant sees of the back office: the state of the case their submission opened
//! and its public timeline, completion requests they answer through the portal, the decision
//! delivered to them, and "Who accessed my data" — every office access to their data with
//! the agenda and purpose (as Estonia's data tracker shows it).

use crate::account::{csrf_ok, current_viewer, Viewer};
use crate::error::{error_page_with, render};
use crate::form_pages::{no_store, paths as form_paths, prague_time, see_other, sign_in_first};
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
use urad_cases::cases;
use urad_core::Lang;

pub(crate) mod paths {
    use urad_core::Lang;

    pub fn complete(lang: Lang, submission: &str, request: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{submission}/doplnit/{request}"),
            Lang::En => format!("/en/my-submissions/{submission}/complete/{request}"),
        }
    }

    pub fn decision(lang: Lang, submission: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{submission}/rozhodnuti"),
            Lang::En => format!("/en/my-submissions/{submission}/decision"),
        }
    }

    pub fn messages(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/zpravy",
            Lang::En => "/en/messages",
        }
    }

    pub fn who_accessed(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/kdo-videl-moje-udaje",
            Lang::En => "/en/who-accessed-my-data",
        }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/moje-podani/{id}/doplnit/{request}",
            post(|s, p, h, f| complete(s, p, h, f, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/complete/{request}",
            post(|s, p, h, f| complete(s, p, h, f, Lang::En)),
        )
        .route(
            "/moje-podani/{id}/rozhodnuti",
            get(|s, p, h| decision(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/decision",
            get(|s, p, h| decision(s, p, h, Lang::En)),
        )
        .route("/zpravy", get(|s| messages(s, Lang::Cs)))
        .route("/en/messages", get(|s| messages(s, Lang::En)))
        .route(
            "/kdo-videl-moje-udaje",
            get(|s, q| who_accessed(s, q, Lang::Cs)),
        )
        .route(
            "/en/who-accessed-my-data",
            get(|s, q| who_accessed(s, q, Lang::En)),
        )
}

fn status_page(state: &AppState, lang: Lang, status: StatusCode, headers: &HeaderMap) -> Response {
    no_store(error_page_with(
        lang,
        status,
        headers,
        Some(state.catalog.clone()),
    ))
}

// ---------------------------------------------------------------------------------------
// The case on the submission's page

/// An open completion request, with the way to answer it.
pub(crate) struct OpenRequest {
    pub message: String,
    pub last_day: String,
    pub action: String,
}

/// The applicant's view of the case their submission opened.
pub(crate) struct CaseView {
    pub state: String,
    pub events: Vec<(String, String)>,
    pub requests: Vec<OpenRequest>,
    pub decision_href: Option<String>,
    pub csrf: String,
}

/// The case of `submission_id` as its applicant sees it; `None` before intake took it in,
/// or when it is not theirs.
pub(crate) async fn view(
    state: &AppState,
    viewer: &Viewer,
    submission_id: &str,
    lang: Lang,
) -> Option<CaseView> {
    let office = state.back_office.as_ref()?;
    let case = cases::of_submission(&state.db, submission_id)
        .await
        .ok()??;
    if case.applicant_id != viewer.person_id {
        return None;
    }
    let tr = Tr::new(lang);
    let workflow = office.workflows.get(&case.workflow)?;
    let public_state = |key: &str| {
        workflow
            .state(key)
            .map_or_else(|| key.to_owned(), |s| s.public_name().get(lang).to_owned())
    };
    let events = cases::events(&state.db, &case.id, true)
        .await
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let what = match e.kind.as_str() {
                "opened" => tr.ts("case-event-opened"),
                "completion_requested" => tr.ts("case-event-completion-requested"),
                "completed" => tr.ts("case-event-completed"),
                "completion_lapsed" => tr.ts("case-event-lapsed"),
                "decided" => tr.ts("case-event-decided"),
                _ => tr.t1(
                    "case-event-moved",
                    "state",
                    public_state(e.to_state.as_deref().unwrap_or("")),
                ),
            };
            (what, prague_time(e.at, lang))
        })
        .collect();
    let now = state.clock.now();
    let requests = cases::completion_requests(&state.db, &case.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.is_open() && r.deadline_at > now)
        .map(|r| OpenRequest {
            message: r.message.clone(),
            last_day: crate::back_office::day_text(&r.last_day, lang),
            action: paths::complete(lang, submission_id, &r.id),
        })
        .collect();
    let decision = cases::decision_of_case(&state.db, &case.id)
        .await
        .ok()
        .flatten();
    Some(CaseView {
        state: public_state(&case.state),
        events,
        requests,
        decision_href: decision.map(|_| paths::decision(lang, submission_id)),
        csrf: viewer.csrf.clone(),
    })
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// "Complete it": a draft of the general submission, linked to the request, so that when it
/// is sent the case goes on; the person fills it like any form.
async fn complete(
    State(state): State<AppState>,
    Path((id, request)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfOnly>,
    lang: Lang,
) -> Response {
    let back = form_paths::detail(lang, &id);
    let Some(viewer) = current_viewer() else {
        return sign_in_first(lang, &back);
    };
    if !csrf_ok(&viewer, &form.csrf) {
        return status_page(&state, lang, StatusCode::FORBIDDEN, &headers);
    }
    let Ok(Some(case)) = cases::of_submission(&state.db, &id).await else {
        return status_page(&state, lang, StatusCode::NOT_FOUND, &headers);
    };
    if case.applicant_id != viewer.person_id {
        return status_page(&state, lang, StatusCode::NOT_FOUND, &headers);
    }
    // Answering again continues the draft already started for it.
    if let Ok(Some(r)) = cases::completion_requests(&state.db, &case.id)
        .await
        .map(|all| all.into_iter().find(|r| r.id == request))
    {
        let open = r.is_open();
        if let Some(draft) = r.answer_draft_id.filter(|_| open) {
            return see_other(&form_paths::resume(lang, &draft));
        }
    }
    let tr = Tr::new(lang);
    let data = serde_json::json!({
        "subject": tr.t1("case-completion-subject", "reference", case.reference.as_str()),
    });
    let draft = match urad_filing::new_draft(
        &state.db,
        state.clock.as_ref(),
        &state.forms,
        &viewer.person_id,
        COMPLETION_FORM,
        &data,
    )
    .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the answer to a completion request");
            return status_page(&state, lang, StatusCode::SERVICE_UNAVAILABLE, &headers);
        }
    };
    match cases::start_answer(
        &state.db,
        state.clock.as_ref(),
        &viewer.person_id,
        &request,
        &draft.id,
    )
    .await
    {
        Ok(()) => see_other(&form_paths::resume(lang, &draft.id)),
        Err(cases::CaseError::NoOpenRequest) => {
            let _ =
                urad_filing::of_person::delete_draft(&state.db, &viewer.person_id, &draft.id).await;
            status_page(&state, lang, StatusCode::CONFLICT, &headers)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot link the answer to its completion request");
            status_page(&state, lang, StatusCode::SERVICE_UNAVAILABLE, &headers)
        }
    }
}

/// The form a completion is sent with: the general submission, with its text and files.
const COMPLETION_FORM: &str = "obecne-podani";

async fn decision(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let back = paths::decision(lang, &id);
    let Some(viewer) = current_viewer() else {
        return sign_in_first(lang, &back);
    };
    let Ok(Some(case)) = cases::of_submission(&state.db, &id).await else {
        return status_page(&state, lang, StatusCode::NOT_FOUND, &headers);
    };
    match cases::decision_pdf(&state.db, &viewer.person_id, &case.id).await {
        Ok(Some(pdf)) => {
            let mut r = pdf.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            let name = format!(
                "attachment; filename=\"rozhodnuti-{}.pdf\"",
                case.reference.replace(['/', ' '], "-")
            );
            if let Ok(v) = HeaderValue::from_str(&name) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            no_store(r)
        }
        Ok(None) => status_page(&state, lang, StatusCode::NOT_FOUND, &headers),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a decision");
            status_page(&state, lang, StatusCode::SERVICE_UNAVAILABLE, &headers)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Who accessed my data

#[derive(Deserialize, Default)]
struct AccessQuery {
    /// Entries before this sequence number (the next page).
    before: Option<i64>,
}

/// One access to someone's data, in words: what the citizen sees of it (and the
/// administrator's view of the whole log shows beside the identifiers).
pub(crate) struct AccessRow {
    pub when: String,
    pub who: String,
    pub role: String,
    pub what: String,
    pub agenda: String,
    pub purpose: String,
    pub reference: String,
}

/// An entry of the access log in words, in `lang`; codes without a text show as stored.
pub(crate) fn access_row(state: &AppState, r: &urad_audit::Recorded, lang: Lang) -> AccessRow {
    let tr = Tr::new(lang);
    let text = |key: String, fallback: &str| {
        let t = tr.ts(&key);
        if t == key {
            fallback.to_owned()
        } else {
            t
        }
    };
    let e = &r.entry;
    let detail = |k: &str| e.details.get(k).and_then(|v| v.as_str()).unwrap_or("");
    AccessRow {
        when: prague_time(r.at, lang),
        who: match detail("actor_name") {
            "" => tr.ts("access-an-official"),
            name => name.to_owned(),
        },
        role: text(format!("access-role-{}", e.actor_role), &e.actor_role),
        what: text(
            format!("access-what-{}", detail("what").replace('_', "-")),
            e.action.code(),
        ),
        agenda: e
            .agenda
            .as_deref()
            .and_then(|a| state.catalog.agenda(a))
            .map_or_else(
                || e.agenda.clone().unwrap_or_default(),
                |a| a.name.get(lang).to_owned(),
            ),
        purpose: text(
            format!("access-purpose-{}", e.purpose.replace('_', "-")),
            &e.purpose,
        ),
        reference: detail("reference").to_owned(),
    }
}

#[derive(Template)]
#[template(path = "who_accessed.html")]
struct WhoAccessedPage {
    layout: Layout,
    rows: Vec<AccessRow>,
    next_href: Option<String>,
}

const PAGE: u32 = 50;

async fn who_accessed(
    State(state): State<AppState>,
    Query(q): Query<AccessQuery>,
    lang: Lang,
) -> Response {
    let here = paths::who_accessed(lang);
    let Some(viewer) = current_viewer() else {
        return sign_in_first(lang, here);
    };
    let page = urad_audit::Page {
        before: q.before,
        limit: PAGE,
    };
    let entries = match urad_audit::for_subject(&state.db, &viewer.person_id, page).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the access log");
            return status_page(
                &state,
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                &HeaderMap::new(),
            );
        }
    };
    let tr = Tr::new(lang);
    let rows = entries
        .iter()
        .map(|r| access_row(&state, r, lang))
        .collect();
    let next_href = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|r| format!("{here}?before={}", r.seq)))
        .flatten();
    let mut layout = Layout::new(
        lang,
        tr.ts("access-title"),
        Page::Home,
        Some(state.catalog.clone()),
    );
    layout.switch_href = paths::who_accessed(lang.other()).into();
    no_store(render(
        StatusCode::OK,
        &WhoAccessedPage {
            layout,
            rows,
            next_href,
        },
    ))
}

// ---------------------------------------------------------------------------------------
// The portal inbox: notices from the office

struct MessageRow {
    when: String,
    title: String,
    body: Vec<String>,
    unread: bool,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    layout: Layout,
    rows: Vec<MessageRow>,
    settings_href: &'static str,
}

/// The office's notices to the signed-in person, newest first; opening the page reads them.
async fn messages(State(state): State<AppState>, lang: Lang) -> Response {
    let here = paths::messages(lang);
    let Some(viewer) = current_viewer() else {
        return sign_in_first(lang, here);
    };
    let notices = match urad_notify::notices::notices_of(&state.db, &viewer.person_id, 100).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "cannot read notices");
            return status_page(
                &state,
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                &HeaderMap::new(),
            );
        }
    };
    let _ = urad_notify::notices::mark_all_read(&state.db, state.clock.as_ref(), &viewer.person_id)
        .await;
    let tr = Tr::new(lang);
    let mut layout = Layout::new(
        lang,
        tr.ts("messages-title"),
        Page::Home,
        Some(state.catalog.clone()),
    );
    layout.switch_href = paths::messages(lang.other()).into();
    let rows = notices
        .iter()
        .map(|n| MessageRow {
            when: prague_time(n.created_at, lang),
            title: n.title.get(lang).to_owned(),
            body: n
                .body
                .get(lang)
                .split("\n\n")
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            unread: n.read_at.is_none(),
        })
        .collect();
    no_store(render(
        StatusCode::OK,
        &MessagesPage {
            layout,
            rows,
            settings_href: crate::notification_settings::paths::settings(lang),
        },
    ))
}
