//! The decision as a reader of the PDF sees it: a PDF/A in Czech or in English whose text says
//! what the data says, with the reference number on every page.

use super::{
    assert_fonts_embedded, assert_pdf_a, built_in_decision, parse, squeezed, template,
    templates_with, text_of,
};
use crate::decision::sample;
use crate::{decision_pdf, DecisionData, DecisionKind, Documents};
use lopdf::Document;
use urad_core::{Lang, Text};

/// The text of each page on its own.
fn page_texts(doc: &Document) -> Vec<String> {
    doc.get_pages()
        .keys()
        .map(|&page| {
            doc.extract_text(&[page])
                .expect("the text can be extracted")
        })
        .collect()
}

fn assert_has(text: &str, phrases: &[&str]) {
    let flat = squeezed(text);
    for phrase in phrases {
        assert!(
            flat.contains(&squeezed(phrase)),
            "the text has `{phrase}`:\n{text}"
        );
    }
}

#[test]
fn the_czech_decision_is_a_pdf_a_with_its_facts() {
    let data = sample();
    let doc = parse(&decision_pdf(&data, Lang::Cs).expect("the decision renders"));
    assert_pdf_a(&doc, "Rozhodnutí KUMSK 12345/2026");
    assert!(
        assert_fonts_embedded(&doc) >= 2,
        "the serif and the monospace fonts"
    );
    let text = text_of(&doc);
    assert_has(
        &text,
        &[
            "Krajský úřad Moravskoslezského kraje",
            "28. října 117, 702 18 Ostrava",
            "8x6bxsd",
            "Číslo jednací",
            "KUMSK 12345/2026",
            "Ostrava",
            "15. 6. 2026",
            "ROZHODNUTÍ",
            "Věc: Žádost o kotlíkovou dotaci",
            "Jana Nováková",
            "Hlavní 12, 747 06 Opava",
            "rozhodl takto:",
            "Výrok",
            "Žádost se zamítá.",
            "podaná dne 28. 5. 2026, se zamítá.",
            "§ 67 odst. 1 zákona č. 500/2004 Sb., správní řád",
            "Odůvodnění",
            "kotlem 3. emisní třídy",
            "Poučení o odvolání",
            "Proti tomuto rozhodnutí lze podat odvolání do 15 dnů ode dne jeho oznámení \
             k Ministerstvu životního prostředí, a to podáním u Krajského úřadu \
             Moravskoslezského kraje.",
            "má odkladný účinek",
            "Ing. Petr Svoboda",
            "vedoucí odboru životního prostředí a zemědělství",
            "Obdrží",
        ],
    );
    assert!(
        !squeezed(&text).contains("Englishtranslation"),
        "the Czech decision is the original:\n{text}"
    );
    assert!(
        text.contains("Žádost se zamítá."),
        "the ruling's diacritics and spaces are intact:\n{text}"
    );
}

#[test]
fn the_english_decision_is_a_pdf_a_that_says_it_is_a_translation() {
    let data = sample();
    let doc = parse(&decision_pdf(&data, Lang::En).expect("the decision renders"));
    assert_pdf_a(&doc, "Decision KUMSK 12345/2026");
    let text = text_of(&doc);
    assert_has(
        &text,
        &[
            "Regional Office of the Moravian-Silesian Region",
            "English translation for information.",
            "Only the Czech original of this document is legally binding.",
            "Reference number",
            "KUMSK 12345/2026",
            "15 June 2026",
            "DECISION",
            "Subject: Boiler grant application",
            "Jana Nováková",
            "has decided as follows:",
            "The application is rejected.",
            "Section 67(1) of Act No. 500/2004 Coll.",
            "Reasoning",
            "emission class 3",
            "Instruction on appeal",
            "An appeal against this decision may be lodged within 15 days of the day it was \
             notified, to the Ministry of the Environment, by filing it with the Regional \
             Office of the Moravian-Silesian Region.",
            "Head of the Department of the Environment and Agriculture",
        ],
    );
    assert!(!squeezed(&text).contains("Žádostsezamítá"), "{text}");
}

#[test]
fn each_kind_of_decision_has_its_wording_in_both_languages() {
    for (kind, cs, en) in [
        (
            DecisionKind::Approve,
            ["ROZHODNUTÍ", "Vyhovuje se žádosti."],
            ["DECISION", "The application is granted."],
        ),
        (
            DecisionKind::Reject,
            ["ROZHODNUTÍ", "Žádost se zamítá."],
            ["DECISION", "The application is rejected."],
        ),
        (
            DecisionKind::Stop,
            ["USNESENÍ", "Řízení se zastavuje."],
            ["RESOLUTION", "The proceedings are stopped."],
        ),
    ] {
        let mut data = sample();
        data.kind = kind;
        data.appeal = crate::appeal_instruction(
            kind,
            &Text::new("Ministerstvu dopravy", "the Ministry of Transport"),
            &Text::new(
                "Krajského úřadu Moravskoslezského kraje",
                "the Regional Office of the Moravian-Silesian Region",
            ),
        );
        for (lang, wording) in [(Lang::Cs, cs), (Lang::En, en)] {
            let text = text_of(&parse(&decision_pdf(&data, lang).unwrap()));
            assert_has(&text, &wording);
        }
    }
}

#[test]
fn a_long_reasoning_flows_over_pages_with_the_reference_on_each() {
    let mut data = sample();
    data.reference = "KUMSK 98765/2026".into();
    data.reasoning = Text::new(
        (1..=60)
            .map(|i| {
                format!(
                    "Odstavec {i}. Správní orgán posoudil podklady pro vydání rozhodnutí, \
                     zejména žádost, její přílohy a vyjádření žadatele, a dospěl k závěru, \
                     že podmínky programu nejsou splněny."
                )
            })
            .collect::<Vec<_>>()
            .join("\n\n"),
        "",
    );
    let doc = parse(&decision_pdf(&data, Lang::Cs).unwrap());
    let pages = page_texts(&doc);
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let total = pages.len();
    for (i, page) in pages.iter().enumerate() {
        let flat = squeezed(page);
        assert!(
            flat.contains("č.j.KUMSK98765/2026"),
            "page {} names the reference:\n{page}",
            i + 1
        );
        assert!(
            flat.contains(&format!("{}/{total}", i + 1)),
            "page {} is numbered of {total}:\n{page}",
            i + 1
        );
    }
    let all = squeezed(&text_of(&doc));
    assert!(all.contains("Odstavec1.") && all.contains("Odstavec60."));
    assert!(
        all.find("Odstavec60.") < all.find("Poučeníoodvolání"),
        "the instruction on appeal follows the whole reasoning"
    );
}

#[test]
fn characters_typst_treats_specially_are_printed_as_they_are() {
    let tricky = [
        r#"#panic("injected") $x^2$ *bold* _em_ <label> @ref \ \\ "quoted" 'single' `raw`"#,
        r"] [ } { // not a comment /* nor this */ = heading - item + 1. ~ --- ...",
        r#"#{ "a" + "b" } #eval("1 + 1") \u{41} [*x*] $ \ "#,
    ];
    let mut data: DecisionData = sample();
    data.applicant_name = tricky[0].into();
    data.applicant_address = tricky[1].into();
    data.subject = Text::new(tricky[2], tricky[2]);
    data.operative = Text::new(tricky[0], tricky[0]);
    data.reasoning = Text::new(format!("{}\n\n{}", tricky[1], tricky[2]), "");
    data.legal_basis = vec![Text::new(tricky[1], tricky[1])];
    data.official_name = tricky[2].into();
    data.issued_in = "Ostrava #1 <2026>".into();
    data.reference = "KUMSK #1 [2026] $x$".into();
    for lang in Lang::ALL {
        let pdf = decision_pdf(&data, lang).expect("data never breaks the template");
        let doc = parse(&pdf);
        let text = text_of(&doc);
        let flat = squeezed(&text);
        for literal in tricky
            .iter()
            .copied()
            .chain(["Ostrava #1 <2026>", "KUMSK #1 [2026] $x$"])
        {
            assert!(
                flat.contains(&squeezed(literal)),
                "`{literal}` is printed literally ({lang}):\n{text}"
            );
        }
        assert_pdf_a(&doc, "KUMSK #1 [2026] $x$");
    }
}

#[test]
fn an_english_decision_without_a_translation_prints_the_czech_text_and_says_so() {
    let mut data = sample();
    data.reasoning.en.clear();
    let text = text_of(&parse(&decision_pdf(&data, Lang::En).unwrap()));
    assert_has(
        &text,
        &[
            "Not translated; the Czech original follows.",
            "kotlem 3. emisní třídy",
            "The application is rejected.",
        ],
    );
}

#[test]
fn a_decision_without_legal_basis_or_operative_text_renders() {
    let mut data = sample();
    data.legal_basis.clear();
    data.operative = Text::default();
    let text = text_of(&parse(&decision_pdf(&data, Lang::Cs).unwrap()));
    let flat = squeezed(&text);
    assert!(flat.contains("Žádostsezamítá."), "{text}");
    assert!(!flat.contains("Právnípředpisy"), "{text}");
}

#[test]
fn the_same_decision_gives_the_same_bytes() {
    let data = sample();
    let first = decision_pdf(&data, Lang::Cs).unwrap();
    assert!(first == decision_pdf(&data, Lang::Cs).unwrap());
    assert!(first != decision_pdf(&data, Lang::En).unwrap());
    let mut other = data.clone();
    other.issued_on = jiff::civil::date(2026, 6, 16);
    assert!(decision_pdf(&other, Lang::Cs).unwrap() != first);
}

#[test]
fn a_missing_or_broken_decision_template_is_reported() {
    let errors = Documents::load(
        &template("receipt.typ", &super::built_in_receipt()),
        "content/documents",
    )
    .err()
    .expect("refused")
    .0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, "content/documents/decision.typ");
    assert!(errors[0].message.contains("missing"));

    let broken = built_in_decision().replacen("data.reasoning", "data.reasons", 1);
    let errors = Documents::load(
        &templates_with("decision.typ", &broken),
        "content/documents",
    )
    .err()
    .expect("refused")
    .0;
    assert_eq!(errors[0].file, "content/documents/decision.typ");
    assert!(errors[0].message.contains("reasons"), "{errors:?}");
}

/// Writes the sample decisions to `$URAD_DECISION_SAMPLES` to look at (not a check).
#[test]
fn write_samples_when_asked() {
    let Some(dir) = std::env::var_os("URAD_DECISION_SAMPLES") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for lang in Lang::ALL {
        std::fs::write(
            dir.join(format!("decision-{lang}.pdf")),
            decision_pdf(&sample(), lang).unwrap(),
        )
        .unwrap();
    }
}
