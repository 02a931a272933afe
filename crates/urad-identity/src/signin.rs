//! The sign-in flow between an authorization request and the code: whether the browser's
//! session is good enough for the request (level of assurance, `max_age`, `prompt`), and the
//! request kept in the database while the person signs in upstream — bound to the browser
//! that started it, so that nobody can finish someone else's sign-in (login CSRF).

use crate::authorize::{encode, AuthorizationRequest, Params, Prompt};
use crate::grants::{self, ordered_token, Grant, GrantError};
use crate::jose::sha256_b64 as sha256;
use crate::sessions::Session;
use urad_core::Clock;
use urad_store::statement::Row;
use urad_store::{sql, Db, StoreError};

/// How long a person has to sign in upstream.
pub const PENDING_TTL_SECS: i64 = 15 * 60;

/// What to do with a valid authorization request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The session is good enough: issue a code.
    Issue,
    /// Sign in upstream; `force` asks the upstream to authenticate again (step-up,
    /// `prompt=login`, `max_age` passed) even if it has a session of its own.
    SignIn { force: bool },
    /// `prompt=none` and nothing may be shown: answer with this error code.
    Refuse(&'static str),
}

/// Decides for `request` given the browser's live session, if any, at `now`.
pub fn decide(request: &AuthorizationRequest, session: Option<&Session>, now: i64) -> Decision {
    let silent = request.prompt == Prompt::None;
    let Some(s) = session else {
        return if silent {
            Decision::Refuse("login_required")
        } else {
            Decision::SignIn { force: false }
        };
    };
    let too_old = request.max_age.is_some_and(|max| now - s.auth_time > max);
    let too_weak = s.loa < request.required_loa;
    if request.prompt == Prompt::Login || too_old || too_weak {
        if silent {
            return Decision::Refuse(if too_weak {
                "interaction_required"
            } else {
                "login_required"
            });
        }
        return Decision::SignIn { force: true };
    }
    Decision::Issue
}

/// The redirect back to the client: a code for `session`, with `state` and `iss` (RFC 9207).
pub async fn issue(
    db: &Db,
    clock: &dyn Clock,
    issuer: &str,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<String, GrantError> {
    let grant = Grant {
        client_id: request.client.client_id.clone(),
        sid: session.sid.clone(),
        person_id: session.person_id.clone(),
        scope: request.scopes.join(" "),
        auth_time: session.auth_time,
        loa: session.loa,
        amr: session.amr.clone(),
    };
    let code = grants::issue_code(
        db,
        clock,
        &grant,
        &request.redirect_uri,
        &request.code_challenge,
        request.nonce.as_deref(),
    )
    .await?;
    let mut query = format!("code={}", encode(&code));
    if let Some(s) = &request.state {
        query.push_str(&format!("&state={}", encode(s)));
    }
    query.push_str(&format!("&iss={}", encode(issuer)));
    let separator = if request.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    Ok(format!("{}{separator}{query}", request.redirect_uri))
}

/// An authorization request waiting for the person to sign in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub id: String,
    /// The request's parameters as received; validated again when the sign-in completes,
    /// so a client changed or removed meanwhile is noticed.
    pub params: Params,
    pub upstream: Option<String>,
    pub upstream_nonce: Option<String>,
    pub upstream_verifier: Option<String>,
    browser_sha256: String,
}

impl Pending {
    /// Whether `browser_token` (the cookie) is the one that started this sign-in.
    pub fn belongs_to(&self, browser_token: Option<&str>) -> bool {
        browser_token.is_some_and(|t| {
            let h = sha256(t);
            // Constant time: the hash is not secret, but this costs nothing.
            h.len() == self.browser_sha256.len()
                && h.bytes()
                    .zip(self.browser_sha256.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
    }
}

/// Keeps `params` for the browser holding `browser_token`; returns the pending id.
///
/// When the upstream is already known (only one can serve the request), `leg` records at
/// once where the person is sent, sparing the write of [`send_upstream`].
pub async fn park(
    db: &Db,
    clock: &dyn Clock,
    params: &Params,
    browser_token: &str,
    leg: Option<&UpstreamLeg<'_>>,
) -> Result<String, StoreError> {
    // Ordered (see `grants::ordered_token`): the row is deleted a moment later, from the end
    // of the index where it was just written.
    let id = ordered_token();
    let now = clock.now();
    db.write_one(
        sql("INSERT INTO pending_authorization (id, browser_sha256, request, created_at, expires_at, \
             upstream, upstream_state, upstream_nonce, upstream_verifier) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&id)
        .bind(sha256(browser_token))
        .bind(serde_json::to_string(params).unwrap_or_default())
        .bind(now)
        .bind(now + PENDING_TTL_SECS)
        .bind(leg.map(|l| l.upstream))
        .bind(leg.map(|l| l.state))
        .bind(leg.map(|l| l.nonce))
        .bind(leg.map(|l| l.verifier)),
    )
    .await?;
    Ok(id)
}

/// Where a pending request sent the person: the upstream and the state, nonce and PKCE
/// verifier of the request to it.
#[derive(Clone, Copy, Debug)]
pub struct UpstreamLeg<'a> {
    pub upstream: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub verifier: &'a str,
}

/// Notes which upstream the person went to, with the state, nonce and PKCE verifier sent.
pub async fn send_upstream(db: &Db, id: &str, leg: &UpstreamLeg<'_>) -> Result<bool, StoreError> {
    Ok(db
        .write_one(
            sql("UPDATE pending_authorization SET upstream = $1, upstream_state = $2, upstream_nonce = $3, \
                 upstream_verifier = $4 WHERE id = $5")
            .bind(leg.upstream)
            .bind(leg.state)
            .bind(leg.nonce)
            .bind(leg.verifier)
            .bind(id),
        )
        .await?
        .changed
        == 1)
}

fn pending_from(row: &Row) -> Result<Pending, StoreError> {
    let request: String = row.get("request")?;
    Ok(Pending {
        id: row.get("id")?,
        params: serde_json::from_str(&request).map_err(|_| StoreError::Column {
            column: "request".into(),
            problem: "not the JSON of an authorization request",
        })?,
        upstream: row.get("upstream")?,
        upstream_nonce: row.get("upstream_nonce")?,
        upstream_verifier: row.get("upstream_verifier")?,
        browser_sha256: row.get("browser_sha256")?,
    })
}

/// The pending request `id`, while it has not expired.
pub async fn find(db: &Db, clock: &dyn Clock, id: &str) -> Result<Option<Pending>, StoreError> {
    db.fetch_optional(
        sql(
            "SELECT id, browser_sha256, request, upstream, upstream_nonce, upstream_verifier \
             FROM pending_authorization WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(clock.now()),
    )
    .await?
    .map(|r| pending_from(&r))
    .transpose()
}

/// Takes the pending request the upstream's `state` belongs to: once only, so a replayed
/// callback finds nothing.
pub async fn take_by_state(
    db: &Db,
    clock: &dyn Clock,
    upstream: &str,
    state: &str,
) -> Result<Option<Pending>, StoreError> {
    db.write_one(
        sql("DELETE FROM pending_authorization WHERE upstream_state = $1 AND upstream = $2 AND expires_at > $3 \
             RETURNING id, browser_sha256, request, upstream, upstream_nonce, upstream_verifier")
        .bind(state)
        .bind(upstream)
        .bind(clock.now()),
    )
    .await?
    .rows
    .first()
    .map(pending_from)
    .transpose()
}

/// Removes expired pending requests and the portal's expired sessions (run now and then by
/// any process). Returns how many rows went.
pub async fn sweep(db: &Db, clock: &dyn Clock) -> Result<u64, sqlx::Error> {
    let mut removed = 0;
    for table in ["pending_authorization", "portal_session"] {
        removed += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1"))
            .bind(clock.now())
            .execute(db.writer())
            .await?
            .rows_affected();
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::{AuthMethod, Client};
    use crate::loa::Loa;

    fn request(prompt: Prompt, max_age: Option<i64>, loa: Loa) -> AuthorizationRequest {
        AuthorizationRequest {
            client: Client {
                client_id: "c".into(),
                name: "c".into(),
                name_en: None,
                auth_method: AuthMethod::None,
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                backchannel_logout_uri: None,
                min_loa: Loa::Low,
                source: "test".into(),
                secret_sha256: None,
                id_token_alg: Default::default(),
                jwks: vec![],
            },
            redirect_uri: "http://localhost/cb".into(),
            scopes: vec!["openid".into()],
            state: None,
            nonce: None,
            code_challenge: "x".into(),
            max_age,
            prompt,
            required_loa: loa,
            ui_locale: None,
        }
    }

    fn session(loa: Loa, auth_time: i64) -> Session {
        Session {
            sid: "s".into(),
            person_id: "p".into(),
            upstream: "demo".into(),
            loa,
            amr: vec![],
            auth_time,
            claims: serde_json::json!({}),
            created_at: auth_time,
            expires_at: auth_time + 3600,
            user_agent: None,
        }
    }

    #[test]
    fn a_session_is_used_only_when_it_is_strong_and_fresh_enough() {
        let s = session(Loa::Substantial, 1000);
        let d = |p, m, l, s: Option<&Session>| decide(&request(p, m, l), s, 1100);
        assert_eq!(
            d(Prompt::Default, None, Loa::Low, Some(&s)),
            Decision::Issue
        );
        assert_eq!(
            d(Prompt::Default, None, Loa::Low, None),
            Decision::SignIn { force: false }
        );
        // Step-up: the session is below what is asked.
        assert_eq!(
            d(Prompt::Default, None, Loa::High, Some(&s)),
            Decision::SignIn { force: true }
        );
        // max_age: 100 s since sign-in.
        assert_eq!(
            d(Prompt::Default, Some(100), Loa::Low, Some(&s)),
            Decision::Issue
        );
        assert_eq!(
            d(Prompt::Default, Some(99), Loa::Low, Some(&s)),
            Decision::SignIn { force: true }
        );
        assert_eq!(
            d(Prompt::Login, None, Loa::Low, Some(&s)),
            Decision::SignIn { force: true }
        );
        assert_eq!(d(Prompt::None, None, Loa::Low, Some(&s)), Decision::Issue);
        assert_eq!(
            d(Prompt::None, None, Loa::Low, None),
            Decision::Refuse("login_required")
        );
        assert_eq!(
            d(Prompt::None, None, Loa::High, Some(&s)),
            Decision::Refuse("interaction_required")
        );
        assert_eq!(
            d(Prompt::None, Some(10), Loa::Low, Some(&s)),
            Decision::Refuse("login_required")
        );
    }
}
