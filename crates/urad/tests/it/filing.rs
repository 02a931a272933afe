//! The e-filing office's core: drafts, submission, reference numbers and receipt sequences, on
//! both databases — under a surge of concurrent submissions too.

use crate::harness::Backend;
use crate::identity::open;
use serde_json::json;
use std::collections::BTreeSet;
use urad_core::{Lang, ManualClock};
use urad_filing::{FilingError, SubmitRequest};
use urad_forms::Forms;

fn forms() -> Forms {
    Forms::load_dir(&crate::harness::content_dir().join("forms")).unwrap()
}

fn general(subject: &str) -> serde_json::Value {
    json!({
        "sender": {"name": "Jana Nováková", "address": "Hlavní 1, Ostrava"},
        "subject": subject,
        "text": "Prosím o informaci."
    })
}

crate::for_both_backends!(
    a_draft_is_submitted_once_with_a_reference_number_and_a_sequence,
    a_surge_of_submissions_gets_gapless_sequences_in_commit_order,
    the_journal_check_finds_gaps_repeats_and_altered_data,
);

async fn a_draft_is_submitted_once_with_a_reference_number_and_a_sequence(backend: Backend) {
    let (db, _dir) = open(backend).await;
    let forms = forms();
    // 2026-12-31 23:30 UTC is already 2027 in Prague.
    let clock = ManualClock::at(1_798_759_800);
    let started = urad_filing::new_draft(&db, &clock, &forms, "p-1", "obecne-podani", &json!({}))
        .await
        .unwrap();
    // The draft as answered is the draft as stored.
    assert_eq!(
        urad_filing::draft(&db, "p-1", &started.id).await.unwrap(),
        Some(started.clone())
    );
    let draft = started.id;
    let request = |draft_id: &'static str| SubmitRequest {
        person_id: "p-1",
        draft_id,
        scope: "form:obecne-podani",
        lang: Lang::Cs,
        attachment_limits: Default::default(),
    };
    let draft: &'static str = Box::leak(draft.into_boxed_str());

    // Incomplete: refused with the form's messages, nothing received.
    match urad_filing::submit(&db, &clock, &forms, "KUMSK", &request(draft)).await {
        Err(FilingError::Invalid(errors)) => {
            assert_eq!(errors[0].field, "sender.name");
            assert_eq!(
                errors[0].message,
                "Vyplňte pole „Jméno a příjmení nebo název“."
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(urad_filing::receipt(&db, "p-1", draft)
        .await
        .unwrap()
        .is_none());

    // Someone else's draft is not found, neither to save nor to submit.
    assert!(matches!(
        urad_filing::save_draft(&db, &clock, "p-2", draft, &general("x")).await,
        Err(FilingError::UnknownDraft)
    ));
    urad_filing::save_draft(&db, &clock, "p-1", draft, &general("Žádost"))
        .await
        .unwrap();
    let first = urad_filing::submit(&db, &clock, &forms, "KUMSK", &request(draft))
        .await
        .unwrap();
    assert_eq!(first.reference, "KUMSK 1/2027");
    assert_eq!(first.sequence, 1);
    assert_eq!(first.received_at, 1_798_759_800);
    assert_eq!(
        (first.form_id.as_str(), first.form_version),
        ("obecne-podani", 1)
    );
    assert_eq!(first.data_sha256.len(), 64);

    // A second click (or a retry after a timeout) returns the first receipt.
    clock.advance(5);
    let again = urad_filing::submit(&db, &clock, &forms, "KUMSK", &request(draft))
        .await
        .unwrap();
    assert_eq!(again, first);
    // And the draft can no longer change.
    assert!(matches!(
        urad_filing::save_draft(&db, &clock, "p-1", draft, &general("změna")).await,
        Err(FilingError::AlreadySubmitted)
    ));
    let stored = urad_filing::draft(&db, "p-1", draft)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.data["subject"], "Žádost");
    assert!(urad_filing::submit(
        &db,
        &clock,
        &forms,
        "KUMSK",
        &SubmitRequest {
            person_id: "p-2",
            ..request(draft)
        }
    )
    .await
    .is_err());

    // The next one in the same year and scope gets the next numbers.
    let second = urad_filing::start_draft(
        &db,
        &clock,
        &forms,
        "p-1",
        "obecne-podani",
        &general("Další"),
    )
    .await
    .unwrap();
    let second: &'static str = Box::leak(second.into_boxed_str());
    let next = urad_filing::submit(&db, &clock, &forms, "KUMSK", &request(second))
        .await
        .unwrap();
    assert_eq!(
        (next.reference.as_str(), next.sequence),
        ("KUMSK 2/2027", 2)
    );
}

async fn a_surge_of_submissions_gets_gapless_sequences_in_commit_order(backend: Backend) {
    let (db, _dir) = open(backend).await;
    let forms = std::sync::Arc::new(forms());
    let clock = std::sync::Arc::new(ManualClock::at(1_800_000_000));
    const N: usize = 60;
    let mut drafts = Vec::new();
    for i in 0..N {
        let id = urad_filing::start_draft(
            &db,
            clock.as_ref(),
            &forms,
            &format!("p-{i}"),
            "obecne-podani",
            &general(&format!("Podání {i}")),
        )
        .await
        .unwrap();
        drafts.push((format!("p-{i}"), id));
    }
    // Everyone at once, each twice (a double click).
    let tasks: Vec<_> = drafts
        .iter()
        .flat_map(|d| [d.clone(), d.clone()])
        .map(|(person, draft)| {
            let (db, forms, clock) = (db.clone(), forms.clone(), clock.clone());
            tokio::spawn(async move {
                urad_filing::submit(
                    &db,
                    clock.as_ref(),
                    &forms,
                    "KUMSK",
                    &SubmitRequest {
                        person_id: &person,
                        draft_id: &draft,
                        scope: "call:KD-2026",
                        lang: Lang::En,
                        attachment_limits: Default::default(),
                    },
                )
                .await
            })
        })
        .collect();
    let mut receipts = Vec::new();
    for t in tasks {
        receipts.push(t.await.unwrap().unwrap());
    }
    // Both clicks of each draft got the same receipt.
    for pair in receipts.chunks(2) {
        assert_eq!(pair[0], pair[1]);
    }
    let sequences: BTreeSet<i64> = receipts.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, (1..=N as i64).collect::<BTreeSet<_>>());
    let references: BTreeSet<&str> = receipts.iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(references.len(), N);
    // Commit order: a higher sequence was never received earlier.
    let mut by_sequence = receipts.clone();
    by_sequence.sort_by_key(|r| r.sequence);
    assert!(by_sequence
        .windows(2)
        .all(|w| w[0].received_at <= w[1].received_at));
    // The receipt log's leaves follow the same order, 0 … N-1 (each receipt once).
    by_sequence.dedup();
    assert!(by_sequence
        .windows(2)
        .all(|w| w[0].log_index < w[1].log_index));
    assert_eq!(by_sequence[0].log_index, 0);
    assert_eq!(by_sequence[N - 1].log_index, N as i64 - 1);
    let report = urad_filing::verify_journal(&db).await.unwrap();
    assert!(report.holds(), "{:?}", report.problems);
    assert_eq!((report.submissions, report.scopes), (N as i64, 1));
}

/// Submits `n` general submissions of different people; returns their receipts.
async fn submit_some(db: &urad_store::Db, n: usize) -> Vec<urad_filing::Receipt> {
    let forms = forms();
    let clock = ManualClock::at(1_800_000_000);
    let mut receipts = Vec::new();
    for i in 0..n {
        let person = format!("p-{i}");
        let draft = urad_filing::start_draft(
            db,
            &clock,
            &forms,
            &person,
            "obecne-podani",
            &general(&format!("Podání {i}")),
        )
        .await
        .unwrap();
        let request = SubmitRequest {
            person_id: &person,
            draft_id: &draft,
            scope: "form:obecne-podani",
            lang: Lang::Cs,
            attachment_limits: Default::default(),
        };
        receipts.push(
            urad_filing::submit(db, &clock, &forms, "KUMSK", &request)
                .await
                .unwrap(),
        );
        clock.advance(1);
    }
    receipts
}

async fn the_journal_check_finds_gaps_repeats_and_altered_data(backend: Backend) {
    use urad_store::sql;
    // Each kind of damage on a journal of its own, found and named.
    // (Repeats cannot even be written: the table's unique constraints refuse them.)
    let cases: [(&'static str, &str); 4] = [
        ("UPDATE submission SET data = '{}' WHERE sequence = 2", "SHA-256"),
        ("DELETE FROM submission WHERE sequence = 2", "expected 1 to 2"),
        ("UPDATE submission SET received_at = received_at - 100 WHERE sequence = 3", "before their predecessor"),
        ("UPDATE draft SET submitted_at = NULL WHERE id = (SELECT id FROM submission WHERE sequence = 1)", "drafts marked sent"),
    ];
    for (damage, found) in cases {
        let (db, _dir) = open(backend).await;
        submit_some(&db, 3).await;
        let report = urad_filing::verify_journal(&db).await.unwrap();
        assert!(report.holds(), "{:?}", report.problems);
        db.write_one(sql(damage)).await.unwrap();
        let report = urad_filing::verify_journal(&db).await.unwrap();
        assert!(
            report.problems.iter().any(|p| p.contains(found)),
            "{damage}: {:?}",
            report.problems
        );
    }
}
