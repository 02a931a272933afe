//! The back office's case files on both databases: intake of received submissions, moves by
//! the agenda's workflow and its roles, completion requests answered through the portal or
//! lapsed, decisions that close a case with its disposal year, and the clerk's reassignment.

use crate::harness::{content_dir, Backend};
use serde_json::json;
use urad::back_office::BackOfficeSetup;
use urad_cases::access::Staff;
use urad_cases::cases::{self, CaseError, InboxFilter, Move};
use urad_core::{Lang, ManualClock};
use urad_filing::SubmitRequest;
use urad_forms::Forms;
use urad_store::Db;

crate::for_both_backends!(
    every_submission_opens_one_case_in_its_agenda_once,
    officials_move_cases_only_by_the_workflow_and_only_in_their_agenda,
    a_completion_request_is_answered_through_a_submission_and_the_case_goes_on,
    an_unanswered_completion_request_lapses_at_the_end_of_its_last_day,
    a_decision_closes_the_case_and_sets_its_disposal_year,
    the_registry_clerk_reassigns_a_new_case_to_another_agenda,
    every_act_of_staff_on_a_case_is_in_the_applicants_access_log,
    a_closed_case_file_is_exported_for_the_archive_and_an_open_one_is_not,
    the_applicant_is_reminded_three_days_before_the_last_day_once,
);

struct World {
    db: Db,
    store: urad::StoreArgs,
    _dir: tempfile::TempDir,
    clock: ManualClock,
    forms: Forms,
    setup: BackOfficeSetup,
}

/// 2026-12-02 10:00 Prague (09:00 UTC), a Wednesday.
const NOW: i64 = 1_796_202_000;

async fn world(backend: Backend) -> World {
    let (store, db, dir) = crate::receipts::open_store(backend).await;
    let forms = Forms::load_dir(&content_dir().join("forms")).unwrap();
    let catalog = urad_catalog::content::ContentSource::read_dir(&content_dir())
        .unwrap()
        .validate()
        .unwrap();
    let setup = urad::ContentArgs::dir(content_dir())
        .back_office(&catalog, &forms)
        .unwrap();
    World {
        db,
        store,
        _dir: dir,
        clock: ManualClock::at(NOW),
        forms,
        setup,
    }
}

fn staff(person: &str, groups: &[&str]) -> Staff {
    Staff::from_claims(
        person,
        &json!({ "groups": groups, "name": format!("Úředník {person}") }),
    )
    .unwrap()
}

impl World {
    /// A general submission of `person`; returns its id.
    async fn submit(&self, person: &str, subject: &str) -> String {
        let data = json!({
            "sender": {"name": "Jana Nováková", "address": "Hlavní 1, Ostrava"},
            "subject": subject,
            "text": "Prosím o vyřízení."
        });
        let draft = urad_filing::start_draft(
            &self.db,
            &self.clock,
            &self.forms,
            person,
            "obecne-podani",
            &data,
        )
        .await
        .unwrap();
        self.send(person, &draft).await;
        draft
    }

    async fn send(&self, person: &str, draft: &str) {
        let request = SubmitRequest {
            person_id: person,
            draft_id: draft,
            scope: "form:obecne-podani",
            lang: Lang::Cs,
            attachment_limits: Default::default(),
        };
        urad_filing::submit(&self.db, &self.clock, &self.forms, "KUMSK", &request)
            .await
            .unwrap();
    }

    async fn remind(&self, templates: &urad_notify::templates::Templates) -> usize {
        self.setup
            .remind(
                &self.db,
                &self.clock,
                templates,
                &self.forms,
                "https://portal.example",
            )
            .await
            .unwrap()
    }

    async fn intake(&self) -> cases::Intake {
        self.setup
            .run_once(&self.db, &self.clock, 100)
            .await
            .unwrap()
            .0
    }

    async fn case_of(&self, submission: &str) -> cases::CaseFile {
        cases::of_submission(&self.db, submission)
            .await
            .unwrap()
            .unwrap()
    }

    async fn take(
        &self,
        who: &Staff,
        case: &cases::CaseFile,
        transition: &str,
        message: Option<&str>,
    ) -> Result<cases::Moved, CaseError> {
        let m = Move {
            transition,
            revision: case.revision,
            message,
            // What the portal renders from the decision template; only decisions keep it.
            document: Some(b"%PDF-1.7 decision"),
            ..Move::default()
        };
        cases::take(&self.db, &self.clock, &self.setup.office, who, &case.id, &m).await
    }
}

async fn every_submission_opens_one_case_in_its_agenda_once(backend: Backend) {
    let w = world(backend).await;
    let ids = [
        w.submit("p-1", "První").await,
        w.submit("p-2", "Druhé").await,
        w.submit("p-1", "Třetí").await,
    ];
    // Two workers at once (two processes): each submission still gets one case.
    let (a, b) = tokio::join!(w.intake(), w.intake());
    assert_eq!(a.opened + b.opened, 3);
    assert_eq!(
        w.intake().await,
        cases::Intake::default(),
        "nothing left to take in"
    );
    for id in &ids {
        let case = w.case_of(id).await;
        // The general submission names no agenda: the default one, until the clerk moves it.
        assert_eq!(case.agenda, w.setup.office.default_agenda);
        assert_eq!(case.state, "received");
        assert!(case.reference.starts_with("KUMSK "), "{}", case.reference);
        // 30 days from Wednesday 2 December 2026: Friday 1 January 2027 is a holiday, so the
        // decision is due by the end of Monday 4 January, 23:00 UTC.
        assert_eq!(case.due_last_day, "2027-01-04");
        assert_eq!(case.due_at, 1_799_103_600);
        let events = cases::events(&w.db, &case.id, true).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "opened");
    }
    assert_eq!(cases::of_applicant(&w.db, "p-1").await.unwrap().len(), 2);

    // A later submission is taken in after the ones before.
    let late = w.submit("p-3", "Pozdější").await;
    assert_eq!(w.intake().await.opened, 1);
    assert_eq!(w.case_of(&late).await.applicant_id, "p-3");
}

async fn officials_move_cases_only_by_the_workflow_and_only_in_their_agenda(backend: Backend) {
    let w = world(backend).await;
    let id = w.submit("p-1", "Žádost").await;
    w.intake().await;
    let case = w.case_of(&id).await;
    let agenda = case.agenda.clone();
    let official = staff("o-1", &[&format!("official:{agenda}")]);
    let stranger = staff("o-2", &["official:health"]);
    let clerk = staff("c-1", &["registry_clerk"]);

    // Not their agenda, or not their role: as if there were no such case.
    for who in [&stranger, &clerk] {
        assert!(matches!(
            w.take(who, &case, "start", None).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            cases::for_staff(&w.db, who, &case.id).await,
            Err(CaseError::NotFound)
        ));
    }
    // A move the state does not offer.
    assert!(matches!(
        w.take(&official, &case, "approve", None).await,
        Err(CaseError::NotAllowed(_))
    ));
    let started = w.take(&official, &case, "start", None).await.unwrap().case;
    assert_eq!(started.state, "in-progress");
    assert_eq!(started.revision, case.revision + 1);
    // A second official who still sees the old revision cannot move it again.
    let colleague = staff("o-3", &[&format!("agenda_lead:{agenda}")]);
    let stale = cases::for_staff(&w.db, &colleague, &case.id).await.unwrap();
    assert_eq!(stale.state, "in-progress");
    assert!(matches!(
        w.take(&colleague, &case, "start", None).await,
        Err(CaseError::NotAllowed(_))
    ));
    let mut old = started.clone();
    old.revision -= 1;
    assert!(matches!(
        w.take(&colleague, &old, "approve", None).await,
        Err(CaseError::Changed)
    ));

    // Assignment and notes; the inbox counts and filters.
    let assigned = cases::assign(
        &w.db,
        &w.clock,
        &official,
        &case.id,
        started.revision,
        Some("o-1"),
    )
    .await
    .unwrap();
    assert_eq!(assigned.assignee_id.as_deref(), Some("o-1"));
    assert!(matches!(
        cases::add_note(&w.db, &w.clock, &official, &case.id, "  ").await,
        Err(CaseError::Invalid(_))
    ));
    cases::add_note(&w.db, &w.clock, &official, &case.id, "Ověřit adresu.")
        .await
        .unwrap();
    let all = cases::events(&w.db, &case.id, false).await.unwrap();
    let public = cases::events(&w.db, &case.id, true).await.unwrap();
    assert!(all.iter().any(|e| e.kind == "note"));
    assert!(
        !public
            .iter()
            .any(|e| e.kind == "note" || e.kind == "assigned"),
        "internal"
    );

    w.submit("p-2", "Jiná").await;
    w.intake().await;
    let mine = InboxFilter {
        assignee: Some("o-1".into()),
        ..InboxFilter::default()
    };
    let inbox = cases::inbox(&w.db, &w.clock, &official, &mine, 50)
        .await
        .unwrap();
    assert_eq!(inbox.cases.len(), 1);
    let unassigned = InboxFilter {
        assignee: Some(String::new()),
        ..InboxFilter::default()
    };
    let inbox = cases::inbox(&w.db, &w.clock, &official, &unassigned, 50)
        .await
        .unwrap();
    assert_eq!(inbox.cases.len(), 1);
    let mut counts = inbox.counts.clone();
    counts.sort();
    assert_eq!(
        counts,
        [("in-progress".to_owned(), 1), ("received".to_owned(), 1)]
    );
    assert_eq!(inbox.overdue, 0);
    // The stranger's inbox shows nothing of this agenda.
    let theirs = cases::inbox(&w.db, &w.clock, &stranger, &InboxFilter::default(), 50)
        .await
        .unwrap();
    assert!(theirs.cases.is_empty());
    // Overdue once the decision's deadline has passed.
    w.clock.advance(40 * 86_400);
    let overdue = InboxFilter {
        overdue_only: true,
        ..InboxFilter::default()
    };
    let inbox = cases::inbox(&w.db, &w.clock, &official, &overdue, 50)
        .await
        .unwrap();
    assert_eq!((inbox.cases.len(), inbox.overdue), (2, 2));
}

async fn a_completion_request_is_answered_through_a_submission_and_the_case_goes_on(
    backend: Backend,
) {
    let w = world(backend).await;
    let id = w.submit("p-1", "Žádost").await;
    w.intake().await;
    let case = w.case_of(&id).await;
    let official = staff("o-1", &[&format!("official:{}", case.agenda)]);
    let case = w.take(&official, &case, "start", None).await.unwrap().case;
    assert!(matches!(
        w.take(&official, &case, "request-completion", Some(" "))
            .await,
        Err(CaseError::Invalid(_))
    ));
    let moved = w
        .take(
            &official,
            &case,
            "request-completion",
            Some("Doložte prosím plnou moc."),
        )
        .await
        .unwrap();
    assert_eq!(moved.case.state, "awaiting-completion");
    let request = moved.completion_request.unwrap();
    // 15 days from Wednesday 2 December 2026: Thursday 17 December, a working day; it ends
    // at midnight in Prague, 23:00 UTC.
    assert_eq!(request.last_day, "2026-12-17");
    assert_eq!(request.deadline_at, 1_797_548_400);

    // The applicant answers with a draft of their own; nobody else can.
    w.clock.advance(3 * 86_400);
    let answer = urad_filing::start_draft(
        &w.db,
        &w.clock,
        &w.forms,
        "p-1",
        "obecne-podani",
        &json!({"sender": {"name": "Jana Nováková", "address": "Hlavní 1, Ostrava"},
                "subject": "Doplnění", "text": "Přikládám plnou moc."}),
    )
    .await
    .unwrap();
    assert!(matches!(
        cases::start_answer(&w.db, &w.clock, "p-2", &request.id, &answer).await,
        Err(CaseError::NoOpenRequest)
    ));
    cases::start_answer(&w.db, &w.clock, "p-1", &request.id, &answer)
        .await
        .unwrap();
    w.send("p-1", &answer).await;
    let taken = w.intake().await;
    assert_eq!(
        (taken.opened, taken.answers),
        (0, 1),
        "an answer opens no case"
    );
    let after = w.case_of(&id).await;
    assert_eq!(after.state, "in-progress");
    // Three days went to the applicant: the decision's deadline moved on with them.
    assert!(
        after.due_at > case.due_at,
        "{} > {}",
        after.due_at,
        case.due_at
    );
    let requests = cases::completion_requests(&w.db, &case.id).await.unwrap();
    assert_eq!(
        requests[0].answer_submission_id.as_deref(),
        Some(answer.as_str())
    );
    assert!(!requests[0].is_open());
    let public = cases::events(&w.db, &case.id, true).await.unwrap();
    let kinds: Vec<&str> = public.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["opened", "moved", "completion_requested", "completed"]
    );
    // A second answer to the closed request is refused.
    assert!(matches!(
        cases::start_answer(&w.db, &w.clock, "p-1", &request.id, "another-draft").await,
        Err(CaseError::NoOpenRequest)
    ));
}

async fn an_unanswered_completion_request_lapses_at_the_end_of_its_last_day(backend: Backend) {
    let w = world(backend).await;
    let id = w.submit("p-1", "Žádost").await;
    w.intake().await;
    let case = w.case_of(&id).await;
    let official = staff("o-1", &[&format!("official:{}", case.agenda)]);
    let case = w.take(&official, &case, "start", None).await.unwrap().case;
    let request = w
        .take(
            &official,
            &case,
            "request-completion",
            Some("Doložte podpis."),
        )
        .await
        .unwrap()
        .completion_request
        .unwrap();
    // One second before the end of the last day: still open.
    w.clock.advance(request.deadline_at - NOW - 1);
    assert_eq!(w.setup.run_once(&w.db, &w.clock, 100).await.unwrap().1, 0);
    w.clock.advance(1);
    assert_eq!(w.setup.run_once(&w.db, &w.clock, 100).await.unwrap().1, 1);
    assert_eq!(
        w.setup.run_once(&w.db, &w.clock, 100).await.unwrap().1,
        0,
        "once"
    );
    let after = w.case_of(&id).await;
    assert_eq!(
        after.state, "in-progress",
        "back to the official, who decides"
    );
    let requests = cases::completion_requests(&w.db, &case.id).await.unwrap();
    assert_eq!(requests[0].lapsed_at, Some(request.deadline_at));
    // Too late to answer now.
    assert!(matches!(
        cases::start_answer(&w.db, &w.clock, "p-1", &request.id, "late-draft").await,
        Err(CaseError::NoOpenRequest)
    ));
}

async fn a_decision_closes_the_case_and_sets_its_disposal_year(backend: Backend) {
    let w = world(backend).await;
    let id = w.submit("p-1", "Žádost").await;
    w.intake().await;
    let case = w.case_of(&id).await;
    let official = staff("o-1", &[&format!("official:{}", case.agenda)]);
    let case = w.take(&official, &case, "start", None).await.unwrap().case;
    // A decision without its document is not issued.
    let bare = Move {
        transition: "approve",
        revision: case.revision,
        ..Move::default()
    };
    assert!(matches!(
        cases::take(&w.db, &w.clock, &w.setup.office, &official, &case.id, &bare).await,
        Err(CaseError::Invalid(_))
    ));
    assert!(cases::decision_of_case(&w.db, &case.id)
        .await
        .unwrap()
        .is_none());
    let decided = w.take(&official, &case, "approve", None).await.unwrap();
    let decision = cases::decision_of_case(&w.db, &case.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (decision.kind.as_str(), decision.issued_at),
        ("approve", NOW)
    );
    assert_eq!(
        cases::decision_pdf(&w.db, "p-1", &case.id)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"%PDF-1.7 decision"[..])
    );
    assert_eq!(
        cases::decision_pdf(&w.db, "p-2", &case.id).await.unwrap(),
        None,
        "only the applicant's"
    );
    assert_eq!(decided.decision.map(|d| d.code()), Some("approve"));
    let closed = decided.case;
    assert_eq!(closed.state, "approved");
    assert_eq!(closed.closed_at, Some(NOW));
    let retention = w.setup.office.agenda(&closed.agenda).retention;
    // Closed in 2026: the period runs from 1 January 2027.
    assert_eq!(
        closed.disposal_year,
        Some(2027 + i64::from(retention.years))
    );
    // A closed case moves no more.
    for t in ["start", "approve", "reject", "stop", "request-completion"] {
        assert!(matches!(
            w.take(&official, &closed, t, Some("x")).await,
            Err(CaseError::NotAllowed(_))
        ));
    }
    assert!(matches!(
        cases::assign(
            &w.db,
            &w.clock,
            &official,
            &closed.id,
            closed.revision,
            Some("o-1")
        )
        .await,
        Err(CaseError::Changed)
    ));
}

async fn the_registry_clerk_reassigns_a_new_case_to_another_agenda(backend: Backend) {
    let w = world(backend).await;
    let id = w.submit("p-1", "Žádost o dotaci").await;
    w.intake().await;
    let case = w.case_of(&id).await;
    let clerk = staff("c-1", &["registry_clerk"]);
    let official = staff("o-1", &[&format!("official:{}", case.agenda)]);
    assert!(matches!(
        cases::reassign(
            &w.db,
            &w.clock,
            &w.setup.office,
            &official,
            &case.id,
            "grants"
        )
        .await,
        Err(CaseError::NotFound)
    ));
    assert!(matches!(
        cases::reassign(
            &w.db,
            &w.clock,
            &w.setup.office,
            &clerk,
            &case.id,
            "no-such"
        )
        .await,
        Err(CaseError::Invalid(_))
    ));
    let moved = cases::reassign(&w.db, &w.clock, &w.setup.office, &clerk, &case.id, "grants")
        .await
        .unwrap();
    assert_eq!(
        (moved.agenda.as_str(), moved.state.as_str()),
        ("grants", "received")
    );
    // Now the grants official has it and the first agenda's official does not.
    let grants = staff("o-9", &["official:grants"]);
    assert!(cases::for_staff(&w.db, &grants, &case.id).await.is_ok());
    assert!(matches!(
        cases::for_staff(&w.db, &official, &case.id).await,
        Err(CaseError::NotFound)
    ));
    // Once handling has started it stays where it is.
    let started = w.take(&grants, &moved, "start", None).await.unwrap().case;
    assert!(matches!(
        cases::reassign(
            &w.db,
            &w.clock,
            &w.setup.office,
            &clerk,
            &started.id,
            "health"
        )
        .await,
        Err(CaseError::NotAllowed(_))
    ));
}

async fn every_act_of_staff_on_a_case_is_in_the_applicants_access_log(backend: Backend) {
    let w = world(backend).await;
    let id = w.submit("p-1", "Žádost").await;
    let other = w.submit("p-2", "Jiná").await;
    w.intake().await;
    let case = w.case_of(&id).await;
    let official = staff("o-1", &[&format!("official:{}", case.agenda)]);
    let clerk = staff("c-1", &["registry_clerk"]);
    cases::record_read(&w.db, &w.clock, &official, &case, "case_page")
        .await
        .unwrap();
    let case = cases::assign(
        &w.db,
        &w.clock,
        &official,
        &case.id,
        case.revision,
        Some("o-1"),
    )
    .await
    .unwrap();
    cases::add_note(&w.db, &w.clock, &official, &case.id, "Zavolat žadateli.")
        .await
        .unwrap();
    let case = w.take(&official, &case, "start", None).await.unwrap().case;
    // A refused move is not logged as made.
    assert!(w.take(&official, &case, "start", None).await.is_err());
    let case = w
        .take(&official, &case, "approve", None)
        .await
        .unwrap()
        .case;
    let moved = cases::reassign(
        &w.db,
        &w.clock,
        &w.setup.office,
        &clerk,
        &w.case_of(&other).await.id,
        "grants",
    )
    .await
    .unwrap();

    let page = urad_audit::Page {
        before: None,
        limit: 50,
    };
    let log = urad_audit::for_subject(&w.db, "p-1", page).await.unwrap();
    let acts: Vec<(&str, &str)> = log
        .iter()
        .map(|r| {
            (
                r.entry.action.code(),
                r.entry.details["what"].as_str().unwrap(),
            )
        })
        .collect();
    // Newest first.
    assert_eq!(
        acts,
        [
            ("decision", "approve"),
            ("change", "start"),
            ("change", "note"),
            ("change", "assigned"),
            ("read", "case_page"),
        ]
    );
    for r in &log {
        assert_eq!(r.entry.actor_person_id, "o-1");
        assert_eq!(r.entry.details["actor_name"], "Úředník o-1");
        assert_eq!(r.entry.case_id.as_deref(), Some(case.id.as_str()));
        assert_eq!(r.entry.agenda.as_deref(), Some(case.agenda.as_str()));
        assert_eq!(r.entry.purpose, cases::PURPOSE_HANDLING);
    }
    // The other applicant sees only the clerk's reassignment of theirs.
    let theirs = urad_audit::for_subject(&w.db, "p-2", page).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].entry.actor_role, "registry_clerk");
    assert_eq!(theirs[0].entry.purpose, cases::PURPOSE_REGISTRY);
    assert_eq!(theirs[0].entry.case_id.as_deref(), Some(moved.id.as_str()));
    let report = urad_audit::verify(&w.db).await.unwrap();
    assert!(report.holds(), "{}", report.summary());
    assert_eq!(report.entries, 6);
}

async fn a_closed_case_file_is_exported_for_the_archive_and_an_open_one_is_not(backend: Backend) {
    use crate::receipts::{store_flags, urad};
    let w = world(backend).await;
    let id = w.submit("p-1", "Žádost").await;
    let open_one = w.submit("p-2", "Jiná").await;
    w.intake().await;
    let case = w.case_of(&id).await;
    let official = staff("o-1", &[&format!("official:{}", case.agenda)]);
    let case = w.take(&official, &case, "start", None).await.unwrap().case;
    let closed = w
        .take(&official, &case, "approve", None)
        .await
        .unwrap()
        .case;
    let out = w._dir.path().join("sip.zip");
    let export = |reference: &str| {
        let mut args: Vec<String> = [
            "records",
            "export-sip",
            "--case",
            reference,
            "--out",
            out.to_str().unwrap(),
            "--content-dir",
            content_dir().to_str().unwrap(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(store_flags(&w.store));
        urad(&args)
    };
    let (code, stdout, stderr) = export(&closed.reference);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("2 document(s)"), "{stdout}");
    let zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    for expected in [
        "mets.xml",
        "komponenty/podani.json",
        "komponenty/rozhodnuti.pdf",
    ] {
        assert!(
            names.iter().any(|n| n.ends_with(expected)),
            "{expected} in {names:?}"
        );
    }
    // A case still being handled does not go to the archive.
    let open_case = w.case_of(&open_one).await;
    let (code, _, stderr) = export(&open_case.reference);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not closed"), "{stderr}");
    let (code, _, stderr) = export("KUMSK 999999/2026");
    assert_eq!(code, 1);
    assert!(stderr.contains("no case"), "{stderr}");
}

async fn the_applicant_is_reminded_three_days_before_the_last_day_once(backend: Backend) {
    let w = world(backend).await;
    let templates = urad::ContentArgs::dir(content_dir())
        .notifications()
        .unwrap();
    let id = w.submit("p-1", "Žádost").await;
    w.intake().await;
    let case = w.case_of(&id).await;
    let official = staff("o-1", &[&format!("official:{}", case.agenda)]);
    let case = w.take(&official, &case, "start", None).await.unwrap().case;
    let request = w
        .take(
            &official,
            &case,
            "request-completion",
            Some("Doložte podpis."),
        )
        .await
        .unwrap()
        .completion_request
        .unwrap();
    assert_eq!(request.last_day, "2026-12-17");
    // Monday 14 December starts at 23:00 UTC on the 13th in Prague: not a second before.
    let monday = 1_797_202_800;
    w.clock.advance(monday - NOW - 1);
    assert_eq!(w.remind(&templates).await, 0);
    w.clock.advance(1);
    assert_eq!(w.remind(&templates).await, 1);
    assert_eq!(w.remind(&templates).await, 0, "once");
    let notices = urad_notify::notices::notices_of(&w.db, "p-1", 10)
        .await
        .unwrap();
    let reminder = notices
        .iter()
        .find(|n| n.kind == "deadline_reminder")
        .unwrap();
    assert!(
        reminder.body.cs.contains("17. 12. 2026"),
        "{}",
        reminder.body.cs
    );
    assert!(
        reminder.body.en.contains("2026-12-17"),
        "{}",
        reminder.body.en
    );
    assert_eq!(reminder.case_id.as_deref(), Some(case.id.as_str()));
}
