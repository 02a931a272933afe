//! Token-signing keys, kept in the database so every process signs with the same key, and
//! rotated with overlap: the next key is published in the JWKS a whole rotation before it
//! signs anything, and a retired key stays published until every token it signed has expired.
//! So relying parties that cache the JWKS never meet a token whose key they have not seen.

use crate::jose::{EcKey, Jwk};
use sqlx::Row;
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

/// Makes sure an active and a next key exist (idempotent; safe from several processes: the
/// `slot` column is unique, so a second process's insert is skipped).
pub async fn ensure(db: &Db, clock: &dyn Clock) -> Result<(), KeyError> {
    for slot in ["active", "next"] {
        let exists = sqlx::query("SELECT kid FROM signing_key WHERE slot = $1")
            .bind(slot)
            .fetch_optional(db.pool())
            .await?
            .is_some();
        if !exists {
            insert(db.pool(), slot, clock.now()).await?;
        }
    }
    Ok(())
}

async fn insert<'e, E>(executor: E, slot: &str, now: i64) -> Result<(), KeyError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let key = EcKey::generate();
    let jwk =
        serde_json::to_string(&key.public_jwk()).map_err(|e| KeyError::Stored(e.to_string()))?;
    let private = key.to_stored();
    let activated = (slot == "active").then_some(now);
    sqlx::query(
        "INSERT INTO signing_key (kid, alg, slot, private_key, public_jwk, created_at, activated_at) \
         VALUES ($1, 'ES256', $2, $3, $4, $5, $6) ON CONFLICT (slot) DO NOTHING",
    )
    .bind(&key.kid)
    .bind(slot)
    .bind(private)
    .bind(jwk)
    .bind(now)
    .bind(activated)
    .execute(executor)
    .await?;
    Ok(())
}

/// Retires the active key, activates the next one and publishes a new next key; drops keys
/// whose publication has ended. One transaction: readers see before or after, never between.
pub async fn rotate(db: &Db, clock: &dyn Clock) -> Result<(), KeyError> {
    let now = clock.now();
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE signing_key SET slot = NULL, retired_at = $1, expires_at = $2 WHERE slot = 'active'")
        .bind(now)
        .bind(now + RETIRED_KEY_PUBLISHED_SECS)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE signing_key SET slot = 'active', activated_at = $1 WHERE slot = 'next'")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    insert(&mut *tx, "next", now).await?;
    sqlx::query("DELETE FROM signing_key WHERE slot IS NULL AND expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // If there was no next key (a fresh database), the active slot is still empty.
    ensure(db, clock).await
}

/// Rotates when the active key is older than [`ROTATE_AFTER_SECS`]. Returns whether it did.
pub async fn rotate_if_due(db: &Db, clock: &dyn Clock) -> Result<bool, KeyError> {
    let row = sqlx::query("SELECT activated_at FROM signing_key WHERE slot = 'active'")
        .fetch_optional(db.pool())
        .await?;
    let activated: Option<i64> = row.map(|r| r.try_get("activated_at")).transpose()?;
    match activated {
        Some(at) if clock.now() - at >= ROTATE_AFTER_SECS => {
            rotate(db, clock).await?;
            Ok(true)
        }
        Some(_) => Ok(false),
        None => {
            ensure(db, clock).await?;
            Ok(false)
        }
    }
}

/// The key that signs now.
pub async fn active(db: &Db) -> Result<EcKey, KeyError> {
    let row = sqlx::query("SELECT kid, private_key FROM signing_key WHERE slot = 'active'")
        .fetch_optional(db.pool())
        .await?
        .ok_or(KeyError::NoActiveKey)?;
    let kid: String = row.try_get("kid")?;
    let private: String = row.try_get("private_key")?;
    EcKey::from_stored(&kid, &private).map_err(|e| KeyError::Stored(e.to_string()))
}

/// Every published public key: active, next and retired ones not yet expired.
pub async fn published(db: &Db, clock: &dyn Clock) -> Result<Vec<Jwk>, KeyError> {
    let rows = sqlx::query(
        "SELECT public_jwk FROM signing_key WHERE slot IS NOT NULL OR expires_at >= $1 ORDER BY created_at, kid",
    )
    .bind(clock.now())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("public_jwk")?;
            serde_json::from_str(&text).map_err(|e| KeyError::Stored(e.to_string()))
        })
        .collect()
}
