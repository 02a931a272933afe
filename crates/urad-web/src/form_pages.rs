//! Filling in an online form in the portal: the start of a draft, one page per step, the
//! "check your answers" page, sending, the receipt, and "My submissions" with a detail page per
//! submission. Server-rendered and usable without JavaScript; Czech at Czech paths, English
//! under `/en/…`.
//!
//! The draft lives on the server (`urad_filing`): every "Continue" and "Save and finish later"
//! saves what the step's page sent, so a person whose session expired signs in again and
//! comes back to the same step with everything saved before. Every request checks again that
//! the session is signed in at the level the form's service needs, that a `POST` carries the
//! session's CSRF token, and that the draft is the person's own (someone else's is a 404).
//! Fields filled from the verified identity are taken from the session's claims on every save,
//! whatever the browser sent.

use crate::account::{csrf_ok, current_viewer, Viewer};
use crate::error::{error_page_with, render};
use crate::i18n::Tr;
use crate::pages::{Layout, Page};
use crate::signin::{NoticeForm, NoticePage};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};
use urad_core::Lang;
use urad_filing::attachments::{Attachment, AttachmentError, AttachmentProblem};
use urad_filing::{Draft, FilingError, Receipt, SubmitRequest};
use urad_forms::{AttachmentSlot, FieldError, FormDefinition, IdentityClaim, Step, Widget};
use urad_identity::authorize::encode;
use urad_identity::Loa;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/moje-podani", get(|s| mine(s, Lang::Cs)))
        .route("/en/my-submissions", get(|s| mine(s, Lang::En)))
        .route(
            "/formulare/{form}",
            get(|s, p, h| form_start(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/forms/{form}",
            get(|s, p, h| form_start(s, p, h, Lang::En)),
        )
        .route(
            "/formulare/{form}/zacit",
            post(|s, p, h, b| begin(s, p, h, b, Lang::Cs)),
        )
        .route(
            "/en/forms/{form}/start",
            post(|s, p, h, b| begin(s, p, h, b, Lang::En)),
        )
        .route(
            "/moje-podani/{id}",
            get(|s, p, h| detail(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}",
            get(|s, p, h| detail(s, p, h, Lang::En)),
        )
        .route(
            "/moje-podani/{id}/pokracovat",
            get(|s, p, h| resume(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/continue",
            get(|s, p, h| resume(s, p, h, Lang::En)),
        )
        .route(
            "/moje-podani/{id}/krok/{step}",
            get(|s, p, q, h| step_page(s, p, q, h, Lang::Cs))
                .post(|s, p, h, b| save_step(s, p, h, b, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/step/{step}",
            get(|s, p, q, h| step_page(s, p, q, h, Lang::En))
                .post(|s, p, h, b| save_step(s, p, h, b, Lang::En)),
        )
        .route(
            "/moje-podani/{id}/kontrola",
            get(|s, p, h| check_page(s, p, h, Lang::Cs))
                .post(|s, p, h, b| send(s, p, h, b, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/check",
            get(|s, p, h| check_page(s, p, h, Lang::En))
                .post(|s, p, h, b| send(s, p, h, b, Lang::En)),
        )
        .route(
            "/moje-podani/{id}/potvrzeni",
            get(|s, p, h| receipt_page(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/receipt",
            get(|s, p, h| receipt_page(s, p, h, Lang::En)),
        )
        .route(
            "/moje-podani/{id}/prilohy/{attachment}/odebrat",
            post(|s, p, h, b| remove_attachment(s, p, h, b, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/attachments/{attachment}/remove",
            post(|s, p, h, b| remove_attachment(s, p, h, b, Lang::En)),
        )
        .route(
            "/moje-podani/{id}/smazat",
            get(|s, p, h| confirm_delete(s, p, h, Lang::Cs))
                .post(|s, p, h, b| delete(s, p, h, b, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/delete",
            get(|s, p, h| confirm_delete(s, p, h, Lang::En))
                .post(|s, p, h, b| delete(s, p, h, b, Lang::En)),
        )
}

/// The paths of these pages, in each language.
pub(crate) mod paths {
    use urad_core::Lang;

    pub fn mine(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/moje-podani",
            Lang::En => "/en/my-submissions",
        }
    }
    pub fn form(lang: Lang, form: &str) -> String {
        match lang {
            Lang::Cs => format!("/formulare/{form}"),
            Lang::En => format!("/en/forms/{form}"),
        }
    }
    pub fn begin(lang: Lang, form: &str) -> String {
        match lang {
            Lang::Cs => format!("/formulare/{form}/zacit"),
            Lang::En => format!("/en/forms/{form}/start"),
        }
    }
    pub fn detail(lang: Lang, id: &str) -> String {
        format!("{}/{id}", mine(lang))
    }
    pub fn resume(lang: Lang, id: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{id}/pokracovat"),
            Lang::En => format!("/en/my-submissions/{id}/continue"),
        }
    }
    pub fn step(lang: Lang, id: &str, step: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{id}/krok/{step}"),
            Lang::En => format!("/en/my-submissions/{id}/step/{step}"),
        }
    }
    pub fn check(lang: Lang, id: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{id}/kontrola"),
            Lang::En => format!("/en/my-submissions/{id}/check"),
        }
    }
    pub fn receipt(lang: Lang, id: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{id}/potvrzeni"),
            Lang::En => format!("/en/my-submissions/{id}/receipt"),
        }
    }
    pub fn delete(lang: Lang, id: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{id}/smazat"),
            Lang::En => format!("/en/my-submissions/{id}/delete"),
        }
    }
    /// Where a file for a slot is posted (outside the 64 KB body limit).
    pub fn upload(lang: Lang, id: &str, slot: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{id}/prilohy/{slot}"),
            Lang::En => format!("/en/my-submissions/{id}/attachments/{slot}"),
        }
    }
    pub fn remove_attachment(lang: Lang, id: &str, attachment: &str) -> String {
        match lang {
            Lang::Cs => format!("/moje-podani/{id}/prilohy/{attachment}/odebrat"),
            Lang::En => format!("/en/my-submissions/{id}/attachments/{attachment}/remove"),
        }
    }
    pub fn sign_in(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/ucet/prihlasit",
            Lang::En => "/en/account/sign-in",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Who may fill which form

/// The level of assurance a form needs: its service's, or `substantial` for a form of the
/// office without a service (the general submission).
pub(crate) fn level_needed(state: &AppState, form: &FormDefinition) -> Loa {
    form.ui
        .service
        .as_deref()
        .and_then(|slug| state.catalog.service(slug))
        .and_then(|s| s.level_of_assurance.parse().ok())
        .unwrap_or(Loa::Substantial)
}

/// Where to sign in (or step up) at `level` and come back to `back_to`.
fn sign_in_href(lang: Lang, level: Loa, back_to: &str) -> String {
    format!(
        "{}?acr={}&return={}",
        paths::sign_in(lang),
        level.code(),
        encode(back_to)
    )
}

/// The signed-in person (the form's own level is checked by [`level_ok`] once the form is
/// known); else the way to sign in and come back to `back_to`, at the level most forms need.
fn signed_in(lang: Lang, back_to: &str) -> Result<Viewer, Refused> {
    current_viewer().ok_or_else(|| Box::new(sign_in_first(lang, back_to)))
}

/// The way to sign in (at the forms' usual level) and come back to `back_to`.
pub(crate) fn sign_in_first(lang: Lang, back_to: &str) -> Response {
    see_other(&sign_in_href(lang, Loa::Substantial, back_to))
}

/// The signed-in person, when the session reaches `level`; else the way to sign in (or step
/// up) and come back to `back_to`.
fn person_at(lang: Lang, level: Loa, back_to: &str) -> Result<Viewer, Refused> {
    match current_viewer() {
        Some(v) if v.loa >= level => Ok(v),
        _ => Err(Box::new(see_other(&sign_in_href(lang, level, back_to)))),
    }
}

/// A request that is answered at once, without going on (sign in first, not found …); boxed,
/// as the rare path of every handler.
type Refused = Box<Response>;

pub(crate) fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    no_store(r)
}

pub(crate) fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn not_found(state: &AppState, lang: Lang, headers: &HeaderMap) -> Response {
    no_store(error_page_with(
        lang,
        StatusCode::NOT_FOUND,
        headers,
        Some(state.catalog.clone()),
    ))
}

fn unavailable(state: &AppState, lang: Lang, headers: &HeaderMap, e: &FilingError) -> Response {
    tracing::error!(error = %e, "the filing office failed");
    no_store(error_page_with(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        headers,
        Some(state.catalog.clone()),
    ))
}

/// A page of these routes: the layout with the catalogue's footer, the language switch to
/// the same page in the other language.
fn layout(state: &AppState, lang: Lang, title: String, twin: String) -> Layout {
    let mut l = Layout::new(lang, title, Page::Home, Some(state.catalog.clone()));
    l.switch_href = twin;
    l
}

/// A page that explains why nothing happened and leads on.
fn notice(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    heading: String,
    paragraphs: Vec<String>,
    link: (String, String),
) -> Response {
    let page = NoticePage {
        layout: layout(
            state,
            lang,
            heading.clone(),
            paths::mine(lang.other()).into(),
        ),
        heading,
        paragraphs,
        form: None,
        link: Some(link),
    };
    no_store(render(status, &page))
}

/// A `POST` whose CSRF token is missing or wrong: 403, nothing saved.
fn csrf_refused(state: &AppState, lang: Lang, back: String) -> Response {
    let tr = Tr::new(lang);
    notice(
        state,
        lang,
        StatusCode::FORBIDDEN,
        tr.ts("form-csrf-title"),
        vec![tr.ts("form-csrf-text")],
        (back, tr.ts("form-csrf-back")),
    )
}

/// The posted form fields, or why they cannot be read (400).
fn parse_body(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, String)>, Refused> {
    match serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        Ok(pairs)
            if !pairs
                .iter()
                .any(|(k, v)| k.contains('\u{FFFD}') || v.contains('\u{FFFD}')) =>
        {
            Ok(pairs)
        }
        _ => Err(Box::new(no_store(error_page_with(
            lang,
            StatusCode::BAD_REQUEST,
            headers,
            Some(state.catalog.clone()),
        )))),
    }
}

fn posted<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A draft of the person and the form version it is filled with; a 404 for a draft that is
/// not theirs, a clear page for a version that no longer exists.
async fn draft_and_form<'s>(
    state: &'s AppState,
    lang: Lang,
    headers: &HeaderMap,
    person: &Viewer,
    id: &str,
) -> Result<(Draft, &'s FormDefinition), Refused> {
    let draft = match urad_filing::draft(&state.db, &person.person_id, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return Err(Box::new(not_found(state, lang, headers))),
        Err(e) => return Err(Box::new(unavailable(state, lang, headers, &e))),
    };
    match state.forms.version(&draft.form_id, draft.form_version) {
        Some(form) => Ok((draft, form)),
        None => Err(Box::new(version_gone(state, lang, &draft))),
    }
}

/// The draft's form version is no longer offered: say so, and offer the current version.
/// A grant application sent outside its call's window: a clear answer, the draft kept.
fn call_not_open(state: &AppState, lang: Lang, closed: &crate::CallNotOpen) -> Response {
    let tr = Tr::new(lang);
    notice(
        state,
        lang,
        StatusCode::UNPROCESSABLE_ENTITY,
        tr.ts("form-call-not-open-title"),
        vec![closed.message(lang)],
        (paths::mine(lang).into(), tr.ts("mine-title")),
    )
}

fn version_gone(state: &AppState, lang: Lang, draft: &Draft) -> Response {
    let tr = Tr::new(lang);
    let mut paragraphs = vec![tr.t1("form-gone-text", "version", draft.form_version)];
    let link = if state.forms.latest(&draft.form_id).is_some() {
        paragraphs.push(tr.ts("form-gone-latest"));
        (paths::form(lang, &draft.form_id), tr.ts("form-gone-start"))
    } else {
        (paths::mine(lang).into(), tr.ts("mine-title"))
    };
    notice(
        state,
        lang,
        StatusCode::GONE,
        tr.ts("form-gone-title"),
        paragraphs,
        link,
    )
}

/// The form's level, checked for the draft's form: the way to step up when the session is
/// below it.
fn level_ok(
    state: &AppState,
    lang: Lang,
    person: &Viewer,
    form: &FormDefinition,
    back_to: &str,
) -> Result<(), Refused> {
    let level = level_needed(state, form);
    if person.loa >= level {
        Ok(())
    } else {
        Err(Box::new(see_other(&sign_in_href(lang, level, back_to))))
    }
}

// ---------------------------------------------------------------------------------------
// The data of a draft

/// Sets (or with `None` removes) the value at a dotted path, making the groups on the way;
/// a group left empty is removed.
fn set_at(data: &mut Value, path: &str, value: Option<Value>) {
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let Some(object) = data.as_object_mut() else {
        return;
    };
    match rest {
        None => match value {
            Some(v) => {
                object.insert(head.to_owned(), v);
            }
            None => {
                object.remove(head);
            }
        },
        Some(rest) => {
            if value.is_none() && !object.contains_key(head) {
                return;
            }
            let child = object
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            set_at(child, rest, value);
            if child.as_object().is_some_and(Map::is_empty) {
                object.remove(head);
            }
        }
    }
}

fn value_at<'v>(data: &'v Value, path: &str) -> Option<&'v Value> {
    urad_forms::definition::value_at(data, path)
}

/// The verified value of a claim of the session's identity, as a field holds it.
fn claim_value(claims: &Value, claim: IdentityClaim) -> Option<String> {
    let text = |k: &str| {
        claims[k]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match claim {
        IdentityClaim::GivenName => text("given_name"),
        IdentityClaim::FamilyName => text("family_name"),
        IdentityClaim::Name => text("name").or_else(|| {
            let parts: Vec<String> = [text("given_name"), text("family_name")]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }),
        IdentityClaim::Birthdate => text("birthdate"),
        IdentityClaim::Email => text("email"),
        IdentityClaim::Address => {
            let a = &claims["address"];
            if let Some(f) = a["formatted"].as_str().filter(|f| !f.trim().is_empty()) {
                return Some(f.trim().to_owned());
            }
            let part = |k: &str| a[k].as_str().map(str::trim).filter(|s| !s.is_empty());
            let town: Vec<&str> = [part("postal_code"), part("locality")]
                .into_iter()
                .flatten()
                .collect();
            let line: Vec<String> = [part("street_address").map(str::to_owned)]
                .into_iter()
                .flatten()
                .chain((!town.is_empty()).then(|| town.join(" ")))
                .collect();
            (!line.is_empty()).then(|| line.join(", "))
        }
    }
}

/// The claims of the session's verified identity (none when the session ended meanwhile).
async fn claims_of(state: &AppState, person: &Viewer) -> Value {
    urad_identity::sessions::claims_of_live(&state.db, state.clock.as_ref(), &person.sid)
        .await
        .ok()
        .flatten()
        .unwrap_or(Value::Null)
}

/// The fields of `form` that the identity fills in, with their verified values.
fn identity_values(form: &FormDefinition, claims: &Value) -> Vec<(String, String)> {
    form.ui
        .fields
        .iter()
        .filter_map(|(path, f)| {
            let claim = f.from_identity?;
            Some((path.clone(), claim_value(claims, claim)?))
        })
        .collect()
}

/// Puts the verified identity into the data, over whatever was there.
fn apply_identity(data: &mut Value, identity: &[(String, String)]) {
    for (path, value) in identity {
        set_at(data, path, Some(Value::String(value.clone())));
    }
}

fn condition_holds(c: Option<&urad_forms::Condition>, data: &Value) -> bool {
    c.is_none_or(|c| c.holds(data))
}

/// The steps shown for this data, in order.
fn visible_steps<'f>(form: &'f FormDefinition, data: &Value) -> Vec<&'f Step> {
    form.ui
        .steps
        .iter()
        .filter(|s| condition_holds(s.show_if.as_ref(), data))
        .collect()
}

/// The fields a step's page asks for. A field whose condition is answered on the same page is
/// always asked (without JavaScript it cannot appear as the person chooses; its label says
/// when it is needed); one whose condition is answered elsewhere only when that holds.
fn step_fields<'f>(form: &'f FormDefinition, step: &'f Step, data: &Value) -> Vec<&'f str> {
    step.fields
        .iter()
        .filter(|path| {
            let Some(f) = form.ui.fields.get(path.as_str()) else {
                return false;
            };
            match &f.show_if {
                None => true,
                Some(c) => step.fields.contains(&c.field) || c.holds(data),
            }
        })
        .map(String::as_str)
        .collect()
}

/// Whether a field's answer is part of the submission for this data: on a shown step, and
/// its own condition holding.
fn field_shown(form: &FormDefinition, path: &str, data: &Value) -> bool {
    let on_shown_step = form
        .ui
        .steps
        .iter()
        .find(|s| s.fields.iter().any(|f| f == path))
        .is_some_and(|s| condition_holds(s.show_if.as_ref(), data));
    on_shown_step
        && form
            .ui
            .fields
            .get(path)
            .is_some_and(|f| condition_holds(f.show_if.as_ref(), data))
}

/// Drops the answers of fields that are not asked for with this data (a part the person
/// left by changing an earlier answer), so that only what was shown is sent.
fn drop_hidden(form: &FormDefinition, data: &mut Value) {
    let hidden: Vec<String> = form
        .ui
        .fields
        .keys()
        .filter(|path| value_at(data, path).is_some() && !field_shown(form, path, data))
        .cloned()
        .collect();
    for path in hidden {
        set_at(data, &path, None);
    }
}

/// A posted text as the field's JSON value: empty is no answer; a number field that does not
/// hold a number keeps the text, which the schema then refuses at that field.
fn typed_value(form: &FormDefinition, path: &str, raw: &str) -> Option<Value> {
    let text = raw.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let as_text = || Some(Value::String(text.to_owned()));
    match form.field_type(path) {
        Some("integer") => {
            let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            match digits.parse::<i64>() {
                Ok(n) => Some(Value::from(n)),
                Err(_) => as_text(),
            }
        }
        Some("number") => {
            let digits: String = text
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| if c == ',' { '.' } else { c })
                .collect();
            match digits
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
            {
                Some(n) => Some(Value::Number(n)),
                None => as_text(),
            }
        }
        _ => as_text(),
    }
}

/// Takes what a step's page sent into the data: the step's fields only, never those filled
/// from the identity (which stay verified).
fn take_step_values(
    form: &FormDefinition,
    step: &Step,
    data: &mut Value,
    pairs: &[(String, String)],
    identity: &[(String, String)],
) {
    let asked: Vec<String> = step_fields(form, step, data)
        .into_iter()
        .map(str::to_owned)
        .collect();
    for path in asked {
        if identity.iter().any(|(p, _)| *p == path) {
            continue;
        }
        let Some(field) = form.ui.fields.get(&path) else {
            continue;
        };
        let value = if field.widget == Widget::Checkbox {
            Some(Value::Bool(posted(pairs, &path).is_some()))
        } else {
            posted(pairs, &path).and_then(|raw| typed_value(form, &path, raw))
        };
        set_at(data, &path, value);
    }
}

/// The first shown step that has a problem (the first step when the problem is on none of
/// them); `None` when the data is valid.
fn first_step_with_errors<'f>(
    form: &'f FormDefinition,
    data: &Value,
    lang: Lang,
) -> Option<&'f Step> {
    let errors = form.check(data, lang);
    if errors.is_empty() {
        return None;
    }
    let steps = visible_steps(form, data);
    steps
        .iter()
        .copied()
        .find(|s| {
            let fields = step_fields(form, s, data);
            errors.iter().any(|e| fields.contains(&e.field.as_str()))
        })
        .or_else(|| steps.first().copied())
}

// ---------------------------------------------------------------------------------------
// Starting a draft

/// The start of a form, on its own page and on its service's apply page: the button that
/// starts a draft, and the person's unfinished drafts of it to resume.
pub(crate) struct FormStart {
    pub form_title: String,
    pub action: String,
    pub csrf: String,
    pub drafts: Vec<DraftLink>,
}

pub(crate) struct DraftLink {
    pub href: String,
    pub label: String,
}

/// The start panel for the person signed in at the form's level.
pub(crate) async fn form_start_for(
    state: &AppState,
    lang: Lang,
    form: &FormDefinition,
    person: &Viewer,
) -> FormStart {
    let tr = Tr::new(lang);
    let drafts = urad_filing::of_person::drafts(&state.db, &person.person_id, Some(&form.id))
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| DraftLink {
            href: paths::resume(lang, &d.id),
            label: tr.t2(
                "form-start-draft",
                "started",
                prague_time(d.created_at, lang),
                "saved",
                prague_time(d.updated_at, lang),
            ),
        })
        .collect();
    FormStart {
        form_title: form.ui.title.get(lang).to_owned(),
        action: paths::begin(lang, &form.id),
        csrf: person.csrf.clone(),
        drafts,
    }
}

/// The online form of a service of the catalogue, if it has one.
pub(crate) fn form_of_service<'s>(state: &'s AppState, slug: &str) -> Option<&'s FormDefinition> {
    state
        .forms
        .all_latest()
        .find(|f| f.ui.service.as_deref() == Some(slug))
}

#[derive(Template)]
#[template(path = "form_start.html")]
struct FormStartPage {
    layout: Layout,
    title: String,
    intro: Option<String>,
    level: String,
    sign_in_href: Option<String>,
    service_href: Option<String>,
    start: Option<FormStart>,
}

async fn form_start(
    State(state): State<AppState>,
    Path(form_id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let Some(form) = state.forms.latest(&form_id) else {
        return not_found(&state, lang, &headers);
    };
    let tr = Tr::new(lang);
    let level = level_needed(&state, form);
    let here = paths::form(lang, &form.id);
    let viewer = current_viewer().filter(|v| v.loa >= level);
    let start = match &viewer {
        Some(v) => Some(form_start_for(&state, lang, form, v).await),
        None => None,
    };
    let title = form.ui.title.get(lang).to_owned();
    let page = FormStartPage {
        layout: layout(
            &state,
            lang,
            title.clone(),
            paths::form(lang.other(), &form.id),
        ),
        intro: form.ui.intro.as_ref().map(|t| t.get(lang).to_owned()),
        level: tr.ts(&format!("loa-{}", level.code())),
        sign_in_href: viewer.is_none().then(|| sign_in_href(lang, level, &here)),
        service_href: form
            .ui
            .service
            .as_ref()
            .filter(|s| state.catalog.service(s).is_some())
            .map(|s| Page::Service(s.clone()).path(lang)),
        start,
        title,
    };
    no_store(render(StatusCode::OK, &page))
}

/// "Fill in the form": a new draft of the latest version, with the verified identity filled
/// in; then its first step.
async fn begin(
    State(state): State<AppState>,
    Path(form_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    lang: Lang,
) -> Response {
    let Some(form) = state.forms.latest(&form_id) else {
        return not_found(&state, lang, &headers);
    };
    let here = paths::form(lang, &form.id);
    let person = match person_at(lang, level_needed(&state, form), &here) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let pairs = match parse_body(&state, lang, &headers, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if !csrf_ok(&person, posted(&pairs, "csrf").unwrap_or("")) {
        return csrf_refused(&state, lang, here);
    }
    let mut data = Value::Object(Map::new());
    apply_identity(
        &mut data,
        &identity_values(form, &claims_of(&state, &person).await),
    );
    let started = urad_filing::start_draft(
        &state.db,
        state.clock.as_ref(),
        &state.forms,
        &person.person_id,
        &form.id,
        &data,
    )
    .await;
    match started {
        Ok(id) => {
            let first = visible_steps(form, &data).first().map_or_else(
                || paths::check(lang, &id),
                |s| paths::step(lang, &id, &s.id),
            );
            see_other(&first)
        }
        Err(e) => unavailable(&state, lang, &headers, &e),
    }
}

/// "Continue" from My submissions or the start page: the first step with something missing,
/// or the check page when nothing is; the receipt of a draft already sent.
async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let here = paths::resume(lang, &id);
    let person = match signed_in(lang, &here) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (draft, form) = match draft_and_form(&state, lang, &headers, &person, &id).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = level_ok(&state, lang, &person, form, &here) {
        return *r;
    }
    if draft.submitted_at.is_some() {
        return see_other(&paths::receipt(lang, &id));
    }
    if let Some(step) = first_step_with_errors(form, &draft.data, lang) {
        return see_other(&paths::step(lang, &id, &step.id));
    }
    // The answers are complete: the first step whose files are missing or too many, else
    // the check page.
    let files = match urad_filing::attachments::list(&state.db, &person.person_id, &id).await {
        Ok(f) => f,
        Err(e) => {
            // The check page and the send say what is missing as well.
            tracing::error!(error = %e, "listing attachments failed");
            return see_other(&paths::check(lang, &id));
        }
    };
    let incomplete = visible_steps(form, &draft.data).into_iter().find(|s| {
        let slots = step_slots(form, s, &draft.data);
        !slot_problems(&slots, &files, lang).is_empty()
    });
    match incomplete {
        Some(step) => see_other(&paths::step(lang, &id, &step.id)),
        None => see_other(&paths::check(lang, &id)),
    }
}

// ---------------------------------------------------------------------------------------
// A step

/// One option of radios or a select.
struct OptionView {
    value: String,
    label: String,
    selected: bool,
    /// The element id (radios).
    id: String,
}

/// One field as its page shows it.
struct FieldView {
    /// The dotted path, also the control's name.
    name: String,
    /// Id of the control (for radios, of the group; the first radio is `{id}-0`).
    id: String,
    /// What the error summary links to.
    target: String,
    label: String,
    help: Option<String>,
    /// `text`, `textarea`, `number`, `date`, `email`, `tel`, `radios`, `select`, `checkbox`.
    widget: &'static str,
    value: String,
    checked: bool,
    options: Vec<OptionView>,
    error: Option<String>,
    /// Filled from the verified identity: shown, not editable.
    verified: bool,
    autocomplete: &'static str,
}

impl FieldView {
    /// `aria-describedby`: its help and its error.
    fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("{}-hint", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }
}

fn widget_name(w: Widget) -> &'static str {
    match w {
        Widget::Text => "text",
        Widget::Textarea => "textarea",
        Widget::Number => "number",
        Widget::Date => "date",
        Widget::Email => "email",
        Widget::Tel => "tel",
        Widget::Radios => "radios",
        Widget::Select => "select",
        Widget::Checkbox => "checkbox",
    }
}

/// The enum values of a field in the schema's order (the UI's options are keyed by value).
fn enum_values(form: &FormDefinition, path: &str) -> Vec<String> {
    let mut node = &form.schema;
    for key in path.split('.') {
        node = &node["properties"][key];
    }
    let from_schema: Vec<String> = node["enum"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    if from_schema.is_empty() {
        form.ui
            .fields
            .get(path)
            .map(|f| f.options.keys().cloned().collect())
            .unwrap_or_default()
    } else {
        from_schema
    }
}

/// How a stored value is shown in its control.
fn value_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn html_id(path: &str) -> String {
    format!("field-{}", path.replace(['.', '_'], "-"))
}

fn field_views(
    form: &FormDefinition,
    fields: &[&str],
    data: &Value,
    errors: &[FieldError],
    identity: &[(String, String)],
    lang: Lang,
) -> Vec<FieldView> {
    fields
        .iter()
        .filter_map(|path| {
            let f = form.ui.fields.get(*path)?;
            let id = html_id(path);
            let current = value_at(data, path);
            let verified_value = identity.iter().find(|(p, _)| p == path).map(|(_, v)| v);
            let value = verified_value
                .cloned()
                .unwrap_or_else(|| value_text(current));
            let options: Vec<OptionView> = if matches!(f.widget, Widget::Radios | Widget::Select) {
                enum_values(form, path)
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| OptionView {
                        label: f
                            .options
                            .get(&v)
                            .map_or_else(|| v.clone(), |t| t.get(lang).to_owned()),
                        selected: v == value,
                        id: format!("{id}-{i}"),
                        value: v,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let target = if f.widget == Widget::Radios {
                format!("{id}-0")
            } else {
                id.clone()
            };
            Some(FieldView {
                name: (*path).to_owned(),
                target,
                label: f.label.get(lang).to_owned(),
                help: f.help.as_ref().map(|h| h.get(lang).to_owned()),
                widget: widget_name(f.widget),
                checked: current == Some(&Value::Bool(true)),
                options,
                error: errors
                    .iter()
                    .find(|e| e.field == *path)
                    .map(|e| e.message.clone()),
                verified: verified_value.is_some(),
                autocomplete: match f.from_identity {
                    Some(IdentityClaim::Email) => "email",
                    Some(IdentityClaim::Name) => "name",
                    _ if f.widget == Widget::Tel => "tel",
                    _ => "off",
                },
                value,
                id,
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "form_step.html")]
struct StepPage {
    layout: Layout,
    form_title: String,
    step_title: String,
    intro: Option<String>,
    progress: String,
    action: String,
    csrf: String,
    back_href: String,
    fields: Vec<FieldView>,
    /// For the error summary: the field's control id and message.
    summary: Vec<(String, String)>,
    /// The data had a problem when it was sent (the person came back from "Send").
    at_send: bool,
    /// The step's attachment slots (each with its own upload form, outside the step's form).
    slots: Vec<SlotView>,
    /// A file was attached or removed just now (announced with `role="status"`).
    status_message: Option<String>,
}

/// Renders a step of a draft with `errors` (only the step's own are shown).
#[allow(clippy::too_many_arguments)]
fn render_step(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    draft: &Draft,
    form: &FormDefinition,
    step: &Step,
    errors: &[FieldError],
    identity: &[(String, String)],
    person: &Viewer,
    at_send: bool,
    slots: Vec<SlotView>,
    status_message: Option<String>,
) -> Response {
    let tr = Tr::new(lang);
    let data = &draft.data;
    let steps = visible_steps(form, data);
    let position = steps.iter().position(|s| s.id == step.id).unwrap_or(0);
    let fields = step_fields(form, step, data);
    let views = field_views(form, &fields, data, errors, identity, lang);
    let summary: Vec<(String, String)> = views
        .iter()
        .filter_map(|v| v.error.as_ref().map(|e| (v.target.clone(), e.clone())))
        .chain(
            slots
                .iter()
                .filter_map(|s| s.error.as_ref().map(|e| (s.input_id(), e.clone()))),
        )
        .collect();
    let back_href = if position == 0 {
        paths::form(lang, &form.id)
    } else {
        paths::step(lang, &draft.id, &steps[position - 1].id)
    };
    let step_title = step.title.get(lang).to_owned();
    let form_title = form.ui.title.get(lang).to_owned();
    let progress = tr.t2(
        "form-progress",
        "step",
        position + 1,
        "steps",
        steps.len().max(position + 1),
    );
    let title = if summary.is_empty() {
        format!("{step_title} – {form_title}")
    } else {
        format!("{}: {step_title} – {form_title}", tr.t("form-error-prefix"))
    };
    let page = StepPage {
        layout: layout(
            state,
            lang,
            title,
            paths::step(lang.other(), &draft.id, &step.id),
        ),
        intro: (position == 0)
            .then(|| form.ui.intro.as_ref().map(|t| t.get(lang).to_owned()))
            .flatten(),
        progress,
        action: paths::step(lang, &draft.id, &step.id),
        csrf: person.csrf.clone(),
        back_href,
        fields: views,
        summary,
        at_send,
        form_title,
        step_title,
        slots,
        status_message,
    };
    no_store(render(status, &page))
}

fn find_step<'f>(form: &'f FormDefinition, data: &Value, step_id: &str) -> Option<&'f Step> {
    visible_steps(form, data)
        .into_iter()
        .find(|s| s.id == step_id)
}

async fn step_page(
    State(state): State<AppState>,
    Path((id, step_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let here = paths::step(lang, &id, &step_id);
    let person = match signed_in(lang, &here) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (draft, form) = match draft_and_form(&state, lang, &headers, &person, &id).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = level_ok(&state, lang, &person, form, &here) {
        return *r;
    }
    if draft.submitted_at.is_some() {
        return see_other(&paths::receipt(lang, &id));
    }
    let Some(step) = find_step(form, &draft.data, &step_id) else {
        return not_found(&state, lang, &headers);
    };
    let identity = identity_values(form, &claims_of(&state, &person).await);
    // Back from "Send" with a problem: the step shows what the check found.
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let asked = |name: &str| posted(&query, name).is_some();
    let at_send = asked("chyby") || asked("errors");
    let errors = if at_send {
        form.check(&draft.data, lang)
    } else {
        Vec::new()
    };
    let files = match urad_filing::attachments::list(&state.db, &person.person_id, &id).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "listing attachments failed");
            Vec::new()
        }
    };
    let slots = step_slots(form, step, &draft.data);
    let slot_errors = if at_send {
        slot_problems(&slots, &files, lang)
    } else {
        Vec::new()
    };
    let tr = Tr::new(lang);
    let status_message = match posted(&query, "prilozeno").or_else(|| posted(&query, "attached")) {
        Some(attached) => files
            .iter()
            .find(|a| a.id == attached)
            .map(|a| tr.t1("attach-uploaded", "file", a.file_name.as_str())),
        None if asked("odebrano") || asked("removed") => Some(tr.ts("attach-removed")),
        None => None,
    };
    let views = slot_views(&state, lang, &id, &slots, &files, &slot_errors);
    render_step(
        &state,
        lang,
        StatusCode::OK,
        &draft,
        form,
        step,
        &errors,
        &identity,
        &person,
        at_send,
        views,
        status_message,
    )
}

/// "Continue" or "Save and finish later" on a step: the step's values are saved whatever they
/// are; with problems on this step the same page comes back (422) with them, else the next
/// step, the check page, or My submissions.
async fn save_step(
    State(state): State<AppState>,
    Path((id, step_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
    lang: Lang,
) -> Response {
    let here = paths::step(lang, &id, &step_id);
    let person = match signed_in(lang, &here) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let pairs = match parse_body(&state, lang, &headers, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if !csrf_ok(&person, posted(&pairs, "csrf").unwrap_or("")) {
        return csrf_refused(&state, lang, here);
    }
    let (mut draft, form) = match draft_and_form(&state, lang, &headers, &person, &id).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = level_ok(&state, lang, &person, form, &here) {
        return *r;
    }
    if draft.submitted_at.is_some() {
        return see_other(&paths::receipt(lang, &id));
    }
    let Some(step) = find_step(form, &draft.data, &step_id) else {
        return not_found(&state, lang, &headers);
    };
    let identity = identity_values(form, &claims_of(&state, &person).await);
    let mut data = draft.data.clone();
    take_step_values(form, step, &mut data, &pairs, &identity);
    apply_identity(&mut data, &identity);
    drop_hidden(form, &mut data);
    let saved = urad_filing::save_draft(
        &state.db,
        state.clock.as_ref(),
        &person.person_id,
        &id,
        &data,
    )
    .await;
    match saved {
        Ok(()) => {}
        Err(FilingError::AlreadySubmitted) => return see_other(&paths::receipt(lang, &id)),
        Err(FilingError::UnknownDraft) => return not_found(&state, lang, &headers),
        Err(e) => return unavailable(&state, lang, &headers, &e),
    }
    if posted(&pairs, "action") == Some("later") {
        return see_other(paths::mine(lang));
    }
    draft.data = data;
    let data = &draft.data;
    // The step may be gone with the new answers (its condition no longer holds).
    let Some(step) = find_step(form, data, &step_id) else {
        return see_other(&next_after(form, data, lang, &id, None));
    };
    let fields = step_fields(form, step, data);
    let errors: Vec<FieldError> = form
        .check(data, lang)
        .into_iter()
        .filter(|e| fields.contains(&e.field.as_str()))
        .collect();
    let slots = step_slots(form, step, data);
    let (files, slot_errors) = if slots.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        match urad_filing::attachments::list(&state.db, &person.person_id, &id).await {
            Ok(files) => {
                let problems = slot_problems(&slots, &files, lang);
                (files, problems)
            }
            Err(e) => {
                tracing::error!(error = %e, "listing attachments failed");
                return no_store(error_page_with(
                    lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    &headers,
                    Some(state.catalog.clone()),
                ));
            }
        }
    };
    if !errors.is_empty() || !slot_errors.is_empty() {
        let views = slot_views(&state, lang, &id, &slots, &files, &slot_errors);
        return render_step(
            &state,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &draft,
            form,
            step,
            &errors,
            &identity,
            &person,
            false,
            views,
            None,
        );
    }
    see_other(&next_after(form, data, lang, &id, Some(&step.id)))
}

/// The step after `step` (the first without one) for this data, or the check page.
fn next_after(
    form: &FormDefinition,
    data: &Value,
    lang: Lang,
    id: &str,
    step: Option<&str>,
) -> String {
    let steps = visible_steps(form, data);
    let next: Option<&Step> = match step {
        Some(current) => steps
            .iter()
            .position(|s| s.id == current)
            .and_then(|i| steps.get(i + 1).copied()),
        None => first_step_with_errors(form, data, lang),
    };
    match next {
        Some(s) => paths::step(lang, id, &s.id),
        None => paths::check(lang, id),
    }
}

// ---------------------------------------------------------------------------------------
// Check your answers, send, receipt

pub(crate) struct AnswerRow {
    pub(crate) label: String,
    pub(crate) value: String,
    pub(crate) verified: bool,
}

pub(crate) struct AnswerGroup {
    pub(crate) title: String,
    pub(crate) change_href: String,
    pub(crate) rows: Vec<AnswerRow>,
}

#[derive(Template)]
#[template(path = "form_check.html")]
struct CheckPage {
    layout: Layout,
    form_title: String,
    groups: Vec<AnswerGroup>,
    action: String,
    csrf: String,
    back_href: String,
}

/// How an answer reads on the check page.
fn answer_text(form: &FormDefinition, path: &str, value: Option<&Value>, tr: &Tr) -> String {
    let Some(f) = form.ui.fields.get(path) else {
        return String::new();
    };
    match value {
        None | Some(Value::Null) => tr.ts("form-check-empty"),
        Some(Value::Bool(b)) => tr.ts(if *b { "form-yes" } else { "form-no" }),
        Some(v) => {
            let text = value_text(Some(v));
            f.options
                .get(&text)
                .map_or(text, |t| t.get(tr.lang).to_owned())
        }
    }
}

/// The answers of a form's data, step by step, as the check page and the back office show
/// them; `draft` gives each step's "change" link (none in the back office).
pub(crate) fn answer_groups(
    form: &urad_forms::FormDefinition,
    data: &serde_json::Value,
    files: &[urad_filing::attachments::Attachment],
    lang: Lang,
    id: Option<&str>,
) -> Vec<AnswerGroup> {
    let tr = Tr::new(lang);
    visible_steps(form, data)
        .iter()
        .map(|s| AnswerGroup {
            title: s.title.get(lang).to_owned(),
            change_href: id
                .map(|id| paths::step(lang, id, &s.id))
                .unwrap_or_default(),
            rows: s
                .fields
                .iter()
                .filter(|p| field_shown(form, p, data))
                .filter_map(|p| {
                    let f = form.ui.fields.get(p)?;
                    Some(AnswerRow {
                        label: f.label.get(lang).to_owned(),
                        value: answer_text(form, p, value_at(data, p), &tr),
                        verified: f.from_identity.is_some() && value_at(data, p).is_some(),
                    })
                })
                .chain(step_slots(form, s, data).into_iter().map(|slot| {
                    let names: Vec<String> = files
                        .iter()
                        .filter(|a| a.slot == slot.id)
                        .map(|a| format!("{} ({})", a.file_name, file_details(a, lang)))
                        .collect();
                    AnswerRow {
                        label: slot.label.get(lang).to_owned(),
                        value: if names.is_empty() {
                            tr.ts("attach-not-attached")
                        } else {
                            names.join("; ")
                        },
                        verified: false,
                    }
                }))
                .collect(),
        })
        .collect()
}

async fn check_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let here = paths::check(lang, &id);
    let person = match signed_in(lang, &here) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (draft, form) = match draft_and_form(&state, lang, &headers, &person, &id).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = level_ok(&state, lang, &person, form, &here) {
        return *r;
    }
    if draft.submitted_at.is_some() {
        return see_other(&paths::receipt(lang, &id));
    }
    let tr = Tr::new(lang);
    let data = &draft.data;
    let steps = visible_steps(form, data);
    let files = match urad_filing::attachments::list(&state.db, &person.person_id, &id).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "listing attachments failed");
            return no_store(error_page_with(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                &headers,
                Some(state.catalog.clone()),
            ));
        }
    };
    let groups = answer_groups(form, data, &files, lang, Some(&id));
    let form_title = form.ui.title.get(lang).to_owned();
    let page = CheckPage {
        layout: layout(
            &state,
            lang,
            format!("{} – {form_title}", tr.t("form-check-title")),
            paths::check(lang.other(), &id),
        ),
        groups,
        action: here,
        csrf: person.csrf.clone(),
        back_href: steps.last().map_or_else(
            || paths::form(lang, &form.id),
            |s| paths::step(lang, &id, &s.id),
        ),
        form_title,
    };
    no_store(render(StatusCode::OK, &page))
}

/// "Send": the draft (with the verified identity as it is now) is submitted once; every later
/// "Send" of it (a double click, the back button) leads to the same receipt. Problems send the
/// person to the first step that has one.
async fn send(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    lang: Lang,
) -> Response {
    let here = paths::check(lang, &id);
    let person = match signed_in(lang, &here) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let pairs = match parse_body(&state, lang, &headers, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if !csrf_ok(&person, posted(&pairs, "csrf").unwrap_or("")) {
        return csrf_refused(&state, lang, here);
    }
    let (draft, form) = match draft_and_form(&state, lang, &headers, &person, &id).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = level_ok(&state, lang, &person, form, &here) {
        return *r;
    }
    if draft.submitted_at.is_none() {
        let identity = identity_values(form, &claims_of(&state, &person).await);
        let mut data = draft.data.clone();
        apply_identity(&mut data, &identity);
        drop_hidden(form, &mut data);
        if data != draft.data {
            let saved = urad_filing::save_draft(
                &state.db,
                state.clock.as_ref(),
                &person.person_id,
                &id,
                &data,
            )
            .await;
            match saved {
                Ok(()) | Err(FilingError::AlreadySubmitted) => {}
                Err(e) => return unavailable(&state, lang, &headers, &e),
            }
        }
    }
    // A grant application counts in its call and is received only while the call is open;
    // one sent before gets its receipt again whenever it is sent.
    let scope = match state.submission_scope(form, state.clock.now()) {
        Ok(scope) => scope,
        Err(_) if draft.submitted_at.is_some() => format!("form:{}", draft.form_id),
        Err(closed) => return call_not_open(&state, lang, &closed),
    };
    let submitted = urad_filing::submit(
        &state.db,
        state.clock.as_ref(),
        &state.forms,
        &state.catalog.office.code,
        &SubmitRequest {
            person_id: &person.person_id,
            draft_id: &id,
            scope: &scope,
            lang,
            attachment_limits: state.attachment_limits(),
        },
    )
    .await;
    match submitted {
        Ok(receipt) => see_other(&paths::receipt(lang, &receipt.id)),
        Err(FilingError::Invalid(_)) | Err(FilingError::Changed) => {
            // Read again: what is stored now is what the person corrects.
            let data = match urad_filing::draft(&state.db, &person.person_id, &id).await {
                Ok(Some(d)) => d.data,
                _ => draft.data,
            };
            // Valid now (it changed in another tab while this one sent): the check page
            // shows what would be sent.
            match first_step_with_errors(form, &data, lang) {
                Some(s) => see_other(&format!(
                    "{}?{}",
                    paths::step(lang, &id, &s.id),
                    match lang {
                        Lang::Cs => "chyby=1",
                        Lang::En => "errors=1",
                    }
                )),
                None => see_other(&here),
            }
        }
        Err(FilingError::Attachments(problems)) => {
            // The step of the first slot with a problem (a problem of all the files together:
            // the first step with slots), which shows the problems again at its slots.
            let slot = problems.iter().find_map(|p| match p {
                AttachmentProblem::Missing { slot, .. }
                | AttachmentProblem::TooManyInSlot { slot, .. } => Some(slot.as_str()),
                _ => None,
            });
            let step = slot
                .and_then(|slot| step_of_slot(form, &draft.data, slot))
                .or_else(|| {
                    visible_steps(form, &draft.data)
                        .into_iter()
                        .find(|s| !step_slots(form, s, &draft.data).is_empty())
                });
            match step {
                Some(s) => see_other(&format!(
                    "{}?{}",
                    paths::step(lang, &id, &s.id),
                    match lang {
                        Lang::Cs => "chyby=1",
                        Lang::En => "errors=1",
                    }
                )),
                None => see_other(&here),
            }
        }
        Err(FilingError::UnknownDraft) => not_found(&state, lang, &headers),
        Err(FilingError::UnknownForm(_)) => version_gone(&state, lang, &draft),
        Err(e) => unavailable(&state, lang, &headers, &e),
    }
}

/// An instant as people in the Czech Republic read it: Europe/Prague, with the zone.
pub(crate) fn prague_time(unix_seconds: i64, lang: Lang) -> String {
    let prague = jiff::tz::TimeZone::get("Europe/Prague").unwrap_or(jiff::tz::TimeZone::UTC);
    let Ok(t) = jiff::Timestamp::from_second(unix_seconds) else {
        return unix_seconds.to_string();
    };
    let z = t.to_zoned(prague);
    match lang {
        Lang::Cs => z.strftime("%-d. %-m. %Y %H:%M:%S %Z").to_string(),
        Lang::En => z.strftime("%-d %B %Y, %H:%M:%S %Z").to_string(),
    }
}

struct TimelineEntry {
    what: String,
    when: String,
    done: bool,
}

#[derive(Template)]
#[template(path = "form_receipt.html")]
struct ReceiptPage {
    layout: Layout,
    /// Only the receipt page itself shows the confirmation panel; the detail page shows the
    /// same facts under the submission's heading.
    confirmation: bool,
    heading: String,
    form_title: String,
    facts: Vec<(String, String)>,
    reference: String,
    data_sha256: String,
    timeline: Vec<TimelineEntry>,
    resume_href: Option<String>,
    delete_href: Option<String>,
    mine_href: String,
    /// The signed receipt file (JSON), for a sent submission.
    receipt_file_href: Option<String>,
    /// The receipt as PDF/A, for a sent submission.
    receipt_pdf_href: Option<String>,
    /// The files the submission carries: name, size and type, SHA-256.
    files: Vec<(String, String, String)>,
    /// The case the submission opened in the back office, once it has.
    case: Option<crate::applicant_cases::CaseView>,
}

/// The title of a form version, or its id when it is no longer offered.
fn form_title(state: &AppState, form_id: &str, version: u32, lang: Lang) -> String {
    state
        .forms
        .version(form_id, version)
        .or_else(|| state.forms.latest(form_id))
        .map_or_else(|| form_id.to_owned(), |f| f.ui.title.get(lang).to_owned())
}

fn receipt_facts(state: &AppState, r: &Receipt, lang: Lang) -> Vec<(String, String)> {
    let tr = Tr::new(lang);
    vec![
        (tr.ts("receipt-reference"), r.reference.clone()),
        (tr.ts("receipt-received"), prague_time(r.received_at, lang)),
        (tr.ts("receipt-sequence"), r.sequence.to_string()),
        (
            tr.ts("receipt-form"),
            tr.t2(
                "receipt-form-version",
                "form",
                form_title(state, &r.form_id, r.form_version, lang),
                "version",
                r.form_version,
            ),
        ),
    ]
}

fn timeline(
    draft: Option<&Draft>,
    receipt: Option<&Receipt>,
    stamp: Option<&urad_filing::timestamp::Stamp>,
    lang: Lang,
) -> Vec<TimelineEntry> {
    let tr = Tr::new(lang);
    let mut entries = Vec::new();
    if let Some(d) = draft {
        entries.push(TimelineEntry {
            what: tr.ts("timeline-started"),
            when: prague_time(d.created_at, lang),
            done: true,
        });
        entries.push(TimelineEntry {
            what: tr.ts("timeline-saved"),
            when: prague_time(d.updated_at, lang),
            done: true,
        });
    }
    entries.push(match receipt {
        Some(r) => TimelineEntry {
            what: tr.ts("timeline-received"),
            when: prague_time(r.received_at, lang),
            done: true,
        },
        None => TimelineEntry {
            what: tr.ts("timeline-not-sent"),
            when: String::new(),
            done: false,
        },
    });
    if let Some(stamp) = stamp {
        entries.push(TimelineEntry {
            what: tr.ts("timeline-time-stamped"),
            when: prague_time(stamp.stamped_at, lang),
            done: true,
        });
    }
    entries
}

async fn receipt_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    submission_view(state, id, headers, lang, true).await
}

async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    submission_view(state, id, headers, lang, false).await
}

/// The receipt page (right after sending) and the detail page of My submissions: the
/// receipt's facts and the status timeline; for a draft, its timeline and how to go on.
async fn submission_view(
    state: AppState,
    id: String,
    headers: HeaderMap,
    lang: Lang,
    confirmation: bool,
) -> Response {
    let here = if confirmation {
        paths::receipt(lang, &id)
    } else {
        paths::detail(lang, &id)
    };
    let person = match signed_in(lang, &here) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let tr = Tr::new(lang);
    let receipt = match urad_filing::receipt(&state.db, &person.person_id, &id).await {
        Ok(r) => r,
        Err(e) => return unavailable(&state, lang, &headers, &e),
    };
    let draft = match urad_filing::draft(&state.db, &person.person_id, &id).await {
        Ok(d) => d,
        Err(e) => return unavailable(&state, lang, &headers, &e),
    };
    // The time stamp follows the receipt within seconds; one that cannot be read is left off.
    let stamp = match &receipt {
        Some(_) => urad_filing::timestamp::stored_stamp(&state.db, &id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read the submission's time stamp");
                None
            }),
        None => None,
    };
    let twin = if confirmation {
        paths::receipt(lang.other(), &id)
    } else {
        paths::detail(lang.other(), &id)
    };
    let case = match &receipt {
        Some(r) => crate::applicant_cases::view(&state, &person, &r.id, lang).await,
        None => None,
    };
    let page = match (&receipt, &draft) {
        (Some(r), _) => ReceiptPage {
            case,
            layout: layout(
                &state,
                lang,
                tr.t1("receipt-title", "reference", r.reference.as_str()),
                twin,
            ),
            confirmation,
            heading: if confirmation {
                tr.ts("receipt-heading")
            } else {
                tr.t1("receipt-title", "reference", r.reference.as_str())
            },
            form_title: form_title(&state, &r.form_id, r.form_version, lang),
            facts: receipt_facts(&state, r, lang),
            reference: r.reference.clone(),
            data_sha256: r.data_sha256.clone(),
            timeline: timeline(draft.as_ref(), Some(r), stamp.as_ref(), lang),
            resume_href: None,
            delete_href: None,
            mine_href: paths::mine(lang).into(),
            receipt_file_href: Some(crate::receipt_downloads::receipt_file_href(lang, &r.id)),
            receipt_pdf_href: Some(crate::receipt_downloads::receipt_pdf_href(lang, &r.id)),
            files: r
                .attachments
                .iter()
                .map(|a| {
                    (
                        a.file_name.clone(),
                        format!(
                            "{}, {}",
                            size_words(u64::try_from(a.size).unwrap_or(0), lang),
                            media_type_name(&a.media_type)
                        ),
                        a.sha256.clone(),
                    )
                })
                .collect(),
        },
        (None, Some(d)) if !confirmation => ReceiptPage {
            layout: layout(&state, lang, tr.ts("draft-title"), twin),
            confirmation: false,
            heading: tr.ts("draft-title"),
            form_title: form_title(&state, &d.form_id, d.form_version, lang),
            facts: Vec::new(),
            reference: String::new(),
            data_sha256: String::new(),
            timeline: timeline(Some(d), None, None, lang),
            resume_href: Some(paths::resume(lang, &d.id)),
            delete_href: Some(paths::delete(lang, &d.id)),
            mine_href: paths::mine(lang).into(),
            receipt_file_href: None,
            receipt_pdf_href: None,
            files: Vec::new(),
            case: None,
        },
        _ => return not_found(&state, lang, &headers),
    };
    no_store(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------
// My submissions

struct DraftRow {
    form_title: String,
    started: String,
    saved: String,
    resume_href: String,
    detail_href: String,
    delete_href: String,
}

struct SubmissionRow {
    reference: String,
    form_title: String,
    received: String,
    href: String,
}

#[derive(Template)]
#[template(path = "my_submissions.html")]
struct MinePage {
    layout: Layout,
    signed_in: bool,
    sign_in_href: String,
    csrf: String,
    drafts: Vec<DraftRow>,
    submissions: Vec<SubmissionRow>,
    forms: Vec<(String, String)>,
    who_accessed_href: &'static str,
    messages_href: &'static str,
}

async fn mine(State(state): State<AppState>, lang: Lang) -> Response {
    let tr = Tr::new(lang);
    let mut page = MinePage {
        layout: layout(
            &state,
            lang,
            tr.ts("mine-title"),
            paths::mine(lang.other()).into(),
        ),
        signed_in: false,
        sign_in_href: format!(
            "{}?return={}",
            paths::sign_in(lang),
            encode(paths::mine(lang))
        ),
        csrf: String::new(),
        drafts: Vec::new(),
        submissions: Vec::new(),
        who_accessed_href: crate::applicant_cases::paths::who_accessed(lang),
        messages_href: crate::applicant_cases::paths::messages(lang),
        forms: state
            .forms
            .all_latest()
            .map(|f| (paths::form(lang, &f.id), f.ui.title.get(lang).to_owned()))
            .collect(),
    };
    if let Some(person) = current_viewer() {
        let drafts = urad_filing::of_person::drafts(&state.db, &person.person_id, None).await;
        let sent = urad_filing::of_person::submissions(&state.db, &person.person_id).await;
        let (drafts, sent) = match (drafts, sent) {
            (Ok(d), Ok(s)) => (d, s),
            (Err(e), _) | (_, Err(e)) => {
                return unavailable(&state, lang, &HeaderMap::new(), &e);
            }
        };
        page.drafts = drafts
            .iter()
            .map(|d| DraftRow {
                form_title: form_title(&state, &d.form_id, d.form_version, lang),
                started: prague_time(d.created_at, lang),
                saved: prague_time(d.updated_at, lang),
                resume_href: paths::resume(lang, &d.id),
                detail_href: paths::detail(lang, &d.id),
                delete_href: paths::delete(lang, &d.id),
            })
            .collect();
        page.submissions = sent
            .iter()
            .map(|r| SubmissionRow {
                reference: r.reference.clone(),
                form_title: form_title(&state, &r.form_id, r.form_version, lang),
                received: prague_time(r.received_at, lang),
                href: paths::detail(lang, &r.id),
            })
            .collect();
        page.csrf = person.csrf;
        page.signed_in = true;
    }
    no_store(render(StatusCode::OK, &page))
}

/// "Delete" asks first: a draft deleted is gone with everything typed into it.
async fn confirm_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let here = paths::delete(lang, &id);
    let person = match signed_in(lang, &here) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let draft = match urad_filing::draft(&state.db, &person.person_id, &id).await {
        Ok(Some(d)) if d.submitted_at.is_none() => d,
        Ok(_) => return not_found(&state, lang, &headers),
        Err(e) => return unavailable(&state, lang, &headers, &e),
    };
    let tr = Tr::new(lang);
    let title = form_title(&state, &draft.form_id, draft.form_version, lang);
    let page = NoticePage {
        layout: layout(
            &state,
            lang,
            tr.ts("delete-title"),
            paths::delete(lang.other(), &id),
        ),
        heading: tr.ts("delete-title"),
        paragraphs: vec![tr.t2(
            "delete-text",
            "form",
            title,
            "saved",
            prague_time(draft.updated_at, lang),
        )],
        form: Some(NoticeForm {
            action: here,
            fields: vec![("csrf".into(), person.csrf.clone())],
            label: tr.ts("delete-confirm"),
        }),
        link: Some((paths::mine(lang).into(), tr.ts("delete-keep"))),
    };
    no_store(render(StatusCode::OK, &page))
}

/// Removes an unfinished draft of the person's (never a submission).
async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    lang: Lang,
) -> Response {
    let back = paths::mine(lang);
    let person = match signed_in(lang, back) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let pairs = match parse_body(&state, lang, &headers, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if !csrf_ok(&person, posted(&pairs, "csrf").unwrap_or("")) {
        return csrf_refused(&state, lang, back.into());
    }
    match urad_filing::of_person::delete_draft(&state.db, &person.person_id, &id).await {
        Ok(true) => see_other(back),
        Ok(false) => not_found(&state, lang, &headers),
        Err(e) => unavailable(&state, lang, &headers, &e),
    }
}

// ---------------------------------------------------------------------------------------
// Attachment slots of a step

/// Routes whose request bodies are files (the upload of an attachment from a step's page):
/// merged outside the app's 64 KB body limit, as `urad_filing::attachments` checks the
/// limits of files and submissions itself while the bytes stream in.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/moje-podani/{id}/prilohy/{slot}",
            post(|s, p, h, m| upload(s, p, h, m, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/attachments/{slot}",
            post(|s, p, h, m| upload(s, p, h, m, Lang::En)),
        )
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// One attached file as its slot lists it.
struct FileView {
    name: String,
    details: String,
    remove_action: String,
}

/// One attachment slot as its step's page shows it.
struct SlotView {
    id: String,
    label: String,
    help: Option<String>,
    /// Accepted types and limits, in words.
    rules: String,
    required: bool,
    files: Vec<FileView>,
    upload_action: String,
    error: Option<String>,
}

impl SlotView {
    fn input_id(&self) -> String {
        format!("attachment-{}", self.id.replace('_', "-"))
    }
    fn described_by(&self) -> String {
        let id = self.input_id();
        let mut ids = vec![format!("{id}-rules")];
        if self.help.is_some() {
            ids.push(format!("{id}-hint"));
        }
        if self.error.is_some() {
            ids.push(format!("{id}-error"));
        }
        ids.join(" ")
    }
}

/// Media types for people.
fn media_type_name(media_type: &str) -> &str {
    match media_type {
        "application/pdf" => "PDF",
        "image/jpeg" => "JPEG",
        "image/png" => "PNG",
        "image/tiff" => "TIFF",
        "application/vnd.oasis.opendocument.text" => "ODT",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "DOCX",
        "application/xml" => "XML",
        "text/plain" => "TXT",
        other => other,
    }
}

/// A size for people: `850 kB`, `1,5 MB` (Czech) / `1.5 MB`.
fn size_words(bytes: u64, lang: Lang) -> String {
    const KIB: u64 = 1024;
    if bytes < KIB * KIB {
        format!("{} kB", bytes.div_ceil(KIB))
    } else {
        urad_filing::attachments::size_text(bytes, lang)
    }
}

fn files_words(n: u32, lang: Lang) -> String {
    match lang {
        Lang::Cs => match n {
            1 => "1 soubor".to_owned(),
            2..=4 => format!("{n} soubory"),
            _ => format!("{n} souborů"),
        },
        Lang::En if n == 1 => "1 file".to_owned(),
        Lang::En => format!("{n} files"),
    }
}

/// The slots of a step shown with this data (a slot's own condition holding).
fn step_slots<'f>(form: &'f FormDefinition, step: &Step, data: &Value) -> Vec<&'f AttachmentSlot> {
    step.attachments
        .iter()
        .filter_map(|id| form.ui.attachments.iter().find(|s| s.id == *id))
        .filter(|s| condition_holds(s.show_if.as_ref(), data))
        .collect()
}

/// What is wrong with the files of the step's slots: a required slot without a file, a slot
/// with more than it takes (the messages are the filing office's own, as at sending).
fn slot_problems(
    slots: &[&AttachmentSlot],
    files: &[Attachment],
    lang: Lang,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for slot in slots {
        let count = files.iter().filter(|a| a.slot == slot.id).count();
        let problem = if slot.required && count == 0 {
            Some(AttachmentProblem::Missing {
                slot: slot.id.clone(),
                label: slot.label.clone(),
            })
        } else if count > slot.max_files as usize {
            Some(AttachmentProblem::TooManyInSlot {
                slot: slot.id.clone(),
                label: slot.label.clone(),
                max: slot.max_files,
            })
        } else {
            None
        };
        if let Some(p) = problem {
            problems.push((slot.id.clone(), p.message(lang)));
        }
    }
    problems
}

fn slot_views(
    state: &AppState,
    lang: Lang,
    draft_id: &str,
    slots: &[&AttachmentSlot],
    files: &[Attachment],
    errors: &[(String, String)],
) -> Vec<SlotView> {
    let tr = Tr::new(lang);
    let office_limit = state.attachment_limits().file_bytes;
    slots
        .iter()
        .map(|slot| {
            let types: Vec<&str> = slot.types.iter().map(|t| media_type_name(t)).collect();
            let limit = slot
                .max_file_bytes
                .map_or(office_limit, |b| b.min(office_limit));
            let rules = format!(
                "{} {} {}",
                tr.t1("attach-types", "types", types.join(", ")),
                tr.t2(
                    "attach-limits",
                    "files",
                    files_words(slot.max_files, lang),
                    "size",
                    size_words(limit, lang)
                ),
                tr.t(if slot.required {
                    "attach-required"
                } else {
                    "attach-optional"
                })
            );
            SlotView {
                id: slot.id.clone(),
                label: slot.label.get(lang).to_owned(),
                help: slot.help.as_ref().map(|h| h.get(lang).to_owned()),
                rules,
                required: slot.required,
                files: files
                    .iter()
                    .filter(|a| a.slot == slot.id)
                    .map(|a| FileView {
                        name: a.file_name.clone(),
                        details: file_details(a, lang),
                        remove_action: paths::remove_attachment(lang, draft_id, &a.id),
                    })
                    .collect(),
                upload_action: paths::upload(lang, draft_id, &slot.id),
                error: errors
                    .iter()
                    .find(|(s, _)| *s == slot.id)
                    .map(|(_, m)| m.clone()),
            }
        })
        .collect()
}

/// `1,5 MB, PDF`
fn file_details(a: &Attachment, lang: Lang) -> String {
    format!(
        "{}, {}",
        size_words(u64::try_from(a.size).unwrap_or(0), lang),
        media_type_name(&a.media_type)
    )
}

/// The status an upload refused for `e` answers with (the API's too, but for an unknown slot).
pub(crate) fn attachment_status(e: &AttachmentError) -> StatusCode {
    use AttachmentError as E;
    match e {
        E::UnknownDraft | E::UnknownAttachment | E::UnknownSlot(_) => StatusCode::NOT_FOUND,
        E::UnknownForm(_) => StatusCode::GONE,
        E::AlreadySubmitted | E::TooManyInSlot { .. } | E::TooManyFiles { .. } => {
            StatusCode::CONFLICT
        }
        E::FileTooLarge { .. } | E::SubmissionTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        E::Program { .. }
        | E::WrongType { .. }
        | E::ZipBomb { .. }
        | E::NotADocument { .. }
        | E::Macros { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        E::Empty { .. } | E::Interrupted { .. } => StatusCode::BAD_REQUEST,
        E::Expired { .. } => StatusCode::REQUEST_TIMEOUT,
        E::Store(_) | E::Blob(_) => {
            tracing::error!(error = %e, "attachment store error");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// The step that holds `slot`, shown with this data.
fn step_of_slot<'f>(form: &'f FormDefinition, data: &Value, slot: &str) -> Option<&'f Step> {
    visible_steps(form, data)
        .into_iter()
        .find(|s| step_slots(form, s, data).iter().any(|a| a.id == slot))
}

/// Renders the step that holds `slot` with `message` at the slot (and in the error summary).
#[allow(clippy::too_many_arguments)]
async fn step_with_slot_error(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    person: &Viewer,
    draft: &Draft,
    form: &FormDefinition,
    step: &Step,
    slot: &str,
    message: String,
) -> Response {
    let identity = identity_values(form, &claims_of(state, person).await);
    let files = urad_filing::attachments::list(&state.db, &person.person_id, &draft.id)
        .await
        .unwrap_or_default();
    let slots = step_slots(form, step, &draft.data);
    let views = slot_views(
        state,
        lang,
        &draft.id,
        &slots,
        &files,
        &[(slot.to_owned(), message)],
    );
    render_step(
        state,
        lang,
        status,
        draft,
        form,
        step,
        &[],
        &identity,
        person,
        false,
        views,
        None,
    )
}

/// Reads a small text part (the CSRF token) of a multipart body; `None` when it is larger
/// than a token can be.
async fn small_text(mut field: axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = field.chunk().await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > 256 {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

/// A file posted to a slot from its step's page (`multipart/form-data`: the CSRF token
/// first, then the file, as the page's form sends them). The file streams into the filing
/// office; kept, the step comes back (303) with a message; refused, the step comes back with
/// the reason at the slot and nothing kept.
async fn upload(
    State(state): State<AppState>,
    Path((id, slot_id)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
    lang: Lang,
) -> Response {
    let resume = paths::resume(lang, &id);
    let person = match signed_in(lang, &resume) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Ok(mut multipart) = multipart else {
        return no_store(error_page_with(
            lang,
            StatusCode::BAD_REQUEST,
            &headers,
            Some(state.catalog.clone()),
        ));
    };
    // The token comes before the file: nothing of a forged request is read further.
    let csrf = match multipart.next_field().await {
        Ok(Some(f)) if f.name() == Some("csrf") => small_text(f).await,
        _ => None,
    };
    if !csrf.is_some_and(|t| csrf_ok(&person, &t)) {
        return csrf_refused(&state, lang, resume);
    }
    let (draft, form) = match draft_and_form(&state, lang, &headers, &person, &id).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = level_ok(&state, lang, &person, form, &resume) {
        return *r;
    }
    if draft.submitted_at.is_some() {
        return see_other(&paths::receipt(lang, &id));
    }
    let Some(step) = step_of_slot(form, &draft.data, &slot_id) else {
        return not_found(&state, lang, &headers);
    };
    let tr = Tr::new(lang);
    let Some(store) = &state.attachments else {
        return step_with_slot_error(
            &state,
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            &person,
            &draft,
            form,
            step,
            &slot_id,
            tr.ts("attach-unavailable"),
        )
        .await;
    };
    let field = loop {
        match multipart.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => break Some(f),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => break None,
        }
    };
    // A browser sends an empty part without a name when no file was chosen.
    let Some(field) = field.filter(|f| f.file_name().is_some_and(|n| !n.is_empty())) else {
        return step_with_slot_error(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            &person,
            &draft,
            form,
            step,
            &slot_id,
            tr.ts("attach-no-file"),
        )
        .await;
    };
    let file_name = field.file_name().unwrap_or_default().to_owned();
    let upload = urad_filing::attachments::NewAttachment {
        person_id: &person.person_id,
        draft_id: &id,
        slot: &slot_id,
        file_name: &file_name,
    };
    let added =
        urad_filing::attachments::add(store, state.clock.as_ref(), &state.forms, &upload, field)
            .await;
    match added {
        Ok(a) => see_other(&format!(
            "{}?{}={}#attachments-status",
            paths::step(lang, &id, &step.id),
            match lang {
                Lang::Cs => "prilozeno",
                Lang::En => "attached",
            },
            a.id
        )),
        Err(AttachmentError::AlreadySubmitted) => see_other(&paths::receipt(lang, &id)),
        Err(e) => {
            let status = attachment_status(&e);
            step_with_slot_error(
                &state,
                lang,
                status,
                &person,
                &draft,
                form,
                step,
                &slot_id,
                e.message(lang),
            )
            .await
        }
    }
}

/// "Remove" at a file of a slot: the file is taken off the draft, the step comes back.
async fn remove_attachment(
    State(state): State<AppState>,
    Path((id, attachment)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
    lang: Lang,
) -> Response {
    let resume = paths::resume(lang, &id);
    let person = match signed_in(lang, &resume) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let pairs = match parse_body(&state, lang, &headers, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if !csrf_ok(&person, posted(&pairs, "csrf").unwrap_or("")) {
        return csrf_refused(&state, lang, resume);
    }
    let (draft, form) = match draft_and_form(&state, lang, &headers, &person, &id).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(store) = &state.attachments else {
        return not_found(&state, lang, &headers);
    };
    let files = match urad_filing::attachments::list(&state.db, &person.person_id, &id).await {
        Ok(f) => f,
        Err(_) => return not_found(&state, lang, &headers),
    };
    let Some(slot) = files
        .iter()
        .find(|a| a.id == attachment)
        .map(|a| a.slot.clone())
    else {
        return not_found(&state, lang, &headers);
    };
    let removed = urad_filing::attachments::remove(
        store,
        state.clock.as_ref(),
        &person.person_id,
        &id,
        &attachment,
    )
    .await;
    match removed {
        Ok(()) => {
            let back = step_of_slot(form, &draft.data, &slot).map_or_else(
                || paths::check(lang, &id),
                |s| {
                    format!(
                        "{}?{}#attachments-status",
                        paths::step(lang, &id, &s.id),
                        match lang {
                            Lang::Cs => "odebrano=1",
                            Lang::En => "removed=1",
                        }
                    )
                },
            );
            see_other(&back)
        }
        Err(AttachmentError::AlreadySubmitted) => see_other(&paths::receipt(lang, &id)),
        Err(AttachmentError::UnknownAttachment | AttachmentError::UnknownDraft) => {
            not_found(&state, lang, &headers)
        }
        Err(e) => {
            tracing::error!(error = %e, "removing an attachment failed");
            no_store(error_page_with(
                lang,
                attachment_status(&e),
                &headers,
                Some(state.catalog.clone()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_set_and_removed_at_dotted_paths() {
        let mut data = json!({});
        set_at(&mut data, "sender.name", Some(json!("Jana")));
        set_at(&mut data, "subject", Some(json!("Věc")));
        assert_eq!(data, json!({"sender": {"name": "Jana"}, "subject": "Věc"}));
        set_at(&mut data, "sender.name", None);
        assert_eq!(data, json!({"subject": "Věc"}), "an empty group goes too");
        set_at(&mut data, "missing.deep", None);
        assert_eq!(data, json!({"subject": "Věc"}));
    }

    #[test]
    fn identity_claims_become_field_values() {
        let claims = json!({
            "given_name": "Jana", "family_name": "Nováková", "birthdate": "1988-03-14",
            "address": {"street_address": "Nádražní 12", "postal_code": "702 00", "locality": "Ostrava"}
        });
        assert_eq!(
            claim_value(&claims, IdentityClaim::Name).as_deref(),
            Some("Jana Nováková")
        );
        assert_eq!(
            claim_value(&claims, IdentityClaim::Address).as_deref(),
            Some("Nádražní 12, 702 00 Ostrava")
        );
        assert_eq!(claim_value(&claims, IdentityClaim::Email), None);
    }

    /// The forms the portal ships (`content/forms/`).
    fn shipped() -> urad_forms::Forms {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content/forms");
        urad_forms::Forms::load_dir(&dir).expect("the shipped forms load")
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_condition_answered_on_the_same_step_shows_its_field_and_drops_it_when_it_fails() {
        let forms = shipped();
        let form = forms.latest("verejna-sbirka").unwrap();
        let step = form.ui.steps.iter().find(|s| s.id == "collection").unwrap();
        // Without JavaScript the municipalities are asked on the same page as the area.
        assert!(step_fields(form, step, &json!({})).contains(&"municipalities"));
        let mut data = json!({});
        let sent = pairs(&[
            ("area", "municipalities"),
            ("municipalities", "Opava, Krnov"),
        ]);
        take_step_values(form, step, &mut data, &sent, &[]);
        drop_hidden(form, &mut data);
        assert_eq!(data["municipalities"], "Opava, Krnov");
        // The whole region: the municipalities are not part of the submission any more.
        let sent = pairs(&[("area", "region"), ("municipalities", "Opava, Krnov")]);
        take_step_values(form, step, &mut data, &sent, &[]);
        drop_hidden(form, &mut data);
        assert_eq!(data.get("municipalities"), None, "{data}");
        assert_eq!(data["area"], "region");
    }

    #[test]
    fn posted_text_becomes_the_fields_type_and_identity_fields_are_not_taken() {
        let forms = shipped();
        let form = forms.latest("kotlikova-dotace").unwrap();
        assert_eq!(
            typed_value(form, "eligible_costs_czk", " 150 000 "),
            Some(json!(150000))
        );
        assert_eq!(
            typed_value(form, "eligible_costs_czk", "hodně"),
            Some(json!("hodně"))
        );
        assert_eq!(typed_value(form, "eligible_costs_czk", "  "), None);
        let step = form.ui.steps.iter().find(|s| s.id == "applicant").unwrap();
        let identity = vec![("applicant.name".to_owned(), "Jana Nováková".to_owned())];
        let mut data = json!({});
        let sent = pairs(&[("applicant.name", "Someone Else")]);
        take_step_values(form, step, &mut data, &sent, &identity);
        assert_eq!(
            value_at(&data, "applicant.name"),
            None,
            "the browser's value is ignored"
        );
        apply_identity(&mut data, &identity);
        assert_eq!(data["applicant"]["name"], "Jana Nováková");
        // An unticked checkbox is an answer (false), not a missing one.
        let building = form.ui.steps.iter().find(|s| s.id == "building").unwrap();
        let checkbox = building
            .fields
            .iter()
            .find(|f| form.ui.fields[f.as_str()].widget == Widget::Checkbox)
            .unwrap();
        take_step_values(form, building, &mut data, &[], &identity);
        assert_eq!(value_at(&data, checkbox), Some(&json!(false)));
    }

    #[test]
    fn prague_time_follows_summer_time() {
        // 2026-01-15 12:00 UTC is 13:00 in winter; 2026-07-15 12:00 UTC is 14:00 in summer.
        assert_eq!(
            prague_time(1_768_478_400, Lang::Cs),
            "15. 1. 2026 13:00:00 CET"
        );
        assert_eq!(
            prague_time(1_784_116_800, Lang::En),
            "15 July 2026, 14:00:00 CEST"
        );
    }
}
