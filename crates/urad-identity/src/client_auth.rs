//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9):
//! the client proves who it is with a short-lived JWT signed by a key whose public half it
//! registered. Nothing secret is stored at the gateway, and each assertion is accepted once.

use crate::clients::Client;
use crate::jose::{self, JoseError};
use serde_json::Value;
use urad_core::Clock;
use urad_store::Db;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest an assertion may live: its `exp` may be at most this far ahead, so the table
/// of used `jti` stays small and a stolen assertion is soon worthless.
pub const MAX_ASSERTION_LIFETIME_SECS: i64 = 300;
/// The longest `jti` kept: longer ones are refused rather than stored.
const MAX_JTI_LEN: usize = 256;
/// Tolerance for the client's clock in `nbf` and `iat` (not for `exp`, which must be ahead).
const CLOCK_SKEW_SECS: i64 = 30;

/// Why an assertion is refused. The token endpoint answers `invalid_client` for all of them;
/// the distinction is for the audit log.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssertionError {
    #[error("the client has no registered keys")]
    NoKeys,
    #[error("the assertion does not verify: {0}")]
    Signature(JoseError),
    #[error("iss and sub must both be the client id")]
    Subject,
    #[error("aud names neither the issuer nor the token endpoint")]
    Audience,
    #[error("the assertion has no exp or has expired")]
    Expired,
    #[error("the assertion's exp is more than {MAX_ASSERTION_LIFETIME_SECS} s away")]
    TooLongLived,
    #[error("the assertion is not valid yet")]
    NotYetValid,
    #[error("the assertion has no usable jti")]
    NoJti,
    #[error("the assertion's jti was already used")]
    Replayed,
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for AssertionError {
    fn from(e: sqlx::Error) -> Self {
        AssertionError::Database(e.to_string())
    }
}

/// The client id an assertion claims to come from (`sub`, else `iss`), unverified: which
/// client's keys to verify it with.
pub fn claimed_client_id(assertion: &str) -> Option<String> {
    let claims = jose::unverified_claims(assertion).ok()?;
    claims["sub"]
        .as_str()
        .or_else(|| claims["iss"].as_str())
        .map(str::to_owned)
}

/// Verifies `assertion` as `client`'s authentication: signed ES256 or RS256 by one of the
/// client's registered keys, `iss` = `sub` = client id, `aud` naming one of `audiences`
/// (the issuer or the token endpoint URL), `exp` ahead but at most
/// [`MAX_ASSERTION_LIFETIME_SECS`] away, and a `jti` not seen before (kept until `exp`).
pub async fn verify_assertion(
    db: &Db,
    clock: &dyn Clock,
    client: &Client,
    assertion: &str,
    audiences: &[&str],
) -> Result<(), AssertionError> {
    if client.jwks.is_empty() {
        return Err(AssertionError::NoKeys);
    }
    let (_, claims) = jose::verify(assertion, &client.jwks).map_err(AssertionError::Signature)?;
    let id = client.client_id.as_str();
    if claims["iss"] != id || claims["sub"] != id {
        return Err(AssertionError::Subject);
    }
    let audience_ok = match &claims["aud"] {
        Value::String(a) => audiences.contains(&a.as_str()),
        Value::Array(list) => list
            .iter()
            .any(|a| a.as_str().is_some_and(|a| audiences.contains(&a))),
        _ => false,
    };
    if !audience_ok {
        return Err(AssertionError::Audience);
    }
    let now = clock.now();
    let exp = claims["exp"].as_i64().ok_or(AssertionError::Expired)?;
    if exp <= now {
        return Err(AssertionError::Expired);
    }
    if exp > now + MAX_ASSERTION_LIFETIME_SECS {
        return Err(AssertionError::TooLongLived);
    }
    for early in ["nbf", "iat"] {
        if claims[early]
            .as_i64()
            .is_some_and(|t| t > now + CLOCK_SKEW_SECS)
        {
            return Err(AssertionError::NotYetValid);
        }
    }
    let jti = claims["jti"]
        .as_str()
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or(AssertionError::NoJti)?;
    // Used ids are needed only while their assertions could still be presented.
    sqlx::query("DELETE FROM client_assertion_jti WHERE expires_at < $1")
        .bind(now)
        .execute(db.writer())
        .await?;
    let first_use = sqlx::query(
        "INSERT INTO client_assertion_jti (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(jti)
    .bind(exp)
    .execute(db.writer())
    .await?
    .rows_affected();
    if first_use != 1 {
        return Err(AssertionError::Replayed);
    }
    Ok(())
}
