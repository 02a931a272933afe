use super::*;
use jiff::civil::date;
use roxmltree::{Document, Node};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

/// Unix seconds of a civil time in Prague.
fn prague(year: i16, month: i8, day: i8, hour: i8, minute: i8) -> i64 {
    date(year, month, day)
        .at(hour, minute, 0, 0)
        .to_zoned(TimeZone::get(OFFICE_TIME_ZONE).unwrap())
        .unwrap()
        .timestamp()
        .as_second()
}

fn component(name: &str, media_type: &str, bytes: &[u8]) -> SipComponent {
    SipComponent {
        file_name: name.into(),
        media_type: media_type.into(),
        bytes: bytes.to_vec(),
        output_format: false,
    }
}

/// A grant case opened in February 2026 and closed in June 2026, V 5: a received submission
/// with an attachment and the office's decision.
fn case() -> SipCase {
    SipCase {
        reference: "KUMSK/1234/2026".into(),
        title: "Dotace na obnovu kulturní památky".into(),
        agenda: SipPlanClass {
            code: "101.2".into(),
            name: "Dotace a granty".into(),
        },
        originator: SipOriginator {
            name: "Krajský úřad Moravskoslezského kraje".into(),
            ico: "70890692".into(),
        },
        opened_at: prague(2026, 2, 10, 9, 15),
        closed_at: Some(prague(2026, 6, 15, 14, 5)),
        settled_by: Settlement::Document,
        retention: Retention::parse("V 5").unwrap(),
        documents: vec![
            SipDocument {
                id: "sub-1".into(),
                title: "Žádost o dotaci".into(),
                created_at: prague(2026, 2, 10, 9, 15),
                origin: DocumentOrigin::Received,
                components: vec![
                    component("zadost.pdf", "application/pdf", b"%PDF-1.7 application"),
                    component("rozpocet.xlsx", "application/vnd.ms-excel", b"budget"),
                ],
            },
            SipDocument {
                id: "dec-1".into(),
                title: "Rozhodnutí o poskytnutí dotace".into(),
                created_at: prague(2026, 6, 1, 11, 0),
                origin: DocumentOrigin::Own,
                components: vec![SipComponent {
                    output_format: true,
                    ..component("rozhodnuti.pdf", "application/pdf", b"%PDF-1.7 decision")
                }],
            },
        ],
        events: vec![
            SipEvent {
                at: prague(2026, 6, 15, 14, 5),
                what: "Spis uzavřen".into(),
            },
            SipEvent {
                at: prague(2026, 2, 10, 9, 15),
                what: "Podání přijato".into(),
            },
        ],
    }
}

/// When the package is exported: 15 January 2027, 09:30 in Prague.
fn exported_at() -> i64 {
    prague(2027, 1, 15, 9, 30)
}

fn export(case: &SipCase) -> Vec<u8> {
    build(case, "Jana Nováková", exported_at()).unwrap()
}

/// The entries of a ZIP in their order, with their bytes.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a ZIP");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            (file.name().unwrap().to_string(), content)
        })
        .collect()
}

fn mets_text(zip: &[u8]) -> String {
    let entries = unzip(zip);
    let (name, bytes) = &entries[0];
    assert_eq!(name, METS_FILE, "mets.xml comes first");
    String::from_utf8(bytes.clone()).unwrap()
}

fn elements<'a, 'i>(doc: &'a Document<'i>, ns: &str, name: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().namespace() == Some(ns))
        .filter(|n| n.tag_name().name() == name)
        .collect()
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Node<'a, 'i> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .unwrap_or_else(|| panic!("<{}> has no <{name}>", node.tag_name().name()))
}

/// The text at a path of child elements.
fn text_at(node: Node, path: &[&str]) -> String {
    let mut node = node;
    for name in path {
        node = child(node, name);
    }
    node.text().unwrap_or("").to_string()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_zip_holds_mets_and_every_component() {
    let case = case();
    let entries = unzip(&export(&case));
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "mets.xml",
            "komponenty/zadost.pdf",
            "komponenty/rozpocet.xlsx",
            "komponenty/rozhodnuti.pdf"
        ]
    );
    let by_name: BTreeMap<_, _> = entries.into_iter().collect();
    for document in &case.documents {
        for c in &document.components {
            assert_eq!(by_name[&format!("komponenty/{}", c.file_name)], c.bytes);
        }
    }
}

#[test]
fn mets_parses_with_the_mets_root_and_namespaces() {
    let text = mets_text(&export(&case()));
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    let doc = Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().namespace(), Some(METS_NS));
    assert_eq!(root.tag_name().name(), "mets");
    for (prefix, uri) in [
        ("mets", METS_NS),
        ("nsesss", NSESSS_NS),
        ("xlink", XLINK_NS),
        ("xsi", XSI_NS),
        ("premis", PREMIS_NS),
    ] {
        assert_eq!(
            root.lookup_namespace_uri(Some(prefix)),
            Some(uri),
            "{prefix}"
        );
    }
    assert_eq!(
        root.attribute("LABEL"),
        Some("Datový balíček pro předávání dokumentů a jejich metadat do archivu")
    );
    assert_eq!(
        root.attribute("OBJID"),
        Some("SIP-KUMSK-1234-2026-20270115T093000")
    );
    // The sections METS requires, in its order.
    let sections: Vec<&str> = root
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name())
        .collect();
    assert_eq!(
        sections,
        ["metsHdr", "dmdSec", "amdSec", "fileSec", "structMap"]
    );
    let header = child(root, "metsHdr");
    assert_eq!(
        header.attribute("CREATEDATE"),
        Some("2027-01-15T09:30:00+01:00")
    );
    let agents: Vec<(Option<&str>, String)> = header
        .children()
        .filter(|n| n.is_element())
        .map(|a| (a.attribute("TYPE"), text_at(a, &["name"])))
        .collect();
    assert_eq!(
        agents,
        [
            (
                Some("ORGANIZATION"),
                "Krajský úřad Moravskoslezského kraje".to_string()
            ),
            (Some("INDIVIDUAL"), "Jana Nováková".to_string())
        ]
    );
    let wrap = child(child(root, "dmdSec"), "mdWrap");
    assert_eq!(wrap.attribute("MDTYPE"), Some("OTHER"));
    assert_eq!(wrap.attribute("OTHERMDTYPE"), Some("NSESSS"));
    let spis = child(child(wrap, "xmlData"), "Spis");
    assert_eq!(spis.tag_name().namespace(), Some(NSESSS_NS));
    let e = child(spis, "EvidencniUdaje");
    assert_eq!(
        text_at(e, &["Evidence", "EvidencniCislo"]),
        "KUMSK/1234/2026"
    );
    assert_eq!(
        text_at(e, &["Popis", "Nazev"]),
        "Dotace na obnovu kulturní památky"
    );
    assert_eq!(text_at(e, &["Trideni", "JednoduchySpisovyZnak"]), "101.2");
    assert_eq!(
        text_at(
            e,
            &[
                "Trideni",
                "MaterskaEntita",
                "VecnaSkupina",
                "EvidencniUdaje",
                "Popis",
                "Nazev"
            ]
        ),
        "Dotace a granty"
    );
    let closed = child(child(e, "VyrizeniUzavreni"), "Datum");
    assert_eq!(closed.text(), Some("2026-06-15"));
    assert_eq!(closed.attribute("datum"), Some("2026-06-15T14:05:00+02:00"));
    assert_eq!(
        text_at(e, &["VyrizeniUzavreni", "Zpusob"]),
        "vyřízení dokumentem"
    );
    assert_eq!(
        text_at(
            e,
            &[
                "VyrizeniUzavreni",
                "Zpracovatel",
                "Subjekt",
                "IdentifikatorOrganizace"
            ]
        ),
        "70890692"
    );
}

#[test]
fn every_file_has_the_size_and_sha256_of_its_bytes_in_the_zip() {
    let zip = export(&case());
    let entries: BTreeMap<String, Vec<u8>> = unzip(&zip).into_iter().collect();
    let text = mets_text(&zip);
    let doc = Document::parse(&text).unwrap();
    let files = elements(&doc, METS_NS, "file");
    assert_eq!(files.len(), 3);
    for file in files {
        let locat = child(file, "FLocat");
        assert_eq!(locat.attribute("LOCTYPE"), Some("URL"));
        assert_eq!(locat.attribute((XLINK_NS, "type")), Some("simple"));
        let href = locat.attribute((XLINK_NS, "href")).unwrap();
        assert!(href.starts_with("komponenty/"), "{href}");
        let bytes = &entries[href];
        assert_eq!(
            file.attribute("SIZE"),
            Some(bytes.len().to_string().as_str())
        );
        assert_eq!(file.attribute("CHECKSUMTYPE"), Some("SHA-256"));
        assert_eq!(file.attribute("CHECKSUM"), Some(hex_sha256(bytes).as_str()));
        assert!(file.attribute("MIMETYPE").is_some_and(|m| !m.is_empty()));
        assert!(file
            .attribute("CREATED")
            .is_some_and(|c| c.starts_with("2026-") && c.ends_with(":00")));
    }
}

#[test]
fn the_struct_map_references_every_file_and_every_entity() {
    let text = mets_text(&export(&case()));
    let doc = Document::parse(&text).unwrap();
    let file_ids: BTreeSet<&str> = elements(&doc, METS_NS, "file")
        .iter()
        .map(|f| f.attribute("ID").unwrap())
        .collect();
    let pointers: BTreeSet<&str> = elements(&doc, METS_NS, "fptr")
        .iter()
        .map(|p| p.attribute("FILEID").unwrap())
        .collect();
    assert_eq!(file_ids.len(), 3);
    assert_eq!(pointers, file_ids);

    // Every div names its NSESSS entity, and every file's component is the one of the div
    // that points at it.
    let nsesss_ids: BTreeSet<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().namespace() == Some(NSESSS_NS))
        .filter_map(|n| n.attribute("ID"))
        .collect();
    let divs = elements(&doc, METS_NS, "div");
    let types: Vec<&str> = divs.iter().map(|d| d.attribute("TYPE").unwrap()).collect();
    assert_eq!(
        types,
        [
            "věcná skupina",
            "spis",
            "dokument",
            "komponenta",
            "komponenta",
            "dokument",
            "komponenta"
        ]
    );
    for div in &divs {
        assert!(nsesss_ids.contains(div.attribute("DMDID").unwrap()));
    }
    for div in divs
        .iter()
        .filter(|d| d.attribute("TYPE") == Some("komponenta"))
    {
        let file_id = child(*div, "fptr").attribute("FILEID").unwrap();
        let file = elements(&doc, METS_NS, "file")
            .into_iter()
            .find(|f| f.attribute("ID") == Some(file_id))
            .unwrap();
        assert_eq!(file.attribute("DMDID"), div.attribute("DMDID"));
    }
    // The case file's div carries its provenance.
    let spis = divs[1];
    let amd = elements(&doc, METS_NS, "amdSec")[0];
    assert_eq!(spis.attribute("ADMID"), amd.attribute("ID"));
}

#[test]
fn the_retention_elements_carry_sign_years_and_disposal_year() {
    let text = mets_text(&export(&case()));
    let doc = Document::parse(&text).unwrap();
    let spis = elements(&doc, NSESSS_NS, "Spis")[0];
    let v = child(child(spis, "EvidencniUdaje"), "Vyrazovani");
    assert_eq!(text_at(v, &["SkartacniRezim", "SkartacniZnak"]), "V");
    assert_eq!(text_at(v, &["SkartacniRezim", "SkartacniLhuta"]), "5");
    assert_eq!(
        text_at(v, &["SkartacniRezim", "SpousteciUdalost"]),
        "uzavření spisu"
    );
    assert_eq!(
        text_at(v, &["DataceVyrazeni", "RokSpousteciUdalosti"]),
        "2026"
    );
    assert_eq!(
        text_at(v, &["DataceVyrazeni", "RokSkartacniOperace"]),
        "2032"
    );
    // Every document and the plan class carry the same schedule.
    let regimes = elements(&doc, NSESSS_NS, "SkartacniRezim");
    assert_eq!(regimes.len(), 4);
    for r in regimes {
        assert_eq!(text_at(r, &["SkartacniZnak"]), "V");
        assert_eq!(text_at(r, &["SkartacniLhuta"]), "5");
    }
}

#[test]
fn the_year_of_closure_is_the_prague_year() {
    // 00:30 on 1 January 2027 in Prague is still 2026 in UTC.
    let mut case = case();
    case.closed_at = Some(prague(2027, 1, 1, 0, 30));
    case.retention = Retention::parse("A 10").unwrap();
    let zip = build(&case, "Jana Nováková", prague(2027, 8, 1, 12, 0)).unwrap();
    let text = mets_text(&zip);
    let doc = Document::parse(&text).unwrap();
    let spis = elements(&doc, NSESSS_NS, "Spis")[0];
    let e = child(spis, "EvidencniUdaje");
    assert_eq!(text_at(e, &["VyrizeniUzavreni", "Datum"]), "2027-01-01");
    assert_eq!(
        text_at(e, &["Vyrazovani", "DataceVyrazeni", "RokSpousteciUdalosti"]),
        "2027"
    );
    assert_eq!(
        text_at(e, &["Vyrazovani", "DataceVyrazeni", "RokSkartacniOperace"]),
        "2038"
    );
    assert_eq!(
        text_at(e, &["Vyrazovani", "SkartacniRezim", "SkartacniZnak"]),
        "A"
    );
    // Summer and winter offsets.
    let header = child(doc.root_element(), "metsHdr");
    assert_eq!(
        header.attribute("CREATEDATE"),
        Some("2027-08-01T12:00:00+02:00")
    );
    let opened = child(child(e, "Manipulace"), "DatumOtevreni");
    assert_eq!(opened.attribute("datum"), Some("2026-02-10T09:15:00+01:00"));
}

#[test]
fn special_characters_and_diacritics_round_trip() {
    let tricky = "Spor <A&B> \"uvozovky\" a 'apostrofy' – Řízení č. 5 ŽÁDOST ěščřžýáíéůú";
    let mut case = case();
    case.title = tricky.into();
    case.documents[0].title = format!("{tricky} (podání)");
    case.documents[0].components[0].file_name = "Žádost <o> & \"dotaci\".pdf".into();
    case.events[0].what = "Poznámka: <b>tučně</b> & 'jinak'".into();
    case.settled_by = Settlement::Other("Zpětvzetí <žádosti> & konec".into());
    let zip = export(&case);
    let text = mets_text(&zip);
    assert!(!text.contains("<A&B>"), "raw markup must not leak");
    let doc = Document::parse(&text).expect("escaped XML parses");
    let spis = elements(&doc, NSESSS_NS, "Spis")[0];
    let e = child(spis, "EvidencniUdaje");
    assert_eq!(text_at(e, &["Popis", "Nazev"]), tricky);
    assert_eq!(text_at(e, &["VyrizeniUzavreni", "Zpusob"]), "jiný způsob");
    assert_eq!(
        text_at(e, &["VyrizeniUzavreni", "Oduvodneni"]),
        "Zpětvzetí <žádosti> & konec"
    );
    let divs = elements(&doc, METS_NS, "div");
    assert_eq!(divs[1].attribute("LABEL"), Some(tricky));
    assert_eq!(
        divs[2].attribute("LABEL"),
        Some(format!("{tricky} (podání)").as_str())
    );
    // The original file name is kept in the metadata; the ZIP has a safe one.
    let komponenta = elements(&doc, NSESSS_NS, "Komponenta")[0];
    assert_eq!(
        text_at(komponenta, &["EvidencniUdaje", "Popis", "Nazev"]),
        "Žádost <o> & \"dotaci\".pdf"
    );
    assert_eq!(
        divs[3].attribute("LABEL"),
        Some("Žádost <o> & \"dotaci\".pdf")
    );
    let names: Vec<String> = unzip(&zip).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[1], "komponenty/Zadost_o_dotaci_.pdf");
    let details: Vec<&str> = elements(&doc, PREMIS_NS, "eventDetail")
        .iter()
        .map(|d| d.text().unwrap())
        .collect();
    assert!(details.contains(&"Poznámka: <b>tučně</b> & 'jinak'"));
}

#[test]
fn characters_xml_cannot_carry_are_replaced_and_line_breaks_kept() {
    let mut case = case();
    case.title = "bell\u{7} and\u{0} nul".into();
    case.documents[0].title = "two\nlines\tand a tab".into();
    let text = mets_text(&export(&case));
    let doc = Document::parse(&text).expect("no control characters in the XML");
    let spis = elements(&doc, NSESSS_NS, "Spis")[0];
    assert_eq!(
        text_at(child(spis, "EvidencniUdaje"), &["Popis", "Nazev"]),
        "bell\u{FFFD} and\u{FFFD} nul"
    );
    // In an attribute too, thanks to character references.
    let divs = elements(&doc, METS_NS, "div");
    assert_eq!(divs[2].attribute("LABEL"), Some("two\nlines\tand a tab"));
}

#[test]
fn components_with_the_same_name_get_distinct_file_names() {
    let mut case = case();
    case.documents[0].components = vec![
        component("scan.pdf", "application/pdf", b"one"),
        component("SCAN.pdf", "application/pdf", b"two"),
        component("scan-2.pdf", "application/pdf", b"three"),
    ];
    case.documents[1].components = vec![component("scan.pdf", "application/pdf", b"four")];
    let zip = export(&case);
    let entries = unzip(&zip);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "mets.xml",
            "komponenty/scan.pdf",
            "komponenty/SCAN-2.pdf",
            "komponenty/scan-2-2.pdf",
            "komponenty/scan-3.pdf"
        ]
    );
    let contents: Vec<&[u8]> = entries[1..].iter().map(|(_, b)| b.as_slice()).collect();
    assert_eq!(contents, [&b"one"[..], b"two", b"three", b"four"]);
    // fileSec points at the renamed files.
    let text = mets_text(&zip);
    let doc = Document::parse(&text).unwrap();
    let hrefs: Vec<&str> = elements(&doc, METS_NS, "FLocat")
        .iter()
        .map(|l| l.attribute((XLINK_NS, "href")).unwrap())
        .collect();
    assert_eq!(hrefs, names[1..]);
}

#[test]
fn path_traversal_in_file_names_is_neutralised() {
    let mut case = case();
    case.documents[0].components = vec![
        component("../../etc/passwd", "text/plain", b"a"),
        component("..\\..\\Windows\\win.ini", "text/plain", b"b"),
        component("/absolute/path.pdf", "application/pdf", b"c"),
        component("C:evil.txt", "text/plain", b"d"),
        component("..", "text/plain", b"e"),
        component(".hidden", "text/plain", b"f"),
        component("", "text/plain", b"g"),
        component("con.txt", "text/plain", b"h"),
    ];
    let entries = unzip(&export(&case));
    let names: Vec<&str> = entries[1..].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "komponenty/passwd",
            "komponenty/win.ini",
            "komponenty/path.pdf",
            "komponenty/evil.txt",
            "komponenty/soubor",
            "komponenty/hidden",
            "komponenty/soubor-2",
            "komponenty/con_.txt",
            "komponenty/rozhodnuti.pdf",
        ]
    );
    for (name, _) in &entries {
        let inside = name.strip_prefix("komponenty/").unwrap_or(name);
        assert!(!inside.contains(['/', '\\', ':']), "{name}");
        assert!(!inside.starts_with('.'), "{name}");
    }
}

#[test]
fn reserved_windows_names_get_an_underscore() {
    for (name, safe) in [
        ("con.txt", "con_.txt"),
        ("NUL", "NUL_"),
        ("Com1.tar.gz", "Com1_.tar.gz"),
        ("console.txt", "console.txt"),
        ("lpt9.pdf", "lpt9_.pdf"),
    ] {
        assert_eq!(safe_file_name(name), safe, "{name}");
    }
}

#[test]
fn long_names_are_cut_keeping_the_extension() {
    let long = format!("{}.pdf", "a".repeat(300));
    let safe = safe_file_name(&long);
    assert_eq!(safe.len(), MAX_NAME_CHARS);
    assert!(safe.ends_with("a.pdf"));
}

#[test]
fn an_open_case_is_refused() {
    let mut case = case();
    case.closed_at = None;
    assert_eq!(
        build(&case, "Jana Nováková", exported_at()),
        Err(SipError::NotClosed("KUMSK/1234/2026".into()))
    );
}

#[test]
fn incomplete_cases_are_refused() {
    let refused = |change: fn(&mut SipCase)| {
        let mut case = case();
        change(&mut case);
        build(&case, "Jana Nováková", exported_at()).unwrap_err()
    };
    assert_eq!(
        refused(|c| c.closed_at = Some(c.opened_at - 1)),
        SipError::ClosedBeforeOpened("KUMSK/1234/2026".into())
    );
    assert_eq!(
        refused(|c| c.documents.clear()),
        SipError::NoDocuments("KUMSK/1234/2026".into())
    );
    assert_eq!(
        refused(|c| c.documents[1].components.clear()),
        SipError::NoComponents("dec-1".into())
    );
    assert_eq!(
        refused(|c| c.documents[1].id = "sub-1".into()),
        SipError::DuplicateDocument("sub-1".into())
    );
    assert_eq!(
        refused(|c| c.reference = "  ".into()),
        SipError::Empty("reference")
    );
    assert_eq!(
        refused(|c| c.settled_by = Settlement::Other(String::new())),
        SipError::Empty("settled_by")
    );
    assert_eq!(
        build(&case(), " ", exported_at()),
        Err(SipError::Empty("exported_by"))
    );
}

#[test]
fn the_output_is_deterministic() {
    let first = export(&case());
    let second = export(&case());
    assert_eq!(first, second);
    // Every entry carries the export's Prague time, not the clock's.
    let mut archive = zip::ZipArchive::new(Cursor::new(&first)).unwrap();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).unwrap();
        let t = entry.last_modified().unwrap();
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2027, 1, 15, 9, 30, 0)
        );
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o644));
    }
    // A different export time is a different package.
    let later = build(&case(), "Jana Nováková", exported_at() + 60).unwrap();
    assert_ne!(first, later);
}

#[test]
fn documents_say_where_they_come_from_and_components_their_form() {
    let text = mets_text(&export(&case()));
    let doc = Document::parse(&text).unwrap();
    let documents = elements(&doc, NSESSS_NS, "Dokument");
    let received = child(child(documents[0], "EvidencniUdaje"), "Puvod");
    assert_eq!(
        text_at(received, &["DorucenyDokument", "DatumDoruceni"]),
        "2026-02-10"
    );
    let own = child(child(documents[1], "EvidencniUdaje"), "Puvod");
    assert_eq!(
        text_at(own, &["VlastniDokument", "DatumVytvoreni"]),
        "2026-06-01"
    );
    assert_eq!(
        text_at(
            own,
            &["VlastniDokument", "Autor", "Subjekt", "NazevOrganizace"]
        ),
        "Krajský úřad Moravskoslezského kraje"
    );
    let components: Vec<(Option<&str>, Option<&str>, Option<&str>)> =
        elements(&doc, NSESSS_NS, "Komponenta")
            .iter()
            .map(|k| {
                (
                    k.attribute("poradi"),
                    k.attribute("druh"),
                    k.attribute("forma_uchovani"),
                )
            })
            .collect();
    assert_eq!(
        components,
        [
            (Some("1"), Some("hlavní dokument"), Some("originál")),
            (Some("2"), Some("příloha"), Some("originál")),
            (
                Some("1"),
                Some("hlavní dokument"),
                Some("originál ve výstupním datovém formátu")
            ),
        ]
    );
}

#[test]
fn provenance_records_the_export_then_the_history_in_time_order() {
    let text = mets_text(&export(&case()));
    let doc = Document::parse(&text).unwrap();
    let wraps = elements(&doc, METS_NS, "mdWrap");
    let premis: Vec<_> = wraps
        .iter()
        .filter(|w| w.attribute("MDTYPE") == Some("PREMIS:EVENT"))
        .collect();
    assert_eq!(premis.len(), 3);
    let events = elements(&doc, PREMIS_NS, "event");
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                text_at(*e, &["eventType"]),
                text_at(*e, &["eventDateTime"]),
                text_at(*e, &["eventDetailInformation", "eventDetail"]),
            )
        })
        .collect();
    assert_eq!(summary[0].0, "packing");
    assert_eq!(summary[0].1, "2027-01-15T09:30:00+01:00");
    assert_eq!(
        text_at(
            events[0],
            &["linkingAgentIdentifier", "linkingAgentIdentifierValue"]
        ),
        "Jana Nováková"
    );
    assert_eq!(
        summary[1..],
        [
            (
                "case history".to_string(),
                "2026-02-10T09:15:00+01:00".to_string(),
                "Podání přijato".to_string()
            ),
            (
                "case history".to_string(),
                "2026-06-15T14:05:00+02:00".to_string(),
                "Spis uzavřen".to_string()
            ),
        ]
    );
}

#[test]
fn the_disposal_procedure_has_its_own_label() {
    let zip = build_for(
        &case(),
        SipPurpose::DisposalProcedure,
        "Jana Nováková",
        exported_at(),
    )
    .unwrap();
    let text = mets_text(&zip);
    let doc = Document::parse(&text).unwrap();
    assert_eq!(
        doc.root_element().attribute("LABEL"),
        Some("Datový balíček pro provedení skartačního řízení")
    );
}

#[test]
fn the_package_id_is_the_reference_and_the_prague_time() {
    let mut case = case();
    assert_eq!(
        package_id(&case, exported_at()).unwrap(),
        "SIP-KUMSK-1234-2026-20270115T093000"
    );
    case.reference = "ŽÚ / 7 // 2026 ".into();
    assert_eq!(
        package_id(&case, prague(2026, 7, 1, 8, 0)).unwrap(),
        "SIP-ZU-7-2026-20260701T080000"
    );
}
