//! Checking an authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1) the way
//! RFC 9700 asks: code flow only, PKCE with S256 required, the redirect URI exactly as
//! registered. A request that names no known client or no registered redirect URI gets an
//! error page, never a redirect (an open redirector); every other error goes back to the
//! client's redirect URI with the standard code.

use crate::clients::{self, Client};
use crate::loa::Loa;
use std::collections::HashMap;
use urad_store::Db;

/// The parameters as received (query string or form).
pub type Params = HashMap<String, String>;

/// What the person will be asked for once they have signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// Seconds since the last active authentication after which the person signs in again.
    pub max_age: Option<i64>,
    pub prompt: Prompt,
    /// The level of assurance the session must have: the client's minimum or what the request
    /// asked for with `acr_values`, whichever is higher.
    pub required_loa: Loa,
    pub ui_locale: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Prompt {
    #[default]
    Default,
    /// Never show anything: answer `login_required` if there is no suitable session.
    None,
    /// Sign in again even with a session.
    Login,
    Consent,
}

/// Why a request is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// No redirect is safe: show this to the person.
    Page(&'static str),
    /// Send the client its error at its redirect URI.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

impl AuthorizeError {
    /// The redirect URL for a `Redirect` error, with `iss` (RFC 9207).
    pub fn location(&self, issuer: &str) -> Option<String> {
        let AuthorizeError::Redirect {
            redirect_uri,
            error,
            description,
            state,
        } = self
        else {
            return None;
        };
        let mut query = vec![
            ("error", (*error).to_owned()),
            ("error_description", description.clone()),
        ];
        if let Some(s) = state {
            query.push(("state", s.clone()));
        }
        query.push(("iss", issuer.to_owned()));
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let separator = if redirect_uri.contains('?') { '&' } else { '?' };
        Some(format!("{redirect_uri}{separator}{}", encoded.join("&")))
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn valid_code_challenge(c: &str) -> bool {
    // BASE64URL(SHA256(verifier)) is 43 characters; RFC 7636 allows 43–128 of these.
    (43..=128).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks the request against the registered client.
pub async fn validate(db: &Db, params: &Params) -> Result<AuthorizationRequest, AuthorizeError> {
    validate_with(db, None, params).await
}

/// [`validate`], finding the client through `cache` (with its clock) when there is one.
pub async fn validate_with(
    db: &Db,
    cache: Option<(&clients::ClientCache, &dyn urad_core::Clock)>,
    params: &Params,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let client_id = get("client_id").ok_or(AuthorizeError::Page("missing-client"))?;
    let found = match cache {
        Some((cache, clock)) => cache
            .find(db, clock, client_id)
            .await
            .map(|c| c.map(|c| c.as_ref().clone())),
        None => clients::find(db, client_id).await,
    };
    let client = found
        .map_err(|e| {
            tracing::error!(error = %e, "cannot read clients");
            AuthorizeError::Page("server-error")
        })?
        .ok_or(AuthorizeError::Page("unknown-client"))?;
    let redirect_uri = get("redirect_uri").ok_or(AuthorizeError::Page("missing-redirect-uri"))?;
    if !client.allows_redirect(redirect_uri) {
        return Err(AuthorizeError::Page("unregistered-redirect-uri"));
    }
    let state = get("state").map(str::to_owned);
    let refuse = |error: &'static str, description: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description: description.to_owned(),
        state: state.clone(),
    };
    for one_only in ["request", "request_uri"] {
        if get(one_only).is_some() {
            let code = if one_only == "request" {
                "request_not_supported"
            } else {
                "request_uri_not_supported"
            };
            return Err(refuse(code, "request objects are not supported"));
        }
    }
    match get("response_type") {
        Some("code") => {}
        None => return Err(refuse("invalid_request", "response_type is required")),
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        }
    }
    if let Some(mode) = get("response_mode") {
        if mode != "query" {
            return Err(refuse(
                "invalid_request",
                "only response_mode=query is supported",
            ));
        }
    }
    let scopes: Vec<String> = get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "the scope must include openid"));
    }
    let code_challenge = get("code_challenge").ok_or_else(|| {
        refuse(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        )
    })?;
    if get("code_challenge_method") != Some("S256") {
        return Err(refuse(
            "invalid_request",
            "code_challenge_method must be S256",
        ));
    }
    if !valid_code_challenge(code_challenge) {
        return Err(refuse(
            "invalid_request",
            "code_challenge is not a BASE64URL-encoded SHA-256",
        ));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            refuse(
                "invalid_request",
                "max_age must be a whole number of seconds",
            )
        })?),
    };
    let prompts: Vec<&str> = get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    let prompt = match prompts.as_slice() {
        [] => Prompt::Default,
        ["none"] => Prompt::None,
        p if p.contains(&"none") => {
            return Err(refuse(
                "invalid_request",
                "prompt=none cannot be combined with other values",
            ))
        }
        p if p.contains(&"login") => Prompt::Login,
        p if p.iter().all(|v| *v == "consent") => Prompt::Consent,
        _ => {
            return Err(refuse(
                "invalid_request",
                "prompt may be none, login or consent",
            ))
        }
    };
    // acr_values are in order of preference; any of them satisfies the client, so the least
    // of them is what the session must reach (and never less than the client's minimum).
    let requested = get("acr_values")
        .unwrap_or("")
        .split(' ')
        .filter_map(Loa::from_uri)
        .min();
    let required_loa = requested.map_or(client.min_loa, |r| r.max(client.min_loa));
    let ui_locale = get("ui_locales")
        .unwrap_or("")
        .split(' ')
        .map(|l| l.split('-').next().unwrap_or(""))
        .find(|l| matches!(*l, "cs" | "en"))
        .map(str::to_owned);
    Ok(AuthorizationRequest {
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: state.clone(),
        nonce: get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        max_age,
        prompt,
        required_loa,
        ui_locale,
        client,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_redirects_carry_state_and_issuer_and_are_encoded() {
        let e = AuthorizeError::Redirect {
            redirect_uri: "https://rp.example.cz/cb?x=1".into(),
            error: "invalid_request",
            description: "PKCE is required".into(),
            state: Some("a b&c".into()),
        };
        assert_eq!(
            e.location("https://portal.example.cz").unwrap(),
            "https://rp.example.cz/cb?x=1&error=invalid_request&error_description=PKCE%20is%20required&state=a%20b%26c&iss=https%3A%2F%2Fportal.example.cz"
        );
        assert_eq!(AuthorizeError::Page("unknown-client").location("x"), None);
    }

    #[test]
    fn code_challenges_must_look_like_s256() {
        assert!(valid_code_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!valid_code_challenge("short"));
        assert!(!valid_code_challenge(&"a".repeat(129)));
        assert!(!valid_code_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }
}
