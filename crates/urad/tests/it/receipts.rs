//! Signed receipts and the receipt log, on both databases: receipt files that verify offline
//! and every tampering refused, one office key however many processes start, the log after a
//! surge of concurrent submissions, the public endpoints, and `urad verify-receipt` and
//! `urad receipt-log verify` run as the real binary.

use crate::harness::{fresh_database, Backend, TestApp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::process::Command;
use std::sync::Arc;
use urad::StoreArgs;
use urad_core::{hex, Lang, ManualClock};
use urad_filing::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use urad_filing::receipt::{b64, hash_from_hex, unb64, Jwk, ReceiptKey, SignedTreeHead};
use urad_filing::receipt_log::{self, ReceiptFile, ReceiptLog};
use urad_filing::verify::{self, GivenFile, VerifyOptions};
use urad_filing::SubmitRequest;
use urad_forms::Forms;
use urad_store::{sql, Db};

const URAD: &str = env!("CARGO_BIN_EXE_urad");

fn forms() -> Forms {
    Forms::load_dir(&crate::harness::content_dir().join("forms")).unwrap()
}

/// A fresh database, with the flags that reach it from the command line.
pub(crate) async fn open_store(backend: Backend) -> (StoreArgs, Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreArgs {
        data_dir: dir.path().join("data"),
        database_url: fresh_database(backend).await,
    };
    let db = store.open().await.unwrap();
    (store, db, dir)
}

pub(crate) fn store_flags(store: &StoreArgs) -> Vec<String> {
    match &store.database_url {
        Some(url) => vec!["--database-url".into(), url.clone()],
        None => vec!["--data-dir".into(), store.data_dir.display().to_string()],
    }
}

/// Submits a general submission for `person`; returns its id.
async fn submit(db: &Db, clock: &ManualClock, forms: &Forms, person: &str, n: usize) -> String {
    let data = json!({
        "sender": {"name": "Jana Nováková", "address": "Hlavní 1, Ostrava"},
        "subject": format!("Podání č. {n}"),
        "text": "Prosím o informaci."
    });
    let draft = urad_filing::start_draft(db, clock, forms, person, "obecne-podani", &data)
        .await
        .unwrap();
    urad_filing::submit(
        db,
        clock,
        forms,
        "KUMSK",
        &SubmitRequest {
            person_id: person,
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

/// The submitted data exactly as stored (what a citizen would keep to check `--data`).
async fn stored_data(db: &Db, id: &str) -> String {
    db.fetch_optional(sql("SELECT data FROM submission WHERE id = $1").bind(id))
        .await
        .unwrap()
        .unwrap()
        .get("data")
        .unwrap()
}

fn given(label: &str, bytes: &[u8]) -> GivenFile {
    GivenFile {
        label: label.into(),
        sha256: hex(&Sha256::digest(bytes)),
        size: bytes.len() as u64,
    }
}

fn check(file: &str, key: &Jwk, data: Option<&str>) -> verify::Verification {
    verify::verify_file(
        file,
        &VerifyOptions {
            pinned_keys: vec![key.clone()],
            data: data.map(|d| given("data.json", d.as_bytes())),
            attachments: Vec::new(),
            tsa_certificate: None,
        },
    )
    .unwrap()
}

fn failures(v: &verify::Verification) -> String {
    v.checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.text.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

crate::for_both_backends!(
    receipt_files_verify_and_every_tampering_is_refused,
    one_receipt_key_wins_when_processes_start_together,
    the_log_after_many_concurrent_submissions_verifies,
    the_binary_verifies_receipts_and_the_log,
    a_large_log_catches_up_and_answers_quickly,
);

async fn receipt_files_verify_and_every_tampering_is_refused(backend: Backend) {
    let (_store, db, _dir) = open_store(backend).await;
    let forms = forms();
    let clock = ManualClock::at(1_800_000_000);
    let log = ReceiptLog::new();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(submit(&db, &clock, &forms, &format!("p-{n}"), n).await);
        clock.advance(1);
    }
    let key = log.public_jwk(&db, &clock).await.unwrap();
    assert_eq!((key.kty.as_str(), key.crv.as_str()), ("OKP", "Ed25519"));

    // Someone else's submission, or none: no file.
    assert!(log
        .receipt_file(&db, &clock, "p-1", &ids[0])
        .await
        .unwrap()
        .is_none());
    let file = log
        .receipt_file(&db, &clock, "p-3", &ids[3])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(file.log_index, 3);
    assert_eq!(file.tree_head.tree_size, 5);
    assert_eq!(file.key, key);
    let data = stored_data(&db, &ids[3]).await;
    let text = file.to_json();
    let verified = check(&text, &key, Some(&data));
    assert!(verified.holds(), "{}", failures(&verified));
    let payload = verified.payload.unwrap();
    assert_eq!(payload.reference, "KUMSK 4/2027");
    assert_eq!(payload.submitter, "p-3");
    assert_eq!(payload.received_at, "2027-01-15T08:00:03Z");
    // The leaf the log publishes is the signed payload, byte for byte.
    let leaves = log.leaves(&db, 3, 4).await.unwrap();
    assert_eq!(leaves[0].payload.as_bytes(), payload.canonical());
    // The free function the pages call gives the same file.
    let again = receipt_log::receipt_file(&db, &clock, &log, "p-3", &ids[3])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, file);

    // Other data than was submitted.
    let other = check(&text, &key, Some(&data.replace("Jana", "Jan")));
    assert!(
        failures(&other).contains("not the submitted data"),
        "{}",
        failures(&other)
    );

    // A data hash changed in the receipt (its signature then no longer holds).
    let parts: Vec<&str> = file.receipt.split('.').collect();
    let mut payload_json: Value = serde_json::from_slice(&unb64(parts[1]).unwrap()).unwrap();
    payload_json["data_sha256"] = json!(hex(&Sha256::digest(b"other")));
    let forged = ReceiptFile {
        receipt: format!(
            "{}.{}.{}",
            parts[0],
            b64(payload_json.to_string().as_bytes()),
            parts[2]
        ),
        ..file.clone()
    };
    let refused = check(&forged.to_json(), &key, None);
    assert!(
        failures(&refused).contains("signature does not verify"),
        "{}",
        failures(&refused)
    );

    // A changed signature.
    let mut signature = unb64(parts[2]).unwrap();
    signature[0] ^= 1;
    let forged = ReceiptFile {
        receipt: format!("{}.{}.{}", parts[0], parts[1], b64(&signature)),
        ..file.clone()
    };
    assert!(!check(&forged.to_json(), &key, None).holds());

    // A changed inclusion proof.
    let mut forged = file.clone();
    let mut first = hash_from_hex(&forged.inclusion_proof[0]).unwrap();
    first[5] ^= 1;
    forged.inclusion_proof[0] = hex(&first);
    let refused = check(&forged.to_json(), &key, None);
    assert!(
        failures(&refused).contains("inclusion proof"),
        "{}",
        failures(&refused)
    );

    // A changed tree head: a larger size, or another root.
    let mut forged = file.clone();
    forged.tree_head.tree_size = 6;
    let refused = check(&forged.to_json(), &key, None);
    assert!(
        failures(&refused).contains("tree head's signature"),
        "{}",
        failures(&refused)
    );
    let mut forged = file.clone();
    forged.tree_head.root_hash = hex(&[0u8; 32]);
    assert!(!check(&forged.to_json(), &key, None).holds());

    // Everything signed again with another key: consistent in itself, so only the pinned key
    // tells it from the office's.
    let impostor = ReceiptKey::generate().unwrap();
    let root = hash_from_hex(&file.tree_head.root_hash).unwrap();
    let resigned = ReceiptFile {
        receipt: impostor.sign_receipt(&payload),
        tree_head: SignedTreeHead::sign(&impostor, 5, file.tree_head.timestamp, &root),
        key: impostor.public_jwk(),
        ..file.clone()
    };
    let refused = check(&resigned.to_json(), &key, None);
    assert!(
        failures(&refused).contains("not the pinned key"),
        "{}",
        failures(&refused)
    );
    let unpinned = verify::verify_file(&resigned.to_json(), &VerifyOptions::default()).unwrap();
    assert!(unpinned.holds() && unpinned.checks[0].text.contains("pass --key"));

    // Not a receipt file at all: unusable, not a failed check.
    assert!(verify::verify_file("{\"receipt\": 1}", &VerifyOptions::default()).is_err());
    assert!(verify::verify_file("not json", &VerifyOptions::default()).is_err());
}

async fn one_receipt_key_wins_when_processes_start_together(backend: Backend) {
    let (store, db, _dir) = open_store(backend).await;
    // Eight "processes", each with its own connections to the one database.
    let mut handles = Vec::new();
    for _ in 0..8 {
        handles.push(store.open().await.unwrap());
    }
    let tasks: Vec<_> = handles
        .into_iter()
        .map(|db| {
            tokio::spawn(async move {
                let clock = ManualClock::at(1_800_000_000);
                receipt_log::ensure_key(&db, &clock)
                    .await
                    .unwrap()
                    .kid()
                    .to_owned()
            })
        })
        .collect();
    let mut kids = Vec::new();
    for t in tasks {
        kids.push(t.await.unwrap());
    }
    kids.dedup();
    assert_eq!(kids.len(), 1, "{kids:?}");
    let rows = db
        .fetch_optional(sql("SELECT COUNT(*) AS n FROM receipt_key"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.get::<i64>("n").unwrap(), 1);
    let log = ReceiptLog::new();
    let clock = ManualClock::at(1_800_000_000);
    assert_eq!(log.public_jwk(&db, &clock).await.unwrap().kid, kids[0]);
}

async fn the_log_after_many_concurrent_submissions_verifies(backend: Backend) {
    let (_store, db, _dir) = open_store(backend).await;
    let forms = Arc::new(forms());
    let clock = Arc::new(ManualClock::at(1_800_000_000));
    // Two processes serve the log while 80 people submit at once.
    let logs = [Arc::new(ReceiptLog::new()), Arc::new(ReceiptLog::new())];
    let submissions: Vec<_> = (0..80)
        .map(|n| {
            let (db, forms, clock) = (db.clone(), forms.clone(), clock.clone());
            tokio::spawn(async move {
                let person = format!("p-{n}");
                let id = submit(&db, &clock, &forms, &person, n).await;
                (person, id)
            })
        })
        .collect();
    let watchers: Vec<_> = logs
        .iter()
        .map(|log| {
            let (db, clock, log) = (db.clone(), clock.clone(), log.clone());
            tokio::spawn(async move {
                let mut heads = Vec::new();
                for _ in 0..3 {
                    heads.push(log.latest_head(&db, clock.as_ref()).await.unwrap());
                    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
                }
                heads
            })
        })
        .collect();
    let mut done = Vec::new();
    for s in submissions {
        done.push(s.await.unwrap());
    }
    let mut seen = Vec::new();
    for w in watchers {
        seen.extend(w.await.unwrap());
    }
    // Every receipt file, from either process, verifies against the same key.
    let key = logs[0].public_jwk(&db, clock.as_ref()).await.unwrap();
    for (n, (person, id)) in done.iter().enumerate().step_by(7) {
        let log = &logs[n % 2];
        let file = log
            .receipt_file(&db, clock.as_ref(), person, id)
            .await
            .unwrap()
            .unwrap();
        let v = check(&file.to_json(), &key, None);
        assert!(v.holds(), "{}", failures(&v));
        seen.push(file.tree_head);
    }
    // Later submissions, a second later: a new head, and every head either process saw is
    // consistent with it.
    for n in 80..85 {
        submit(&db, &clock, &forms, "p-late", n).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let latest = logs[1].latest_head(&db, clock.as_ref()).await.unwrap();
    assert_eq!(latest.tree_size, 85);
    let latest_root = latest.root().unwrap();
    for head in &seen {
        let proof = logs[0]
            .consistency_proof(&db, head.tree_size, latest.tree_size)
            .await
            .unwrap();
        assert!(verify_consistency(
            head.tree_size,
            latest.tree_size,
            &head.root().unwrap(),
            &latest_root,
            &proof
        ));
    }
    let audit = receipt_log::audit(&db).await.unwrap();
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    assert_eq!((audit.submissions, audit.leaves), (85, 85));
    assert!(audit.heads >= 2, "{}", audit.heads);

    // A submission changed in the database afterwards: the audit sees it.
    db.write_one(
        sql("UPDATE submission SET data_sha256 = $1 WHERE log_index = 17")
            .bind(hex(&Sha256::digest(b"rewritten"))),
    )
    .await
    .unwrap();
    let audit = receipt_log::audit(&db).await.unwrap();
    assert!(
        audit.problems.iter().any(|p| p.contains("not the root")),
        "{:?}",
        audit.problems
    );
}

pub(crate) fn urad(args: &[String]) -> (i32, String, String) {
    let out = Command::new(URAD)
        .args(args)
        .env_remove("URAD_DATABASE_URL")
        .env_remove("URAD_DATA_DIR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn the_binary_verifies_receipts_and_the_log(backend: Backend) {
    let (store, db, dir) = open_store(backend).await;
    let forms = forms();
    let clock = ManualClock::at(1_800_000_000);
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(submit(&db, &clock, &forms, "p-7", n).await);
    }
    let log = ReceiptLog::new();
    let file = log
        .receipt_file(&db, &clock, "p-7", &ids[2])
        .await
        .unwrap()
        .unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(path("receipt.json"), file.to_json()).unwrap();
    std::fs::write(path("data.json"), stored_data(&db, &ids[2]).await).unwrap();
    std::fs::write(path("other.json"), stored_data(&db, &ids[1]).await).unwrap();
    let key = serde_json::to_string(&log.public_jwk(&db, &clock).await.unwrap()).unwrap();
    std::fs::write(path("key.json"), format!("{{\"keys\": [{key}]}}")).unwrap();
    let other_key = serde_json::to_string(&ReceiptKey::generate().unwrap().public_jwk()).unwrap();
    std::fs::write(path("other-key.json"), other_key).unwrap();
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify-receipt".to_owned()];
        args.extend(extra.iter().map(|s| s.to_string()));
        urad(&args)
    };

    let (code, out, err) = verify(&[
        &path("receipt.json"),
        "--key",
        &path("key.json"),
        "--data",
        &path("data.json"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("The receipt verifies"), "{out}");
    assert!(
        out.contains("is the submitted data") && out.contains("pinned key"),
        "{out}"
    );
    assert!(
        out.contains("KUMSK 3/2027") && out.contains("leaf 2 of the tree of 4"),
        "{out}"
    );

    // Not the data, not the key: exit 1 with the reason.
    let (code, _, err) = verify(&[&path("receipt.json"), "--data", &path("other.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("not the submitted data"), "{err}");
    let (code, _, err) = verify(&[&path("receipt.json"), "--key", &path("other-key.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("not the pinned key"), "{err}");
    // The data file named as an attachment: the receipt lists none.
    let (code, _, err) = verify(&[&path("receipt.json"), "--attachment", &path("data.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("none of the receipt's attachments"), "{err}");
    // A tampered file.
    let mut tampered = file.clone();
    tampered.log_index = 1;
    std::fs::write(path("tampered.json"), tampered.to_json()).unwrap();
    let (code, _, err) = verify(&[&path("tampered.json")]);
    assert_eq!(code, 1, "{err}");
    // Unusable input: exit 2.
    std::fs::write(path("garbage.json"), "{\"hello\": true}").unwrap();
    let (code, _, err) = verify(&[&path("garbage.json")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a urad receipt file"), "{err}");
    let (code, _, _) = verify(&[&path("missing.json")]);
    assert_eq!(code, 2);
    let (code, _, err) = verify(&[&path("receipt.json"), "--key", &path("data.json")]);
    assert_eq!(code, 2, "{err}");

    // The whole log.
    let mut args = vec!["receipt-log".to_owned(), "verify".to_owned()];
    args.extend(store_flags(&store));
    let (code, out, err) = urad(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 submissions, 4 leaves"), "{out}");
    assert!(out.contains("the latest covers 4 of the 4 leaves"), "{out}");
    ids.push(submit(&db, &clock, &forms, "p-8", 9).await);
    let mut signing = args.clone();
    signing.push("--sign-head".into());
    let (code, out, err) = urad(&signing);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("the latest covers 5 of the 5 leaves"), "{out}");
    // A receipt rewritten in the database: exit 1.
    db.write_one(sql(
        "UPDATE submission SET sequence = 99 WHERE log_index = 0",
    ))
    .await
    .unwrap();
    let (code, _, err) = urad(&args);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("MISMATCH") && err.contains("size 4"), "{err}");
}

crate::on_both_backends!(the_endpoints_publish_heads_proofs_leaves_and_the_key);

async fn the_endpoints_publish_heads_proofs_leaves_and_the_key(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let forms = forms();
    let clock = ManualClock::at(1_800_000_000);
    for n in 0..3 {
        submit(&db, &clock, &forms, "p-1", n).await;
    }
    let key: Jwk = serde_json::from_value(app.json("/api/v1/receipt-log/key", 200).await).unwrap();
    let head: SignedTreeHead =
        serde_json::from_value(app.json("/api/v1/receipt-log/tree-head", 200).await).unwrap();
    assert_eq!(head.tree_size, 3);
    head.verify(&key).unwrap();
    let root = head.root().unwrap();
    let leaves = app
        .json("/api/v1/receipt-log/leaves?start=0&end=10", 200)
        .await;
    let leaves = leaves["leaves"].as_array().unwrap();
    assert_eq!(leaves.len(), 3);
    for leaf in leaves {
        let index = leaf["index"].as_u64().unwrap();
        let payload = leaf["payload"].as_str().unwrap();
        let hash = leaf_hash(payload.as_bytes());
        assert_eq!(leaf["leaf_hash"], hex(&hash));
        let proof = app
            .json(
                &format!("/api/v1/receipt-log/inclusion-proof?index={index}&tree_size=3"),
                200,
            )
            .await;
        let proof: Vec<_> = proof["inclusion_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hash_from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        assert!(verify_inclusion(&hash, index, 3, &proof, &root));
    }

    // More receipts; a second later the next head covers them and extends the first.
    for n in 3..8 {
        submit(&db, &clock, &forms, "p-2", n).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let next: SignedTreeHead =
        serde_json::from_value(app.json("/api/v1/receipt-log/tree-head", 200).await).unwrap();
    assert_eq!(next.tree_size, 8);
    next.verify(&key).unwrap();
    let proof = app
        .json(
            "/api/v1/receipt-log/consistency-proof?first=3&second=8",
            200,
        )
        .await;
    let proof: Vec<_> = proof["consistency_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    assert!(verify_consistency(
        3,
        8,
        &root,
        &next.root().unwrap(),
        &proof
    ));

    // Bad parameters: 400 with a message in both languages; beyond the log: 404.
    for (query, field) in [
        ("inclusion-proof?tree_size=3", "index"),
        ("inclusion-proof?index=x&tree_size=3", "index"),
        ("inclusion-proof?index=-1&tree_size=3", "index"),
        ("inclusion-proof?index=3&tree_size=3", "index"),
        ("consistency-proof?first=5&second=3", "first"),
        ("consistency-proof?first=1", "second"),
        ("leaves?start=4&end=4", "end"),
    ] {
        let body = app.json(&format!("/api/v1/receipt-log/{query}"), 400).await;
        assert_eq!(body["field"], field, "{query}: {body}");
        assert!(!body["message"]["cs"].as_str().unwrap().is_empty());
        assert!(!body["message"]["en"].as_str().unwrap().is_empty());
    }
    for query in [
        "inclusion-proof?index=1&tree_size=9",
        "consistency-proof?first=1&second=99",
        "leaves?start=8&end=20",
    ] {
        let body = app.json(&format!("/api/v1/receipt-log/{query}"), 404).await;
        assert!(
            body["error"].as_str().unwrap().contains("size is 8")
                && body["message"]["cs"].as_str().unwrap().contains("je 8"),
            "{body}"
        );
    }

    let doc = app.json("/api/openapi.json", 200).await;
    for path in [
        "tree-head",
        "inclusion-proof",
        "consistency-proof",
        "leaves",
        "key",
    ] {
        assert!(
            doc["paths"][format!("/api/v1/receipt-log/{path}")]["get"].is_object(),
            "{path}"
        );
    }
    app.shutdown().await;
}

/// Leaves for the large-log test; `URAD_TEST_RECEIPT_LOG_LEAVES=100000` measures the size the
/// log must stay fast at (docs/receipts.md has the figures).
fn large_log_leaves() -> i64 {
    std::env::var("URAD_TEST_RECEIPT_LOG_LEAVES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

async fn a_large_log_catches_up_and_answers_quickly(backend: Backend) {
    let (_store, db, _dir) = open_store(backend).await;
    let n = large_log_leaves();
    // Submissions written straight into the table (the submission path is tested above):
    // one statement both databases understand.
    db.write_one(
        sql("WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < $1 - 1) \
             INSERT INTO submission (id, reference, reference_year, reference_number, scope, sequence, \
             received_at, person_id, form_id, form_version, data, data_sha256, log_index) \
             SELECT 'bulk-' || i, 'KUMSK ' || (i + 1) || '/2027', 2027, i + 1, 'call:bulk', i + 1, \
             1800000000 + i, 'p-bulk', 'obecne-podani', 1, '{}', $2, i FROM k")
        .bind(n)
        .bind(hex(&Sha256::digest(b"{}"))),
    )
    .await
    .unwrap();
    let clock = ManualClock::at(1_800_000_000 + n);
    let log = ReceiptLog::new();
    let started = std::time::Instant::now();
    assert_eq!(log.size(&db).await.unwrap(), n as u64);
    let caught_up = started.elapsed();
    let started = std::time::Instant::now();
    let head = log.latest_head(&db, &clock).await.unwrap();
    let key = log.public_jwk(&db, &clock).await.unwrap();
    let file = log
        .receipt_file(&db, &clock, "p-bulk", &format!("bulk-{}", n / 3))
        .await
        .unwrap()
        .unwrap();
    let proof = log
        .consistency_proof(&db, 777, head.tree_size)
        .await
        .unwrap();
    let answered = started.elapsed();
    assert_eq!(file.tree_head, head);
    let v = check(&file.to_json(), &key, Some("{}"));
    assert!(v.holds(), "{}", failures(&v));
    assert!(!proof.is_empty());
    println!(
        "{} leaves: caught up in {caught_up:?}; head, receipt file and a consistency proof in {answered:?}",
        n
    );
    // Generous bounds for a debug build on a shared machine; what matters is that an answer
    // does not recompute the tree.
    assert!(caught_up.as_secs() < 60, "{caught_up:?}");
    assert!(answered.as_millis() < 500, "{answered:?}");
}
