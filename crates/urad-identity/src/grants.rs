//! Authorization codes and refresh tokens: issued, redeemed once, and refused with the
//! standard `invalid_grant` when replayed, expired, or presented by the wrong client.
//! Redeeming a code is a single conditional `UPDATE … WHERE used_at IS NULL`, rotating a
//! refresh token a single `INSERT … SELECT` of its one permitted successor, so two processes
//! racing with the same code or token cannot both win. Each is one round trip to the
//! database and holds no lock across round trips: SQLite has one writer, and how long each
//! write holds it bounds the whole gateway's throughput.

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
    let redeemed = redeem(db, clock, code, client_id, redirect_uri, verifier, false).await?;
    Ok((redeemed.0, redeemed.1))
}

/// Redeems a code once, as [`redeem_code`], and issues the first refresh token of the
/// sign-in. Returns the grant, the nonce of the request and the refresh token.
pub async fn redeem_code_with_refresh(
    db: &Db,
    clock: &dyn Clock,
    code: &str,
    client_id: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<(Grant, Option<String>, String), GrantError> {
    let (grant, nonce, refresh) =
        redeem(db, clock, code, client_id, redirect_uri, verifier, true).await?;
    let refresh = refresh.ok_or_else(|| GrantError::Database("no refresh token".into()))?;
    Ok((grant, nonce, refresh))
}

async fn redeem(
    db: &Db,
    clock: &dyn Clock,
    code: &str,
    client_id: &str,
    redirect_uri: &str,
    verifier: &str,
    with_refresh: bool,
) -> Result<(Grant, Option<String>, Option<String>), GrantError> {
    let now = clock.now();
    let hash = sha256(code);
    // One conditional statement spends the code if everything matches — client, redirect
    // URI, PKCE (S256 is a function of the verifier, so the challenge is compared in the
    // WHERE) and expiry — so of two requests with the same code only one wins, on either
    // database, without holding a lock across round trips. Only a refusal reads the code
    // again to say why.
    let well_formed = pkce_matches(verifier, &sha256(verifier));
    let spent = if well_formed {
        sqlx::query(
            "UPDATE authorization_code SET used_at = $1 \
             WHERE code_sha256 = $2 AND used_at IS NULL AND client_id = $3 AND redirect_uri = $4 \
             AND code_challenge = $5 AND expires_at >= $6 \
             RETURNING client_id, sid, person_id, scope, nonce, auth_time, loa, amr",
        )
        .bind(now)
        .bind(&hash)
        .bind(client_id)
        .bind(redirect_uri)
        .bind(sha256(verifier))
        .bind(now)
        .fetch_optional(db.pool())
        .await?
    } else {
        None
    };
    let Some(row) = spent else {
        return Err(why_code_refused(db, now, &hash, client_id, redirect_uri, verifier).await);
    };
    let grant = grant_from(&row)?;
    let refresh = if with_refresh {
        let expires_at = now + REFRESH_TTL_SECS;
        Some(insert_refresh(db.pool(), now, &grant, &family_of_code(&hash), expires_at).await?)
    } else {
        None
    };
    Ok((grant, row.try_get("nonce")?, refresh))
}

/// Why a code was not redeemed; a replay revokes the refresh tokens the code produced.
async fn why_code_refused(
    db: &Db,
    now: i64,
    hash: &str,
    client_id: &str,
    redirect_uri: &str,
    verifier: &str,
) -> GrantError {
    let row = match sqlx::query(
        "SELECT client_id, redirect_uri, code_challenge, expires_at, used_at FROM authorization_code \
         WHERE code_sha256 = $1",
    )
    .bind(hash)
    .fetch_optional(db.pool())
    .await
    {
        Ok(Some(row)) => row,
        Ok(None) => return GrantError::Unknown,
        Err(e) => return e.into(),
    };
    let why = || -> Result<GrantError, sqlx::Error> {
        Ok(if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            GrantError::Replayed
        } else if row.try_get::<String, _>("client_id")? != client_id {
            GrantError::WrongClient
        } else if row.try_get::<i64, _>("expires_at")? < now {
            GrantError::Expired
        } else if row.try_get::<String, _>("redirect_uri")? != redirect_uri {
            GrantError::WrongRedirectUri
        } else if !pkce_matches(verifier, &row.try_get::<String, _>("code_challenge")?) {
            GrantError::WrongVerifier
        } else {
            // Everything matched, so another request spent it just now.
            GrantError::Replayed
        })
    };
    let why = match why() {
        Ok(why) => why,
        Err(e) => return e.into(),
    };
    if why == GrantError::Replayed {
        if let Err(e) = revoke_family(db.pool(), now, &family_of_code(hash)).await {
            return e;
        }
    }
    why
}

/// The refresh-token family of a code is named after the code, so a replay can find it.
fn family_of_code(code_hash: &str) -> String {
    format!("code:{code_hash}")
}

async fn revoke_family<'e, E>(executor: E, now: i64, family: &str) -> Result<(), GrantError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE refresh_token SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .execute(executor)
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
        db.pool(),
        clock.now(),
        grant,
        &family_of_code(&sha256(code)),
        clock.now() + REFRESH_TTL_SECS,
    )
    .await
}

async fn insert_refresh<'e, E>(
    executor: E,
    now: i64,
    grant: &Grant,
    family: &str,
    expires_at: i64,
) -> Result<String, GrantError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
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
    .execute(executor)
    .await?;
    Ok(token)
}

/// Uses a refresh token: it is spent, and a new one of the same family (and the same expiry:
/// rotation does not extend a session) is returned with the grant. Presenting a spent token
/// again is taken as theft: the whole family is revoked.
///
/// The successor is inserted by one statement that copies the grant from the presented token
/// if it is valid and has no successor yet (a unique index allows one): atomic on both
/// databases, one round trip, and of two requests presenting the same token only one wins.
/// Only when nothing was inserted is the token read to say why.
pub async fn rotate_refresh(
    db: &Db,
    clock: &dyn Clock,
    token: &str,
    client_id: &str,
) -> Result<(Grant, String), GrantError> {
    let now = clock.now();
    let hash = sha256(token);
    let next = random_token();
    let inserted = sqlx::query(
        "INSERT INTO refresh_token (token_sha256, parent_sha256, family_id, client_id, sid, person_id, scope, \
         auth_time, loa, amr, created_at, expires_at) \
         SELECT $1, token_sha256, family_id, client_id, sid, person_id, scope, auth_time, loa, amr, $2, expires_at \
         FROM refresh_token \
         WHERE token_sha256 = $3 AND client_id = $4 AND used_at IS NULL AND revoked_at IS NULL AND expires_at >= $5 \
         ON CONFLICT (parent_sha256) DO NOTHING \
         RETURNING family_id, client_id, sid, person_id, scope, auth_time, loa, amr",
    )
    .bind(sha256(&next))
    .bind(now)
    .bind(&hash)
    .bind(client_id)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    if let Some(row) = inserted {
        return Ok((grant_from(&row)?, next));
    }
    let row = sqlx::query(
        "SELECT family_id, client_id, expires_at, revoked_at, \
         CAST(CASE WHEN used_at IS NOT NULL OR EXISTS \
         (SELECT 1 FROM refresh_token s WHERE s.parent_sha256 = t.token_sha256) THEN 1 ELSE 0 END AS BIGINT) AS spent \
         FROM refresh_token t WHERE token_sha256 = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?
    .ok_or(GrantError::Unknown)?;
    if row.try_get::<String, _>("client_id")? != client_id {
        return Err(GrantError::WrongClient);
    }
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Err(GrantError::Revoked);
    }
    if row.try_get::<i64, _>("spent")? == 1 {
        revoke_family(db.pool(), now, &row.try_get::<String, _>("family_id")?).await?;
        return Err(GrantError::Replayed);
    }
    Err(GrantError::Expired)
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
    revoke_family(
        db.pool(),
        clock.now(),
        &row.try_get::<String, _>("family_id")?,
    )
    .await?;
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
