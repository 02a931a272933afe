//! Authorization codes and refresh tokens: issued, redeemed once, and refused with the
//! standard `invalid_grant` when replayed, expired, or presented by the wrong client.
//! Redeeming a code is a single conditional `UPDATE … WHERE used_at IS NULL`, rotating a
//! refresh token a single `INSERT … SELECT` of its one permitted successor, so two processes
//! racing with the same code or token cannot both win. All of it goes through the store's
//! statements (`Db::write`, `Db::fetch_optional`): on SQLite they run on SQLite's C API and
//! the writes waiting at the same moment are committed together, because SQLite has one
//! writer and how long each write holds it bounds the whole gateway's throughput. Columns
//! named `…_sha256` hold a secret's [`storage_key`]: its time prefix and its SHA-256.

use crate::jose::b64;
use crate::jose::sha256_b64 as sha256;
use crate::loa::Loa;
use urad_core::Clock;
use urad_store::statement::Row;
use urad_store::{sql, Db, StoreError};

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

impl From<StoreError> for GrantError {
    fn from(e: StoreError) -> Self {
        GrantError::Database(e.to_string())
    }
}

/// A new random secret: 256 bits, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    b64(&bytes)
}

/// A new secret for a value the database keeps a row for (a code, a refresh token, a session):
/// 12 hexadecimal digits of the current time in milliseconds, then 256 random bits.
///
/// The row is stored under [`storage_key`], which keeps that prefix. Keys that grow with
/// time are appended at the end of their index, where the last pages are already in memory
/// and shared by the rows written together; random keys scatter every insert over the whole
/// index and rewrite a different 4 KiB page each time — on SQLite most of a sign-in's cost
/// under load. The time only orders the rows: it is the system's wall clock, not the
/// injected [`Clock`], and nothing is decided by it.
pub fn ordered_token() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    format!("{:012x}{}", millis & 0xffff_ffff_ffff, random_token())
}

/// The key a secret's row is stored and found under: the time prefix of an
/// [`ordered_token`] followed by the SHA-256 of the whole secret, so the database never holds
/// a usable secret. A secret without the prefix (issued before prefixes existed) is keyed by
/// its SHA-256 alone, as it was stored.
pub fn storage_key(token: &str) -> String {
    let prefixed = token.len() == ORDERED_TOKEN_LEN
        && token.as_bytes()[..12]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    if prefixed {
        format!("{}{}", &token[..12], sha256(token))
    } else {
        sha256(token)
    }
}

/// 12 hexadecimal digits of time and 43 base64url characters of randomness.
const ORDERED_TOKEN_LEN: usize = 12 + 43;

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
    let code = ordered_token();
    let now = clock.now();
    db.write_one(
        sql("INSERT INTO authorization_code (code_sha256, client_id, redirect_uri, code_challenge, sid, person_id, scope, \
             nonce, auth_time, loa, amr, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
        .bind(storage_key(&code))
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
        .bind(now + CODE_TTL_SECS),
    )
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
    let hash = storage_key(code);
    // One conditional statement spends the code if everything matches — client, redirect
    // URI, PKCE (S256 is a function of the verifier, so the challenge is compared in the
    // WHERE) and expiry — so of two requests with the same code only one wins, on either
    // database, without holding a lock across round trips. The first refresh token is
    // copied from the spent code in the same write: both or neither. Only a refusal reads
    // the code again to say why.
    if !pkce_matches(verifier, &sha256(verifier)) {
        return Err(why_code_refused(db, now, &hash, client_id, redirect_uri, verifier).await);
    }
    let refresh = with_refresh.then(ordered_token);
    let mut statements = vec![sql("UPDATE authorization_code SET used_at = $1 \
         WHERE code_sha256 = $2 AND used_at IS NULL AND client_id = $3 AND redirect_uri = $4 \
         AND code_challenge = $5 AND expires_at >= $6 \
         RETURNING client_id, sid, person_id, scope, nonce, auth_time, loa, amr")
    .bind(now)
    .bind(&hash)
    .bind(client_id)
    .bind(redirect_uri)
    .bind(sha256(verifier))
    .bind(now)];
    if let Some(refresh) = &refresh {
        statements.push(
            sql("INSERT INTO refresh_token (token_sha256, family_id, client_id, sid, person_id, scope, \
                 auth_time, loa, amr, created_at, expires_at) \
                 SELECT $1, $2, client_id, sid, person_id, scope, auth_time, loa, amr, $3, $4 \
                 FROM authorization_code WHERE code_sha256 = $5")
            .bind(storage_key(refresh))
            .bind(family_of_code(&hash))
            .bind(now)
            .bind(now + REFRESH_TTL_SECS)
            .bind(&hash)
            .only_if_previous_changed(),
        );
    }
    let written = db.write(statements).await?;
    let Some(row) = written
        .into_iter()
        .next()
        .and_then(|w| w.rows.into_iter().next())
    else {
        return Err(why_code_refused(db, now, &hash, client_id, redirect_uri, verifier).await);
    };
    Ok((grant_from(&row)?, row.get("nonce")?, refresh))
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
    let row = match db
        .fetch_optional(
            sql("SELECT client_id, sid, redirect_uri, code_challenge, expires_at, used_at FROM authorization_code \
                 WHERE code_sha256 = $1")
            .bind(hash),
        )
        .await
    {
        Ok(Some(row)) => row,
        Ok(None) => return GrantError::Unknown,
        Err(e) => return e.into(),
    };
    let why = || -> Result<GrantError, StoreError> {
        Ok(if row.get::<Option<i64>>("used_at")?.is_some() {
            GrantError::Replayed
        } else if row.get::<String>("client_id")? != client_id {
            GrantError::WrongClient
        } else if row.get::<i64>("expires_at")? < now {
            GrantError::Expired
        } else if row.get::<String>("redirect_uri")? != redirect_uri {
            GrantError::WrongRedirectUri
        } else if !pkce_matches(verifier, &row.get::<String>("code_challenge")?) {
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
        let sid = match row.get::<String>("sid") {
            Ok(sid) => sid,
            Err(e) => return e.into(),
        };
        if let Err(e) = revoke_family(db, now, &sid, &family_of_code(hash)).await {
            return e;
        }
    }
    why
}

/// The refresh-token family of a code is named after the code, so a replay can find it.
fn family_of_code(code_hash: &str) -> String {
    format!("code:{code_hash}")
}

/// Revokes a family of refresh tokens, found by its session and its name (the index is on
/// both: every family belongs to one session).
async fn revoke_family(db: &Db, now: i64, sid: &str, family: &str) -> Result<(), GrantError> {
    db.write_one(
        sql("UPDATE refresh_token SET revoked_at = $1 \
             WHERE sid = $2 AND family_id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(sid)
        .bind(family),
    )
    .await?;
    Ok(())
}

fn grant_from(row: &Row) -> Result<Grant, GrantError> {
    let loa: String = row.get("loa")?;
    let amr: String = row.get("amr")?;
    Ok(Grant {
        client_id: row.get("client_id")?,
        sid: row.get("sid")?,
        person_id: row.get("person_id")?,
        scope: row.get("scope")?,
        auth_time: row.get("auth_time")?,
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
    let token = ordered_token();
    let now = clock.now();
    db.write_one(
        sql("INSERT INTO refresh_token (token_sha256, family_id, client_id, sid, person_id, scope, auth_time, loa, amr, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(storage_key(&token))
        .bind(family_of_code(&storage_key(code)))
        .bind(&grant.client_id)
        .bind(&grant.sid)
        .bind(&grant.person_id)
        .bind(&grant.scope)
        .bind(grant.auth_time)
        .bind(grant.loa.code())
        .bind(grant.amr.join(" "))
        .bind(now)
        .bind(now + REFRESH_TTL_SECS),
    )
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
    let hash = storage_key(token);
    let next = ordered_token();
    let inserted = db
        .write_one(
            sql("INSERT INTO refresh_token (token_sha256, parent_sha256, family_id, client_id, sid, person_id, scope, \
                 auth_time, loa, amr, created_at, expires_at) \
                 SELECT $1, token_sha256, family_id, client_id, sid, person_id, scope, auth_time, loa, amr, $2, expires_at \
                 FROM refresh_token \
                 WHERE token_sha256 = $3 AND client_id = $4 AND used_at IS NULL AND revoked_at IS NULL AND expires_at >= $5 \
                 ON CONFLICT (parent_sha256) DO NOTHING \
                 RETURNING family_id, client_id, sid, person_id, scope, auth_time, loa, amr")
            .bind(storage_key(&next))
            .bind(now)
            .bind(&hash)
            .bind(client_id)
            .bind(now),
        )
        .await?
        .rows
        .into_iter()
        .next();
    if let Some(row) = inserted {
        return Ok((grant_from(&row)?, next));
    }
    let row = db
        .fetch_optional(
            sql("SELECT family_id, client_id, sid, expires_at, revoked_at, \
                 CAST(CASE WHEN used_at IS NOT NULL OR EXISTS \
                 (SELECT 1 FROM refresh_token s WHERE s.parent_sha256 = t.token_sha256) THEN 1 ELSE 0 END AS BIGINT) AS spent \
                 FROM refresh_token t WHERE token_sha256 = $1")
            .bind(&hash),
        )
        .await?
        .ok_or(GrantError::Unknown)?;
    if row.get::<String>("client_id")? != client_id {
        return Err(GrantError::WrongClient);
    }
    if row.get::<Option<i64>>("revoked_at")?.is_some() {
        return Err(GrantError::Revoked);
    }
    if row.get::<bool>("spent")? {
        revoke_family(
            db,
            now,
            &row.get::<String>("sid")?,
            &row.get::<String>("family_id")?,
        )
        .await?;
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
    let row = db
        .fetch_optional(
            sql("SELECT family_id, client_id, sid FROM refresh_token WHERE token_sha256 = $1")
                .bind(storage_key(token)),
        )
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    if row.get::<String>("client_id")? != client_id {
        return Ok(false);
    }
    revoke_family(
        db,
        clock.now(),
        &row.get::<String>("sid")?,
        &row.get::<String>("family_id")?,
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
    fn ordered_tokens_sort_by_time_and_are_stored_by_prefix_and_hash() {
        let first = ordered_token();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = ordered_token();
        assert_eq!(first.len(), ORDERED_TOKEN_LEN);
        assert!(first[..12] < second[..12], "{first} {second}");
        assert_ne!(first[12..], second[12..]);

        let key = storage_key(&first);
        assert_eq!(&key[..12], &first[..12]);
        assert_eq!(&key[12..], sha256(&first));
        assert!(storage_key(&first) < storage_key(&second));
        // No part of the stored key gives the secret back.
        assert!(!key.contains(&first[12..]));
        // A secret from before the prefix is found by its hash, as it was stored.
        let legacy = random_token();
        assert_eq!(storage_key(&legacy), sha256(&legacy));
        // So is anything that only looks like an ordered token's length.
        let odd = format!("ZZZZZZZZZZZZ{}", random_token());
        assert_eq!(storage_key(&odd), sha256(&odd));
    }

    #[test]
    fn subjects_are_pairwise_and_stable() {
        let a = pairwise_subject("portal", "person-1");
        assert_eq!(a, pairwise_subject("portal", "person-1"));
        assert_ne!(a, pairwise_subject("grants", "person-1"));
        assert_ne!(a, pairwise_subject("portal", "person-2"));
    }
}
