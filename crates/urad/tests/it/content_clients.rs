//! Relying parties declared in `content/clients.toml`: registered when the server starts,
//! usable at once, updated in place (never duplicated) on the next start, removed when no
//! longer declared; a missing secret or a bad file stops the start.

use crate::harness::{copy_catalogue, Backend, Setup, TestApp};
use crate::signin::{query_param, Browser};
use std::path::Path;
use urad_identity::clients::{self, NewClient};
use urad_identity::{jose, Loa};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const SECRET_ENV: &str = "URAD_TEST_DOTACE_SECRET";
const FIRST_SECRET: &str = "first-secret-0123456789abcdefghijklmnop";
const SECOND_SECRET: &str = "second-secret-0123456789abcdefghijklmno";

crate::for_both_backends!(
    clients_from_content_sign_in_and_are_updated_not_duplicated_on_restart,
    a_missing_secret_or_a_bad_clients_file_stops_the_start,
);

const CLIENTS: &str = r#"[[client]]
id = "obcan-app"
name = { cs = "Občanská aplikace", en = "Citizen app" }
redirect_uris = ["http://127.0.0.1:9/cb"]
public = true
min_loa = "substantial"

[[client]]
id = "dotace-server"
name = { cs = "Dotační systém", en = "Grants system" }
redirect_uris = ["http://127.0.0.1:9/dotace/cb"]
auth_method = "client_secret_basic"
secret_env = "URAD_TEST_DOTACE_SECRET"

[[client]]
id = "docasny-klient"
name = { cs = "Dočasný klient", en = "Temporary client" }
redirect_uris = ["http://127.0.0.1:9/docasny"]
public = true
"#;

/// The repository's catalogue with `clients` as clients.toml, in `dir`.
fn content(dir: &Path, clients: &str) -> Setup {
    copy_catalogue(dir);
    std::fs::write(dir.join("clients.toml"), clients).unwrap();
    Setup {
        content: Some(dir.to_path_buf()),
        ..Setup::default()
    }
}

fn with_secret(mut setup: Setup, secret: &str) -> Setup {
    setup.env.insert(SECRET_ENV.into(), secret.into());
    setup
}

fn authorize(client_id: &str, redirect_uri: &str) -> String {
    format!(
        "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
         &scope=openid%20profile&state=s1&nonce=n1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        urad_identity::authorize::encode(redirect_uri)
    )
}

async fn token(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, serde_json::Value) {
    let mut req = app.client.post(app.url("/oidc/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

async fn clients_from_content_sign_in_and_are_updated_not_duplicated_on_restart(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let setup = with_secret(content(dir.path(), CLIENTS), FIRST_SECRET);
    let app = TestApp::start_with(backend, setup).await.unwrap();

    // The public client declared in content signs a citizen in through the demo provider.
    let mut b = Browser::new(&app.base);
    let demo = b
        .visit(&authorize("obcan-app", "http://127.0.0.1:9/cb"))
        .await;
    let back = b.demo_sign_in(&demo, "petr-svoboda", "substantial").await;
    assert!(
        back.url.starts_with("http://127.0.0.1:9/cb?code="),
        "{}",
        back.url
    );
    assert_eq!(query_param(&back.url, "state").as_deref(), Some("s1"));
    let code = query_param(&back.url, "code").unwrap();
    let (status, tokens) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", VERIFIER),
            ("client_id", "obcan-app"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let jwks: Vec<jose::Jwk> =
        serde_json::from_value(app.json("/oidc/jwks", 200).await["keys"].clone()).unwrap();
    let (_, id_token) = jose::verify(tokens["id_token"].as_str().unwrap(), &jwks).unwrap();
    assert_eq!(id_token["aud"], "obcan-app");

    // The confidential one authenticates with the secret from the environment (single
    // sign-on: no page in between).
    let back = b
        .visit(&authorize("dotace-server", "http://127.0.0.1:9/dotace/cb"))
        .await;
    let code = query_param(&back.url, "code").expect("a code at once");
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:9/dotace/cb"),
        ("code_verifier", VERIFIER),
    ];
    let (status, _) = token(&app, &redeem, Some(("dotace-server", "wrong-secret"))).await;
    assert_eq!(status, 401);
    let (status, tokens) = token(&app, &redeem, Some(("dotace-server", FIRST_SECRET))).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    // A client registered by hand, which the next version of the file takes over.
    let db = app.store.open().await.unwrap();
    clients::add(
        &db,
        &urad_core::SystemClock,
        &NewClient {
            client_id: "rucni-klient".into(),
            name: "Ruční".into(),
            name_en: None,
            redirect_uris: vec!["http://127.0.0.1:9/rucni".into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            public: true,
            min_loa: Loa::Low,
            source: "cli".into(),
        },
    )
    .await
    .unwrap();

    // Next start: a new redirect URI and level, a new secret, one client gone, one new, the
    // hand-made one declared.
    let changed = CLIENTS
        .replace("http://127.0.0.1:9/cb", "http://127.0.0.1:9/new-cb")
        .replace(
            "min_loa = \"substantial\"",
            "min_loa = \"high\"\npost_logout_redirect_uris = [\"http://127.0.0.1:9/\"]",
        );
    let changed = changed[..changed.find("[[client]]\nid = \"docasny-klient\"").unwrap()]
        .to_owned()
        + r#"[[client]]
id = "novy-klient"
name = { cs = "Nový klient", en = "New client" }
redirect_uris = ["http://127.0.0.1:9/novy"]
public = true

[[client]]
id = "rucni-klient"
name = { cs = "Ruční klient", en = "Hand-made client" }
redirect_uris = ["http://127.0.0.1:9/rucni"]
public = true
"#;
    let setup = with_secret(content(dir.path(), &changed), SECOND_SECRET);
    let app = app.restart(setup.clone()).await.unwrap();

    let db = app.store.open().await.unwrap();
    let mut conn = db.reader().acquire().await.unwrap();
    assert_eq!(
        clients::ids_from(&mut conn, "content").await.unwrap(),
        ["dotace-server", "novy-klient", "obcan-app", "rucni-klient"]
    );
    let rows: i64 = urad_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM oidc_client WHERE client_id IN ('obcan-app', 'dotace-server', 'rucni-klient')",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(rows, 3, "updated in place, never duplicated");
    assert!(clients::find(&db, "docasny-klient")
        .await
        .unwrap()
        .is_none());
    let citizen = clients::find(&db, "obcan-app").await.unwrap().unwrap();
    assert_eq!(citizen.redirect_uris, ["http://127.0.0.1:9/new-cb"]);
    assert_eq!(citizen.post_logout_redirect_uris, ["http://127.0.0.1:9/"]);
    assert_eq!(citizen.min_loa, Loa::High);
    assert_eq!(citizen.name_in(urad_core::Lang::En), "Citizen app");
    let hand_made = clients::find(&db, "rucni-klient").await.unwrap().unwrap();
    assert_eq!(
        (hand_made.source.as_str(), hand_made.name.as_str()),
        ("content", "Ruční klient")
    );

    // The old redirect URI is refused with an error page, never a redirect; the new one leads
    // to sign-in (step-up: the client now asks for the high level).
    let old = b
        .visit(&authorize("obcan-app", "http://127.0.0.1:9/cb"))
        .await;
    assert_eq!(old.status, 400, "{}", old.url);
    let new = b
        .visit(&authorize("obcan-app", "http://127.0.0.1:9/new-cb"))
        .await;
    assert!(new.url.contains("/demo-idp/authorize"), "{}", new.url);
    assert!(new.body.contains("jana-novakova:high"));

    // The secret follows the environment; what was issued before is kept.
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, _) = token(&app, &refresh_form, Some(("dotace-server", FIRST_SECRET))).await;
    assert_eq!(status, 401, "the old secret no longer works");
    let (status, body) = token(&app, &refresh_form, Some(("dotace-server", SECOND_SECRET))).await;
    assert_eq!(status, 200, "the refresh token survived the update: {body}");

    // A third start with the same file changes nothing.
    let app = app.restart(setup).await.unwrap();
    let db = app.store.open().await.unwrap();
    let total: i64 = urad_store::sqlx::query_scalar("SELECT COUNT(*) FROM oidc_client")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(total, 5, "four from content and the portal");
    app.shutdown().await;
}

async fn a_missing_secret_or_a_bad_clients_file_stops_the_start(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let err = TestApp::start_with(backend, content(dir.path(), CLIENTS))
        .await
        .err()
        .expect("no start without the secret");
    assert!(
        err.contains("clients.toml:8: client `dotace-server`")
            && err.contains("URAD_TEST_DOTACE_SECRET")
            && err.contains("is not set"),
        "{err}"
    );
    let err = TestApp::start_with(
        backend,
        with_secret(content(dir.path(), CLIENTS), "too-short"),
    )
    .await
    .err()
    .expect("no start with a weak secret");
    assert!(err.contains("shorter than 32 characters"), "{err}");

    let bad = CLIENTS.replace("min_loa = \"substantial\"", "min_loa = \"medium\"");
    let err = TestApp::start_with(
        backend,
        with_secret(content(dir.path(), &bad), FIRST_SECRET),
    )
    .await
    .err()
    .expect("no start with an invalid file");
    assert!(
        err.contains("clients.toml:6:11: field `min_loa`: unknown level of assurance `medium`"),
        "{err}"
    );

    // The repository's own demo clients need no secret: the README's command starts.
    let app = TestApp::start(backend).await;
    let db = app.store.open().await.unwrap();
    let patient = clients::find(&db, "pacientsky-portal")
        .await
        .unwrap()
        .expect("the demo's patient portal");
    assert!(patient.is_public());
    let grants = clients::find(&db, "dotacni-portal")
        .await
        .unwrap()
        .expect("the demo's grants portal");
    assert_eq!(
        grants.auth_method,
        urad_identity::clients::AuthMethod::PrivateKeyJwt
    );
    assert_eq!(grants.jwks.len(), 1);
    app.shutdown().await;
}
