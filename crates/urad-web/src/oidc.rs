//! The identity gateway's HTTP face: discovery, the published signing keys and the token
//! endpoint. The sign-in flow (authorize with the upstream identity providers), userinfo and
//! logout come next; see issue #3 and docs/adr/0003-identity-gateway.md.
//!
//! Client authentication at the token and revocation endpoints: `client_secret_basic`,
//! `client_secret_post`, `private_key_jwt` (RFC 7523) and `none` for public clients, each
//! client only with the one method it was registered with. Failures and reused codes or
//! refresh tokens are written to the audit log and counted by the failure rate limit.

use crate::rate_limit::{self, ClientIp};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use axum::Router;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use urad_identity::clients::{AuthMethod, Client};
use urad_identity::grants::{self, GrantError};
use urad_identity::{audit, client_auth, discovery, tokens};

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let client_requests = Router::new()
        .route(discovery::TOKEN_PATH, post(token))
        .route(discovery::REVOCATION_PATH, post(revoke));
    let bearer = Router::new().route(discovery::USERINFO_PATH, get(userinfo).post(userinfo));
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(discovery::JWKS_PATH, get(jwks))
        .merge(rate_limit::limit_client_requests(client_requests, state))
        .merge(rate_limit::limit_per_ip(bearer, state))
}

/// OpenID Provider metadata.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "identity",
    responses((status = 200, description = "OpenID Connect Discovery metadata", content_type = "application/json")))]
pub(crate) async fn openid_configuration(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(discovery::metadata(&state.issuer)),
    )
        .into_response()
}

/// The public keys that verify the gateway's tokens: the active key, the next one (published
/// before it signs) and retired ones (until the tokens they signed have expired).
#[utoipa::path(get, path = "/oidc/jwks", tag = "identity",
    responses((status = 200, description = "JSON Web Key Set (RFC 7517)", content_type = "application/json")))]
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    match state.keys().await {
        Ok(keys) => (
            // Short enough that a rotation reaches every relying party within the overlap.
            [(header::CACHE_CONTROL, "public, max-age=300")],
            Json(serde_json::json!({ "keys": keys.published() })),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the signing keys");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// An OAuth error answer (RFC 6749 §5.2), never cached.
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.to_owned(),
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if matches!(self.error, "invalid_client" | "invalid_grant") {
            // Counted by the failure rate limit.
            response.extensions_mut().insert(rate_limit::Failure);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(r#"Basic realm="urad""#),
            );
        }
        response
    }
}

/// Parameters of a form body; a parameter given twice is an error (RFC 6749 §3.2).
fn form(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is not a form",
        )
    })?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("parameter {k} is repeated"),
            ));
        }
    }
    Ok(map)
}

/// Why client authentication failed, for the audit log (the client only learns
/// `invalid_client`) and which client id was tried.
pub(crate) struct AuthFailure {
    client_id: Option<String>,
    reason: String,
}

fn failed(client_id: Option<&str>, reason: impl Into<String>) -> AuthFailure {
    AuthFailure {
        client_id: client_id.map(str::to_owned),
        reason: reason.into(),
    }
}

/// The credentials a request presents, before the client is looked up.
pub(crate) enum Credentials {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: String,
        secret: String,
    },
    Assertion {
        client_id: String,
        assertion: String,
    },
    Public {
        client_id: String,
    },
}

impl Credentials {
    fn client_id(&self) -> &str {
        match self {
            Credentials::Basic { client_id, .. }
            | Credentials::Post { client_id, .. }
            | Credentials::Assertion { client_id, .. }
            | Credentials::Public { client_id } => client_id,
        }
    }

    fn method(&self) -> AuthMethod {
        match self {
            Credentials::Basic { .. } => AuthMethod::ClientSecretBasic,
            Credentials::Post { .. } => AuthMethod::ClientSecretPost,
            Credentials::Assertion { .. } => AuthMethod::PrivateKeyJwt,
            Credentials::Public { .. } => AuthMethod::None,
        }
    }
}

/// Reads the credentials: HTTP Basic, `client_secret` in the form, a JWT client assertion,
/// or `client_id` alone. More than one method in a request is refused (RFC 6749 §2.3).
pub(crate) fn credentials(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Credentials, AuthFailure> {
    let form_id = params.get("client_id").map(String::as_str);
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    let post = params.get("client_secret");
    let assertion = params.get("client_assertion");
    let assertion_type = params.get("client_assertion_type");
    let presented = [
        basic.is_some(),
        post.is_some(),
        assertion.is_some() || assertion_type.is_some(),
    ];
    if presented.iter().filter(|p| **p).count() > 1 {
        return Err(failed(form_id, "more than one authentication method"));
    }
    let credentials = if let Some(encoded) = basic {
        let malformed = || failed(form_id, "malformed Basic credentials");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(malformed)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
        // The parts are form-encoded before Basic encoding (RFC 6749 §2.3.1).
        let unescape = |s: &str| -> Option<String> {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                .ok()
                .and_then(|v| v.into_iter().next().map(|(_, v)| v))
        };
        Credentials::Basic {
            client_id: unescape(id).ok_or_else(malformed)?,
            secret: unescape(secret).ok_or_else(malformed)?,
        }
    } else if let Some(secret) = post {
        Credentials::Post {
            client_id: form_id
                .ok_or_else(|| failed(None, "client_secret without client_id"))?
                .to_owned(),
            secret: secret.clone(),
        }
    } else if assertion.is_some() || assertion_type.is_some() {
        if assertion_type.map(String::as_str) != Some(client_auth::ASSERTION_TYPE) {
            return Err(failed(form_id, "unsupported client_assertion_type"));
        }
        let assertion = assertion
            .filter(|a| !a.is_empty())
            .ok_or_else(|| failed(form_id, "client_assertion is missing"))?;
        // client_id is optional beside an assertion (RFC 7521 §4.2): the assertion names it.
        let client_id = match form_id {
            Some(id) => id.to_owned(),
            None => client_auth::claimed_client_id(assertion)
                .ok_or_else(|| failed(None, "the client assertion names no client"))?,
        };
        Credentials::Assertion {
            client_id,
            assertion: assertion.clone(),
        }
    } else {
        Credentials::Public {
            client_id: form_id
                .ok_or_else(|| failed(None, "no client credentials"))?
                .to_owned(),
        }
    };
    if form_id.is_some_and(|id| id != credentials.client_id()) {
        return Err(failed(
            Some(credentials.client_id()),
            "client_id differs from the credentials",
        ));
    }
    Ok(credentials)
}

/// Authenticates the client (RFC 6749 §2.3) with the one method it was registered with.
/// Any failure is `invalid_client`, without saying which part failed.
async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Result<Arc<Client>, AuthFailure>, OAuthError> {
    let credentials = match credentials(headers, params) {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    let id = credentials.client_id();
    let found = state
        .clients
        .find(&state.db, state.clock.as_ref(), id)
        .await;
    let Some(client) = found.map_err(|e| {
        tracing::error!(error = %e, "cannot read clients");
        unavailable()
    })?
    else {
        return Ok(Err(failed(Some(id), "unknown client")));
    };
    if credentials.method() != client.auth_method {
        return Ok(Err(failed(
            Some(id),
            format!(
                "presented {} but the client is registered for {}",
                credentials.method().code(),
                client.auth_method.code()
            ),
        )));
    }
    let outcome = match &credentials {
        Credentials::Public { .. } => Ok(()),
        Credentials::Basic { secret, .. } | Credentials::Post { secret, .. } => {
            if client.secret_matches(secret) {
                Ok(())
            } else {
                Err("wrong client secret".to_owned())
            }
        }
        Credentials::Assertion { assertion, .. } => {
            let token_endpoint = format!("{}{}", state.issuer, discovery::TOKEN_PATH);
            match client_auth::verify_assertion(
                &state.db,
                state.clock.as_ref(),
                &client,
                assertion,
                &[state.issuer.as_str(), token_endpoint.as_str()],
            )
            .await
            {
                Ok(()) => Ok(()),
                Err(client_auth::AssertionError::Database(e)) => {
                    tracing::error!(error = %e, "cannot record the client assertion");
                    return Err(unavailable());
                }
                Err(e) => Err(e.to_string()),
            }
        }
    };
    Ok(match outcome {
        Ok(()) => Ok(client),
        Err(reason) => Err(failed(Some(id), reason)),
    })
}

fn unavailable() -> OAuthError {
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "try again",
    )
}

/// The form of a request to the token or revocation endpoint and the client that sent it.
/// A failed authentication is written to the audit log.
async fn client_request(
    state: &AppState,
    ip: ClientIp,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(HashMap<String, String>, Arc<Client>), OAuthError> {
    let params = form(body)?;
    match authenticate_client(state, headers, &params).await? {
        Ok(client) => Ok((params, client)),
        Err(failure) => {
            tracing::info!(client = ?failure.client_id, reason = %failure.reason, "client authentication failed");
            let ip = ip.text();
            let mut event = audit::Event::new(audit::Kind::ClientAuthFailed);
            event.client_id = failure.client_id.as_deref();
            event.ip = ip.as_deref();
            event.detail = json!({ "reason": failure.reason });
            audit::record(&state.db, state.clock.as_ref(), event).await;
            Err(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            ))
        }
    }
}

/// The answer to a refused grant; a replayed code or reused refresh token (which has just
/// revoked its family) is written to the audit log.
async fn refused_grant(
    state: &AppState,
    ip: ClientIp,
    client: &Client,
    grant_type: &str,
    e: GrantError,
) -> OAuthError {
    if e == GrantError::Replayed {
        let ip = ip.text();
        let mut event = audit::Event::new(audit::Kind::TokenReuse);
        event.client_id = Some(&client.client_id);
        event.ip = ip.as_deref();
        event.detail = json!({ "grant_type": grant_type, "reason": e.to_string() });
        audit::record(&state.db, state.clock.as_ref(), event).await;
    }
    grant_error(e)
}

fn grant_error(e: GrantError) -> OAuthError {
    match e {
        GrantError::Database(msg) => {
            tracing::error!(error = %msg, "token endpoint database error");
            unavailable()
        }
        other => {
            tracing::info!(reason = %other, "grant refused");
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &other.to_string())
        }
    }
}

/// The token endpoint: authorization codes (with PKCE) and refresh tokens.
#[utoipa::path(post, path = "/oidc/token", tag = "identity",
    request_body(content_type = "application/x-www-form-urlencoded", description = "RFC 6749 token request"),
    responses(
        (status = 200, description = "Tokens (RFC 6749 §5.1)", content_type = "application/json"),
        (status = 400, description = "invalid_request, invalid_grant, unsupported_grant_type", content_type = "application/json"),
        (status = 401, description = "invalid_client", content_type = "application/json")))]
pub(crate) async fn token(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, client) = match client_request(&state, ip, &headers, &body).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let clock = state.clock.as_ref();
    let param = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let (grant, nonce, refresh) = match param("grant_type") {
        "authorization_code" => {
            let code = param("code");
            if code.is_empty()
                || param("code_verifier").is_empty()
                || param("redirect_uri").is_empty()
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code, redirect_uri and code_verifier are required",
                )
                .into_response();
            }
            match grants::redeem_code_with_refresh(
                &state.db,
                clock,
                code,
                &client.client_id,
                param("redirect_uri"),
                param("code_verifier"),
            )
            .await
            {
                Ok((grant, nonce, refresh)) => (grant, nonce, refresh),
                Err(e) => {
                    return refused_grant(&state, ip, &client, "authorization_code", e)
                        .await
                        .into_response()
                }
            }
        }
        "refresh_token" => {
            match grants::rotate_refresh(
                &state.db,
                clock,
                param("refresh_token"),
                &client.client_id,
            )
            .await
            {
                Ok((grant, next)) => (grant, None, next),
                Err(e) => {
                    return refused_grant(&state, ip, &client, "refresh_token", e)
                        .await
                        .into_response()
                }
            }
        }
        "" => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            )
            .into_response();
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "use authorization_code or refresh_token",
            )
            .into_response();
        }
    };
    // Access tokens are always ES256 (the gateway and the region's APIs verify them); the ID
    // token is signed with the algorithm the client registered.
    let keys = match state.keys().await {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "no signing key");
            return unavailable().into_response();
        }
    };
    let key = keys.es256();
    let id_key = keys.active(client.id_token_alg);
    let now = clock.now();
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(json!({
            "access_token": tokens::access_token(key, &state.issuer, &grant, now),
            "token_type": "Bearer",
            "expires_in": tokens::ACCESS_TOKEN_TTL_SECS,
            "id_token": tokens::id_token(id_key, &state.issuer, &grant, nonce.as_deref(), now),
            "refresh_token": refresh,
            "scope": grant.scope,
        })),
    )
        .into_response()
}

/// Token revocation (RFC 7009). A refresh token is revoked with its whole family. Access
/// tokens live five minutes and are not tracked, so revoking one is accepted and has no
/// further effect than its expiry; ending the session (sign-out) stops userinfo at once.
#[utoipa::path(post, path = "/oidc/revoke", tag = "identity",
    request_body(content_type = "application/x-www-form-urlencoded", description = "RFC 7009 revocation request"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke (RFC 7009 §2.2)"),
        (status = 400, description = "invalid_request", content_type = "application/json"),
        (status = 401, description = "invalid_client", content_type = "application/json")))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, client) = match client_request(&state, ip, &headers, &body).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let Some(token) = params.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        )
        .into_response();
    };
    match grants::revoke_refresh(&state.db, state.clock.as_ref(), token, &client.client_id).await {
        Ok(revoked) => {
            tracing::info!(client = %client.client_id, revoked, "token revocation");
            ([(header::CACHE_CONTROL, "no-store")], "").into_response()
        }
        Err(e) => grant_error(e).into_response(),
    }
}

/// The claims of the request's bearer access token and the live session it was issued in; a
/// `401` (RFC 6750 §3) when the token is missing, invalid, expired or its session has ended.
pub(crate) async fn bearer(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(serde_json::Value, urad_identity::sessions::Session), Response> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err(bearer_refused(""));
    };
    let token = token.trim();
    let clock = state.clock.as_ref();
    let now = clock.now();
    let claims = match state.bearers.get(token, now) {
        Some(claims) => claims,
        None => {
            let claims = Arc::new(verified_claims(state, token, now).await?);
            state.bearers.put(token, claims.clone());
            claims
        }
    };
    let sid = claims["sid"].as_str().unwrap_or_default();
    match urad_identity::sessions::find_by_sid(&state.db, clock, sid).await {
        Ok(Some(session)) => Ok(((*claims).clone(), session)),
        Ok(None) => Err(bearer_refused("invalid_token")),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the session");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

/// The claims of an access token whose signature, type, issuer, audience and expiry hold and
/// that names a session.
async fn verified_claims(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<serde_json::Value, Response> {
    let keys = match state.keys().await {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the signing keys");
            return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
        }
    };
    let Ok((header_json, claims)) = urad_identity::jose::verify(token, keys.published()) else {
        return Err(bearer_refused("invalid_token"));
    };
    let valid = header_json["typ"] == "at+jwt"
        && claims["iss"] == state.issuer.as_str()
        && claims["aud"] == state.issuer.as_str()
        && claims["exp"].as_i64().is_some_and(|exp| exp > now)
        && claims["sid"].as_str().is_some_and(|sid| !sid.is_empty());
    if !valid {
        return Err(bearer_refused("invalid_token"));
    }
    Ok(claims)
}

/// A `401` for a missing or bad bearer token (RFC 6750 §3).
fn bearer_refused(error: &str) -> Response {
    let challenge = if error.is_empty() {
        r#"Bearer realm="urad""#.to_owned()
    } else {
        format!(r#"Bearer realm="urad", error="{error}""#)
    };
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [(header::CACHE_CONTROL, "no-store")],
        "",
    )
        .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// UserInfo (OpenID Connect Core §5.3): the claims the access token's scopes release, while the
/// session it was issued in lives.
#[utoipa::path(get, path = "/oidc/userinfo", tag = "identity",
    responses(
        (status = 200, description = "Claims about the signed-in person", content_type = "application/json"),
        (status = 401, description = "Missing, invalid or expired access token, or the session has ended")))]
pub(crate) async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (claims, session) = match bearer(&state, &headers).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let session_claims = session.claims;
    let mut body = tokens::claims_for_scopes(
        claims["scope"].as_str().unwrap_or_default(),
        &session_claims,
    );
    body.insert("sub".into(), claims["sub"].clone());
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::Value::Object(body)),
    )
        .into_response()
}
