//! Relying parties registered with the gateway: the portal itself, the region's other
//! services and third-party regional apps.

use crate::jose::{Alg, Jwk};
use crate::loa::Loa;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use urad_core::{Clock, Lang};
use urad_store::Db;

/// How a client proves who it is at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    /// A public client (a browser or mobile app): no secret, PKCE only.
    None,
}

impl std::str::FromStr for AuthMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<AuthMethod, String> {
        AuthMethod::parse(s).ok_or_else(|| {
            format!("`{s}` is not client_secret_basic, client_secret_post, private_key_jwt or none")
        })
    }
}

impl AuthMethod {
    pub fn code(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<AuthMethod> {
        [
            AuthMethod::ClientSecretBasic,
            AuthMethod::ClientSecretPost,
            AuthMethod::PrivateKeyJwt,
            AuthMethod::None,
        ]
        .into_iter()
        .find(|m| m.code() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    /// The name people read, in Czech.
    pub name: String,
    /// The name in English, where it was given.
    pub name_en: Option<String>,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// The lowest level of assurance this client accepts; below it, the person steps up.
    pub min_loa: Loa,
    /// Where the registration came from: `cli`, `content` …
    pub source: String,
    /// The algorithm of the client's ID tokens (`id_token_signed_response_alg`).
    pub id_token_alg: Alg,
    /// The client's public keys, for `private_key_jwt` (signing keys of ES256 or RS256 only).
    pub jwks: Vec<Jwk>,
    pub(crate) secret_sha256: Option<String>,
}

impl Client {
    /// The client's name in `lang` (the Czech name when no English one was given).
    pub fn name_in(&self, lang: Lang) -> &str {
        match (lang, &self.name_en) {
            (Lang::En, Some(en)) => en,
            _ => &self.name,
        }
    }

    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }

    /// Whether `secret` is this client's secret (compared in constant time).
    pub fn secret_matches(&self, secret: &str) -> bool {
        let Some(stored) = &self.secret_sha256 else {
            return false;
        };
        let given = hex_sha256(secret);
        given.len() == stored.len()
            && given
                .bytes()
                .zip(stored.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Redirect URIs match exactly, character for character (RFC 9700 §2.1).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

/// What `urad client add` or `content/clients.toml` registers.
#[derive(Clone, Debug)]
pub struct NewClient {
    pub client_id: String,
    /// The name people read, in Czech.
    pub name: String,
    /// The name in English; `None`: the Czech name serves both.
    pub name_en: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub public: bool,
    pub min_loa: Loa,
    pub source: String,
}

/// How a client authenticates and how its ID tokens are signed, where it differs from the
/// defaults (`client_secret_basic`, or `none` for a public client; ES256).
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// `None`: `client_secret_basic` for a confidential client, `none` for a public one.
    pub auth_method: Option<AuthMethod>,
    /// The client's JWK Set as JSON (`{"keys": [...]}`); required for `private_key_jwt`.
    pub jwks: Option<String>,
    pub id_token_alg: Alg,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("client authentication: {0}")]
    Auth(String),
    #[error("client id `{0}` is not valid: use 3–64 letters, digits, `-`, `_` or `.`")]
    Id(String),
    #[error("a client with id `{0}` already exists")]
    Exists(String),
    #[error("redirect URI `{uri}` is not allowed: {why}")]
    RedirectUri { uri: String, why: &'static str },
    #[error("a client needs at least one redirect URI")]
    NoRedirectUri,
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("stored client `{0}` is unreadable")]
    Stored(String),
}

fn hex_sha256(text: &str) -> String {
    urad_core::hex(&Sha256::digest(text.as_bytes()))
}

/// The shortest secret accepted from an operator (`secret_env` in `content/clients.toml`).
/// Secrets are stored as plain SHA-256, which is sound only for high-entropy secrets: 32
/// characters is what `openssl rand -base64 24` prints; the generated ones are 43.
pub const MIN_SECRET_CHARS: usize = 32;

/// Whether `id` is a valid client id: 3–64 letters, digits, `-`, `_` or `.`.
pub fn valid_id(id: &str) -> bool {
    (3..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A redirect URI must be absolute, without a fragment, and HTTPS unless it points to this
/// machine (native and development clients, RFC 8252 §7.3).
pub fn check_redirect_uri(uri: &str) -> Result<(), ClientError> {
    let bad = |why| {
        Err(ClientError::RedirectUri {
            uri: uri.to_owned(),
            why,
        })
    };
    if uri.contains('#') {
        return bad("it must not contain a fragment");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it must not contain spaces");
    }
    let loopback = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
        .iter()
        .any(|p| {
            uri.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
    let https = uri
        .strip_prefix("https://")
        .is_some_and(|host| !host.is_empty());
    if !https && !loopback {
        return bad("use https://, or http:// only for localhost");
    }
    Ok(())
}

/// Registers a client with the default authentication (`client_secret_basic`, or `none` for
/// a public client) and ES256 ID tokens. For a confidential client returns its secret, which
/// is stored only as a hash: show it once.
pub async fn add(
    db: &Db,
    clock: &dyn Clock,
    new: &NewClient,
) -> Result<Option<String>, ClientError> {
    add_with(db, clock, new, &ClientOptions::default()).await
}

/// Checks a registration: id, redirect URIs, authentication method and keys. Returns the
/// method and the JWKS to store (only its usable keys).
fn check(
    new: &NewClient,
    options: &ClientOptions,
) -> Result<(AuthMethod, Option<String>), ClientError> {
    if !valid_id(&new.client_id) {
        return Err(ClientError::Id(new.client_id.clone()));
    }
    if new.redirect_uris.is_empty() {
        return Err(ClientError::NoRedirectUri);
    }
    for uri in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        check_redirect_uri(uri)?;
    }
    if let Some(uri) = &new.backchannel_logout_uri {
        check_redirect_uri(uri)?;
    }
    let method = match (options.auth_method, new.public) {
        (None, true) | (Some(AuthMethod::None), _) => AuthMethod::None,
        (None, false) => AuthMethod::ClientSecretBasic,
        (Some(_), true) => {
            return Err(ClientError::Auth(
                "a public client has no credentials: leave the method out".into(),
            ))
        }
        (Some(m), false) => m,
    };
    let jwks = match (&options.jwks, method) {
        (Some(text), AuthMethod::PrivateKeyJwt) => Some(check_jwks(text)?),
        (None, AuthMethod::PrivateKeyJwt) => {
            return Err(ClientError::Auth(
                "private_key_jwt needs the client's public keys (a JWKS)".into(),
            ))
        }
        (Some(_), _) => {
            return Err(ClientError::Auth(
                "a JWKS is only used with private_key_jwt".into(),
            ))
        }
        (None, _) => None,
    };
    Ok((method, jwks))
}

/// Checks a client's JWK Set (`{"keys": [...]}`) for `private_key_jwt`: at least one ES256 or
/// RS256 signing key, RSA keys of at least [`crate::jose::RSA_MIN_BITS`]. Returns the set of
/// the usable keys as JSON: what verifies assertions is what was checked.
pub fn check_jwks(text: &str) -> Result<String, ClientError> {
    let keys = crate::jose::parse_jwks(text)
        .map_err(|_| ClientError::Auth("the JWKS is not a JSON Web Key Set".into()))?;
    if keys.is_empty() {
        return Err(ClientError::Auth(
            "the JWKS has no ES256 or RS256 signing key".into(),
        ));
    }
    if keys
        .iter()
        .any(|k| k.kty == "RSA" && crate::jose::rsa_public_key(k).is_err())
    {
        return Err(ClientError::Auth(format!(
            "an RSA key of the JWKS is unreadable or shorter than {} bits",
            crate::jose::RSA_MIN_BITS
        )));
    }
    Ok(serde_json::json!({ "keys": keys }).to_string())
}

/// Whether `method` authenticates with a shared secret.
fn uses_secret(method: AuthMethod) -> bool {
    matches!(
        method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
    )
}

/// Registers a client with the given authentication method, keys and ID-token algorithm.
/// Returns the secret of a `client_secret_basic` or `client_secret_post` client.
pub async fn add_with(
    db: &Db,
    clock: &dyn Clock,
    new: &NewClient,
    options: &ClientOptions,
) -> Result<Option<String>, ClientError> {
    let (method, jwks) = check(new, options)?;
    let secret = uses_secret(method).then(|| {
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        crate::jose::b64(&bytes)
    });
    let inserted = insert_client(
        db.writer(),
        new,
        options,
        method,
        secret.as_deref().map(hex_sha256),
        jwks,
        clock.now(),
        "DO NOTHING",
    )
    .await?;
    if inserted == 0 {
        return Err(ClientError::Exists(new.client_id.clone()));
    }
    Ok(secret)
}

/// What [`upsert`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upserted {
    Created,
    /// The settings that changed (`redirect_uris`, `secret` …); `source` when the client was
    /// registered from elsewhere before (`urad client add`) and is now taken over.
    Updated(Vec<&'static str>),
    Unchanged,
}

/// Registers a client, or brings the registered client with that id up to date: every
/// setting, the keys and the secret's hash, keeping its tokens. Unlike [`add_with`] the
/// secret of a `client_secret_basic` or `client_secret_post` client is given (by the
/// operator, at least [`MIN_SECRET_CHARS`] long), not generated. Run it in a write
/// transaction ([`Db::begin_write`]) to register several clients at once.
pub async fn upsert(
    conn: &mut AnyConnection,
    clock: &dyn Clock,
    new: &NewClient,
    options: &ClientOptions,
    secret: Option<&str>,
) -> Result<Upserted, ClientError> {
    let (method, jwks) = check(new, options)?;
    let secret_sha256 = match (uses_secret(method), secret) {
        (true, Some(s)) if s.chars().count() < MIN_SECRET_CHARS => {
            return Err(ClientError::Auth(format!(
                "the secret is shorter than {MIN_SECRET_CHARS} characters"
            )))
        }
        (true, Some(s)) => Some(hex_sha256(s)),
        (true, None) => {
            return Err(ClientError::Auth(format!(
                "{} needs the client's secret",
                method.code()
            )))
        }
        (false, Some(_)) => {
            return Err(ClientError::Auth(format!(
                "a client with {} has no secret",
                method.code()
            )))
        }
        (false, None) => None,
    };
    let before = find_with(&mut *conn, &new.client_id).await?;
    let changed = match &before {
        None => None,
        Some(old) => {
            let new_keys = match &jwks {
                Some(text) => crate::jose::parse_jwks(text)
                    .map_err(|_| ClientError::Auth("the JWKS is unreadable".into()))?,
                None => Vec::new(),
            };
            let fields = [
                ("source", old.source != new.source),
                ("name", old.name != new.name || old.name_en != new.name_en),
                ("auth_method", old.auth_method != method),
                ("secret", old.secret_sha256 != secret_sha256),
                ("jwks", old.jwks != new_keys),
                ("redirect_uris", old.redirect_uris != new.redirect_uris),
                (
                    "post_logout_redirect_uris",
                    old.post_logout_redirect_uris != new.post_logout_redirect_uris,
                ),
                (
                    "backchannel_logout_uri",
                    old.backchannel_logout_uri != new.backchannel_logout_uri,
                ),
                ("min_loa", old.min_loa != new.min_loa),
                ("id_token_alg", old.id_token_alg != options.id_token_alg),
            ];
            Some(
                fields
                    .into_iter()
                    .filter_map(|(name, differs)| differs.then_some(name))
                    .collect::<Vec<_>>(),
            )
        }
    };
    if changed.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Upserted::Unchanged);
    }
    insert_client(
        &mut *conn,
        new,
        options,
        method,
        secret_sha256,
        jwks,
        clock.now(),
        "DO UPDATE SET secret_sha256 = excluded.secret_sha256, \
         auth_method = excluded.auth_method, redirect_uris = excluded.redirect_uris, \
         post_logout_redirect_uris = excluded.post_logout_redirect_uris, \
         backchannel_logout_uri = excluded.backchannel_logout_uri, min_loa = excluded.min_loa, \
         jwks = excluded.jwks, name = excluded.name, source = excluded.source, \
         id_token_signed_response_alg = excluded.id_token_signed_response_alg, name_en = excluded.name_en",
    )
    .await?;
    Ok(match changed {
        None => Upserted::Created,
        Some(fields) => Upserted::Updated(fields),
    })
}

/// The ids of the clients registered from `source` (`content`, `cli` …), sorted.
pub async fn ids_from(conn: &mut AnyConnection, source: &str) -> Result<Vec<String>, ClientError> {
    Ok(
        sqlx::query_scalar(
            "SELECT client_id FROM oidc_client WHERE source = $1 ORDER BY client_id",
        )
        .bind(source)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// Removes a client with everything issued to it (codes and refresh tokens go with it).
pub async fn remove(conn: &mut AnyConnection, client_id: &str) -> Result<bool, ClientError> {
    let done = sqlx::query("DELETE FROM oidc_client WHERE client_id = $1")
        .bind(client_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Inserts a registration; `on_conflict` says what an existing one with the same id gets
/// (`DO NOTHING` or `DO UPDATE SET …`). Returns the rows written.
#[allow(clippy::too_many_arguments)]
async fn insert_client<'e, E>(
    executor: E,
    new: &NewClient,
    options: &ClientOptions,
    method: AuthMethod,
    secret_sha256: Option<String>,
    jwks: Option<String>,
    now: i64,
    on_conflict: &str,
) -> Result<u64, ClientError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "INSERT INTO oidc_client (client_id, secret_sha256, auth_method, redirect_uris, post_logout_redirect_uris, \
         backchannel_logout_uri, min_loa, jwks, name, source, created_at, id_token_signed_response_alg, name_en) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (client_id) {on_conflict}"
    );
    Ok(sqlx::query(&sql)
        .bind(&new.client_id)
        .bind(secret_sha256)
        .bind(method.code())
        .bind(serde_json::to_string(&new.redirect_uris).unwrap_or_default())
        .bind(serde_json::to_string(&new.post_logout_redirect_uris).unwrap_or_default())
        .bind(&new.backchannel_logout_uri)
        .bind(new.min_loa.code())
        .bind(jwks)
        .bind(&new.name)
        .bind(&new.source)
        .bind(now)
        .bind(options.id_token_alg.name())
        .bind(&new.name_en)
        .execute(executor)
        .await?
        .rows_affected())
}

/// The client with this id, if registered.
pub async fn find(db: &Db, client_id: &str) -> Result<Option<Client>, ClientError> {
    find_with(db.reader(), client_id).await
}

/// Registered clients as one process uses them: a client once read is kept for `ttl_secs`,
/// sparing the token endpoint a database round trip on every request (the busiest grant, a
/// refresh, then needs only its own write). A change to a client — a new secret, redirect
/// URI or removal, by `urad client add`, a restart with new `content/clients.toml` or
/// another process — takes effect within that time. Unknown ids are never kept, so a client
/// registered a moment ago is found at once.
pub struct ClientCache {
    ttl_secs: i64,
    found: std::sync::RwLock<std::collections::HashMap<String, (i64, std::sync::Arc<Client>)>>,
}

impl ClientCache {
    pub fn new(ttl_secs: u64) -> ClientCache {
        ClientCache {
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
            found: Default::default(),
        }
    }

    /// The client `client_id`, from memory while fresh, else from the database.
    pub async fn find(
        &self,
        db: &Db,
        clock: &dyn Clock,
        client_id: &str,
    ) -> Result<Option<std::sync::Arc<Client>>, ClientError> {
        let now = clock.now();
        if let Some((read_at, client)) = self.found.read().expect("not poisoned").get(client_id) {
            if now - read_at < self.ttl_secs && now >= *read_at {
                return Ok(Some(client.clone()));
            }
        }
        let Some(client) = find(db, client_id).await? else {
            self.found.write().expect("not poisoned").remove(client_id);
            return Ok(None);
        };
        let client = std::sync::Arc::new(client);
        self.found
            .write()
            .expect("not poisoned")
            .insert(client_id.to_owned(), (now, client.clone()));
        Ok(Some(client))
    }
}

async fn find_with<'e, E>(executor: E, client_id: &str) -> Result<Option<Client>, ClientError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT client_id, secret_sha256, auth_method, redirect_uris, post_logout_redirect_uris, \
         backchannel_logout_uri, min_loa, name, name_en, source, jwks, id_token_signed_response_alg \
         FROM oidc_client WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(executor)
    .await?;
    row.map(|row| client_from_row(&row, client_id)).transpose()
}

fn client_from_row(row: &AnyRow, client_id: &str) -> Result<Client, ClientError> {
    let stored = || ClientError::Stored(client_id.to_owned());
    let list = |col: &str| -> Result<Vec<String>, ClientError> {
        let text: String = row.try_get(col)?;
        serde_json::from_str(&text).map_err(|_| stored())
    };
    Ok(Client {
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        name_en: row.try_get("name_en")?,
        auth_method: AuthMethod::parse(&row.try_get::<String, _>("auth_method")?)
            .ok_or_else(stored)?,
        redirect_uris: list("redirect_uris")?,
        post_logout_redirect_uris: list("post_logout_redirect_uris")?,
        backchannel_logout_uri: row.try_get("backchannel_logout_uri")?,
        min_loa: row
            .try_get::<String, _>("min_loa")?
            .parse()
            .map_err(|_| stored())?,
        source: row.try_get("source")?,
        id_token_alg: Alg::parse(&row.try_get::<String, _>("id_token_signed_response_alg")?)
            .ok_or_else(stored)?,
        jwks: match row.try_get::<Option<String>, _>("jwks")? {
            Some(text) => crate::jose::parse_jwks(&text).map_err(|_| stored())?,
            None => Vec::new(),
        },
        secret_sha256: row.try_get("secret_sha256")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_https_or_loopback_without_fragments() {
        assert!(check_redirect_uri("https://app.example.cz/callback").is_ok());
        assert!(check_redirect_uri("http://localhost:3000/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1/cb").is_ok());
        assert!(check_redirect_uri("http://example.cz/cb").is_err());
        assert!(check_redirect_uri("http://localhost.evil.cz/cb").is_err());
        assert!(check_redirect_uri("https://app.example.cz/cb#x").is_err());
        assert!(check_redirect_uri("https://").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
    }

    #[test]
    fn ids_are_checked() {
        assert!(valid_id("urad-portal"));
        assert!(valid_id("app.example_1"));
        assert!(!valid_id("a"));
        assert!(!valid_id("bad id"));
        assert!(!valid_id("ünicode"));
    }
}
