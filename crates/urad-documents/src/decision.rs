//! The decision of an administrative procedure (rozhodnutí) as PDF/A: who decided what about
//! whose application, why, and how to appeal (správní řád § 68: the operative part, the
//! reasoning and the instruction on appeal). Stopping proceedings on an application is, by
//! § 66 odst. 1, a resolution (usnesení); the template calls it so.
//!
//! A decision is made in one language. The Czech one is the decision; the English one is a
//! translation for information and says at its top that only the Czech original binds.

use crate::receipt::{OfficeData, MONTHS_EN};
use crate::{DocumentError, DocumentKind, Documents, PdfMeta};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use urad_core::{Lang, Text};

/// The decision's template: `content/documents/decision.typ`.
pub const KIND: DocumentKind = DocumentKind {
    file: "decision.typ",
    sample: sample_json,
};

/// What the office decided about the application. The same three kinds as the back office's
/// workflows (`urad_cases::workflow::DecisionKind`); this crate depends on no domain crate, so
/// the caller maps one to the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    /// Vyhovuje se žádosti: the application is granted.
    Approve,
    /// Žádost se zamítá: the application is rejected.
    Reject,
    /// Řízení se zastavuje: the proceedings are stopped (an usnesení, správní řád § 66 odst. 1).
    Stop,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 3] = [
        DecisionKind::Approve,
        DecisionKind::Reject,
        DecisionKind::Stop,
    ];

    /// As the template reads it: `approve`, `reject`, `stop`.
    pub fn code(self) -> &'static str {
        match self {
            DecisionKind::Approve => "approve",
            DecisionKind::Reject => "reject",
            DecisionKind::Stop => "stop",
        }
    }
}

/// Everything a decision shows. Plain values, so that any caller can fill it (the back office
/// from its case file, the web layer for a download).
///
/// The texts the official writes (`operative`, `reasoning`) are [`Text`]s: the Czech text and
/// its English translation. An empty `en` means there is no translation; the English document
/// then prints the Czech text under a note saying so. Paragraphs are separated by an empty
/// line; a single line break is kept as one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionData {
    /// The deciding office, as `content/office.toml` describes it.
    pub office: OfficeData,
    /// The case's reference number (číslo jednací): `KUMSK 12345/2026`. On every page.
    pub reference: String,
    /// The day the decision was issued (datum vydání), as the office's calendar has it.
    pub issued_on: Date,
    /// Where it was issued (místo vydání): `Ostrava`.
    pub issued_in: String,
    /// The applicant (the party to the proceedings) as the decision names them.
    pub applicant_name: String,
    /// The applicant's address for delivery, on one line.
    pub applicant_address: String,
    /// What was applied for: the title of the form the application used.
    pub subject: Text,
    pub kind: DecisionKind,
    /// The operative part (výrok) after its opening sentence (which the kind gives): what
    /// exactly is granted, refused or stopped, with amounts and conditions. May be empty.
    pub operative: Text,
    /// The reasoning (odůvodnění).
    pub reasoning: Text,
    /// The instruction on appeal (poučení o odvolání); [`appeal_instruction`] words the one of
    /// a regional office's first-instance decision.
    pub appeal: Text,
    /// The official who issued the decision (oprávněná úřední osoba).
    pub official_name: String,
    /// Their function: `vedoucí odboru dopravy` / `Head of the Transport Department`.
    pub official_function: Text,
    /// The legal provisions the decision is based on, one a line, listed under the operative
    /// part (správní řád § 68 odst. 2); none leaves the list out.
    pub legal_basis: Vec<Text>,
}

/// The instruction on appeal of a regional office's decision at first instance (správní řád
/// § 81–85, for a resolution § 76 odst. 5): 15 days from its notification, to the ministry,
/// filed with the regional office that decided.
///
/// `appellate_body` is the ministry that decides the appeal, in Czech **in the dative** (after
/// *k*): `Ministerstvu dopravy`; in English with its article: `the Ministry of Transport`.
/// `office` is the deciding office, in Czech **in the genitive** (after *u*):
/// `Krajského úřadu Moravskoslezského kraje`; in English: `the Regional Office of the
/// Moravian-Silesian Region`.
pub fn appeal_instruction(kind: DecisionKind, appellate_body: &Text, office: &Text) -> Text {
    let resolution = kind == DecisionKind::Stop;
    let (this_cs, this_en) = if resolution {
        ("usnesení", "resolution")
    } else {
        ("rozhodnutí", "decision")
    };
    let effect_cs = if resolution {
        "Odvolání proti usnesení nemá odkladný účinek (§ 76 odst. 5 správního řádu)."
    } else {
        "Včas podané a přípustné odvolání má odkladný účinek (§ 85 odst. 1 správního řádu)."
    };
    let effect_en = if resolution {
        "An appeal against a resolution has no suspensive effect (Section 76(5) of the \
         Administrative Procedure Code)."
    } else {
        "An appeal lodged in time and admissible has suspensive effect (Section 85(1) of the \
         Administrative Procedure Code)."
    };
    let nbsp = '\u{a0}';
    Text::new(
        format!(
            "Proti tomuto {this_cs} lze podat odvolání do 15{nbsp}dnů ode dne jeho oznámení \
             k {body}, a to podáním u {office}. Lhůta začíná běžet dnem následujícím po dni \
             oznámení.\n\n\
             Odvolání musí obsahovat údaje o tom, proti kterému {this_cs} směřuje, v jakém \
             rozsahu je napadá a v čem je spatřován rozpor s právními předpisy nebo nesprávnost \
             {this_cs} nebo řízení, jež mu předcházelo. Odvolání jen proti odůvodnění je \
             nepřípustné. Odvolání se podává s potřebným počtem stejnopisů tak, aby jeden \
             zůstal správnímu orgánu a každý účastník dostal jeden; nepodá-li je účastník, \
             vyhotoví je správní orgán na jeho náklady (§ 82 správního řádu).\n\n\
             {effect_cs}",
            body = appellate_body.cs,
            office = office.cs,
        ),
        format!(
            "An appeal against this {this_en} may be lodged within 15 days of the day it was \
             notified, to {body}, by filing it with {office}. The period starts on the day \
             after the day of notification.\n\n\
             The appeal must state which {this_en} it is against, to what extent it challenges \
             it and in what the appellant sees a conflict with the law or an error in the \
             {this_en} or in the proceedings before it. An appeal against the reasoning alone \
             is not admissible. The appeal is filed with as many copies as are needed for the \
             office to keep one and for each party to receive one; otherwise the office makes \
             them at the appellant's cost (Section 82 of the Administrative Procedure Code).\n\n\
             {effect_en}",
            body = appellate_body.en,
            office = office.en,
        ),
    )
}

/// The decision as PDF/A in `lang`, from the template built into the binary.
pub fn decision_pdf(data: &DecisionData, lang: Lang) -> Result<Vec<u8>, DocumentError> {
    Documents::built_in().decision_pdf(data, lang)
}

impl Documents {
    /// The decision as PDF/A in `lang`, from this content's template.
    pub fn decision_pdf(&self, data: &DecisionData, lang: Lang) -> Result<Vec<u8>, DocumentError> {
        let ident = format!("decision {} {}", data.reference, lang.code());
        let meta = PdfMeta {
            ident: &ident,
            created: start_of_day(data.issued_on),
        };
        self.render(KIND.file, &TemplateData::new(data, lang), &meta)
    }
}

/// The PDF's creation instant: the start of the day of issue in Prague (the data has a day,
/// not an instant; the same decision keeps giving the same bytes).
fn start_of_day(day: Date) -> jiff::Timestamp {
    let prague = TimeZone::get("Europe/Prague").expect("the bundled time zone database has Prague");
    day.to_zoned(prague)
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The data as the template reads it from `/data.json`: every text already in the document's
/// language, dates formatted (Typst has no time zones or Czech month names).
#[derive(Serialize)]
struct TemplateData<'a> {
    lang: &'static str,
    office: OfficeJson<'a>,
    reference: &'a str,
    issued: Issued<'a>,
    applicant: Applicant<'a>,
    subject: &'a str,
    /// `approve`, `reject` or `stop`.
    kind: &'static str,
    operative: Written,
    reasoning: Written,
    appeal: Written,
    official: Official<'a>,
    legal_basis: Vec<&'a str>,
}

#[derive(Serialize)]
struct OfficeJson<'a> {
    name: &'a str,
    address: &'a str,
    data_box: &'a str,
}

#[derive(Serialize)]
struct Issued<'a> {
    place: &'a str,
    /// `1. 12. 2026` / `1 December 2026`.
    date: String,
    /// `2026-12-01`.
    iso: String,
}

#[derive(Serialize)]
struct Applicant<'a> {
    name: &'a str,
    address: &'a str,
}

#[derive(Serialize)]
struct Official<'a> {
    name: &'a str,
    function: &'a str,
}

/// A text the official wrote, as the document prints it.
#[derive(Serialize)]
struct Written {
    /// The language the text is in (`cs` when an English document has no translation).
    lang: &'static str,
    /// True when an English document prints the Czech text because there is no translation.
    untranslated: bool,
    paragraphs: Vec<String>,
}

impl Written {
    fn new(text: &Text, lang: Lang) -> Written {
        let translated = lang == Lang::Cs || !text.en.trim().is_empty();
        let (shown, shown_lang) = if translated {
            (text.get(lang), lang)
        } else {
            (text.cs.as_str(), Lang::Cs)
        };
        Written {
            lang: shown_lang.code(),
            untranslated: !translated && !shown.trim().is_empty(),
            paragraphs: paragraphs(shown),
        }
    }
}

/// The paragraphs of a text: separated by empty lines, each with its lines (trailing spaces
/// trimmed) joined by `\n`.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}

/// `1. 12. 2026` / `1 December 2026`.
fn date_text(day: Date, lang: Lang) -> String {
    match lang {
        Lang::Cs => format!("{}. {}. {}", day.day(), day.month(), day.year()),
        Lang::En => {
            let month = usize::try_from(day.month() - 1).unwrap_or(0);
            format!("{} {} {}", day.day(), MONTHS_EN[month], day.year())
        }
    }
}

impl<'a> TemplateData<'a> {
    fn new(d: &'a DecisionData, lang: Lang) -> Self {
        TemplateData {
            lang: lang.code(),
            office: OfficeJson {
                name: d.office.name.get(lang),
                address: d.office.address.get(lang),
                data_box: &d.office.data_box,
            },
            reference: &d.reference,
            issued: Issued {
                place: &d.issued_in,
                date: date_text(d.issued_on, lang),
                iso: d.issued_on.to_string(),
            },
            applicant: Applicant {
                name: &d.applicant_name,
                address: &d.applicant_address,
            },
            subject: d.subject.get(lang),
            kind: d.kind.code(),
            operative: Written::new(&d.operative, lang),
            reasoning: Written::new(&d.reasoning, lang),
            appeal: Written::new(&d.appeal, lang),
            official: Official {
                name: &d.official_name,
                function: d.official_function.get(lang),
            },
            legal_basis: d.legal_basis.iter().map(|l| l.get(lang)).collect(),
        }
    }
}

/// A decision with every field filled (a rejected boiler grant application), as the check of
/// the template renders it and as tests and demos use it.
pub fn sample() -> DecisionData {
    let office_name = Text::new(
        "Krajský úřad Moravskoslezského kraje",
        "Regional Office of the Moravian-Silesian Region",
    );
    let kind = DecisionKind::Reject;
    DecisionData {
        office: OfficeData {
            name: office_name,
            address: Text::new(
                "28. října 117, 702 18 Ostrava",
                "28. října 117, 702 18 Ostrava, Czech Republic",
            ),
            data_box: "8x6bxsd".into(),
        },
        reference: "KUMSK 12345/2026".into(),
        issued_on: jiff::civil::date(2026, 6, 15),
        issued_in: "Ostrava".into(),
        applicant_name: "Jana Nováková".into(),
        applicant_address: "Hlavní 12, 747 06 Opava".into(),
        subject: Text::new("Žádost o kotlíkovou dotaci", "Boiler grant application"),
        kind,
        operative: Text::new(
            "Žádost o poskytnutí dotace na výměnu kotle na pevná paliva v rodinném domě \
             Hlavní 12, Opava, podaná dne 28. 5. 2026, se zamítá.",
            "The application for a grant for the replacement of a solid-fuel boiler in the \
             family house at Hlavní 12, Opava, filed on 28 May 2026, is rejected.",
        ),
        reasoning: Text::new(
            "Žadatelka podala dne 28. 5. 2026 žádost o kotlíkovou dotaci.\n\n\
             Z přiložené fotografie a smlouvy o dílo vyplývá, že nahrazovaný kotel je kotlem \
             3. emisní třídy, na jehož výměnu dotační program podporu neposkytuje (čl. 4 \
             odst. 2 programu).\n\n\
             Správní orgán proto žádosti nevyhověl.",
            "The applicant filed the application for a boiler grant on 28 May 2026.\n\n\
             The attached photograph and contract for work show that the boiler to be \
             replaced is of emission class 3, whose replacement the grant programme does not \
             support (Article 4(2) of the programme).\n\n\
             The administrative authority has therefore not granted the application.",
        ),
        appeal: appeal_instruction(
            kind,
            &Text::new(
                "Ministerstvu životního prostředí",
                "the Ministry of the Environment",
            ),
            &Text::new(
                "Krajského úřadu Moravskoslezského kraje",
                "the Regional Office of the Moravian-Silesian Region",
            ),
        ),
        official_name: "Ing. Petr Svoboda".into(),
        official_function: Text::new(
            "vedoucí odboru životního prostředí a zemědělství",
            "Head of the Department of the Environment and Agriculture",
        ),
        legal_basis: vec![
            Text::new(
                "§ 67 odst. 1 zákona č. 500/2004 Sb., správní řád",
                "Section 67(1) of Act No. 500/2004 Coll., the Administrative Procedure Code",
            ),
            Text::new(
                "čl. 4 odst. 2 programu Kotlíkové dotace v Moravskoslezském kraji",
                "Article 4(2) of the programme Boiler Grants in the Moravian-Silesian Region",
            ),
        ],
    }
}

fn sample_json() -> serde_json::Value {
    serde_json::to_value(TemplateData::new(&sample(), Lang::Cs)).expect("sample data serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_split_at_empty_lines() {
        assert_eq!(paragraphs(""), Vec::<String>::new());
        assert_eq!(paragraphs("  \n\n"), Vec::<String>::new());
        assert_eq!(
            paragraphs("one\ntwo  \n\n\n three\r\n\r\nfour"),
            ["one\ntwo", " three", "four"]
        );
    }

    #[test]
    fn dates_are_written_the_czech_and_the_english_way() {
        let day = jiff::civil::date(2026, 12, 1);
        assert_eq!(date_text(day, Lang::Cs), "1. 12. 2026");
        assert_eq!(date_text(day, Lang::En), "1 December 2026");
    }

    #[test]
    fn an_english_document_without_a_translation_prints_the_czech_text_and_says_so() {
        let text = Text::new("Odůvodnění.", "");
        let en = Written::new(&text, Lang::En);
        assert_eq!((en.lang, en.untranslated), ("cs", true));
        assert_eq!(en.paragraphs, ["Odůvodnění."]);
        let cs = Written::new(&text, Lang::Cs);
        assert_eq!((cs.lang, cs.untranslated), ("cs", false));
        let empty = Written::new(&Text::default(), Lang::En);
        assert!(!empty.untranslated && empty.paragraphs.is_empty());
    }

    #[test]
    fn the_appeal_goes_to_the_ministry_through_the_office_and_a_resolution_has_no_suspensive_effect(
    ) {
        let ministry = Text::new("Ministerstvu dopravy", "the Ministry of Transport");
        let office = Text::new(
            "Krajského úřadu Moravskoslezského kraje",
            "the Regional Office of the Moravian-Silesian Region",
        );
        let decision = appeal_instruction(DecisionKind::Reject, &ministry, &office);
        assert!(decision.cs.starts_with(
            "Proti tomuto rozhodnutí lze podat odvolání do 15\u{a0}dnů ode dne jeho oznámení \
             k Ministerstvu dopravy, a to podáním u Krajského úřadu Moravskoslezského kraje."
        ));
        assert!(decision.cs.contains("má odkladný účinek"));
        assert!(decision
            .en
            .contains("to the Ministry of Transport, by filing it with the"));
        let resolution = appeal_instruction(DecisionKind::Stop, &ministry, &office);
        assert!(resolution.cs.starts_with("Proti tomuto usnesení"));
        assert!(resolution.cs.contains("nemá odkladný účinek (§ 76 odst. 5"));
        assert!(resolution.en.contains("has no suspensive effect"));
    }
}
