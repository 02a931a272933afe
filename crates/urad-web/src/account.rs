//! The portal as a relying party of its own gateway: sign-in and sign-out in the header and
//! "My account" (identity data, level of assurance, linked logins, active sessions, recent
//! security events). The portal goes through `/oidc/authorize` with PKCE like any client and
//! redeems the code with the same checks as the token endpoint; its own session is valid only
//! while the gateway session it came from lives, so signing out anywhere signs it out here.

use crate::error::render;
use crate::i18n::Tr;
use crate::pages::Layout;
use crate::signin::{add_cookie, cookie, end_session, redirect};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use sqlx::Row;
use urad_core::Lang;
use urad_identity::authorize::encode;
use urad_identity::grants::{self, random_token};
use urad_identity::jose::sha256_b64 as sha256;
use urad_identity::{audit, clients, sessions, tokens, Loa};
use urad_store::Db;

/// The portal's client id at its own gateway.
pub const CLIENT_ID: &str = "portal";
const COOKIE: &str = "urad-portal";
const SESSION_TTL_SECS: i64 = sessions::SESSION_TTL_SECS;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ucet", get(|s, h| account(s, h, Lang::Cs)))
        .route("/en/account", get(|s, h| account(s, h, Lang::En)))
        .route("/ucet/prihlasit", get(|s, q| sign_in(s, q, Lang::Cs)))
        .route("/en/account/sign-in", get(|s, q| sign_in(s, q, Lang::En)))
        .route("/ucet/navrat", get(callback))
        .route("/ucet/odhlasit", post(sign_out))
        .route("/ucet/relace/ukoncit", post(end_other_session))
}

/// Registers the portal as a client of the gateway at this issuer, or brings its
/// registration up to date (at every start, so a changed public URL is followed). An update
/// in place keeps what was issued to the portal, and a process already serving never finds
/// the client missing.
pub async fn register(
    db: &Db,
    clock: &dyn urad_core::Clock,
    issuer: &str,
) -> Result<(), clients::ClientError> {
    let new = clients::NewClient {
        client_id: CLIENT_ID.into(),
        name: "Portál".into(),
        name_en: Some("Portal".into()),
        redirect_uris: vec![format!("{issuer}/ucet/navrat")],
        post_logout_redirect_uris: vec![
            format!("{issuer}/odhlaseno"),
            format!("{issuer}/en/signed-out"),
        ],
        backchannel_logout_uri: None,
        public: true,
        min_loa: Loa::Low,
        source: "portal".into(),
    };
    let mut tx = db.begin_write().await?;
    clients::upsert(
        &mut tx,
        clock,
        &new,
        &clients::ClientOptions::default(),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Who is signed in to the portal in this request.
#[derive(Clone, Debug)]
pub(crate) struct Viewer {
    pub name: String,
    pub sid: String,
    pub person_id: String,
    pub loa: Loa,
    pub csrf: String,
    pub id_token: Option<String>,
    /// The office's roles of a member of staff (from the `groups` claim); `None` for citizens.
    pub staff: Option<urad_cases::access::Staff>,
}

tokio::task_local! {
    /// The viewer of the page being rendered, for the header; set by [`identify`] around the
    /// handler so that every page's layout can show it without each handler passing it on.
    pub(crate) static VIEWER: Option<Viewer>;
}

pub(crate) fn current_viewer() -> Option<Viewer> {
    VIEWER.try_with(|v| v.clone()).ok().flatten()
}

async fn viewer_of(state: &AppState, headers: &HeaderMap) -> Option<Viewer> {
    let token = cookie(headers, &state.issuer, COOKIE)?;
    let row = sqlx::query(
        "SELECT sid, person_id, csrf, id_token FROM portal_session WHERE token_sha256 = $1 AND sid IS NOT NULL AND expires_at > $2",
    )
    .bind(sha256(token))
    .bind(state.clock.now())
    .fetch_optional(state.db.reader())
    .await
    .ok()??;
    let sid: String = row.try_get("sid").ok()?;
    // Valid only while the gateway session lives: a sign-out anywhere ends it here.
    let session = sessions::find_by_sid(&state.db, state.clock.as_ref(), &sid)
        .await
        .ok()??;
    let person_id: String = row.try_get("person_id").ok()?;
    Some(Viewer {
        name: session.claims["name"].as_str().unwrap_or("").to_owned(),
        sid,
        staff: urad_cases::access::Staff::from_claims(&person_id, &session.claims),
        person_id,
        loa: session.loa,
        csrf: row.try_get("csrf").ok()?,
        id_token: row.try_get("id_token").ok()?,
    })
}

/// Middleware: finds the viewer for requests that carry the portal cookie.
pub(crate) async fn identify(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let viewer = if cookie(request.headers(), &state.issuer, COOKIE).is_some() {
        viewer_of(&state, request.headers()).await
    } else {
        None
    };
    VIEWER.scope(viewer, next.run(request)).await
}

#[derive(serde::Deserialize)]
struct SignInQuery {
    /// The level the page asks for (`substantial`, `high`).
    acr: Option<String>,
    /// Where to come back to: a path of this portal.
    r#return: Option<String>,
}

/// Only paths of this portal: never `//host` or a full URL (no open redirect).
fn safe_return(path: Option<&str>, lang: Lang) -> String {
    match path {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => match lang {
            Lang::Cs => "/ucet".into(),
            Lang::En => "/en/account".into(),
        },
    }
}

async fn sign_in(
    State(state): State<AppState>,
    Query(q): Query<SignInQuery>,
    lang: Lang,
) -> Response {
    let (token, st, nonce, verifier, csrf) = (
        random_token(),
        random_token(),
        random_token(),
        random_token(),
        random_token(),
    );
    let now = state.clock.now();
    let return_to = safe_return(q.r#return.as_deref(), lang);
    let stored = sqlx::query(
        "INSERT INTO portal_session (token_sha256, state, nonce, verifier, return_to, csrf, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sha256(&token))
    .bind(&st)
    .bind(&nonce)
    .bind(&verifier)
    .bind(&return_to)
    .bind(&csrf)
    .bind(now)
    .bind(now + 15 * 60)
    .execute(state.db.writer())
    .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, "cannot start the portal's sign-in");
        return crate::signin::flow_error(lang, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    }
    let mut query = vec![
        ("response_type", "code".to_owned()),
        ("client_id", CLIENT_ID.to_owned()),
        ("redirect_uri", format!("{}/ucet/navrat", state.issuer)),
        ("scope", "openid profile email address".to_owned()),
        ("state", st),
        ("nonce", nonce),
        ("code_challenge", sha256(&verifier)),
        ("code_challenge_method", "S256".to_owned()),
        ("ui_locales", lang.code().to_owned()),
    ];
    if let Some(loa) = q.acr.as_deref().and_then(|a| a.parse::<Loa>().ok()) {
        query.push(("acr_values", loa.uri().to_owned()));
    }
    let mut response = redirect(&format!(
        "/oidc/authorize?{}",
        serde_urlencoded::to_string(&query).unwrap_or_default()
    ));
    add_cookie(
        &mut response,
        &state.issuer,
        COOKIE,
        &token,
        SESSION_TTL_SECS,
    );
    response
}

#[derive(serde::Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let clock = state.clock.as_ref();
    let lang = Lang::Cs;
    let Some(token) = cookie(&headers, &state.issuer, COOKIE) else {
        return crate::signin::flow_error(lang, StatusCode::BAD_REQUEST, "expired");
    };
    let row = sqlx::query(
        "SELECT state, nonce, verifier, return_to FROM portal_session WHERE token_sha256 = $1 AND state IS NOT NULL AND expires_at > $2",
    )
    .bind(sha256(token))
    .bind(clock.now())
    .fetch_optional(state.db.reader())
    .await;
    let Ok(Some(row)) = row else {
        return crate::signin::flow_error(lang, StatusCode::BAD_REQUEST, "expired");
    };
    let expected_state: String = row.try_get("state").unwrap_or_default();
    let return_to: String = row.try_get("return_to").unwrap_or_default();
    if q.state.as_deref() != Some(expected_state.as_str()) {
        return crate::signin::flow_error(lang, StatusCode::BAD_REQUEST, "other-browser");
    }
    if let Some(error) = q.error.as_deref() {
        let key = if error == "unmet_authentication_requirements" {
            "level"
        } else {
            "cancelled"
        };
        return crate::signin::flow_error(lang, StatusCode::FORBIDDEN, key);
    }
    let verifier: String = row.try_get("verifier").unwrap_or_default();
    let nonce: Option<String> = row.try_get("nonce").ok();
    let redeemed = grants::redeem_code(
        &state.db,
        clock,
        q.code.as_deref().unwrap_or(""),
        CLIENT_ID,
        &format!("{}/ucet/navrat", state.issuer),
        &verifier,
    )
    .await;
    let (grant, code_nonce) = match redeemed {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "the portal's code was refused");
            return crate::signin::flow_error(lang, StatusCode::BAD_REQUEST, "expired");
        }
    };
    if code_nonce != nonce {
        return crate::signin::flow_error(lang, StatusCode::BAD_REQUEST, "expired");
    }
    let id_token = match state.keys().await {
        Ok(keys) => Some(tokens::id_token(
            keys.es256(),
            &state.issuer,
            &grant,
            code_nonce.as_deref(),
            clock.now(),
        )),
        Err(_) => None,
    };
    // A new cookie for the signed-in portal session (no fixation of the pre-sign-in one).
    let fresh = random_token();
    let now = clock.now();
    let updated = sqlx::query(
        "UPDATE portal_session SET token_sha256 = $1, sid = $2, person_id = $3, state = NULL, nonce = NULL, verifier = NULL, \
         id_token = $4, expires_at = $5 WHERE token_sha256 = $6",
    )
    .bind(sha256(&fresh))
    .bind(&grant.sid)
    .bind(&grant.person_id)
    .bind(&id_token)
    .bind(now + SESSION_TTL_SECS)
    .bind(sha256(token))
    .execute(state.db.writer())
    .await;
    if let Err(e) = updated {
        tracing::error!(error = %e, "cannot keep the portal session");
        return crate::signin::flow_error(lang, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    }
    let mut response = redirect(&return_to);
    add_cookie(
        &mut response,
        &state.issuer,
        COOKIE,
        &fresh,
        SESSION_TTL_SECS,
    );
    response
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    csrf: String,
    sid: Option<String>,
    lang: Option<String>,
}

pub(crate) fn csrf_ok(viewer: &Viewer, sent: &str) -> bool {
    !sent.is_empty() && sha256(sent) == sha256(&viewer.csrf)
}

/// Sign-out: the portal asks the gateway to end the session (RP-initiated logout), which
/// tells every other client and the identity provider.
async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let lang = if form.lang.as_deref() == Some("en") {
        Lang::En
    } else {
        Lang::Cs
    };
    let Some(viewer) = viewer_of(&state, &headers).await else {
        return redirect(match lang {
            Lang::Cs => "/odhlaseno",
            Lang::En => "/en/signed-out",
        });
    };
    if !csrf_ok(&viewer, &form.csrf) {
        return crate::signin::flow_error(lang, StatusCode::FORBIDDEN, "csrf");
    }
    if let Some(t) = cookie(&headers, &state.issuer, COOKIE) {
        let _ = sqlx::query("DELETE FROM portal_session WHERE token_sha256 = $1")
            .bind(sha256(t))
            .execute(state.db.writer())
            .await;
    }
    let after = match lang {
        Lang::Cs => format!("{}/odhlaseno", state.issuer),
        Lang::En => format!("{}/en/signed-out", state.issuer),
    };
    let mut location = format!(
        "/oidc/logout?post_logout_redirect_uri={}&client_id={CLIENT_ID}&ui_locales={}",
        encode(&after),
        lang.code()
    );
    if let Some(t) = &viewer.id_token {
        location.push_str(&format!("&id_token_hint={}", encode(t)));
    }
    let mut response = redirect(&location);
    add_cookie(&mut response, &state.issuer, COOKIE, "", 0);
    response
}

/// Ends one of the person's other sessions (another browser or device).
async fn end_other_session(
    State(state): State<AppState>,
    client: crate::rate_limit::ClientIp,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let lang = if form.lang.as_deref() == Some("en") {
        Lang::En
    } else {
        Lang::Cs
    };
    let Some(viewer) = viewer_of(&state, &headers).await else {
        return crate::signin::flow_error(lang, StatusCode::FORBIDDEN, "expired");
    };
    if !csrf_ok(&viewer, &form.csrf) {
        return crate::signin::flow_error(lang, StatusCode::FORBIDDEN, "csrf");
    }
    let Some(sid) = form.sid else {
        return crate::signin::flow_error(lang, StatusCode::BAD_REQUEST, "expired");
    };
    // Only the person's own sessions.
    let own = sessions::live_sessions(&state.db, state.clock.as_ref(), &viewer.person_id)
        .await
        .unwrap_or_default()
        .iter()
        .any(|s| s.sid == sid);
    if !own {
        return crate::signin::flow_error(lang, StatusCode::FORBIDDEN, "expired");
    }
    let ip = client.text();
    end_session(&state, &sid, ip.as_deref(), "ended from My account").await;
    redirect(match lang {
        Lang::Cs => "/ucet",
        Lang::En => "/en/account",
    })
}

struct SessionRow {
    sid: String,
    started: String,
    level: String,
    device: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    signed_in: bool,
    sign_in_href: String,
    csrf: String,
    facts: Vec<(String, String)>,
    level: String,
    step_up_href: Option<String>,
    logins: Vec<(String, String)>,
    sessions: Vec<SessionRow>,
    events: Vec<(String, String)>,
}

fn when(t: i64) -> String {
    let date = crate::demo_idp::date_of(t);
    let secs = t.rem_euclid(86_400);
    format!("{date} {:02}:{:02} UTC", secs / 3600, (secs % 3600) / 60)
}

async fn account(State(state): State<AppState>, headers: HeaderMap, lang: Lang) -> Response {
    let tr = Tr::new(lang);
    let sign_in_path = match lang {
        Lang::Cs => "/ucet/prihlasit",
        Lang::En => "/en/account/sign-in",
    };
    let mut page = AccountPage {
        layout: Layout::account(lang, tr.ts("account-title")),
        signed_in: false,
        sign_in_href: sign_in_path.into(),
        csrf: String::new(),
        facts: vec![],
        level: String::new(),
        step_up_href: None,
        logins: vec![],
        sessions: vec![],
        events: vec![],
    };
    if let Some(v) = viewer_of(&state, &headers).await {
        let clock = state.clock.as_ref();
        let claims = sessions::claims_of_live(&state.db, clock, &v.sid)
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let text = |k: &str| claims[k].as_str().unwrap_or("").to_owned();
        let address = claims["address"].as_object().map(|a| {
            ["street_address", "postal_code", "locality"]
                .iter()
                .filter_map(|k| a.get(*k).and_then(|v| v.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        });
        page.facts = [
            ("account-name", text("name")),
            ("account-birthdate", text("birthdate")),
            ("account-address", address.unwrap_or_default()),
            ("account-email", text("email")),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (tr.ts(k), v))
        .collect();
        page.level = tr.ts(&format!("loa-{}", v.loa.code()));
        if v.loa < Loa::High {
            page.step_up_href = Some(format!("{sign_in_path}?acr=high"));
        }
        page.logins = sessions::linked_logins(&state.db, &v.person_id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|l| {
                let label = state
                    .upstreams
                    .iter()
                    .find(|u| u.name() == l.upstream)
                    .map(|u| match lang {
                        Lang::Cs => u.config.label.cs.clone(),
                        Lang::En => u.config.label.en.clone(),
                    })
                    .unwrap_or(l.upstream);
                (label, when(l.last_used_at))
            })
            .collect();
        page.sessions = sessions::live_sessions(&state.db, clock, &v.person_id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| SessionRow {
                current: s.sid == v.sid,
                started: when(s.created_at),
                level: tr.ts(&format!("loa-{}", s.loa.code())),
                device: s.user_agent.unwrap_or_default(),
                sid: s.sid,
            })
            .collect();
        page.events = audit::recent(&state.db, Some(&v.person_id), 10)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                (
                    when(e.at),
                    tr.ts(&format!("audit-{}", e.kind.replace('_', "-"))),
                )
            })
            .collect();
        page.csrf = v.csrf;
        page.signed_in = true;
    }
    let mut r = render(StatusCode::OK, &page);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}
