//! Relying parties declared as data in `content/clients.toml`, reviewed like the rest of the
//! content and registered at every start of `urad serve`: created when new, updated in place
//! when changed, removed when no longer declared. Never a secret in the file (content is in
//! git): a confidential client's secret comes from the environment variable the file names.
//!
//! ```toml
//! [[client]]
//! id = "pacientsky-portal"
//! name = { cs = "Pacientský portál", en = "Patient portal" }
//! redirect_uris = ["https://pacient.kraj.example.cz/prihlaseni/navrat"]
//! public = true
//! min_loa = "high"
//! ```
//!
//! Every problem is reported with file, line, column and field, like the catalogue's.

use crate::clients::{
    self, check_jwks, check_redirect_uri, valid_id, AuthMethod, ClientError, ClientOptions,
    NewClient, Upserted,
};
use crate::jose::Alg;
use crate::loa::Loa;
use serde::Deserialize;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path};
use toml::Spanned;
use urad_core::content::{check_text, error_at, parse, ContentError, ContentErrors, ContentFile};
use urad_core::{Clock, Text};
use urad_store::Db;

/// The file's name in the content folder.
pub const FILE: &str = "clients.toml";

/// The `source` of the clients registered from content.
pub const SOURCE: &str = "content";

/// The portal's own client id: registered by the server itself, never from content.
const RESERVED_IDS: [&str; 1] = ["portal"];

/// A client as `clients.toml` declares it, validated.
#[derive(Clone, Debug)]
pub struct DeclaredClient {
    pub client: NewClient,
    pub options: ClientOptions,
    /// The environment variable holding the secret of a `client_secret_basic` or
    /// `client_secret_post` client.
    pub secret_env: Option<String>,
    /// Where the client is declared, for messages: `content/clients.toml:12`.
    pub at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    client: Vec<Spanned<RawClient>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    id: Spanned<String>,
    name: Spanned<Text>,
    redirect_uris: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<Spanned<String>>,
    backchannel_logout_uri: Option<Spanned<String>>,
    public: Option<Spanned<bool>>,
    auth_method: Option<Spanned<String>>,
    secret_env: Option<Spanned<String>>,
    jwks: Option<Spanned<String>>,
    id_token_alg: Option<Spanned<String>>,
    min_loa: Option<Spanned<String>>,
    /// Refused with a message saying where secrets go instead.
    secret: Option<Spanned<toml::Value>>,
    client_secret: Option<Spanned<toml::Value>>,
}

/// Parses and validates `clients.toml`. `read` reads the file a `jwks` field names, given
/// its path relative to the content folder. Reports every problem at once.
pub fn parse_file(
    file: &ContentFile,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Vec<DeclaredClient>, ContentErrors> {
    let mut errors = Vec::new();
    let Some(raw) = parse::<RawFile>(file, &mut errors) else {
        return Err(ContentErrors(errors));
    };
    let mut declared = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for entry in raw.client {
        let span = entry.span();
        let mut v = Validator {
            file,
            read,
            errors: &mut errors,
        };
        let id = entry.get_ref().id.clone();
        let line = error_at(file, span.clone(), String::new(), String::new()).line;
        if let Some(first) = first_line.get(id.get_ref()) {
            v.error(
                id.span(),
                "id",
                format!(
                    "client `{}` is already declared on line {first}",
                    id.get_ref()
                ),
            );
        } else {
            first_line.insert(id.get_ref().clone(), line);
        }
        if let Some(client) = v.client(entry.into_inner()) {
            declared.push(DeclaredClient {
                at: format!("{}:{line}", file.name),
                ..client
            });
        }
    }
    if errors.is_empty() {
        Ok(declared)
    } else {
        Err(ContentErrors(errors))
    }
}

struct Validator<'a> {
    file: &'a ContentFile,
    read: &'a dyn Fn(&str) -> Result<String, String>,
    errors: &'a mut Vec<ContentError>,
}

impl Validator<'_> {
    fn error(&mut self, span: Range<usize>, field: &str, message: String) {
        self.errors
            .push(error_at(self.file, span, field.to_owned(), message));
    }

    fn uri(&mut self, uri: &Spanned<String>, field: &str) {
        if let Err(e) = check_redirect_uri(uri.get_ref()) {
            self.error(uri.span(), field, reason(e));
        }
    }

    fn uris(&mut self, uris: &[Spanned<String>], field: &str) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for uri in uris {
            self.uri(uri, field);
            if seen.contains(uri.get_ref()) {
                self.error(
                    uri.span(),
                    field,
                    format!("`{}` is listed twice", uri.get_ref()),
                );
            } else {
                seen.push(uri.get_ref().clone());
            }
        }
        seen
    }

    fn client(&mut self, raw: RawClient) -> Option<DeclaredClient> {
        let before = self.errors.len();

        for (field, value) in [
            ("secret", &raw.secret),
            ("client_secret", &raw.client_secret),
        ] {
            if let Some(value) = value {
                self.error(
                    value.span(),
                    field,
                    "a secret never goes into content (it is in git): put it in an environment \
                     variable and name that variable in `secret_env`"
                        .into(),
                );
            }
        }

        let id = raw.id.get_ref();
        if !valid_id(id) {
            self.error(
                raw.id.span(),
                "id",
                format!("`{id}` is not a client id: use 3–64 letters, digits, `-`, `_` or `.`"),
            );
        } else if RESERVED_IDS.contains(&id.as_str()) {
            self.error(
                raw.id.span(),
                "id",
                format!("`{id}` is the portal's own client, registered by the server; choose another id"),
            );
        }
        check_text(
            self.file,
            raw.name.get_ref(),
            raw.name.span(),
            "name",
            self.errors,
        );

        if raw.redirect_uris.get_ref().is_empty() {
            self.error(
                raw.redirect_uris.span(),
                "redirect_uris",
                "a client needs at least one redirect URI".into(),
            );
        }
        let redirect_uris = self.uris(raw.redirect_uris.get_ref(), "redirect_uris");
        let post_logout_redirect_uris =
            self.uris(&raw.post_logout_redirect_uris, "post_logout_redirect_uris");
        if let Some(uri) = &raw.backchannel_logout_uri {
            self.uri(uri, "backchannel_logout_uri");
        }

        let public = raw.public.as_ref().is_some_and(|p| *p.get_ref());
        let method = match (&raw.auth_method, public) {
            (None, true) => Some(AuthMethod::None),
            (None, false) => Some(AuthMethod::ClientSecretBasic),
            (Some(m), true) => {
                self.error(
                    m.span(),
                    "auth_method",
                    "a public client has no credentials: leave `auth_method` out".into(),
                );
                None
            }
            (Some(m), false) => match AuthMethod::parse(m.get_ref()) {
                Some(method) if method != AuthMethod::None => Some(method),
                _ => {
                    self.error(
                        m.span(),
                        "auth_method",
                        format!(
                            "`{}` is not client_secret_basic, client_secret_post or \
                             private_key_jwt (a browser or mobile app says `public = true`)",
                            m.get_ref()
                        ),
                    );
                    None
                }
            },
        };
        // Where to point when something the method needs is missing.
        let method_span = raw
            .auth_method
            .as_ref()
            .map(|m| m.span())
            .or_else(|| raw.public.as_ref().map(|p| p.span()))
            .unwrap_or_else(|| raw.id.span());
        let method_name = method.map(AuthMethod::code).unwrap_or("this method");

        let uses_secret = matches!(
            method,
            Some(AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost)
        );
        let secret_env = match &raw.secret_env {
            Some(var) if uses_secret => {
                if !is_env_name(var.get_ref()) {
                    self.error(
                        var.span(),
                        "secret_env",
                        format!(
                            "`{}` is not an environment variable name: use A–Z, 0–9 and `_`, \
                             like URAD_CLIENT_{}_SECRET",
                            var.get_ref(),
                            env_stem(id)
                        ),
                    );
                }
                Some(var.get_ref().clone())
            }
            Some(var) => {
                if method.is_some() {
                    self.error(
                        var.span(),
                        "secret_env",
                        format!("a client with {method_name} has no secret: remove `secret_env`"),
                    );
                }
                None
            }
            // A secret written into the file is refused above, with where it goes instead.
            None if uses_secret && raw.secret.is_none() && raw.client_secret.is_none() => {
                self.error(
                    method_span.clone(),
                    "secret_env",
                    format!(
                        "{method_name} needs `secret_env`: the name of the environment variable \
                         that holds the secret (e.g. URAD_CLIENT_{}_SECRET); or `public = true` \
                         for a browser or mobile app, or auth_method = \"private_key_jwt\"",
                        env_stem(id)
                    ),
                );
                None
            }
            None => None,
        };

        let jwks = match (&raw.jwks, method) {
            (Some(path), Some(AuthMethod::PrivateKeyJwt)) => self.jwks(path),
            (Some(path), Some(_)) => {
                self.error(
                    path.span(),
                    "jwks",
                    format!("`jwks` is only used with auth_method = \"private_key_jwt\", not {method_name}"),
                );
                None
            }
            (None, Some(AuthMethod::PrivateKeyJwt)) => {
                self.error(
                    method_span.clone(),
                    "jwks",
                    "private_key_jwt needs `jwks`: the path of the client's JWK Set (public keys), \
                     relative to the content folder"
                        .into(),
                );
                None
            }
            _ => None,
        };

        let id_token_alg = match &raw.id_token_alg {
            None => Alg::default(),
            Some(a) => match a.get_ref().parse::<Alg>() {
                Ok(alg) => alg,
                Err(e) => {
                    self.error(a.span(), "id_token_alg", e);
                    Alg::default()
                }
            },
        };
        let min_loa = match &raw.min_loa {
            None => Loa::Low,
            Some(l) => match l.get_ref().parse::<Loa>() {
                Ok(loa) => loa,
                Err(e) => {
                    self.error(l.span(), "min_loa", e);
                    Loa::Low
                }
            },
        };

        if self.errors.len() > before {
            return None;
        }
        let name = raw.name.into_inner();
        Some(DeclaredClient {
            client: NewClient {
                client_id: raw.id.into_inner(),
                name: name.cs.trim().to_owned(),
                name_en: Some(name.en.trim().to_owned()),
                redirect_uris,
                post_logout_redirect_uris,
                backchannel_logout_uri: raw.backchannel_logout_uri.map(Spanned::into_inner),
                public,
                min_loa,
                source: SOURCE.into(),
            },
            options: ClientOptions {
                auth_method: method.filter(|m| *m != AuthMethod::None),
                jwks,
                id_token_alg,
            },
            secret_env,
            at: String::new(),
        })
    }

    /// Reads and checks the JWK Set at `path` (relative to the content folder).
    fn jwks(&mut self, path: &Spanned<String>) -> Option<String> {
        let p = Path::new(path.get_ref());
        let inside = !path.get_ref().is_empty()
            && !path.get_ref().contains('\\')
            && p.components().all(|c| matches!(c, Component::Normal(_)));
        if !inside {
            self.error(
                path.span(),
                "jwks",
                format!(
                    "`{}` is not a path inside the content folder; write it relative to the \
                     folder, like \"clients/name.jwks.json\"",
                    path.get_ref()
                ),
            );
            return None;
        }
        let text = match (self.read)(path.get_ref()) {
            Ok(text) => text,
            Err(e) => {
                self.error(
                    path.span(),
                    "jwks",
                    format!("cannot read `{}`: {e}", path.get_ref()),
                );
                return None;
            }
        };
        match check_jwks(&text) {
            Ok(_) => Some(text),
            Err(e) => {
                self.error(
                    path.span(),
                    "jwks",
                    format!("`{}`: {}", path.get_ref(), reason(e)),
                );
                None
            }
        }
    }
}

/// A client error as a sentence for a content message.
fn reason(e: ClientError) -> String {
    match e {
        ClientError::Auth(why) => why,
        other => other.to_string(),
    }
}

fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `pacientsky-portal` → `PACIENTSKY_PORTAL`, for suggested variable names.
fn env_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// What registering the declared clients did, for the start-up log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registered {
    pub created: Vec<String>,
    /// Each changed client with the settings that changed; `source` among them when the client
    /// was registered from elsewhere before (`urad client add`) and content now manages it.
    pub updated: Vec<(String, Vec<&'static str>)>,
    pub unchanged: Vec<String>,
    /// Clients registered from content before that the file no longer declares.
    pub removed: Vec<String>,
}

/// A declared client with its secret read from the environment: ready to register.
#[derive(Clone)]
pub struct ReadyClient {
    pub declared: DeclaredClient,
    secret: Option<String>,
}

impl std::fmt::Debug for ReadyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyClient")
            .field("declared", &self.declared)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Secrets that are missing from the environment or too short: one line each, with the
/// client and where it is declared.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct SecretErrors(pub Vec<String>);

/// Reads the secret of every client that names a `secret_env` with `env` (the process's
/// environment in the server). Fails when a variable is not set (or empty) or holds fewer
/// than [`clients::MIN_SECRET_CHARS`] characters, naming them all.
pub fn with_secrets(
    declared: Vec<DeclaredClient>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ReadyClient>, SecretErrors> {
    let mut ready = Vec::new();
    let mut problems = Vec::new();
    for d in declared {
        let Some(var) = &d.secret_env else {
            ready.push(ReadyClient {
                declared: d,
                secret: None,
            });
            continue;
        };
        match env(var).filter(|v| !v.is_empty()) {
            None => problems.push(format!(
                "{}: client `{}`: the environment variable {var} with the client's secret is not \
                 set; set it to the secret agreed with the client (at least {} characters, e.g. \
                 from `openssl rand -base64 32`)",
                d.at,
                d.client.client_id,
                clients::MIN_SECRET_CHARS
            )),
            Some(secret) if secret.chars().count() < clients::MIN_SECRET_CHARS => {
                problems.push(format!(
                    "{}: client `{}`: the secret in {var} is shorter than {} characters; use a \
                     random one (e.g. from `openssl rand -base64 32`)",
                    d.at,
                    d.client.client_id,
                    clients::MIN_SECRET_CHARS
                ))
            }
            Some(secret) => ready.push(ReadyClient {
                declared: d,
                secret: Some(secret),
            }),
        }
    }
    if problems.is_empty() {
        Ok(ready)
    } else {
        Err(SecretErrors(problems))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{at}: client `{id}`: {source}")]
    Client {
        at: String,
        id: String,
        source: ClientError,
    },
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("{0}")]
    Store(#[from] ClientError),
}

/// Registers the declared clients in one transaction: creates the new ones, updates the
/// changed ones in place (keeping what was issued to them; a changed secret replaces the
/// stored hash), and removes the clients that were registered from content before and are no
/// longer declared, with their codes and refresh tokens.
pub async fn register(
    db: &Db,
    clock: &dyn Clock,
    ready: &[ReadyClient],
) -> Result<Registered, RegisterError> {
    let mut done = Registered::default();
    let mut tx = db.begin_write().await?;
    for ReadyClient {
        declared: d,
        secret,
    } in ready
    {
        let id = &d.client.client_id;
        let upserted = clients::upsert(&mut tx, clock, &d.client, &d.options, secret.as_deref())
            .await
            .map_err(|source| RegisterError::Client {
                at: d.at.clone(),
                id: id.clone(),
                source,
            })?;
        match upserted {
            Upserted::Created => done.created.push(id.clone()),
            Upserted::Updated(fields) => done.updated.push((id.clone(), fields)),
            Upserted::Unchanged => done.unchanged.push(id.clone()),
        }
    }
    for id in clients::ids_from(&mut tx, SOURCE).await? {
        if !ready.iter().any(|r| r.declared.client.client_id == id) {
            clients::remove(&mut tx, &id).await?;
            done.removed.push(id);
        }
    }
    tx.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256",
        "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

    const GOOD: &str = r#"# Relying parties
[[client]]
id = "pacientsky-portal"
name = { cs = "Pacientský portál", en = "Patient portal" }
redirect_uris = ["http://localhost:5173/callback"]
post_logout_redirect_uris = ["http://localhost:5173/"]
public = true
min_loa = "high"

[[client]]
id = "dotacni-portal"
name = { cs = "Dotační portál", en = "Grants portal" }
redirect_uris = ["https://dotace.kraj.example.cz/auth/callback"]
backchannel_logout_uri = "https://dotace.kraj.example.cz/auth/logout"
auth_method = "private_key_jwt"
jwks = "clients/dotacni-portal.jwks.json"
id_token_alg = "RS256"
min_loa = "substantial"

[[client]]
id = "spisova-sluzba"
name = { cs = "Spisová služba", en = "Records management" }
redirect_uris = ["https://ess.kraj.example.cz/oidc"]
auth_method = "client_secret_post"
secret_env = "URAD_CLIENT_SPISOVA_SLUZBA_SECRET"
"#;

    fn read(path: &str) -> Result<String, String> {
        match path {
            "clients/dotacni-portal.jwks.json" => Ok(EC_JWKS.into()),
            "clients/empty.jwks.json" => Ok(r#"{"keys":[]}"#.into()),
            _ => Err("No such file or directory".into()),
        }
    }

    fn file(text: &str) -> ContentFile {
        ContentFile {
            name: "content/clients.toml".into(),
            text: text.into(),
        }
    }

    fn errors(text: &str) -> Vec<ContentError> {
        parse_file(&file(text), &read).unwrap_err().0
    }

    fn one_error(text: &str) -> ContentError {
        let mut e = errors(text);
        assert_eq!(e.len(), 1, "{e:?}");
        e.remove(0)
    }

    #[test]
    fn a_valid_file_declares_its_clients() {
        let all = parse_file(&file(GOOD), &read).unwrap();
        assert_eq!(all.len(), 3);
        let patient = &all[0];
        assert_eq!(patient.client.client_id, "pacientsky-portal");
        assert_eq!(patient.client.name, "Pacientský portál");
        assert_eq!(patient.client.name_en.as_deref(), Some("Patient portal"));
        assert!(patient.client.public);
        assert_eq!(patient.client.min_loa, Loa::High);
        assert_eq!(patient.client.source, "content");
        assert_eq!(patient.options.auth_method, None);
        assert_eq!(patient.at, "content/clients.toml:2");
        let grants = &all[1];
        assert_eq!(grants.options.auth_method, Some(AuthMethod::PrivateKeyJwt));
        assert!(grants.options.jwks.as_deref().unwrap().contains("P-256"));
        assert_eq!(grants.options.id_token_alg, Alg::Rs256);
        assert_eq!(
            grants.client.backchannel_logout_uri.as_deref(),
            Some("https://dotace.kraj.example.cz/auth/logout")
        );
        assert_eq!(grants.secret_env, None);
        let records = &all[2];
        assert_eq!(
            records.options.auth_method,
            Some(AuthMethod::ClientSecretPost)
        );
        assert_eq!(
            records.secret_env.as_deref(),
            Some("URAD_CLIENT_SPISOVA_SLUZBA_SECRET")
        );
        assert_eq!(records.client.min_loa, Loa::Low, "the default level");
        assert_eq!(records.options.id_token_alg, Alg::Es256, "the default alg");
        // No clients at all is fine.
        assert!(parse_file(&file("# none yet\n"), &read).unwrap().is_empty());
    }

    #[test]
    fn unknown_fields_and_syntax_errors_name_file_line_and_field() {
        let e =
            one_error(&GOOD.replace("min_loa = \"high\"", "min_loa = \"high\"\nlogo = \"x.png\""));
        assert_eq!(
            (e.file.as_str(), e.line, e.field.as_str()),
            ("content/clients.toml", 9, "logo")
        );
        assert!(e.message.contains("unknown field"), "{e}");
        let e = one_error(&GOOD.replace("public = true", "public = "));
        assert_eq!(e.line, 7, "{e}");
        let e = one_error(&GOOD.replace("public = true", "public = \"yes\""));
        assert_eq!((e.line, e.field.as_str()), (7, "public"), "{e}");
    }

    #[test]
    fn ids_must_be_valid_unique_and_not_the_portals() {
        let e = one_error(&GOOD.replace("\"spisova-sluzba\"", "\"spisová služba\""));
        assert_eq!((e.line, e.column, e.field.as_str()), (21, 6, "id"));
        assert!(e.message.contains("not a client id"), "{e}");
        let e = one_error(&GOOD.replace("\"spisova-sluzba\"", "\"pacientsky-portal\""));
        assert_eq!((e.line, e.field.as_str()), (21, "id"));
        assert!(e.message.contains("already declared on line 2"), "{e}");
        let e = one_error(&GOOD.replace("\"spisova-sluzba\"", "\"portal\""));
        assert!(e.message.contains("portal's own client"), "{e}");
    }

    #[test]
    fn redirect_uris_are_checked_one_by_one() {
        let e = one_error(&GOOD.replace(
            r#"redirect_uris = ["https://ess.kraj.example.cz/oidc"]"#,
            r#"redirect_uris = ["https://ess.kraj.example.cz/oidc", "http://ess.kraj.example.cz/oidc"]"#,
        ));
        assert_eq!(
            (e.line, e.column, e.field.as_str()),
            (23, 54, "redirect_uris")
        );
        assert!(e.message.contains("http:// only for localhost"), "{e}");
        let e = one_error(&GOOD.replace(
            r#"["http://localhost:5173/"]"#,
            r#"["http://localhost:5173/#top"]"#,
        ));
        assert_eq!((e.line, e.field.as_str()), (6, "post_logout_redirect_uris"));
        assert!(e.message.contains("fragment"), "{e}");
        let e =
            one_error(&GOOD.replace("https://dotace.kraj.example.cz/auth/logout", "ftp://dotace"));
        assert_eq!((e.line, e.field.as_str()), (14, "backchannel_logout_uri"));
        let e = one_error(&GOOD.replace(
            r#"["http://localhost:5173/callback"]"#,
            r#"["http://localhost:5173/callback", "http://localhost:5173/callback"]"#,
        ));
        assert!(e.message.contains("listed twice"), "{e}");
        let e = one_error(&GOOD.replace(r#"["http://localhost:5173/callback"]"#, "[]"));
        assert_eq!((e.line, e.field.as_str()), (5, "redirect_uris"));
        assert!(e.message.contains("at least one"), "{e}");
    }

    #[test]
    fn levels_algorithms_methods_and_names_are_checked() {
        let e = one_error(&GOOD.replace("\"high\"", "\"medium\""));
        assert_eq!((e.line, e.field.as_str()), (8, "min_loa"));
        assert!(e.message.contains("use low, substantial or high"), "{e}");
        let e = one_error(&GOOD.replace("\"RS256\"", "\"HS256\""));
        assert_eq!((e.line, e.field.as_str()), (17, "id_token_alg"));
        let e = one_error(&GOOD.replace("\"client_secret_post\"", "\"tls_client_auth\""));
        assert_eq!((e.line, e.field.as_str()), (24, "auth_method"));
        assert!(e.message.contains("private_key_jwt"), "{e}");
        let e = one_error(&GOOD.replace("public = true", "public = true\nauth_method = \"none\""));
        assert_eq!((e.line, e.field.as_str()), (8, "auth_method"));
        assert!(
            e.message.contains("public client has no credentials"),
            "{e}"
        );
        let e = one_error(&GOOD.replace("en = \"Patient portal\"", "en = \"\""));
        assert_eq!((e.line, e.field.as_str()), (4, "name.en"));
    }

    #[test]
    fn secrets_stay_out_of_content() {
        let env = "secret_env = \"URAD_CLIENT_SPISOVA_SLUZBA_SECRET\"";
        let e = one_error(&GOOD.replace(env, "secret = \"hunter2hunter2hunter2hunter2hunter2\""));
        assert_eq!((e.line, e.field.as_str()), (25, "secret"));
        assert!(e.message.contains("never goes into content"), "{e}");
        let e = one_error(&GOOD.replace(env, &format!("{env}\nclient_secret = \"x\"")));
        assert_eq!((e.line, e.field.as_str()), (26, "client_secret"));
        // Without any: the message suggests a variable.
        let e = one_error(&GOOD.replace(&format!("{env}\n"), ""));
        assert_eq!((e.line, e.field.as_str()), (24, "secret_env"));
        assert!(
            e.message.contains("URAD_CLIENT_SPISOVA_SLUZBA_SECRET"),
            "{e}"
        );
        let e = one_error(&GOOD.replace("\"URAD_CLIENT_SPISOVA_SLUZBA_SECRET\"", "\"my secret\""));
        assert_eq!((e.line, e.field.as_str()), (25, "secret_env"));
        let e = one_error(&GOOD.replace("min_loa = \"high\"", "secret_env = \"URAD_X\""));
        assert!(e.message.contains("has no secret"), "{e}");
    }

    #[test]
    fn private_key_jwt_needs_readable_keys_inside_the_content_folder() {
        let e = one_error(&GOOD.replace("jwks = \"clients/dotacni-portal.jwks.json\"\n", ""));
        assert_eq!((e.line, e.field.as_str()), (15, "jwks"));
        for path in ["../secrets/keys.json", "/etc/keys.json", ""] {
            let e = one_error(&GOOD.replace("clients/dotacni-portal.jwks.json", path));
            assert_eq!((e.line, e.field.as_str()), (16, "jwks"), "{path}");
            assert!(e.message.contains("inside the content folder"), "{e}");
        }
        let e = one_error(&GOOD.replace("dotacni-portal.jwks.json", "missing.json"));
        assert!(
            e.message.contains("cannot read `clients/missing.json`"),
            "{e}"
        );
        let e = one_error(&GOOD.replace("dotacni-portal.jwks.json", "empty.jwks.json"));
        assert!(e.message.contains("no ES256 or RS256 signing key"), "{e}");
        let e = one_error(&GOOD.replace(
            "auth_method = \"client_secret_post\"",
            "auth_method = \"client_secret_post\"\njwks = \"clients/dotacni-portal.jwks.json\"",
        ));
        assert_eq!(e.field, "jwks");
        assert!(e.message.contains("only used with"), "{e}");
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let all = errors(
            &GOOD
                .replace("\"high\"", "\"medium\"")
                .replace("\"RS256\"", "\"PS256\"")
                .replace("https://ess.", "http://ess."),
        );
        assert_eq!(all.len(), 3, "{all:?}");
        let text = ContentErrors(all).to_string();
        assert!(
            text.contains("content/clients.toml:8:")
                && text.contains("content/clients.toml:17:")
                && text.contains("content/clients.toml:23:"),
            "{text}"
        );
    }
}
