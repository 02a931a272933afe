//! The identity gateway: discovery, signing keys and their rotation, registered clients.

use crate::harness::{fresh_database, Backend, TestApp};
use crate::on_both_backends;
use serde_json::json;
use urad::StoreArgs;
use urad_core::{Clock, ManualClock};
use urad_identity::clients::{self, NewClient};
use urad_identity::jose::JwsSigner;
use urad_identity::{jose, keys, Loa};

/// A client registration for tests.
fn client(id: &str, redirect_uri: &str, public: bool, min_loa: Loa) -> NewClient {
    NewClient {
        client_id: id.into(),
        name: id.into(),
        name_en: None,
        redirect_uris: vec![redirect_uri.into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        public,
        min_loa,
        source: "test".into(),
    }
}

on_both_backends!(
    discovery_and_jwks_describe_the_gateway,
    token_endpoint_redeems_codes_and_rotates_refresh_tokens,
    userinfo_releases_scoped_claims_while_the_session_lives,
);

async fn discovery_and_jwks_describe_the_gateway(app: TestApp) {
    let meta = app.json("/.well-known/openid-configuration", 200).await;
    assert_eq!(meta["issuer"], app.base.as_str());
    assert_eq!(meta["jwks_uri"], format!("{}/oidc/jwks", app.base));
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert!(meta["acr_values_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "http://eidas.europa.eu/LoA/high"));

    let jwks = app.json("/oidc/jwks", 200).await;
    let published: Vec<jose::Jwk> = serde_json::from_value(jwks["keys"].clone()).unwrap();
    assert_eq!(
        published.len(),
        4,
        "the active key and the next one, per algorithm"
    );
    for (alg, kty) in [("ES256", "EC"), ("RS256", "RSA")] {
        let of_alg: Vec<_> = published.iter().filter(|k| k.alg == alg).collect();
        assert_eq!(of_alg.len(), 2, "{alg}");
        assert!(of_alg.iter().all(|k| k.kty == kty && k.use_ == "sig"));
        assert_ne!(of_alg[0].kid, of_alg[1].kid);
    }

    // What the active key signs verifies with the published keys, and nothing is private.
    let db = app.store.open().await.unwrap();
    let token = keys::active(&db)
        .await
        .unwrap()
        .sign("JWT", &json!({ "sub": "x" }));
    jose::verify(&token, &published).unwrap();
    assert!(!jwks.to_string().contains("\"d\""));
}

async fn token_endpoint_redeems_codes_and_rotates_refresh_tokens(app: TestApp) {
    use urad_identity::grants::{self, Grant};
    let db = app.store.open().await.unwrap();
    let clock = urad_core::SystemClock;
    let secret = clients::add(
        &db,
        &clock,
        &client("the-rp", "https://rp.example.cz/cb", false, Loa::Low),
    )
    .await
    .unwrap()
    .unwrap();
    let grant = Grant {
        client_id: "the-rp".into(),
        sid: "sid-http".into(),
        person_id: "person-http".into(),
        scope: "openid".into(),
        auth_time: clock.now(),
        loa: Loa::Substantial,
        amr: vec!["eid".into()],
    };
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let new_code = || {
        grants::issue_code(
            &db,
            &clock,
            &grant,
            "https://rp.example.cz/cb",
            challenge,
            Some("n-http"),
        )
    };
    let post = |form: Vec<(&'static str, String)>, user: Option<(&'static str, String)>| {
        let mut req = app.client.post(app.url("/oidc/token")).form(&form);
        if let Some((id, secret)) = user {
            req = req.basic_auth(id, Some(secret));
        }
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            (
                status,
                headers,
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let code_form = |code: String, verifier: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", "https://rp.example.cz/cb".to_owned()),
            ("code_verifier", verifier.to_owned()),
        ]
    };
    let rp = || Some(("the-rp", secret.clone()));

    let code = new_code().await.unwrap();
    let (status, headers, body) = post(code_form(code.clone(), verifier), rp()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    let jwks: Vec<jose::Jwk> =
        serde_json::from_value(app.json("/oidc/jwks", 200).await["keys"].clone()).unwrap();
    let (_, id) = jose::verify(body["id_token"].as_str().unwrap(), &jwks).unwrap();
    assert_eq!(id["iss"], app.base.as_str());
    assert_eq!(id["aud"], "the-rp");
    assert_eq!(id["nonce"], "n-http");
    assert_eq!(id["acr"], "http://eidas.europa.eu/LoA/substantial");
    let (_, at) = jose::verify(body["access_token"].as_str().unwrap(), &jwks).unwrap();
    assert_eq!(at["client_id"], "the-rp");

    // A replayed code is refused with the standard error.
    let (status, _, replay) = post(code_form(code, verifier), rp()).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Refresh tokens rotate; reuse revokes the family.
    let code = new_code().await.unwrap();
    let (_, _, tokens) = post(code_form(code, verifier), rp()).await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |t: &str| {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", t.to_owned()),
        ]
    };
    let (status, _, next) = post(refresh(&first), rp()).await;
    assert_eq!(status, 200, "{next}");
    let second = next["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (status, _, reuse) = post(refresh(&first), rp()).await;
    assert_eq!(
        (status, reuse["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, revoked) = post(refresh(&second), rp()).await;
    assert_eq!(
        (status, revoked["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Revoking a refresh token ends its family; others' and unknown tokens are ignored.
    let code = new_code().await.unwrap();
    let (_, _, tokens) = post(code_form(code, verifier), rp()).await;
    let kept = tokens["refresh_token"].as_str().unwrap().to_owned();
    let revoke = |token: &str, user: Option<(&'static str, String)>| {
        let mut req = app
            .client
            .post(app.url("/oidc/revoke"))
            .form(&[("token", token)]);
        if let Some((id, secret)) = user {
            req = req.basic_auth(id, Some(secret));
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(revoke("no-such-token", rp()).await, 200);
    assert_eq!(revoke(&kept, Some(("the-rp", "wrong".into()))).await, 401);
    assert_eq!(revoke(&kept, rp()).await, 200);
    let (status, _, e) = post(refresh(&kept), rp()).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));

    // Wrong verifier, missing verifier, unknown client, wrong secret, unsupported grant.
    let code = new_code().await.unwrap();
    let (status, _, e) = post(
        code_form(code.clone(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"),
        rp(),
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _, e) = post(code_form(code.clone(), ""), rp()).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, headers, e) = post(
        code_form(code.clone(), verifier),
        Some(("the-rp", "wrong".into())),
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")));
    assert!(headers.contains_key("www-authenticate"));
    let (status, _, e) = post(
        code_form(code.clone(), verifier),
        Some(("nobody", "x".into())),
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")));
    let mut no_auth = code_form(code.clone(), verifier);
    no_auth.push(("client_id", "the-rp".into()));
    let (status, _, e) = post(no_auth, None).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (401, Some("invalid_client")),
        "a confidential client must authenticate"
    );
    let (status, _, e) = post(vec![("grant_type", "password".into())], rp()).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    // The code survived the failed attempts and still works once.
    let (status, _, _) = post(code_form(code, verifier), rp()).await;
    assert_eq!(status, 200);
    // A parameter given twice is refused.
    let r = app
        .client
        .post(app.url("/oidc/token"))
        .basic_auth("the-rp", Some(secret.clone()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token&grant_type=authorization_code")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
}

async fn userinfo_releases_scoped_claims_while_the_session_lives(app: TestApp) {
    use urad_identity::grants::{self, Grant};
    use urad_identity::sessions::{self, UpstreamLogin};
    let db = app.store.open().await.unwrap();
    let clock = urad_core::SystemClock;
    clients::add(
        &db,
        &clock,
        &client("spa-app", "http://localhost:5173/cb", true, Loa::Low),
    )
    .await
    .unwrap();
    let login = UpstreamLogin {
        upstream: "demo".into(),
        subject: "demo-jana".into(),
        link_key: None,
        loa: Loa::Substantial,
        amr: vec!["pwd".into()],
        claims: json!({ "name": "Jana Nováková", "birthdate": "1980-01-01", "address": { "locality": "Ostrava" } }),
        id_token: None,
    };
    let person = sessions::resolve_person(&db, &clock, &login).await.unwrap();
    let (_, session) = sessions::start(&db, &clock, &person, &login, None)
        .await
        .unwrap();
    let grant = Grant {
        client_id: "spa-app".into(),
        sid: session.sid.clone(),
        person_id: person,
        scope: "openid profile".into(),
        auth_time: session.auth_time,
        loa: session.loa,
        amr: session.amr.clone(),
    };
    let code = grants::issue_code(
        &db,
        &clock,
        &grant,
        "http://localhost:5173/cb",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        None,
    )
    .await
    .unwrap();
    let tokens: serde_json::Value = app
        .client
        .post(app.url("/oidc/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:5173/cb"),
            (
                "code_verifier",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            ),
            ("client_id", "spa-app"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"]
        .as_str()
        .expect("a public client gets tokens with PKCE");
    let userinfo = |bearer: Option<String>| {
        let mut req = app.client.get(app.url("/oidc/userinfo"));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        async move { req.send().await.unwrap() }
    };
    let r = userinfo(Some(access.to_owned())).await;
    assert_eq!(r.status(), 200);
    let claims: serde_json::Value = r.json().await.unwrap();
    let jwks: Vec<jose::Jwk> =
        serde_json::from_value(app.json("/oidc/jwks", 200).await["keys"].clone()).unwrap();
    let (_, id) = jose::verify(tokens["id_token"].as_str().unwrap(), &jwks).unwrap();
    assert_eq!(claims["sub"], id["sub"]);
    assert_eq!(claims["name"], "Jana Nováková");
    assert!(
        claims.get("address").is_none(),
        "the address scope was not granted"
    );

    let r = userinfo(None).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let mut tampered = access.to_owned();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert_eq!(userinfo(Some(tampered)).await.status(), 401);
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    assert_eq!(
        userinfo(Some(id_token)).await.status(),
        401,
        "an ID token is not an access token"
    );

    // Sign-out takes effect at once.
    sessions::end(&db, &clock, &session.sid).await.unwrap();
    assert_eq!(userinfo(Some(access.to_owned())).await.status(), 401);
}

pub(crate) async fn open(backend: Backend) -> (urad_store::Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreArgs {
        data_dir: dir.path().join("data"),
        database_url: fresh_database(backend).await,
    };
    (store.open().await.unwrap(), dir)
}

fn kids(keys: &[jose::Jwk]) -> Vec<String> {
    keys.iter().map(|k| k.kid.clone()).collect()
}

async fn keys_rotate_with_overlap(backend: Backend) {
    let (db, _dir) = open(backend).await;
    let clock = ManualClock::at(1_800_000_000);
    keys::ensure(&db, &clock).await.unwrap();
    keys::ensure(&db, &clock).await.unwrap(); // idempotent
    let first = keys::active(&db).await.unwrap();
    let before = keys::published(&db, &clock).await.unwrap();
    assert_eq!(before.len(), 4, "active and next, ES256 and RS256");
    let token = first.sign("JWT", &json!({ "sub": "before rotation" }));
    // A process keeps the keys it read for a minute.
    let keyring = keys::Keyring::new(60);
    let kept = keyring.get(&db, &clock).await.unwrap();
    assert_eq!(kept.es256().kid, first.kid);
    assert_eq!(kids(kept.published()), kids(&before));

    assert!(
        !keys::rotate_if_due(&db, &clock).await.unwrap(),
        "a fresh key is not due"
    );
    clock.advance(keys::ROTATE_AFTER_SECS);
    let read_before_rotation = keyring.get(&db, &clock).await.unwrap();
    assert_eq!(read_before_rotation.es256().kid, first.kid);
    assert!(keys::rotate_if_due(&db, &clock).await.unwrap());

    // The new signing key was published before it signed anything.
    let second = keys::active(&db).await.unwrap();
    assert_ne!(second.kid, first.kid);
    assert!(kids(&before).contains(&second.kid));
    // The retired key stays published: tokens it signed still verify.
    let after = keys::published(&db, &clock).await.unwrap();
    assert_eq!(after.len(), 6);
    jose::verify(&token, &after).unwrap();

    // A process that read the keys before another one rotated them signs with the retired
    // key for at most its keyring's lifetime (harmless: that key is still published), then
    // with the new one; forgetting reads them at once.
    let stale = keyring.get(&db, &clock).await.unwrap();
    assert_eq!(stale.es256().kid, first.kid);
    jose::verify(&stale.es256().sign("JWT", &json!({})), &after).unwrap();
    clock.advance(60);
    let fresh = keyring.get(&db, &clock).await.unwrap();
    assert_eq!(fresh.es256().kid, second.kid);
    assert_eq!(fresh.published().len(), 6);
    assert_eq!(
        fresh.active(jose::Alg::Rs256).kid(),
        keys::active_for(&db, jose::Alg::Rs256).await.unwrap().kid()
    );
    keys::rotate(&db, &clock).await.unwrap();
    keyring.forget();
    assert_ne!(
        keyring.get(&db, &clock).await.unwrap().es256().kid,
        second.kid
    );

    // Once every token it could have signed has expired, it is gone.
    clock.advance(keys::RETIRED_KEY_PUBLISHED_SECS + 1);
    let later = keys::published(&db, &clock).await.unwrap();
    assert!(!kids(&later).contains(&first.kid));
    assert!(jose::verify(&token, &later).is_err());
    keys::rotate(&db, &clock).await.unwrap();
    assert_eq!(keys::published(&db, &clock).await.unwrap().len(), 6);
}

async fn clients_are_registered_with_hashed_secrets(backend: Backend) {
    let (db, _dir) = open(backend).await;
    let clock = ManualClock::at(1_800_000_000);
    let mut new = NewClient {
        client_id: "grant-system".into(),
        name: "Dotační systém".into(),
        name_en: None,
        redirect_uris: vec!["https://dotace.example.cz/callback".into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: Some("https://dotace.example.cz/logout".into()),
        public: false,
        min_loa: Loa::Substantial,
        source: "test".into(),
    };
    let secret = clients::add(&db, &clock, &new)
        .await
        .unwrap()
        .expect("a secret");
    assert!(secret.len() >= 43);
    let client = clients::find(&db, "grant-system").await.unwrap().unwrap();
    assert!(client.secret_matches(&secret));
    assert!(!client.secret_matches("guess"));
    assert!(!client.is_public());
    assert_eq!(client.min_loa, Loa::Substantial);
    assert!(client.allows_redirect("https://dotace.example.cz/callback"));
    assert!(!client.allows_redirect("https://dotace.example.cz/callback/"));
    assert!(!client.allows_redirect("https://dotace.example.cz/callback?x=1"));
    assert!(matches!(
        clients::add(&db, &clock, &new).await,
        Err(clients::ClientError::Exists(_))
    ));

    new.client_id = "mobile-app".into();
    new.public = true;
    new.redirect_uris = vec!["http://127.0.0.1:7777/cb".into()];
    assert!(clients::add(&db, &clock, &new).await.unwrap().is_none());
    let public = clients::find(&db, "mobile-app").await.unwrap().unwrap();
    assert!(public.is_public() && !public.secret_matches(""));

    new.client_id = "bad-redirect".into();
    new.redirect_uris = vec!["http://evil.example.cz/cb".into()];
    assert!(matches!(
        clients::add(&db, &clock, &new).await,
        Err(clients::ClientError::RedirectUri { .. })
    ));
    assert!(clients::find(&db, "bad-redirect").await.unwrap().is_none());
}

async fn authorization_requests_are_checked_like_rfc_9700_asks(backend: Backend) {
    use urad_identity::authorize::{self, AuthorizeError, Prompt};
    let (db, _dir) = open(backend).await;
    let clock = ManualClock::at(1_800_000_000);
    let client = client(
        "patient-portal",
        "https://pacient.example.cz/cb",
        false,
        Loa::Substantial,
    );
    clients::add(&db, &clock, &client).await.unwrap();
    let good = [
        ("client_id", "patient-portal"),
        ("redirect_uri", "https://pacient.example.cz/cb"),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "s-123"),
        ("nonce", "n-456"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let params = |changes: &[(&str, Option<&str>)]| {
        let mut p: authorize::Params = good
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in changes {
            match v {
                Some(v) => p.insert(k.to_string(), v.to_string()),
                None => p.remove(*k),
            };
        }
        p
    };
    let ok = authorize::validate(&db, &params(&[])).await.unwrap();
    assert_eq!(ok.required_loa, Loa::Substantial, "the client's minimum");
    assert_eq!(
        (ok.state.as_deref(), ok.nonce.as_deref()),
        (Some("s-123"), Some("n-456"))
    );
    assert_eq!(ok.prompt, Prompt::Default);
    let high = authorize::validate(
        &db,
        &params(&[("acr_values", Some("http://eidas.europa.eu/LoA/high"))]),
    )
    .await
    .unwrap();
    assert_eq!(high.required_loa, Loa::High, "step-up asked by the request");
    let low = authorize::validate(
        &db,
        &params(&[("acr_values", Some("http://eidas.europa.eu/LoA/low"))]),
    )
    .await
    .unwrap();
    assert_eq!(
        low.required_loa,
        Loa::Substantial,
        "never below the client's minimum"
    );
    let en = authorize::validate(
        &db,
        &params(&[
            ("ui_locales", Some("de en-GB cs")),
            ("max_age", Some("300")),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(
        (en.ui_locale.as_deref(), en.max_age),
        (Some("en"), Some(300))
    );

    // Never redirect to an unknown place.
    for (changes, page) in [
        (vec![("client_id", Some("nobody"))], "unknown-client"),
        (vec![("client_id", None)], "missing-client"),
        (
            vec![("redirect_uri", Some("https://evil.example.cz/cb"))],
            "unregistered-redirect-uri",
        ),
        (
            vec![("redirect_uri", Some("https://pacient.example.cz/cb/"))],
            "unregistered-redirect-uri",
        ),
        (vec![("redirect_uri", None)], "missing-redirect-uri"),
    ] {
        assert_eq!(
            authorize::validate(&db, &params(&changes))
                .await
                .unwrap_err(),
            AuthorizeError::Page(page)
        );
    }
    // Everything else goes back to the client with the standard code and its state.
    for (changes, code) in [
        (vec![("code_challenge", None)], "invalid_request"),
        (
            vec![("code_challenge_method", Some("plain"))],
            "invalid_request",
        ),
        (vec![("code_challenge_method", None)], "invalid_request"),
        (
            vec![("code_challenge", Some("too-short"))],
            "invalid_request",
        ),
        (
            vec![("response_type", Some("token"))],
            "unsupported_response_type",
        ),
        (
            vec![("response_type", Some("code id_token"))],
            "unsupported_response_type",
        ),
        (vec![("scope", Some("profile"))], "invalid_scope"),
        (vec![("prompt", Some("none login"))], "invalid_request"),
        (vec![("max_age", Some("-5"))], "invalid_request"),
        (vec![("response_mode", Some("fragment"))], "invalid_request"),
        (vec![("request", Some("eyJ..."))], "request_not_supported"),
    ] {
        match authorize::validate(&db, &params(&changes))
            .await
            .unwrap_err()
        {
            AuthorizeError::Redirect {
                error,
                state,
                redirect_uri,
                ..
            } => {
                assert_eq!(error, code, "{changes:?}");
                assert_eq!(state.as_deref(), Some("s-123"));
                assert_eq!(redirect_uri, "https://pacient.example.cz/cb");
            }
            other => panic!("{changes:?}: {other:?}"),
        }
    }
}

async fn codes_and_refresh_tokens_are_single_use(backend: Backend) {
    use urad_identity::grants::{self, Grant, GrantError};
    let (db, _dir) = open(backend).await;
    let clock = ManualClock::at(1_800_000_000);
    for id in ["portal", "other"] {
        let new = NewClient {
            client_id: id.into(),
            name: id.into(),
            name_en: None,
            redirect_uris: vec![format!("https://{id}.example.cz/cb")],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            public: true,
            min_loa: Loa::Low,
            source: "test".into(),
        };
        clients::add(&db, &clock, &new).await.unwrap();
    }
    let grant = Grant {
        client_id: "portal".into(),
        sid: "sid-1".into(),
        person_id: "person-1".into(),
        scope: "openid profile".into(),
        auth_time: clock.now(),
        loa: Loa::High,
        amr: vec!["eid".into(), "mfa".into()],
    };
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let redirect = "https://portal.example.cz/cb";
    let code = grants::issue_code(&db, &clock, &grant, redirect, challenge, Some("n-1"))
        .await
        .unwrap();

    let redeem =
        |code: String, client: &'static str, redirect: &'static str, verifier: &'static str| {
            let db = db.clone();
            let clock = &clock;
            async move { grants::redeem_code(&db, clock, &code, client, redirect, verifier).await }
        };
    assert_eq!(
        redeem(
            code.clone(),
            "portal",
            redirect,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"
        )
        .await
        .unwrap_err(),
        GrantError::WrongVerifier
    );
    assert_eq!(
        redeem(
            code.clone(),
            "portal",
            "https://portal.example.cz/other",
            verifier
        )
        .await
        .unwrap_err(),
        GrantError::WrongRedirectUri
    );
    assert_eq!(
        redeem(code.clone(), "other", redirect, verifier)
            .await
            .unwrap_err(),
        GrantError::WrongClient
    );
    assert_eq!(
        redeem("made-up".into(), "portal", redirect, verifier)
            .await
            .unwrap_err(),
        GrantError::Unknown
    );
    let (redeemed, nonce) = redeem(code.clone(), "portal", redirect, verifier)
        .await
        .unwrap();
    assert_eq!(
        (redeemed.clone(), nonce.as_deref()),
        (grant.clone(), Some("n-1"))
    );
    let refresh = grants::issue_refresh_for_code(&db, &clock, &redeemed, &code)
        .await
        .unwrap();

    // A replayed code is refused and takes the tokens it produced with it.
    assert_eq!(
        redeem(code.clone(), "portal", redirect, verifier)
            .await
            .unwrap_err(),
        GrantError::Replayed
    );
    assert_eq!(
        grants::rotate_refresh(&db, &clock, &refresh, "portal")
            .await
            .unwrap_err(),
        GrantError::Revoked
    );

    // Codes expire after a minute.
    let late = grants::issue_code(&db, &clock, &grant, redirect, challenge, None)
        .await
        .unwrap();
    clock.advance(grants::CODE_TTL_SECS + 1);
    assert_eq!(
        redeem(late, "portal", redirect, verifier)
            .await
            .unwrap_err(),
        GrantError::Expired
    );

    // Refresh tokens rotate; a spent one presented again revokes the family.
    let code = grants::issue_code(&db, &clock, &grant, redirect, challenge, None)
        .await
        .unwrap();
    let (g, _) = redeem(code.clone(), "portal", redirect, verifier)
        .await
        .unwrap();
    let first = grants::issue_refresh_for_code(&db, &clock, &g, &code)
        .await
        .unwrap();
    let (again, second) = grants::rotate_refresh(&db, &clock, &first, "portal")
        .await
        .unwrap();
    assert_eq!(again, grant, "the grant is carried unchanged");
    assert_ne!(second, first);
    assert_eq!(
        grants::rotate_refresh(&db, &clock, &second, "other")
            .await
            .unwrap_err(),
        GrantError::WrongClient
    );
    assert_eq!(
        grants::rotate_refresh(&db, &clock, &first, "portal")
            .await
            .unwrap_err(),
        GrantError::Replayed
    );
    assert_eq!(
        grants::rotate_refresh(&db, &clock, &second, "portal")
            .await
            .unwrap_err(),
        GrantError::Revoked
    );

    // Only the client that holds a refresh token can revoke it.
    let code = grants::issue_code(&db, &clock, &grant, redirect, challenge, None)
        .await
        .unwrap();
    let (g, _) = redeem(code.clone(), "portal", redirect, verifier)
        .await
        .unwrap();
    let token = grants::issue_refresh_for_code(&db, &clock, &g, &code)
        .await
        .unwrap();
    assert!(!grants::revoke_refresh(&db, &clock, &token, "other")
        .await
        .unwrap());
    let (_, token) = grants::rotate_refresh(&db, &clock, &token, "portal")
        .await
        .unwrap();
    assert!(grants::revoke_refresh(&db, &clock, &token, "portal")
        .await
        .unwrap());
    assert_eq!(
        grants::rotate_refresh(&db, &clock, &token, "portal")
            .await
            .unwrap_err(),
        GrantError::Revoked
    );

    // Rotation never extends the family's life.
    let code = grants::issue_code(&db, &clock, &grant, redirect, challenge, None)
        .await
        .unwrap();
    let (g, _) = redeem(code.clone(), "portal", redirect, verifier)
        .await
        .unwrap();
    let mut token = grants::issue_refresh_for_code(&db, &clock, &g, &code)
        .await
        .unwrap();
    clock.advance(grants::REFRESH_TTL_SECS - 10);
    token = grants::rotate_refresh(&db, &clock, &token, "portal")
        .await
        .unwrap()
        .1;
    clock.advance(11);
    assert_eq!(
        grants::rotate_refresh(&db, &clock, &token, "portal")
            .await
            .unwrap_err(),
        GrantError::Expired
    );
}

/// Eight requests present the same code, then the same refresh token, at the same moment
/// (a retrying client, or a thief racing the owner): exactly one wins each time, on both
/// databases, and the losers revoke what the winner got.
async fn a_code_or_refresh_token_presented_at_once_has_one_winner(backend: Backend) {
    use urad_identity::grants::{self, Grant, GrantError};
    let (db, _dir) = open(backend).await;
    let clock = std::sync::Arc::new(ManualClock::at(1_800_000_000));
    clients::add(
        &db,
        clock.as_ref(),
        &client("portal", "https://portal.example.cz/cb", false, Loa::Low),
    )
    .await
    .unwrap();
    let grant = Grant {
        client_id: "portal".into(),
        sid: "sid-race".into(),
        person_id: "person-race".into(),
        scope: "openid".into(),
        auth_time: clock.now(),
        loa: Loa::Substantial,
        amr: vec!["eid".into()],
    };
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let redirect = "https://portal.example.cz/cb";
    let code = grants::issue_code(&db, clock.as_ref(), &grant, redirect, challenge, None)
        .await
        .unwrap();

    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (db, clock, code) = (db.clone(), clock.clone(), code.clone());
        racers.spawn(async move {
            grants::redeem_code_with_refresh(
                &db,
                clock.as_ref(),
                &code,
                "portal",
                redirect,
                verifier,
            )
            .await
        });
    }
    let outcomes = racers.join_all().await;
    let winners: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let revoked_by_replays = winners[0].2.clone();
    assert!(outcomes
        .iter()
        .filter_map(|o| o.as_ref().err())
        .all(|e| *e == GrantError::Replayed));
    // The replays revoked what the code produced (RFC 6749 §4.1.2), the winner's token too.
    assert_eq!(
        grants::rotate_refresh(&db, clock.as_ref(), &revoked_by_replays, "portal")
            .await
            .unwrap_err(),
        GrantError::Revoked
    );

    let code = grants::issue_code(&db, clock.as_ref(), &grant, redirect, challenge, None)
        .await
        .unwrap();
    let (_, _, refresh) =
        grants::redeem_code_with_refresh(&db, clock.as_ref(), &code, "portal", redirect, verifier)
            .await
            .unwrap();

    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (db, clock, refresh) = (db.clone(), clock.clone(), refresh.clone());
        racers.spawn(async move {
            grants::rotate_refresh(&db, clock.as_ref(), &refresh, "portal").await
        });
    }
    let outcomes = racers.join_all().await;
    let winners: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let (carried, next) = winners[0].clone();
    assert_eq!(carried, grant);
    // A loser found the token spent (and revoked the family) or the family already revoked.
    assert!(outcomes
        .iter()
        .any(|o| o.as_ref().err() == Some(&GrantError::Replayed)));
    assert!(outcomes
        .iter()
        .filter_map(|o| o.as_ref().err())
        .all(|e| matches!(e, GrantError::Replayed | GrantError::Revoked)));
    assert_eq!(
        grants::rotate_refresh(&db, clock.as_ref(), &next, "portal")
            .await
            .unwrap_err(),
        GrantError::Revoked,
        "the winner's token went with its family"
    );
}

async fn a_process_keeps_clients_it_found_for_a_while_but_never_an_unknown_id(backend: Backend) {
    let (db, _dir) = open(backend).await;
    let clock = ManualClock::at(1_800_000_000);
    let cache = clients::ClientCache::new(30);
    let new = |id: &str| client(id, "https://app.example.cz/cb", true, Loa::Low);
    // Asked for before it exists, then registered: found at once (misses are not kept).
    assert!(cache.find(&db, &clock, "late").await.unwrap().is_none());
    clients::add(&db, &clock, &new("late")).await.unwrap();
    let found = cache.find(&db, &clock, "late").await.unwrap().unwrap();
    assert!(found.allows_redirect("https://app.example.cz/cb"));

    // Changed in the database (by another process): the kept registration serves until it
    // is `ttl` old, then the new one.
    urad_store::sqlx::query("UPDATE oidc_client SET redirect_uris = $1 WHERE client_id = $2")
        .bind(r#"["https://app.example.cz/new"]"#)
        .bind("late")
        .execute(db.writer())
        .await
        .unwrap();
    clock.advance(29);
    let kept = cache.find(&db, &clock, "late").await.unwrap().unwrap();
    assert!(kept.allows_redirect("https://app.example.cz/cb"));
    clock.advance(1);
    let fresh = cache.find(&db, &clock, "late").await.unwrap().unwrap();
    assert!(fresh.allows_redirect("https://app.example.cz/new"));
    assert!(!fresh.allows_redirect("https://app.example.cz/cb"));

    // Removed: gone once the kept copy is stale, and not kept as gone.
    urad_store::sqlx::query("DELETE FROM oidc_client WHERE client_id = $1")
        .bind("late")
        .execute(db.writer())
        .await
        .unwrap();
    clock.advance(30);
    assert!(cache.find(&db, &clock, "late").await.unwrap().is_none());
    clients::add(&db, &clock, &new("late")).await.unwrap();
    assert!(cache.find(&db, &clock, "late").await.unwrap().is_some());
}

async fn sessions_start_end_and_link_people_by_verified_identifiers_only(backend: Backend) {
    use urad_identity::grants::{self, Grant, GrantError};
    use urad_identity::sessions::{self, UpstreamLogin};
    let (db, _dir) = open(backend).await;
    let clock = ManualClock::at(1_800_000_000);
    let nia = UpstreamLogin {
        upstream: "nia".into(),
        subject: "nia-sub-1".into(),
        link_key: Some("CZ/8001011234".into()),
        loa: Loa::High,
        amr: vec!["eid".into()],
        claims: json!({ "given_name": "Jana", "family_name": "Nováková", "birthdate": "1980-01-01" }),
        id_token: Some("upstream.id.token".into()),
    };
    let person = sessions::resolve_person(&db, &clock, &nia).await.unwrap();
    assert_eq!(
        sessions::resolve_person(&db, &clock, &nia).await.unwrap(),
        person,
        "the same login, the same person"
    );
    // The same person at her bank: linked through the verified identifier.
    let bank = UpstreamLogin {
        upstream: "bankid".into(),
        subject: "bank-77".into(),
        loa: Loa::Substantial,
        ..nia.clone()
    };
    assert_eq!(
        sessions::resolve_person(&db, &clock, &bank).await.unwrap(),
        person
    );
    // Someone with the same name but no verified identifier in common is someone else.
    let namesake = UpstreamLogin {
        upstream: "bankid".into(),
        subject: "bank-78".into(),
        link_key: Some("CZ/9002021234".into()),
        ..nia.clone()
    };
    assert_ne!(
        sessions::resolve_person(&db, &clock, &namesake)
            .await
            .unwrap(),
        person
    );
    let unlinked = UpstreamLogin {
        upstream: "demo".into(),
        subject: "d-1".into(),
        link_key: None,
        ..nia.clone()
    };
    assert_ne!(
        sessions::resolve_person(&db, &clock, &unlinked)
            .await
            .unwrap(),
        person
    );

    // Every sign-in is a new session with a new id.
    let (token, session) = sessions::start(&db, &clock, &person, &nia, Some("Firefox"))
        .await
        .unwrap();
    let (token2, session2) = sessions::start(&db, &clock, &person, &bank, None)
        .await
        .unwrap();
    assert_ne!(token, token2);
    assert_ne!(session.sid, session2.sid);
    let found = sessions::find(&db, &clock, &token).await.unwrap().unwrap();
    assert_eq!(found, session);
    assert_eq!(found.loa, Loa::High);
    assert_eq!(found.claims["family_name"], "Nováková");
    assert!(sessions::find(&db, &clock, "not-a-token")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        sessions::live_sessions(&db, &clock, &person)
            .await
            .unwrap()
            .len(),
        2
    );

    // Ending a session ends its refresh tokens for every client and hands back the upstream
    // ID token for logout propagation.
    clients::add(
        &db,
        &clock,
        &client("portal", "https://portal.example.cz/cb", true, Loa::Low),
    )
    .await
    .unwrap();
    let grant = Grant {
        client_id: "portal".into(),
        sid: session.sid.clone(),
        person_id: person.clone(),
        scope: "openid".into(),
        auth_time: session.auth_time,
        loa: session.loa,
        amr: session.amr.clone(),
    };
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let code = grants::issue_code(
        &db,
        &clock,
        &grant,
        "https://portal.example.cz/cb",
        challenge,
        None,
    )
    .await
    .unwrap();
    let (g, _) = grants::redeem_code(
        &db,
        &clock,
        &code,
        "portal",
        "https://portal.example.cz/cb",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    )
    .await
    .unwrap();
    let refresh = grants::issue_refresh_for_code(&db, &clock, &g, &code)
        .await
        .unwrap();
    assert!(sessions::is_live(&db, &clock, &session.sid).await.unwrap());
    assert_eq!(
        sessions::end(&db, &clock, &session.sid).await.unwrap(),
        Some(Some("upstream.id.token".into()))
    );
    assert_eq!(
        sessions::end(&db, &clock, &session.sid).await.unwrap(),
        None,
        "ending twice does nothing"
    );
    assert!(!sessions::is_live(&db, &clock, &session.sid).await.unwrap());
    assert!(sessions::find(&db, &clock, &token).await.unwrap().is_none());
    assert_eq!(
        grants::rotate_refresh(&db, &clock, &refresh, "portal")
            .await
            .unwrap_err(),
        GrantError::Revoked
    );
    assert_eq!(
        sessions::live_sessions(&db, &clock, &person).await.unwrap(),
        vec![session2.clone()]
    );

    // Sessions expire after a working day.
    clock.advance(sessions::SESSION_TTL_SECS);
    assert!(sessions::find(&db, &clock, &token2)
        .await
        .unwrap()
        .is_none());
    assert!(sessions::live_sessions(&db, &clock, &person)
        .await
        .unwrap()
        .is_empty());
}

crate::for_both_backends!(
    keys_rotate_with_overlap,
    clients_are_registered_with_hashed_secrets,
    authorization_requests_are_checked_like_rfc_9700_asks,
    codes_and_refresh_tokens_are_single_use,
    a_code_or_refresh_token_presented_at_once_has_one_winner,
    a_process_keeps_clients_it_found_for_a_while_but_never_an_unknown_id,
    sessions_start_end_and_link_people_by_verified_identifiers_only
);
