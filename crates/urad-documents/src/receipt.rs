//! The receipt of a submission (potvrzení o přijetí podání) as PDF/A: what arrived, when, in
//! which place of the queue, and the hashes that let anyone check it against the signed
//! receipt and the receipt log.

use crate::{DocumentError, DocumentKind, Documents, PdfMeta};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;
use urad_core::{Lang, Text};

/// The receipt's template: `content/documents/receipt.typ`.
pub const KIND: DocumentKind = DocumentKind {
    file: "receipt.typ",
    sample: sample_json,
};

/// The office that received the submission, as `content/office.toml` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficeData {
    pub name: Text,
    pub address: Text,
    /// The office's data box (datová schránka) id: `8x6bxsd`.
    pub data_box: String,
}

/// One attached file as the receipt names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentLine {
    /// The form's attachment slot (its label or id).
    pub slot: String,
    /// The file's (sanitised) name.
    pub file_name: String,
    /// Decided from the content: `application/pdf`.
    pub media_type: String,
    /// In bytes.
    pub size: u64,
    /// SHA-256 of the file's bytes, hexadecimal.
    pub sha256: String,
}

/// Everything a receipt shows. Plain values, so that any caller can fill it (the web layer
/// does it from `urad_filing::Receipt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptData {
    pub office: OfficeData,
    /// The reference number (číslo jednací): `KUMSK 12345/2026`.
    pub reference: String,
    /// The submission's id.
    pub submission_id: String,
    /// The receipt instant from the server's clock; shown in Europe/Prague and in UTC.
    pub received_at: Timestamp,
    /// What the receipt sequence counts in: a grant call or a service.
    pub scope: String,
    /// The place in the order of receipt within `scope` (1, 2, 3 … without gaps).
    pub sequence: i64,
    /// The submitter's name as the identity gateway verified it.
    pub submitter_name: String,
    /// The submitter's id at the identity gateway.
    pub submitter_id: String,
    pub form_id: String,
    pub form_version: u32,
    pub form_title: Text,
    /// SHA-256 of the submitted data exactly as stored, hexadecimal.
    pub data_sha256: String,
    /// The submission's leaf in the receipt log.
    pub log_index: i64,
    pub attachments: Vec<AttachmentLine>,
    /// The RFC 3161 time stamp over the receipt, once the authority gave one.
    pub time_stamp: Option<TimeStampLine>,
}

/// A receipt's time stamp as the receipt names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeStampLine {
    /// The token's time.
    pub time: Timestamp,
    /// The time-stamping authority (its URL).
    pub authority: String,
}

/// The receipt as PDF/A, from the template built into the binary. `lang` is the language the
/// receipt leads with; each label also has its translation beneath.
pub fn receipt_pdf(data: &ReceiptData, lang: Lang) -> Result<Vec<u8>, DocumentError> {
    Documents::built_in().receipt_pdf(data, lang)
}

impl Documents {
    /// The receipt as PDF/A, from this content's template. `lang` is the language the receipt
    /// leads with; each label also has its translation beneath.
    pub fn receipt_pdf(&self, data: &ReceiptData, lang: Lang) -> Result<Vec<u8>, DocumentError> {
        let meta = PdfMeta {
            ident: &data.submission_id,
            created: data.received_at,
        };
        self.render(KIND.file, &TemplateData::new(data, lang), &meta)
    }
}

/// The data as the template reads it from `/data.json`, with instants and sizes formatted
/// for each language (Typst has no time zones).
#[derive(Serialize)]
struct TemplateData<'a> {
    lang: &'static str,
    office: OfficeJson<'a>,
    reference: &'a str,
    submission_id: &'a str,
    received: Received,
    scope: &'a str,
    sequence: i64,
    submitter: Submitter<'a>,
    form: Form<'a>,
    data_sha256: &'a str,
    log_index: i64,
    attachments: Vec<Attachment<'a>>,
    /// `null` until the receipt has a time stamp.
    time_stamp: Option<TimeStampJson<'a>>,
}

#[derive(Serialize)]
struct TimeStampJson<'a> {
    time: Received,
    authority: &'a str,
}

#[derive(Serialize)]
struct OfficeJson<'a> {
    name: &'a Text,
    address: &'a Text,
    data_box: &'a str,
}

#[derive(Serialize)]
struct Received {
    /// In Europe/Prague, per language: `1. 12. 2026 21:16:09 SEČ`.
    local: Text,
    /// `UTC+01:00`.
    offset: String,
    /// `2026-12-01T20:16:09Z`.
    utc: String,
}

#[derive(Serialize)]
struct Submitter<'a> {
    name: &'a str,
    id: &'a str,
}

#[derive(Serialize)]
struct Form<'a> {
    id: &'a str,
    version: u32,
    title: &'a Text,
}

#[derive(Serialize)]
struct Attachment<'a> {
    slot: &'a str,
    file_name: &'a str,
    media_type: &'a str,
    size: u64,
    /// `102 400 B` / `102,400 B`.
    size_text: Text,
    sha256: &'a str,
}

impl<'a> TemplateData<'a> {
    fn new(d: &'a ReceiptData, lang: Lang) -> Self {
        TemplateData {
            lang: lang.code(),
            office: OfficeJson {
                name: &d.office.name,
                address: &d.office.address,
                data_box: &d.office.data_box,
            },
            reference: &d.reference,
            submission_id: &d.submission_id,
            received: received(d.received_at),
            scope: &d.scope,
            sequence: d.sequence,
            submitter: Submitter {
                name: &d.submitter_name,
                id: &d.submitter_id,
            },
            form: Form {
                id: &d.form_id,
                version: d.form_version,
                title: &d.form_title,
            },
            data_sha256: &d.data_sha256,
            log_index: d.log_index,
            attachments: d
                .attachments
                .iter()
                .map(|a| Attachment {
                    slot: &a.slot,
                    file_name: &a.file_name,
                    media_type: &a.media_type,
                    size: a.size,
                    size_text: Text::new(
                        format!("{} B", group_digits(a.size, '\u{a0}')),
                        format!("{} B", group_digits(a.size, ',')),
                    ),
                    sha256: &a.sha256,
                })
                .collect(),
            time_stamp: d.time_stamp.as_ref().map(|t| TimeStampJson {
                time: received(t.time),
                authority: &t.authority,
            }),
        }
    }
}

pub(crate) const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The instant in Europe/Prague (winter time SEČ/CET, summer time SELČ/CEST) and in UTC.
fn received(at: Timestamp) -> Received {
    let prague = TimeZone::get("Europe/Prague").expect("the bundled time zone database has Prague");
    let local = at.to_zoned(prague);
    let summer = local.offset().seconds() == 7200;
    let (zone_cs, zone_en) = if summer {
        ("SELČ", "CEST")
    } else {
        ("SEČ", "CET")
    };
    let time = format!(
        "{:02}:{:02}:{:02}",
        local.hour(),
        local.minute(),
        local.second()
    );
    let month = usize::try_from(local.month() - 1).unwrap_or(0);
    Received {
        local: Text::new(
            format!(
                "{}. {}. {} {time} {zone_cs}",
                local.day(),
                local.month(),
                local.year()
            ),
            format!(
                "{} {} {}, {time} {zone_en}",
                local.day(),
                MONTHS_EN[month],
                local.year()
            ),
        ),
        offset: utc_offset(local.offset().seconds()),
        utc: at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

/// `3600` → `UTC+01:00`.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `102400` → `102 400` (with `sep` between groups of three).
fn group_digits(n: u64, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A receipt with every field filled, as the check of the template renders it.
pub fn sample() -> ReceiptData {
    ReceiptData {
        office: OfficeData {
            name: Text::new(
                "Krajský úřad Moravskoslezského kraje",
                "Regional Office of the Moravian-Silesian Region",
            ),
            address: Text::new(
                "28. října 117, 702 18 Ostrava",
                "28. října 117, 702 18 Ostrava, Czech Republic",
            ),
            data_box: "8x6bxsd".into(),
        },
        reference: "KUMSK 12345/2026".into(),
        submission_id: "5f0c6c1e9b7a4d2f8e3b1a0c9d8e7f6a5f0c6c1e9b7a4d2f8e3b1a0c9d8e7f6a".into(),
        received_at: Timestamp::from_second(1_780_000_000).expect("a valid instant"),
        scope: "kotlikova-dotace".into(),
        sequence: 1042,
        submitter_name: "Jana Nováková".into(),
        submitter_id: "demo-jana-novakova".into(),
        form_id: "kotlikova-dotace".into(),
        form_version: 1,
        form_title: Text::new("Žádost o kotlíkovou dotaci", "Boiler grant application"),
        data_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        log_index: 20731,
        attachments: vec![
            AttachmentLine {
                slot: "Fotografie starého kotle".into(),
                file_name: "kotel-2025.jpg".into(),
                media_type: "image/jpeg".into(),
                size: 102_400,
                sha256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae".into(),
            },
            AttachmentLine {
                slot: "Smlouva o dílo".into(),
                file_name: "smlouva-o-dilo.pdf".into(),
                media_type: "application/pdf".into(),
                size: 1_234_567,
                sha256: "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9".into(),
            },
        ],
        time_stamp: Some(TimeStampLine {
            time: Timestamp::from_second(1_780_000_002).expect("a valid instant"),
            authority: "https://tsa.example.cz/tsa".into(),
        }),
    }
}

fn sample_json() -> serde_json::Value {
    serde_json::to_value(TemplateData::new(&sample(), Lang::Cs)).expect("sample data serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_by_three() {
        assert_eq!(group_digits(0, ' '), "0");
        assert_eq!(group_digits(999, ' '), "999");
        assert_eq!(group_digits(1000, ' '), "1 000");
        assert_eq!(group_digits(102_400, ','), "102,400");
        assert_eq!(group_digits(1_234_567, ' '), "1 234 567");
    }

    #[test]
    fn the_instant_is_shown_in_prague_winter_and_summer_time() {
        // 2026-12-01 20:16:09 UTC is 21:16:09 CET.
        let winter = received(Timestamp::from_second(1_796_156_169).unwrap());
        assert_eq!(winter.utc, "2026-12-01T20:16:09Z");
        assert_eq!(winter.local.cs, "1. 12. 2026 21:16:09 SEČ");
        assert_eq!(winter.local.en, "1 December 2026, 21:16:09 CET");
        assert_eq!(winter.offset, "UTC+01:00");
        // 2026-07-01 10:00:00 UTC is 12:00:00 CEST.
        let summer = received(Timestamp::from_second(1_782_900_000).unwrap());
        assert_eq!(summer.utc, "2026-07-01T10:00:00Z");
        assert_eq!(summer.local.cs, "1. 7. 2026 12:00:00 SELČ");
        assert_eq!(summer.offset, "UTC+02:00");
    }
}
