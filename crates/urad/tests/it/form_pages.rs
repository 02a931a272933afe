//! Filling in an online form in the portal over HTTP, as a browser does: the start of a
//! draft, steps with their error summary, identity data, saving and resuming, the check page,
//! sending (twice), My submissions, and the bad inputs: CSRF, an expired session in the middle
//! of a form, someone else's draft, an unknown step, a form version that no longer exists.

use crate::harness::TestApp;
use crate::on_both_backends;
use crate::signin::{hidden, Browser, Page};
use urad_store::{sql, Db};

on_both_backends!(
    a_person_fills_checks_and_sends_the_general_submission,
    identity_fields_are_verified_and_not_changed_by_the_browser,
    a_draft_is_saved_for_later_resumed_and_deleted,
    a_post_without_the_csrf_token_saves_nothing,
    an_expired_session_comes_back_to_the_same_step_with_its_data,
    another_persons_draft_is_not_found,
    wrong_values_unknown_steps_and_withdrawn_versions,
    a_form_that_needs_a_higher_level_asks_for_step_up,
    sending_an_incomplete_draft_leads_to_its_first_problem,
    the_boiler_grant_takes_its_files_on_the_attachments_step,
    files_sent_with_the_general_submission_are_on_the_receipt,
    a_send_without_the_required_files_leads_to_their_slots,
);

const GENERAL: &str = "/formulare/obecne-podani";

/// A browser signed in to the portal as `person` at `loa`.
async fn signed_in(app: &TestApp, person: &str, loa: &str) -> Browser {
    let mut b = Browser::new(&app.base);
    let demo = b.visit("/ucet/prihlasit").await;
    let page = b.demo_sign_in(&demo, person, loa).await;
    assert_eq!(page.status, 200, "{}", page.body);
    b
}

/// Starts a draft of `form` from its start page; returns the first step's page.
async fn start(b: &mut Browser, form_page: &str) -> Page {
    let page = b.visit(form_page).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"form-start\""), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let suffix = if form_page.starts_with("/en/") {
        "/start"
    } else {
        "/zacit"
    };
    let action = form_action(&page.body, suffix);
    b.submit(&action, &[("csrf".into(), csrf)]).await
}

/// The `action` of the form whose action ends with `suffix`.
fn form_action(html: &str, suffix: &str) -> String {
    html.split("action=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|a| a.ends_with(suffix))
        .unwrap_or_else(|| panic!("no form to {suffix} in {html}"))
        .to_owned()
}

/// The draft id in a step's URL (`…/moje-podani/{id}/krok/{step}`).
fn draft_id(url: &str) -> String {
    let path = url.split("/moje-podani/").nth(1).expect("a draft's URL");
    path.split('/').next().unwrap().to_owned()
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn stored_data(db: &Db, id: &str) -> serde_json::Value {
    let row = db
        .fetch_optional(sql("SELECT data FROM draft WHERE id = $1").bind(id))
        .await
        .unwrap()
        .expect("the draft exists");
    serde_json::from_str(&row.get::<String>("data").unwrap()).unwrap()
}

async fn count(db: &Db, table_sql: &'static str) -> i64 {
    db.fetch_optional(sql(table_sql))
        .await
        .unwrap()
        .unwrap()
        .get::<i64>("n")
        .unwrap()
}

async fn a_person_fills_checks_and_sends_the_general_submission(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "substantial").await;
    // The header links to My submissions, which lists the forms one can fill.
    let mine = b.visit("/moje-podani").await;
    assert!(mine.body.contains("id=\"mine-nav\""));
    assert!(mine.body.contains("href=\"/formulare/obecne-podani\""));
    assert!(mine.body.contains("id=\"no-drafts\""));

    let step1 = start(&mut b, GENERAL).await;
    assert_eq!(step1.status, 200, "{}", step1.body);
    assert!(step1.url.ends_with("/krok/sender"), "{}", step1.url);
    assert!(step1.body.contains("Krok 1 z 2"), "{}", step1.body);
    let id = draft_id(&step1.url);
    let csrf = hidden(&step1.body, "csrf");
    // A phone in the wrong form: the same step again, 422, the summary linking to the field,
    // the message at the field, the value kept.
    let wrong = b
        .submit(
            &step1.url,
            &form(&[
                ("csrf", &csrf),
                ("sender.phone", "volejte večer"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("id=\"error-summary\""));
    assert!(
        wrong.body.contains("href=\"#field-sender-phone\""),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("Zadejte telefon číslicemi"));
    assert!(wrong.body.contains("aria-invalid=\"true\""));
    assert!(wrong
        .body
        .contains("aria-describedby=\"field-sender-phone-error\""));
    assert!(
        wrong.body.contains("value=\"volejte večer\""),
        "the value is kept"
    );
    assert!(
        wrong.body.contains("<title>Chyba: "),
        "the title says there is an error"
    );
    // Corrected: the next step.
    let step2 = b
        .submit(
            &step1.url,
            &form(&[
                ("csrf", &csrf),
                ("sender.phone", "+420 777 123 456"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert_eq!(step2.status, 200, "{}", step2.body);
    assert!(step2.url.ends_with("/krok/submission"), "{}", step2.url);
    assert!(step2.body.contains("Krok 2 z 2"));
    assert!(
        step2
            .body
            .contains(&format!("href=\"/moje-podani/{id}/krok/sender\"")),
        "back link"
    );
    // Only this step's problems: the subject is too short, the text missing.
    let missing = b
        .submit(
            &step2.url,
            &form(&[
                ("csrf", &csrf),
                ("subject", "Ne"),
                ("text", ""),
                ("action", "continue"),
            ]),
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("href=\"#field-subject\""));
    assert!(missing.body.contains("href=\"#field-text\""));
    assert!(!missing.body.contains("href=\"#field-sender-phone\""));
    assert!(missing.body.contains("value=\"Ne\""));
    let check = b
        .submit(
            &step2.url,
            &form(&[
                ("csrf", &csrf),
                ("subject", "Žádost o informace"),
                ("text", "Dobrý den,\r\nprosím o informaci."),
                ("action", "continue"),
            ]),
        )
        .await;
    assert_eq!(check.status, 200, "{}", check.body);
    assert!(
        check.url.ends_with(&format!("/moje-podani/{id}/kontrola")),
        "{}",
        check.url
    );
    // Check your answers: every answer with its label and a link to its step.
    assert!(check.body.contains("Zkontrolujte své odpovědi"));
    for text in [
        "Jana Nováková",
        "Nádražní 12, 702 00 Ostrava",
        "jana.novakova@example.cz",
        "+420 777 123 456",
        "Žádost o informace",
        "Nevyplněno",
    ] {
        assert!(check.body.contains(text), "{text} in {}", check.body);
    }
    assert!(check
        .body
        .contains(&format!("href=\"/moje-podani/{id}/krok/submission\"")));
    assert_eq!(
        stored_data(&db, &id).await["text"],
        "Dobrý den,\nprosím o informaci."
    );
    // Send: the receipt.
    let receipt = b.submit(&check.url, &form(&[("csrf", &csrf)])).await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert!(
        receipt
            .url
            .ends_with(&format!("/moje-podani/{id}/potvrzeni")),
        "{}",
        receipt.url
    );
    assert!(receipt.body.contains("Podání přijato"));
    let year = urad_filing::prague_year(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    );
    let reference = format!("KUMSK 1/{year}");
    assert!(receipt
        .body
        .contains(&format!("<strong id=\"reference\">{reference}</strong>")));
    let stored = urad_filing::receipt(&db, &person_of(&db, &id).await, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(receipt.body.contains(&stored.data_sha256));
    assert!(receipt
        .body
        .contains("Obecné podání krajskému úřadu, verze 1"));
    assert!(receipt.body.contains(" CET") || receipt.body.contains(" CEST"));
    // The signed receipt file is offered and verifies offline.
    let href = format!("/moje-podani/{id}/potvrzeni.json");
    assert!(
        receipt.body.contains(&format!("href=\"{href}\"")),
        "{}",
        receipt.body
    );
    let file = b.visit(&href).await;
    assert_eq!(file.status, 200);
    let verified = urad_filing::verify::verify_file(
        &file.body,
        &urad_filing::verify::VerifyOptions::default(),
    )
    .unwrap();
    assert!(verified.holds(), "{:?}", verified.checks);
    assert_eq!(verified.payload.unwrap().reference, reference);
    // Signed out, a download leads to the sign-in and back to the submission's page.
    for download in [&href, &format!("/moje-podani/{id}/potvrzeni.pdf")] {
        let r = app.client.get(app.url(download)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{download}");
        let to = r.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/ucet/prihlasit?"), "{to}");
        assert!(
            to.contains(&format!("return=%2Fmoje-podani%2F{id}")) && !to.contains("potvrzeni"),
            "{to}"
        );
    }
    // And as PDF/A.
    let pdf_href = format!("/moje-podani/{id}/potvrzeni.pdf");
    assert!(receipt.body.contains(&format!("href=\"{pdf_href}\"")));
    let pdf = b.visit(&pdf_href).await;
    assert_eq!(pdf.status, 200);
    assert!(
        pdf.body.starts_with("%PDF-"),
        "{}",
        &pdf.body[..pdf.body.len().min(40)]
    );
    // Sending again (a double click, the back button): the same receipt, nothing new.
    let again = b.submit(&check.url, &form(&[("csrf", &csrf)])).await;
    assert_eq!(again.status, 200);
    assert!(again.url.ends_with(&format!("/moje-podani/{id}/potvrzeni")));
    assert!(again.body.contains(&reference));
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM submission").await, 1);
    // A sent draft can no longer change: its steps lead to the receipt.
    let step = b.visit(&step1.url).await;
    assert!(step.url.ends_with("/potvrzeni"), "{}", step.url);
    // My submissions lists it; its detail page shows the timeline.
    let mine = b.visit("/moje-podani").await;
    assert!(mine.body.contains(&reference), "{}", mine.body);
    assert!(mine.body.contains("id=\"no-drafts\""));
    let detail = b.visit(&format!("/moje-podani/{id}")).await;
    assert_eq!(detail.status, 200);
    for step in ["Rozpracováno", "Naposledy uloženo", "Přijato úřadem"] {
        assert!(detail.body.contains(step), "{step} in {}", detail.body);
    }
    // The same in English.
    let en = b.visit(&format!("/en/my-submissions/{id}")).await;
    assert!(en.body.contains("Received by the office"));
    assert!(en
        .body
        .contains("General submission to the regional office, version 1"));
}

async fn person_of(db: &Db, draft: &str) -> String {
    db.fetch_optional(sql("SELECT person_id FROM draft WHERE id = $1").bind(draft))
        .await
        .unwrap()
        .unwrap()
        .get("person_id")
        .unwrap()
}

async fn identity_fields_are_verified_and_not_changed_by_the_browser(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "petr-svoboda", "substantial").await;
    let step1 = start(&mut b, "/en/forms/obecne-podani").await;
    assert!(step1.url.contains("/en/my-submissions/"), "{}", step1.url);
    assert!(step1.url.ends_with("/step/sender"), "{}", step1.url);
    // Shown as verified, not as inputs.
    assert!(step1.body.contains("Verified from your identity"));
    assert!(step1.body.contains("Petr Svoboda"));
    assert!(step1.body.contains("Hlavní 5, 738 01 Frýdek-Místek"));
    assert!(
        !step1.body.contains("name=\"sender.name\""),
        "{}",
        step1.body
    );
    let id = step1
        .url
        .split("/en/my-submissions/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // A changed value sent anyway is ignored.
    let csrf = hidden(&step1.body, "csrf");
    let next = b
        .submit(
            &step1.url,
            &form(&[
                ("csrf", &csrf),
                ("sender.name", "Someone Else"),
                ("sender.address", "Elsewhere 1"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.body);
    let data = stored_data(&db, &id).await;
    assert_eq!(data["sender"]["name"], "Petr Svoboda");
    assert_eq!(data["sender"]["address"], "Hlavní 5, 738 01 Frýdek-Místek");
    assert_eq!(data["sender"]["email"], "petr.svoboda@example.cz");
}

async fn a_draft_is_saved_for_later_resumed_and_deleted(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "substantial").await;
    let step1 = start(&mut b, GENERAL).await;
    let id = draft_id(&step1.url);
    let csrf = hidden(&step1.body, "csrf");
    let step2 = b
        .submit(
            &step1.url,
            &form(&[("csrf", &csrf), ("action", "continue")]),
        )
        .await;
    // "Save and finish later" keeps what was typed, even incomplete, and leads to My
    // submissions.
    let mine = b
        .submit(
            &step2.url,
            &form(&[
                ("csrf", &csrf),
                ("subject", "Stížnost na hluk"),
                ("action", "later"),
            ]),
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.url.ends_with("/moje-podani"), "{}", mine.url);
    assert!(mine.body.contains("Obecné podání krajskému úřadu"));
    assert_eq!(stored_data(&db, &id).await["subject"], "Stížnost na hluk");
    // The form's start page offers the draft too.
    let start_page = b.visit(GENERAL).await;
    assert!(start_page
        .body
        .contains(&format!("/moje-podani/{id}/pokracovat")));
    // Continue: the first step with something missing, the typed value there.
    let resumed = b.visit(&format!("/moje-podani/{id}/pokracovat")).await;
    assert_eq!(resumed.status, 200);
    assert!(
        resumed
            .url
            .ends_with(&format!("/moje-podani/{id}/krok/submission")),
        "{}",
        resumed.url
    );
    assert!(resumed.body.contains("value=\"Stížnost na hluk\""));
    // Its detail page shows the draft's timeline; delete removes it.
    let detail = b.visit(&format!("/moje-podani/{id}")).await;
    assert!(detail.body.contains("Zatím neodesláno"));
    // Delete asks first; "Yes, delete" removes it.
    let confirm = b.visit(&format!("/moje-podani/{id}/smazat")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Smazat rozpracované podání?"));
    assert!(
        confirm.body.contains("href=\"/moje-podani\""),
        "a way to keep it"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM draft").await, 1);
    let gone = b
        .submit(
            &format!("/moje-podani/{id}/smazat"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert!(gone.url.ends_with("/moje-podani"));
    assert!(gone.body.contains("id=\"no-drafts\""));
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM draft").await, 0);
    assert_eq!(b.visit(&format!("/moje-podani/{id}")).await.status, 404);
}

async fn a_post_without_the_csrf_token_saves_nothing(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "substantial").await;
    // No draft is started without the token.
    let refused = b.submit("/formulare/obecne-podani/zacit", &[]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("Formulář nebyl odeslán"));
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM draft").await, 0);
    let step1 = start(&mut b, GENERAL).await;
    let id = draft_id(&step1.url);
    let before = stored_data(&db, &id).await;
    for token in ["", "forged"] {
        let r = b
            .submit(
                &step1.url,
                &form(&[
                    ("csrf", token),
                    ("sender.phone", "+420 111 222 333"),
                    ("action", "continue"),
                ]),
            )
            .await;
        assert_eq!(r.status, 403);
        assert_eq!(stored_data(&db, &id).await, before, "nothing saved");
        let send = b
            .submit(
                &format!("/moje-podani/{id}/kontrola"),
                &form(&[("csrf", token)]),
            )
            .await;
        assert_eq!(send.status, 403);
        let delete = b
            .submit(
                &format!("/moje-podani/{id}/smazat"),
                &form(&[("csrf", token)]),
            )
            .await;
        assert_eq!(delete.status, 403);
    }
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM submission").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM draft").await, 1);
}

async fn an_expired_session_comes_back_to_the_same_step_with_its_data(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "substantial").await;
    let step1 = start(&mut b, GENERAL).await;
    let id = draft_id(&step1.url);
    let csrf = hidden(&step1.body, "csrf");
    let step2 = b
        .submit(
            &step1.url,
            &form(&[
                ("csrf", &csrf),
                ("sender.phone", "+420 602 111 222"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert!(step2.url.ends_with("/krok/submission"));
    // The session ends (its time ran out) while the person is on step 2.
    db.write([
        sql("UPDATE portal_session SET expires_at = 0"),
        sql("UPDATE sso_session SET expires_at = 0"),
    ])
    .await
    .unwrap();
    // What step 2 sends now cannot be saved for anyone: sign in first, then the same step.
    let post = b
        .submit(
            &step2.url,
            &form(&[
                ("csrf", &csrf),
                ("subject", "Ztracené"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert!(post.url.contains("/demo-idp/authorize"), "{}", post.url);
    let back = b.demo_sign_in(&post, "jana-novakova", "substantial").await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(
        back.url
            .ends_with(&format!("/moje-podani/{id}/krok/submission")),
        "{}",
        back.url
    );
    // The same draft, with what was saved before the session ended.
    let data = stored_data(&db, &id).await;
    assert_eq!(data["sender"]["phone"], "+420 602 111 222");
    assert!(data.get("subject").is_none());
    let step1_again = b.visit(&step1.url).await;
    assert!(step1_again.body.contains("value=\"+420 602 111 222\""));
}

async fn another_persons_draft_is_not_found(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let mut jana = signed_in(&app, "jana-novakova", "substantial").await;
    let step1 = start(&mut jana, GENERAL).await;
    let id = draft_id(&step1.url);
    let before = stored_data(&db, &id).await;
    let mut petr = signed_in(&app, "petr-svoboda", "substantial").await;
    let mine = petr.visit("/moje-podani").await;
    let csrf = hidden(&mine.body, "csrf");
    for path in [
        format!("/moje-podani/{id}"),
        format!("/moje-podani/{id}/krok/sender"),
        format!("/moje-podani/{id}/kontrola"),
        format!("/moje-podani/{id}/pokracovat"),
        format!("/en/my-submissions/{id}/receipt"),
        format!("/moje-podani/{id}/smazat"),
    ] {
        assert_eq!(petr.visit(&path).await.status, 404, "{path}");
    }
    let post = petr
        .submit(
            &format!("/moje-podani/{id}/krok/sender"),
            &form(&[("csrf", &csrf), ("sender.phone", "+420 111 111 111")]),
        )
        .await;
    assert_eq!(post.status, 404);
    let send = petr
        .submit(
            &format!("/moje-podani/{id}/kontrola"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(send.status, 404);
    let delete = petr
        .submit(
            &format!("/moje-podani/{id}/smazat"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(delete.status, 404);
    assert_eq!(stored_data(&db, &id).await, before);
    assert!(!mine.body.contains(&id));
}

async fn wrong_values_unknown_steps_and_withdrawn_versions(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "substantial").await;
    // The boiler grant from its service's apply page.
    let apply = b.visit("/sluzby/kotlikova-dotace/podani").await;
    assert!(apply.body.contains("id=\"form-start\""), "{}", apply.body);
    let csrf = hidden(&apply.body, "csrf");
    let step1 = b
        .submit(
            "/formulare/kotlikova-dotace/zacit",
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert!(step1.url.ends_with("/krok/applicant"), "{}", step1.url);
    assert!(
        step1.body.contains("1988-03-14"),
        "birth date from the identity"
    );
    let id = draft_id(&step1.url);
    // Text in a number field: a message at the field, the text kept, not a 500.
    let heating = format!("/moje-podani/{id}/krok/heating");
    let page = b.visit(&heating).await;
    assert_eq!(page.status, 200);
    let wrong = b
        .submit(
            &heating,
            &form(&[
                ("csrf", &csrf),
                ("eligible_costs_czk", "hodně"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body.contains("href=\"#field-eligible-costs-czk\""),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("value=\"hodně\""));
    // Numbers as people write them are numbers.
    b.submit(
        &heating,
        &form(&[
            ("csrf", &csrf),
            ("eligible_costs_czk", "150 000"),
            ("action", "later"),
        ]),
    )
    .await;
    assert_eq!(stored_data(&db, &id).await["eligible_costs_czk"], 150000);
    // A step the form does not have.
    assert_eq!(
        b.visit(&format!("/moje-podani/{id}/krok/nonsense"))
            .await
            .status,
        404
    );
    // A body that is not a form.
    let r = app
        .client
        .post(app.url(&heating))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', 0xff])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error() || r.status().is_redirection());
    // The draft's version is withdrawn: a clear page, and the way to the current version.
    db.write_one(sql("UPDATE draft SET form_version = 99 WHERE id = $1").bind(id.as_str()))
        .await
        .unwrap();
    let gone = b.visit(&format!("/moje-podani/{id}/krok/applicant")).await;
    assert_eq!(gone.status, 410, "{}", gone.body);
    assert!(gone.body.contains("Tato verze formuláře již neplatí"));
    assert!(gone.body.contains("href=\"/formulare/kotlikova-dotace\""));
    let send = b
        .submit(
            &format!("/moje-podani/{id}/kontrola"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(send.status, 410);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM submission").await, 0);
}

async fn a_form_that_needs_a_higher_level_asks_for_step_up(app: TestApp) {
    let mut b = signed_in(&app, "jana-novakova", "substantial").await;
    let path = "/formulare/predani-zdravotnicke-dokumentace";
    let page = b.visit(path).await;
    assert!(!page.body.contains("id=\"form-start\""));
    assert!(page.body.contains("acr=high"), "{}", page.body);
    // Posting the start anyway leads to step-up, not to a draft.
    let csrf = hidden(&page.body, "csrf");
    let post = b
        .submit(&format!("{path}/zacit"), &form(&[("csrf", &csrf)]))
        .await;
    assert!(post.url.contains("/demo-idp/authorize"), "{}", post.url);
    let back = b.demo_sign_in(&post, "jana-novakova", "high").await;
    assert!(back.url.ends_with(path), "{}", back.url);
    assert!(back.body.contains("id=\"form-start\""));
    let step1 = start(&mut b, path).await;
    assert!(step1.url.ends_with("/krok/patient"), "{}", step1.url);
}

async fn sending_an_incomplete_draft_leads_to_its_first_problem(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "substantial").await;
    let step1 = start(&mut b, GENERAL).await;
    let id = draft_id(&step1.url);
    let csrf = hidden(&step1.body, "csrf");
    // The check page can be opened at any time; sending what is incomplete is refused.
    let check = b.visit(&format!("/moje-podani/{id}/kontrola")).await;
    assert_eq!(check.status, 200);
    let back = b
        .submit(
            &format!("/moje-podani/{id}/kontrola"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(
        back.url
            .ends_with(&format!("/moje-podani/{id}/krok/submission?chyby=1")),
        "{}",
        back.url
    );
    assert!(back.body.contains("id=\"error-summary\""));
    assert!(back.body.contains("Podání jsme neodeslali"));
    assert!(back.body.contains("href=\"#field-subject\""));
    assert!(back.body.contains("href=\"#field-text\""));
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM submission").await, 0);
    // In English the same, at the English path.
    let en = b
        .submit(
            &format!("/en/my-submissions/{id}/check"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert!(en.url.ends_with("/step/submission?errors=1"), "{}", en.url);
    assert!(en.body.contains("Your submission was not sent"));
}

async fn attachment_id(db: &Db, draft: &str, file_name: &str) -> String {
    db.fetch_optional(
        sql("SELECT id FROM attachment WHERE draft_id = $1 AND file_name = $2")
            .bind(draft)
            .bind(file_name),
    )
    .await
    .unwrap()
    .expect("the file is attached")
    .get::<String>("id")
    .unwrap()
}

async fn attachments_of(db: &Db, draft: &str) -> i64 {
    db.fetch_optional(sql("SELECT COUNT(*) AS n FROM attachment WHERE draft_id = $1").bind(draft))
        .await
        .unwrap()
        .unwrap()
        .get::<i64>("n")
        .unwrap()
}

async fn the_boiler_grant_takes_its_files_on_the_attachments_step(app: TestApp) {
    use crate::attachments::{elf_program, pdf, png};
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "high").await;
    let step1 = start(&mut b, "/formulare/kotlikova-dotace").await;
    assert!(step1.url.ends_with("/krok/applicant"), "{}", step1.url);
    let id = draft_id(&step1.url);
    let csrf = hidden(&step1.body, "csrf");
    let step = |s: &str| format!("/moje-podani/{id}/krok/{s}");
    let heating = b
        .submit(
            &step("building"),
            &form(&[
                ("csrf", &csrf),
                ("building.building_id", "123456"),
                ("building.type", "family_house"),
                ("building.approved", "true"),
                ("building.municipality_code", "554821"),
                ("building.energy_class", "C"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert!(heating.url.ends_with("/krok/heating"), "{}", heating.body);
    let payment = b
        .submit(
            &step("heating"),
            &form(&[
                ("csrf", &csrf),
                ("old_boiler.fuel", "coal"),
                ("old_boiler.feeding", "manual"),
                ("old_boiler.emission_class", "2"),
                ("new_source", "gas_condensing"),
                ("eligible_costs_czk", "150000"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert!(payment.url.ends_with("/krok/payment"), "{}", payment.body);
    let page = b
        .submit(
            &step("payment"),
            &form(&[
                ("csrf", &csrf),
                ("payment.bank_account", "19-2000145399/0800"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert!(page.url.ends_with("/krok/attachments"), "{}", page.body);
    // Each shown slot: its label, the types and limits in words, an upload form of its own.
    let photo_action = format!("/moje-podani/{id}/prilohy/old_boiler_photo");
    let invoice_action = format!("/moje-podani/{id}/prilohy/invoice_or_budget");
    assert!(page
        .body
        .contains("Fotografie starého kotle s výrobním štítkem"));
    assert!(
        page.body.contains("Přijímáme typy: JPEG, PNG."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Nejvýše 3 soubory, každý do 10 MB."));
    assert!(page.body.contains(&format!(
        "action=\"{photo_action}\" enctype=\"multipart/form-data\""
    )));
    assert!(page
        .body
        .contains("type=\"file\" id=\"attachment-old-boiler-photo\""));
    assert!(
        page.body.contains("form=\"step-form\""),
        "the step's buttons stay its form's"
    );
    // The installer's certificate is asked only for a heat pump or biomass.
    assert!(!page.body.contains("prilohy/installer_certificate"));
    let en = b
        .visit(&format!("/en/my-submissions/{id}/step/attachments"))
        .await;
    assert!(
        en.body.contains("Accepted types: JPEG, PNG."),
        "{}",
        en.body
    );
    assert!(en.body.contains(&format!(
        "/en/my-submissions/{id}/attachments/old_boiler_photo"
    )));

    // "Continue" without the required files: 422, the summary linking to the slots.
    let missing = b
        .submit(
            &step("attachments"),
            &form(&[("csrf", &csrf), ("action", "continue")]),
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert!(missing.body.contains("id=\"error-summary\""));
    assert!(missing
        .body
        .contains("href=\"#attachment-old-boiler-photo\""));
    assert!(missing
        .body
        .contains("href=\"#attachment-invoice-or-budget\""));
    assert!(missing
        .body
        .contains("Přiložte „Fotografie starého kotle s výrobním štítkem“."));
    assert!(missing
        .body
        .contains("id=\"attachment-old-boiler-photo-error\" role=\"alert\""));

    // A program renamed to .pdf: refused with its message at the slot, nothing kept.
    let program = b
        .upload(&invoice_action, &csrf, "faktura.pdf", elf_program())
        .await;
    assert_eq!(program.status, 415, "{}", program.body);
    assert!(program.body.contains("id=\"error-summary\""));
    assert!(program
        .body
        .contains("Soubor „faktura.pdf“ je program, ne dokument. Programy nepřijímáme."));
    assert!(program
        .body
        .contains("id=\"attachment-invoice-or-budget-error\" role=\"alert\""));
    assert_eq!(attachments_of(&db, &id).await, 0);
    // No file chosen: 400, said at the slot.
    let none = b.upload(&photo_action, &csrf, "", Vec::new()).await;
    assert_eq!(none.status, 400, "{}", none.body);
    assert!(none.body.contains("Vyberte soubor, který chcete přiložit."));
    // A forged upload (no or a wrong token): 403, nothing kept.
    let forged = b
        .upload(&photo_action, "not-the-token", "kotel.png", png())
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(attachments_of(&db, &id).await, 0);

    // Kept: the step again (303), the success announced, the file listed with size and type.
    let kept = b.upload(&photo_action, &csrf, "kotel.png", png()).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert!(
        kept.url.contains("/krok/attachments?prilozeno="),
        "{}",
        kept.url
    );
    assert!(kept.body.contains("role=\"status\""));
    assert!(kept.body.contains("Soubor „kotel.png“ jsme přiložili."));
    assert!(kept.body.contains("attachment-file__name\">kotel.png<"));
    assert!(kept.body.contains("kB, PNG)"), "{}", kept.body);
    let invoice = b
        .upload(&invoice_action, &csrf, "faktura.pdf", pdf(3000))
        .await;
    assert_eq!(invoice.status, 200, "{}", invoice.body);
    assert!(invoice.body.contains("kB, PDF)"));
    let extra = b.upload(&photo_action, &csrf, "stitek.png", png()).await;
    assert_eq!(extra.status, 200);
    assert_eq!(attachments_of(&db, &id).await, 3);

    // Remove: a forged request removes nothing; with the token the file goes.
    let stitek = attachment_id(&db, &id, "stitek.png").await;
    let remove = format!("/moje-podani/{id}/prilohy/{stitek}/odebrat");
    assert!(extra.body.contains(&format!("action=\"{remove}\"")));
    let forged = b.submit(&remove, &form(&[("csrf", "wrong")])).await;
    assert_eq!(forged.status, 403);
    assert_eq!(attachments_of(&db, &id).await, 3);
    let removed = b.submit(&remove, &form(&[("csrf", &csrf)])).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert!(removed.body.contains("Soubor jsme odebrali."));
    assert!(!removed.body.contains("stitek.png"));
    assert_eq!(attachments_of(&db, &id).await, 2);
    let again = b.submit(&remove, &form(&[("csrf", &csrf)])).await;
    assert_eq!(again.status, 404, "a file removed is gone");

    // "Continue" with the required files: the check page lists them with a change link.
    let check = b
        .submit(
            &step("attachments"),
            &form(&[("csrf", &csrf), ("action", "continue")]),
        )
        .await;
    assert!(
        check.url.ends_with("/kontrola"),
        "{} {}",
        check.url,
        check.body
    );
    assert!(check.body.contains("kotel.png ("), "{}", check.body);
    assert!(check.body.contains("faktura.pdf ("));
    assert!(check
        .body
        .contains(&format!("href=\"{}\"", step("attachments"))));
    assert!(!check.body.contains("Osvědčení instalační firmy"));
}

async fn files_sent_with_the_general_submission_are_on_the_receipt(app: TestApp) {
    use crate::attachments::{elf_program, pdf};
    use sha2::Digest;
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "substantial").await;
    let step1 = start(&mut b, GENERAL).await;
    let id = draft_id(&step1.url);
    let csrf = hidden(&step1.body, "csrf");
    let step2 = b
        .submit(
            &step1.url,
            &form(&[("csrf", &csrf), ("action", "continue")]),
        )
        .await;
    assert!(step2.url.ends_with("/krok/submission"), "{}", step2.body);
    assert!(step2
        .body
        .contains(&format!("/moje-podani/{id}/prilohy/documents")));
    // In English: the English path and messages.
    let upload = format!("/en/my-submissions/{id}/attachments/documents");
    let refused = b.upload(&upload, &csrf, "setup.pdf", elf_program()).await;
    assert_eq!(refused.status, 415);
    assert!(
        refused.body.contains("The file “setup.pdf” is a program"),
        "{}",
        refused.body
    );
    assert_eq!(attachments_of(&db, &id).await, 0);
    let bytes = pdf(5000);
    let kept = b.upload(&upload, &csrf, "zadost.pdf", bytes.clone()).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert!(
        kept.url.contains("/step/submission?attached="),
        "{}",
        kept.url
    );
    assert!(kept.body.contains("The file “zadost.pdf” was attached."));
    let sent = b
        .submit(
            &step2.url,
            &form(&[
                ("csrf", &csrf),
                ("subject", "Žádost o informace"),
                ("text", "Dobrý den, prosím o informaci."),
                ("action", "continue"),
            ]),
        )
        .await;
    assert!(sent.url.ends_with("/kontrola"), "{}", sent.body);
    assert!(sent.body.contains("zadost.pdf ("));
    let receipt = b
        .submit(
            &format!("/moje-podani/{id}/kontrola"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert!(
        receipt.body.contains("id=\"receipt-files\""),
        "{}",
        receipt.body
    );
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(receipt.body.contains(&sha), "{}", receipt.body);
    assert!(receipt.body.contains("<strong>zadost.pdf</strong>"));
    // After sending, no more files.
    let late = b.upload(&upload, &csrf, "pozde.pdf", pdf(2000)).await;
    assert!(
        late.url.contains("/receipt") || late.url.contains("/potvrzeni"),
        "{}",
        late.url
    );
    assert_eq!(attachments_of(&db, &id).await, 1);
}

async fn a_send_without_the_required_files_leads_to_their_slots(app: TestApp) {
    use crate::attachments::pdf;
    let db = app.store.open().await.unwrap();
    let mut b = signed_in(&app, "jana-novakova", "high").await;
    let step1 = start(&mut b, "/formulare/osvedceni-stk").await;
    assert!(step1.url.ends_with("/krok/operator"), "{}", step1.url);
    let id = draft_id(&step1.url);
    let csrf = hidden(&step1.body, "csrf");
    let station = b
        .submit(
            &step1.url,
            &form(&[
                ("csrf", &csrf),
                ("operator.name", "STK Ostrava s.r.o."),
                ("operator.ico", "12345678"),
                ("operator.seat", "Nádražní 12, Ostrava"),
                ("action", "continue"),
            ]),
        )
        .await;
    assert!(station.url.ends_with("/krok/station"), "{}", station.body);
    // The fields are right, the files missing: saved, and the same step says so (422).
    let fields = form(&[
        ("csrf", &csrf),
        ("station.address", "Místecká 1, Ostrava"),
        ("station.lanes", "2"),
        ("vehicle_categories", "light"),
        ("technician_count", "4"),
        ("action", "continue"),
    ]);
    let refused = b.submit(&station.url, &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("href=\"#attachment-licence\""));
    // One file of three; sending is refused and leads to the slots still without one.
    let kept = b
        .upload(
            &format!("/moje-podani/{id}/prilohy/licence"),
            &csrf,
            "opravneni.pdf",
            pdf(2000),
        )
        .await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    let back = b
        .submit(
            &format!("/moje-podani/{id}/kontrola"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(
        back.url
            .ends_with(&format!("/moje-podani/{id}/krok/station?chyby=1")),
        "{}",
        back.url
    );
    assert!(back.body.contains("Podání jsme neodeslali"));
    assert!(
        back.body.contains("href=\"#attachment-layout\""),
        "{}",
        back.body
    );
    assert!(back.body.contains("href=\"#attachment-calibration\""));
    assert!(!back.body.contains("href=\"#attachment-licence\""));
    assert!(back.body.contains("Přiložte „Situační plánek stanice“."));
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM submission").await, 0);
    // Resumed later, the draft opens on the step whose files are missing, not the check page.
    let resumed = b.visit(&format!("/moje-podani/{id}/pokracovat")).await;
    assert!(
        resumed
            .url
            .ends_with(&format!("/moje-podani/{id}/krok/station")),
        "{}",
        resumed.url
    );
    // With the files, it is sent.
    for (slot, name) in [("layout", "planek.pdf"), ("calibration", "kalibrace.pdf")] {
        let kept = b
            .upload(
                &format!("/moje-podani/{id}/prilohy/{slot}"),
                &csrf,
                name,
                pdf(2500),
            )
            .await;
        assert_eq!(kept.status, 200, "{}", kept.body);
    }
    let sent = b
        .submit(
            &format!("/moje-podani/{id}/kontrola"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert!(
        sent.url.ends_with("/potvrzeni"),
        "{} {}",
        sent.url,
        sent.body
    );
    assert!(sent.body.contains("<strong>kalibrace.pdf</strong>"));
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM submission").await, 1);
}
