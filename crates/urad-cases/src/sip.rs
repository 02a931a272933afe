//! A closed case file as a submission information package (SIP, datový balíček SIP) for the
//! archive, after the national standard for electronic records-management systems (NSESSS,
//! Národní standard pro elektronické systémy spisové služby, Věstník MV 2017, its annexes 2
//! and 3; vyhláška č. 259/2012 Sb.).
//!
//! [`build`] is pure: it takes what the back office knows of a closed case ([`SipCase`]) and
//! returns the bytes of a ZIP; no database, no clock, no randomness, so the same input gives
//! the same bytes. Reading the case and its files from the store, and handing the package to
//! the archive, are the caller's.
//!
//! # The package
//!
//! ```text
//! mets.xml                     METS 1.x document (http://www.loc.gov/METS/)
//! komponenty/<file name>       every component (file) of every document, names made safe
//! ```
//!
//! `mets.xml` has, in the order METS prescribes:
//!
//! - the root `mets:mets` with `OBJID` ([`package_id`]), the `LABEL` NSESSS gives for the
//!   purpose ([`SipPurpose`]), and the namespaces `mets`, `nsesss`
//!   (`http://www.mvcr.cz/nsesss/v3`), `xlink`, `xsi` and `premis`;
//! - `mets:metsHdr` with `CREATEDATE` and `LASTMODDATE` (the export), an agent of `TYPE`
//!   `ORGANIZATION` (the originator, with its IČO as a note) and one of `TYPE` `INDIVIDUAL`
//!   (who exported), both `ROLE` `CREATOR`;
//! - one `mets:dmdSec` whose `mets:mdWrap` (`MDTYPE="OTHER" OTHERMDTYPE="NSESSS"
//!   MDTYPEVERSION="3.0" MIMETYPE="text/xml"`) holds one `nsesss:Spis`:
//!   - `EvidencniUdaje`: `Identifikace/Identifikator` (the reference number, with `zdroj`),
//!     `Popis/Nazev` (the title), `Evidence` (`EvidencniCislo` = the reference number,
//!     spisová značka; `UrceneCasoveObdobi/Rok`; `NazevEvidenceDokumentu`), `Puvod/
//!     DatumVytvoreni` (opened), `Trideni` (`JednoduchySpisovyZnak`, `PlneUrcenySpisovyZnak`
//!     = the plan class, and `MaterskaEntita/VecnaSkupina` with the class's code, name and
//!     retention schedule), `VyrizeniUzavreni` (`Datum` = closed, `Zpusob`, `Oduvodneni` when
//!     the way is "jiný způsob", `Zpracovatel` = the office), `Vyrazovani` (`SkartacniRezim`:
//!     `Identifikator`, `Nazev`, `Oduvodneni`, `SkartacniZnak` A/V/S, `SkartacniLhuta` in
//!     years, `SpousteciUdalost`; `DataceVyrazeni`: `RokSpousteciUdalosti` = the year closed,
//!     `RokSkartacniOperace` = that year + 1 + the period, [`Retention::disposal_year`]) and
//!     `Manipulace` (`AnalogovyDokument` = ne, `DatumOtevreni`, `DatumUzavreni`);
//!   - `Dokumenty/Dokument`, each with `EvidencniUdaje` (`Identifikace`, `Popis/Nazev`,
//!     `Puvod` as `VlastniDokument` with `DatumVytvoreni` and the office as `Autor`, or as
//!     `DorucenyDokument` with `DatumDoruceni`; `Trideni`; `Vyrazovani/SkartacniRezim`;
//!     `Manipulace/AnalogovyDokument`) and `Komponenty/Komponenta` (attributes `ID`,
//!     `poradi`, `druh`, `verze`, `forma_uchovani`; `EvidencniUdaje` with `Identifikace`,
//!     `Popis/Nazev` = the original file name, and `Trideni`).
//!
//!   Dates are `xs:date` in the Prague calendar with the instant in the `datum` attribute
//!   (ISO 8601 with the Europe/Prague offset, `2026-03-10T14:05:00+01:00`).
//! - one `mets:amdSec` (`ID="amd-spis"`) with a `mets:digiprovMD` per event, each a PREMIS 3
//!   event (`MDTYPE="PREMIS:EVENT"`, `http://www.loc.gov/premis/v3`): first the export
//!   itself (`eventType` `packing`, when, and who as the linking agent with the role
//!   `implementer`), then the case's own history ([`SipEvent`], `eventType` `case history`, a
//!   local term);
//! - `mets:fileSec` with one `mets:fileGrp` and a `mets:file` per component: `ID`, `DMDID`
//!   (the `nsesss:Komponenta`'s `ID`), `MIMETYPE`, `SIZE`, `CREATED` (the document's date),
//!   `CHECKSUM` (SHA-256 of the bytes, lower-case hex) with `CHECKSUMTYPE="SHA-256"`, and one
//!   `mets:FLocat` (`LOCTYPE="URL" xlink:type="simple" xlink:href="komponenty/<file name>"`);
//! - one `mets:structMap` of `mets:div`s from the plan class down: `věcná skupina` → `spis`
//!   (with `ADMID="amd-spis"`) → `dokument` → `komponenta` with its `mets:fptr`; each div's
//!   `DMDID` is the `ID` of its NSESSS entity, as NSESSS annex 3 links them. In NSESSS the
//!   format and fixity of a component are those of its `mets:file`, linked by `DMDID`; the
//!   `nsesss:Komponenta` itself carries neither.
//!
//! # What a real archive validation would additionally need
//!
//! This is a faithful subset, not a package that passes the National Archives' SIP validator
//! or the official XSDs (`nsesss.xsd`, `mets.xsd`) unchanged. Element names and their order
//! follow the 2017 schema as far as public SIP examples and the validator's published rules
//! show it; the package has not been validated against the XSD here (the schema is not in the
//! repository and is not downloaded). Known gaps:
//!
//! - **Transaction log.** NSESSS wants one `amdSec` per entity (plan, class, case file, each
//!   document, each component), each with exactly one `digiprovMD` of `OTHERMDTYPE="TP"`
//!   holding a `tp:TransakcniLogObjektu` (NSESSS annex 6, namespace
//!   `http://nsess.public.cz/erms_trans/v_01_01`), and an `ADMID` on every `div`; its
//!   `xsi:schemaLocation` names that schema too. Here the events are PREMIS events in one
//!   `amdSec` of the case file instead.
//! - **The filing plan.** Only the case's own plan class is given, as `VecnaSkupina` with its
//!   code, name and schedule; the plan (`SpisovyPlan`, with its validity and issuer), parent
//!   classes of a nested class, and the class's `Puvod` and `Manipulace` are not produced.
//! - **Subjects.** The office appears by name and IČO only (no `SidloOrganizace`, no
//!   electronic contact); the person who settled the case, the authors of own documents and
//!   the senders (`Odesilatel`) of received ones are not produced.
//! - **Documents.** No `Evidence/EvidencniCislo` (číslo jednací), `Vyrizeni`, `Jazyky`,
//!   `Pristupnost`, `TypDokumentu` or `DataceVyrazeni` of their own; they inherit the case
//!   file's schedule, so the case's sign is the highest of its documents' as NSESSS requires.
//! - **Components.** `forma_uchovani` is `originál ve výstupním datovém formátu` when the
//!   caller says the file is in an output data format (PDF/A …) and `originál` otherwise;
//!   conversion to output data formats and its clause (doložka) are not done here, and
//!   signatures, seals and time stamps are not described (`CasOvereni`, `PosuzovanyOkamzik`).
//!   `poradi` is the order given, `druh` is `hlavní dokument` for the first and `příloha` for
//!   the rest, `verze` is 1.
//! - **Version of the standard.** This is the 2017 standard (SIP version 3, namespace
//!   `…/nsesss/v3`); a newer edition (2024, namespace `…/nsesss/v4`) exists, so which one the
//!   receiving archive accepts must be checked before the first hand-off.
//! - **Size.** The package is built in memory.
//!
//! File names in `komponenty/` are made safe: only the last path segment is kept (no `..`,
//! no absolute paths, no drive letters), Czech letters lose their diacritics, anything but
//! ASCII letters, digits, `.`, `-` and `_` becomes `_`, leading dots go, reserved Windows names
//! get a `_`, and names equal but for case get `-2`, `-3` … before the extension. The
//! original name stays in `nsesss:Komponenta/EvidencniUdaje/Popis/Nazev` and in the `LABEL`
//! of the component's `div`.

use crate::agenda::{Retention, RetentionSign};
use crate::deadline::OFFICE_TIME_ZONE;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Write;

#[cfg(test)]
mod tests;

pub const METS_NS: &str = "http://www.loc.gov/METS/";
pub const NSESSS_NS: &str = "http://www.mvcr.cz/nsesss/v3";
pub const PREMIS_NS: &str = "http://www.loc.gov/premis/v3";
pub const XLINK_NS: &str = "http://www.w3.org/1999/xlink";
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Where the schemas are; the National Archives expect the transaction log's schema here too
/// (see the module documentation).
const SCHEMA_LOCATION: &str =
    "http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/mets.xsd \
http://www.mvcr.cz/nsesss/v3 http://www.mvcr.cz/nsesss/v3/nsesss.xsd \
http://www.loc.gov/premis/v3 http://www.loc.gov/standards/premis/premis.xsd";

/// The METS document's name in the ZIP.
pub const METS_FILE: &str = "mets.xml";
/// The folder of the components (komponenty) in the ZIP.
pub const COMPONENTS_DIR: &str = "komponenty";
/// The name of the records system, as `NazevEvidenceDokumentu` and the start of `zdroj`.
const SYSTEM: &str = "urad";

/// A closed case file (spis) and what the archive needs of it.
#[derive(Clone, Debug)]
pub struct SipCase {
    /// The reference number (spisová značka), e.g. `KUMSK/1234/2026`.
    pub reference: String,
    /// What the case is about (věc).
    pub title: String,
    /// The class of the filing and retention plan the agenda files under.
    pub agenda: SipPlanClass,
    /// The office whose records these are (původce).
    pub originator: SipOriginator,
    /// UTC Unix seconds.
    pub opened_at: i64,
    /// UTC Unix seconds; `None` while the case is open, which [`build`] refuses.
    pub closed_at: Option<i64>,
    /// How the case was settled (způsob vyřízení).
    pub settled_by: Settlement,
    pub retention: Retention,
    /// In the order they are to be presented (the first is the first in the structMap).
    pub documents: Vec<SipDocument>,
    /// The case's history; listed in time order (ties keep the given order).
    pub events: Vec<SipEvent>,
}

/// A class of the filing plan (věcná skupina): the agenda's plan class.
#[derive(Clone, Debug)]
pub struct SipPlanClass {
    /// The file code (spisový znak), e.g. `101.2`.
    pub code: String,
    pub name: String,
}

/// The originator (původce): the office.
#[derive(Clone, Debug)]
pub struct SipOriginator {
    pub name: String,
    /// The office's IČO (identification number of the organisation).
    pub ico: String,
}

/// How the case was settled, in the terms of NSESSS (`VyrizeniUzavreni/Zpusob`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// vyřízení dokumentem: by a document (a decision, a reply).
    Document,
    /// postoupení: handed over to the competent authority.
    Forwarded,
    /// vzetí na vědomí: taken note of.
    Noted,
    /// jiný způsob, with the reason (odůvodnění), which must not be empty.
    Other(String),
}

/// A document (dokument) of the case file.
#[derive(Clone, Debug)]
pub struct SipDocument {
    /// The document's identifier in urad (unique in the case file).
    pub id: String,
    pub title: String,
    /// When it was made (own documents) or received (received ones); UTC Unix seconds.
    pub created_at: i64,
    pub origin: DocumentOrigin,
    /// Its files, the main one first; at least one (the documents are digital).
    pub components: Vec<SipComponent>,
}

/// Whether the office made the document or received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentOrigin {
    /// vlastní dokument: made by the office (a decision, a completion request).
    Own,
    /// doručený dokument: received (a submission).
    Received,
}

/// A component (komponenta): one file of a document.
#[derive(Clone, Debug)]
pub struct SipComponent {
    /// The name it was filed under; made safe for the ZIP, kept as it was in the metadata.
    pub file_name: String,
    /// The media type, e.g. `application/pdf`.
    pub media_type: String,
    pub bytes: Vec<u8>,
    /// The file is in an output data format for archiving (výstupní datový formát, e.g.
    /// PDF/A), as urad's decisions are.
    pub output_format: bool,
}

/// One event of the case's history.
#[derive(Clone, Debug)]
pub struct SipEvent {
    /// UTC Unix seconds.
    pub at: i64,
    /// What happened, in words.
    pub what: String,
}

/// Why the package goes to the archive; NSESSS gives the root's `LABEL` for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SipPurpose {
    /// Handing records over to the archive for permanent keeping (předávání do archivu).
    Transfer,
    /// The disposal procedure, in which the archive selects what it keeps (skartační
    /// řízení).
    DisposalProcedure,
}

impl SipPurpose {
    fn label(self) -> &'static str {
        match self {
            SipPurpose::Transfer => {
                "Datový balíček pro předávání dokumentů a jejich metadat do archivu"
            }
            SipPurpose::DisposalProcedure => "Datový balíček pro provedení skartačního řízení",
        }
    }
}

/// Why a package could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    /// Only closed case files are handed to the archive (their retention period runs from
    /// the closure).
    #[error("case {0} is not closed; only closed case files go to the archive")]
    NotClosed(String),
    #[error("case {0} was closed before it was opened")]
    ClosedBeforeOpened(String),
    /// A required text is empty (or only white space): the field's name.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// NSESSS has no package for a case file without documents.
    #[error("case {0} has no documents")]
    NoDocuments(String),
    /// A digital document without files cannot be archived.
    #[error("document {0} has no components")]
    NoComponents(String),
    #[error("two documents have the id {0}")]
    DuplicateDocument(String),
    #[error("instant {0} is outside the range of supported dates")]
    InstantOutOfRange(i64),
    /// Falling back to UTC would shift dates around midnight, so refuse instead.
    #[error("the time zone database has no Europe/Prague")]
    NoTimeZone,
    #[error("the ZIP could not be written: {0}")]
    Zip(String),
}

/// The package as a ZIP for handing over to the archive ([`SipPurpose::Transfer`]), exported
/// by `exported_by` (a person's name) at `at` (UTC Unix seconds).
pub fn build(case: &SipCase, exported_by: &str, at: i64) -> Result<Vec<u8>, SipError> {
    build_for(case, SipPurpose::Transfer, exported_by, at)
}

/// [`build`] for either purpose.
pub fn build_for(
    case: &SipCase,
    purpose: SipPurpose,
    exported_by: &str,
    at: i64,
) -> Result<Vec<u8>, SipError> {
    let closed_at = check(case, exported_by)?;
    let tz = TimeZone::get(OFFICE_TIME_ZONE).map_err(|_| SipError::NoTimeZone)?;
    let files = place_files(case);
    let mets = mets_xml(case, closed_at, purpose, exported_by, at, &files, &tz)?;
    let mut entries: Vec<(String, &[u8])> = vec![(METS_FILE.to_string(), mets.as_bytes())];
    for (document, names) in case.documents.iter().zip(&files) {
        for (component, name) in document.components.iter().zip(names) {
            entries.push((format!("{COMPONENTS_DIR}/{name}"), &component.bytes));
        }
    }
    write_zip(&entries, &zoned(at, &tz)?)
}

/// The package's identifier (`OBJID`), also a good name for the ZIP (`<id>.zip`): the
/// reference number in safe characters and the Prague time of the export,
/// `SIP-KUMSK-1234-2026-20270115T093000`.
pub fn package_id(case: &SipCase, at: i64) -> Result<String, SipError> {
    let tz = TimeZone::get(OFFICE_TIME_ZONE).map_err(|_| SipError::NoTimeZone)?;
    let when = zoned(at, &tz)?;
    let mut reference = String::new();
    for c in case.reference.chars().map(fold_diacritics) {
        if c.is_ascii_alphanumeric() {
            reference.push(c);
        } else if !reference.ends_with('-') {
            reference.push('-');
        }
    }
    let reference = reference.trim_matches('-');
    Ok(format!(
        "SIP-{}-{}",
        if reference.is_empty() {
            "spis"
        } else {
            reference
        },
        when.strftime("%Y%m%dT%H%M%S")
    ))
}

/// Checks the input; the instant the case was closed.
fn check(case: &SipCase, exported_by: &str) -> Result<i64, SipError> {
    let closed_at = case
        .closed_at
        .ok_or_else(|| SipError::NotClosed(case.reference.clone()))?;
    for (field, value) in [
        ("reference", case.reference.as_str()),
        ("title", case.title.as_str()),
        ("agenda.code", case.agenda.code.as_str()),
        ("agenda.name", case.agenda.name.as_str()),
        ("originator.name", case.originator.name.as_str()),
        ("originator.ico", case.originator.ico.as_str()),
        ("exported_by", exported_by),
    ] {
        if value.trim().is_empty() {
            return Err(SipError::Empty(field));
        }
    }
    if let Settlement::Other(reason) = &case.settled_by {
        if reason.trim().is_empty() {
            return Err(SipError::Empty("settled_by"));
        }
    }
    if closed_at < case.opened_at {
        return Err(SipError::ClosedBeforeOpened(case.reference.clone()));
    }
    if case.documents.is_empty() {
        return Err(SipError::NoDocuments(case.reference.clone()));
    }
    let mut ids = BTreeSet::new();
    for document in &case.documents {
        if document.id.trim().is_empty() {
            return Err(SipError::Empty("document.id"));
        }
        if document.title.trim().is_empty() {
            return Err(SipError::Empty("document.title"));
        }
        if !ids.insert(document.id.as_str()) {
            return Err(SipError::DuplicateDocument(document.id.clone()));
        }
        if document.components.is_empty() {
            return Err(SipError::NoComponents(document.id.clone()));
        }
        for component in &document.components {
            if component.media_type.trim().is_empty() {
                return Err(SipError::Empty("component.media_type"));
            }
        }
    }
    Ok(closed_at)
}

/// The safe, unique name in `komponenty/` of every component, by document.
fn place_files(case: &SipCase) -> Vec<Vec<String>> {
    let mut taken = BTreeSet::new();
    case.documents
        .iter()
        .map(|document| {
            document
                .components
                .iter()
                .map(|component| unique_name(&safe_file_name(&component.file_name), &mut taken))
                .collect()
        })
        .collect()
}

/// Windows cannot create files of these names, whatever the extension.
const RESERVED_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A longer name is cut (keeping the extension); archives and old file systems choke on long
/// paths.
const MAX_NAME_CHARS: usize = 100;

/// A file name that is a single harmless path segment of ASCII letters, digits, `.`, `-` and
/// `_`.
fn safe_file_name(name: &str) -> String {
    // Only the last segment: `../../etc/passwd`, `C:\x\y.pdf`, `/abs.pdf` keep `passwd`,
    // `y.pdf`, `abs.pdf`.
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let last = last.rsplit(':').next().unwrap_or("");
    let mut out = String::with_capacity(last.len());
    for c in last.chars().map(fold_diacritics) {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            c
        } else {
            '_'
        };
        // One `_` for a run of them, so `a  &  b` does not become `a_____b`.
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    // No hidden files, no `.` or `..`, nothing Windows would silently trim.
    let out = out
        .trim_start_matches(['.', '_'])
        .trim_end_matches(['.', '_']);
    let mut out = if out.is_empty() {
        "soubor".to_string()
    } else {
        out.to_string()
    };
    // Windows reserves `CON`, `CON.txt` and `CON.tar.gz` alike: the part before the first dot.
    let (base, rest) = out.split_at(out.find('.').unwrap_or(out.len()));
    if RESERVED_NAMES.contains(&base.to_ascii_uppercase().as_str()) {
        out = format!("{base}_{rest}");
    }
    if out.chars().count() > MAX_NAME_CHARS {
        let (stem, extension) = split_extension(&out);
        let keep = MAX_NAME_CHARS.saturating_sub(extension.len());
        out = format!("{}{extension}", &stem[..keep.min(stem.len())]);
    }
    out
}

/// `name` or, when a name equal to it but for case is taken, `stem-2.ext`, `stem-3.ext` …
fn unique_name(name: &str, taken: &mut BTreeSet<String>) -> String {
    let (stem, extension) = split_extension(name);
    let mut candidate = name.to_string();
    let mut n = 2u32;
    while !taken.insert(candidate.to_ascii_lowercase()) {
        candidate = format!("{stem}-{n}{extension}");
        n += 1;
    }
    candidate
}

/// `report.final.pdf` → (`report.final`, `.pdf`); a name without a dot, or a long "extension",
/// has none. The name is ASCII.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 10 => name.split_at(i),
        _ => (name, ""),
    }
}

/// Czech (and Slovak) letters without their diacritics; any other character as it is.
fn fold_diacritics(c: char) -> char {
    match c {
        'á' | 'ä' => 'a',
        'Á' | 'Ä' => 'A',
        'č' => 'c',
        'Č' => 'C',
        'ď' => 'd',
        'Ď' => 'D',
        'é' | 'ě' => 'e',
        'É' | 'Ě' => 'E',
        'í' => 'i',
        'Í' => 'I',
        'ĺ' | 'ľ' => 'l',
        'Ĺ' | 'Ľ' => 'L',
        'ň' => 'n',
        'Ň' => 'N',
        'ó' | 'ô' | 'ö' => 'o',
        'Ó' | 'Ô' | 'Ö' => 'O',
        'ř' | 'ŕ' => 'r',
        'Ř' | 'Ŕ' => 'R',
        'š' => 's',
        'Š' => 'S',
        'ť' => 't',
        'Ť' => 'T',
        'ú' | 'ů' | 'ü' => 'u',
        'Ú' | 'Ů' | 'Ü' => 'U',
        'ý' => 'y',
        'Ý' => 'Y',
        'ž' => 'z',
        'Ž' => 'Z',
        c => c,
    }
}

/// `at` in Prague.
fn zoned(at: i64, tz: &TimeZone) -> Result<Zoned, SipError> {
    Ok(Timestamp::from_second(at)
        .map_err(|_| SipError::InstantOutOfRange(at))?
        .to_zoned(tz.clone()))
}

/// ISO 8601 with the offset: `2026-03-10T14:05:00+01:00`.
fn iso_datetime(when: &Zoned) -> String {
    when.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn iso_date(when: &Zoned) -> String {
    when.strftime("%Y-%m-%d").to_string()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

fn sign_letter(sign: RetentionSign) -> &'static str {
    match sign {
        RetentionSign::Archive => "A",
        RetentionSign::Selection => "V",
        RetentionSign::Disposal => "S",
    }
}

/// Everything `mets.xml` is made of, computed once.
struct Facts<'a> {
    case: &'a SipCase,
    tz: &'a TimeZone,
    /// `zdroj` of every `nsesss:Identifikator`: which system's identifier it is.
    source: String,
    opened: Zoned,
    closed: Zoned,
    disposal_year: i16,
}

fn mets_xml(
    case: &SipCase,
    closed_at: i64,
    purpose: SipPurpose,
    exported_by: &str,
    at: i64,
    files: &[Vec<String>],
    tz: &TimeZone,
) -> Result<String, SipError> {
    let closed = zoned(closed_at, tz)?;
    let closed_year = closed.year();
    // NSESSS: the case file's year of disposal is the later of its own (closure + 1 + period)
    // and that of any of its documents (made or received + 1 + period).
    let mut disposal_year = case.retention.disposal_year(closed_year);
    for document in &case.documents {
        let year = zoned(document.created_at, tz)?.year();
        disposal_year = disposal_year.max(case.retention.disposal_year(year));
    }
    let facts = Facts {
        case,
        tz,
        source: format!("{SYSTEM}.{}", case.originator.ico.trim()),
        opened: zoned(case.opened_at, tz)?,
        closed,
        disposal_year,
    };
    let exported = iso_datetime(&zoned(at, tz)?);
    let id = package_id(case, at)?;

    let mut x = Xml::new();
    x.start(
        "mets:mets",
        &[
            ("xmlns:mets", METS_NS),
            ("xmlns:nsesss", NSESSS_NS),
            ("xmlns:premis", PREMIS_NS),
            ("xmlns:xlink", XLINK_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", SCHEMA_LOCATION),
            ("OBJID", &id),
            ("LABEL", purpose.label()),
        ],
    );
    x.start(
        "mets:metsHdr",
        &[("CREATEDATE", &exported), ("LASTMODDATE", &exported)],
    );
    x.start(
        "mets:agent",
        &[
            ("ID", "agent-originator"),
            ("ROLE", "CREATOR"),
            ("TYPE", "ORGANIZATION"),
        ],
    );
    x.leaf("mets:name", &[], &case.originator.name);
    x.leaf("mets:note", &[], &format!("IČO {}", case.originator.ico));
    x.end();
    x.start(
        "mets:agent",
        &[
            ("ID", "agent-exporter"),
            ("ROLE", "CREATOR"),
            ("TYPE", "INDIVIDUAL"),
        ],
    );
    x.leaf("mets:name", &[], exported_by);
    x.end();
    x.end(); // metsHdr

    x.start("mets:dmdSec", &[("ID", "dmd-spis")]);
    x.start(
        "mets:mdWrap",
        &[
            ("MDTYPE", "OTHER"),
            ("OTHERMDTYPE", "NSESSS"),
            ("MDTYPEVERSION", "3.0"),
            ("MIMETYPE", "text/xml"),
        ],
    );
    x.start("mets:xmlData", &[]);
    spis(&mut x, &facts)?;
    x.end(); // xmlData
    x.end(); // mdWrap
    x.end(); // dmdSec

    provenance(&mut x, &facts, &id, exported_by, &exported)?;
    file_sec(&mut x, &facts, files)?;
    struct_map(&mut x, &facts, files);
    x.end(); // mets
    Ok(x.finish())
}

fn spis(x: &mut Xml, f: &Facts) -> Result<(), SipError> {
    let case = f.case;
    x.start("nsesss:Spis", &[("ID", "spis")]);
    x.start("nsesss:EvidencniUdaje", &[]);
    identification(x, f, &case.reference);
    x.start("nsesss:Popis", &[]);
    x.leaf("nsesss:Nazev", &[], &case.title);
    x.end();
    x.start("nsesss:Evidence", &[]);
    x.leaf("nsesss:EvidencniCislo", &[], &case.reference);
    x.start("nsesss:UrceneCasoveObdobi", &[]);
    x.leaf("nsesss:Rok", &[], &f.opened.year().to_string());
    x.end();
    x.leaf("nsesss:NazevEvidenceDokumentu", &[], SYSTEM);
    x.end(); // Evidence
    x.start("nsesss:Puvod", &[]);
    dated(x, "nsesss:DatumVytvoreni", &f.opened);
    x.end();
    x.start("nsesss:Trideni", &[]);
    file_code(x, f);
    x.start("nsesss:MaterskaEntita", &[]);
    x.start("nsesss:VecnaSkupina", &[("ID", "vecna-skupina")]);
    x.start("nsesss:EvidencniUdaje", &[]);
    identification(x, f, &case.agenda.code);
    x.start("nsesss:Popis", &[]);
    x.leaf("nsesss:Nazev", &[], &case.agenda.name);
    x.end();
    x.start("nsesss:Trideni", &[]);
    file_code(x, f);
    x.end();
    x.start("nsesss:Vyrazovani", &[]);
    schedule(x, f);
    x.end();
    x.end(); // EvidencniUdaje
    x.end(); // VecnaSkupina
    x.end(); // MaterskaEntita
    x.end(); // Trideni

    x.start("nsesss:VyrizeniUzavreni", &[]);
    dated(x, "nsesss:Datum", &f.closed);
    let (way, reason) = match &case.settled_by {
        Settlement::Document => ("vyřízení dokumentem", None),
        Settlement::Forwarded => ("postoupení", None),
        Settlement::Noted => ("vzetí na vědomí", None),
        Settlement::Other(reason) => ("jiný způsob", Some(reason.as_str())),
    };
    x.leaf("nsesss:Zpusob", &[], way);
    if let Some(reason) = reason {
        x.leaf("nsesss:Oduvodneni", &[], reason);
    }
    x.start("nsesss:Zpracovatel", &[]);
    office(x, f);
    x.end();
    x.end(); // VyrizeniUzavreni

    x.start("nsesss:Vyrazovani", &[]);
    schedule(x, f);
    x.start("nsesss:DataceVyrazeni", &[]);
    x.leaf(
        "nsesss:RokSpousteciUdalosti",
        &[],
        &f.closed.year().to_string(),
    );
    x.leaf(
        "nsesss:RokSkartacniOperace",
        &[],
        &f.disposal_year.to_string(),
    );
    x.end();
    x.end(); // Vyrazovani

    x.start("nsesss:Manipulace", &[]);
    x.leaf("nsesss:AnalogovyDokument", &[], "ne");
    dated(x, "nsesss:DatumOtevreni", &f.opened);
    dated(x, "nsesss:DatumUzavreni", &f.closed);
    x.end();
    x.end(); // EvidencniUdaje

    x.start("nsesss:Dokumenty", &[]);
    for (d, document) in case.documents.iter().enumerate() {
        dokument(x, f, d + 1, document)?;
    }
    x.end();
    x.end(); // Spis
    Ok(())
}

fn dokument(x: &mut Xml, f: &Facts, d: usize, document: &SipDocument) -> Result<(), SipError> {
    let created = zoned(document.created_at, f.tz)?;
    x.start("nsesss:Dokument", &[("ID", &format!("dokument-{d}"))]);
    x.start("nsesss:EvidencniUdaje", &[]);
    identification(x, f, &document.id);
    x.start("nsesss:Popis", &[]);
    x.leaf("nsesss:Nazev", &[], &document.title);
    x.end();
    x.start("nsesss:Puvod", &[]);
    match document.origin {
        DocumentOrigin::Own => {
            x.start("nsesss:VlastniDokument", &[]);
            dated(x, "nsesss:DatumVytvoreni", &created);
            x.start("nsesss:Autor", &[]);
            office(x, f);
            x.end();
            x.end();
        }
        DocumentOrigin::Received => {
            x.start("nsesss:DorucenyDokument", &[]);
            dated(x, "nsesss:DatumDoruceni", &created);
            x.end();
        }
    }
    x.end(); // Puvod
    x.start("nsesss:Trideni", &[]);
    file_code(x, f);
    x.end();
    x.start("nsesss:Vyrazovani", &[]);
    schedule(x, f);
    x.end();
    x.start("nsesss:Manipulace", &[]);
    x.leaf("nsesss:AnalogovyDokument", &[], "ne");
    x.end();
    x.end(); // EvidencniUdaje

    x.start("nsesss:Komponenty", &[]);
    for (c, component) in document.components.iter().enumerate() {
        let order = (c + 1).to_string();
        let kind = if c == 0 {
            "hlavní dokument"
        } else {
            "příloha"
        };
        let form = if component.output_format {
            "originál ve výstupním datovém formátu"
        } else {
            "originál"
        };
        x.start(
            "nsesss:Komponenta",
            &[
                ("ID", &format!("komponenta-{d}-{}", c + 1)),
                ("poradi", &order),
                ("druh", kind),
                ("verze", "1"),
                ("forma_uchovani", form),
            ],
        );
        x.start("nsesss:EvidencniUdaje", &[]);
        identification(x, f, &format!("{}/{}", document.id, c + 1));
        x.start("nsesss:Popis", &[]);
        x.leaf("nsesss:Nazev", &[], &component.file_name);
        x.end();
        x.start("nsesss:Trideni", &[]);
        file_code(x, f);
        x.end();
        x.end(); // EvidencniUdaje
        x.end(); // Komponenta
    }
    x.end(); // Komponenty
    x.end(); // Dokument
    Ok(())
}

fn identification(x: &mut Xml, f: &Facts, value: &str) {
    x.start("nsesss:Identifikace", &[]);
    x.leaf("nsesss:Identifikator", &[("zdroj", &f.source)], value);
    x.end();
}

/// The plan class's code, both as the simple and the fully qualified file code (the class
/// is given without its parents).
fn file_code(x: &mut Xml, f: &Facts) {
    x.leaf("nsesss:JednoduchySpisovyZnak", &[], &f.case.agenda.code);
    x.leaf("nsesss:PlneUrcenySpisovyZnak", &[], &f.case.agenda.code);
}

/// The retention schedule (skartační režim): `V 5` as sign V, 5 years, from the closure.
fn schedule(x: &mut Xml, f: &Facts) {
    let retention = f.case.retention;
    let code = retention.code();
    x.start("nsesss:SkartacniRezim", &[]);
    x.leaf("nsesss:Identifikator", &[("zdroj", &f.source)], &code);
    x.leaf("nsesss:Nazev", &[], &format!("Skartační režim {code}"));
    x.leaf("nsesss:Oduvodneni", &[], "Spisový a skartační plán původce");
    x.leaf("nsesss:SkartacniZnak", &[], sign_letter(retention.sign));
    x.leaf("nsesss:SkartacniLhuta", &[], &retention.years.to_string());
    x.leaf("nsesss:SpousteciUdalost", &[], "uzavření spisu");
    x.end();
}

/// The office as a subject (subjekt): its IČO and name.
fn office(x: &mut Xml, f: &Facts) {
    x.start("nsesss:Subjekt", &[]);
    x.leaf(
        "nsesss:IdentifikatorOrganizace",
        &[("zdroj", "IČO")],
        &f.case.originator.ico,
    );
    x.leaf("nsesss:NazevOrganizace", &[], &f.case.originator.name);
    x.end();
}

/// A date element: the Prague date as the content, the instant in `datum`.
fn dated(x: &mut Xml, name: &'static str, when: &Zoned) {
    x.leaf(name, &[("datum", &iso_datetime(when))], &iso_date(when));
}

fn provenance(
    x: &mut Xml,
    f: &Facts,
    package: &str,
    exported_by: &str,
    exported: &str,
) -> Result<(), SipError> {
    x.start("mets:amdSec", &[("ID", "amd-spis")]);
    premis_event(
        x,
        "event-export",
        &PremisEvent {
            id: &format!("{package}/export"),
            kind: "packing",
            at: exported,
            detail: &format!(
                "Export spisu {} jako datového balíčku SIP podle NSESSS",
                f.case.reference
            ),
            agent: Some(exported_by),
            object: &f.case.reference,
            source: &f.source,
        },
    );
    let mut events: Vec<&SipEvent> = f.case.events.iter().collect();
    events.sort_by_key(|e| e.at);
    for (i, event) in events.into_iter().enumerate() {
        let at = iso_datetime(&zoned(event.at, f.tz)?);
        premis_event(
            x,
            &format!("event-{}", i + 1),
            &PremisEvent {
                id: &format!("{}/{}", f.case.reference, i + 1),
                kind: "case history",
                at: &at,
                detail: &event.what,
                agent: None,
                object: &f.case.reference,
                source: &f.source,
            },
        );
    }
    x.end();
    Ok(())
}

struct PremisEvent<'a> {
    id: &'a str,
    kind: &'a str,
    at: &'a str,
    detail: &'a str,
    agent: Option<&'a str>,
    /// The case file's identifier (`nsesss:Identifikator`), with its `zdroj` as the type.
    object: &'a str,
    source: &'a str,
}

fn premis_event(x: &mut Xml, md_id: &str, e: &PremisEvent) {
    x.start("mets:digiprovMD", &[("ID", md_id)]);
    x.start(
        "mets:mdWrap",
        &[
            ("MDTYPE", "PREMIS:EVENT"),
            ("MDTYPEVERSION", "3.0"),
            ("MIMETYPE", "text/xml"),
        ],
    );
    x.start("mets:xmlData", &[]);
    x.start("premis:event", &[]);
    x.start("premis:eventIdentifier", &[]);
    x.leaf("premis:eventIdentifierType", &[], e.source);
    x.leaf("premis:eventIdentifierValue", &[], e.id);
    x.end();
    x.leaf("premis:eventType", &[], e.kind);
    x.leaf("premis:eventDateTime", &[], e.at);
    x.start("premis:eventDetailInformation", &[]);
    x.leaf("premis:eventDetail", &[], e.detail);
    x.end();
    if let Some(agent) = e.agent {
        x.start("premis:linkingAgentIdentifier", &[]);
        x.leaf("premis:linkingAgentIdentifierType", &[], e.source);
        x.leaf("premis:linkingAgentIdentifierValue", &[], agent);
        x.leaf("premis:linkingAgentRole", &[], "implementer");
        x.end();
    }
    x.start("premis:linkingObjectIdentifier", &[]);
    x.leaf("premis:linkingObjectIdentifierType", &[], e.source);
    x.leaf("premis:linkingObjectIdentifierValue", &[], e.object);
    x.end();
    x.end(); // event
    x.end(); // xmlData
    x.end(); // mdWrap
    x.end(); // digiprovMD
}

fn file_sec(x: &mut Xml, f: &Facts, files: &[Vec<String>]) -> Result<(), SipError> {
    x.start("mets:fileSec", &[]);
    x.start("mets:fileGrp", &[("ID", "komponenty"), ("USE", "original")]);
    for (d, (document, names)) in f.case.documents.iter().zip(files).enumerate() {
        let created = iso_datetime(&zoned(document.created_at, f.tz)?);
        for (c, (component, name)) in document.components.iter().zip(names).enumerate() {
            let (d, c) = (d + 1, c + 1);
            x.start(
                "mets:file",
                &[
                    ("ID", &format!("soubor-{d}-{c}")),
                    ("DMDID", &format!("komponenta-{d}-{c}")),
                    ("MIMETYPE", &component.media_type),
                    ("SIZE", &component.bytes.len().to_string()),
                    ("CREATED", &created),
                    ("CHECKSUM", &hex(&Sha256::digest(&component.bytes))),
                    ("CHECKSUMTYPE", "SHA-256"),
                ],
            );
            x.empty(
                "mets:FLocat",
                &[
                    ("LOCTYPE", "URL"),
                    ("xlink:type", "simple"),
                    ("xlink:href", &format!("{COMPONENTS_DIR}/{name}")),
                ],
            );
            x.end();
        }
    }
    x.end(); // fileGrp
    x.end(); // fileSec
    Ok(())
}

fn struct_map(x: &mut Xml, f: &Facts, files: &[Vec<String>]) {
    let case = f.case;
    x.start("mets:structMap", &[("TYPE", "LOGICAL")]);
    let class = format!("{} {}", case.agenda.code, case.agenda.name);
    x.start(
        "mets:div",
        &[
            ("TYPE", "věcná skupina"),
            ("DMDID", "vecna-skupina"),
            ("LABEL", &class),
        ],
    );
    x.start(
        "mets:div",
        &[
            ("TYPE", "spis"),
            ("DMDID", "spis"),
            ("ADMID", "amd-spis"),
            ("LABEL", &case.title),
        ],
    );
    for (d, (document, names)) in case.documents.iter().zip(files).enumerate() {
        let d = d + 1;
        x.start(
            "mets:div",
            &[
                ("TYPE", "dokument"),
                ("DMDID", &format!("dokument-{d}")),
                ("ORDER", &d.to_string()),
                ("LABEL", &document.title),
            ],
        );
        for (c, (component, _name)) in document.components.iter().zip(names).enumerate() {
            let c = c + 1;
            x.start(
                "mets:div",
                &[
                    ("TYPE", "komponenta"),
                    ("DMDID", &format!("komponenta-{d}-{c}")),
                    ("ORDER", &c.to_string()),
                    ("LABEL", &component.file_name),
                ],
            );
            x.empty("mets:fptr", &[("FILEID", &format!("soubor-{d}-{c}"))]);
            x.end();
        }
        x.end();
    }
    x.end(); // spis
    x.end(); // věcná skupina
    x.end(); // structMap
}

fn write_zip(entries: &[(String, &[u8])], when: &Zoned) -> Result<Vec<u8>, SipError> {
    use zip::write::SimpleFileOptions;
    let zip_error = |e: &dyn std::fmt::Display| SipError::Zip(e.to_string());
    // The export's Prague time on every entry, never the clock, so the bytes are the same for
    // the same input. ZIP's DOS times run from 1980 to 2107.
    let modified = u16::try_from(when.year())
        .ok()
        .and_then(|year| {
            zip::DateTime::from_date_and_time(
                year,
                when.month() as u8,
                when.day() as u8,
                when.hour() as u8,
                when.minute() as u8,
                when.second() as u8,
            )
            .ok()
        })
        .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(modified)
        .unix_permissions(0o644)
        .system(zip::System::Unix);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        let large = bytes.len() as u64 >= u64::from(u32::MAX);
        writer
            .start_file(name.as_str(), options.large_file(large))
            .map_err(|e| zip_error(&e))?;
        writer.write_all(bytes).map_err(|e| zip_error(&e))?;
    }
    Ok(writer.finish().map_err(|e| zip_error(&e))?.into_inner())
}

/// A small XML writer: elements are opened and closed in order, every text and attribute
/// value is escaped, and the output is indented by two spaces a level. Element and attribute
/// names are this module's constants, never input.
struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    fn new() -> Xml {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: Vec::new(),
        }
    }

    fn tag(&mut self, name: &str, attributes: &[(&str, &str)]) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, true);
            self.out.push('"');
        }
    }

    fn start(&mut self, name: &'static str, attributes: &[(&str, &str)]) {
        self.tag(name, attributes);
        self.out.push_str(">\n");
        self.open.push(name);
    }

    fn end(&mut self) {
        let name = self.open.pop().expect("an element to close");
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, name: &'static str, attributes: &[(&str, &str)], text: &str) {
        self.tag(name, attributes);
        self.out.push('>');
        escape_into(&mut self.out, text, false);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn empty(&mut self, name: &'static str, attributes: &[(&str, &str)]) {
        self.tag(name, attributes);
        self.out.push_str("/>\n");
    }

    fn finish(self) -> String {
        assert!(self.open.is_empty(), "unclosed elements: {:?}", self.open);
        self.out
    }
}

/// Escapes `text` for XML content or (with `attribute`) a double-quoted attribute value.
/// Characters XML 1.0 cannot carry at all become U+FFFD, so that something visibly stands in
/// their place; in attributes, tabs and line breaks are written as references so that
/// attribute-value normalisation keeps them.
fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}
