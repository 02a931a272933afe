//! Token-signing keys, kept in the database so every process signs with the same key, and
//! rotated with overlap: the next key is published in the JWKS a whole rotation before it
//! signs anything, and a retired key stays published until every token it signed has expired.
//! So relying parties that cache the JWKS never meet a token whose key they have not seen.
//!
//! There is one such set per algorithm: ES256 signs access tokens and most ID tokens, RS256
//! signs the ID tokens of clients registered with `id_token_signed_response_alg` RS256. Both
//! sets rotate together.

use crate::jose::{Alg, AnyKey, EcKey, Jwk, JwsSigner, RsaKey};
use sqlx::Row;
use std::sync::Arc;
use urad_core::Clock;
use urad_store::Db;

/// How long a retired key stays published: longer than any token it can have signed lives.
pub const RETIRED_KEY_PUBLISHED_SECS: i64 = 2 * 24 * 3600;
/// The active key is rotated automatically once it is this old.
pub const ROTATE_AFTER_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("a stored key is unreadable: {0}")]
    Stored(String),
    #[error("there is no active signing key")]
    NoActiveKey,
}

/// Makes sure an active and a next key exist for every algorithm (idempotent; safe from
/// several processes: `(alg, slot)` is unique, so a second process's insert is skipped).
pub async fn ensure(db: &Db, clock: &dyn Clock) -> Result<(), KeyError> {
    for alg in Alg::ALL {
        for slot in ["active", "next"] {
            let exists = sqlx::query("SELECT kid FROM signing_key WHERE alg = $1 AND slot = $2")
                .bind(alg.name())
                .bind(slot)
                .fetch_optional(db.reader())
                .await?
                .is_some();
            if !exists {
                insert(db.writer(), &generate(alg)?, slot, clock.now()).await?;
            }
        }
    }
    Ok(())
}

/// A new key of `alg`, before any transaction: an RSA key takes a while to generate.
fn generate(alg: Alg) -> Result<AnyKey, KeyError> {
    Ok(match alg {
        Alg::Es256 => AnyKey::Ec(EcKey::generate()),
        Alg::Rs256 => AnyKey::Rsa(Box::new(
            RsaKey::generate().map_err(|e| KeyError::Stored(e.to_string()))?,
        )),
    })
}

async fn insert<'e, E>(executor: E, key: &AnyKey, slot: &str, now: i64) -> Result<(), KeyError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let jwk =
        serde_json::to_string(&key.public_jwk()).map_err(|e| KeyError::Stored(e.to_string()))?;
    let private = match key {
        AnyKey::Ec(k) => k.to_stored(),
        AnyKey::Rsa(k) => k.to_stored().map_err(|e| KeyError::Stored(e.to_string()))?,
    };
    let activated = (slot == "active").then_some(now);
    sqlx::query(
        "INSERT INTO signing_key (kid, alg, slot, private_key, public_jwk, created_at, activated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (alg, slot) DO NOTHING",
    )
    .bind(key.kid())
    .bind(key.alg().name())
    .bind(slot)
    .bind(private)
    .bind(jwk)
    .bind(now)
    .bind(activated)
    .execute(executor)
    .await?;
    Ok(())
}

/// For every algorithm: retires the active key, activates the next one and publishes a new
/// next key; drops keys whose publication has ended. One transaction: readers see before or
/// after, never between.
pub async fn rotate(db: &Db, clock: &dyn Clock) -> Result<(), KeyError> {
    let now = clock.now();
    let fresh = Alg::ALL
        .into_iter()
        .map(generate)
        .collect::<Result<Vec<_>, _>>()?;
    let mut tx = db.begin_write().await?;
    for key in &fresh {
        let alg = key.alg().name();
        sqlx::query(
            "UPDATE signing_key SET slot = NULL, retired_at = $1, expires_at = $2 WHERE alg = $3 AND slot = 'active'",
        )
        .bind(now)
        .bind(now + RETIRED_KEY_PUBLISHED_SECS)
        .bind(alg)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE signing_key SET slot = 'active', activated_at = $1 WHERE alg = $2 AND slot = 'next'",
        )
        .bind(now)
        .bind(alg)
        .execute(&mut *tx)
        .await?;
        insert(&mut *tx, key, "next", now).await?;
    }
    sqlx::query("DELETE FROM signing_key WHERE slot IS NULL AND expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // If there was no next key (a fresh database), the active slot is still empty.
    ensure(db, clock).await
}

/// Rotates when the oldest active key is older than [`ROTATE_AFTER_SECS`] (all algorithms
/// rotate together). Returns whether it did.
pub async fn rotate_if_due(db: &Db, clock: &dyn Clock) -> Result<bool, KeyError> {
    let rows = sqlx::query("SELECT activated_at FROM signing_key WHERE slot = 'active'")
        .fetch_all(db.reader())
        .await?;
    let activated = rows
        .iter()
        .map(|r| r.try_get::<Option<i64>, _>("activated_at"))
        .collect::<Result<Vec<_>, _>>()?;
    if activated.len() < Alg::ALL.len() {
        // A fresh database, or one from before the RS256 key set.
        ensure(db, clock).await?;
    }
    match activated.into_iter().flatten().min() {
        Some(at) if clock.now() - at >= ROTATE_AFTER_SECS => {
            rotate(db, clock).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The ES256 key that signs now: access tokens, and ID tokens of most clients.
pub async fn active(db: &Db) -> Result<EcKey, KeyError> {
    match active_for(db, Alg::Es256).await? {
        AnyKey::Ec(key) => Ok(key),
        AnyKey::Rsa(_) => Err(KeyError::NoActiveKey),
    }
}

/// The key of `alg` that signs now.
pub async fn active_for(db: &Db, alg: Alg) -> Result<AnyKey, KeyError> {
    let row =
        sqlx::query("SELECT kid, private_key FROM signing_key WHERE alg = $1 AND slot = 'active'")
            .bind(alg.name())
            .fetch_optional(db.reader())
            .await?
            .ok_or(KeyError::NoActiveKey)?;
    let kid: String = row.try_get("kid")?;
    let private: String = row.try_get("private_key")?;
    let stored = |e: crate::jose::JoseError| KeyError::Stored(e.to_string());
    Ok(match alg {
        Alg::Es256 => AnyKey::Ec(EcKey::from_stored(&kid, &private).map_err(stored)?),
        Alg::Rs256 => AnyKey::Rsa(Box::new(
            RsaKey::from_stored(&kid, &private).map_err(stored)?,
        )),
    })
}

/// Every published public key: active, next and retired ones not yet expired.
pub async fn published(db: &Db, clock: &dyn Clock) -> Result<Vec<Jwk>, KeyError> {
    let rows = sqlx::query(
        "SELECT public_jwk FROM signing_key WHERE slot IS NOT NULL OR expires_at >= $1 ORDER BY created_at, kid",
    )
    .bind(clock.now())
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("public_jwk")?;
            serde_json::from_str(&text).map_err(|e| KeyError::Stored(e.to_string()))
        })
        .collect()
}

/// The signing keys as one process uses them: read from the database and parsed once, then
/// kept for `ttl_secs`. Reading and parsing a key for every token cost more than signing it
/// (an RSA private key especially). Keeping them is safe because keys rotate with overlap: a key
/// is published a whole rotation before it signs and stays published for days after, so a
/// process that signs with the previous key, or serves the previous JWKS, for a minute after
/// another process rotated issues nothing a relying party cannot verify.
pub struct Keyring {
    ttl_secs: i64,
    current: std::sync::RwLock<Option<Arc<KeySet>>>,
}

/// The keys read at one moment: the active key of every algorithm and the published ones.
#[derive(Debug)]
pub struct KeySet {
    read_at: i64,
    es256: EcKey,
    rs256: AnyKey,
    published: Vec<Jwk>,
}

impl KeySet {
    /// The ES256 key that signs access tokens and most ID tokens.
    pub fn es256(&self) -> &EcKey {
        &self.es256
    }

    /// The active key of `alg`.
    pub fn active(&self, alg: Alg) -> &dyn JwsSigner {
        match alg {
            Alg::Es256 => &self.es256,
            Alg::Rs256 => &self.rs256,
        }
    }

    /// Every published public key (the JWKS).
    pub fn published(&self) -> &[Jwk] {
        &self.published
    }
}

impl Keyring {
    pub fn new(ttl_secs: u64) -> Keyring {
        Keyring {
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
            current: std::sync::RwLock::new(None),
        }
    }

    /// The keys to sign and verify with now: the kept ones while they are fresh, else read
    /// again. Two requests that find them stale at once both read; the later one is kept.
    pub async fn get(&self, db: &Db, clock: &dyn Clock) -> Result<Arc<KeySet>, KeyError> {
        let now = clock.now();
        if let Some(set) = self.current.read().expect("not poisoned").as_ref() {
            if now - set.read_at < self.ttl_secs && now >= set.read_at {
                return Ok(set.clone());
            }
        }
        let es256 = active(db).await?;
        let rs256 = active_for(db, Alg::Rs256).await?;
        let set = Arc::new(KeySet {
            read_at: now,
            es256,
            rs256,
            published: published(db, clock).await?,
        });
        *self.current.write().expect("not poisoned") = Some(set.clone());
        Ok(set)
    }

    /// Forgets the kept keys, so the next [`Keyring::get`] reads them: after this process
    /// rotated them itself.
    pub fn forget(&self) {
        *self.current.write().expect("not poisoned") = None;
    }
}
