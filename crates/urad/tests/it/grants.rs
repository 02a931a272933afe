//! The live grants robot on both databases: received boiler applications of the demo call
//! decided in receipt order from the submissions and their attachments as stored, with the
//! registry consulted, each decision recorded with its trace — and a restart in the middle
//! that neither repeats nor loses a decision.

use crate::attachments::{pdf, png};
use crate::harness::{content_dir, Backend};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use urad_core::{Lang, ManualClock};
use urad_filing::attachments::{self, Attachments, Limits, NewAttachment};
use urad_grants::robot::Robot;
use urad_grants::FileRegistry;
use urad_store::blobs::BlobStore;
use urad_store::sql;

crate::for_both_backends!(the_robot_decides_in_receipt_order_and_a_restart_repeats_nothing);

/// Application `i` of the boiler form: a gas condensing boiler (photo and invoice needed) in a
/// priority municipality, building `50<i>` unless given.
fn boiler(i: usize, building: &str, fuel: &str) -> Value {
    json!({
        "applicant": {"name": format!("Žadatel {i}"), "birth_date": "1980-04-12",
                      "permanent_address_building_id": building},
        "building": {"building_id": building, "type": "family_house", "approved": true,
                     "municipality_code": "554821", "energy_class": "C"},
        "old_boiler": {"fuel": fuel, "feeding": "manual", "emission_class": "2"},
        "new_source": "gas_condensing",
        "eligible_costs_czk": 180_000,
        "micro_measures": false,
        "payment": {"bank_account": "19-2000145399/0800"}
    })
}

fn one_chunk(bytes: Vec<u8>) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::iter([Ok(Bytes::from(bytes))])
}

async fn the_robot_decides_in_receipt_order_and_a_restart_repeats_nothing(backend: Backend) {
    let (db, dir) = crate::identity::open(backend).await;
    let content = urad::ContentArgs::dir(content_dir());
    let forms = content.forms().unwrap();
    let programmes = Arc::new(content.grant_programmes().unwrap());
    let call = programmes[0].calls[0].clone();
    let store = Attachments {
        db: db.clone(),
        blobs: BlobStore::local(&dir.path().join("blobs")).unwrap(),
        limits: Limits::default(),
    };
    let clock = ManualClock::at(jiff::Timestamp::now().as_second());
    let scope = urad_grants::robot::scope_of(&call);

    // 1 eligible; 2 burns gas; 3 applies for 1's building and does not own it; 4's building
    // the registry cannot answer for; 5 eligible.
    let applications = [
        ("P1", boiler(1, "501", "coal")),
        ("P2", boiler(2, "502", "gas")),
        ("P3", boiler(3, "501", "coal")),
        ("P4", boiler(4, "504", "coal")),
        ("P5", boiler(5, "505", "wood")),
    ];
    for (person, data) in &applications {
        let draft = urad_filing::start_draft(&db, &clock, &forms, person, "kotlikova-dotace", data)
            .await
            .unwrap();
        for (slot, name, bytes) in [
            ("old_boiler_photo", "kotel.png", png()),
            ("invoice_or_budget", "faktura.pdf", pdf(2_000)),
        ] {
            let upload = NewAttachment {
                person_id: person,
                draft_id: &draft,
                slot,
                file_name: name,
            };
            attachments::add(&store, &clock, &forms, &upload, one_chunk(bytes))
                .await
                .unwrap();
        }
        let request = urad_filing::SubmitRequest {
            person_id: person,
            draft_id: &draft,
            scope: &scope,
            lang: Lang::Cs,
            attachment_limits: Limits::default(),
        };
        urad_filing::submit(&db, &clock, &forms, "KUMSK", &request)
            .await
            .unwrap();
    }
    let registry = Arc::new(
        FileRegistry::from_json(
            &json!({"owners": {"501": ["P1"], "502": ["P2"], "504": ["P4"], "505": ["P5"]},
                    "unavailable": ["504"]})
            .to_string(),
        )
        .unwrap(),
    );
    let robot = || {
        Robot::new(
            programmes.clone(),
            registry.clone(),
            registry.clone(),
            Duration::from_secs(5),
        )
    };

    // Two, then the process "restarts": a new robot with nothing in memory goes on after them.
    assert_eq!(robot().run_once(&db, &clock, 2).await.unwrap(), 2);
    let again = robot();
    assert_eq!(again.run_once(&db, &clock, 10).await.unwrap(), 3);
    assert_eq!(
        again.run_once(&db, &clock, 10).await.unwrap(),
        0,
        "nothing is decided twice"
    );
    assert_eq!(robot().run_once(&db, &clock, 10).await.unwrap(), 0);

    let rows = db
        .fetch_all(sql(
            "SELECT d.sequence, s.person_id, d.outcome, d.amount_czk, d.reasons, d.trace, d.holds_budget, d.decided_by \
             FROM grant_decision d JOIN submission s ON s.id = d.submission_id ORDER BY d.sequence",
        ))
        .await
        .unwrap();
    let got: Vec<(i64, String, String, i64, Value)> = rows
        .iter()
        .map(|r| {
            (
                r.get("sequence").unwrap(),
                r.get("person_id").unwrap(),
                r.get("outcome").unwrap(),
                r.get("amount_czk").unwrap(),
                serde_json::from_str(&r.get::<String>("reasons").unwrap()).unwrap(),
            )
        })
        .collect();
    // 75 % of the capped 150 000 is above the gas cap of 95 000; +7 500 in a priority municipality.
    let expected = [
        (1, "P1", "approved", 102_500, json!([])),
        (2, "P2", "rejected", 0, json!(["old_boiler_fuel"])),
        (
            3,
            "P3",
            "rejected",
            0,
            json!(["not_owner", "duplicate_application"]),
        ),
        (
            4,
            "P4",
            "manual_review",
            102_500,
            json!(["registry_unavailable"]),
        ),
        (5, "P5", "approved", 102_500, json!([])),
    ];
    assert_eq!(
        got,
        expected
            .iter()
            .map(|(s, p, o, a, r)| (*s, p.to_string(), o.to_string(), *a, r.clone()))
            .collect::<Vec<_>>()
    );
    assert!(rows
        .iter()
        .all(|r| r.get::<String>("decided_by").unwrap() == "robot"));

    // The trace: every rule with the values it saw, from the stored submission.
    let trace: Value = serde_json::from_str(&rows[2].get::<String>("trace").unwrap()).unwrap();
    let step = |check: &str| {
        trace
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["check"] == check)
            .unwrap()
            .clone()
    };
    assert_eq!(step("not_owner")["result"]["is"], "failed");
    assert_eq!(
        step("not_owner")["values"]["registry.owners"],
        json!(["P1"])
    );
    assert_eq!(
        step("not_owner")["values"]["application.applicant.person_id"],
        json!("P3")
    );
    assert_eq!(step("old_boiler_fuel")["result"]["is"], "passed");
    let trace: Value = serde_json::from_str(&rows[0].get::<String>("trace").unwrap()).unwrap();
    let photo = trace
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["check"] == "attachment:old_boiler_photo")
        .unwrap();
    assert_eq!(
        photo["result"]["is"], "passed",
        "the stored PNG counts as the photo"
    );

    // The call's position and budget: three hold 102 500 each.
    let state = db
        .fetch_optional(
            sql("SELECT last_sequence, remaining_czk FROM grant_call_state WHERE call_id = $1")
                .bind(&call.id),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.get::<i64>("last_sequence").unwrap(), 5);
    assert_eq!(
        state.get::<i64>("remaining_czk").unwrap(),
        call.budget_czk - 3 * 102_500
    );
    let held: i64 = rows
        .iter()
        .map(|r| r.get::<i64>("holds_budget").unwrap())
        .sum();
    assert_eq!(held, 3);
}

/// Copies a folder tree.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Outside the call's window the boiler application is refused with a message naming the
/// window, in both languages; the draft stays and nothing is received.
#[tokio::test]
async fn a_grant_application_is_received_only_while_its_call_is_open() {
    use reqwest::Method;
    let content = tempfile::tempdir().unwrap();
    copy_tree(&content_dir(), content.path());
    let programme = content.path().join("grants/KD-2026.toml");
    let text = std::fs::read_to_string(&programme).unwrap();
    let closed = text.replace(
        "closes_at = \"2029-12-31T14:00:00+01:00\"",
        "closes_at = \"2026-10-31T14:00:00+01:00\"",
    );
    assert_ne!(text, closed);
    std::fs::write(&programme, closed).unwrap();
    let app = crate::harness::TestApp::start_with(
        Backend::Sqlite,
        crate::harness::Setup {
            content: Some(content.path().to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    crate::filing_api::register_client(&app).await;
    let token =
        crate::filing_api::access_token(&app, "demo-jana", urad_identity::Loa::Substantial).await;
    let t = Some(token.as_str());
    let body = json!({"form": "kotlikova-dotace", "data": boiler(1, "501", "coal")}).to_string();
    let (status, draft, _) =
        crate::filing_api::call(&app, Method::POST, "/api/v1/drafts", t, Some(&body)).await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_str().unwrap();
    let (status, refused, _) = crate::filing_api::call(
        &app,
        Method::POST,
        &format!("/api/v1/drafts/{id}/submit"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    let cs = refused["message"]["cs"].as_str().unwrap();
    assert!(
        cs.contains("už žádosti nepřijímá") && cs.contains("31. 10. 2026"),
        "{cs}"
    );
    assert!(
        refused["message"]["en"]
            .as_str()
            .unwrap()
            .contains("no longer receives"),
        "{refused}"
    );
    let (status, _, _) =
        crate::filing_api::call(&app, Method::GET, &format!("/api/v1/drafts/{id}"), t, None).await;
    assert_eq!(status, 200, "the draft stays");
    let db = app.store.open().await.unwrap();
    let n: i64 = db
        .fetch_optional(sql("SELECT COUNT(*) AS n FROM submission"))
        .await
        .unwrap()
        .unwrap()
        .get("n")
        .unwrap();
    assert_eq!(n, 0);
}
