//! `cargo xtask bench login`: complete sign-ins and refresh grants per second, urad against
//! panva's `oidc-provider` on the same machine in the same run.
//!
//! A sign-in is everything a browser and a relying party do: authorize, the identity provider's
//! sign-in page, posting its form, the redirects back, and the code exchanged at the token
//! endpoint with PKCE. For urad that is the built-in demo identity provider (so urad does both
//! the gateway's and the upstream's work); for oidc-provider its login interaction
//! (`web/interop/upstream.mjs`). A refresh is one rotating refresh grant. Each virtual user has
//! its own cookie jar, emptied before every sign-in (a new browser), follows redirects by hand
//! and keeps one keep-alive connection. The driver shares the machine's cores with the servers,
//! for both alike; figures are printed as ratios urad/oidc-provider, which hold on any machine.

use anyhow::{bail, ensure, Context, Result};
use base64::Engine;
use rand_core::RngCore;
use reqwest::header::{HeaderValue, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{StatusCode, Url};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TARGET_RATIO: f64 = 3.0;
const TARGET_SIGN_INS: f64 = 500.0;
const TARGET_REFRESH: f64 = 5000.0;
/// urad's per-IP limit on the login and token endpoints, raised so that the one IP of the
/// load driver measures the server rather than the limiter.
pub(crate) const RATE_LIMIT: &str = "1000000";
/// Nothing listens here: the driver reads the code from the redirect's Location.
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const CLIENT_ID: &str = "bench";

struct Options {
    concurrency: usize,
    seconds: u64,
    only: Option<String>,
    /// A urad binary built elsewhere (to compare two builds in alternate runs).
    binary: Option<std::path::PathBuf>,
}

fn options(args: &[&str]) -> Result<Options> {
    let mut o = Options {
        concurrency: 32,
        seconds: 10,
        only: None,
        binary: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .copied()
                .with_context(|| format!("{arg} needs a value"))
        };
        match *arg {
            "--concurrency" => o.concurrency = value()?.parse().context("--concurrency N")?,
            "--duration" => o.seconds = value()?.parse().context("--duration takes whole seconds")?,
            "--only" => o.only = Some(value()?.to_owned()),
            "--binary" => o.binary = Some(value()?.into()),
            _ => bail!(
                "usage: cargo xtask bench login [--concurrency N] [--duration SECS] [--only urad|oidc-provider] [--binary PATH]"
            ),
        }
    }
    ensure!(
        o.concurrency > 0 && o.seconds > 0,
        "concurrency and duration must be positive"
    );
    Ok(o)
}

/// One identity provider under test and how to sign in at it.
pub(crate) struct Target {
    name: &'static str,
    authorize: Url,
    token: Url,
    secret: String,
    /// The sign-in form's own fields (who signs in, at which level).
    sign_in: Vec<(String, String)>,
    /// urad's demo IdP takes the authorization request again in the posted form.
    form_repeats_query: bool,
}

pub fn login(args: &[&str]) -> Result<()> {
    // The load driver shares the two cores with the servers, so its own cost per request
    // comes off the faster server's rate most: it runs as a release build, as oha does for
    // `bench pages`. `cargo xtask` builds xtask unoptimised; hand over to a release build.
    if cfg!(debug_assertions) {
        return crate::run(
            crate::cargo()
                .args([
                    "run",
                    "--quiet",
                    "--release",
                    "--locked",
                    "-p",
                    "xtask",
                    "--",
                ])
                .args(["bench", "login"])
                .args(args),
        );
    }
    let o = options(args)?;
    let want = |name: &str| o.only.as_deref().is_none_or(|only| only == name);
    if let Some(only) = &o.only {
        ensure!(
            only == "urad" || only == "oidc-provider",
            "--only urad or --only oidc-provider"
        );
    }

    let mut targets = Vec::new();
    let mut urad = None;
    let mut op = None;
    let mut data = None;
    let mut rate_limited = false;
    if want("urad") {
        let binary = match &o.binary {
            Some(b) => b.clone(),
            None => {
                crate::run(crate::cargo().args(["build", "--release", "--locked", "-p", "urad"]))?;
                crate::target_dir().join("release/urad")
            }
        };
        let dir = crate::tempdir("urad-bench-login")?;
        let secret = register_client(&binary, &dir)?;
        let mut args = vec!["--demo-idp", "true"];
        rate_limited = has_rate_limit(&binary)?;
        if rate_limited {
            args.extend(["--rate-limit-per-ip", RATE_LIMIT]);
        }
        let server = crate::setup::Server::start_with(&binary, &dir, &args, &[])?;
        let base = server.base_url.clone();
        data = Some(dir);
        urad = Some(server);
        targets.push((base, secret, "urad"));
    }
    if want("oidc-provider") {
        crate::setup::npm_packages()?;
        let provider = OidcProvider::start()?;
        targets.push((
            provider.issuer.clone(),
            provider.secret.clone(),
            "oidc-provider",
        ));
        op = Some(provider);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(async {
        let mut resolved = Vec::new();
        for (issuer, secret, name) in targets {
            resolved.push(Arc::new(discover(name, &issuer, secret).await?));
        }
        let mut results = Vec::new();
        for t in &resolved {
            let sign_ins = measure(t.clone(), o.concurrency, o.seconds, Flow::SignIn).await;
            let refresh = measure(t.clone(), o.concurrency, o.seconds, Flow::Refresh).await;
            results.push((t.name, sign_ins, refresh));
        }
        anyhow::Ok(results)
    })?;
    drop(urad);
    drop(op);
    if let Some(dir) = data {
        let _ = std::fs::remove_dir_all(dir);
    }
    report(&o, rate_limited, &results);
    Ok(())
}

/// Whether this build limits requests per IP (the flag is being added; until then there is
/// nothing to raise, and the report says so).
fn has_rate_limit(binary: &std::path::Path) -> Result<bool> {
    let help = Command::new(binary)
        .args(["serve", "--help"])
        .output()
        .context("cannot run urad serve --help")?;
    Ok(String::from_utf8_lossy(&help.stdout).contains("--rate-limit-per-ip"))
}

/// `urad client add` for the benchmark's confidential client; returns its secret.
pub(crate) fn register_client(
    binary: &std::path::Path,
    data_dir: &std::path::Path,
) -> Result<String> {
    register_client_in(binary, data_dir, None)
}

/// `register_client` in the database at `database_url` (PostgreSQL) when given.
pub(crate) fn register_client_in(
    binary: &std::path::Path,
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> Result<String> {
    let out = Command::new(binary)
        .args([
            "client",
            "add",
            "--id",
            CLIENT_ID,
            "--redirect-uri",
            REDIRECT_URI,
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .args(
            database_url
                .map(|u| ["--database-url", u])
                .into_iter()
                .flatten(),
        )
        .env("URAD_LOG", "warn")
        .output()
        .context("cannot run urad client add")?;
    ensure!(
        out.status.success(),
        "urad client add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("client secret (shown only now, store it safely): "))
        .map(|s| s.trim().to_owned())
        .context("urad client add printed no secret")
}

/// `node web/interop/upstream.mjs` with one confidential client; killed when dropped.
struct OidcProvider {
    child: Child,
    issuer: String,
    secret: String,
}

impl OidcProvider {
    fn start() -> Result<OidcProvider> {
        let web = crate::root().join("web");
        let mut child = Command::new("node")
            .args([
                "interop/upstream.mjs",
                "--port",
                "0",
                "--client-id",
                CLIENT_ID,
            ])
            .args(["--redirect-uri", REDIRECT_URI])
            .current_dir(&web)
            .env("NODE_ENV", "production")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start node (oidc-provider)")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let v: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                bail!("oidc-provider did not start: {line:?}");
            }
        };
        let text = |k: &str| {
            v[k].as_str()
                .map(str::to_owned)
                .with_context(|| format!("oidc-provider printed no {k}"))
        };
        Ok(OidcProvider {
            issuer: text("issuer")?,
            secret: text("client_secret")?,
            child,
        })
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn discover(name: &'static str, issuer: &str, secret: String) -> Result<Target> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let meta: serde_json::Value = reqwest::get(&url)
        .await
        .and_then(|r| r.error_for_status())
        .with_context(|| format!("{name}: discovery at {url}"))?
        .json()
        .await?;
    let endpoint = |k: &str| -> Result<Url> {
        let v = meta[k]
            .as_str()
            .with_context(|| format!("{name}: no {k}"))?;
        Ok(Url::parse(v)?)
    };
    let (sign_in, form_repeats_query) = if name == "urad" {
        (
            vec![("person", "jana-novakova"), ("loa", "substantial")],
            true,
        )
    } else {
        (
            vec![("login", "jana-novakova"), ("loa", "substantial")],
            false,
        )
    };
    Ok(Target {
        name,
        authorize: endpoint("authorization_endpoint")?,
        token: endpoint("token_endpoint")?,
        secret,
        sign_in: sign_in
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        form_repeats_query,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Flow {
    SignIn,
    Refresh,
}

#[derive(Default)]
struct Figures {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    done: usize,
    errors: usize,
    first_error: Option<String>,
}

/// `concurrency` virtual users repeat the flow for `seconds`; the rate counts completed flows
/// over the time until the last user finished its last one.
async fn measure(target: Arc<Target>, concurrency: usize, seconds: u64, flow: Flow) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move {
                let mut user = User::new();
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut first_error = None;
                // The refresh flow needs one refresh token first; not measured.
                let mut refresh_token = None;
                if flow == Flow::Refresh {
                    match user.sign_in(&target).await {
                        Ok(rt) => refresh_token = Some(rt),
                        Err(e) => return (latencies, 1, Some(format!("{e:#}"))),
                    }
                }
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let outcome = match flow {
                        Flow::SignIn => user.sign_in(&target).await.map(|_| ()),
                        Flow::Refresh => {
                            let rt = refresh_token.take().unwrap_or_default();
                            user.refresh(&target, &rt)
                                .await
                                .map(|next| refresh_token = Some(next))
                        }
                    };
                    match outcome {
                        Ok(()) => latencies.push(t0.elapsed()),
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert_with(|| format!("{e:#}"));
                            if flow == Flow::Refresh && refresh_token.is_none() {
                                // A lost token chain cannot go on.
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                (latencies, errors, first_error)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut f = Figures::default();
    for t in tasks {
        match t.await {
            Ok((latencies, errors, first_error)) => {
                all.extend(latencies);
                f.errors += errors;
                if f.first_error.is_none() {
                    f.first_error = first_error;
                }
            }
            Err(e) => {
                f.errors += 1;
                f.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1000.0
    };
    f.done = all.len();
    f.per_s = all.len() as f64 / elapsed;
    f.p50_ms = pct(0.50);
    f.p99_ms = pct(0.99);
    f
}

/// A browser and its relying party: one connection pool, one cookie jar.
pub(crate) struct User {
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
}

/// SHA-256 of `bytes` in lowercase hexadecimal.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand_core::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

impl User {
    pub(crate) fn new() -> User {
        User {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("a plain http client builds"),
            jar: BTreeMap::new(),
        }
    }

    /// Sends with the jar's cookies and keeps the ones the answer sets. All of a flow's
    /// cookies come from one origin, so paths and domains need no bookkeeping here.
    async fn send(&mut self, mut req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        if !self.jar.is_empty() {
            let header = self
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header(COOKIE, header);
        }
        let res = req.send().await?;
        for value in res.headers().get_all(SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let Some((name, v)) = pair.split_once('=') else {
                continue;
            };
            // Only the attributes say whether the cookie is deleted: a random base64 value
            // contains "1970" about once in 400 000 cookies, and the next request then came
            // without the sign-in cookie and was refused as if from another browser.
            if v.trim().is_empty() || deletes_cookie(attributes) {
                self.jar.remove(name.trim());
            } else {
                self.jar.insert(name.trim().to_owned(), v.trim().to_owned());
            }
        }
        Ok(res)
    }

    /// GETs `url` and follows redirects until a page or the relying party's redirect URI.
    async fn follow(&mut self, mut url: Url) -> Result<Hop> {
        for _ in 0..10 {
            let res = self.send(self.http.get(url.clone())).await?;
            match location(&url, &res)? {
                Some(next) if next.as_str().starts_with(REDIRECT_URI) => {
                    return Ok(Hop::Callback(next))
                }
                Some(next) => url = next,
                None if res.status() == StatusCode::OK => {
                    return Ok(Hop::Page(url, res.text().await?))
                }
                None => bail!("GET {url}: {}", res.status()),
            }
        }
        bail!("too many redirects from {url}")
    }

    async fn sign_in(&mut self, t: &Target) -> Result<String> {
        let tokens = self.sign_in_tokens(t).await?;
        tokens["refresh_token"]
            .as_str()
            .map(str::to_owned)
            .context("no refresh_token")
    }

    /// A whole sign-in in a new browser; the token endpoint's answer.
    pub(crate) async fn sign_in_tokens(&mut self, t: &Target) -> Result<serde_json::Value> {
        self.jar.clear();
        let verifier = random_b64(32);
        let challenge =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&verifier));
        let state = random_b64(16);
        let mut url = t.authorize.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", "openid profile")
            .append_pair("state", &state)
            .append_pair("nonce", &random_b64(16))
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let callback = match self.follow(url).await? {
            Hop::Callback(c) => c, // a live session would answer at once; not in a fresh jar
            Hop::Page(page, html) => {
                let form =
                    post_form(&html).with_context(|| format!("no sign-in form at {page}"))?;
                let action = match &form.action {
                    Some(a) => page.join(a)?,
                    None => page.clone(),
                };
                let mut body: Vec<(String, String)> = Vec::new();
                if t.form_repeats_query {
                    body.extend(page.query_pairs().into_owned());
                }
                for (k, v) in form.hidden.into_iter().chain(t.sign_in.iter().cloned()) {
                    body.retain(|(name, _)| *name != k);
                    body.push((k, v));
                }
                let res = self
                    .send(self.http.post(action.clone()).form(&body))
                    .await?;
                let next = location(&action, &res)?.with_context(|| {
                    format!("POST {action}: {} without a redirect", res.status())
                })?;
                if next.as_str().starts_with(REDIRECT_URI) {
                    next
                } else {
                    match self.follow(next).await? {
                        Hop::Callback(c) => c,
                        Hop::Page(p, _) => bail!("the sign-in stopped at {p}"),
                    }
                }
            }
        };
        let params: BTreeMap<String, String> = callback.query_pairs().into_owned().collect();
        if let Some(e) = params.get("error") {
            bail!(
                "authorization error {e}: {:?}",
                params.get("error_description")
            );
        }
        ensure!(params.get("state") == Some(&state), "state differs");
        let code = params.get("code").context("no code")?;
        let tokens = self
            .token(
                t,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT_URI),
                    ("code_verifier", &verifier),
                ],
            )
            .await?;
        ensure!(tokens["id_token"].is_string(), "no id_token");
        Ok(tokens)
    }

    async fn refresh(&mut self, t: &Target, refresh_token: &str) -> Result<String> {
        let tokens = self
            .token(
                t,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                ],
            )
            .await?;
        ensure!(tokens["access_token"].is_string(), "no access_token");
        tokens["refresh_token"]
            .as_str()
            .map(str::to_owned)
            .context("refresh tokens are not rotated")
    }

    /// The token endpoint with client_secret_basic (the secrets are URL-safe already).
    async fn token(&self, t: &Target, form: &[(&str, &str)]) -> Result<serde_json::Value> {
        let res = self
            .http
            .post(t.token.clone())
            .basic_auth(CLIENT_ID, Some(&t.secret))
            .form(form)
            .send()
            .await?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        ensure!(status == StatusCode::OK, "token endpoint: {status} {body}");
        Ok(body)
    }
}

enum Hop {
    Page(Url, String),
    Callback(Url),
}

fn location(base: &Url, res: &reqwest::Response) -> Result<Option<Url>> {
    if !res.status().is_redirection() {
        return Ok(None);
    }
    let loc = res
        .headers()
        .get(LOCATION)
        .map(HeaderValue::to_str)
        .transpose()?
        .context("redirect without Location")?;
    Ok(Some(base.join(loc)?))
}

struct Form {
    action: Option<String>,
    hidden: Vec<(String, String)>,
}

/// The first `method="post"` form of a page: its action and hidden inputs. Enough for the two
/// known sign-in pages; not an HTML parser.
/// Whether a Set-Cookie's attributes (after the first `;`) delete the cookie: `Max-Age=0`
/// or an `Expires` in 1970, as servers write it.
fn deletes_cookie(attributes: &str) -> bool {
    attributes.split(';').any(|a| {
        let a = a.trim().to_ascii_lowercase();
        a == "max-age=0" || (a.starts_with("expires=") && a.contains("1970"))
    })
}

fn post_form(html: &str) -> Option<Form> {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<form").map(|i| i + from) {
        let open_end = lower[i..].find('>')? + i;
        let end = lower[open_end..]
            .find("</form")
            .map_or(lower.len(), |e| e + open_end);
        let open = &html[i..open_end];
        from = end;
        if attr(open, "method").is_none_or(|m| !m.eq_ignore_ascii_case("post")) {
            continue;
        }
        let mut hidden = Vec::new();
        let mut at = open_end;
        while let Some(j) = lower[at..end].find("<input").map(|j| j + at) {
            let tag_end = lower[j..].find('>').map_or(end, |e| e + j);
            let tag = &html[j..tag_end];
            at = tag_end;
            if attr(tag, "type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")) {
                if let Some(name) = attr(tag, "name") {
                    hidden.push((name, attr(tag, "value").unwrap_or_default()));
                }
            }
        }
        return Some(Form {
            action: attr(open, "action"),
            hidden,
        });
    }
    None
}

/// A quoted attribute's value with the common entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    loop {
        let i = lower[from..].find(name)? + from;
        from = i + name.len();
        let before_ok = i > 0 && lower.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let inner = &value[1..];
        let raw = &inner[..inner.find(quote)?];
        return Some(
            raw.replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&#x27;", "'")
                .replace("&#x2F;", "/")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        );
    }
}

fn report(o: &Options, rate_limited: bool, results: &[(&str, Figures, Figures)]) {
    let limit = if rate_limited {
        format!("--rate-limit-per-ip {RATE_LIMIT} (raised for the one-IP load driver)")
    } else {
        "no per-IP rate limit in this build".to_owned()
    };
    println!(
        "\nurad bench login: {} virtual users, {} s per flow; urad release build on SQLite with \
         {limit}, demo identity provider; oidc-provider {} on node {} (in-memory adapter), \
         login interaction posted; driver on the same machine",
        o.concurrency,
        o.seconds,
        node_package_version("oidc-provider"),
        node_version(),
    );
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>8}  targets",
        "flow", "per s", "p50 ms", "p99 ms", "errors"
    );
    let mut missed = Vec::new();
    for (flow, absolute) in [("sign-in", TARGET_SIGN_INS), ("refresh", TARGET_REFRESH)] {
        let mut by_name = BTreeMap::new();
        for r in results {
            let f = if flow == "sign-in" { &r.1 } else { &r.2 };
            let target = if r.0 == "urad" {
                let ok = f.per_s >= absolute && f.errors == 0;
                if !ok {
                    missed.push(format!("{flow} urad {:.0}/s", f.per_s));
                }
                format!("≥ {absolute:.0}/s{}", if ok { " met" } else { " missed" })
            } else {
                String::new()
            };
            println!(
                "{:<24} {:>9.0} {:>9.2} {:>9.2} {:>8}  {target}",
                format!("{flow} {}", r.0),
                f.per_s,
                f.p50_ms,
                f.p99_ms,
                f.errors
            );
            if let Some(e) = &f.first_error {
                println!(
                    "    first error: {}",
                    e.chars().take(300).collect::<String>()
                );
            }
            by_name.insert(r.0, f.per_s);
        }
        if let (Some(u), Some(p)) = (by_name.get("urad"), by_name.get("oidc-provider")) {
            let ratio = u / p;
            let ok = ratio >= TARGET_RATIO;
            if !ok {
                missed.push(format!("{flow} ratio {ratio:.2}"));
            }
            println!(
                "{:<24} {:>9.2} {:>9} {:>9} {:>8}  ≥ {TARGET_RATIO:.0}× {}",
                format!("{flow} urad/oidc-prov."),
                ratio,
                "",
                "",
                "",
                if ok { "met" } else { "missed" }
            );
        }
    }
    if !results.iter().any(|r| r.0 == "urad") {
        println!("targets not checked: urad was not measured");
    } else if missed.is_empty() {
        println!("all targets met");
    } else {
        println!("targets missed: {}", missed.join("; "));
    }
}

fn node_package_version(name: &str) -> String {
    std::fs::read_to_string(
        crate::root()
            .join("web/node_modules")
            .join(name)
            .join("package.json"),
    )
    .ok()
    .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
    .and_then(|p| p["version"].as_str().map(str::to_owned))
    .unwrap_or_else(|| "?".into())
}

fn node_version() -> String {
    Command::new("node")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_post_form_and_its_hidden_fields() {
        let html = r#"<form method="get" action="/x"><input type="hidden" name="a" value="1"></form>
            <FORM class="f" method="POST" action="/demo-idp/authorize?x=1&amp;y=2">
            <input type="hidden" name="csrf" value="t&#x2F;k">
            <input name="person" value="no"><input type='hidden' name='state' value='s'>
            </FORM>"#;
        let f = post_form(html).unwrap();
        assert_eq!(f.action.as_deref(), Some("/demo-idp/authorize?x=1&y=2"));
        assert_eq!(
            f.hidden,
            vec![
                ("csrf".to_owned(), "t/k".to_owned()),
                ("state".to_owned(), "s".to_owned())
            ]
        );
    }

    #[test]
    fn only_attributes_delete_a_cookie() {
        assert!(deletes_cookie(" Path=/; Max-Age=0; HttpOnly"));
        assert!(deletes_cookie(
            " Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        ));
        assert!(!deletes_cookie(
            " Path=/; Max-Age=900; HttpOnly; SameSite=Lax"
        ));
        assert!(!deletes_cookie(" Path=/; Max-Age=00900"));
        assert!(!deletes_cookie(""));
    }

    #[test]
    fn attributes_need_a_word_boundary() {
        assert_eq!(
            attr(r#"<input data-name="x" name="y">"#, "name").as_deref(),
            Some("y")
        );
        assert_eq!(attr(r#"<form>"#, "action"), None);
    }
}
