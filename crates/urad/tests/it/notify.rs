//! Notifications (urad-notify) on both databases, with e-mail delivered to a real SMTP server
//! that the tests start on a local port (tests/it/smtp.rs): the notice and the e-mail job are
//! committed with the change they are about; the worker delivers the e-mail in the person's
//! language; a mail server that is down delays the e-mail, never loses it; e-mail that failed
//! for good is resent from the queue.

use crate::harness::{content_dir, Backend};
use crate::jobs::{eventually, open_handles, T0};
use crate::smtp::{self, TestSmtp};
use std::sync::Arc;
use std::time::Duration;
use urad_core::{Clock, Lang, ManualClock, Text};
use urad_jobs::{self as jobs, JobState, Outcome, WorkerConfig};
use urad_notify::email::{self, EmailJob, Mailer, EMAIL_MAX_ATTEMPTS};
use urad_notify::preferences::{self, Preferences};
use urad_notify::{notices, notify, Notification, NotifyError, SmtpConfig, Templates, EMAIL_QUEUE};
use urad_store::{sql, Db};

crate::for_both_backends!(
    a_notice_and_its_email_commit_with_the_case_change_and_the_email_is_delivered,
    email_waits_while_the_mail_server_is_down_and_is_delivered_once_when_it_is_up,
    without_email_in_the_preferences_there_is_a_notice_only,
    email_that_failed_every_attempt_is_failed_and_resending_delivers_it,
);

const FROM: &str = "Krajský úřad Testovacího kraje <podatelna@kraj.example.cz>";

fn templates() -> Templates {
    Templates::load_dir(&content_dir().join("notifications")).unwrap()
}

fn fast_worker() -> WorkerConfig {
    WorkerConfig {
        poll_interval: Duration::from_millis(10),
        ..email::email_worker_config()
    }
}

/// A decision in case `case` of `person`, with the database change it is about.
fn decision(person: &str, case: &str, identity_email: Option<&str>) -> Notification {
    Notification::new(person, "decision_issued")
        .case(case)
        .value("reference", "KUOK 12/2027")
        .value("service", "Dotace na hospodaření v lesích")
        .text(
            "decision",
            Text::new("žádosti se vyhovuje", "the application is granted"),
        )
        .value(
            "url",
            format!("https://portal.kraj.example.cz/podani/{case}"),
        )
        .identity_email(identity_email)
}

async fn setup(backend: Backend) -> (Db, Arc<ManualClock>, tempfile::TempDir) {
    let (mut dbs, dir) = open_handles(backend, 1).await;
    let db = dbs.pop().unwrap();
    db.write_one(sql(
        "CREATE TABLE case_change (id TEXT PRIMARY KEY, state TEXT NOT NULL)",
    ))
    .await
    .unwrap();
    (db, Arc::new(ManualClock::at(T0)), dir)
}

/// Decides `case` and notifies `person` in one write.
async fn decide(
    db: &Db,
    clock: &dyn Clock,
    templates: &Templates,
    case: &str,
    notification: &Notification,
) -> Result<(), urad_store::StoreError> {
    let mut batch =
        vec![sql("INSERT INTO case_change (id, state) VALUES ($1, 'decided')").bind(case)];
    batch.extend(notify(db, clock, templates, notification).await.unwrap());
    db.write(batch).await.map(|_| ())
}

async fn case_changes(db: &Db) -> i64 {
    db.fetch_optional(sql("SELECT COUNT(*) AS n FROM case_change"))
        .await
        .unwrap()
        .unwrap()
        .get("n")
        .unwrap()
}

async fn email_job(db: &Db) -> jobs::Job {
    let mut all = jobs::list(db, EMAIL_QUEUE, None, 10).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    all.pop().unwrap()
}

async fn a_notice_and_its_email_commit_with_the_case_change_and_the_email_is_delivered(
    backend: Backend,
) {
    let (db, clock, _dir) = setup(backend).await;
    let templates = templates();

    let jana = decision("person-jana", "case-1", Some("jana.novakova@example.cz"));
    let statements = notify(&db, clock.as_ref(), &templates, &jana)
        .await
        .unwrap();
    assert_eq!(statements.len(), 2, "a notice and an e-mail");
    decide(&db, clock.as_ref(), &templates, "case-1", &jana)
        .await
        .unwrap();

    let shown = notices::notices_of(&db, "person-jana", 10).await.unwrap();
    assert_eq!(shown.len(), 1);
    let notice = &shown[0];
    assert_eq!(notice.kind, "decision_issued");
    assert_eq!(notice.case_id.as_deref(), Some("case-1"));
    assert_eq!(
        notice.title.cs,
        "Ve věci KUOK 12/2027 bylo vydáno rozhodnutí"
    );
    assert_eq!(
        notice.title.en,
        "A decision has been issued in KUOK 12/2027"
    );
    assert!(notice
        .body
        .cs
        .contains("bylo vydáno rozhodnutí: žádosti se vyhovuje."));
    assert!(notice
        .body
        .en
        .contains("(reference KUOK 12/2027): the application is granted."));
    assert_eq!((notice.created_at, notice.read_at), (T0, None));
    assert_eq!(notices::unread_count(&db, "person-jana").await.unwrap(), 1);
    let queued = email_job(&db).await;
    assert_eq!(
        (queued.state, queued.kind.as_str()),
        (JobState::Pending, "decision_issued")
    );
    let mail: EmailJob = queued.payload().unwrap();
    assert_eq!(mail.to, "jana.novakova@example.cz");
    assert_eq!(
        (mail.lang, mail.notice_id.as_str()),
        (Lang::Cs, notice.id.as_str())
    );

    // A change that fails takes its notice and e-mail with it.
    let again = decision("person-jana", "case-1", Some("jana.novakova@example.cz"));
    assert!(decide(&db, clock.as_ref(), &templates, "case-1", &again)
        .await
        .is_err());
    assert_eq!(
        notices::notices_of(&db, "person-jana", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(jobs::counts(&db, EMAIL_QUEUE).await.unwrap().pending, 1);

    // Petr reads English at an address of his own choosing.
    preferences::set(
        &db,
        clock.as_ref(),
        "person-petr",
        &Preferences {
            email: Some("petr@example.cz".into()),
            own_email: true,
            email_enabled: true,
            lang: Lang::En,
        },
    )
    .await
    .unwrap();
    let petr = decision("person-petr", "case-2", Some("petr.svoboda@example.cz"));
    decide(&db, clock.as_ref(), &templates, "case-2", &petr)
        .await
        .unwrap();

    let server = TestSmtp::start();
    let config = SmtpConfig::new(&server.url(), FROM).unwrap();
    let worker =
        email::spawn_email_worker_with(db.clone(), clock.clone(), &config, fast_worker()).unwrap();
    let received = server.wait_for(2).await;
    eventually("both e-mail jobs are done", || async {
        jobs::counts(&db, EMAIL_QUEUE).await.unwrap().done == 2
    })
    .await;
    worker.shutdown().await;
    assert_eq!(received.len(), 2);

    let to_jana = received
        .iter()
        .find(|r| r.to == ["jana.novakova@example.cz"])
        .expect("an e-mail to Jana");
    assert_eq!(to_jana.from, "podatelna@kraj.example.cz");
    let raw = String::from_utf8(to_jana.data.clone()).unwrap();
    let subject = raw.lines().find(|l| l.starts_with("Subject: ")).unwrap();
    assert!(
        subject.contains("=?utf-8?b?") && raw.is_ascii(),
        "the subject and body are encoded for transport: {raw}"
    );
    assert!(
        raw.contains("Content-Type: text/plain; charset=utf-8"),
        "{raw}"
    );
    let m = to_jana.parsed();
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Krajský úřad Testovacího kraje"));
    assert_eq!(from.address(), Some("podatelna@kraj.example.cz"));
    assert_eq!(
        m.to().unwrap().first().unwrap().address(),
        Some("jana.novakova@example.cz")
    );
    assert_eq!(
        m.subject(),
        Some("Ve věci KUOK 12/2027 bylo vydáno rozhodnutí")
    );
    let body = m.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(body.starts_with("Dobrý den,\n"), "{body}");
    assert!(
        body.contains("ve věci Vašeho podání „Dotace na hospodaření v lesích“ (č. j. KUOK 12/2027) bylo vydáno rozhodnutí: žádosti se vyhovuje."),
        "{body}"
    );
    assert!(
        body.contains("https://portal.kraj.example.cz/podani/case-1"),
        "{body}"
    );
    assert!(
        !body.contains('{') && !body.contains("the application"),
        "{body}"
    );

    let to_petr = received
        .iter()
        .find(|r| r.to == ["petr@example.cz"])
        .expect("an e-mail to Petr's own address");
    let m = to_petr.parsed();
    assert_eq!(
        m.subject(),
        Some("A decision has been issued in KUOK 12/2027")
    );
    let body = m.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(body.starts_with("Hello,\n"), "{body}");
    assert!(
        body.contains("(reference KUOK 12/2027): the application is granted."),
        "{body}"
    );

    // Read in the portal: only by the person it is for.
    assert!(
        !notices::mark_read(&db, clock.as_ref(), "person-petr", &notice.id)
            .await
            .unwrap()
    );
    assert!(
        notices::mark_read(&db, clock.as_ref(), "person-jana", &notice.id)
            .await
            .unwrap()
    );
    assert!(
        !notices::mark_read(&db, clock.as_ref(), "person-jana", &notice.id)
            .await
            .unwrap()
    );
    assert_eq!(notices::unread_count(&db, "person-jana").await.unwrap(), 0);
    assert_eq!(notices::unread_count(&db, "person-petr").await.unwrap(), 1);
    let read = &notices::notices_of(&db, "person-jana", 10).await.unwrap()[0];
    assert_eq!(read.read_at, Some(T0));
    assert_eq!(
        notices::mark_all_read(&db, clock.as_ref(), "person-petr")
            .await
            .unwrap(),
        1
    );

    // Notified once for ever with a dedup key, also when the caller repeats itself.
    let keyed = decision("person-jana", "case-3", Some("jana.novakova@example.cz"))
        .dedup_key("decision:case-3");
    for _ in 0..2 {
        let statements = notify(&db, clock.as_ref(), &templates, &keyed)
            .await
            .unwrap();
        db.write(statements).await.unwrap();
    }
    assert_eq!(
        notices::notices_of(&db, "person-jana", 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(jobs::counts(&db, EMAIL_QUEUE).await.unwrap().pending, 1);
}

async fn email_waits_while_the_mail_server_is_down_and_is_delivered_once_when_it_is_up(
    backend: Backend,
) {
    let (db, clock, _dir) = setup(backend).await;
    let templates = templates();
    // Nothing listens on the port yet: the mail server is down.
    let port = smtp::free_port();
    let config = SmtpConfig::new(&smtp::url(port), FROM).unwrap();
    let mailer = Mailer::new(&config).unwrap();
    let worker = email::email_worker_config();
    let jana = decision("person-jana", "case-1", Some("jana.novakova@example.cz"));
    decide(&db, clock.as_ref(), &templates, "case-1", &jana)
        .await
        .unwrap();

    // Each attempt fails and the next waits longer: 30 s, then 60 s (each up to a tenth more).
    let mut previous_run_at = T0;
    for (attempt, delay) in [(1, 30), (2, 60), (3, 120)] {
        let outcome = jobs::work_one(&db, clock.as_ref(), &worker, &mailer)
            .await
            .unwrap();
        let Some(Outcome::Retry { run_at, error, .. }) = outcome else {
            panic!("attempt {attempt}: {outcome:?}")
        };
        assert!(error.contains("cannot send the e-mail"), "{error}");
        let now = clock.now();
        assert!(
            run_at >= now + delay && run_at <= now + delay + delay / 10,
            "attempt {attempt}: due at {run_at}, now {now}"
        );
        assert!(run_at > previous_run_at);
        previous_run_at = run_at;
        let queued = email_job(&db).await;
        assert_eq!(
            (queued.state, queued.attempts, queued.run_at),
            (JobState::Pending, attempt, run_at)
        );
        // Nothing is lost meanwhile: the case change and the notice are there.
        assert_eq!(case_changes(&db).await, 1);
        assert_eq!(notices::unread_count(&db, "person-jana").await.unwrap(), 1);
        // Not due before its time.
        assert_eq!(
            jobs::work_one(&db, clock.as_ref(), &worker, &mailer)
                .await
                .unwrap(),
            None
        );
        clock.advance(run_at - now);
    }

    // The server comes up; the worker delivers the e-mail once.
    let server = TestSmtp::start_on(port);
    let running =
        email::spawn_email_worker_with(db.clone(), clock.clone(), &config, fast_worker()).unwrap();
    let received = server.wait_for(1).await;
    assert_eq!(received.len(), 1);
    eventually("the e-mail job is done", || async {
        jobs::counts(&db, EMAIL_QUEUE).await.unwrap().done == 1
    })
    .await;
    // Time goes on and the worker keeps polling: nothing is sent again.
    clock.advance(86_400);
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.shutdown().await;
    assert_eq!(server.received().len(), 1);
    let done = email_job(&db).await;
    assert_eq!((done.state, done.attempts), (JobState::Done, 4));
    assert_eq!(
        received[0].parsed().subject(),
        Some("Ve věci KUOK 12/2027 bylo vydáno rozhodnutí")
    );
    assert_eq!(case_changes(&db).await, 1);

    // It goes down again: the next e-mail waits for it.
    server.stop();
    let next = decision("person-jana", "case-2", Some("jana.novakova@example.cz"));
    decide(&db, clock.as_ref(), &templates, "case-2", &next)
        .await
        .unwrap();
    let outcome = jobs::work_one(&db, clock.as_ref(), &worker, &mailer)
        .await
        .unwrap();
    assert!(
        matches!(outcome, Some(Outcome::Retry { .. })),
        "{outcome:?}"
    );
    assert_eq!(case_changes(&db).await, 2);
}

async fn without_email_in_the_preferences_there_is_a_notice_only(backend: Backend) {
    let (db, clock, _dir) = setup(backend).await;
    let templates = templates();
    // The defaults: e-mail on, to the identity's address, in Czech.
    assert_eq!(
        preferences::get(&db, "person-jana", Some("jana.novakova@example.cz"))
            .await
            .unwrap(),
        Preferences {
            email: Some("jana.novakova@example.cz".into()),
            own_email: false,
            email_enabled: true,
            lang: Lang::Cs,
        }
    );
    let off = Preferences {
        email: None,
        own_email: false,
        email_enabled: false,
        lang: Lang::En,
    };
    preferences::set(&db, clock.as_ref(), "person-jana", &off)
        .await
        .unwrap();
    let prefs = preferences::get(&db, "person-jana", Some("jana.novakova@example.cz"))
        .await
        .unwrap();
    assert_eq!(
        (prefs.email_enabled, prefs.lang, prefs.own_email),
        (false, Lang::En, false)
    );
    assert_eq!(prefs.email.as_deref(), Some("jana.novakova@example.cz"));

    let jana = decision("person-jana", "case-1", Some("jana.novakova@example.cz"));
    assert_eq!(
        notify(&db, clock.as_ref(), &templates, &jana)
            .await
            .unwrap()
            .len(),
        1
    );
    decide(&db, clock.as_ref(), &templates, "case-1", &jana)
        .await
        .unwrap();
    assert_eq!(notices::unread_count(&db, "person-jana").await.unwrap(), 1);
    assert_eq!(
        jobs::counts(&db, EMAIL_QUEUE).await.unwrap(),
        jobs::Counts::default()
    );

    // No address known: a notice only.
    let nobody = decision("person-karel", "case-2", None);
    assert_eq!(
        notify(&db, clock.as_ref(), &templates, &nobody)
            .await
            .unwrap()
            .len(),
        1
    );

    // An address of one's own must be one.
    let wrong = Preferences {
        email: Some("jana at example.cz".into()),
        own_email: true,
        email_enabled: true,
        lang: Lang::Cs,
    };
    let refused = preferences::set(&db, clock.as_ref(), "person-jana", &wrong)
        .await
        .unwrap_err();
    assert!(matches!(refused, NotifyError::InvalidEmail(_)), "{refused}");
    assert!(refused.message(Lang::Cs).contains("není e-mailová adresa"));
    // Back on, and back to the identity's address when the own one is dropped.
    let on = Preferences {
        email: Some("jana@example.cz".into()),
        own_email: true,
        email_enabled: true,
        lang: Lang::Cs,
    };
    preferences::set(&db, clock.as_ref(), "person-jana", &on)
        .await
        .unwrap();
    let own = preferences::get(&db, "person-jana", Some("jana.novakova@example.cz"))
        .await
        .unwrap();
    assert_eq!(
        (own.email.as_deref(), own.own_email),
        (Some("jana@example.cz"), true)
    );
    preferences::set(
        &db,
        clock.as_ref(),
        "person-jana",
        &Preferences {
            own_email: false,
            ..on
        },
    )
    .await
    .unwrap();
    let identity = preferences::get(&db, "person-jana", Some("jana.novakova@example.cz"))
        .await
        .unwrap();
    assert_eq!(identity.email.as_deref(), Some("jana.novakova@example.cz"));
    assert_eq!(
        notify(&db, clock.as_ref(), &templates, &jana)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn email_that_failed_every_attempt_is_failed_and_resending_delivers_it(backend: Backend) {
    let (db, clock, _dir) = setup(backend).await;
    let templates = templates();
    let port = smtp::free_port();
    let config = SmtpConfig::new(&smtp::url(port), FROM).unwrap();
    let mailer = Mailer::new(&config).unwrap();
    let worker = email::email_worker_config();
    let jana = decision("person-jana", "case-1", Some("jana.novakova@example.cz"));
    decide(&db, clock.as_ref(), &templates, "case-1", &jana)
        .await
        .unwrap();

    let mut waited = 0;
    for attempt in 1..=EMAIL_MAX_ATTEMPTS {
        match jobs::work_one(&db, clock.as_ref(), &worker, &mailer)
            .await
            .unwrap()
        {
            Some(Outcome::Retry { run_at, .. }) if attempt < EMAIL_MAX_ATTEMPTS => {
                waited += run_at - clock.now();
                clock.advance(run_at - clock.now());
            }
            Some(Outcome::Failed { error, .. }) if attempt == EMAIL_MAX_ATTEMPTS => {
                assert!(error.contains("cannot send the e-mail"), "{error}");
            }
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    assert!(
        (20 * 3600..30 * 3600).contains(&waited),
        "retried for about a day: {waited} s"
    );
    let failed = email_job(&db).await;
    assert_eq!(
        (failed.state, failed.attempts),
        (JobState::Failed, EMAIL_MAX_ATTEMPTS)
    );
    let shown = jobs::list(&db, EMAIL_QUEUE, Some(JobState::Failed), 10)
        .await
        .unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(jobs::counts(&db, EMAIL_QUEUE).await.unwrap().failed, 1);
    assert_eq!(notices::unread_count(&db, "person-jana").await.unwrap(), 1);

    // The server is back; someone resends the e-mail from the queue.
    let server = TestSmtp::start_on(port);
    assert!(jobs::resend(&db, clock.as_ref(), &failed.id).await.unwrap());
    assert_eq!(
        jobs::work_one(&db, clock.as_ref(), &worker, &mailer)
            .await
            .unwrap(),
        Some(Outcome::Done {
            id: failed.id.clone()
        })
    );
    let received = server.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, ["jana.novakova@example.cz"]);

    // A mailbox the server refuses for good: failed at the first attempt, for someone to see.
    let refused = decision("person-eliska", "case-2", Some("refused@example.cz"));
    decide(&db, clock.as_ref(), &templates, "case-2", &refused)
        .await
        .unwrap();
    let outcome = jobs::work_one(&db, clock.as_ref(), &worker, &mailer)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Some(Outcome::Failed { error, .. }) if error.contains("for good")),
        "{outcome:?}"
    );
    assert_eq!(jobs::counts(&db, EMAIL_QUEUE).await.unwrap().failed, 1);
    assert_eq!(server.received().len(), 1);
}
