//! The back office's pages over HTTP, as the office's staff use them: who gets in, the inbox,
//! a case file (its opening recorded in the access log), moves by the workflow, the registry
//! journal with its CSV export and reassignment — and what each role may not reach.

use crate::harness::{Backend, TestApp};
use crate::signin::{hidden, Browser};
use serde_json::json;
use urad_core::{Lang, ManualClock};

crate::for_both_backends!(
    staff_handle_a_case_from_the_journal_to_a_decision,
    nobody_reaches_what_their_role_does_not_allow,
    the_applicant_completes_through_the_portal_gets_the_decision_and_sees_who_looked,
    the_agenda_lead_sees_counts_and_a_chart_of_received_and_decided,
    a_closed_case_goes_to_the_records_system_and_a_refused_hand_off_is_resent,
    officials_download_the_files_of_their_cases_and_each_download_is_logged,
    the_administrator_reads_the_whole_access_log_and_the_mail_queue,
    citizens_choose_how_they_are_notified,
);

async fn signed_in(app: &TestApp, person: &str) -> Browser {
    let mut b = Browser::new(&app.base);
    let demo = b.visit("/ucet/prihlasit").await;
    let page = b.demo_sign_in(&demo, person, "substantial").await;
    assert_eq!(page.status, 200, "{}", page.body);
    b
}

/// A general submission of `person`, received now, and the case intake has taken it in.
async fn received(app: &TestApp, person: &str) -> (urad_store::Db, String) {
    let db = app.store.open().await.unwrap();
    let forms = urad::ContentArgs::dir(crate::harness::content_dir())
        .forms()
        .unwrap();
    let clock = ManualClock::at(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    );
    let draft = urad_filing::start_draft(
        &db,
        &clock,
        &forms,
        person,
        "obecne-podani",
        &json!({"sender": {"name": "Jana Nováková", "address": "Hlavní 1, Ostrava"},
                "subject": "Žádost o informace", "text": "Prosím o informaci."}),
    )
    .await
    .unwrap();
    let request = urad_filing::SubmitRequest {
        person_id: person,
        draft_id: &draft,
        scope: "form:obecne-podani",
        lang: Lang::Cs,
        attachment_limits: Default::default(),
    };
    urad_filing::submit(&db, &clock, &forms, "KUMSK", &request)
        .await
        .unwrap();
    // The server's worker takes it in within a second or two.
    for _ in 0..100 {
        if let Some(case) = urad_cases::cases::of_submission(&db, &draft).await.unwrap() {
            return (db, case.id);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the submission was not taken in");
}

async fn staff_handle_a_case_from_the_journal_to_a_decision(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (db, case_id) = received(&app, "p-applicant").await;

    // The clerk finds it in the journal, exports it and moves it to the grants agenda.
    let mut clerk = signed_in(&app, "radek-podatelna").await;
    let journal = clerk.visit("/urad/podaci-denik").await;
    assert_eq!(journal.status, 200, "{}", journal.body);
    let case = urad_cases::cases::get(&db, &case_id)
        .await
        .unwrap()
        .unwrap();
    assert!(journal.body.contains(&case.reference), "{}", journal.body);
    let csv = app
        .client
        .get(app.url("/urad/podaci-denik.csv"))
        .header("cookie", clerk.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("Číslo jednací,Přijato,Formulář,Agenda,Stav\r\n"),
        "{text}"
    );
    assert!(text.contains(&case.reference));
    let csrf = hidden(&journal.body, "csrf");
    let moved = clerk
        .submit(
            &format!("/urad/podaci-denik/{case_id}/agenda"),
            &[("csrf".into(), csrf), ("agenda".into(), "grants".into())],
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        urad_cases::cases::get(&db, &case_id)
            .await
            .unwrap()
            .unwrap()
            .agenda,
        "grants"
    );

    // The official of grants sees it in the inbox, opens it, takes it on and approves it.
    let mut official = signed_in(&app, "ursula-urednikova").await;
    let inbox = official.visit("/urad").await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert!(inbox.body.contains(&case.reference), "{}", inbox.body);
    let page = official.visit(&format!("/urad/spisy/{case_id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Žádost o informace"),
        "the submission's data"
    );
    let csrf = hidden(&page.body, "csrf");
    let revision = hidden(&page.body, "revision");
    let page = official
        .submit(
            &format!("/urad/spisy/{case_id}/prideleni"),
            &[
                ("csrf".into(), csrf.clone()),
                ("revision".into(), revision),
                ("assign".into(), "me".into()),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let step = |page: &str, t: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("revision".to_owned(), hidden(page, "revision")),
            ("transition".to_owned(), t.to_owned()),
        ]
    };
    let page = official
        .submit(
            &format!("/urad/spisy/{case_id}/krok"),
            &step(&page.body, "start"),
        )
        .await;
    assert!(page.body.contains("Ve vyřizování"), "{}", page.body);
    // A stale form (the revision before) is refused, and nothing changes.
    let stale = official
        .submit(
            &format!("/urad/spisy/{case_id}/krok"),
            &[
                ("csrf".to_owned(), csrf.clone()),
                ("revision".to_owned(), "1".to_owned()),
                ("transition".to_owned(), "approve".to_owned()),
            ],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    let mut approve = step(&page.body, "approve");
    approve.push(("message".into(), "Podmínky jsou splněny.".into()));
    let page = official
        .submit(&format!("/urad/spisy/{case_id}/krok"), &approve)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let closed = urad_cases::cases::get(&db, &case_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.state, "approved");
    assert!(closed.closed_at.is_some());

    // The applicant's access log names each official and what they did.
    let log = urad_audit::for_subject(
        &db,
        "p-applicant",
        urad_audit::Page {
            before: None,
            limit: 50,
        },
    )
    .await
    .unwrap();
    let acts: Vec<(String, String)> = log
        .iter()
        .rev()
        .map(|r| {
            (
                r.entry.actor_role.clone(),
                r.entry.details["what"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Each page view is a read; between them, each act in the order it was made.
    let made: Vec<(&str, &str)> = acts
        .iter()
        .filter(|(_, what)| what != "case_page")
        .map(|(role, what)| (role.as_str(), what.as_str()))
        .collect();
    assert_eq!(
        made,
        [
            ("registry_clerk", "reassigned"),
            ("official", "assigned"),
            ("official", "start"),
            ("official", "approve"),
        ]
    );
    assert!(acts.iter().filter(|(_, w)| w == "case_page").count() >= 1);
    assert!(log
        .iter()
        .any(|r| r.entry.details["actor_name"] == "Uršula Úředníková"));
    assert!(urad_audit::verify(&db).await.unwrap().holds());
}

async fn nobody_reaches_what_their_role_does_not_allow(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (db, case_id) = received(&app, "p-applicant").await;
    let case = urad_cases::cases::get(&db, &case_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.agenda, "internal-affairs");

    // Signed out: to the sign-in, and back.
    let mut anonymous = Browser::new(&app.base);
    let page = anonymous.visit("/urad").await;
    assert!(
        page.url.contains("/demo-idp/authorize") || page.url.contains("prihlasit"),
        "{}",
        page.url
    );

    // A citizen is signed in but has no role: 403 on every page, the case not even named.
    let mut citizen = signed_in(&app, "jana-novakova").await;
    for path in [
        "/urad",
        "/urad/podaci-denik",
        "/urad/podaci-denik.csv",
        &format!("/urad/spisy/{case_id}"),
    ] {
        let page = citizen.visit(path).await;
        assert_eq!(page.status, 403, "{path}: {}", page.body);
        assert!(!page.body.contains(&case.reference));
    }
    // The clerk keeps the journal but does not read case files.
    let mut clerk = signed_in(&app, "radek-podatelna").await;
    let page = clerk.visit(&format!("/urad/spisy/{case_id}")).await;
    assert_eq!(page.status, 404, "{}", page.body);
    // An official reads the journal no more than the clerk reads cases.
    let mut official = signed_in(&app, "ursula-urednikova").await;
    assert_eq!(official.visit("/urad/podaci-denik").await.status, 403);
    assert_eq!(official.visit("/urad/podaci-denik.csv").await.status, 403);
    // The administrator handles no agenda: the case is not found.
    let mut admin = signed_in(&app, "alena-spravcova").await;
    assert_eq!(
        admin.visit(&format!("/urad/spisy/{case_id}")).await.status,
        404
    );
    // A move without the form's CSRF token changes nothing.
    let page = official
        .submit(
            &format!("/urad/spisy/{case_id}/krok"),
            &[
                ("revision".into(), case.revision.to_string()),
                ("transition".into(), "start".into()),
            ],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert_eq!(
        urad_cases::cases::get(&db, &case_id)
            .await
            .unwrap()
            .unwrap()
            .state,
        "received"
    );
    // No view by the refused roles reached the access log.
    let log = urad_audit::for_subject(
        &db,
        "p-applicant",
        urad_audit::Page {
            before: None,
            limit: 50,
        },
    )
    .await
    .unwrap();
    assert!(log.is_empty(), "{log:?}");
}

/// The gateway's person id of a demo person who has signed in.
async fn person_id(db: &urad_store::Db, demo_person: &str) -> String {
    db.fetch_optional(
        urad_store::sql("SELECT person_id FROM person_identity WHERE upstream = 'demo' AND upstream_subject = $1")
            .bind(format!("demo-{demo_person}")),
    )
    .await
    .unwrap()
    .expect("signed in before")
    .get("person_id")
    .unwrap()
}

/// Waits until the test mail server has `n` messages; returns them.
async fn mail(smtp: &crate::smtp::TestSmtp, n: usize) -> Vec<crate::smtp::Received> {
    for _ in 0..200 {
        let got = smtp.received();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{n} e-mail(s) expected, got {}", smtp.received().len());
}

async fn the_applicant_completes_through_the_portal_gets_the_decision_and_sees_who_looked(
    backend: Backend,
) {
    let smtp = crate::smtp::TestSmtp::start();
    let setup = crate::harness::Setup {
        env: [
            ("URAD_SMTP_URL".to_owned(), smtp.url()),
            (
                "URAD_MAIL_FROM".to_owned(),
                "Krajský úřad <podatelna@kraj.example.cz>".to_owned(),
            ),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    let app = TestApp::start_with(backend, setup).await.unwrap();
    let mut jana = signed_in(&app, "jana-novakova").await;
    let db = app.store.open().await.unwrap();
    let jana_id = person_id(&db, "jana-novakova").await;
    let (db, case_id) = received(&app, &jana_id).await;
    let submission = urad_cases::cases::get(&db, &case_id)
        .await
        .unwrap()
        .unwrap()
        .submission_id;
    let detail = format!("/moje-podani/{submission}");
    let page = jana.visit(&detail).await;
    assert!(
        page.body.contains("Přijato, čeká na vyřízení"),
        "{}",
        page.body
    );

    // The official asks for a power of attorney, within 10 days.
    let mut official = signed_in(&app, "ursula-urednikova").await;
    let page = official.visit(&format!("/urad/spisy/{case_id}")).await;
    let csrf = hidden(&page.body, "csrf");
    let move_to = |page: &str, t: &str, extra: &[(&str, &str)]| {
        let mut form = vec![
            ("csrf".to_owned(), csrf.clone()),
            ("revision".to_owned(), hidden(page, "revision")),
            ("transition".to_owned(), t.to_owned()),
        ];
        form.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        form
    };
    let page = official
        .submit(
            &format!("/urad/spisy/{case_id}/krok"),
            &move_to(&page.body, "start", &[]),
        )
        .await;
    let asked = move_to(
        &page.body,
        "request-completion",
        &[("message", "Doložte prosím plnou moc."), ("days", "10")],
    );
    let page = official
        .submit(&format!("/urad/spisy/{case_id}/krok"), &asked)
        .await;
    assert!(page.body.contains("Čeká na doplnění"), "{}", page.body);
    // The request reaches Jana by e-mail, at her identity's address, in Czech.
    let first = mail(&smtp, 1).await;
    assert_eq!(first[0].to, ["jana.novakova@example.cz"]);
    let message = first[0].parsed();
    let reference = urad_cases::cases::get(&db, &case_id)
        .await
        .unwrap()
        .unwrap()
        .reference;
    assert_eq!(
        message.subject().unwrap(),
        format!("Výzva k doplnění podání {reference}")
    );
    let body = message.body_text(0).unwrap();
    assert!(body.contains("Doložte prosím plnou moc."), "{body}");
    assert!(
        body.contains(&format!("/moje-podani/{submission}")),
        "{body}"
    );

    // Jana sees the request on her submission's page and answers it with a submission.
    let page = jana.visit(&detail).await;
    assert!(
        page.body.contains("Doložte prosím plnou moc."),
        "{}",
        page.body
    );
    let action = format!("/moje-podani/{submission}/doplnit/");
    let start = page
        .body
        .split("action=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .find(|a| a.starts_with(&action))
        .expect("the answer form");
    let answer = jana
        .submit(&start, &[("csrf".into(), hidden(&page.body, "csrf"))])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.url.contains("/krok/"),
        "to the form's first step: {}",
        answer.url
    );
    let draft = answer
        .url
        .split("/moje-podani/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // (The form's steps are tested elsewhere; its data is filled in directly here.)
    let forms = urad::ContentArgs::dir(crate::harness::content_dir())
        .forms()
        .unwrap();
    let clock = urad_core::SystemClock;
    urad_filing::save_draft(
        &db,
        &clock,
        &jana_id,
        &draft,
        &json!({"sender": {"name": "Jana Nováková", "address": "Nádražní 12, Ostrava"},
                "subject": "Doplnění", "text": "Přikládám plnou moc."}),
    )
    .await
    .unwrap();
    let request = urad_filing::SubmitRequest {
        person_id: &jana_id,
        draft_id: &draft,
        scope: "form:obecne-podani",
        lang: Lang::Cs,
        attachment_limits: Default::default(),
    };
    urad_filing::submit(&db, &clock, &forms, "KUMSK", &request)
        .await
        .unwrap();
    let mut state = String::new();
    for _ in 0..100 {
        state = urad_cases::cases::get(&db, &case_id)
            .await
            .unwrap()
            .unwrap()
            .state;
        if state == "in-progress" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state, "in-progress", "the answer moved the case on");
    assert!(
        urad_cases::cases::of_submission(&db, &draft)
            .await
            .unwrap()
            .is_none(),
        "no case of its own"
    );

    // The official decides; Jana downloads the decision, a PDF with the reference number.
    let page = official.visit(&format!("/urad/spisy/{case_id}")).await;
    let page = official
        .submit(
            &format!("/urad/spisy/{case_id}/krok"),
            &move_to(
                &page.body,
                "approve",
                &[("message", "Plná moc byla doložena.")],
            ),
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let page = jana.visit(&detail).await;
    assert!(page.body.contains("Vyhověno"), "{}", page.body);
    let both = mail(&smtp, 2).await;
    assert_eq!(
        both[1].parsed().subject().unwrap(),
        format!("Ve věci {reference} bylo vydáno rozhodnutí")
    );
    assert_eq!(both.len(), 2, "one e-mail per notice");
    // Both are in her portal inbox too.
    let inbox = jana.visit("/zpravy").await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert!(
        inbox
            .body
            .contains(&format!("Výzva k doplnění podání {reference}")),
        "{}",
        inbox.body
    );
    assert!(inbox
        .body
        .contains(&format!("Ve věci {reference} bylo vydáno rozhodnutí")));
    assert!(page.body.contains("id=\"decision-pdf\""), "{}", page.body);
    let pdf = app
        .client
        .get(app.url(&format!("/moje-podani/{submission}/rozhodnuti")))
        .header("cookie", jana.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    // Nobody else gets it.
    let other = app
        .client
        .get(app.url(&format!("/moje-podani/{submission}/rozhodnuti")))
        .header("cookie", official.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);

    // Who accessed my data: the official by name, in the agenda, with the purpose.
    let page = jana.visit("/kdo-videl-moje-udaje").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Uršula Úředníková"), "{}", page.body);
    assert!(
        page.body.contains("Vnitřní věci a občanské záležitosti"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("vyřízení vašeho podání"),
        "{}",
        page.body
    );
    assert!(page.body.contains("rozhodl: vyhověno"), "{}", page.body);
    let page = jana.visit("/en/who-accessed-my-data").await;
    assert!(page.body.contains("decided: approved"), "{}", page.body);
}

async fn the_agenda_lead_sees_counts_and_a_chart_of_received_and_decided(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_db, _case) = received(&app, "p-1").await;
    let (_db, _case) = received(&app, "p-2").await;
    let mut lead = signed_in(&app, "libor-vedouci").await;
    let page = lead.visit("/urad/prehled?agenda=internal-affairs").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "the chart");
    assert!(page.body.contains("role=\"img\""));
    // Two received today: in the counts and in the table's totals.
    assert!(
        page.body.contains("Přijato: <strong>2</strong>"),
        "{}",
        page.body
    );
    let csv = app
        .client
        .get(app.url("/urad/prehled.csv?agenda=internal-affairs"))
        .header("cookie", lead.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let today_rows: Vec<&str> = text.lines().filter(|l| l.ends_with(",2,0")).collect();
    assert_eq!(today_rows.len(), 1, "{text}");
    // An official of the agenda has no overview, nor a citizen.
    let mut official = signed_in(&app, "ursula-urednikova").await;
    assert_eq!(official.visit("/urad/prehled").await.status, 403);
    assert_eq!(official.visit("/urad/prehled.csv").await.status, 403);
    let mut citizen = signed_in(&app, "jana-novakova").await;
    assert_eq!(citizen.visit("/urad/prehled").await.status, 403);
}

/// The packages a stand-in records system received: file name and bytes.
type Packages = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A stand-in for the office's records-management system (which cannot run here): takes
/// `PUT /spis/{name}`, refusing every package while `refuse` is set.
async fn records_system(
    refuse: std::sync::Arc<std::sync::atomic::AtomicBool>,
    received: Packages,
) -> String {
    use axum::extract::Path;
    use std::sync::atomic::Ordering;
    let app = axum::Router::new().route(
        "/spis/{name}",
        axum::routing::put(move |Path(name): Path<String>, body: axum::body::Bytes| {
            let (refuse, received) = (refuse.clone(), received.clone());
            async move {
                if refuse.load(Ordering::SeqCst) {
                    return axum::http::StatusCode::UNPROCESSABLE_ENTITY;
                }
                received.lock().unwrap().push((name, body.to_vec()));
                axum::http::StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/spis")
}

async fn a_closed_case_goes_to_the_records_system_and_a_refused_hand_off_is_resent(
    backend: Backend,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let refuse = Arc::new(AtomicBool::new(true));
    let received = Arc::new(Mutex::new(Vec::new()));
    let url = records_system(refuse.clone(), received.clone()).await;
    let setup = crate::harness::Setup {
        env: [("URAD_RECORDS_URL".to_owned(), url)].into_iter().collect(),
        ..Default::default()
    };
    let app = TestApp::start_with(backend, setup).await.unwrap();
    let (db, case_id) = received_case(&app).await;

    // The official decides: the case closes, and its hand-off is queued with it.
    let mut official = signed_in(&app, "ursula-urednikova").await;
    for t in ["start", "approve"] {
        let page = official.visit(&format!("/urad/spisy/{case_id}")).await;
        let form = [
            ("csrf".to_owned(), hidden(&page.body, "csrf")),
            ("revision".to_owned(), hidden(&page.body, "revision")),
            ("transition".to_owned(), t.to_owned()),
        ];
        let done = official
            .submit(&format!("/urad/spisy/{case_id}/krok"), &form)
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
    }
    // The system refuses it: the hand-off fails for good, visible in the queue.
    let mut failed = Vec::new();
    for _ in 0..100 {
        failed = urad_jobs::list(&db, "records", Some(urad_jobs::JobState::Failed), 10)
            .await
            .unwrap();
        if !failed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(failed.len(), 1, "the refused hand-off is failed");
    assert!(received.lock().unwrap().is_empty());
    let reference = urad_cases::cases::get(&db, &case_id)
        .await
        .unwrap()
        .unwrap()
        .reference;

    // An official does not see the queue; the administrator does, and sends it again.
    assert_eq!(official.visit("/urad/predani").await.status, 403);
    let mut admin = signed_in(&app, "alena-spravcova").await;
    let queue = admin.visit("/urad/predani").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains(&reference), "{}", queue.body);
    assert!(queue.body.contains("nepovedlo se"), "{}", queue.body);
    assert!(
        queue.body.contains("422"),
        "the system's answer is shown: {}",
        queue.body
    );
    refuse.store(false, Ordering::SeqCst);
    let resend = queue
        .body
        .split("action=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .find(|a| a.ends_with("/znovu"))
        .expect("the resend form");
    let page = admin
        .submit(&resend, &[("csrf".into(), hidden(&queue.body, "csrf"))])
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    for _ in 0..100 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "handed off once");
    assert!(
        got[0].0.starts_with("SIP-") && got[0].0.ends_with(".zip"),
        "{}",
        got[0].0
    );
    let zip = zip::ZipArchive::new(std::io::Cursor::new(got[0].1.clone())).unwrap();
    assert!(zip.file_names().any(|n| n.unwrap() == "mets.xml"));
}

/// A general submission of a person who never signed in, taken in as a case.
async fn received_case(app: &TestApp) -> (urad_store::Db, String) {
    received(app, "p-applicant").await
}

async fn officials_download_the_files_of_their_cases_and_each_download_is_logged(backend: Backend) {
    let app = TestApp::start(backend).await;
    let db = app.store.open().await.unwrap();
    let forms = urad::ContentArgs::dir(crate::harness::content_dir())
        .forms()
        .unwrap();
    let clock = urad_core::SystemClock;
    let draft = urad_filing::start_draft(
        &db,
        &clock,
        &forms,
        "p-files",
        "obecne-podani",
        &json!({"sender": {"name": "Jana Nováková", "address": "Hlavní 1, Ostrava"},
                "subject": "Plná moc", "text": "Přikládám plnou moc."}),
    )
    .await
    .unwrap();
    let store = urad::AttachmentArgs::default()
        .open(&db, &app.store.data_dir)
        .unwrap();
    let bytes = crate::attachments::pdf(3000);
    let upload = urad_filing::attachments::NewAttachment {
        person_id: "p-files",
        draft_id: &draft,
        slot: "documents",
        file_name: "plna-moc.pdf",
    };
    let stream =
        futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(bytes.clone()))]);
    let file = urad_filing::attachments::add(&store, &clock, &forms, &upload, stream)
        .await
        .unwrap();
    let request = urad_filing::SubmitRequest {
        person_id: "p-files",
        draft_id: &draft,
        scope: "form:obecne-podani",
        lang: Lang::Cs,
        attachment_limits: Default::default(),
    };
    urad_filing::submit(&db, &clock, &forms, "KUMSK", &request)
        .await
        .unwrap();
    let mut case = None;
    for _ in 0..100 {
        case = urad_cases::cases::of_submission(&db, &draft).await.unwrap();
        if case.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let case = case.expect("taken in");

    let mut official = signed_in(&app, "ursula-urednikova").await;
    let page = official.visit(&format!("/urad/spisy/{}", case.id)).await;
    let href = format!("/urad/spisy/{}/prilohy/{}", case.id, file.id);
    assert!(page.body.contains(&href), "{}", page.body);
    let got = app
        .client
        .get(app.url(&href))
        .header("cookie", official.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "application/pdf");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    // Another agenda's official, the clerk and a file of another case: not found.
    let mut clerk = signed_in(&app, "radek-podatelna").await;
    assert_eq!(clerk.visit(&href).await.status, 404);
    let (_, other) = received(&app, "p-other").await;
    let crossed = format!("/urad/spisy/{other}/prilohy/{}", file.id);
    assert_eq!(official.visit(&crossed).await.status, 404);
    let log = urad_audit::for_subject(
        &db,
        "p-files",
        urad_audit::Page {
            before: None,
            limit: 50,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        log.iter()
            .filter(|r| r.entry.details["what"] == "attachment")
            .count(),
        1,
        "the download is in the applicant's access log, the refused ones are not"
    );
}

async fn the_administrator_reads_the_whole_access_log_and_the_mail_queue(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (db, case_id) = received(&app, "p-applicant").await;
    let case = urad_cases::cases::get(&db, &case_id)
        .await
        .unwrap()
        .unwrap();
    // An official of the agenda opens the case: an entry in the log.
    let mut official = signed_in(&app, "ursula-urednikova").await;
    let page = official.visit(&format!("/urad/spisy/{case_id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // Only the administrator reads the whole log and the outgoing e-mail.
    for path in ["/urad/pristupy", "/urad/odchozi-posta"] {
        let refused = official.visit(path).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    let mut admin = signed_in(&app, "alena-spravcova").await;
    let inbox = admin.visit("/urad").await;
    assert!(
        inbox.body.contains("id=\"access-log-link\""),
        "{}",
        inbox.body
    );
    assert!(inbox.body.contains("id=\"mail-link\""));
    let log = admin
        .visit(&format!(
            "/urad/pristupy?reference={}",
            urlencoding(&case.reference)
        ))
        .await;
    assert_eq!(log.status, 200, "{}", log.body);
    assert!(log.body.contains("p-applicant"), "{}", log.body);
    assert!(log.body.contains("nahlédl do spisu"), "{}", log.body);
    let head = urad_audit::head(&db).await.unwrap();
    assert!(
        log.body.contains(&head.chain_hash),
        "the head to write down"
    );
    // Another person's entries are not among the filtered ones.
    let other = admin.visit("/urad/pristupy?person=p-nobody").await;
    assert!(other.body.contains("id=\"log-empty\""), "{}", other.body);
    let unknown = admin
        .visit("/urad/pristupy?reference=KUMSK%20999999/1999")
        .await;
    assert!(unknown.body.contains("id=\"log-unknown-reference\""));
    let mail = admin.visit("/urad/odchozi-posta").await;
    assert_eq!(mail.status, 200, "{}", mail.body);
    assert!(mail.body.contains("Odchozí e-maily"));
}

fn urlencoding(s: &str) -> String {
    s.replace(' ', "%20").replace('/', "%2F")
}

async fn citizens_choose_how_they_are_notified(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut citizen = signed_in(&app, "jana-novakova").await;
    let page = citizen.visit("/nastaveni-oznameni").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let db = app.store.open().await.unwrap();
    let person = person_id(&db, "jana-novakova").await;
    // A wrong address: an error that names the field, the value kept, nothing stored.
    let wrong = citizen
        .submit(
            "/nastaveni-oznameni",
            &[
                ("csrf".into(), csrf.clone()),
                ("email_enabled".into(), "1".into()),
                ("address".into(), "own".into()),
                ("own_email".into(), "jana@@example".into()),
                ("lang".into(), "en".into()),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("href=\"#own_email\""), "{}", wrong.body);
    assert!(wrong.body.contains("value=\"jana@@example\""));
    let stored = urad_notify::preferences::get(&db, &person, None)
        .await
        .unwrap();
    assert_eq!(stored.lang, Lang::Cs, "nothing stored");
    // Without the CSRF token: refused.
    let forged = citizen
        .submit(
            "/nastaveni-oznameni",
            &[
                ("email_enabled".into(), "".into()),
                ("address".into(), "own".into()),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    // A right one is kept, and e-mail goes there in English.
    let saved = citizen
        .submit(
            "/nastaveni-oznameni",
            &[
                ("csrf".into(), csrf.clone()),
                ("email_enabled".into(), "1".into()),
                ("address".into(), "own".into()),
                ("own_email".into(), "jana.jinde@example.cz".into()),
                ("lang".into(), "en".into()),
            ],
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(
        saved.body.contains("id=\"settings-saved\""),
        "{}",
        saved.body
    );
    let stored = urad_notify::preferences::get(&db, &person, None)
        .await
        .unwrap();
    assert_eq!(stored.email.as_deref(), Some("jana.jinde@example.cz"));
    assert!(stored.own_email && stored.email_enabled);
    assert_eq!(stored.lang, Lang::En);
    // E-mail off.
    let off = citizen
        .submit(
            "/nastaveni-oznameni",
            &[
                ("csrf".into(), csrf),
                ("address".into(), "own".into()),
                ("own_email".into(), "jana.jinde@example.cz".into()),
                ("lang".into(), "cs".into()),
            ],
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    let stored = urad_notify::preferences::get(&db, &person, None)
        .await
        .unwrap();
    assert!(!stored.email_enabled);
}
