//! Documents as PDF/A: the receipt of a real submission on both databases, and templates
//! checked with the rest of the content.

use crate::harness::{self, Backend, Setup, TestApp};
use crate::identity::open;
use serde_json::json;
use std::process::Command;
use urad::ContentArgs;
use urad_core::{Lang, ManualClock, Text};
use urad_documents::{AttachmentLine, OfficeData, ReceiptData};
use urad_filing::SubmitRequest;

const URAD: &str = env!("CARGO_BIN_EXE_urad");

crate::for_both_backends!(
    a_submission_gets_a_pdf_receipt_of_what_was_received,
    a_template_that_does_not_render_stops_the_start,
);

/// The text of a PDF as a reader extracts it, without the spaces and breaks of the layout.
fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(pdf).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages)
        .expect("text")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// What the web layer does: the receipt the filing office committed, as the PDF shows it.
fn receipt_data(
    office: &urad_catalog::model::Office,
    receipt: &urad_filing::Receipt,
    submitter: &str,
    form_title: Text,
) -> ReceiptData {
    ReceiptData {
        office: OfficeData {
            name: office.name.clone(),
            address: office.address.clone(),
            data_box: office.data_box.clone(),
        },
        reference: receipt.reference.clone(),
        submission_id: receipt.id.clone(),
        received_at: jiff::Timestamp::from_second(receipt.received_at).unwrap(),
        scope: receipt.scope.clone(),
        sequence: receipt.sequence,
        submitter_name: submitter.into(),
        submitter_id: receipt.person_id.clone(),
        form_id: receipt.form_id.clone(),
        form_version: receipt.form_version,
        form_title,
        data_sha256: receipt.data_sha256.clone(),
        log_index: receipt.log_index,
        attachments: receipt
            .attachments
            .iter()
            .map(|a| AttachmentLine {
                slot: a.slot.clone(),
                file_name: a.file_name.clone(),
                media_type: a.media_type.clone(),
                size: a.size.try_into().unwrap(),
                sha256: a.sha256.clone(),
            })
            .collect(),
        time_stamp: None,
    }
}

async fn a_submission_gets_a_pdf_receipt_of_what_was_received(backend: Backend) {
    let (db, _dir) = open(backend).await;
    let content = ContentArgs::dir(harness::content_dir());
    let forms = content.forms().unwrap();
    let documents = content.documents().unwrap();
    let office = content.source().unwrap().validate().unwrap().office;
    // 2026-03-29 00:59:59 UTC is 01:59:59 CET, the last second of winter time in Prague.
    let clock = ManualClock::at(1_774_745_999);
    let data = json!({
        "sender": {"name": "Jana #Nováková*", "address": "Hlavní 1, Ostrava"},
        "subject": "Žádost o informaci $x$",
        "text": "Prosím o informaci."
    });
    let draft = urad_filing::start_draft(&db, &clock, &forms, "p-1", "obecne-podani", &data)
        .await
        .unwrap();
    let receipt = urad_filing::submit(
        &db,
        &clock,
        &forms,
        &office.code,
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
    let form = forms.latest("obecne-podani").unwrap();
    let title = form.ui.title.clone();
    let data = receipt_data(&office, &receipt, "Jana #Nováková*", title.clone());
    let pdf = tokio::task::spawn_blocking(move || documents.receipt_pdf(&data, Lang::Cs))
        .await
        .unwrap()
        .expect("the receipt renders");
    let text = pdf_text(&pdf);
    for expected in [
        "Potvrzeníopřijetípodání".to_owned(),
        receipt.reference.replace(' ', ""),
        "29.3.202601:59:59SEČ".to_owned(),
        "2026-03-29T00:59:59Z".to_owned(),
        format!("{}.", receipt.sequence),
        "form:obecne-podani".to_owned(),
        "Jana#Nováková*".to_owned(),
        title.cs.replace(' ', ""),
        receipt.data_sha256.clone(),
        receipt.id.clone(),
        format!("{}", receipt.log_index),
        "Podánínemážádnépřílohy.".to_owned(),
        "Razítkosedoplňuje".to_owned(),
    ] {
        assert!(text.contains(&expected), "`{expected}` is in:\n{text}");
    }
    // One second later it is summer time.
    clock.advance(1);
    let mut later = receipt_data(&office, &receipt, "x", title);
    later.received_at = jiff::Timestamp::from_second(1_774_746_000).unwrap();
    // Once stamped, the receipt names the stamp's time and authority.
    later.time_stamp = Some(urad_documents::receipt::TimeStampLine {
        time: jiff::Timestamp::from_second(1_774_746_003).unwrap(),
        authority: "https://tsa.example.cz/tsa".into(),
    });
    let text = pdf_text(&urad_documents::receipt_pdf(&later, Lang::En).unwrap());
    assert!(text.contains("29March2026,03:00:00CEST"), "{text}");
    assert!(text.contains("Timestamp(RFC3161)"), "{text}");
    assert!(text.contains("29March2026,03:00:03CEST"), "{text}");
    assert!(
        text.contains("2026-03-29T01:00:03Z(UTC),https://tsa.example.cz/tsa"),
        "{text}"
    );
    assert!(!text.contains("Thestampisadded"), "{text}");
}

/// A copy of the repository's content whose receipt template is `receipt` (the other
/// templates as they are).
fn content_with_receipt(receipt: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    harness::copy_catalogue(dir.path());
    std::fs::create_dir_all(dir.path().join("documents")).unwrap();
    std::fs::write(dir.path().join("documents/receipt.typ"), receipt).unwrap();
    std::fs::copy(
        harness::content_dir().join("documents/decision.typ"),
        dir.path().join("documents/decision.typ"),
    )
    .unwrap();
    dir
}

fn broken_receipt() -> (String, usize) {
    let good =
        std::fs::read_to_string(harness::content_dir().join("documents/receipt.typ")).unwrap();
    let broken = good.replacen(
        "#let lang = data.lang",
        "#let lang = data.lang\n#let size = data.attachments.first().sise",
        1,
    );
    let line = broken.lines().position(|l| l.contains(".sise")).unwrap() + 1;
    (broken, line)
}

async fn a_template_that_does_not_render_stops_the_start(backend: Backend) {
    let (broken, line) = broken_receipt();
    let content = content_with_receipt(&broken);
    let err = match TestApp::start_with(
        backend,
        Setup {
            content: Some(content.path().to_path_buf()),
            ..Setup::default()
        },
    )
    .await
    {
        Ok(_) => panic!("a server with a broken receipt template must not start"),
        Err(e) => e,
    };
    assert!(
        err.contains(&format!("documents/receipt.typ:{line}:")) && err.contains("sise"),
        "{err}"
    );
}

#[test]
fn check_content_reports_a_broken_template_with_file_and_line() {
    let (broken, line) = broken_receipt();
    let content = content_with_receipt(&broken);
    let out = Command::new(URAD)
        .arg("check-content")
        .arg("--content-dir")
        .arg(content.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("documents/receipt.typ:{line}:"))
            && err.contains("field `template`: dictionary does not contain key \"sise\""),
        "{err}"
    );
}

#[test]
fn a_content_folder_without_templates_uses_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    harness::copy_catalogue(dir.path());
    let documents = ContentArgs::dir(dir.path()).documents().unwrap();
    assert_eq!(documents.len(), urad_documents::KINDS.len());
}
