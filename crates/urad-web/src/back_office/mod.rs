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

mod access_log;
mod case;
mod dashboard;
mod inbox;
mod journal;
mod queues;

use dashboard::led_agenda;

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

    pub fn mail(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/urad/odchozi-posta",
            Lang::En => "/en/office/outgoing-mail",
        }
    }

    /// Sending a failed job of the queue at `queue_path` again.
    pub fn resend(queue_path: &str, lang: Lang, job: &str) -> String {
        format!(
            "{queue_path}/{job}/{}",
            match lang {
                Lang::Cs => "znovu",
                Lang::En => "resend",
            }
        )
    }

    pub fn access_log(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/urad/pristupy",
            Lang::En => "/en/office/access-log",
        }
    }

    pub fn reassign(lang: Lang, case: &str) -> String {
        format!("{}/{case}/agenda", journal(lang))
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(inbox::routes())
        .merge(case::routes())
        .merge(journal::routes())
        .merge(dashboard::routes())
        .merge(queues::routes())
        .merge(access_log::routes())
}

/// A request answered at once (sign in first, not staff, not found …): handlers return
/// `Result<Response, Refused>` so that each check is one `?`.
pub(super) struct Refused(Box<Response>);

impl From<Response> for Refused {
    fn from(response: Response) -> Refused {
        Refused(Box::new(response))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What a back-office handler answers.
type Answer = Result<Response, Refused>;

/// Refuses a form sent without the session's CSRF token.
fn csrf_checked(state: &AppState, lang: Lang, viewer: &Viewer, token: &str) -> Result<(), Refused> {
    if csrf_ok(viewer, token) {
        Ok(())
    } else {
        Err(message(
            state,
            lang,
            StatusCode::FORBIDDEN,
            "office-csrf-title",
            "office-csrf-text",
        )
        .into())
    }
}

/// The signed-in member of staff; else the way to sign in, or a page saying that this part
/// is for the office's staff.
fn staff_member(state: &AppState, lang: Lang, back_to: &str) -> Result<(Viewer, Staff), Refused> {
    let Some(viewer) = current_viewer() else {
        return Err(sign_in_first(lang, back_to).into());
    };
    match viewer.staff.clone() {
        Some(staff) => Ok((viewer, staff)),
        None => Err(Refused::from(message(
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
        Refused::from(message(
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

/// [`case_error`] as a refusal, for `?`.
fn failed(state: &AppState, lang: Lang, headers: &HeaderMap, e: &CaseError) -> Refused {
    case_error(state, lang, headers, e).into()
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

/// A link to another part of the back office.
pub(super) struct OfficeLink {
    pub(super) id: &'static str,
    pub(super) href: &'static str,
    pub(super) label: String,
}

/// The parts of the back office beyond the inbox that `staff` may open.
fn office_links(staff: &Staff, lang: Lang) -> Vec<OfficeLink> {
    let tr = Tr::new(lang);
    [
        (
            "journal-link",
            staff.may(Access::Read, Resource::RegistryJournal),
            paths::journal(lang),
            "office-journal-title",
        ),
        (
            "dashboard-link",
            led_agenda(staff, "").is_some(),
            paths::dashboard(lang),
            "office-dashboard-title",
        ),
        (
            "handoffs-link",
            staff.may(Access::Read, Resource::RecordsQueue),
            paths::handoffs(lang),
            "office-queue-title",
        ),
        (
            "mail-link",
            staff.may(Access::Read, Resource::MailQueue),
            paths::mail(lang),
            "office-mail-title",
        ),
        (
            "access-log-link",
            staff.may(Access::Read, Resource::AuditLog),
            paths::access_log(lang),
            "office-log-title",
        ),
    ]
    .into_iter()
    .filter(|(_, allowed, _, _)| *allowed)
    .map(|(id, _, href, key)| OfficeLink {
        id,
        href,
        label: tr.ts(key),
    })
    .collect()
}

/// A choice of a filter's list.
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
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
