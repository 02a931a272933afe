//! Client authentication at the token and revocation endpoints (`private_key_jwt`,
//! `client_secret_post`), RS256 ID tokens, the rate limits and the audit events of failures.

use crate::harness::TestApp;
use crate::on_both_backends;
use serde_json::{json, Value};
use urad_core::Clock;
use urad_identity::clients::{self, AuthMethod, ClientOptions, NewClient};
use urad_identity::grants::{self, Grant};
use urad_identity::jose::{self, b64, Alg, EcKey, Jwk, JwsSigner, RsaKey};
use urad_identity::{audit, Loa};

const REDIRECT: &str = "https://rp.example.cz/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

on_both_backends!(
    rs256_id_tokens_verify_against_the_published_keys,
    private_key_jwt_accepts_signed_assertions_once_and_refuses_the_rest,
    client_secret_post_is_accepted_only_from_clients_registered_with_it,
    failed_client_authentications_are_audited_and_rate_limited,
    reused_codes_and_refresh_tokens_are_audited,
);

fn new_client(id: &str) -> NewClient {
    NewClient {
        client_id: id.into(),
        name: id.into(),
        name_en: None,
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        public: false,
        min_loa: Loa::Low,
        source: "test".into(),
    }
}

async fn register(app: &TestApp, id: &str, options: ClientOptions) -> Option<String> {
    let db = app.store.open().await.unwrap();
    clients::add_with(&db, &urad_core::SystemClock, &new_client(id), &options)
        .await
        .unwrap()
}

/// A fresh authorization code for `client_id`, as if the person had just signed in.
async fn code_for(app: &TestApp, client_id: &str) -> String {
    let db = app.store.open().await.unwrap();
    let clock = urad_core::SystemClock;
    let grant = Grant {
        client_id: client_id.into(),
        sid: format!("sid-{client_id}"),
        person_id: "person-1".into(),
        scope: "openid offline_access".into(),
        auth_time: clock.now(),
        loa: Loa::Substantial,
        amr: vec!["eid".into()],
    };
    grants::issue_code(&db, &clock, &grant, REDIRECT, CHALLENGE, Some("n-1"))
        .await
        .unwrap()
}

fn code_form(code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.into()),
        ("redirect_uri", REDIRECT.into()),
        ("code_verifier", VERIFIER.into()),
    ]
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn post(
    app: &TestApp,
    path: &str,
    form: &[(&str, String)],
    basic: Option<(&str, &str)>,
) -> Answer {
    let mut req = app.client.post(app.url(path)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn published(app: &TestApp) -> Vec<Jwk> {
    serde_json::from_value(app.json("/oidc/jwks", 200).await["keys"].clone()).unwrap()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&jose::unb64(token.split('.').next().unwrap()).unwrap()).unwrap()
}

/// Checks an RS256 signature with the `rsa` crate directly, not through `jose::verify`.
fn rs256_signature_verifies(token: &str, jwk: &Jwk) -> bool {
    use rsa::signature::Verifier;
    let n = rsa::BigUint::from_bytes_be(&jose::unb64(&jwk.n).unwrap());
    let e = rsa::BigUint::from_bytes_be(&jose::unb64(&jwk.e).unwrap());
    let key =
        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(rsa::RsaPublicKey::new(n, e).unwrap());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature =
        rsa::pkcs1v15::Signature::try_from(jose::unb64(signature).unwrap().as_slice()).unwrap();
    key.verify(input.as_bytes(), &signature).is_ok()
}

async fn rs256_id_tokens_verify_against_the_published_keys(app: TestApp) {
    let secret = register(
        &app,
        "rsa-rp",
        ClientOptions {
            id_token_alg: Alg::Rs256,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let code = code_for(&app, "rsa-rp").await;
    let a = post(
        &app,
        "/oidc/token",
        &code_form(&code),
        Some(("rsa-rp", &secret)),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let id_token = a.body["id_token"].as_str().unwrap();
    let header = header_of(id_token);
    assert_eq!(header["alg"], "RS256");
    let jwks = published(&app).await;
    let (_, claims) = jose::verify(id_token, &jwks).unwrap();
    assert_eq!(claims["aud"], "rsa-rp");
    assert_eq!(claims["nonce"], "n-1");
    // The published key of that kid verifies the signature independently of `jose`.
    let jwk = jwks.iter().find(|k| k.kid == header["kid"]).unwrap();
    assert_eq!((jwk.kty.as_str(), jwk.alg.as_str()), ("RSA", "RS256"));
    assert!(rs256_signature_verifies(id_token, jwk));
    let mut tampered = id_token.to_owned();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert!(!rs256_signature_verifies(&tampered, jwk));
    // Access tokens stay ES256 whatever the client's ID tokens are.
    let at = a.body["access_token"].as_str().unwrap();
    assert_eq!(header_of(at)["alg"], "ES256");
    jose::verify(at, &jwks).unwrap();

    // Discovery says both; the RS256 key set rotates like the ES256 one.
    let meta = app.json("/.well-known/openid-configuration", 200).await;
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        json!(["ES256", "RS256"])
    );
    let db = app.store.open().await.unwrap();
    let before = keys_of(&db, Alg::Rs256).await;
    urad_identity::keys::rotate(&db, &urad_core::SystemClock)
        .await
        .unwrap();
    let after = keys_of(&db, Alg::Rs256).await;
    assert_ne!(before, after);
    let now_published = published(&app).await;
    assert!(
        now_published.iter().any(|k| k.kid == before),
        "retired RS256 key still published"
    );
    jose::verify(id_token, &now_published).unwrap();
    // The server read its keys moments ago and keeps them for half a minute
    // (`--cache-secs`): it still signs with the retired key, which relying parties can
    // verify because it stays published. (The switch after that minute is
    // `keys_rotate_with_overlap`'s.)
    let code = code_for(&app, "rsa-rp").await;
    let a = post(
        &app,
        "/oidc/token",
        &code_form(&code),
        Some(("rsa-rp", &secret)),
    )
    .await;
    let id_token = a.body["id_token"].as_str().unwrap();
    assert_eq!(header_of(id_token)["kid"], before.as_str());
    let jwks_after = published(&app).await;
    jose::verify(id_token, &jwks_after).unwrap();
}

async fn keys_of(db: &urad_store::Db, alg: Alg) -> String {
    urad_identity::keys::active_for(db, alg)
        .await
        .unwrap()
        .kid()
        .to_owned()
}

/// A client assertion with the given claims, signed by `key`.
fn assertion(key: &dyn JwsSigner, claims: Value) -> String {
    key.sign("JWT", &claims)
}

fn claims(client_id: &str, aud: Value, exp_in: i64, jti: &str) -> Value {
    let now = urad_core::SystemClock.now();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + exp_in,
        "jti": jti,
    })
}

fn with_assertion(form: &[(&'static str, String)], assertion: &str) -> Vec<(&'static str, String)> {
    let mut form = form.to_vec();
    form.push(("client_assertion_type", ASSERTION_TYPE.into()));
    form.push(("client_assertion", assertion.into()));
    form
}

/// HMAC-SHA256 (RFC 2104), to forge the "HS256 with the public key as secret" token.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

async fn private_key_jwt_accepts_signed_assertions_once_and_refuses_the_rest(app: TestApp) {
    let meta = app.json("/.well-known/openid-configuration", 200).await;
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );
    let ec = EcKey::generate();
    let rsa = RsaKey::generate().unwrap();
    let jwt_client = |key: Jwk| ClientOptions {
        auth_method: Some(AuthMethod::PrivateKeyJwt),
        jwks: Some(json!({ "keys": [key] }).to_string()),
        id_token_alg: Alg::Es256,
    };
    assert!(register(&app, "jwt-es", jwt_client(ec.public_jwk()))
        .await
        .is_none());
    // An RSA key as other software publishes it: no alg, no use, and an x5c chain.
    let mut rsa_jwk = rsa.public_jwk();
    rsa_jwk.alg.clear();
    rsa_jwk.use_.clear();
    let mut rsa_set = json!({ "keys": [rsa_jwk] });
    rsa_set["keys"][0]["x5c"] = json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]);
    let rsa_options = ClientOptions {
        auth_method: Some(AuthMethod::PrivateKeyJwt),
        jwks: Some(rsa_set.to_string()),
        id_token_alg: Alg::Rs256,
    };
    assert!(register(&app, "jwt-rs", rsa_options).await.is_none());
    let token_endpoint = app.url("/oidc/token");

    // ES256 with aud = the issuer, RS256 with aud = [the token endpoint]: both redeem codes.
    let code = code_for(&app, "jwt-es").await;
    let a = assertion(&ec, claims("jwt-es", json!(app.base), 60, "es-1"));
    let r = post(
        &app,
        "/oidc/token",
        &with_assertion(&code_form(&code), &a),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let code = code_for(&app, "jwt-rs").await;
    let rs = assertion(&rsa, claims("jwt-rs", json!([token_endpoint]), 60, "rs-1"));
    let mut form = with_assertion(&code_form(&code), &rs);
    form.push(("client_id", "jwt-rs".into()));
    let r = post(&app, "/oidc/token", &form, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        header_of(r.body["id_token"].as_str().unwrap())["alg"],
        "RS256"
    );
    let refresh = r.body["refresh_token"].as_str().unwrap().to_owned();

    // At the revocation endpoint a good assertion answers 200, a refused one 401.
    let revoke = |assertion: String| {
        let form = with_assertion(&[("token", "nothing-to-revoke".to_owned())], &assertion);
        let app = &app;
        async move { post(app, "/oidc/revoke", &form, None).await }
    };
    assert_eq!(
        revoke(assertion(
            &ec,
            claims("jwt-es", json!(app.base), 60, "es-2")
        ))
        .await
        .status,
        200
    );
    let refused = |r: Answer, why: &str| {
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (401, Some("invalid_client")),
            "{why}"
        );
    };
    refused(
        revoke(assertion(
            &ec,
            claims("jwt-es", json!(app.base), 60, "es-1"),
        ))
        .await,
        "replayed jti",
    );
    refused(
        revoke(assertion(
            &ec,
            claims("jwt-es", json!("https://other.example.cz"), 60, "es-3"),
        ))
        .await,
        "wrong aud",
    );
    refused(
        revoke(assertion(
            &ec,
            claims("jwt-es", json!(app.base), -10, "es-4"),
        ))
        .await,
        "expired",
    );
    refused(
        revoke(assertion(
            &ec,
            claims("jwt-es", json!(app.base), 3600, "es-5"),
        ))
        .await,
        "exp more than 5 minutes away",
    );
    refused(
        revoke(assertion(
            &EcKey::generate(),
            claims("jwt-es", json!(app.base), 60, "es-6"),
        ))
        .await,
        "signed by another key",
    );
    refused(
        revoke(assertion(
            &rsa,
            claims("jwt-es", json!(app.base), 60, "es-7"),
        ))
        .await,
        "signed by another client's key",
    );
    let mut other_sub = claims("jwt-es", json!(app.base), 60, "es-8");
    other_sub["iss"] = json!("jwt-rs");
    refused(
        revoke(assertion(&ec, other_sub)).await,
        "iss is not the client",
    );
    let mut no_jti = claims("jwt-es", json!(app.base), 60, "");
    no_jti.as_object_mut().unwrap().remove("jti");
    refused(revoke(assertion(&ec, no_jti)).await, "no jti");

    let body = b64(claims("jwt-rs", json!(app.base), 60, "rs-9")
        .to_string()
        .as_bytes());
    let none = format!("{}.{body}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    let mut form = with_assertion(&[("token", "x".to_owned())], &none);
    form.push(("client_id", "jwt-rs".into()));
    refused(post(&app, "/oidc/revoke", &form, None).await, "alg none");
    let hs_input = format!(
        "{}.{body}",
        b64(json!({ "alg": "HS256", "kid": rsa.kid })
            .to_string()
            .as_bytes())
    );
    let public_key_as_secret = serde_json::to_vec(&rsa.public_jwk()).unwrap();
    let hs = format!(
        "{hs_input}.{}",
        b64(&hmac_sha256(&public_key_as_secret, hs_input.as_bytes()))
    );
    refused(
        post(
            &app,
            "/oidc/revoke",
            &with_assertion(&[("token", "x".to_owned())], &hs),
            None,
        )
        .await,
        "HS256 with the public key as the secret",
    );
    let mut wrong_type = with_assertion(&[("token", "x".to_owned())], &rs);
    wrong_type[1].1 = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer".into();
    refused(
        post(&app, "/oidc/revoke", &wrong_type, None).await,
        "assertion type",
    );

    // A private_key_jwt client cannot fall back to another method, nor another client use its
    // assertion's client id without its key.
    let r = post(
        &app,
        "/oidc/revoke",
        &[("token", "x".to_owned())],
        Some(("jwt-es", "guess")),
    )
    .await;
    refused(r, "Basic for a private_key_jwt client");
    let r = post(
        &app,
        "/oidc/revoke",
        &[
            ("token", "x".to_owned()),
            ("client_id", "jwt-es".to_owned()),
        ],
        None,
    )
    .await;
    refused(r, "no credentials for a private_key_jwt client");

    // The RS256 client refreshes with a new assertion.
    let next = assertion(&rsa, claims("jwt-rs", json!(app.base), 60, "rs-2"));
    let r = post(
        &app,
        "/oidc/token",
        &with_assertion(
            &[
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", refresh),
            ],
            &next,
        ),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn client_secret_post_is_accepted_only_from_clients_registered_with_it(app: TestApp) {
    let post_secret = register(
        &app,
        "post-rp",
        ClientOptions {
            auth_method: Some(AuthMethod::ClientSecretPost),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let basic_secret = register(&app, "basic-rp", ClientOptions::default())
        .await
        .unwrap();
    let in_form = |id: &str, secret: &str, mut form: Vec<(&'static str, String)>| {
        form.push(("client_id", id.to_owned()));
        form.push(("client_secret", secret.to_owned()));
        form
    };
    let code = code_for(&app, "post-rp").await;
    let r = post(
        &app,
        "/oidc/token",
        &in_form("post-rp", &post_secret, code_form(&code)),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");

    let revoke = vec![("token", "x".to_owned())];
    let status = |r: Answer| (r.status, r.body["error"].as_str().map(str::to_owned));
    let invalid_client = (401, Some("invalid_client".to_owned()));
    assert_eq!(
        status(
            post(
                &app,
                "/oidc/revoke",
                &in_form("post-rp", &post_secret, revoke.clone()),
                None
            )
            .await
        )
        .0,
        200
    );
    assert_eq!(
        status(
            post(
                &app,
                "/oidc/revoke",
                &in_form("post-rp", "wrong", revoke.clone()),
                None
            )
            .await
        ),
        invalid_client,
        "wrong secret"
    );
    assert_eq!(
        status(
            post(
                &app,
                "/oidc/revoke",
                &revoke,
                Some(("post-rp", &post_secret))
            )
            .await
        ),
        invalid_client,
        "a client_secret_post client using Basic"
    );
    assert_eq!(
        status(
            post(
                &app,
                "/oidc/revoke",
                &in_form("basic-rp", &basic_secret, revoke.clone()),
                None
            )
            .await
        ),
        invalid_client,
        "a client_secret_basic client using the form"
    );
    assert_eq!(
        status(
            post(
                &app,
                "/oidc/revoke",
                &in_form("post-rp", &post_secret, revoke.clone()),
                Some(("post-rp", &post_secret))
            )
            .await
        ),
        invalid_client,
        "two methods at once"
    );
}

async fn failed_client_authentications_are_audited_and_rate_limited(app: TestApp) {
    let secret = register(&app, "limited-rp", ClientOptions::default())
        .await
        .unwrap();
    let refresh = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", "unknown".to_owned()),
    ];
    // Failed authentications and refused grants count alike: 10 of each.
    for i in 0..20 {
        let r = if i % 2 == 0 {
            post(&app, "/oidc/token", &refresh, Some(("limited-rp", "wrong"))).await
        } else {
            post(&app, "/oidc/token", &refresh, Some(("limited-rp", &secret))).await
        };
        let expected = if i % 2 == 0 { 401 } else { 400 };
        assert_eq!(r.status, expected, "request {i}: {}", r.body);
    }
    // The 21st request gets 429, even with the right secret, and so does revocation.
    let r = post(&app, "/oidc/token", &refresh, Some(("limited-rp", &secret))).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["error"], "slow_down");
    assert_eq!(r.headers["cache-control"], "no-store");
    let retry_after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let r = post(
        &app,
        "/oidc/revoke",
        &[("token", "x".to_owned())],
        Some(("limited-rp", &secret)),
    )
    .await;
    assert_eq!(r.status, 429);
    // Pages and discovery are not affected.
    app.json("/.well-known/openid-configuration", 200).await;

    let db = app.store.open().await.unwrap();
    let events = audit::recent(&db, None, 100).await.unwrap();
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "client_auth_failed")
        .collect();
    assert_eq!(failures.len(), 10);
    assert!(failures
        .iter()
        .all(|e| e.client_id.as_deref() == Some("limited-rp")
            && e.detail["reason"] == "wrong client secret"));
    let limited: Vec<_> = events.iter().filter(|e| e.kind == "rate_limited").collect();
    assert_eq!(limited.len(), 1, "reported once per window: {limited:?}");
    assert_eq!(limited[0].detail["limit"], "failures");
    let ips: Vec<Option<String>> = urad_store::sqlx::query_scalar(
        "SELECT ip FROM audit_event WHERE kind IN ('client_auth_failed', 'rate_limited')",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    assert!(
        ips.iter().all(|ip| ip.as_deref() == Some("127.0.0.1")),
        "{ips:?}"
    );
}

async fn reused_codes_and_refresh_tokens_are_audited(app: TestApp) {
    let secret = register(&app, "reuse-rp", ClientOptions::default())
        .await
        .unwrap();
    let rp = Some(("reuse-rp", secret.as_str()));
    let code = code_for(&app, "reuse-rp").await;
    let first = post(&app, "/oidc/token", &code_form(&code), rp).await;
    assert_eq!(first.status, 200);
    let replay = post(&app, "/oidc/token", &code_form(&code), rp).await;
    assert_eq!(replay.body["error"], "invalid_grant");

    let code = code_for(&app, "reuse-rp").await;
    let tokens = post(&app, "/oidc/token", &code_form(&code), rp).await;
    let refresh = |t: &str| {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", t.to_owned()),
        ]
    };
    let spent = tokens.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        post(&app, "/oidc/token", &refresh(&spent), rp).await.status,
        200
    );
    let reuse = post(&app, "/oidc/token", &refresh(&spent), rp).await;
    assert_eq!(reuse.body["error"], "invalid_grant");
    // An unknown token is refused too, but it is no reuse.
    post(&app, "/oidc/token", &refresh("never-issued"), rp).await;

    let db = app.store.open().await.unwrap();
    let reuses: Vec<_> = audit::recent(&db, None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "token_reuse")
        .collect();
    assert_eq!(reuses.len(), 2, "{reuses:?}");
    assert!(reuses
        .iter()
        .all(|e| e.client_id.as_deref() == Some("reuse-rp")));
    // Newest first: the refresh token, then the code.
    assert_eq!(reuses[0].detail["grant_type"], "refresh_token");
    assert_eq!(reuses[1].detail["grant_type"], "authorization_code");
}

#[test]
fn client_add_registers_private_key_jwt_post_and_rs256_clients() {
    let dir = tempfile::tempdir().unwrap();
    let urad = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_urad"))
            .args(["client", "add", "--redirect-uri", REDIRECT])
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("URAD_DATABASE_URL")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let jwks = dir.path().join("jwks.json");
    let key = EcKey::generate();
    std::fs::write(&jwks, json!({ "keys": [key.public_jwk()] }).to_string()).unwrap();
    let jwks = jwks.to_str().unwrap();

    let (ok, out, err) = urad(&[
        "--id",
        "jwt-rp",
        "--auth",
        "private_key_jwt",
        "--jwks",
        jwks,
        "--id-token-alg",
        "RS256",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("private_key_jwt with 1 key(s), ID tokens RS256") && !out.contains("secret"),
        "{out}"
    );
    let (ok, out, err) = urad(&["--id", "post-rp", "--auth", "client_secret_post"]);
    assert!(
        ok && out.contains("(client_secret_post, ID tokens ES256)"),
        "{err}"
    );
    assert!(out.contains("store it safely"), "{out}");

    let (ok, _, err) = urad(&["--id", "no-keys", "--auth", "private_key_jwt"]);
    assert!(!ok && err.contains("JWKS"), "{err}");
    let (ok, _, err) = urad(&["--id", "keys-no-jwt", "--jwks", jwks]);
    assert!(
        !ok && err.contains("only used with private_key_jwt"),
        "{err}"
    );
    let (ok, _, err) = urad(&["--id", "bad-alg", "--id-token-alg", "HS256"]);
    assert!(!ok && err.contains("HS256"), "{err}");
    let (ok, _, err) = urad(&["--id", "bad-auth", "--auth", "tls_client_auth"]);
    assert!(!ok && err.contains("tls_client_auth"), "{err}");
}

crate::for_both_backends!(behind_a_trusted_proxy_the_forwarded_client_is_limited_and_audited);

/// Behind a reverse proxy every connection comes from the proxy. With `--trusted-proxy` the
/// client named in `X-Forwarded-For` is the one limited and audited, so one citizen's
/// failures do not lock out everyone behind the same proxy; a client's own forged entries
/// left of the proxy's are ignored.
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited_and_audited(
    backend: crate::harness::Backend,
) {
    let app = TestApp::start_with(
        backend,
        crate::harness::Setup {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let secret = register(&app, "proxied-rp", ClientOptions::default())
        .await
        .unwrap();
    let attempt = |forwarded: &'static str, secret: String| {
        let request = app
            .client
            .post(app.url("/oidc/token"))
            .basic_auth("proxied-rp", Some(secret))
            .header("x-forwarded-for", forwarded)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "unknown"),
            ]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // The attacker forges an address of its own left of the one the proxy appended.
    for _ in 0..20 {
        assert_eq!(
            attempt("198.51.100.1, 203.0.113.66", "wrong".into()).await,
            401
        );
    }
    assert_eq!(attempt("203.0.113.66", secret.clone()).await, 429);
    // The forged address was not blamed, and another citizen behind the same proxy is not
    // affected (400: the made-up refresh token).
    assert_eq!(attempt("198.51.100.1", secret.clone()).await, 400);
    assert_eq!(attempt("203.0.113.77", secret.clone()).await, 400);

    let db = app.store.open().await.unwrap();
    let ips: Vec<Option<String>> = urad_store::sqlx::query_scalar(
        "SELECT ip FROM audit_event WHERE kind IN ('client_auth_failed', 'rate_limited')",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    assert_eq!(ips.len(), 21, "{ips:?}");
    assert!(
        ips.iter().all(|ip| ip.as_deref() == Some("203.0.113.66")),
        "{ips:?}"
    );
}
