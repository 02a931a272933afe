//! Upstream identity providers: the gateway is an OpenID Connect client of each (NIA, Bank iD,
//! the built-in demo provider, any other OIDC provider). One generic implementation: every
//! provider's quirks are configuration — a discovery document at a non-standard path, the
//! client authentication method, scopes, how the level of assurance is asked for (`acr_values`
//! or scopes such as NIA's `loahigh`), which `acr` values mean which eIDAS level, and where in
//! the ID token or userinfo each claim is (Bank iD's `verified_claims`).

use crate::jose::{self, Jwk};
use crate::loa::Loa;
use crate::sessions::UpstreamLogin;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;

/// How the gateway authenticates at an upstream's token endpoint.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    ClientSecretBasic,
    /// NIA accepts only this.
    ClientSecretPost,
}

/// How the gateway asks an upstream for a level of assurance.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LoaRequest {
    /// `acr_values` with the upstream's value for the level (the eIDAS URI unless mapped).
    #[default]
    AcrValues,
    /// A scope per level (`loa_scopes`), as NIA does.
    Scopes,
    /// The upstream has one level; ask nothing.
    None,
}

/// A label in both languages.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub cs: String,
    pub en: String,
}

/// One upstream provider as configured (`--upstreams FILE`, a TOML list of `[[upstream]]`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Lower-case letters, digits and `-`; the callback is `{issuer}/oidc/callback/{name}`.
    pub name: String,
    pub label: Label,
    pub issuer: String,
    /// Default `{issuer}/.well-known/openid-configuration`; NIA's is elsewhere.
    pub discovery_url: Option<String>,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The environment variable holding the secret (keeps secrets out of files).
    pub client_secret_env: Option<String>,
    #[serde(default)]
    pub client_auth: ClientAuth,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub loa_request: LoaRequest,
    #[serde(default)]
    pub loa_scopes: BTreeMap<Loa, String>,
    /// Upstream `acr` values and the level each means; the eIDAS URIs are understood anyway.
    #[serde(default)]
    pub acr: BTreeMap<String, Loa>,
    /// The level of an upstream that asserts no `acr` at all.
    pub fixed_loa: Option<Loa>,
    /// The highest level this upstream can assert (the sign-in page offers only upstreams
    /// that can reach what is asked).
    #[serde(default = "high")]
    pub max_loa: Loa,
    /// Our claim name → where it is in the upstream's claims (`a.b.c` walks into objects).
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// A claim with an identifier the upstream has verified and every upstream shares
    /// (links one person's logins); never a name.
    pub link_claim: Option<String>,
    /// Ask the upstream's userinfo endpoint for claims too.
    #[serde(default)]
    pub userinfo: bool,
    /// Sign out at the upstream when the person signs out here.
    #[serde(default = "yes")]
    pub end_session: bool,
    /// Shown as a demonstration on every page (the built-in demo provider).
    #[serde(default)]
    pub demo: bool,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into()]
}
fn high() -> Loa {
    Loa::High
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamsFile {
    #[serde(default)]
    upstream: Vec<UpstreamConfig>,
}

/// Reads and checks an upstreams file; the errors name the upstream and what is wrong.
pub fn parse_config(text: &str) -> Result<Vec<UpstreamConfig>, String> {
    let file: UpstreamsFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut seen = std::collections::HashSet::new();
    for u in &file.upstream {
        let valid_name = !u.name.is_empty()
            && u.name.len() <= 40
            && u.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(format!(
                "upstream `{}`: the name may have only a-z, 0-9 and -",
                u.name
            ));
        }
        if !seen.insert(u.name.clone()) {
            return Err(format!("upstream `{}` is configured twice", u.name));
        }
        if u.loa_request == LoaRequest::Scopes && u.loa_scopes.is_empty() {
            return Err(format!(
                "upstream `{}`: loa_request = \"scopes\" needs loa_scopes",
                u.name
            ));
        }
        if !u.scopes.iter().any(|s| s == "openid") {
            return Err(format!("upstream `{}`: scopes must include openid", u.name));
        }
        if u.client_secret.is_none() && u.client_secret_env.is_none() {
            return Err(format!(
                "upstream `{}`: set client_secret or client_secret_env",
                u.name
            ));
        }
    }
    Ok(file.upstream)
}

/// Why a login at an upstream failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream cannot be reached: {0}")]
    Unreachable(String),
    #[error("the upstream answered with an error: {0}")]
    Refused(String),
    #[error("the upstream's ID token is not valid: {0}")]
    InvalidToken(String),
    #[error("the upstream is misconfigured: {0}")]
    Config(String),
}

/// The parts of an upstream's discovery document the gateway uses.
#[derive(Clone, Debug, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
}

struct Discovered {
    metadata: Metadata,
    keys: Vec<Jwk>,
    keys_fetched: std::time::Instant,
}

/// An upstream at run time: its configuration and what was discovered about it (cached; the
/// keys are fetched again when a token names an unknown key, at most once a minute).
pub struct Upstream {
    pub config: UpstreamConfig,
    secret: String,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

/// What the gateway sends upstream for one sign-in.
pub struct AuthorizationStart<'a> {
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub code_challenge: &'a str,
    pub loa: Loa,
    /// Ask the person to authenticate again (step-up, `prompt=login`, `max_age` passed).
    pub force_login: bool,
    pub ui_locale: Option<&'a str>,
}

fn walk<'v>(claims: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(claims, |v, part| v.get(part))
}

impl Upstream {
    pub fn new(config: UpstreamConfig, http: reqwest::Client) -> Result<Upstream, String> {
        let secret = match (&config.client_secret, &config.client_secret_env) {
            (Some(s), _) => s.clone(),
            (None, Some(var)) => std::env::var(var).map_err(|_| {
                format!(
                    "upstream `{}`: the environment variable {var} is not set",
                    config.name
                )
            })?,
            (None, None) => String::new(),
        };
        Ok(Upstream {
            config,
            secret,
            http,
            discovered: RwLock::new(None),
        })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    async fn get_json(&self, url: &str) -> Result<Value, UpstreamError> {
        let response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| UpstreamError::Unreachable(format!("{url}: {e}")))?;
        if !response.status().is_success() {
            return Err(UpstreamError::Unreachable(format!(
                "{url}: HTTP {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| UpstreamError::Unreachable(format!("{url}: {e}")))
    }

    async fn fetch_keys(&self, jwks_uri: &str) -> Result<Vec<Jwk>, UpstreamError> {
        let jwks = self.get_json(jwks_uri).await?;
        // Keys of kinds this gateway does not verify with are skipped, not fatal.
        Ok(jwks["keys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn discover(&self, refresh_keys: bool) -> Result<Arc<Discovered>, UpstreamError> {
        if let Some(d) = self.discovered.read().await.as_ref() {
            let stale = d.keys_fetched.elapsed() > Duration::from_secs(60);
            if !(refresh_keys && stale) {
                return Ok(d.clone());
            }
        }
        let mut slot = self.discovered.write().await;
        let metadata = match slot.as_ref() {
            Some(d) => d.metadata.clone(),
            None => {
                let url = self.config.discovery_url.clone().unwrap_or_else(|| {
                    format!(
                        "{}/.well-known/openid-configuration",
                        self.config.issuer.trim_end_matches('/')
                    )
                });
                let doc = self.get_json(&url).await?;
                let metadata: Metadata = serde_json::from_value(doc)
                    .map_err(|e| UpstreamError::Config(format!("discovery document: {e}")))?;
                if metadata.issuer != self.config.issuer {
                    return Err(UpstreamError::Config(format!(
                        "discovery names issuer {} but {} is configured",
                        metadata.issuer, self.config.issuer
                    )));
                }
                metadata
            }
        };
        let keys = self.fetch_keys(&metadata.jwks_uri).await?;
        let d = Arc::new(Discovered {
            metadata,
            keys,
            keys_fetched: std::time::Instant::now(),
        });
        *slot = Some(d.clone());
        Ok(d)
    }

    /// The value sent to ask for `loa` with `acr_values`.
    fn acr_value(&self, loa: Loa) -> String {
        self.config
            .acr
            .iter()
            .find(|(_, l)| **l == loa)
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| loa.uri().to_owned())
    }

    /// The level an asserted `acr` means; `None` for a value nobody configured.
    pub fn loa_of(&self, acr: Option<&str>) -> Option<Loa> {
        match acr {
            Some(a) => self
                .config
                .acr
                .get(a)
                .copied()
                .or_else(|| Loa::from_uri(a))
                .or(self.config.fixed_loa),
            None => self.config.fixed_loa,
        }
    }

    /// Where to send the browser to sign in at this upstream.
    pub async fn authorization_url(
        &self,
        start: &AuthorizationStart<'_>,
    ) -> Result<String, UpstreamError> {
        let d = self.discover(false).await?;
        let mut scopes = self.config.scopes.clone();
        let mut query: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", self.config.client_id.clone()),
            ("redirect_uri", start.redirect_uri.into()),
            ("state", start.state.into()),
            ("nonce", start.nonce.into()),
            ("code_challenge", start.code_challenge.into()),
            ("code_challenge_method", "S256".into()),
        ];
        match self.config.loa_request {
            LoaRequest::AcrValues => query.push(("acr_values", self.acr_value(start.loa))),
            LoaRequest::Scopes => {
                if let Some(s) = self.config.loa_scopes.get(&start.loa) {
                    scopes.push(s.clone());
                }
            }
            LoaRequest::None => {}
        }
        query.push(("scope", scopes.join(" ")));
        if start.force_login {
            query.push(("prompt", "login".into()));
            query.push(("max_age", "0".into()));
        }
        if let Some(l) = start.ui_locale {
            query.push(("ui_locales", l.into()));
        }
        let encoded = serde_urlencoded::to_string(&query)
            .map_err(|e| UpstreamError::Config(e.to_string()))?;
        let endpoint = &d.metadata.authorization_endpoint;
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{endpoint}{separator}{encoded}"))
    }

    /// Redeems the upstream's code, verifies its ID token and maps it to an [`UpstreamLogin`].
    pub async fn complete(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        nonce: &str,
        now: i64,
    ) -> Result<UpstreamLogin, UpstreamError> {
        let d = self.discover(false).await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        let mut request = self
            .http
            .post(&d.metadata.token_endpoint)
            .timeout(Duration::from_secs(10));
        match self.config.client_auth {
            ClientAuth::ClientSecretBasic => {
                // RFC 6749 §2.3.1: the parts are form-encoded before Basic encoding.
                let enc = |s: &str| {
                    serde_urlencoded::to_string([("", s)]).unwrap_or_default()[1..].to_owned()
                };
                request = request.basic_auth(enc(&self.config.client_id), Some(enc(&self.secret)));
            }
            ClientAuth::ClientSecretPost => {
                form.push(("client_id", &self.config.client_id));
                form.push(("client_secret", &self.secret));
            }
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| UpstreamError::Refused(format!("HTTP {status}: {e}")))?;
        if !status.is_success() {
            return Err(UpstreamError::Refused(format!(
                "HTTP {status}: {}",
                body["error"].as_str().unwrap_or("no error code")
            )));
        }
        let id_token = body["id_token"]
            .as_str()
            .ok_or_else(|| UpstreamError::Refused("no id_token in the token response".into()))?;
        let claims = self.verify_id_token(&d, id_token, nonce, now).await?;
        let mut all = claims.clone();
        if self.config.userinfo {
            if let (Some(endpoint), Some(access)) = (
                d.metadata.userinfo_endpoint.as_deref(),
                body["access_token"].as_str(),
            ) {
                let info: Value = self
                    .http
                    .get(endpoint)
                    .bearer_auth(access)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await
                    .map_err(|e| UpstreamError::Unreachable(e.to_string()))?
                    .json()
                    .await
                    .map_err(|e| UpstreamError::Refused(format!("userinfo: {e}")))?;
                if info["sub"] != claims["sub"] {
                    return Err(UpstreamError::InvalidToken(
                        "userinfo is about another subject".into(),
                    ));
                }
                if let (Some(target), Some(extra)) = (all.as_object_mut(), info.as_object()) {
                    for (k, v) in extra {
                        target.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
        self.login_from(&all, id_token)
    }

    async fn verify_id_token(
        &self,
        d: &Arc<Discovered>,
        id_token: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Value, UpstreamError> {
        let verified = match jose::verify(id_token, &d.keys) {
            Err(jose::JoseError::UnknownKey(_)) => {
                // The upstream may have rotated its keys since they were fetched.
                let fresh = self.discover(true).await?;
                jose::verify(id_token, &fresh.keys)
            }
            other => other,
        };
        let (_, claims) = verified.map_err(|e| UpstreamError::InvalidToken(e.to_string()))?;
        let invalid = |why: &str| Err(UpstreamError::InvalidToken(why.to_owned()));
        if claims["iss"] != d.metadata.issuer.as_str() {
            return invalid("iss is not the upstream's issuer");
        }
        let aud_ok = match &claims["aud"] {
            Value::String(a) => *a == self.config.client_id,
            Value::Array(list) => list.iter().any(|a| *a == self.config.client_id.as_str()),
            _ => false,
        };
        if !aud_ok {
            return invalid("aud does not name the gateway");
        }
        // A minute of leeway for clocks that differ a little.
        if claims["exp"].as_i64().is_none_or(|exp| exp + 60 < now) {
            return invalid("the ID token has expired");
        }
        if claims["iat"].as_i64().is_some_and(|iat| iat > now + 60) {
            return invalid("the ID token is issued in the future");
        }
        if claims["nonce"] != nonce {
            return invalid("nonce does not match the sign-in");
        }
        if claims["sub"].as_str().is_none_or(str::is_empty) {
            return invalid("no sub");
        }
        Ok(claims)
    }

    /// Maps verified upstream claims to a login. The level is the one the upstream asserted.
    fn login_from(&self, claims: &Value, id_token: &str) -> Result<UpstreamLogin, UpstreamError> {
        let loa = self.loa_of(claims["acr"].as_str()).ok_or_else(|| {
            UpstreamError::InvalidToken(format!(
                "acr {} is not a known level of assurance",
                claims["acr"]
            ))
        })?;
        let mut mapped = Map::new();
        for (ours, theirs) in &self.config.claims {
            if let Some(v) = walk(claims, theirs).filter(|v| !v.is_null()) {
                mapped.insert(ours.clone(), v.clone());
            }
        }
        if !mapped.contains_key("name") {
            let parts: Vec<&str> = ["given_name", "family_name"]
                .iter()
                .filter_map(|k| mapped.get(*k).and_then(Value::as_str))
                .collect();
            if !parts.is_empty() {
                mapped.insert("name".into(), Value::from(parts.join(" ")));
            }
        }
        let amr = match claims["amr"].as_array() {
            Some(list) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            None => vec![self.config.name.clone()],
        };
        Ok(UpstreamLogin {
            upstream: self.config.name.clone(),
            subject: claims["sub"].as_str().unwrap_or_default().to_owned(),
            link_key: self
                .config
                .link_claim
                .as_deref()
                .and_then(|path| walk(claims, path))
                .and_then(Value::as_str)
                .map(|k| format!("{}:{k}", "verified-id")),
            loa,
            amr,
            claims: Value::Object(mapped),
            id_token: Some(id_token.to_owned()),
        })
    }

    /// Where to send the browser to end its session at the upstream, if it supports that.
    pub async fn end_session_url(
        &self,
        id_token_hint: &str,
        post_logout_redirect_uri: &str,
        state: &str,
    ) -> Option<String> {
        if !self.config.end_session {
            return None;
        }
        let d = self.discover(false).await.ok()?;
        let endpoint = d.metadata.end_session_endpoint.as_deref()?;
        let query = serde_urlencoded::to_string([
            ("id_token_hint", id_token_hint),
            ("post_logout_redirect_uri", post_logout_redirect_uri),
            ("client_id", &self.config.client_id),
            ("state", state),
        ])
        .ok()?;
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        Some(format!("{endpoint}{separator}{query}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NIA: &str = r#"
[[upstream]]
name = "nia"
label = { cs = "Identita občana", en = "Citizen identity" }
issuer = "https://nia.example.cz/fpsts"
discovery_url = "https://nia.example.cz/fpsts/oidc/openid-configuration"
client_id = "kraj"
client_secret_env = "URAD_TEST_NIA_SECRET_UNSET"
client_auth = "client_secret_post"
scopes = ["openid", "given_name", "family_name"]
loa_request = "scopes"
loa_scopes = { low = "loalow", substantial = "loasubstantial", high = "loahigh" }
acr = { "http://eidas.europa.eu/LoA/substantial" = "substantial" }
claims = { given_name = "given_name", family_name = "family_name" }
"#;

    fn upstream(text: &str) -> Upstream {
        let mut config = parse_config(text).unwrap().remove(0);
        config.client_secret = Some("s".into());
        Upstream::new(config, reqwest::Client::new()).unwrap()
    }

    #[test]
    fn nia_quirks_are_configuration() {
        let configs = parse_config(NIA).unwrap();
        let nia = &configs[0];
        assert_eq!(nia.client_auth, ClientAuth::ClientSecretPost);
        assert_eq!(nia.loa_request, LoaRequest::Scopes);
        assert_eq!(nia.loa_scopes[&Loa::High], "loahigh");
        // A secret from an unset variable is a start-up error, not an empty secret.
        let err = Upstream::new(nia.clone(), reqwest::Client::new()).unwrap_err();
        assert!(err.contains("URAD_TEST_NIA_SECRET_UNSET"), "{err}");
    }

    #[test]
    fn bad_configurations_are_refused_with_the_reason() {
        let scopes_without_map = NIA.replace(
            r#"loa_scopes = { low = "loalow", substantial = "loasubstantial", high = "loahigh" }"#,
            "",
        );
        assert!(parse_config(&scopes_without_map)
            .unwrap_err()
            .contains("loa_scopes"));
        assert!(
            parse_config(&NIA.replace("name = \"nia\"", "name = \"NIA x\""))
                .unwrap_err()
                .contains("a-z")
        );
        assert!(parse_config(&NIA.replace("client_id", "clientid")).is_err());
        let twice = format!("{NIA}{NIA}");
        assert!(parse_config(&twice).unwrap_err().contains("twice"));
    }

    #[test]
    fn the_level_is_what_the_upstream_asserted() {
        let nia = upstream(NIA);
        assert_eq!(
            nia.loa_of(Some("http://eidas.europa.eu/LoA/high")),
            Some(Loa::High)
        );
        assert_eq!(nia.loa_of(Some("urn:unknown")), None);
        assert_eq!(nia.loa_of(None), None);
        let login = nia
            .login_from(
                &serde_json::json!({"sub": "x", "acr": "http://eidas.europa.eu/LoA/substantial",
                    "given_name": "Jana", "family_name": "Nováková"}),
                "t",
            )
            .unwrap();
        assert_eq!(login.loa, Loa::Substantial);
        assert_eq!(login.claims["name"], "Jana Nováková");
        assert!(nia
            .login_from(&serde_json::json!({"sub": "x", "acr": "urn:weird"}), "t")
            .is_err());
    }

    #[test]
    fn claims_are_found_inside_verified_claims() {
        let bank = upstream(
            r#"
[[upstream]]
name = "bankid"
label = { cs = "Bankovní identita", en = "Bank iD" }
issuer = "https://oidc.bankid.cz/"
client_id = "kraj"
client_secret = "s"
scopes = ["openid", "profile.name", "profile.birthdate"]
fixed_loa = "substantial"
max_loa = "substantial"
claims = { given_name = "verified_claims.claims.given_name", birthdate = "verified_claims.claims.birthdate" }
link_claim = "verified_claims.claims.idcard_number"
"#,
        );
        let login = bank
            .login_from(
                &serde_json::json!({"sub": "b1", "verified_claims": {"claims":
                    {"given_name": "Jana", "birthdate": "1990-05-01", "idcard_number": "123"}}}),
                "t",
            )
            .unwrap();
        assert_eq!(login.loa, Loa::Substantial);
        assert_eq!(login.claims["birthdate"], "1990-05-01");
        assert_eq!(login.link_key.as_deref(), Some("verified-id:123"));
    }
}
