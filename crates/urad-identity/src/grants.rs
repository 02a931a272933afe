//! Authorization codes and refresh tokens: issued, redeemed once, and refused with the
//! standard `invalid_grant` when replayed, expired, or presented by the wrong client.
//! Redeeming is a single conditional `UPDATE … WHERE used_at IS NULL`, so two processes racing
//! with the same code or token cannot both win.

use crate::jose::b64;
use crate::jose::sha256_b64 as sha256;
use crate::loa::Loa;
use sqlx::Row;
use urad_core::Clock;
use urad_store::Db;

/// Codes live one minute (RFC 6749 recommends at most ten).
pub const CODE_TTL_SECS: i64 = 60;
/// A refresh token family lives as long as a working day's session may.
pub const REFRESH_TTL_SECS: i64 = 12 * 3600;

/// Who signed in, how, and what the client may have: carried from the code to the tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub client_id: String,
    pub sid: String,
    pub person_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub loa: Loa,
    pub amr: Vec<String>,
}

/// Why a grant is refused. The token endpoint answers `invalid_grant` for all of them;
/// the distinction is for the audit log.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GrantError {
    #[error("unknown code or token")]
    Unknown,
    #[error("the code or token has expired")]
    Expired,
    #[error("the code or token was already used")]
    Replayed,
    #[error("the code or token was issued to another client")]
    WrongClient,
    #[error("redirect_uri differs from the authorization request")]
    WrongRedirectUri,
    #[error("the PKCE code_verifier does not match the code_challenge")]
    WrongVerifier,
    #[error("the token was revoked")]
    Revoked,
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for GrantError {
    fn from(e: sqlx::Error) -> Self {
        GrantError::Database(e.to_string())
    }
}

/// A new random secret: 256 bits, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    b64(&bytes)
}

/// RFC 7636 S256: the verifier is 43–128 unreserved characters and hashes to the challenge.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        && sha256(verifier) == challenge
}

/// The `sub` a client sees: pairwise, so two clients cannot join their records by it.
pub fn pairwise_subject(client_id: &str, person_id: &str) -> String {
    sha256(&format!("{client_id}\n{person_id}"))
}

/// Issues a single-use authorization code bound to the client, redirect URI and PKCE challenge.
pub async fn issue_code(
    db: &Db,
    clock: &dyn Clock,
    grant: &Grant,
    redirect_uri: &str,
    code_challenge: &str,
    nonce: Option<&str>,
) -> Result<String, GrantError> {
    let code = random_token();
    let now = clock.now();
    sqlx::query(
        "INSERT INTO authorization_code (code_sha256, client_id, redirect_uri, code_challenge, sid, person_id, scope, \
         nonce, auth_time, loa, amr, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(sha256(&code))
    .bind(&grant.client_id)
    .bind(redirect_uri)
    .bind(code_challenge)
    .bind(&grant.sid)
    .bind(&grant.person_id)
    .bind(&grant.scope)
    .bind(nonce)
    .bind(grant.auth_time)
    .bind(grant.loa.code())
    .bind(grant.amr.join(" "))
    .bind(now)
    .bind(now + CODE_TTL_SECS)
    .execute(db.pool())
    .await?;
    Ok(code)
}

/// Redeems a code once. A replayed code also revokes the refresh tokens it produced
/// (RFC 6749 §4.1.2). Returns the grant and the nonce of the request.
pub async fn redeem_code(
    db: &Db,
    clock: &dyn Clock,
    code: &str,
    client_id: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<(Grant, Option<String>), GrantError> {
    let now = clock.now();
    let hash = sha256(code);
    let row = sqlx::query(
        "SELECT client_id, redirect_uri, code_challenge, sid, person_id, scope, nonce, auth_time, loa, amr, \
         expires_at, used_at FROM authorization_code WHERE code_sha256 = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?
    .ok_or(GrantError::Unknown)?;
    let grant = grant_from(&row)?;
    if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
        revoke_family_of_code(db, now, &hash).await?;
        return Err(GrantError::Replayed);
    }
    if grant.client_id != client_id {
        return Err(GrantError::WrongClient);
    }
    if row.try_get::<i64, _>("expires_at")? < now {
        return Err(GrantError::Expired);
    }
    if row.try_get::<String, _>("redirect_uri")? != redirect_uri {
        return Err(GrantError::WrongRedirectUri);
    }
    if !pkce_matches(verifier, &row.try_get::<String, _>("code_challenge")?) {
        return Err(GrantError::WrongVerifier);
    }
    let won = sqlx::query(
        "UPDATE authorization_code SET used_at = $1 WHERE code_sha256 = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(&hash)
    .execute(db.pool())
    .await?
    .rows_affected();
    if won != 1 {
        revoke_family_of_code(db, now, &hash).await?;
        return Err(GrantError::Replayed);
    }
    Ok((grant, row.try_get("nonce")?))
}

/// The refresh-token family of a code is named after the code, so a replay can find it.
fn family_of_code(code_hash: &str) -> String {
    format!("code:{code_hash}")
}

async fn revoke_family_of_code(db: &Db, now: i64, code_hash: &str) -> Result<(), GrantError> {
    revoke_family(db, now, &family_of_code(code_hash)).await
}

async fn revoke_family(db: &Db, now: i64, family: &str) -> Result<(), GrantError> {
    sqlx::query(
        "UPDATE refresh_token SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .execute(db.pool())
    .await?;
    Ok(())
}

fn grant_from(row: &sqlx::any::AnyRow) -> Result<Grant, GrantError> {
    let loa: String = row.try_get("loa")?;
    let amr: String = row.try_get("amr")?;
    Ok(Grant {
        client_id: row.try_get("client_id")?,
        sid: row.try_get("sid")?,
        person_id: row.try_get("person_id")?,
        scope: row.try_get("scope")?,
        auth_time: row.try_get("auth_time")?,
        loa: loa.parse().map_err(GrantError::Database)?,
        amr: amr
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// Issues the first refresh token of the sign-in that redeemed `code`.
pub async fn issue_refresh_for_code(
    db: &Db,
    clock: &dyn Clock,
    grant: &Grant,
    code: &str,
) -> Result<String, GrantError> {
    insert_refresh(
        db,
        clock.now(),
        grant,
        &family_of_code(&sha256(code)),
        clock.now() + REFRESH_TTL_SECS,
    )
    .await
}

async fn insert_refresh(
    db: &Db,
    now: i64,
    grant: &Grant,
    family: &str,
    expires_at: i64,
) -> Result<String, GrantError> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO refresh_token (token_sha256, family_id, client_id, sid, person_id, scope, auth_time, loa, amr, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sha256(&token))
    .bind(family)
    .bind(&grant.client_id)
    .bind(&grant.sid)
    .bind(&grant.person_id)
    .bind(&grant.scope)
    .bind(grant.auth_time)
    .bind(grant.loa.code())
    .bind(grant.amr.join(" "))
    .bind(now)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(token)
}

/// Uses a refresh token: it is spent, and a new one of the same family (and the same expiry:
/// rotation does not extend a session) is returned with the grant. Presenting a spent token
/// again is taken as theft: the whole family is revoked.
pub async fn rotate_refresh(
    db: &Db,
    clock: &dyn Clock,
    token: &str,
    client_id: &str,
) -> Result<(Grant, String), GrantError> {
    let now = clock.now();
    let hash = sha256(token);
    let row = sqlx::query(
        "SELECT family_id, client_id, sid, person_id, scope, auth_time, loa, amr, expires_at, used_at, revoked_at \
         FROM refresh_token WHERE token_sha256 = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?
    .ok_or(GrantError::Unknown)?;
    let grant = grant_from(&row)?;
    let family: String = row.try_get("family_id")?;
    if grant.client_id != client_id {
        return Err(GrantError::WrongClient);
    }
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Err(GrantError::Revoked);
    }
    if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
        revoke_family(db, now, &family).await?;
        return Err(GrantError::Replayed);
    }
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at < now {
        return Err(GrantError::Expired);
    }
    let won = sqlx::query("UPDATE refresh_token SET used_at = $1 WHERE token_sha256 = $2 AND used_at IS NULL AND revoked_at IS NULL")
        .bind(now)
        .bind(&hash)
        .execute(db.pool())
        .await?
        .rows_affected();
    if won != 1 {
        revoke_family(db, now, &family).await?;
        return Err(GrantError::Replayed);
    }
    let next = insert_refresh(db, now, &grant, &family, expires_at).await?;
    Ok((grant, next))
}

/// Revokes a refresh token presented by its client, and with it the whole family (RFC 7009:
/// revoking a refresh token should revoke the grant). Unknown tokens and other clients' tokens
/// are ignored silently, as RFC 7009 §2.2 asks, so the endpoint reveals nothing.
pub async fn revoke_refresh(
    db: &Db,
    clock: &dyn Clock,
    token: &str,
    client_id: &str,
) -> Result<bool, GrantError> {
    let row = sqlx::query("SELECT family_id, client_id FROM refresh_token WHERE token_sha256 = $1")
        .bind(sha256(token))
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    if row.try_get::<String, _>("client_id")? != client_id {
        return Ok(false);
    }
    revoke_family(db, clock.now(), &row.try_get::<String, _>("family_id")?).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_example() {
        // RFC 7636, Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
            challenge
        ));
        assert!(!pkce_matches(challenge, challenge));
        assert!(!pkce_matches("short", &sha256("short")));
    }

    #[test]
    fn subjects_are_pairwise_and_stable() {
        let a = pairwise_subject("portal", "person-1");
        assert_eq!(a, pairwise_subject("portal", "person-1"));
        assert_ne!(a, pairwise_subject("grants", "person-1"));
        assert_ne!(a, pairwise_subject("portal", "person-2"));
    }
}
