//! The e-filing office's JSON API with bearer tokens from the gateway: drafts, sending them
//! (idempotent), the receipt, and every refusal with its status and message in both languages.

use crate::harness::TestApp;
use serde_json::{json, Value};
use urad_core::SystemClock;
use urad_identity::clients::{self, NewClient};
use urad_identity::grants::{self, Grant};
use urad_identity::sessions::{self, UpstreamLogin};
use urad_identity::Loa;

const REDIRECT: &str = "http://localhost:5173/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A public client of the gateway for the API calls (registered once per app).
pub(crate) async fn register_client(app: &TestApp) {
    let db = app.store.open().await.unwrap();
    clients::add(
        &db,
        &SystemClock,
        &NewClient {
            client_id: "api-app".into(),
            name: "API app".into(),
            name_en: None,
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            public: true,
            min_loa: Loa::Low,
            source: "test".into(),
        },
    )
    .await
    .unwrap();
}

/// An access token for a person signed in at `loa` (session, code, token endpoint: the
/// gateway's own path, without the browser's pages).
pub(crate) async fn access_token(app: &TestApp, subject: &str, loa: Loa) -> String {
    let db = app.store.open().await.unwrap();
    let clock = SystemClock;
    let login = UpstreamLogin {
        upstream: "demo".into(),
        subject: subject.into(),
        link_key: None,
        loa,
        amr: vec!["pwd".into()],
        claims: json!({ "name": "Jana Nováková", "birthdate": "1980-01-01" }),
        id_token: None,
    };
    let person = sessions::resolve_person(&db, &clock, &login).await.unwrap();
    let (_, session) = sessions::start(&db, &clock, &person, &login, None)
        .await
        .unwrap();
    let grant = Grant {
        client_id: "api-app".into(),
        sid: session.sid.clone(),
        person_id: person,
        scope: "openid profile".into(),
        auth_time: session.auth_time,
        loa: session.loa,
        amr: session.amr.clone(),
    };
    let code = grants::issue_code(&db, &clock, &grant, REDIRECT, CHALLENGE, None)
        .await
        .unwrap();
    let tokens: Value = app
        .client
        .post(app.url("/oidc/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", "api-app"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

fn general(subject: &str) -> Value {
    json!({
        "sender": {"name": "Jana Nováková", "address": "Hlavní 1, Ostrava"},
        "subject": subject,
        "text": "Prosím o informaci."
    })
}

pub(crate) async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, json, headers)
}

crate::on_both_backends!(
    a_client_attaches_files_that_the_receipt_names,
    a_client_fills_and_sends_a_draft_once_and_gets_its_receipt,
    the_api_refuses_bad_requests_clearly_and_stores_nothing,
);

async fn a_client_fills_and_sends_a_draft_once_and_gets_its_receipt(app: TestApp) {
    use reqwest::Method;
    register_client(&app).await;
    let token = access_token(&app, "demo-jana", Loa::Substantial).await;
    let t = Some(token.as_str());

    let (status, forms, _) = call(&app, Method::GET, "/api/v1/forms", None, None).await;
    assert_eq!(status, 200);
    assert!(forms
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == "obecne-podani" && f["schema"]["$schema"].is_string()));

    let (status, draft, _) = call(
        &app,
        Method::POST,
        "/api/v1/drafts",
        t,
        Some(r#"{"form": "obecne-podani", "data": {"subject": "Dotaz"}}"#),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["data"]["subject"], "Dotaz");
    assert_eq!(draft["revision"], 0);

    // Incomplete: 422 with every missing field in both languages; nothing received.
    let submit = format!("/api/v1/drafts/{id}/submit");
    let (status, invalid, _) = call(&app, Method::POST, &submit, t, None).await;
    assert_eq!(status, 422, "{invalid}");
    let first = &invalid["fields"][0];
    assert_eq!(first["field"], "sender.name");
    assert!(first["message"]["cs"].as_str().unwrap().contains("Vyplňte"));
    assert!(!first["message"]["en"].as_str().unwrap().contains("Vyplňte"));
    let (status, _, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/submissions/{id}"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 404);

    let body = json!({ "data": general("Dotaz na dotaci") }).to_string();
    let (status, saved, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/drafts/{id}"),
        t,
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["revision"], 1);

    // Sent twice (a retry after a timeout): one receipt, 201 then 200.
    let (status, receipt, _) = call(&app, Method::POST, &submit, t, None).await;
    assert_eq!(status, 201, "{receipt}");
    assert!(receipt["reference"].as_str().unwrap().starts_with("KUMSK "));
    assert_eq!(receipt["sequence"], 1);
    assert_eq!(receipt["scope"], "form:obecne-podani");
    assert_eq!(receipt["data_sha256"].as_str().unwrap().len(), 64);
    let (status, again, _) = call(&app, Method::POST, &submit, t, None).await;
    assert_eq!(status, 200);
    assert_eq!(again, receipt);
    let (status, read, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/submissions/{id}"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read, receipt);

    // The signed receipt file verifies offline, as `urad verify-receipt` checks it.
    let file = app
        .client
        .get(app.url(&format!("/api/v1/submissions/{id}/receipt")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    let file = file.text().await.unwrap();
    let verified =
        urad_filing::verify::verify_file(&file, &urad_filing::verify::VerifyOptions::default())
            .unwrap();
    assert!(verified.holds(), "{:?}", verified.checks);
    assert_eq!(
        verified.payload.unwrap().reference,
        receipt["reference"].as_str().unwrap()
    );

    // The portal time-stamps what it received (RFC 3161, the demo's own authority), after
    // the commit and without holding it up.
    let db = app.store.open().await.unwrap();
    let mut stamped = None;
    for _ in 0..100 {
        stamped = urad_filing::timestamp::stored_stamp(&db, &id)
            .await
            .unwrap();
        if stamped.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(stamped.is_some(), "no time stamp within 10 s");

    // A sent draft no longer changes.
    let (status, conflict, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/drafts/{id}"),
        t,
        Some(&body),
    )
    .await;
    assert_eq!(status, 409);
    assert!(conflict["message"]["cs"]
        .as_str()
        .unwrap()
        .contains("odeslán"));

    // Every endpoint is in the OpenAPI document, with the bearer scheme.
    let doc = app.json("/api/openapi.json", 200).await;
    for path in [
        "/api/v1/forms",
        "/api/v1/drafts",
        "/api/v1/drafts/{id}",
        "/api/v1/drafts/{id}/submit",
        "/api/v1/submissions/{id}",
        "/api/v1/submissions/{id}/receipt",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

async fn the_api_refuses_bad_requests_clearly_and_stores_nothing(app: TestApp) {
    use reqwest::Method;
    register_client(&app).await;
    let jana = access_token(&app, "demo-jana", Loa::Substantial).await;
    let petr = access_token(&app, "demo-petr", Loa::Substantial).await;
    let low = access_token(&app, "demo-eva", Loa::Low).await;

    // No token, or a forged one: 401 with the Bearer challenge.
    let (status, _, headers) = call(&app, Method::POST, "/api/v1/drafts", None, Some("{}")).await;
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let forged = format!("{}x", &jana[..jana.len() - 1]);
    let (status, _, _) = call(&app, Method::GET, "/api/v1/drafts/x", Some(&forged), None).await;
    assert_eq!(status, 401);

    // Invalid JSON and a body of the wrong shape: 400 saying where.
    for body in [
        r#"{"form": "obecne-podani", "data": "#,
        r#"{"form": 7}"#,
        r#"{"form": "obecne-podani", "extra": 1}"#,
    ] {
        let (status, e, _) = call(
            &app,
            Method::POST,
            "/api/v1/drafts",
            Some(&jana),
            Some(body),
        )
        .await;
        assert_eq!(status, 400, "{body}: {e}");
        assert!(e["message"]["cs"].as_str().unwrap().contains("JSON"));
        assert!(e["message"]["en"].as_str().unwrap().contains("line:column"));
    }
    let (status, e, _) = call(
        &app,
        Method::POST,
        "/api/v1/drafts",
        Some(&jana),
        Some(r#"{"form": "neni-takovy"}"#),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(e["field"], "form");

    // A form that needs a high level refuses a substantial one with a step-up challenge.
    let (status, e, headers) = call(
        &app,
        Method::POST,
        "/api/v1/drafts",
        Some(&low),
        Some(r#"{"form": "predani-zdravotnicke-dokumentace"}"#),
    )
    .await;
    assert_eq!(status, 403, "{e}");
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_user_authentication"));

    // Someone else's draft does not exist for Petr.
    let (_, draft, _) = call(
        &app,
        Method::POST,
        "/api/v1/drafts",
        Some(&jana),
        Some(&json!({"form": "obecne-podani", "data": general("Můj")}).to_string()),
    )
    .await;
    let id = draft["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/v1/drafts/{id}")),
        (Method::POST, format!("/api/v1/drafts/{id}/submit")),
    ] {
        let (status, _, _) = call(&app, method, &path, Some(&petr), None).await;
        assert_eq!(status, 404);
    }
    let (status, _, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/drafts/{id}"),
        Some(&petr),
        Some(r#"{"data": {}}"#),
    )
    .await;
    assert_eq!(status, 404);
    let (_, unchanged, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/drafts/{id}"),
        Some(&jana),
        None,
    )
    .await;
    assert_eq!(unchanged["data"]["subject"], "Můj");

    // A draft of a form version that is no longer served: 410, nothing received.
    let db = app.store.open().await.unwrap();
    db.write_one(urad_store::sql("UPDATE draft SET form_version = 99 WHERE id = $1").bind(id))
        .await
        .unwrap();
    let (status, e, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/drafts/{id}/submit"),
        Some(&jana),
        None,
    )
    .await;
    assert_eq!(status, 410, "{e}");
    assert!(e["message"]["en"].as_str().unwrap().contains("new draft"));
    let received = db
        .fetch_all(urad_store::sql("SELECT id FROM submission"))
        .await
        .unwrap();
    assert!(received.is_empty());
}

async fn a_client_attaches_files_that_the_receipt_names(app: TestApp) {
    use reqwest::Method;
    register_client(&app).await;
    let token = access_token(&app, "demo-jana", Loa::Substantial).await;
    let t = Some(token.as_str());
    let body = json!({"form": "obecne-podani", "data": general("S přílohou")}).to_string();
    let (_, draft, _) = call(&app, Method::POST, "/api/v1/drafts", t, Some(&body)).await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let upload = |name: &str, bytes: Vec<u8>| {
        app.client
            .post(app.url(&format!("/api/v1/drafts/{id}/attachments")))
            .query(&[("slot", "documents"), ("name", name)])
            .bearer_auth(&token)
            .body(bytes)
    };
    // Larger than the app's 64 KB limit for other bodies: files have their own limits.
    let mut pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 200_000));
    pdf.extend_from_slice(b"\n%%EOF\n");
    let r = upload("../../etc/žádost.pdf", pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let kept: Value = r.json().await.unwrap();
    assert_eq!(kept["media_type"], "application/pdf");
    assert_eq!(kept["file_name"], "žádost.pdf");
    assert_eq!(kept["size"], pdf.len());

    // A program renamed to .pdf: 415 with a message in both languages, nothing kept.
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 4096));
    let r = upload("faktura.pdf", elf).send().await.unwrap();
    assert_eq!(r.status(), 415);
    let e: Value = r.json().await.unwrap();
    assert!(!e["message"]["cs"].as_str().unwrap().is_empty());
    let (_, listed, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/drafts/{id}/attachments"),
        t,
        None,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // The bytes read back; the receipt names the file's SHA-256.
    let a = kept["id"].as_str().unwrap();
    let bytes = app
        .client
        .get(app.url(&format!("/api/v1/drafts/{id}/attachments/{a}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), pdf.as_slice());
    let (status, receipt, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/drafts/{id}/submit"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["attachments"][0]["sha256"], kept["sha256"]);
    // Sent: the files no longer change.
    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/drafts/{id}/attachments/{a}"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 409);
    // Someone else cannot read it.
    let petr = access_token(&app, "demo-petr", Loa::Substantial).await;
    let (status, _, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/drafts/{id}/attachments/{a}"),
        Some(&petr),
        None,
    )
    .await;
    assert_eq!(status, 404);
}
