//! People, their linked logins, and single sign-on sessions. Everything is in the database,
//! so any process can serve any request; a session is found by the SHA-256 of its cookie.

use crate::grants::{ordered_token, random_token, storage_key};
use crate::jose::sha256_b64 as sha256;
use crate::loa::Loa;
use serde_json::Value;
use sqlx::Row as _;
use urad_core::Clock;
use urad_store::statement::Row;
use urad_store::{sql, Db, StoreError};

/// A session lasts at most a working day, however active.
pub const SESSION_TTL_SECS: i64 = 8 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    #[error("stored session is unreadable: {0}")]
    Stored(String),
}

/// A login at an upstream identity provider, as the gateway saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct UpstreamLogin {
    /// The upstream's configured name (`nia`, `bankid`, `demo` …).
    pub upstream: String,
    /// The upstream's `sub`.
    pub subject: String,
    /// A verified identifier that the same person has at every upstream (for linking), if the
    /// upstream asserts one. Never a name.
    pub link_key: Option<String>,
    /// The level the upstream asserted in its ID token.
    pub loa: Loa,
    pub amr: Vec<String>,
    /// Identity data (name, birth date, address …) mapped to OpenID Connect claims.
    pub claims: Value,
    /// The upstream's ID token, kept for logout propagation.
    pub id_token: Option<String>,
}

/// The person behind `login`: the one this upstream identity is linked to, else the one whose
/// other identity has the same verified link key, else a new person.
pub async fn resolve_person(
    db: &Db,
    clock: &dyn Clock,
    login: &UpstreamLogin,
) -> Result<String, SessionError> {
    let now = clock.now();
    let link = login.link_key.as_deref().map(sha256);
    // A login seen before (nearly every sign-in): one statement notes its use.
    let seen = db
        .write_one(
            sql("UPDATE person_identity SET last_used_at = $1, link_key_sha256 = COALESCE(link_key_sha256, $2) \
                 WHERE upstream = $3 AND upstream_subject = $4 RETURNING person_id")
            .bind(now)
            .bind(link.clone())
            .bind(&login.upstream)
            .bind(&login.subject),
        )
        .await?;
    if let Some(row) = seen.rows.first() {
        return Ok(row.get("person_id")?);
    }
    // A first sign-in: one write transaction, because two first sign-ins of the same person
    // at once must not both create a person (the loser finds the winner's link below).
    let mut tx = db.begin_write().await?;
    if let Some(row) = sqlx::query(
        "SELECT person_id FROM person_identity WHERE upstream = $1 AND upstream_subject = $2",
    )
    .bind(&login.upstream)
    .bind(&login.subject)
    .fetch_optional(&mut *tx)
    .await?
    {
        let person: String = row.try_get("person_id")?;
        sqlx::query("UPDATE person_identity SET last_used_at = $1, link_key_sha256 = COALESCE(link_key_sha256, $2) WHERE upstream = $3 AND upstream_subject = $4")
            .bind(now)
            .bind(&link)
            .bind(&login.upstream)
            .bind(&login.subject)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(person);
    }
    let linked: Option<String> = match &link {
        Some(l) => sqlx::query("SELECT person_id FROM person_identity WHERE link_key_sha256 = $1 ORDER BY linked_at LIMIT 1")
            .bind(l)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("person_id"))
            .transpose()?,
        None => None,
    };
    let person = match linked {
        Some(p) => p,
        None => {
            let id = random_token();
            sqlx::query("INSERT INTO person (id, created_at) VALUES ($1, $2)")
                .bind(&id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            id
        }
    };
    // On PostgreSQL a concurrent sign-in may have linked this login meanwhile: then this
    // transaction's new person is not needed, and the other's is the one.
    let inserted = sqlx::query(
        "INSERT INTO person_identity (upstream, upstream_subject, person_id, link_key_sha256, linked_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (upstream, upstream_subject) DO NOTHING",
    )
    .bind(&login.upstream)
    .bind(&login.subject)
    .bind(&person)
    .bind(&link)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        tx.rollback().await?;
        let row = sqlx::query(
            "SELECT person_id FROM person_identity WHERE upstream = $1 AND upstream_subject = $2",
        )
        .bind(&login.upstream)
        .bind(&login.subject)
        .fetch_one(db.reader())
        .await?;
        return Ok(row.try_get("person_id")?);
    }
    tx.commit().await?;
    Ok(person)
}

/// A signed-in browser.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub sid: String,
    pub person_id: String,
    pub upstream: String,
    pub loa: Loa,
    pub amr: Vec<String>,
    pub auth_time: i64,
    pub claims: Value,
    pub created_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

/// Starts a new session for `person_id` after `login`. Always a new token and `sid`: a
/// session id is never carried over a sign-in (no fixation). Returns the cookie token.
pub async fn start(
    db: &Db,
    clock: &dyn Clock,
    person_id: &str,
    login: &UpstreamLogin,
    user_agent: Option<&str>,
) -> Result<(String, Session), SessionError> {
    let now = clock.now();
    let token = ordered_token();
    let session = Session {
        // Ordered like the token: the session's refresh tokens are indexed by it.
        sid: ordered_token(),
        person_id: person_id.to_owned(),
        upstream: login.upstream.clone(),
        loa: login.loa,
        amr: login.amr.clone(),
        auth_time: now,
        claims: login.claims.clone(),
        created_at: now,
        expires_at: now + SESSION_TTL_SECS,
        user_agent: user_agent.map(|u| u.chars().take(200).collect()),
    };
    db.write_one(
        sql("INSERT INTO sso_session (token_sha256, sid, person_id, upstream, loa, amr, auth_time, claims, \
             upstream_id_token, user_agent, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(storage_key(&token))
        .bind(&session.sid)
        .bind(person_id)
        .bind(&session.upstream)
        .bind(session.loa.code())
        .bind(session.amr.join(" "))
        .bind(now)
        .bind(session.claims.to_string())
        .bind(login.id_token.clone())
        .bind(session.user_agent.clone())
        .bind(now)
        .bind(session.expires_at),
    )
    .await?;
    Ok((token, session))
}

/// A session from a row of [`Db::fetch_optional`].
fn session_from(row: &Row) -> Result<Session, SessionError> {
    let loa: String = row.get("loa")?;
    let amr: String = row.get("amr")?;
    let claims: String = row.get("claims")?;
    Ok(Session {
        sid: row.get("sid")?,
        person_id: row.get("person_id")?,
        upstream: row.get("upstream")?,
        loa: loa.parse().map_err(SessionError::Stored)?,
        amr: amr
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        auth_time: row.get("auth_time")?,
        claims: serde_json::from_str(&claims).map_err(|e| SessionError::Stored(e.to_string()))?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        user_agent: row.get("user_agent")?,
    })
}

/// The live session a cookie token belongs to.
pub async fn find(
    db: &Db,
    clock: &dyn Clock,
    token: &str,
) -> Result<Option<Session>, SessionError> {
    db.fetch_optional(
        sql("SELECT sid, person_id, upstream, loa, amr, auth_time, claims, created_at, expires_at, user_agent \
             FROM sso_session WHERE token_sha256 = $1 AND ended_at IS NULL AND expires_at > $2")
        .bind(storage_key(token))
        .bind(clock.now()),
    )
    .await?
    .map(|r| session_from(&r))
    .transpose()
}

/// Whether the session `sid` is live (for userinfo and refresh).
pub async fn is_live(db: &Db, clock: &dyn Clock, sid: &str) -> Result<bool, SessionError> {
    Ok(sqlx::query(
        "SELECT sid FROM sso_session WHERE sid = $1 AND ended_at IS NULL AND expires_at > $2",
    )
    .bind(sid)
    .bind(clock.now())
    .fetch_optional(db.reader())
    .await?
    .is_some())
}

/// A person's live sessions, newest first ("My account" lists them and can end each).
pub async fn live_sessions(
    db: &Db,
    clock: &dyn Clock,
    person_id: &str,
) -> Result<Vec<Session>, SessionError> {
    db.fetch_all(
        sql("SELECT sid, person_id, upstream, loa, amr, auth_time, claims, created_at, expires_at, user_agent \
             FROM sso_session WHERE person_id = $1 AND ended_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, sid")
        .bind(person_id)
        .bind(clock.now()),
    )
    .await?
    .iter()
    .map(session_from)
    .collect()
}

/// Ends a session and revokes every refresh token issued in it, for every client. Returns the
/// upstream ID token (to end the upstream session too) if the session was live.
pub async fn end(
    db: &Db,
    clock: &dyn Clock,
    sid: &str,
) -> Result<Option<Option<String>>, SessionError> {
    let now = clock.now();
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT upstream_id_token FROM sso_session WHERE sid = $1 AND ended_at IS NULL",
    )
    .bind(sid)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let upstream_id_token: Option<String> = row.try_get("upstream_id_token")?;
    sqlx::query("UPDATE sso_session SET ended_at = $1 WHERE sid = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(sid)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE refresh_token SET revoked_at = $1 WHERE sid = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(sid)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(upstream_id_token))
}

/// The claims of a live session, for userinfo.
pub async fn claims_of_live(
    db: &Db,
    clock: &dyn Clock,
    sid: &str,
) -> Result<Option<Value>, SessionError> {
    let row = sqlx::query(
        "SELECT claims FROM sso_session WHERE sid = $1 AND ended_at IS NULL AND expires_at > $2",
    )
    .bind(sid)
    .bind(clock.now())
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        let text: String = r.try_get("claims")?;
        serde_json::from_str(&text).map_err(|e| SessionError::Stored(e.to_string()))
    })
    .transpose()
}

/// The e-mail address a person's most recent sign-in asserted (for notices sent to them
/// later, when they are not signed in), if any.
pub async fn latest_email(db: &Db, person_id: &str) -> Result<Option<String>, SessionError> {
    let row = sqlx::query(
        "SELECT claims FROM sso_session WHERE person_id = $1 ORDER BY auth_time DESC LIMIT 1",
    )
    .bind(person_id)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let text: String = row.try_get("claims")?;
    let claims: Value =
        serde_json::from_str(&text).map_err(|e| SessionError::Stored(e.to_string()))?;
    Ok(claims
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        .map(str::to_owned))
}

/// Re-authentication of the session's own person (step-up, `prompt=login`, `max_age`): the
/// session keeps its `sid`, so clients keep their tokens, but gets a new cookie token (no
/// fixation) and the new level, methods, time and upstream ID token. Returns the new cookie
/// token, or `None` if the session is no longer live.
pub async fn reauthenticate(
    db: &Db,
    clock: &dyn Clock,
    sid: &str,
    login: &UpstreamLogin,
) -> Result<Option<(String, Session)>, SessionError> {
    let now = clock.now();
    let token = ordered_token();
    let updated = sqlx::query(
        "UPDATE sso_session SET token_sha256 = $1, loa = $2, amr = $3, auth_time = $4, claims = $5, upstream = $6, \
         upstream_id_token = $7 WHERE sid = $8 AND ended_at IS NULL AND expires_at > $4",
    )
    .bind(storage_key(&token))
    .bind(login.loa.code())
    .bind(login.amr.join(" "))
    .bind(now)
    .bind(login.claims.to_string())
    .bind(&login.upstream)
    .bind(&login.id_token)
    .bind(sid)
    .execute(db.writer())
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(None);
    }
    let session = find(db, clock, &token).await?;
    Ok(session.map(|s| (token, s)))
}

/// A login of a person at an upstream, for "My account".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedLogin {
    pub upstream: String,
    pub linked_at: i64,
    pub last_used_at: i64,
}

pub async fn linked_logins(db: &Db, person_id: &str) -> Result<Vec<LinkedLogin>, SessionError> {
    let rows = sqlx::query(
        "SELECT upstream, linked_at, last_used_at FROM person_identity WHERE person_id = $1 ORDER BY linked_at, upstream",
    )
    .bind(person_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LinkedLogin {
                upstream: r.try_get("upstream")?,
                linked_at: r.try_get("linked_at")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .collect()
}

/// The clients that received a code in session `sid`: those to notify when it ends.
pub async fn clients_of(db: &Db, sid: &str) -> Result<Vec<String>, SessionError> {
    let rows = sqlx::query(
        "SELECT DISTINCT client_id FROM authorization_code WHERE sid = $1 ORDER BY client_id",
    )
    .bind(sid)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(|r| Ok(r.try_get("client_id")?)).collect()
}

/// The person and session of a live `sid` (for RP-initiated logout with an ID token hint).
pub async fn find_by_sid(
    db: &Db,
    clock: &dyn Clock,
    sid: &str,
) -> Result<Option<Session>, SessionError> {
    db.fetch_optional(
        sql("SELECT sid, person_id, upstream, loa, amr, auth_time, claims, created_at, expires_at, user_agent \
             FROM sso_session WHERE sid = $1 AND ended_at IS NULL AND expires_at > $2")
        .bind(sid)
        .bind(clock.now()),
    )
    .await?
    .map(|r| session_from(&r))
    .transpose()
}
