//! Access tokens this process has already verified. A client uses one access token for
//! several requests in a row (a draft, its attachments, the submission: four requests in the
//! grant-call surge), and checking its ES256 signature and reading its session are most of
//! what an API request costs. The cache keeps, by SHA-256 of the token, the verified claims
//! and the session they name.
//!
//! What stays exact: the token's expiry is checked on every request, and so is the session's
//! own expiry. A session ended in this process (sign-out, "end this session") is forgotten at
//! once; one ended by another process sharing the database is seen when the session is read
//! again, at most [`SESSION_RECHECK`] later.

use quick_cache::sync::Cache;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};
use urad_identity::sessions::Session;

/// How long a cached session is trusted before it is read again from the database.
pub const SESSION_RECHECK: Duration = Duration::from_secs(2);
/// Tokens kept (a few KB each): enough for every applicant of a surge within seconds.
const CAPACITY: usize = 10_000;

/// A verified access token: its claims and its session.
#[derive(Clone)]
pub(crate) struct Verified {
    pub claims: Arc<Value>,
    pub session: Arc<Session>,
    /// When the session was read from the database.
    session_read: Instant,
}

pub(crate) struct BearerCache(Cache<[u8; 32], Verified>);

impl BearerCache {
    pub fn new() -> BearerCache {
        BearerCache(Cache::new(CAPACITY))
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The token's claims when it was verified before and has not expired at `now` (Unix
    /// seconds), and whether its session must be read again first.
    pub fn get(&self, token: &str, now: i64) -> Option<(Verified, bool)> {
        let v = self.0.get(&Self::key(token))?;
        let unexpired =
            v.claims["exp"].as_i64().is_some_and(|exp| exp > now) && v.session.expires_at > now;
        if !unexpired {
            self.0.remove(&Self::key(token));
            return None;
        }
        let stale = v.session_read.elapsed() >= SESSION_RECHECK;
        Some((v, stale))
    }

    /// Keeps a token whose signature and claims verified, with its session as just read.
    pub fn put(&self, token: &str, claims: Arc<Value>, session: Session) -> Verified {
        let v = Verified {
            claims,
            session: Arc::new(session),
            session_read: Instant::now(),
        };
        self.0.insert(Self::key(token), v.clone());
        v
    }

    /// Forgets a token (its session ended or was not found).
    pub fn forget(&self, token: &str) {
        self.0.remove(&Self::key(token));
    }

    /// Forgets every token of a session that was just ended in this process.
    pub fn forget_session(&self, sid: &str) {
        self.0.retain(|_, v| v.session.sid != sid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(sid: &str, expires_at: i64) -> Session {
        Session {
            sid: sid.into(),
            person_id: "p-1".into(),
            upstream: "demo".into(),
            loa: urad_identity::Loa::Substantial,
            amr: Vec::new(),
            auth_time: 0,
            claims: json!({}),
            created_at: 0,
            expires_at,
            user_agent: None,
        }
    }

    #[test]
    fn a_token_is_kept_until_it_or_its_session_expires() {
        let cache = BearerCache::new();
        cache.put("t1", Arc::new(json!({"exp": 100})), session("s1", 200));
        cache.put("t2", Arc::new(json!({"exp": 300})), session("s2", 150));
        let (hit, stale) = cache.get("t1", 99).expect("kept");
        assert_eq!(hit.session.sid, "s1");
        assert!(!stale, "just read");
        assert!(cache.get("t1", 100).is_none(), "the token expired");
        assert!(cache.get("t1", 99).is_none(), "and is gone");
        assert!(cache.get("t2", 149).is_some());
        assert!(cache.get("t2", 150).is_none(), "the session expired");
        assert!(cache.get("other", 0).is_none());
    }

    #[test]
    fn an_ended_session_forgets_its_tokens_only() {
        let cache = BearerCache::new();
        cache.put("a", Arc::new(json!({"exp": 100})), session("s1", 200));
        cache.put("b", Arc::new(json!({"exp": 100})), session("s1", 200));
        cache.put("c", Arc::new(json!({"exp": 100})), session("s2", 200));
        cache.forget_session("s1");
        assert!(cache.get("a", 0).is_none());
        assert!(cache.get("b", 0).is_none());
        assert!(cache.get("c", 0).is_some());
        cache.forget("c");
        assert!(cache.get("c", 0).is_none());
    }
}
