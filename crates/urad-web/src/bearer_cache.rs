//! Access tokens this process has already verified. A client uses one access token for
//! several requests in a row (a draft, its attachments, the submission: four requests in the
//! grant-call surge), and checking its ES256 signature was a quarter of what an API request
//! cost. The cache keeps, by SHA-256 of the token, the claims that verified: the same token
//! always verifies the same way, so nothing here can go stale except the token's expiry,
//! which is checked on every use. The session the token names is still read on every request,
//! so that a sign-out, in any process, takes effect at once.

use quick_cache::sync::Cache;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Tokens kept (a few KB each): enough for every applicant of a surge within seconds.
const CAPACITY: usize = 10_000;

pub(crate) struct BearerCache(Cache<[u8; 32], Arc<Value>>);

impl BearerCache {
    pub fn new() -> BearerCache {
        BearerCache(Cache::new(CAPACITY))
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The claims of a token verified before that has not expired at `now` (Unix seconds).
    pub fn get(&self, token: &str, now: i64) -> Option<Arc<Value>> {
        let key = Self::key(token);
        let claims = self.0.get(&key)?;
        if claims["exp"].as_i64().is_some_and(|exp| exp > now) {
            Some(claims)
        } else {
            self.0.remove(&key);
            None
        }
    }

    /// Keeps the claims of a token whose signature and claims verified.
    pub fn put(&self, token: &str, claims: Arc<Value>) {
        self.0.insert(Self::key(token), claims);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_token_is_kept_until_it_expires() {
        let cache = BearerCache::new();
        cache.put("t1", Arc::new(json!({"exp": 100, "sid": "s1"})));
        assert_eq!(cache.get("t1", 99).unwrap()["sid"], "s1");
        assert!(cache.get("t1", 100).is_none(), "the token expired");
        assert!(cache.get("t1", 99).is_none(), "and is gone");
        assert!(
            cache.get("other", 0).is_none(),
            "an unknown token is not kept"
        );
    }
}
