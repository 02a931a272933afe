//! The demo identity provider's HTTP face: a separate OpenID Connect issuer at
//! `{portal}/demo-idp`, reached by the gateway over HTTP like NIA or Bank iD. It knows one
//! client, the gateway, and lets anyone sign in as one of its invented people, at a level that
//! person's means reach. Every page says it is a demonstration.

use crate::error::render;
use crate::i18n::Tr;
use crate::pages::Layout;
use crate::signin::{flow_error, redirect};
use crate::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use urad_core::Lang;
use urad_identity::authorize::encode;
use urad_identity::demo_idp::{self, DemoCode, PEOPLE};
use urad_identity::Loa;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/demo-idp/.well-known/openid-configuration",
            get(configuration),
        )
        .route("/demo-idp/jwks", get(jwks))
        .route(
            "/demo-idp/authorize",
            get(authorize_page).post(authorize_submit),
        )
        .route("/demo-idp/token", post(token))
        .route("/demo-idp/logout", get(logout))
}

fn issuer(state: &AppState) -> String {
    format!("{}{}", state.issuer, demo_idp::PATH)
}

async fn configuration(State(state): State<AppState>) -> Response {
    let iss = issuer(&state);
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "jwks_uri": format!("{iss}/jwks"),
        "end_session_endpoint": format!("{iss}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "acr_values_supported": Loa::ALL.iter().map(|l| l.uri()).collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn jwks(State(state): State<AppState>) -> Response {
    match state.demo_idp_key().await {
        Ok(k) => Json(json!({ "keys": [k.public_jwk()] })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "demo provider key");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The only redirect URI the demo provider accepts: the gateway's callback for it.
fn gateway_callback(state: &AppState) -> String {
    format!("{}/oidc/callback/demo", state.issuer)
}

struct Checked {
    lang: Lang,
    requested: Loa,
}

/// Checks a request to the demo provider; the error is the page's language and message key.
fn check(
    state: &AppState,
    params: &HashMap<String, String>,
) -> Result<Checked, (Lang, &'static str)> {
    let lang = match params.get("ui_locales").map(String::as_str) {
        Some(l) if l.starts_with("en") => Lang::En,
        _ => Lang::Cs,
    };
    let ok = params.get("client_id").map(String::as_str) == Some(demo_idp::GATEWAY_CLIENT_ID)
        && params.get("redirect_uri") == Some(&gateway_callback(state))
        && params.get("response_type").map(String::as_str) == Some("code")
        && params.get("code_challenge_method").map(String::as_str) == Some("S256")
        && params.get("code_challenge").is_some_and(|c| !c.is_empty())
        && params.get("state").is_some_and(|c| !c.is_empty());
    if !ok {
        return Err((lang, "demo-request"));
    }
    let requested = params
        .get("acr_values")
        .map(String::as_str)
        .unwrap_or("")
        .split(' ')
        .filter_map(Loa::from_uri)
        .min()
        .unwrap_or(Loa::Low);
    Ok(Checked { lang, requested })
}

struct PersonChoice {
    name: String,
    facts: String,
    role: String,
    buttons: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "demo_idp.html")]
struct DemoPage {
    layout: Layout,
    level: String,
    hidden: Vec<(String, String)>,
    people: Vec<PersonChoice>,
}

async fn authorize_page(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params: HashMap<String, String> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let checked = match check(&state, &params) {
        Ok(c) => c,
        Err((lang, key)) => return flow_error(lang, StatusCode::BAD_REQUEST, key),
    };
    let lang = checked.lang;
    let tr = Tr::new(lang);
    let today = date_of(state.clock.now());
    let people = PEOPLE
        .iter()
        .map(|p| {
            let age = p
                .age_on(&today)
                .map(|a| tr.t1("demo-age", "years", a as i64))
                .unwrap_or_default();
            PersonChoice {
                name: format!("{} {}", p.given_name, p.family_name),
                facts: format!("{age}, {}, {} {}", p.street, p.postal_code, p.locality),
                role: p
                    .role
                    .map(|r| tr.ts(&format!("demo-role-{r}")))
                    .unwrap_or_default(),
                buttons: Loa::ALL
                    .into_iter()
                    .filter(|l| *l >= checked.requested && *l <= p.max_loa)
                    .map(|l| {
                        (
                            format!("{}:{}", p.id, l.code()),
                            tr.t1(
                                "demo-sign-in-as",
                                "level",
                                tr.ts(&format!("loa-{}", l.code())),
                            ),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let mut hidden: Vec<(String, String)> = params.into_iter().collect();
    hidden.sort();
    let page = DemoPage {
        layout: Layout::bare(lang, tr.ts("demo-title")),
        level: tr.ts(&format!("loa-{}", checked.requested.code())),
        hidden,
        people,
    };
    let mut r = render(StatusCode::OK, &page);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// `YYYY-MM-DD` of a Unix time (UTC is close enough for a demo person's age).
pub(crate) fn date_of(now: i64) -> String {
    let days = now.div_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

async fn authorize_submit(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let mut params: HashMap<String, String> =
        serde_urlencoded::from_bytes(&body).unwrap_or_default();
    // The page's buttons send `choice=person:level`; scripts may send `person` and `loa`.
    if let Some((person, loa)) = params.get("choice").and_then(|c| c.split_once(':')) {
        let (person, loa) = (person.to_owned(), loa.to_owned());
        params.insert("person".into(), person);
        params.insert("loa".into(), loa);
    }
    let checked = match check(&state, &params) {
        Ok(c) => c,
        Err((lang, key)) => return flow_error(lang, StatusCode::BAD_REQUEST, key),
    };
    let person = params.get("person").and_then(|p| demo_idp::person(p));
    let loa = params.get("loa").and_then(|l| l.parse::<Loa>().ok());
    let (Some(person), Some(loa)) = (person, loa) else {
        return flow_error(checked.lang, StatusCode::BAD_REQUEST, "demo-request");
    };
    if loa > person.max_loa || loa < checked.requested {
        return flow_error(checked.lang, StatusCode::BAD_REQUEST, "demo-level");
    }
    let redirect_uri = gateway_callback(&state);
    let code = demo_idp::issue_code(
        &state.db,
        state.clock.as_ref(),
        &DemoCode {
            client_id: demo_idp::GATEWAY_CLIENT_ID,
            redirect_uri: &redirect_uri,
            code_challenge: params.get("code_challenge").map(String::as_str),
            nonce: params.get("nonce").map(String::as_str),
            person: person.id,
            loa,
        },
    )
    .await;
    match code {
        Ok(code) => redirect(&format!(
            "{redirect_uri}?code={}&state={}&iss={}",
            encode(&code),
            encode(params.get("state").map(String::as_str).unwrap_or("")),
            encode(&issuer(&state))
        )),
        Err(e) => {
            tracing::error!(error = %e, "demo provider code");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn token_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": error })),
    )
        .into_response()
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    // The same reading of client credentials as the gateway's own token endpoint.
    let authenticated = match crate::oidc::credentials(&headers, &params) {
        Ok(
            crate::oidc::Credentials::Basic { client_id, secret }
            | crate::oidc::Credentials::Post { client_id, secret },
        ) => client_id == demo_idp::GATEWAY_CLIENT_ID && secret == demo_idp::GATEWAY_CLIENT_SECRET,
        _ => false,
    };
    if !authenticated {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let clock = state.clock.as_ref();
    let redeemed = demo_idp::redeem_code(
        &state.db,
        clock,
        params.get("code").map(String::as_str).unwrap_or(""),
        params.get("redirect_uri").map(String::as_str).unwrap_or(""),
        params.get("code_verifier").map(String::as_str),
    )
    .await;
    let (person, loa, nonce) = match redeemed {
        Ok(Some(r)) => r,
        Ok(None) => return token_error(StatusCode::BAD_REQUEST, "invalid_grant"),
        Err(e) => {
            tracing::error!(error = %e, "demo provider token");
            return token_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
        }
    };
    let key = match state.demo_idp_key().await {
        Ok(k) => k,
        Err(_) => return token_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"),
    };
    let now = clock.now();
    let mut claims = person.claims();
    claims["iss"] = json!(issuer(&state));
    claims["sub"] = json!(format!("demo-{}", person.id));
    claims["aud"] = json!(demo_idp::GATEWAY_CLIENT_ID);
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 300);
    claims["auth_time"] = json!(now);
    claims["acr"] = json!(loa.uri());
    claims["amr"] = json!([demo_idp::amr(loa)]);
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": urad_identity::grants::random_token(),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": key.sign("JWT", &claims),
        })),
    )
        .into_response()
}

/// End of session: the demo provider keeps no session of its own, so it only sends the
/// browser back where the gateway asked (and only there).
async fn logout(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params: HashMap<String, String> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let back = format!("{}/oidc/logout/upstream", state.issuer);
    if params.get("post_logout_redirect_uri") != Some(&back) {
        return flow_error(Lang::Cs, StatusCode::BAD_REQUEST, "bad-logout-uri");
    }
    let state_param = params.get("state").map(String::as_str).unwrap_or("");
    redirect(&format!("{back}?state={}", encode(state_param)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::date_of(0), "1970-01-01");
        assert_eq!(super::date_of(951_782_400), "2000-02-29");
        assert_eq!(super::date_of(1_795_392_000), "2026-11-23");
        assert_eq!(super::date_of(1_795_391_999), "2026-11-22");
    }
}
