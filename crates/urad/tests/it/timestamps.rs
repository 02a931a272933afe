//! RFC 3161 time stamps of received submissions, on both databases, against the demo TSA
//! endpoint (`POST /tsa`) of a running app: a submission is stamped and its token verifies;
//! every bad answer (other data, a forged signature, a replayed nonce, a certificate not for
//! time stamping, a certificate other than the pinned one, a TSA that is down, errs or
//! answers garbage) is refused with its own error and leaves the submission as it was; the
//! catch-up stamps what an outage missed; OpenSSL's `ts -verify` accepts a demo token.

use crate::harness::TestApp;
use axum::http::{header, StatusCode};
use serde_json::json;
use std::process::Command;
use urad_core::{hex, Lang, ManualClock, SystemClock};
use urad_filing::timestamp::{
    self, certificate_pem, encode_request, new_nonce, stamp_missing, stamp_submission,
    stored_stamp, submission_digest, verify_token, DemoTsa, TimestampError, TsaClient,
    QUERY_MEDIA_TYPE, REPLY_MEDIA_TYPE,
};
use urad_filing::SubmitRequest;
use urad_forms::Forms;
use urad_store::Db;

fn forms() -> Forms {
    Forms::load_dir(&crate::harness::content_dir().join("forms")).unwrap()
}

/// Submits a general submission; returns its id.
async fn submit(db: &Db, clock: &ManualClock, forms: &Forms, n: usize) -> String {
    let data = json!({
        "sender": {"name": "Jana Nováková", "address": "Hlavní 1, Ostrava"},
        "subject": format!("Podání č. {n}"),
        "text": "Prosím o informaci."
    });
    let draft = urad_filing::start_draft(db, clock, forms, "p-1", "obecne-podani", &data)
        .await
        .unwrap();
    urad_filing::submit(
        db,
        clock,
        forms,
        "KUMSK",
        &SubmitRequest {
            person_id: "p-1",
            draft_id: &draft,
            scope: "form:obecne-podani",
            lang: Lang::Cs,
            attachment_limits: Default::default(),
        },
    )
    .await
    .unwrap();
    draft
}

fn client(url: String, pinned: Option<Vec<u8>>) -> TsaClient {
    TsaClient::new(reqwest::Client::new(), url, pinned)
}

/// The demo TSA's raw reply to a request for `digest` with `nonce`.
async fn ask(app: &TestApp, digest: &[u8; 32], nonce: u64) -> Vec<u8> {
    let r = app
        .client
        .post(app.url("/tsa"))
        .header(header::CONTENT_TYPE, QUERY_MEDIA_TYPE)
        .body(encode_request(digest, nonce).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[header::CONTENT_TYPE], REPLY_MEDIA_TYPE);
    r.bytes().await.unwrap().to_vec()
}

/// A TSA impostor on a free port that gives every request the same answer; its URL.
async fn stub(status: u16, media_type: &'static str, body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/tsa",
        axum::routing::post(move || {
            let body = body.clone();
            async move {
                (
                    StatusCode::from_u16(status).unwrap(),
                    [(header::CONTENT_TYPE, media_type)],
                    body,
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/tsa")
}

async fn a_submission_is_stamped_and_its_token_verifies(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let clock = ManualClock::at(1_800_000_000);
    let id = submit(&db, &clock, &forms(), 1).await;
    assert_eq!(stored_stamp(&db, &id).await.unwrap(), None);
    let demo_certificate = timestamp::demo_tsa(&db, &SystemClock)
        .await
        .unwrap()
        .certificate_der()
        .to_vec();
    let tsa = client(app.url("/tsa"), Some(demo_certificate.clone()));
    let before = urad_core::Clock::now(&SystemClock);
    let stamp = stamp_submission(&db, &clock, &tsa, &id).await.unwrap();
    assert_eq!(stamp.submission_id, id);
    assert_eq!(stamp.tsa_url, app.url("/tsa"));
    assert!((before - 5..=before + 5).contains(&stamp.stamped_at));
    // What is stamped is the receipt payload: the token verifies against its digest only.
    let digest = submission_digest(&db, &id).await.unwrap();
    let token = verify_token(&stamp.token, &digest, None, Some(&demo_certificate)).unwrap();
    assert_eq!(token.time, stamp.stamped_at);
    let other = submit(&db, &clock, &forms(), 2).await;
    let other_digest = submission_digest(&db, &other).await.unwrap();
    assert!(matches!(
        verify_token(&stamp.token, &other_digest, None, None),
        Err(TimestampError::ImprintMismatch)
    ));
    // Read back as stored; stamping again keeps the first token.
    assert_eq!(stored_stamp(&db, &id).await.unwrap(), Some(stamp.clone()));
    assert_eq!(
        stamp_submission(&db, &clock, &tsa, &id).await.unwrap(),
        stamp
    );
    // The endpoint speaks only RFC 3161 and says why it refuses.
    let r = app
        .client
        .post(app.url("/tsa"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("application/timestamp-query"));
    let r = app
        .client
        .post(app.url("/tsa"))
        .header(header::CONTENT_TYPE, QUERY_MEDIA_TYPE)
        .body("not DER")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let err = timestamp::verify_reply(&r.bytes().await.unwrap(), &digest, None, None).unwrap_err();
    assert!(matches!(err, TimestampError::Rejected { .. }), "{err}");
    app.shutdown().await;
}

/// Whether an error is the one a case expects.
type IsExpected = fn(&TimestampError) -> bool;

async fn every_bad_answer_is_refused_and_the_submission_stays(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let clock = ManualClock::at(1_800_000_000);
    let id = submit(&db, &clock, &forms(), 1).await;
    let receipt = urad_filing::receipt(&db, "p-1", &id)
        .await
        .unwrap()
        .unwrap();
    let digest = submission_digest(&db, &id).await.unwrap();
    let genuine = ask(&app, &digest, new_nonce()).await;
    let for_other_data = ask(&app, &[7u8; 32], new_nonce()).await;
    let mut forged = genuine.clone();
    // The last byte of the reply is the last byte of the ECDSA signature's `s`.
    *forged.last_mut().unwrap() ^= 0x01;
    let not_for_time_stamping = DemoTsa::generate_with(urad_core::Clock::now(&SystemClock), false)
        .unwrap()
        .reply(
            &encode_request(&digest, 1).unwrap(),
            urad_core::Clock::now(&SystemClock),
        );
    let unpinned = DemoTsa::generate(urad_core::Clock::now(&SystemClock))
        .unwrap()
        .certificate_der()
        .to_vec();
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/tsa", l.local_addr().unwrap())
    };
    let cases: Vec<(&str, TsaClient, IsExpected)> = vec![
        (
            "a token for other data",
            client(stub(200, REPLY_MEDIA_TYPE, for_other_data).await, None),
            |e| matches!(e, TimestampError::ImprintMismatch),
        ),
        (
            "a forged signature",
            client(stub(200, REPLY_MEDIA_TYPE, forged).await, None),
            |e| matches!(e, TimestampError::BadSignature),
        ),
        (
            "a replayed reply (another request's nonce)",
            client(stub(200, REPLY_MEDIA_TYPE, genuine).await, None),
            |e| matches!(e, TimestampError::NonceMismatch),
        ),
        (
            "a certificate without id-kp-timeStamping",
            client(
                stub(200, REPLY_MEDIA_TYPE, not_for_time_stamping).await,
                None,
            ),
            |e| matches!(e, TimestampError::NotForTimeStamping),
        ),
        (
            "a certificate other than the pinned one",
            client(app.url("/tsa"), Some(unpinned)),
            |e| matches!(e, TimestampError::NotPinned),
        ),
        ("a TSA that is down", client(down, None), |e| {
            matches!(e, TimestampError::Unreachable { .. })
        }),
        (
            "a TSA that fails",
            client(stub(500, "text/plain", b"oops".to_vec()).await, None),
            |e| matches!(e, TimestampError::HttpStatus(500)),
        ),
        (
            "a web page instead of a reply",
            client(stub(200, "text/html", b"<html>".to_vec()).await, None),
            |e| matches!(e, TimestampError::Malformed(_)),
        ),
        (
            "garbage under the right media type",
            client(
                stub(200, REPLY_MEDIA_TYPE, b"\x30\x03garbage".to_vec()).await,
                None,
            ),
            |e| matches!(e, TimestampError::Malformed(_)),
        ),
    ];
    for (what, tsa, expected) in cases {
        let err = stamp_submission(&db, &clock, &tsa, &id)
            .await
            .expect_err(what);
        assert!(expected(&err), "{what}: {err:?}");
        assert!(!err.to_string().is_empty());
        assert!(
            err.message(Lang::Cs).contains("podání je přijato"),
            "{what}"
        );
        assert!(
            err.message(Lang::En).contains("has been received"),
            "{what}"
        );
        assert_eq!(stored_stamp(&db, &id).await.unwrap(), None, "{what}");
        assert_eq!(
            urad_filing::receipt(&db, "p-1", &id)
                .await
                .unwrap()
                .as_ref(),
            Some(&receipt),
            "{what}"
        );
    }
    // An unknown submission is told apart.
    let err = stamp_submission(&db, &clock, &client(app.url("/tsa"), None), "nope")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TimestampError::UnknownSubmission(_)),
        "{err:?}"
    );
    app.shutdown().await;
}

async fn the_catch_up_stamps_what_an_outage_missed(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let clock = ManualClock::at(1_800_000_000);
    let forms = forms();
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(submit(&db, &clock, &forms, n).await);
    }
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        client(format!("http://{}/tsa", l.local_addr().unwrap()), None)
    };
    let outage = stamp_missing(&db, &clock, &down, 100).await.unwrap();
    assert!(outage.stamped.is_empty());
    assert_eq!(
        outage
            .failed
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    let tsa = client(app.url("/tsa"), None);
    let first = stamp_submission(&db, &clock, &tsa, &ids[0]).await.unwrap();
    // Only what is still missing, oldest first, and at most `limit` a run.
    let run = stamp_missing(&db, &clock, &tsa, 1).await.unwrap();
    assert_eq!(run.stamped, vec![ids[1].clone()]);
    assert!(run.failed.is_empty());
    let run = stamp_missing(&db, &clock, &tsa, 100).await.unwrap();
    assert_eq!(run.stamped, vec![ids[2].clone()]);
    assert!(stamp_missing(&db, &clock, &tsa, 100)
        .await
        .unwrap()
        .stamped
        .is_empty());
    for id in &ids {
        let stamp = stored_stamp(&db, id).await.unwrap().unwrap();
        let digest = submission_digest(&db, id).await.unwrap();
        verify_token(&stamp.token, &digest, None, None).unwrap();
    }
    assert_eq!(stored_stamp(&db, &ids[0]).await.unwrap(), Some(first));
    app.shutdown().await;
}

async fn openssl_verifies_a_demo_token(app: TestApp) {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: the `openssl` command is not on this machine");
        app.shutdown().await;
        return;
    }
    let db = app.store.open().await.unwrap();
    let clock = ManualClock::at(1_800_000_000);
    let id = submit(&db, &clock, &forms(), 1).await;
    let stamp = stamp_submission(&db, &clock, &client(app.url("/tsa"), None), &id)
        .await
        .unwrap();
    let demo = timestamp::demo_tsa(&db, &SystemClock).await.unwrap();
    // The certificate as the portal publishes it, for anyone to verify with.
    let published = app.text("/tsa/certificate.pem", 200).await;
    assert_eq!(published, certificate_pem(demo.certificate_der()));
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token.der");
    let ca = dir.path().join("tsa.pem");
    std::fs::write(&token, &stamp.token).unwrap();
    std::fs::write(&ca, published).unwrap();
    let verify = |digest: &str| {
        let out = Command::new("openssl")
            .args(["ts", "-verify", "-token_in", "-in"])
            .arg(&token)
            .args(["-digest", digest, "-CAfile"])
            .arg(&ca)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let digest = hex(&submission_digest(&db, &id).await.unwrap());
    let (ok, output) = verify(&digest);
    assert!(ok && output.contains("Verification: OK"), "{output}");
    let (ok, output) = verify(&hex(&[7u8; 32]));
    assert!(!ok, "a token for other data: {output}");
    app.shutdown().await;
}

/// The config of an OpenSSL TSA (`openssl ts -reply`) signing with `cert.pem` and `key.pem`.
/// Without `certs`: naming the signer there too puts it in the token twice, a SET OF with a
/// duplicate that the `cms` crate refuses to decode.
const OPENSSL_TSA_CONFIG: &str = "[ tsa ]\ndefault_tsa = tsa_config1\n[ tsa_config1 ]\n\
    serial = ./tsaserial\ncrypto_device = builtin\nsigner_cert = ./cert.pem\n\
    signer_key = ./key.pem\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
    other_policies = 1.2.3.4.5\ndigests = sha256\naccuracy = secs:1\nordering = no\n\
    tsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n";

/// The client accepts what another implementation's TSA signs (OpenSSL, with an RSA key) and
/// holds it to the same checks.
#[test]
fn tokens_of_an_openssl_tsa_with_an_rsa_key_verify() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: the `openssl` command is not on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "30",
        "-subj",
        "/CN=OpenSSL test TSA",
        "-addext",
        "extendedKeyUsage=critical,timeStamping",
    ]);
    std::fs::write(dir.path().join("tsa.cnf"), OPENSSL_TSA_CONFIG).unwrap();
    std::fs::write(dir.path().join("tsaserial"), "01\n").unwrap();
    let digest: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        b"a receipt payload",
    ))
    .into();
    let nonce = new_nonce();
    std::fs::write(
        dir.path().join("q.tsq"),
        encode_request(&digest, nonce).unwrap(),
    )
    .unwrap();
    run(&[
        "ts",
        "-reply",
        "-queryfile",
        "q.tsq",
        "-config",
        "tsa.cnf",
        "-out",
        "r.tsr",
    ]);
    let reply = std::fs::read(dir.path().join("r.tsr")).unwrap();
    let certificate =
        timestamp::read_certificate(&std::fs::read(dir.path().join("cert.pem")).unwrap()).unwrap();
    let token = timestamp::verify_reply(&reply, &digest, Some(nonce), Some(&certificate)).unwrap();
    assert_eq!(token.certificate, certificate);
    let now = urad_core::Clock::now(&SystemClock);
    assert!((now - 60..=now + 60).contains(&token.time));
    assert!(matches!(
        timestamp::verify_reply(&reply, &[0u8; 32], Some(nonce), None),
        Err(TimestampError::ImprintMismatch)
    ));
    assert!(matches!(
        timestamp::verify_reply(&reply, &digest, Some(nonce + 1), None),
        Err(TimestampError::NonceMismatch)
    ));
    let mut forged = reply.clone();
    *forged.last_mut().unwrap() ^= 0x01;
    assert!(matches!(
        timestamp::verify_reply(&forged, &digest, Some(nonce), None),
        Err(TimestampError::BadSignature)
    ));
}

/// `--tsa-url` and `--tsa-certificate` as `urad serve` reads them.
#[test]
fn the_tsa_is_configured_from_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let args = |demo_idp: bool, url: Option<&str>, certificate: Option<std::path::PathBuf>| {
        urad::ServeArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            upstreams: None,
            demo_idp,
            rate_limit_per_ip: 0,
            cache_secs: 0,
            trusted_proxies: Vec::new(),
            tsa_url: url.map(str::to_owned),
            tsa_certificate: certificate,
            grant_registry: None,
            attachments: Default::default(),
            store: urad::StoreArgs {
                data_dir: dir.path().to_owned(),
                database_url: None,
            },
            content: urad::ContentArgs::dir(crate::harness::content_dir()),
        }
    };
    let http = reqwest::Client::new();
    let issuer = "https://portal.example";
    let demo = urad::tsa_client(&args(true, None, None), issuer, &http)
        .unwrap()
        .unwrap();
    assert_eq!(demo.url(), "https://portal.example/tsa");
    assert!(urad::tsa_client(&args(false, None, None), issuer, &http)
        .unwrap()
        .is_none());
    let configured = urad::tsa_client(
        &args(false, Some("https://tsa.example/rfc3161"), None),
        issuer,
        &http,
    )
    .unwrap()
    .unwrap();
    assert_eq!(configured.url(), "https://tsa.example/rfc3161");
    let pem = dir.path().join("tsa.pem");
    let tsa = DemoTsa::generate(urad_core::Clock::now(&SystemClock)).unwrap();
    std::fs::write(&pem, certificate_pem(tsa.certificate_der())).unwrap();
    assert!(urad::tsa_client(
        &args(false, Some("https://tsa.example/"), Some(pem)),
        issuer,
        &http
    )
    .is_ok());
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = urad::tsa_client(
        &args(false, Some("https://tsa.example/"), Some(junk)),
        issuer,
        &http,
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("not an X.509 certificate"),
        "{err:#}"
    );
    let err = urad::tsa_client(&args(false, Some("not a url"), None), issuer, &http).unwrap_err();
    assert!(format!("{err:#}").contains("is not a URL"), "{err:#}");
    let missing = dir.path().join("missing.pem");
    assert!(urad::tsa_client(&args(true, None, Some(missing)), issuer, &http).is_err());
}

/// The receipt file carries the token once there is one, and `verify-receipt` checks it:
/// over this receipt, by the pinned authority, at the stated time; a token of another
/// receipt, a forged one or a wrong pinned certificate fail.
async fn the_receipt_file_carries_the_time_stamp_and_it_verifies(app: TestApp) {
    use urad_filing::receipt_log::ReceiptLog;
    use urad_filing::verify::{verify_file, VerifyOptions};
    let db = app.store.open().await.unwrap();
    let clock = ManualClock::at(1_800_000_000);
    let (id, other) = (
        submit(&db, &clock, &forms(), 1).await,
        submit(&db, &clock, &forms(), 2).await,
    );
    let log = ReceiptLog::new();
    let unstamped = log
        .receipt_file(&db, &clock, "p-1", &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unstamped.time_stamp, None);
    assert!(!unstamped.to_json().contains("time_stamp"));
    let v = verify_file(&unstamped.to_json(), &VerifyOptions::default()).unwrap();
    assert!(v.holds());
    assert!(v
        .checks
        .iter()
        .any(|c| c.text.contains("no time stamp yet")));

    let demo = timestamp::demo_tsa(&db, &SystemClock).await.unwrap();
    let tsa = client(app.url("/tsa"), None);
    let stamp = stamp_submission(&db, &clock, &tsa, &id).await.unwrap();
    let other_stamp = stamp_submission(&db, &clock, &tsa, &other).await.unwrap();
    let file = log
        .receipt_file(&db, &clock, "p-1", &id)
        .await
        .unwrap()
        .unwrap();
    let carried = file
        .time_stamp
        .clone()
        .expect("the stamped receipt carries its token");
    assert_eq!(carried.authority, app.url("/tsa"));
    assert_eq!(carried.token, urad_filing::receipt::b64(&stamp.token));
    assert_eq!(
        Some(carried.time.clone()),
        urad_filing::receipt::rfc3339(stamp.stamped_at)
    );
    let pinned = VerifyOptions {
        tsa_certificate: Some(demo.certificate_der().to_vec()),
        ..VerifyOptions::default()
    };
    let v = verify_file(&file.to_json(), &pinned).unwrap();
    assert!(v.holds(), "{:?}", v.checks);
    assert!(v
        .checks
        .iter()
        .any(|c| c.passed && c.text.contains("signed by the pinned certificate")));

    let failing = |file: &urad_filing::receipt_log::ReceiptFile, options: &VerifyOptions| {
        let v = verify_file(&file.to_json(), options).unwrap();
        assert!(!v.holds());
        v.checks
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| c.text)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut swapped = file.clone();
    swapped.time_stamp.as_mut().unwrap().token = urad_filing::receipt::b64(&other_stamp.token);
    assert!(failing(&swapped, &pinned).contains("other data"));
    let mut forged = file.clone();
    let mut der = stamp.token.clone();
    *der.last_mut().unwrap() ^= 0x01;
    forged.time_stamp.as_mut().unwrap().token = urad_filing::receipt::b64(&der);
    assert!(failing(&forged, &pinned).contains("time stamp"));
    let mut retimed = file.clone();
    retimed.time_stamp.as_mut().unwrap().time = "2020-01-01T00:00:00Z".into();
    assert!(failing(&retimed, &pinned).contains("2020-01-01T00:00:00Z"));
    let stranger = DemoTsa::generate(1_800_000_000).unwrap();
    let wrong_pin = VerifyOptions {
        tsa_certificate: Some(stranger.certificate_der().to_vec()),
        ..VerifyOptions::default()
    };
    assert!(failing(&file, &wrong_pin).contains("pinned"));
    app.shutdown().await;
}

crate::on_both_backends!(
    the_receipt_file_carries_the_time_stamp_and_it_verifies,
    a_submission_is_stamped_and_its_token_verifies,
    every_bad_answer_is_refused_and_the_submission_stays,
    the_catch_up_stamps_what_an_outage_missed,
    openssl_verifies_a_demo_token,
);
