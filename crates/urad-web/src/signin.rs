//! The gateway's sign-in and sign-out as a browser goes through them: the authorization
//! endpoint, the choice of identity provider, the return from the provider, and logout
//! (RP-initiated, back-channel to every client of the session, and up to the provider).

use crate::error::render;
use crate::i18n::Tr;
use crate::pages::Layout;
use crate::rate_limit::ClientIp;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;
use urad_core::Lang;
use urad_identity::audit::{self, Event, Kind};
use urad_identity::authorize::{self, AuthorizationRequest, AuthorizeError, Params};
use urad_identity::grants::{ordered_token, random_token};
use urad_identity::signin::{self, Decision};
use urad_identity::upstream::{AuthorizationStart, Upstream};
use urad_identity::{discovery, jose, sessions, Loa};

pub(crate) const SESSION_COOKIE: &str = "urad-session";
const LOGIN_COOKIE: &str = "urad-login";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            discovery::AUTHORIZATION_PATH,
            get(authorize_get).post(authorize_post),
        )
        .route("/prihlaseni", get(|s, q, h| chooser(s, q, h, Lang::Cs)))
        .route("/en/sign-in", get(|s, q, h| chooser(s, q, h, Lang::En)))
        .route("/oidc/upstream/{name}", get(go_upstream))
        .route("/oidc/callback/{name}", get(callback))
        .route(
            discovery::END_SESSION_PATH,
            get(logout_get).post(logout_post),
        )
        .route("/oidc/logout/upstream", get(logout_upstream_return))
        .route("/odhlaseno", get(|s| signed_out(s, Lang::Cs)))
        .route("/en/signed-out", get(|s| signed_out(s, Lang::En)))
}

// ---------------------------------------------------------------------------------------
// Cookies

/// The cookie's name: with the `__Host-` prefix (Secure, whole origin, no Domain) when the
/// portal is served over https, as in production; plain on a developer's http://localhost,
/// where browsers would refuse a `__Host-` cookie.
pub(crate) fn cookie_name(issuer: &str, base: &str) -> String {
    if issuer.starts_with("https://") {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (sent on the top-level redirects that come
/// back from providers, never on cross-site subrequests), Secure on https.
pub(crate) fn set_cookie(issuer: &str, base: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(issuer, base)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

/// Adds a `Set-Cookie` of [`set_cookie`] to `response`.
pub(crate) fn add_cookie(
    response: &mut Response,
    issuer: &str,
    base: &str,
    value: &str,
    max_age: i64,
) {
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(issuer, base, value, max_age));
}

/// Binds a pending sign-in to this browser: the login cookie, for as long as a sign-in may take.
fn add_login_cookie(response: &mut Response, issuer: &str, browser: &str) {
    add_cookie(
        response,
        issuer,
        LOGIN_COOKIE,
        browser,
        signin::PENDING_TTL_SECS,
    );
}

pub(crate) fn cookie<'h>(headers: &'h HeaderMap, issuer: &str, base: &str) -> Option<&'h str> {
    let name = cookie_name(issuer, base);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

pub(crate) fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, v),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// A page with a message (errors of the flow, confirmation of sign-out)

#[derive(Template)]
#[template(path = "notice.html")]
pub(crate) struct NoticePage {
    pub layout: Layout,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub form: Option<NoticeForm>,
    pub link: Option<(String, String)>,
}

/// A form with one button.
pub(crate) struct NoticeForm {
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub label: String,
}

/// An error page of the sign-in flow: what happened and what the person can do.
pub(crate) fn flow_error(lang: Lang, status: StatusCode, key: &str) -> Response {
    let tr = Tr::new(lang);
    let page = NoticePage {
        layout: Layout::bare(lang, tr.ts("signin-error-title")),
        heading: tr.ts("signin-error-title"),
        paragraphs: vec![tr.ts(&format!("signin-error-{key}"))],
        form: None,
        link: Some((
            crate::pages::Page::Home.path(lang),
            tr.ts("error-back-home"),
        )),
    };
    let mut r = render(status, &page);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn lang_of(params: &Params) -> Lang {
    match params
        .get("ui_locales")
        .map(|l| l.split([' ', '-']).next().unwrap_or(""))
    {
        Some("en") => Lang::En,
        _ => Lang::Cs,
    }
}

fn unavailable(e: impl std::fmt::Display, lang: Lang) -> Response {
    tracing::error!(error = %e, "sign-in flow failed");
    flow_error(lang, StatusCode::SERVICE_UNAVAILABLE, "unavailable")
}

// ---------------------------------------------------------------------------------------
// The authorization endpoint

async fn authorize_get(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params: Params = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    authorize_with(&state, params, &headers).await
}

async fn authorize_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params: Params = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    authorize_with(&state, params, &headers).await
}

/// Upstreams that can reach `loa`.
fn upstreams_for(state: &AppState, loa: Loa) -> Vec<Arc<Upstream>> {
    state
        .upstreams
        .iter()
        .filter(|u| u.config.max_loa >= loa)
        .cloned()
        .collect()
}

async fn authorize_with(state: &AppState, params: Params, headers: &HeaderMap) -> Response {
    let lang = lang_of(&params);
    let request = match authorize::validate_with(
        &state.db,
        Some((&state.clients, state.clock.as_ref())),
        &params,
    )
    .await
    {
        Ok(r) => r,
        Err(e @ AuthorizeError::Redirect { .. }) => {
            return redirect(&e.location(&state.issuer).unwrap_or_default())
        }
        Err(AuthorizeError::Page(key)) => return flow_error(lang, StatusCode::BAD_REQUEST, key),
    };
    let clock = state.clock.as_ref();
    let session = match cookie(headers, &state.issuer, SESSION_COOKIE) {
        Some(t) => match sessions::find(&state.db, clock, t).await {
            Ok(s) => s,
            Err(e) => return unavailable(e, lang),
        },
        None => None,
    };
    match signin::decide(&request, session.as_ref(), clock.now()) {
        Decision::Issue => {
            let session = session.expect("Issue is decided only with a session");
            match signin::issue(&state.db, clock, &state.issuer, &request, &session).await {
                Ok(location) => redirect(&location),
                Err(e) => unavailable(e, lang),
            }
        }
        Decision::Refuse(error) => refuse(state, &request, error, ""),
        Decision::SignIn { force } => {
            let candidates = upstreams_for(state, request.required_loa);
            if candidates.is_empty() {
                return refuse(
                    state,
                    &request,
                    "unmet_authentication_requirements",
                    "no identity provider reaches the level of assurance asked for",
                );
            }
            let existing = cookie(headers, &state.issuer, LOGIN_COOKIE).map(str::to_owned);
            let browser = existing.clone().unwrap_or_else(random_token);
            // With one possible upstream the person goes straight there: the request is
            // parked with where it went, in one write.
            let tokens = UpstreamTokens::new();
            let only = (candidates.len() == 1).then(|| tokens.leg(candidates[0].name()));
            let id = match signin::park(&state.db, clock, &params, &browser, only.as_ref()).await {
                Ok(id) => id,
                Err(e) => return unavailable(e, lang),
            };
            let mut response = if only.is_some() {
                upstream_redirect(state, &candidates[0], &tokens, &request, force).await
            } else {
                let path = match lang {
                    Lang::Cs => "/prihlaseni",
                    Lang::En => "/en/sign-in",
                };
                redirect(&format!("{path}?login={id}"))
            };
            if existing.is_none() {
                add_login_cookie(&mut response, &state.issuer, &browser);
            }
            response
        }
    }
}

fn refuse(
    state: &AppState,
    request: &AuthorizationRequest,
    error: &'static str,
    why: &str,
) -> Response {
    let e = AuthorizeError::Redirect {
        redirect_uri: request.redirect_uri.clone(),
        error,
        description: why.to_owned(),
        state: request.state.clone(),
    };
    redirect(&e.location(&state.issuer).unwrap_or_default())
}

fn callback_uri(state: &AppState, upstream: &str) -> String {
    format!("{}/oidc/callback/{upstream}", state.issuer)
}

/// The state, nonce and PKCE verifier of one request to an upstream.
struct UpstreamTokens {
    state: String,
    nonce: String,
    verifier: String,
}

impl UpstreamTokens {
    fn new() -> UpstreamTokens {
        UpstreamTokens {
            // Ordered (see `grants::ordered_token`): the pending request is found by it.
            state: ordered_token(),
            nonce: random_token(),
            verifier: random_token(),
        }
    }

    fn leg<'a>(&'a self, upstream: &'a str) -> signin::UpstreamLeg<'a> {
        signin::UpstreamLeg {
            upstream,
            state: &self.state,
            nonce: &self.nonce,
            verifier: &self.verifier,
        }
    }
}

fn request_lang(request: &AuthorizationRequest) -> Lang {
    request
        .ui_locale
        .as_deref()
        .map_or(Lang::Cs, |l| if l == "en" { Lang::En } else { Lang::Cs })
}

/// Sends the browser to `upstream` for the pending request `id` (chosen on the sign-in page).
async fn start_upstream(
    state: &AppState,
    upstream: &Upstream,
    id: &str,
    request: &AuthorizationRequest,
    force: bool,
) -> Response {
    let lang = request_lang(request);
    let tokens = UpstreamTokens::new();
    match signin::send_upstream(&state.db, id, &tokens.leg(upstream.name())).await {
        Ok(true) => {}
        Ok(false) => return flow_error(lang, StatusCode::BAD_REQUEST, "expired"),
        Err(e) => return unavailable(e, lang),
    }
    upstream_redirect(state, upstream, &tokens, request, force).await
}

/// The redirect to `upstream`'s authorization endpoint, once the request is parked with
/// `tokens`.
async fn upstream_redirect(
    state: &AppState,
    upstream: &Upstream,
    tokens: &UpstreamTokens,
    request: &AuthorizationRequest,
    force: bool,
) -> Response {
    let lang = request_lang(request);
    let challenge = jose::sha256_b64(&tokens.verifier);
    let redirect_uri = callback_uri(state, upstream.name());
    let start = AuthorizationStart {
        redirect_uri: &redirect_uri,
        state: &tokens.state,
        nonce: &tokens.nonce,
        code_challenge: &challenge,
        loa: request.required_loa,
        force_login: force,
        ui_locale: request.ui_locale.as_deref(),
    };
    match upstream.authorization_url(&start).await {
        Ok(url) => redirect(&url),
        Err(e) => {
            tracing::error!(upstream = upstream.name(), error = %e, "cannot start the sign-in upstream");
            flow_error(lang, StatusCode::BAD_GATEWAY, "upstream")
        }
    }
}

// ---------------------------------------------------------------------------------------
// The choice of identity provider

#[derive(Template)]
#[template(path = "chooser.html")]
struct ChooserPage {
    layout: Layout,
    level: String,
    options: Vec<(String, String, bool)>,
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    login: Option<String>,
}

async fn pending_for(
    state: &AppState,
    headers: &HeaderMap,
    id: Option<&str>,
    lang: Lang,
) -> Result<(signin::Pending, AuthorizationRequest), Response> {
    let Some(id) = id else {
        return Err(flow_error(lang, StatusCode::BAD_REQUEST, "expired"));
    };
    let pending = match signin::find(&state.db, state.clock.as_ref(), id).await {
        Ok(Some(p)) => p,
        Ok(None) => return Err(flow_error(lang, StatusCode::BAD_REQUEST, "expired")),
        Err(e) => return Err(unavailable(e, lang)),
    };
    if !pending.belongs_to(cookie(headers, &state.issuer, LOGIN_COOKIE)) {
        return Err(flow_error(lang, StatusCode::BAD_REQUEST, "other-browser"));
    }
    match authorize::validate_with(
        &state.db,
        Some((&state.clients, state.clock.as_ref())),
        &pending.params,
    )
    .await
    {
        Ok(r) => Ok((pending, r)),
        Err(_) => Err(flow_error(lang, StatusCode::BAD_REQUEST, "expired")),
    }
}

async fn chooser(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let (_, request) = match pending_for(&state, &headers, q.login.as_deref(), lang).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let tr = Tr::new(lang);
    let id = q.login.unwrap_or_default();
    let page = ChooserPage {
        layout: Layout::bare(lang, tr.ts("chooser-title")),
        level: tr.ts(&format!("loa-{}", request.required_loa.code())),
        options: upstreams_for(&state, request.required_loa)
            .iter()
            .map(|u| {
                let label = match lang {
                    Lang::Cs => &u.config.label.cs,
                    Lang::En => &u.config.label.en,
                };
                (
                    format!("/oidc/upstream/{}?login={id}", u.name()),
                    label.clone(),
                    u.config.demo,
                )
            })
            .collect(),
    };
    let mut r = render(StatusCode::OK, &page);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn go_upstream(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let (pending, request) = match pending_for(&state, &headers, q.login.as_deref(), Lang::Cs).await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(upstream) = upstreams_for(&state, request.required_loa)
        .into_iter()
        .find(|u| u.name() == name)
    else {
        return flow_error(Lang::Cs, StatusCode::NOT_FOUND, "expired");
    };
    let session = match cookie(&headers, &state.issuer, SESSION_COOKIE) {
        Some(t) => sessions::find(&state.db, state.clock.as_ref(), t)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let force = session.is_some();
    start_upstream(&state, &upstream, &pending.id, &request, force).await
}

// ---------------------------------------------------------------------------------------
// The return from the identity provider

#[derive(serde::Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<CallbackQuery>,
    client: ClientIp,
    headers: HeaderMap,
) -> Response {
    let clock = state.clock.as_ref();
    let ip = client.text();
    let Some(upstream) = state.upstreams.iter().find(|u| u.name() == name).cloned() else {
        return flow_error(Lang::Cs, StatusCode::NOT_FOUND, "expired");
    };
    let Some(up_state) = q.state.as_deref() else {
        return flow_error(Lang::Cs, StatusCode::BAD_REQUEST, "expired");
    };
    // Single use: a replayed or forged callback finds nothing.
    let pending = match signin::take_by_state(&state.db, clock, &name, up_state).await {
        Ok(Some(p)) => p,
        Ok(None) => return flow_error(Lang::Cs, StatusCode::BAD_REQUEST, "expired"),
        Err(e) => return unavailable(e, Lang::Cs),
    };
    let lang = lang_of(&pending.params);
    if !pending.belongs_to(cookie(&headers, &state.issuer, LOGIN_COOKIE)) {
        let mut e = Event::new(Kind::SignInFailed);
        e.ip = ip.as_deref();
        e.detail = serde_json::json!({"upstream": name, "reason": "callback in another browser"});
        audit::record(&state.db, clock, e).await;
        return flow_error(lang, StatusCode::BAD_REQUEST, "other-browser");
    }
    let request = match authorize::validate_with(
        &state.db,
        Some((&state.clients, state.clock.as_ref())),
        &pending.params,
    )
    .await
    {
        Ok(r) => r,
        Err(_) => return flow_error(lang, StatusCode::BAD_REQUEST, "expired"),
    };
    let failed = |reason: String| {
        let state = state.clone();
        let client = request.client.client_id.clone();
        let ip = ip.clone();
        let name = name.clone();
        async move {
            let mut e = Event::new(Kind::SignInFailed);
            e.client_id = Some(&client);
            e.ip = ip.as_deref();
            e.detail = serde_json::json!({"upstream": name, "reason": reason});
            audit::record(&state.db, state.clock.as_ref(), e).await;
        }
    };
    if let Some(error) = q.error.as_deref() {
        failed(format!("upstream answered {error}")).await;
        let code = if error == "login_required" || error == "interaction_required" {
            "login_required"
        } else {
            "access_denied"
        };
        return refuse(
            &state,
            &request,
            code,
            "the sign-in at the identity provider did not finish",
        );
    }
    // RFC 9207: a response that names another issuer is a mix-up attack.
    if q.iss
        .as_deref()
        .is_some_and(|iss| iss != upstream.config.issuer)
    {
        failed("iss of the response is another issuer".into()).await;
        return flow_error(lang, StatusCode::BAD_REQUEST, "upstream");
    }
    let (Some(code), Some(nonce), Some(verifier)) = (
        q.code.as_deref(),
        pending.upstream_nonce.as_deref(),
        pending.upstream_verifier.as_deref(),
    ) else {
        return flow_error(lang, StatusCode::BAD_REQUEST, "expired");
    };
    let login = match upstream
        .complete(
            code,
            &callback_uri(&state, &name),
            verifier,
            nonce,
            clock.now(),
        )
        .await
    {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(upstream = %name, error = %e, "upstream sign-in refused");
            failed(e.to_string()).await;
            return flow_error(lang, StatusCode::BAD_GATEWAY, "upstream");
        }
    };
    // The level is the one the upstream asserted; less than asked is not rounded up.
    if login.loa < request.required_loa {
        failed(format!(
            "asserted {} but {} is required",
            login.loa, request.required_loa
        ))
        .await;
        return refuse(
            &state,
            &request,
            "unmet_authentication_requirements",
            "the identity provider asserted a lower level of assurance than required",
        );
    }
    let person = match sessions::resolve_person(&state.db, clock, &login).await {
        Ok(p) => p,
        Err(e) => return unavailable(e, lang),
    };
    let current = match cookie(&headers, &state.issuer, SESSION_COOKIE) {
        Some(t) => sessions::find(&state.db, clock, t).await.ok().flatten(),
        None => None,
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let (token, session, kind) = match current {
        Some(old) if old.person_id == person => {
            match sessions::reauthenticate(&state.db, clock, &old.sid, &login).await {
                Ok(Some((t, s))) => {
                    let kind = if s.loa > old.loa {
                        Kind::StepUp
                    } else {
                        Kind::SignIn
                    };
                    (t, s, kind)
                }
                Ok(None) => {
                    match sessions::start(&state.db, clock, &person, &login, user_agent).await {
                        Ok((t, s)) => (t, s, Kind::SignIn),
                        Err(e) => return unavailable(e, lang),
                    }
                }
                Err(e) => return unavailable(e, lang),
            }
        }
        other => {
            // Another person in this browser: the previous session ends first.
            if let Some(old) = other {
                end_session(&state, &old.sid, ip.as_deref(), "another person signed in").await;
            }
            match sessions::start(&state.db, clock, &person, &login, user_agent).await {
                Ok((t, s)) => (t, s, Kind::SignIn),
                Err(e) => return unavailable(e, lang),
            }
        }
    };
    let mut e = Event::new(kind);
    e.person_id = Some(&person);
    e.client_id = Some(&request.client.client_id);
    e.sid = Some(&session.sid);
    e.ip = ip.as_deref();
    e.detail = serde_json::json!({"upstream": name, "loa": session.loa.code(), "amr": session.amr});
    audit::record(&state.db, clock, e).await;
    let mut response =
        match signin::issue(&state.db, clock, &state.issuer, &request, &session).await {
            Ok(location) => redirect(&location),
            Err(e) => return unavailable(e, lang),
        };
    add_cookie(
        &mut response,
        &state.issuer,
        SESSION_COOKIE,
        &token,
        sessions::SESSION_TTL_SECS,
    );
    response
}

// ---------------------------------------------------------------------------------------
// Sign-out

/// Ends session `sid`: its refresh tokens for every client are revoked, every client with a
/// back-channel logout URI is told, and the event is audited. Returns the session's upstream
/// and upstream ID token, to end the upstream session too.
pub(crate) async fn end_session(
    state: &AppState,
    sid: &str,
    ip: Option<&str>,
    reason: &str,
) -> Option<(String, String)> {
    let clock = state.clock.as_ref();
    let session = sessions::find_by_sid(&state.db, clock, sid)
        .await
        .ok()
        .flatten();
    let upstream_token = match sessions::end(&state.db, clock, sid).await {
        Ok(Some(t)) => t,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e, "cannot end a session");
            return None;
        }
    };
    let mut e = Event::new(Kind::SignOut);
    e.person_id = session.as_ref().map(|s| s.person_id.as_str());
    e.sid = Some(sid);
    e.ip = ip;
    e.detail = serde_json::json!({ "reason": reason });
    audit::record(&state.db, clock, e).await;
    if let Some(s) = &session {
        back_channel_logout(state, s).await;
    }
    match (session, upstream_token) {
        (Some(s), Some(t)) => Some((s.upstream, t)),
        _ => None,
    }
}

/// OpenID Connect Back-Channel Logout 1.0: a signed logout token to each client of the
/// session that registered a back-channel URI. Sent concurrently, each with a short timeout;
/// a client that is down is logged, the sign-out does not wait for it to come back.
async fn back_channel_logout(state: &AppState, session: &sessions::Session) {
    let Ok(client_ids) = sessions::clients_of(&state.db, &session.sid).await else {
        return;
    };
    let Ok(keys) = state.keys().await else {
        return;
    };
    let key = keys.es256();
    let now = state.clock.now();
    let mut sends = tokio::task::JoinSet::new();
    for id in client_ids {
        let Ok(Some(client)) = urad_identity::clients::find(&state.db, &id).await else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let token = key.sign(
            "logout+jwt",
            &serde_json::json!({
                "iss": state.issuer,
                "aud": client.client_id,
                "iat": now,
                "exp": now + 120,
                "jti": random_token(),
                "sub": urad_identity::grants::pairwise_subject(&client.client_id, &session.person_id),
                "sid": session.sid,
                "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
            }),
        );
        let http = state.http.clone();
        sends.spawn(async move {
            let result = http
                .post(&uri)
                .form(&[("logout_token", token)])
                .timeout(std::time::Duration::from_secs(5))
                .send()
                .await;
            match result {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => tracing::warn!(client = %id, status = %r.status(), "back-channel logout refused"),
                Err(e) => tracing::warn!(client = %id, error = %e, "back-channel logout failed"),
            }
        });
    }
    // Sign-out finishes when every client has been told (or its five seconds are up).
    while sends.join_next().await.is_some() {}
}

async fn logout_get(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    client: ClientIp,
    headers: HeaderMap,
) -> Response {
    let params: HashMap<String, String> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    logout_with(&state, params, &headers, client).await
}

async fn logout_post(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    logout_with(&state, params, &headers, client).await
}

/// A token proving a confirmation form came from this browser's own page.
fn confirm_token(session_token: &str) -> String {
    jose::sha256_b64(&format!("logout-confirm\n{session_token}"))
}

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
async fn logout_with(
    state: &AppState,
    params: HashMap<String, String>,
    headers: &HeaderMap,
    client: ClientIp,
) -> Response {
    let lang = lang_of(&params);
    let clock = state.clock.as_ref();
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // The hint names the client and session; it may have expired, but must be ours.
    let hint = match get("id_token_hint") {
        Some(t) => {
            let keys = match state.keys().await {
                Ok(k) => k,
                Err(e) => return unavailable(e, lang),
            };
            match jose::verify(t, keys.published()) {
                Ok((_, claims)) if claims["iss"] == state.issuer.as_str() => Some(claims),
                _ => return flow_error(lang, StatusCode::BAD_REQUEST, "bad-hint"),
            }
        }
        None => None,
    };
    let client_id = hint
        .as_ref()
        .and_then(|c| c["aud"].as_str().map(str::to_owned))
        .or_else(|| get("client_id").map(str::to_owned));
    let after = match get("post_logout_redirect_uri") {
        Some(uri) => {
            let client = match &client_id {
                Some(id) => urad_identity::clients::find(&state.db, id)
                    .await
                    .ok()
                    .flatten(),
                None => None,
            };
            if !client.is_some_and(|c| c.post_logout_redirect_uris.iter().any(|u| u == uri)) {
                return flow_error(lang, StatusCode::BAD_REQUEST, "bad-logout-uri");
            }
            let mut target = uri.to_owned();
            if let Some(s) = get("state") {
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&format!("state={}", authorize::encode(s)));
            }
            target
        }
        None => match lang {
            Lang::Cs => "/odhlaseno".to_owned(),
            Lang::En => "/en/signed-out".to_owned(),
        },
    };
    let session_token = cookie(headers, &state.issuer, SESSION_COOKIE).map(str::to_owned);
    let session = match &session_token {
        Some(t) => sessions::find(&state.db, clock, t).await.ok().flatten(),
        None => None,
    };
    let Some(session) = session else {
        // Already signed out: nothing to end, go where the client asked.
        return redirect(&after);
    };
    let hinted_this_session = hint
        .as_ref()
        .is_some_and(|c| c["sid"] == session.sid.as_str());
    let confirmed = session_token
        .as_deref()
        .is_some_and(|t| get("confirm") == Some(confirm_token(t).as_str()));
    if !hinted_this_session && !confirmed {
        // Without proof that the client asking is one of this session's, the person confirms
        // (a third-party page must not be able to sign people out).
        let tr = Tr::new(lang);
        let mut fields: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "confirm")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        fields.push((
            "confirm".into(),
            confirm_token(session_token.as_deref().unwrap_or("")),
        ));
        let page = NoticePage {
            layout: Layout::bare(lang, tr.ts("logout-confirm-title")),
            heading: tr.ts("logout-confirm-title"),
            paragraphs: vec![tr.ts("logout-confirm-text")],
            form: Some(NoticeForm {
                action: discovery::END_SESSION_PATH.into(),
                fields,
                label: tr.ts("logout-confirm-button"),
            }),
            link: None,
        };
        return render(StatusCode::OK, &page);
    }
    let ip = client.text();
    let upstream = end_session(state, &session.sid, ip.as_deref(), "signed out").await;
    let mut response = redirect(&after);
    // Then out of the identity provider too, and back to `after`.
    if let Some((name, id_token)) = upstream {
        if let Some(u) = state.upstreams.iter().find(|u| u.name() == name) {
            // Ordered: the pending request is found by it, in a unique index.
            let up_state = format!("{name}.{}", ordered_token());
            let browser = random_token();
            let mut parked = Params::new();
            parked.insert("after".into(), after.clone());
            let stored = async {
                let leg = signin::UpstreamLeg {
                    upstream: &name,
                    state: &up_state,
                    nonce: "",
                    verifier: "",
                };
                signin::park(&state.db, clock, &parked, &browser, Some(&leg))
                    .await
                    .map(|_| true)
            }
            .await;
            let back = format!("{}/oidc/logout/upstream", state.issuer);
            if let (Ok(true), Some(url)) =
                (stored, u.end_session_url(&id_token, &back, &up_state).await)
            {
                response = redirect(&url);
                add_login_cookie(&mut response, &state.issuer, &browser);
            }
        }
    }
    add_cookie(&mut response, &state.issuer, SESSION_COOKIE, "", 0);
    response
}

#[derive(serde::Deserialize)]
struct StateQuery {
    state: Option<String>,
}

/// The identity provider sends the browser back here after its own sign-out.
async fn logout_upstream_return(
    State(state): State<AppState>,
    Query(q): Query<StateQuery>,
    headers: HeaderMap,
) -> Response {
    let fallback = "/odhlaseno";
    let Some(up_state) = q.state.as_deref() else {
        return redirect(fallback);
    };
    let name = up_state.split('.').next().unwrap_or_default();
    let after = match signin::take_by_state(&state.db, state.clock.as_ref(), name, up_state).await {
        Ok(Some(p)) if p.belongs_to(cookie(&headers, &state.issuer, LOGIN_COOKIE)) => p
            .params
            .get("after")
            .cloned()
            .unwrap_or_else(|| fallback.into()),
        _ => fallback.into(),
    };
    redirect(&after)
}

async fn signed_out(State(_state): State<AppState>, lang: Lang) -> Response {
    let tr = Tr::new(lang);
    let page = NoticePage {
        layout: Layout::bare(lang, tr.ts("signed-out-title")),
        heading: tr.ts("signed-out-title"),
        paragraphs: vec![tr.ts("signed-out-text")],
        form: None,
        link: Some((
            crate::pages::Page::Home.path(lang),
            tr.ts("error-back-home"),
        )),
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_host_prefixed_and_secure_on_https_only() {
        let https = set_cookie("https://portal.kraj.cz", SESSION_COOKIE, "t", 60);
        assert_eq!(
            https.to_str().unwrap(),
            "__Host-urad-session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        // Browsers refuse `__Host-` cookies without Secure, which plain http cannot set.
        let http = set_cookie("http://127.0.0.1:8080", SESSION_COOKIE, "t", 60);
        assert_eq!(
            http.to_str().unwrap(),
            "urad-session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("urad-session=plain; __Host-urad-session=prefixed"),
        );
        assert_eq!(
            cookie(&headers, "https://portal.kraj.cz", SESSION_COOKIE),
            Some("prefixed")
        );
        assert_eq!(
            cookie(&headers, "http://localhost", SESSION_COOKIE),
            Some("plain")
        );
    }
}
