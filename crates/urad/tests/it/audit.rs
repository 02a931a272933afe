//! The personal-data access log on both databases: gapless seqs under concurrent appends from
//! two handles (as two processes), an entry committed with its change or not at all, the
//! append-only triggers, the lists for citizens and cases, and tampering — with the triggers
//! dropped, as an attacker with access to the database would — found by `verify` and by
//! `urad audit verify` run as the real binary.

use crate::harness::Backend;
use crate::receipts::{open_store, store_flags, urad};
use serde_json::json;
use urad_audit::{Action, Entry, Head, Page, Problem};
use urad_core::ManualClock;
use urad_store::{sql, Backend as DbBackend, Db};

crate::for_both_backends!(
    concurrent_appends_from_two_handles_get_seqs_1_to_n_and_verify,
    an_entry_commits_with_its_change_or_not_at_all,
    the_database_refuses_to_update_or_delete_the_log,
    for_subject_lists_only_that_persons_entries_newest_first,
    an_altered_entry_is_found,
    a_removed_entry_is_found,
    a_removed_last_entry_is_found_by_the_head,
    reordered_entries_are_found,
    a_consistently_recomputed_chain_is_found_by_checkpoint_and_anchor,
    the_binary_exits_0_on_a_sound_log_1_on_a_tampered_one_2_without_a_database,
);

fn entry(subject: &str, n: usize) -> Entry {
    Entry {
        actor_person_id: format!("official-{}", n % 3),
        actor_role: "referent".into(),
        subject_person_id: subject.into(),
        action: if n.is_multiple_of(2) {
            Action::Read
        } else {
            Action::Change
        },
        resource_kind: "submission".into(),
        resource_id: format!("s-{n}"),
        case_id: Some(format!("case-{}", n % 2)),
        agenda: Some("dotace".into()),
        purpose: "vyřízení žádosti".into(),
        details: json!({ "n": n }),
    }
}

/// Appends `n` entries, alternately of `p-a` and `p-b`.
async fn append_some(db: &Db, n: usize) {
    let clock = ManualClock::at(1_800_000_000);
    for i in 0..n {
        let subject = if i.is_multiple_of(2) { "p-a" } else { "p-b" };
        urad_audit::record(db, &clock, &entry(subject, i))
            .await
            .unwrap();
        clock.advance(1);
    }
}

/// What an attacker with access to the database does first.
async fn drop_triggers(db: &Db) {
    let drops: &[&'static str] = match db.backend() {
        DbBackend::Sqlite => &[
            "DROP TRIGGER audit_entry_no_update",
            "DROP TRIGGER audit_entry_no_delete",
            "DROP TRIGGER audit_entry_follows_head",
            "DROP TRIGGER audit_head_forward",
            "DROP TRIGGER audit_head_no_delete",
            "DROP TRIGGER audit_checkpoint_no_update",
            "DROP TRIGGER audit_checkpoint_no_delete",
        ],
        DbBackend::Postgres => &[
            "DROP TRIGGER audit_entry_append_only ON audit_entry",
            "DROP TRIGGER audit_entry_follows_head ON audit_entry",
            "DROP TRIGGER audit_head_forward ON audit_head",
            "DROP TRIGGER audit_head_no_delete ON audit_head",
            "DROP TRIGGER audit_checkpoint_append_only ON audit_checkpoint",
        ],
    };
    for drop in drops {
        db.write_one(sql(drop)).await.unwrap();
    }
}

async fn assert_verifies(db: &Db) -> urad_audit::Report {
    let report = urad_audit::verify(db).await.unwrap();
    assert!(report.holds(), "{:?}", report.problems);
    report
}

/// `urad audit verify` with the store's flags and `extra`.
fn verify_command(store: &urad::StoreArgs, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["audit".to_owned(), "verify".to_owned()];
    args.extend(store_flags(store));
    args.extend(extra.iter().map(|s| s.to_string()));
    urad(&args)
}

async fn concurrent_appends_from_two_handles_get_seqs_1_to_n_and_verify(backend: Backend) {
    let (store, db, _dir) = open_store(backend).await;
    // A second handle with its own connections (and, on SQLite, its own writer thread): what
    // a second urad process on the same database has.
    let other = store.open().await.unwrap();
    let clock = std::sync::Arc::new(ManualClock::at(1_800_000_000));
    let appends: Vec<_> = (0..120usize)
        .map(|n| {
            let db = if n.is_multiple_of(2) {
                db.clone()
            } else {
                other.clone()
            };
            let clock = clock.clone();
            tokio::spawn(async move {
                urad_audit::record(&db, &*clock, &entry(&format!("p-{}", n % 7), n))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for append in appends {
        let head = append.await.unwrap();
        assert_eq!(head.chain_hash.len(), 64);
        seqs.push(head.seq);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=120).collect::<Vec<i64>>());
    let report = assert_verifies(&db).await;
    assert_eq!(report.entries, 120);
    assert_eq!(report.head.as_ref().unwrap().seq, 120);
    assert_eq!(urad_audit::head(&other).await.unwrap().seq, 120);

    if backend_is_sqlite(&db) {
        // sqlx's connections do not have sha256_hex: appends go through Db::write only.
        let refused = urad_store::sqlx::query(
            "UPDATE audit_head SET seq = seq + 1, chain_hash = sha256_hex(chain_hash) WHERE id = 1",
        )
        .execute(db.writer())
        .await
        .unwrap_err();
        assert!(refused.to_string().contains("sha256_hex"), "{refused}");
        assert_verifies(&db).await;
    }
}

fn backend_is_sqlite(db: &Db) -> bool {
    db.backend() == DbBackend::Sqlite
}

async fn an_entry_commits_with_its_change_or_not_at_all(backend: Backend) {
    let (_store, db, _dir) = open_store(backend).await;
    db.write_one(sql(
        "CREATE TABLE decision_probe (id TEXT PRIMARY KEY, state TEXT NOT NULL)",
    ))
    .await
    .unwrap();
    let decision = entry("p-a", 1);

    // The change, its entry, then a statement that fails: none of them stays.
    let [head, insert] = urad_audit::append(&decision, 1_800_000_000).unwrap();
    let failed = db
        .write([
            sql("INSERT INTO decision_probe (id, state) VALUES ('d-1', 'granted')"),
            head,
            insert,
            sql("INSERT INTO decision_probe (id, state) VALUES ('d-1', 'again')"),
        ])
        .await;
    assert!(failed.is_err());
    assert_eq!(urad_audit::head(&db).await.unwrap().seq, 0);
    assert!(urad_audit::for_subject(&db, "p-a", Page::default())
        .await
        .unwrap()
        .is_empty());
    assert!(db
        .fetch_all(sql("SELECT id FROM decision_probe"))
        .await
        .unwrap()
        .is_empty());

    // A change that changes nothing: with only_if_previous_changed, no entry either.
    let [head, insert] = urad_audit::append(&decision, 1_800_000_001).unwrap();
    let written = db
        .write([
            sql("UPDATE decision_probe SET state = 'granted' WHERE id = 'nobody'"),
            head.only_if_previous_changed(),
            insert,
        ])
        .await
        .unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(urad_audit::head(&db).await.unwrap().seq, 0);

    // The change and its entry together; the failed write gave its seq back.
    let [head, insert] = urad_audit::append(&decision, 1_800_000_002).unwrap();
    let written = db
        .write([
            sql("INSERT INTO decision_probe (id, state) VALUES ('d-1', 'granted')"),
            head,
            insert,
        ])
        .await
        .unwrap();
    assert_eq!(written[2].rows[0].get::<i64>("seq").unwrap(), 1);
    let listed = urad_audit::for_subject(&db, "p-a", Page::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].seq, 1);
    assert_eq!(listed[0].at, 1_800_000_002);
    assert_eq!(listed[0].entry, decision);
    assert_verifies(&db).await;

    // An entry without a purpose is not appended at all.
    let mut no_purpose = entry("p-a", 2);
    no_purpose.purpose = " ".into();
    assert!(urad_audit::append(&no_purpose, 1).is_err());
}

async fn the_database_refuses_to_update_or_delete_the_log(backend: Backend) {
    let (_store, db, _dir) = open_store(backend).await;
    append_some(&db, 3).await;
    let clock = ManualClock::at(1_800_000_100);
    let head = urad_audit::head(&db).await.unwrap();
    assert!(urad_audit::checkpoint(&db, &clock, &head).await.unwrap());
    assert!(!urad_audit::checkpoint(&db, &clock, &head).await.unwrap());
    let refused: &[&'static str] = &[
        "UPDATE audit_entry SET purpose = 'zvědavost' WHERE seq = 2",
        "DELETE FROM audit_entry WHERE seq = 3",
        "DELETE FROM audit_entry",
        "UPDATE audit_head SET seq = seq - 1 WHERE id = 1",
        "UPDATE audit_head SET chain_hash = 'x' WHERE id = 1",
        "DELETE FROM audit_head",
        "UPDATE audit_checkpoint SET chain_hash = 'x'",
        "DELETE FROM audit_checkpoint",
        // An entry inserted past the head, without moving it.
        "INSERT INTO audit_entry (seq, at, actor_person_id, actor_role, subject_person_id, action, \
         resource_kind, resource_id, purpose, details, entry_hash, chain_hash) \
         VALUES (4, 1, 'a', 'r', 's', 'read', 'k', 'i', 'p', '{}', 'e', 'c')",
    ];
    for statement in refused {
        let e = db.write_one(sql(statement)).await.unwrap_err();
        assert!(
            e.to_string().contains("audit"),
            "{statement}: refused, but why? {e}"
        );
    }
    if db.backend() == DbBackend::Postgres {
        let e = db.write_one(sql("TRUNCATE audit_entry")).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }
    let report = assert_verifies(&db).await;
    assert_eq!((report.entries, report.checkpoints), (3, 1));
}

async fn for_subject_lists_only_that_persons_entries_newest_first(backend: Backend) {
    let (_store, db, _dir) = open_store(backend).await;
    append_some(&db, 9).await; // p-a: seqs 1, 3, 5, 7, 9; p-b: 2, 4, 6, 8
    let listed = urad_audit::for_subject(&db, "p-a", Page::default())
        .await
        .unwrap();
    let seqs: Vec<i64> = listed.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [9, 7, 5, 3, 1]);
    assert!(listed.iter().all(|r| r.entry.subject_person_id == "p-a"));
    assert_eq!(listed[0].entry, entry("p-a", 8));
    assert_eq!(listed[0].at, 1_800_000_008);
    assert_eq!(listed[0].entry.agenda.as_deref(), Some("dotace"));
    assert_eq!(listed[0].entry.purpose, "vyřízení žádosti");

    // Paged: two at a time, each page older than the last seq of the one before.
    let first = urad_audit::for_subject(
        &db,
        "p-b",
        Page {
            before: None,
            limit: 2,
        },
    )
    .await
    .unwrap();
    let second = urad_audit::for_subject(
        &db,
        "p-b",
        Page {
            before: Some(first[1].seq),
            limit: 2,
        },
    )
    .await
    .unwrap();
    let seqs: Vec<i64> = first.iter().chain(&second).map(|r| r.seq).collect();
    assert_eq!(seqs, [8, 6, 4, 2]);
    assert!(urad_audit::for_subject(&db, "p-nobody", Page::default())
        .await
        .unwrap()
        .is_empty());

    // A case's entries: case-1 holds the odd n, seqs 2, 4, 6, 8.
    let case: Vec<i64> = urad_audit::for_case(&db, "case-1", Page::default())
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(case, [8, 6, 4, 2]);
}

/// Verifies after `damage` to a log of 6 entries; the problems found.
async fn after_damage(backend: Backend, damage: &[&'static str]) -> Vec<Problem> {
    let (store, db, _dir) = open_store(backend).await;
    append_some(&db, 6).await;
    assert_verifies(&db).await;
    drop_triggers(&db).await;
    for statement in damage {
        db.write_one(sql(statement)).await.unwrap();
    }
    let report = urad_audit::verify(&db).await.unwrap();
    assert!(!report.holds(), "{damage:?} went unnoticed");
    // The binary says so too, naming the first problem.
    let (code, out, err) = verify_command(&store, &[]);
    assert_eq!(code, 1, "{out}{err}");
    let first = report.problems[0].to_string();
    assert!(err.contains(&format!("MISMATCH: {first}")), "{err}");
    assert!(err.contains("does NOT verify"), "{err}");
    report.problems
}

async fn an_altered_entry_is_found(backend: Backend) {
    for damage in [
        "UPDATE audit_entry SET purpose = 'zvědavost' WHERE seq = 3",
        "UPDATE audit_entry SET subject_person_id = 'p-x' WHERE seq = 3",
        "UPDATE audit_entry SET at = at + 1 WHERE seq = 3",
        "UPDATE audit_entry SET agenda = NULL WHERE seq = 3",
        "UPDATE audit_entry SET details = '{\"n\":99}' WHERE seq = 3",
    ] {
        let problems = after_damage(backend, &[damage]).await;
        assert_eq!(problems, [Problem::Altered { seq: 3 }], "{damage}");
        assert!(problems[0].to_string().starts_with("seq 3: altered"));
    }
    // The entry hash rewritten to match the new content: the chain breaks there instead.
    let problems = after_damage(
        backend,
        &["UPDATE audit_entry SET entry_hash = sha256_hex('forged') WHERE seq = 3"],
    )
    .await;
    assert!(
        problems.contains(&Problem::Altered { seq: 3 })
            && problems.contains(&Problem::ChainBroken { seq: 3 }),
        "{problems:?}"
    );
}

async fn a_removed_entry_is_found(backend: Backend) {
    let problems = after_damage(backend, &["DELETE FROM audit_entry WHERE seq = 3"]).await;
    assert_eq!(problems, [Problem::Missing { first: 3, last: 3 }]);
    assert_eq!(
        problems[0].to_string(),
        "seq 3: removed — the entry is missing"
    );
    // Removed, and the later ones renumbered to close the gap: the chain breaks at 3.
    let problems = after_damage(
        backend,
        &[
            "DELETE FROM audit_entry WHERE seq = 3",
            "UPDATE audit_entry SET seq = seq - 1 WHERE seq = 4",
            "UPDATE audit_entry SET seq = seq - 1 WHERE seq = 5",
            "UPDATE audit_entry SET seq = seq - 1 WHERE seq = 6",
            "UPDATE audit_head SET seq = 5",
        ],
    )
    .await;
    assert_eq!(problems[0], Problem::ChainBroken { seq: 3 }, "{problems:?}");
}

async fn a_removed_last_entry_is_found_by_the_head(backend: Backend) {
    let problems = after_damage(backend, &["DELETE FROM audit_entry WHERE seq = 6"]).await;
    assert_eq!(problems, [Problem::HeadAhead { head: 6, last: 5 }]);
    assert!(problems[0].to_string().starts_with("seq 6: removed"));
    // An entry slipped in after the head, which does not count it.
    let (_store, db, _dir) = open_store(backend).await;
    append_some(&db, 2).await;
    drop_triggers(&db).await;
    db.write_one(sql(
        "INSERT INTO audit_entry (seq, at, actor_person_id, actor_role, subject_person_id, action, \
         resource_kind, resource_id, purpose, details, entry_hash, chain_hash) \
         SELECT 3, at, actor_person_id, actor_role, subject_person_id, action, resource_kind, \
         resource_id, purpose, details, entry_hash, chain_hash FROM audit_entry WHERE seq = 2",
    ))
    .await
    .unwrap();
    let report = urad_audit::verify(&db).await.unwrap();
    assert_eq!(
        report.problems,
        [Problem::BeyondHead { seq: 3, head: 2 }],
        "{:?}",
        report.problems
    );
}

async fn reordered_entries_are_found(backend: Backend) {
    // Whole entries swapped (their seqs exchanged).
    let problems = after_damage(
        backend,
        &[
            "UPDATE audit_entry SET seq = -4 WHERE seq = 4",
            "UPDATE audit_entry SET seq = 4 WHERE seq = 3",
            "UPDATE audit_entry SET seq = 3 WHERE seq = -4",
        ],
    )
    .await;
    // Each link from 3 on follows from a chain hash that is now elsewhere; 6 follows 5 again.
    assert_eq!(
        problems,
        [
            Problem::ChainBroken { seq: 3 },
            Problem::ChainBroken { seq: 4 },
            Problem::ChainBroken { seq: 5 }
        ]
    );

    // Contents swapped, with their entry hashes, under the seqs and chain hashes in place.
    let (store, db, _dir) = open_store(backend).await;
    append_some(&db, 6).await;
    drop_triggers(&db).await;
    let rows = db
        .fetch_all(sql(
            "SELECT seq, at, actor_person_id, subject_person_id, action, resource_id, case_id, \
             details, entry_hash FROM audit_entry WHERE seq IN (3, 4) ORDER BY seq",
        ))
        .await
        .unwrap();
    for (row, to) in [(&rows[0], 4i64), (&rows[1], 3i64)] {
        db.write_one(
            sql(
                "UPDATE audit_entry SET at = $1, actor_person_id = $2, subject_person_id = $3, \
                 action = $4, resource_id = $5, case_id = $6, details = $7, entry_hash = $8 \
                 WHERE seq = $9",
            )
            .bind(row.get::<i64>("at").unwrap())
            .bind(row.get::<String>("actor_person_id").unwrap())
            .bind(row.get::<String>("subject_person_id").unwrap())
            .bind(row.get::<String>("action").unwrap())
            .bind(row.get::<String>("resource_id").unwrap())
            .bind(row.get::<Option<String>>("case_id").unwrap())
            .bind(row.get::<String>("details").unwrap())
            .bind(row.get::<String>("entry_hash").unwrap())
            .bind(to),
        )
        .await
        .unwrap();
    }
    let report = urad_audit::verify(&db).await.unwrap();
    assert_eq!(
        report.problems,
        [
            Problem::ChainBroken { seq: 3 },
            Problem::ChainBroken { seq: 4 }
        ]
    );
    let (code, _, err) = verify_command(&store, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("MISMATCH: seq 3: the chain breaks"), "{err}");
}

async fn a_consistently_recomputed_chain_is_found_by_checkpoint_and_anchor(backend: Backend) {
    let (store, db, _dir) = open_store(backend).await;
    append_some(&db, 6).await;
    // A verification that holds records its head; its output is the anchor kept elsewhere.
    let (code, out, err) = verify_command(&store, &["--checkpoint"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("checkpoint recorded at seq 6"), "{out}");
    let anchor = out
        .split_whitespace()
        .skip_while(|w| *w != "--anchor")
        .nth(1)
        .expect("the head to anchor is printed")
        .trim_end_matches(')')
        .to_owned();
    let anchored: Head = anchor.parse().unwrap();
    assert_eq!(anchored, urad_audit::head(&db).await.unwrap());
    let clock = ManualClock::at(1_800_000_100);
    for n in 6..8 {
        urad_audit::record(&db, &clock, &entry("p-a", n))
            .await
            .unwrap();
    }

    // Entry 2 rewritten, with its entry hash and every chain hash after it recomputed and the
    // head moved to match: the chain alone is consistent again.
    drop_triggers(&db).await;
    let mut entries = urad_audit::for_subject(&db, "p-a", Page::default())
        .await
        .unwrap();
    entries.extend(
        urad_audit::for_subject(&db, "p-b", Page::default())
            .await
            .unwrap(),
    );
    entries.sort_by_key(|r| r.seq);
    assert_eq!(entries.len(), 8);
    entries[1].entry.purpose = "zvědavost".into();
    let mut chain = urad_audit::GENESIS.to_owned();
    for recorded in &entries {
        let details = recorded.entry.details.to_string();
        let entry_hash = urad_audit::entry_hash(&recorded.entry, recorded.at, &details);
        chain = urad_audit::chain_next(&chain, &entry_hash, recorded.seq);
        db.write_one(
            sql("UPDATE audit_entry SET purpose = $1, entry_hash = $2, chain_hash = $3 WHERE seq = $4")
                .bind(recorded.entry.purpose.as_str())
                .bind(entry_hash)
                .bind(chain.as_str())
                .bind(recorded.seq),
        )
        .await
        .unwrap();
    }
    db.write_one(sql("UPDATE audit_head SET chain_hash = $1 WHERE id = 1").bind(chain.as_str()))
        .await
        .unwrap();

    let report = urad_audit::verify(&db).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        matches!(
            &report.problems[0],
            Problem::Pinned {
                seq: 6,
                anchor: false,
                found: Some(_),
                ..
            }
        ),
        "{:?}",
        report.problems
    );
    let (code, _, err) = verify_command(&store, &["--checkpoint"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("MISMATCH: seq 6: the checkpoint has chain hash"),
        "{err}"
    );
    assert!(err.contains("no checkpoint recorded"), "{err}");

    // With the checkpoints rewritten too, only a head kept outside the database tells.
    db.write_one(sql("DELETE FROM audit_checkpoint"))
        .await
        .unwrap();
    assert_verifies(&db).await;
    let (code, _, err) = verify_command(&store, &["--anchor", &anchor]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("MISMATCH: seq 6: the anchor has chain hash"),
        "{err}"
    );
    let report = urad_audit::verify_with(&db, &[anchored]).await.unwrap();
    assert!(matches!(
        report.problems.as_slice(),
        [Problem::Pinned {
            seq: 6,
            anchor: true,
            ..
        }]
    ));
}

async fn the_binary_exits_0_on_a_sound_log_1_on_a_tampered_one_2_without_a_database(
    backend: Backend,
) {
    let (store, db, _dir) = open_store(backend).await;
    // An empty log verifies (and gets no checkpoint).
    let (code, out, err) = verify_command(&store, &["--checkpoint"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("audit log: 0 entries; head seq 0"), "{out}");
    assert!(out.contains("the log is empty"), "{out}");

    append_some(&db, 5).await;
    let head = urad_audit::head(&db).await.unwrap();
    let (code, out, err) = verify_command(&store, &["--anchor", &head.to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "audit log: 5 entries; head seq 5 chain hash {}",
            head.chain_hash
        )),
        "{out}"
    );
    assert!(out.contains("the audit log verifies: 5 entries"), "{out}");
    assert!(out.contains("1 anchor match"), "{out}");

    // An anchor the log never had.
    let wrong = format!("3:{}", urad_audit::GENESIS);
    let (code, _, err) = verify_command(&store, &["--anchor", &wrong]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("MISMATCH: seq 3: the anchor"), "{err}");

    // Tampered: exit 1, the seq named.
    drop_triggers(&db).await;
    db.write_one(sql(
        "UPDATE audit_entry SET actor_person_id = 'official-9' WHERE seq = 4",
    ))
    .await
    .unwrap();
    let (code, out, err) = verify_command(&store, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("MISMATCH: seq 4: altered"), "{err}");
    assert!(
        err.contains("the audit log does NOT verify: 1 problem, the first: seq 4: altered"),
        "{err}"
    );

    // Unusable: no database to read, or an anchor that is not one.
    let (code, _, err) = urad(&[
        "audit".into(),
        "verify".into(),
        "--database-url".into(),
        "mysql://nowhere/x".into(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error:"), "{err}");
    let (code, _, err) = verify_command(&store, &["--anchor", "5:nothex"]);
    assert_eq!(code, 2, "{err}");
}
