//! Each person's notification preferences (`/nastaveni-oznameni`, in English
//! `/en/notification-settings`): whether notices also come by e-mail, to the address their
//! identity gives or one of their own, and in which language. Notices in the portal
//! (`/zpravy`) are always made. A server-rendered form that works without JavaScript; a wrong
//! address is answered with an error summary and the values kept, and nothing is stored.

use crate::account::{csrf_ok, current_viewer};
use crate::error::{error_page_with, render};
use crate::form_pages::{no_store, see_other, sign_in_first};
use crate::i18n::Tr;
use crate::pages::{Layout, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use urad_core::Lang;
use urad_notify::preferences::{self, Preferences};

pub(crate) mod paths {
    use urad_core::Lang;

    pub fn settings(lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => "/nastaveni-oznameni",
            Lang::En => "/en/notification-settings",
        }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/nastaveni-oznameni",
            get(|s, q| page(s, q, Lang::Cs)).post(|s, h, f| save(s, h, f, Lang::Cs)),
        )
        .route(
            "/en/notification-settings",
            get(|s, q| page(s, q, Lang::En)).post(|s, h, f| save(s, h, f, Lang::En)),
        )
}

/// The form as shown: the stored preferences, or what was sent when it is shown again.
struct Shown {
    email_enabled: bool,
    /// The identity's address, when it gives one.
    identity_email: Option<String>,
    /// `identity` or `own`.
    address: String,
    own_email: String,
    lang: Lang,
}

#[derive(Template)]
#[template(path = "notification_settings.html")]
struct SettingsPage {
    layout: Layout,
    action: String,
    csrf: String,
    shown: Shown,
    /// The error of the own address, when it is one.
    email_error: Option<String>,
    saved: bool,
    messages_href: &'static str,
}

#[derive(Deserialize, Default)]
struct PageQuery {
    /// Set after a save: the page says so.
    #[serde(default)]
    saved: String,
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    csrf: String,
    /// Present (`1`) when e-mail is on.
    #[serde(default)]
    email_enabled: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    own_email: String,
    #[serde(default)]
    lang: String,
}

fn unavailable(state: &AppState, lang: Lang, headers: &HeaderMap) -> Response {
    no_store(error_page_with(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        headers,
        Some(state.catalog.clone()),
    ))
}

fn show(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    csrf: &str,
    shown: Shown,
    email_error: Option<String>,
    saved: bool,
) -> Response {
    let tr = Tr::new(lang);
    let mut layout = Layout::new(
        lang,
        tr.ts("settings-title"),
        Page::Home,
        Some(state.catalog.clone()),
    );
    layout.switch_href = paths::settings(lang.other()).into();
    no_store(render(
        status,
        &SettingsPage {
            layout,
            action: paths::settings(lang).into(),
            csrf: csrf.to_owned(),
            shown,
            email_error,
            saved,
            messages_href: crate::applicant_cases::paths::messages(lang),
        },
    ))
}

async fn identity_email(state: &AppState, person_id: &str) -> Option<String> {
    urad_identity::sessions::latest_email(&state.db, person_id)
        .await
        .ok()
        .flatten()
        .filter(|e| !e.trim().is_empty())
}

async fn page(State(state): State<AppState>, Query(q): Query<PageQuery>, lang: Lang) -> Response {
    let here = paths::settings(lang);
    let Some(viewer) = current_viewer() else {
        return sign_in_first(lang, here);
    };
    let identity = identity_email(&state, &viewer.person_id).await;
    let stored = match preferences::get(&state.db, &viewer.person_id, identity.as_deref()).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot read notification preferences");
            return unavailable(&state, lang, &HeaderMap::new());
        }
    };
    let shown = Shown {
        email_enabled: stored.email_enabled,
        address: if stored.own_email || identity.is_none() {
            "own".into()
        } else {
            "identity".into()
        },
        own_email: if stored.own_email {
            stored.email.clone().unwrap_or_default()
        } else {
            String::new()
        },
        identity_email: identity,
        lang: stored.lang,
    };
    show(
        &state,
        lang,
        StatusCode::OK,
        &viewer.csrf,
        shown,
        None,
        !q.saved.is_empty(),
    )
}

async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SettingsForm>,
    lang: Lang,
) -> Response {
    let here = paths::settings(lang);
    let Some(viewer) = current_viewer() else {
        return sign_in_first(lang, here);
    };
    if !csrf_ok(&viewer, &form.csrf) {
        return no_store(error_page_with(
            lang,
            StatusCode::FORBIDDEN,
            &headers,
            Some(state.catalog.clone()),
        ));
    }
    let identity = identity_email(&state, &viewer.person_id).await;
    let email_enabled = !form.email_enabled.is_empty();
    let own = form.address == "own" || identity.is_none();
    let shown = Shown {
        email_enabled,
        address: if own { "own" } else { "identity" }.into(),
        own_email: form.own_email.trim().to_owned(),
        identity_email: identity.clone(),
        lang: if form.lang == "en" {
            Lang::En
        } else {
            Lang::Cs
        },
    };
    let tr = Tr::new(lang);
    // An own address must be one; with e-mail on, some address must be known.
    let email_error = if own && !shown.own_email.is_empty() {
        preferences::check_address(&shown.own_email)
            .err()
            .map(|_| tr.ts("settings-email-invalid"))
    } else if own && email_enabled {
        Some(tr.ts("settings-email-missing"))
    } else {
        None
    };
    if email_error.is_some() {
        return show(
            &state,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &viewer.csrf,
            shown,
            email_error,
            false,
        );
    }
    let chosen = Preferences {
        email: if own {
            Some(shown.own_email.clone()).filter(|e| !e.is_empty())
        } else {
            identity
        },
        own_email: own && !shown.own_email.is_empty(),
        email_enabled,
        lang: shown.lang,
    };
    match preferences::set(&state.db, state.clock.as_ref(), &viewer.person_id, &chosen).await {
        Ok(()) => see_other(&format!("{here}?saved=1")),
        Err(e) => {
            tracing::error!(error = %e, "cannot store notification preferences");
            unavailable(&state, lang, &headers)
        }
    }
}
