//! The receipt as a reader of the PDF sees it: a parseable PDF/A with embedded fonts whose
//! text says what the data says, and templates whose problems are reported where they are.
//! The decision's tests are in `tests/decision.rs`, with the helpers of this file.

mod decision;

use crate::receipt::sample;
use crate::{receipt_pdf, AttachmentLine, Documents, ReceiptData};
use lopdf::{Document, Object};
use urad_core::content::ContentFile;
use urad_core::Lang;

pub(crate) fn parse(pdf: &[u8]) -> Document {
    assert!(
        pdf.starts_with(b"%PDF-"),
        "not a PDF header: {:?}",
        &pdf[..8]
    );
    Document::load_mem(pdf).expect("the PDF parses")
}

/// The text of every page, as a PDF reader extracts it (through the fonts' ToUnicode maps).
pub(crate) fn text_of(doc: &Document) -> String {
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("the text can be extracted")
}

/// The XMP metadata packet the catalog points to.
pub(crate) fn xmp_of(doc: &Document) -> String {
    let catalog = doc.catalog().expect("a catalog");
    let metadata = catalog
        .get(b"Metadata")
        .and_then(Object::as_reference)
        .expect("the catalog has /Metadata");
    let stream = doc
        .get_object(metadata)
        .and_then(Object::as_stream)
        .expect("/Metadata is a stream");
    let bytes = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    String::from_utf8(bytes).expect("XMP is UTF-8")
}

/// Text without the line breaks and spaces a PDF's layout puts between words, so that a
/// phrase is found wherever lines were broken.
pub(crate) fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The XMP metadata declares PDF/A-2a and the title has `title_has` (the reference number).
pub(crate) fn assert_pdf_a(doc: &Document, title_has: &str) {
    let xmp = xmp_of(doc);
    assert!(
        xmp.contains("<pdfaid:part>2</pdfaid:part>") || xmp.contains("pdfaid:part=\"2\""),
        "XMP declares PDF/A part 2: {xmp}"
    );
    assert!(
        xmp.contains("<pdfaid:conformance>A</pdfaid:conformance>")
            || xmp.contains("pdfaid:conformance=\"A\""),
        "XMP declares conformance A: {xmp}"
    );
    let title = xmp
        .split("<dc:title>")
        .nth(1)
        .and_then(|t| t.split("</dc:title>").next())
        .unwrap_or_else(|| panic!("XMP has a dc:title: {xmp}"));
    assert!(
        title.contains(title_has),
        "the title names `{title_has}`: {title}"
    );
}

/// Every font the document uses is embedded; returns how many there are.
pub(crate) fn assert_fonts_embedded(doc: &Document) -> usize {
    let mut fonts = 0;
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        if dict.get(b"Type").and_then(Object::as_name).ok() != Some(b"FontDescriptor".as_slice()) {
            continue;
        }
        fonts += 1;
        let name = dict
            .get(b"FontName")
            .and_then(Object::as_name)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        assert!(
            [b"FontFile".as_slice(), b"FontFile2", b"FontFile3"]
                .iter()
                .any(|key| dict.has(key)),
            "font {name} is embedded"
        );
    }
    fonts
}

#[test]
fn the_receipt_is_a_pdf_a_with_its_facts_in_czech_and_english() {
    let data = sample();
    let pdf = receipt_pdf(&data, Lang::Cs).expect("the receipt renders");
    let doc = parse(&pdf);
    assert_eq!(
        doc.get_pages().len(),
        1,
        "a receipt with two attachments fits one page"
    );

    assert_pdf_a(&doc, &data.reference);

    let text = text_of(&doc);
    let flat = squeezed(&text);
    for phrase in [
        "Potvrzení o přijetí podání",
        "Acknowledgement of receipt",
        "Krajský úřad Moravskoslezského kraje",
        "28. října 117, 702 18 Ostrava",
        "8x6bxsd",
        "KUMSK 12345/2026",
        // 2026-05-28 20:26:40 UTC is 22:26:40 in Prague's summer time.
        "28. 5. 2026 22:26:40 SELČ",
        "2026-05-28T20:26:40Z",
        "1042",
        "kotlikova-dotace",
        "Jana Nováková",
        "demo-jana-novakova",
        "Žádost o kotlíkovou dotaci",
        "20731",
        "Fotografie starého kotle",
        "kotel-2025.jpg",
        "smlouva-o-dilo.pdf",
        "application/pdf",
        "urad verify-receipt",
    ] {
        assert!(
            flat.contains(&squeezed(phrase)),
            "the text has `{phrase}`:\n{text}"
        );
    }
    for hash in std::iter::once(&data.data_sha256)
        .chain(data.attachments.iter().map(|a| &a.sha256))
        .chain(std::iter::once(&data.submission_id))
    {
        assert!(
            flat.contains(hash.as_str()),
            "the text has the hash {hash}:\n{text}"
        );
    }
    assert!(
        text.contains("Potvrzení o přijetí podání"),
        "the title's diacritics and spaces are intact:\n{text}"
    );
}

#[test]
fn every_font_is_embedded() {
    let pdf = receipt_pdf(&sample(), Lang::En).unwrap();
    let doc = parse(&pdf);
    let fonts = assert_fonts_embedded(&doc);
    assert!(
        fonts >= 2,
        "the serif and the monospace fonts are used ({fonts})"
    );
}

#[test]
fn the_english_receipt_leads_with_english_and_keeps_czech() {
    let pdf = receipt_pdf(&sample(), Lang::En).unwrap();
    let text = text_of(&parse(&pdf));
    let flat = squeezed(&text);
    let english = flat
        .find("Acknowledgementofreceipt")
        .expect("English title");
    let czech = flat.find("Potvrzeníopřijetípodání").expect("Czech title");
    assert!(english < czech, "English comes first:\n{text}");
    assert!(flat.contains("28May2026,22:26:40CEST"), "{text}");
    assert!(flat.contains("Boilergrantapplication"), "{text}");
}

#[test]
fn the_same_receipt_gives_the_same_bytes() {
    let data = sample();
    let first = receipt_pdf(&data, Lang::Cs).unwrap();
    let second = receipt_pdf(&data, Lang::Cs).unwrap();
    assert!(first == second, "rendering is deterministic");
    let mut other = data.clone();
    other.sequence += 1;
    assert!(receipt_pdf(&other, Lang::Cs).unwrap() != first);
}

#[test]
fn characters_typst_treats_specially_are_printed_as_they_are() {
    let tricky = [
        r#"#panic("injected") $x^2$ *bold* _em_ <label> @ref \ \\ "quoted" 'single' `raw`"#,
        r"] [ } { // not a comment /* nor this */ = heading - item + 1. ~ --- ...",
    ];
    let mut data = sample();
    data.submitter_name = tricky[0].into();
    data.attachments = vec![AttachmentLine {
        slot: tricky[1].into(),
        file_name: "#import \"/etc/passwd\".pdf".into(),
        media_type: "application/pdf".into(),
        size: 1,
        sha256: "00".repeat(32),
    }];
    data.scope = "výzva #1 <2026>".into();
    let pdf = receipt_pdf(&data, Lang::Cs).expect("data never breaks the template");
    let text = text_of(&parse(&pdf));
    let flat = squeezed(&text);
    for literal in tricky
        .iter()
        .copied()
        .chain(["#import \"/etc/passwd\".pdf", "výzva #1 <2026>"])
    {
        assert!(
            flat.contains(&squeezed(literal)),
            "`{literal}` is printed literally:\n{text}"
        );
    }
}

#[test]
fn a_receipt_without_attachments_says_so() {
    let mut data = sample();
    data.attachments.clear();
    let text = text_of(&parse(&receipt_pdf(&data, Lang::Cs).unwrap()));
    assert!(
        squeezed(&text).contains("Podánínemážádnépřílohy."),
        "{text}"
    );
}

#[test]
fn many_attachments_flow_onto_more_pages() {
    let mut data = sample();
    let line = data.attachments[0].clone();
    data.attachments = (0..50)
        .map(|i| AttachmentLine {
            file_name: format!("priloha-{i}.jpg"),
            ..line.clone()
        })
        .collect();
    let doc = parse(&receipt_pdf(&data, Lang::Cs).unwrap());
    assert!(doc.get_pages().len() > 1);
    let text = squeezed(&text_of(&doc));
    assert!(text.contains("priloha-0.jpg") && text.contains("priloha-49.jpg"));
}

pub(crate) fn template(name: &str, text: &str) -> Vec<(String, ContentFile)> {
    vec![(
        name.to_owned(),
        ContentFile {
            name: format!("content/documents/{name}"),
            text: text.to_owned(),
        },
    )]
}

/// The template `name` with `text`, and the built-in templates of the other kinds: what a
/// test of one template loads, so that the others are not reported missing.
pub(crate) fn templates_with(name: &str, text: &str) -> Vec<(String, ContentFile)> {
    let mut files = template(name, text);
    for (kind, built_in) in [
        ("receipt.typ", built_in_receipt()),
        ("decision.typ", built_in_decision()),
    ] {
        if kind != name {
            files.extend(template(kind, &built_in));
        }
    }
    files
}

pub(crate) fn built_in_receipt() -> String {
    include_str!("../../../content/documents/receipt.typ").to_owned()
}

pub(crate) fn built_in_decision() -> String {
    include_str!("../../../content/documents/decision.typ").to_owned()
}

#[test]
fn a_template_that_does_not_compile_is_reported_with_file_and_line() {
    let broken = built_in_receipt().replacen(
        "#let lang = data.lang",
        "#let lang = data.lang\n#let oops = (1 + \"one\")",
        1,
    );
    let line = broken
        .lines()
        .position(|l| l.contains("oops"))
        .expect("the broken line")
        + 1;
    let errors = match Documents::load(&templates_with("receipt.typ", &broken), "content/documents")
    {
        Ok(_) => panic!("a broken template is refused"),
        Err(e) => e.0,
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.file, "content/documents/receipt.typ");
    assert_eq!(e.line, line);
    assert!(e.column > 1);
    assert!(e.message.contains("cannot add"), "{}", e.message);
}

#[test]
fn a_template_reading_a_field_the_data_lacks_is_reported() {
    let broken = built_in_receipt().replacen("data.reference", "data.refrence", 1);
    let errors = Documents::load(&templates_with("receipt.typ", &broken), "content/documents")
        .err()
        .expect("refused")
        .0;
    assert!(errors[0].message.contains("refrence"), "{errors:?}");
    assert!(errors[0].line > 1);
}

#[test]
fn a_syntax_error_is_reported_at_its_line() {
    let errors = Documents::load(
        &templates_with(
            "receipt.typ",
            "#let data = json(\"/data.json\")\n\n#let x = (\n",
        ),
        "content/documents",
    )
    .err()
    .expect("refused")
    .0;
    assert_eq!(errors[0].line, 3, "{errors:?}");
}

#[test]
fn a_template_cannot_read_files_or_use_packages() {
    for (text, expected) in [
        ("#read(\"/etc/passwd\")", "not found"),
        ("#read(\"../../../../etc/passwd\")", ""),
        ("#import \"@preview/cetz:0.3.0\"", "packages"),
        ("#image(\"/logo.png\")", "not found"),
        // No ambient clock: a document's dates come in its data.
        ("#datetime.today().display()", ""),
    ] {
        let errors = Documents::load(&templates_with("receipt.typ", text), "content/documents")
            .err()
            .unwrap_or_else(|| panic!("`{text}` is refused"))
            .0;
        assert!(errors[0].message.contains(expected), "`{text}`: {errors:?}");
    }
}

#[test]
fn a_font_the_binary_lacks_is_a_problem_of_the_template() {
    let text = "#set text(font: \"Arial\")\nHello";
    let errors = Documents::load(&templates_with("receipt.typ", text), "content/documents")
        .err()
        .expect("refused")
        .0;
    assert!(errors[0].message.contains("arial"), "{errors:?}");
    assert_eq!(errors[0].line, 1);
}

#[test]
fn a_missing_receipt_template_or_a_stray_file_is_reported() {
    let errors = Documents::load(&template("other.typ", "Hello"), "content/documents")
        .err()
        .expect("refused")
        .0;
    assert_eq!(errors[0].file, "content/documents/receipt.typ");
    assert!(errors[0].message.contains("missing"));
    let mut files = templates_with("receipt.typ", &built_in_receipt());
    files.extend(template("notes.txt", "x"));
    let errors = Documents::load(&files, "content/documents")
        .err()
        .expect("refused")
        .0;
    assert_eq!(errors[0].file, "content/documents/notes.txt");
}

#[test]
fn templates_may_import_shared_modules_of_the_folder() {
    let mut files = templates_with(
        "receipt.typ",
        "#import \"letterhead.typ\": head\n#let data = json(\"/data.json\")\n#head(data.reference)",
    );
    files.extend(template("letterhead.typ", "#let head(r) = [Č. j. #r]"));
    let documents = Documents::load(&files, "content/documents").expect("valid");
    let data: ReceiptData = sample();
    let text = text_of(&parse(&documents.receipt_pdf(&data, Lang::Cs).unwrap()));
    assert!(squeezed(&text).contains("Č.j.KUMSK12345/2026"), "{text}");
}

#[test]
fn receipts_rendered_at_once_on_several_threads_each_get_their_own_data() {
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let mut data = sample();
                data.reference = format!("KUMSK {}/2026", 700 + i);
                data.submitter_name = format!("Podatel číslo {i}");
                (i, receipt_pdf(&data, Lang::Cs).unwrap())
            })
        })
        .collect();
    for t in threads {
        let (i, pdf) = t.join().unwrap();
        let text = squeezed(&text_of(&parse(&pdf)));
        for j in 0..4 {
            let has = text.contains(&format!("KUMSK{}/2026", 700 + j))
                && text.contains(&format!("Podatelčíslo{j}"));
            assert_eq!(has, i == j, "receipt {i} names submission {j}: {has}");
        }
    }
}

/// Not a benchmark, a guard: a warm render of a receipt takes milliseconds, not a second.
#[test]
fn a_warm_render_takes_milliseconds() {
    let data = sample();
    let first = std::time::Instant::now();
    receipt_pdf(&data, Lang::Cs).unwrap();
    // The first in a process also parses the fonts and checks the built-in template (when no
    // other test came first).
    eprintln!("the first receipt renders in {:?}", first.elapsed());
    let runs = 20;
    let start = std::time::Instant::now();
    for i in 0..runs {
        let mut d = data.clone();
        d.sequence = 5000 + i;
        d.reference = format!("KUMSK {}/2026", 5000 + i);
        receipt_pdf(&d, Lang::Cs).unwrap();
    }
    let each = start.elapsed() / runs as u32;
    eprintln!("a receipt renders in {each:?} (mean of {runs} warm renders with new data)");
    assert!(each < std::time::Duration::from_millis(500), "{each:?}");
}

/// Writes the sample receipts to `$URAD_RECEIPT_SAMPLES` to look at (not a check).
#[test]
fn write_samples_when_asked() {
    let Some(dir) = std::env::var_os("URAD_RECEIPT_SAMPLES") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::write(
        dir.join("receipt-cs.pdf"),
        receipt_pdf(&sample(), Lang::Cs).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("receipt-en.pdf"),
        receipt_pdf(&sample(), Lang::En).unwrap(),
    )
    .unwrap();
}
