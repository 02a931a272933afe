//! Attachments of drafts: files added to a form's attachment slots, kept in the blob store
//! (`urad_store::blobs`) and named by rows of `attachment`. See docs/attachments.md.
//!
//! An upload is **streamed**: its bytes go to the blob store as they arrive while their
//! SHA-256 and size are computed, and it stops as soon as a limit is passed. Its type is
//! decided from its content (magic bytes), never from its name; DOCX and ODT files (zip
//! containers) are read back from the blob store in ranges, without unpacking them, to check
//! the parts a real document has and to refuse zip bombs.
//!
//! **Nothing half-written, nothing orphaned.** An upload is recorded in `attachment_pending`
//! before its blob is written, and the same write that commits its `attachment` row removes
//! that record. A refused upload removes its blob, then its record. What a crash leaves is a
//! record whose process no longer touches it: the uploading process touches its record at
//! least every [`TOUCH_EVERY_SECS`] while bytes arrive, and [`sweep`] takes over only records
//! not touched for longer than it is told (several processes share one database and blob
//! store: an upload in progress elsewhere is never taken). Taking over is one conditional
//! update (`uploading` → `discard`); the upload's commit makes the same condition its first
//! statement, so exactly one of them wins.
//!
//! **Limits** per file, per slot and per submission are checked while the bytes arrive and
//! again inside the write that commits the row: the write first locks the draft's row (an
//! update), so uploads to one draft that run at the same time are counted one after another,
//! and every added or removed file bumps the draft's `revision` in the same write.

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom};
use urad_core::{hex, Clock, Lang};
use urad_forms::{AttachmentSlot, FormDefinition, Forms};
use urad_store::blobs::{BlobError, BlobStore};
use urad_store::statement::Row;
use urad_store::{sql, Db, StoreError};

/// How often an upload in progress touches its record, at the least.
pub const TOUCH_EVERY_SECS: i64 = 60;
/// The sweep takes over uploads not touched for this long, when run by the binary.
pub const STALE_AFTER_SECS: i64 = 15 * 60;

const MIB: u64 = 1024 * 1024;

/// How much a submission may carry; configurable per office (`--max-attachment-mb`,
/// `--max-attachments`, `--max-submission-mb`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file at most (a slot's own limit applies when smaller).
    pub file_bytes: u64,
    /// Files of one submission at most.
    pub files: u32,
    /// Bytes of all files of one submission at most.
    pub submission_bytes: u64,
}

impl Default for Limits {
    /// The demo's 10 MB a file, and the data-box rules for a submission: at most 50 files
    /// and 100 MB.
    fn default() -> Limits {
        Limits {
            file_bytes: 10 * MIB,
            files: 50,
            submission_bytes: 100 * MIB,
        }
    }
}

impl Limits {
    /// Limits given in MB (MiB: 1 048 576 bytes, as the forms' `max_file_bytes`).
    pub fn from_mb(file_mb: u64, files: u32, submission_mb: u64) -> Limits {
        Limits {
            file_bytes: file_mb.saturating_mul(MIB),
            files,
            submission_bytes: submission_mb.saturating_mul(MIB),
        }
    }
}

/// Bounds of the check of a zip container (DOCX, ODT). A real document has tens of parts
/// that unpack to a few times its size; a zip bomb has many, or unpacks to thousands of times.
const ZIP_MAX_ENTRIES: usize = 1000;
const ZIP_MAX_UNPACKED_BYTES: u64 = 200 * MIB;
/// Unpacked bytes per packed byte at most, for the whole file and for each part larger than
/// [`ZIP_RATIO_FROM_BYTES`] (small parts of repeated XML pack far better than that).
const ZIP_MAX_RATIO: u64 = 100;
const ZIP_RATIO_FROM_BYTES: u64 = MIB;
/// Bytes looked at to decide the type.
const SNIFF_BYTES: usize = 8192;
/// Characters of a shown file name at most (its extension included).
const NAME_MAX_CHARS: usize = 120;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const ODT: &str = "application/vnd.oasis.opendocument.text";

/// Why a file was not taken (or an attachment not found); [`AttachmentError::message`] says
/// it to the citizen.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("no such draft of this person")]
    UnknownDraft,
    #[error("the draft was submitted already and can no longer change")]
    AlreadySubmitted,
    #[error("no form `{0}`")]
    UnknownForm(String),
    #[error("the form has no attachment slot `{0}`")]
    UnknownSlot(String),
    #[error("no such attachment of this person")]
    UnknownAttachment,
    #[error("`{file}` is empty")]
    Empty { file: String },
    #[error("`{file}` is larger than {limit} bytes")]
    FileTooLarge { file: String, limit: u64 },
    #[error("`{file}` would make the submission larger than {limit} bytes")]
    SubmissionTooLarge { file: String, limit: u64 },
    #[error("`{file}`: the slot `{slot}` takes at most {max} files")]
    TooManyInSlot {
        file: String,
        slot: String,
        max: u32,
    },
    #[error("`{file}`: a submission carries at most {max} files")]
    TooManyFiles { file: String, max: u32 },
    #[error("`{file}` is a program ({found})")]
    Program { file: String, found: String },
    #[error("`{file}` is {found}, the slot takes {allowed:?}")]
    WrongType {
        file: String,
        found: String,
        allowed: Vec<String>,
    },
    #[error("`{file}` unpacks to far more than it holds (a zip bomb)")]
    ZipBomb { file: String },
    #[error("`{file}` is not a valid {expected} document: {problem}")]
    NotADocument {
        file: String,
        expected: &'static str,
        problem: String,
    },
    #[error("`{file}` contains macros")]
    Macros { file: String },
    #[error("`{file}` did not arrive whole: {reason}")]
    Interrupted { file: String, reason: String },
    #[error("`{file}` took too long to arrive")]
    Expired { file: String },
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    #[error("blob store error: {0}")]
    Blob(#[from] BlobError),
}

/// Sizes for people: `10 MB`, `1,5 MB` (Czech) / `1.5 MB`.
pub fn size_text(bytes: u64, lang: Lang) -> String {
    let tenths = (bytes * 10 + MIB / 2) / MIB;
    let text = if tenths.is_multiple_of(10) {
        format!("{} MB", tenths / 10)
    } else {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    };
    match lang {
        Lang::Cs => text.replace('.', ","),
        Lang::En => text,
    }
}

/// `n` and the Czech word in the form that follows a number: 1 soubor, 2–4 soubory, 5 souborů.
fn count_cs(n: u32, one: &str, few: &str, many: &str) -> String {
    let word = match n {
        1 => one,
        2..=4 => few,
        _ => many,
    };
    format!("{n} {word}")
}

/// `n` and the English word, singular or plural.
fn count_en(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Media types for people.
fn type_name(media_type: &str) -> &str {
    match media_type {
        "application/pdf" => "PDF",
        "image/jpeg" => "JPEG",
        "image/png" => "PNG",
        "image/tiff" => "TIFF",
        ODT => "ODT",
        DOCX => "DOCX",
        "application/xml" => "XML",
        "text/plain" => "TXT",
        other => other,
    }
}

impl AttachmentError {
    /// What went wrong, for the citizen who sent the file, naming the file and the limit.
    pub fn message(&self, lang: Lang) -> String {
        let cs = matches!(lang, Lang::Cs);
        let pick = |c: String, e: String| if cs { c } else { e };
        match self {
            AttachmentError::UnknownDraft => pick(
                "Rozpracované podání jsme nenašli.".into(),
                "We could not find the draft.".into(),
            ),
            AttachmentError::AlreadySubmitted => pick(
                "Podání už bylo odesláno, přílohy už nelze měnit.".into(),
                "The submission has been sent; its attachments can no longer change.".into(),
            ),
            AttachmentError::UnknownForm(form) => pick(
                format!("Formulář „{form}“ už neexistuje."),
                format!("The form “{form}” no longer exists."),
            ),
            AttachmentError::UnknownSlot(slot) => pick(
                format!("Formulář nemá místo pro přílohu „{slot}“."),
                format!("The form has no place for the attachment “{slot}”."),
            ),
            AttachmentError::UnknownAttachment => pick(
                "Přílohu jsme nenašli.".into(),
                "We could not find the attachment.".into(),
            ),
            AttachmentError::Empty { file } => pick(
                format!("Soubor „{file}“ je prázdný. Vyberte soubor s obsahem."),
                format!("The file “{file}” is empty. Choose a file with content."),
            ),
            AttachmentError::FileTooLarge { file, limit } => pick(
                format!(
                    "Soubor „{file}“ je větší než {}. Zmenšete ho nebo ho rozdělte.",
                    size_text(*limit, lang)
                ),
                format!(
                    "The file “{file}” is larger than {}. Make it smaller or split it.",
                    size_text(*limit, lang)
                ),
            ),
            AttachmentError::SubmissionTooLarge { file, limit } => pick(
                format!(
                    "Se souborem „{file}“ by přílohy podání měly víc než {}. Odeberte některé nebo je zmenšete.",
                    size_text(*limit, lang)
                ),
                format!(
                    "With the file “{file}” the attachments would exceed {} in total. Remove some or make them smaller.",
                    size_text(*limit, lang)
                ),
            ),
            AttachmentError::TooManyInSlot { file, max, .. } => pick(
                format!(
                    "Soubor „{file}“ už nelze přidat: sem patří nejvýše {}.",
                    count_cs(*max, "soubor", "soubory", "souborů")
                ),
                format!(
                    "The file “{file}” cannot be added: at most {} belong here.",
                    count_en(*max, "file", "files")
                ),
            ),
            AttachmentError::TooManyFiles { file, max } => pick(
                format!(
                    "Soubor „{file}“ už nelze přidat: podání může mít nejvýše {}.",
                    count_cs(*max, "přílohu", "přílohy", "příloh")
                ),
                format!(
                    "The file “{file}” cannot be added: a submission can have at most {}.",
                    count_en(*max, "attachment", "attachments")
                ),
            ),
            AttachmentError::Program { file, .. } => pick(
                format!("Soubor „{file}“ je program, ne dokument. Programy nepřijímáme."),
                format!("The file “{file}” is a program, not a document. Programs are not accepted."),
            ),
            AttachmentError::WrongType { file, allowed, .. } => {
                let allowed: Vec<&str> = allowed.iter().map(|t| type_name(t)).collect();
                let allowed = allowed.join(", ");
                pick(
                    format!(
                        "Soubor „{file}“ není v povoleném formátu. Sem patří: {allowed} (podle obsahu souboru, ne podle jeho přípony)."
                    ),
                    format!(
                        "The file “{file}” is not in an accepted format. Accepted here: {allowed} (by the file's content, not its extension)."
                    ),
                )
            }
            AttachmentError::ZipBomb { file } => pick(
                format!("Soubor „{file}“ se po rozbalení nepřiměřeně zvětšuje, nepřijali jsme ho. Uložte dokument znovu a přiložte ho."),
                format!("The file “{file}” grows out of all proportion when unpacked, so it was refused. Save the document again and attach it."),
            ),
            AttachmentError::NotADocument { file, expected, .. } => pick(
                format!("Soubor „{file}“ není platný dokument {expected}. Uložte ho znovu v textovém editoru, nebo přiložte PDF."),
                format!("The file “{file}” is not a valid {expected} document. Save it again in your word processor, or attach a PDF."),
            ),
            AttachmentError::Macros { file } => pick(
                format!("Soubor „{file}“ obsahuje makra. Uložte ho jako dokument bez maker (DOCX) nebo jako PDF."),
                format!("The file “{file}” contains macros. Save it as a document without macros (DOCX) or as a PDF."),
            ),
            AttachmentError::Interrupted { file, .. } => pick(
                format!("Soubor „{file}“ nedorazil celý. Zkuste ho nahrát znovu."),
                format!("The file “{file}” did not arrive in full. Try uploading it again."),
            ),
            AttachmentError::Expired { file } => pick(
                format!("Nahrávání souboru „{file}“ trvalo příliš dlouho. Zkuste to znovu."),
                format!("Uploading the file “{file}” took too long. Try again."),
            ),
            AttachmentError::Store(_) | AttachmentError::Blob(_) => pick(
                "Přílohu se teď nepodařilo uložit. Zkuste to prosím za chvíli znovu.".into(),
                "The attachment could not be stored just now. Please try again shortly.".into(),
            ),
        }
    }
}

/// One attached file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub id: String,
    pub draft_id: String,
    pub slot: String,
    /// The file's name as sanitised.
    pub file_name: String,
    /// Decided from the content.
    pub media_type: String,
    pub size: i64,
    /// SHA-256 (hex) of the bytes.
    pub sha256: String,
    pub created_at: i64,
}

impl From<&Attachment> for crate::ReceiptAttachment {
    fn from(a: &Attachment) -> crate::ReceiptAttachment {
        crate::ReceiptAttachment {
            slot: a.slot.clone(),
            file_name: a.file_name.clone(),
            media_type: a.media_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
        }
    }
}

/// Who adds which file where.
#[derive(Clone, Copy, Debug)]
pub struct NewAttachment<'a> {
    pub person_id: &'a str,
    pub draft_id: &'a str,
    /// The form's attachment slot.
    pub slot: &'a str,
    /// The name the file came with (sanitised before it is kept).
    pub file_name: &'a str,
}

/// The storage handles and limits of attachments.
#[derive(Clone, Debug)]
pub struct Attachments {
    pub db: Db,
    pub blobs: BlobStore,
    pub limits: Limits,
}

/// Where an attachment's bytes are kept. Ids are random hex, so the first two characters
/// spread the files over 256 folders that soon all exist: a folder per draft made every
/// first upload of a draft create one, and on ext4 creating an inode (folder or file) was a
/// fifth of the server's time in the surge benchmark (docs/benchmarks.md, session 8). The
/// key is stored with each attachment, so keys of the earlier layout stay valid.
fn blob_key(attachment_id: &str) -> String {
    let fan_out = attachment_id.get(..2).unwrap_or("00");
    format!("attachments/{fan_out}/{attachment_id}")
}

/// The columns of [`Attachment`], as a literal for `concat!`.
macro_rules! attachment_columns {
    () => {
        "a.id, a.draft_id, a.slot, a.file_name, a.media_type, a.size, a.sha256, a.created_at"
    };
}

fn attachment_from(row: &Row) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        id: row.get("id")?,
        draft_id: row.get("draft_id")?,
        slot: row.get("slot")?,
        file_name: row.get("file_name")?,
        media_type: row.get("media_type")?,
        size: row.get("size")?,
        sha256: row.get("sha256")?,
        created_at: row.get("created_at")?,
    })
}

/// Adds a file to a slot of a person's draft from a stream of its bytes (a multipart field, a
/// request body). Returns the attachment as kept; on any error nothing is kept.
pub async fn add<S, E>(
    store: &Attachments,
    clock: &dyn Clock,
    forms: &Forms,
    upload: &NewAttachment<'_>,
    body: S,
) -> Result<Attachment, AttachmentError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let db = &store.db;
    let draft = crate::draft(db, upload.person_id, upload.draft_id)
        .await
        .map_err(filing_to_attachment)?
        .ok_or(AttachmentError::UnknownDraft)?;
    if draft.submitted_at.is_some() {
        return Err(AttachmentError::AlreadySubmitted);
    }
    let form = forms
        .version(&draft.form_id, draft.form_version)
        .ok_or_else(|| {
            AttachmentError::UnknownForm(format!("{} v{}", draft.form_id, draft.form_version))
        })?;
    let (slot_index, slot) = form
        .ui
        .attachments
        .iter()
        .enumerate()
        .find(|(_, s)| s.id == upload.slot)
        .ok_or_else(|| AttachmentError::UnknownSlot(upload.slot.to_owned()))?;
    let file = sanitise_file_name(upload.file_name);
    let limits = store.limits;
    let file_limit = slot
        .max_file_bytes
        .map_or(limits.file_bytes, |b| b.min(limits.file_bytes));

    // Refuse early what the counts already forbid, before any byte is stored; the write
    // below checks again, for uploads that run at the same time.
    let before = totals(db, upload.draft_id, upload.slot).await?;
    check_counts(&before, slot, &limits, &file)?;
    let room = limits.submission_bytes.saturating_sub(before.bytes);

    let id = crate::new_id();
    let key = blob_key(&id);
    let now = clock.now();
    db.write_one(
        sql("INSERT INTO attachment_pending (id, draft_id, blob_key, state, started_at, touched_at) \
             VALUES ($1, $2, $3, 'uploading', $4, $4)")
        .bind(&id)
        .bind(upload.draft_id)
        .bind(&key)
        .bind(now),
    )
    .await?;

    let received = match receive(
        store, clock, &id, &key, &file, slot, file_limit, room, &limits, body,
    )
    .await
    {
        Ok(received) => received,
        Err(e) => {
            discard(store, &id, &key).await;
            return Err(e);
        }
    };

    let now = clock.now();
    let written = db
        .write([
            // The upload's own record, still uploading: a sweep has not taken it over.
            sql("UPDATE attachment_pending SET state = 'discard', touched_at = $2 \
                 WHERE id = $1 AND state = 'uploading'")
            .bind(&id)
            .bind(now),
            // Locks the draft's row until the commit: uploads to one draft count one by one.
            sql("UPDATE draft SET revision = revision WHERE id = $1 AND person_id = $2 AND submitted_at IS NULL")
                .bind(upload.draft_id)
                .bind(upload.person_id)
                .only_if_previous_changed(),
            sql("INSERT INTO attachment (id, draft_id, slot, slot_index, position, file_name, media_type, size, sha256, blob_key, created_at) \
                 SELECT $1, $2, $3, $4, \
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM attachment WHERE draft_id = $2), \
                 $5, $6, $7, $8, $9, $10 \
                 WHERE (SELECT COUNT(*) FROM attachment WHERE draft_id = $2 AND slot = $3) < $11 \
                 AND (SELECT COUNT(*) FROM attachment WHERE draft_id = $2) < $12 \
                 AND (SELECT COALESCE(SUM(size), 0) FROM attachment WHERE draft_id = $2) + $7 <= $13")
            .bind(&id)
            .bind(upload.draft_id)
            .bind(upload.slot)
            .bind(slot_index as i64)
            .bind(&file)
            .bind(received.media_type)
            .bind(received.size as i64)
            .bind(&received.sha256)
            .bind(&key)
            .bind(now)
            .bind(i64::from(slot.max_files))
            .bind(i64::from(limits.files))
            .bind(i64::try_from(limits.submission_bytes).unwrap_or(i64::MAX))
            .only_if_previous_changed(),
            sql("UPDATE draft SET revision = revision + 1, updated_at = $2 WHERE id = $1")
                .bind(upload.draft_id)
                .bind(now)
                .only_if_previous_changed(),
            sql("DELETE FROM attachment_pending WHERE id = $1")
                .bind(&id)
                .only_if_previous_changed(),
        ])
        .await;
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            discard(store, &id, &key).await;
            return Err(e.into());
        }
    };
    let changed = |i: usize| written.get(i).is_some_and(|w| w.changed > 0);
    if changed(4) {
        return Ok(Attachment {
            id,
            draft_id: upload.draft_id.to_owned(),
            slot: upload.slot.to_owned(),
            file_name: file,
            media_type: received.media_type.to_owned(),
            size: received.size as i64,
            sha256: received.sha256,
            created_at: now,
        });
    }
    if !changed(0) {
        // A sweep took the upload over (it removes the blob): it took too long.
        return Err(AttachmentError::Expired { file });
    }
    discard(store, &id, &key).await;
    if !changed(1) {
        return match crate::draft(db, upload.person_id, upload.draft_id)
            .await
            .map_err(filing_to_attachment)?
        {
            Some(_) => Err(AttachmentError::AlreadySubmitted),
            None => Err(AttachmentError::UnknownDraft),
        };
    }
    // Another upload to the draft came first and took the room: say which limit.
    let after = totals(db, upload.draft_id, upload.slot).await?;
    check_counts(&after, slot, &limits, &file)?;
    Err(AttachmentError::SubmissionTooLarge {
        file,
        limit: limits.submission_bytes,
    })
}

fn filing_to_attachment(e: crate::FilingError) -> AttachmentError {
    match e {
        crate::FilingError::Store(e) => AttachmentError::Store(e),
        crate::FilingError::UnknownDraft => AttachmentError::UnknownDraft,
        crate::FilingError::AlreadySubmitted => AttachmentError::AlreadySubmitted,
        crate::FilingError::UnknownForm(f) => AttachmentError::UnknownForm(f),
        other => AttachmentError::Store(StoreError::NotCommitted(other.to_string())),
    }
}

/// Removes a refused upload's blob, then its record. Should either fail (or the process
/// stop), the record stays for the sweep. Only while the record is there and no committed
/// attachment names the blob: a commit whose answer was lost (the connection broke after
/// `COMMIT`) removed the record, and its blob must stay.
async fn discard(store: &Attachments, id: &str, key: &str) {
    let marked = store
        .db
        .write_one(
            sql("UPDATE attachment_pending SET state = 'discard' WHERE id = $1                  AND NOT EXISTS (SELECT 1 FROM attachment a WHERE a.blob_key = attachment_pending.blob_key)")
            .bind(id),
        )
        .await;
    if !marked.is_ok_and(|w| w.changed == 1) {
        return;
    }
    if let Err(e) = store.blobs.delete(key).await {
        tracing::warn!(key, error = %e, "cannot remove a refused upload's blob; the sweep will");
        return;
    }
    if let Err(e) = store
        .db
        .write_one(sql("DELETE FROM attachment_pending WHERE id = $1").bind(id))
        .await
    {
        tracing::warn!(id, error = %e, "cannot remove a refused upload's record; the sweep will");
    }
}

struct Totals {
    files: u64,
    bytes: u64,
    in_slot: u64,
}

async fn totals(db: &Db, draft_id: &str, slot: &str) -> Result<Totals, StoreError> {
    let row = db
        .fetch_optional(
            sql("SELECT COUNT(*) AS files, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes, \
                 CAST(COALESCE(SUM(CASE WHEN slot = $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS in_slot \
                 FROM attachment WHERE draft_id = $1")
            .bind(draft_id)
            .bind(slot),
        )
        .await?;
    let get = |name: &str| -> Result<u64, StoreError> {
        Ok(match &row {
            Some(r) => u64::try_from(r.get::<i64>(name)?).unwrap_or(0),
            None => 0,
        })
    };
    Ok(Totals {
        files: get("files")?,
        bytes: get("bytes")?,
        in_slot: get("in_slot")?,
    })
}

fn check_counts(
    totals: &Totals,
    slot: &AttachmentSlot,
    limits: &Limits,
    file: &str,
) -> Result<(), AttachmentError> {
    if totals.in_slot >= u64::from(slot.max_files) {
        return Err(AttachmentError::TooManyInSlot {
            file: file.to_owned(),
            slot: slot.id.clone(),
            max: slot.max_files,
        });
    }
    if totals.files >= u64::from(limits.files) {
        return Err(AttachmentError::TooManyFiles {
            file: file.to_owned(),
            max: limits.files,
        });
    }
    Ok(())
}

/// What arrived and was written.
struct Received {
    media_type: &'static str,
    size: u64,
    sha256: String,
}

/// Streams the body into the blob `key`, deciding its type from its first bytes, hashing and
/// counting it, and stops at the first limit passed; then checks zip containers.
#[allow(clippy::too_many_arguments)]
async fn receive<S, E>(
    store: &Attachments,
    clock: &dyn Clock,
    id: &str,
    key: &str,
    file: &str,
    slot: &AttachmentSlot,
    file_limit: u64,
    room: u64,
    limits: &Limits,
    body: S,
) -> Result<Received, AttachmentError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut kind: Option<Kind> = None;
    let mut writer = store.blobs.create(key).await?;
    let mut touched = clock.now();
    let outcome: Result<(), AttachmentError> = async {
        loop {
            let chunk = match body.next().await {
                Some(Ok(chunk)) => Some(chunk),
                Some(Err(e)) => {
                    return Err(AttachmentError::Interrupted {
                        file: file.to_owned(),
                        reason: e.to_string(),
                    })
                }
                None => None,
            };
            let Some(chunk) = chunk else { break };
            size += chunk.len() as u64;
            if size > file_limit {
                return Err(AttachmentError::FileTooLarge {
                    file: file.to_owned(),
                    limit: file_limit,
                });
            }
            if size > room {
                return Err(AttachmentError::SubmissionTooLarge {
                    file: file.to_owned(),
                    limit: limits.submission_bytes,
                });
            }
            hasher.update(&chunk);
            if kind.is_none() {
                let wanted = SNIFF_BYTES - head.len();
                head.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
                if head.len() >= SNIFF_BYTES {
                    kind = Some(decide(&head, slot, file)?);
                }
            }
            writer.write(chunk).await?;
            let now = clock.now();
            if now - touched >= TOUCH_EVERY_SECS {
                touch(&store.db, id, file, now).await?;
                touched = now;
            }
        }
        if size == 0 {
            return Err(AttachmentError::Empty {
                file: file.to_owned(),
            });
        }
        if kind.is_none() {
            kind = Some(decide(&head, slot, file)?);
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        let _ = writer.abort().await;
        return Err(e);
    }
    writer.finish().await?;
    let media_type = match kind {
        Some(Kind::Plain(media_type)) => media_type,
        Some(Kind::Zip) | None => {
            let media_type = check_zip(&store.blobs, key, size, file).await?;
            if !slot.types.iter().any(|t| t == media_type) {
                return Err(wrong_type(file, type_name(media_type), slot));
            }
            media_type
        }
    };
    Ok(Received {
        media_type,
        size,
        sha256: hex(&hasher.finalize()),
    })
}

async fn touch(db: &Db, id: &str, file: &str, now: i64) -> Result<(), AttachmentError> {
    let written = db
        .write_one(
            sql("UPDATE attachment_pending SET touched_at = $2 WHERE id = $1 AND state = 'uploading'")
                .bind(id)
                .bind(now),
        )
        .await?;
    if written.changed == 0 {
        return Err(AttachmentError::Expired {
            file: file.to_owned(),
        });
    }
    Ok(())
}

/// A file's type as its first bytes tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Plain(&'static str),
    /// A zip container: DOCX or ODT once its parts are checked.
    Zip,
}

fn wrong_type(file: &str, found: &str, slot: &AttachmentSlot) -> AttachmentError {
    AttachmentError::WrongType {
        file: file.to_owned(),
        found: found.to_owned(),
        allowed: slot.types.clone(),
    }
}

/// Media types of programs, as the `infer` crate names them.
const PROGRAM_TYPES: &[&str] = &[
    "application/wasm",
    "application/x-executable",
    "application/vnd.microsoft.portable-executable",
    "application/java",
    "application/java-archive",
    "application/x-llvm",
    "application/x-mach-binary",
    "application/vnd.android.dex",
    "application/vnd.android.dey",
    "application/vnd.android.package-archive",
    "text/x-shellscript",
];

/// Decides the type from the first bytes and checks it against the slot.
fn decide(head: &[u8], slot: &AttachmentSlot, file: &str) -> Result<Kind, AttachmentError> {
    let kind = sniff(head).map_err(|found| AttachmentError::Program {
        file: file.to_owned(),
        found,
    })?;
    match kind {
        Some(Kind::Plain(media_type)) if slot.types.iter().any(|t| t == media_type) => {
            Ok(Kind::Plain(media_type))
        }
        Some(Kind::Zip) if slot.types.iter().any(|t| t == DOCX || t == ODT) => Ok(Kind::Zip),
        Some(Kind::Plain(media_type)) => Err(wrong_type(file, type_name(media_type), slot)),
        Some(Kind::Zip) => Err(wrong_type(file, "ZIP", slot)),
        None => Err(wrong_type(file, "unknown", slot)),
    }
}

/// The type of a file from its first bytes: `Err` names a program; `None`: not one the
/// filing office knows.
fn sniff(head: &[u8]) -> Result<Option<Kind>, String> {
    let without_bom = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.starts_with(b"#!") {
        return Err("script".into());
    }
    // However short the file (`infer` wants 52 bytes of an ELF header).
    if head.starts_with(b"\x7fELF") {
        return Err("application/x-executable".into());
    }
    if let Some(found) = infer::get(head) {
        let mime = found.mime_type();
        // `MZ` alone marks a Windows program for `infer`; a text may start so too ("MZe …").
        let text_after_all =
            mime == "application/vnd.microsoft.portable-executable" && looks_like_text(head);
        if PROGRAM_TYPES.contains(&mime) && !text_after_all {
            return Err(mime.to_owned());
        }
        match mime {
            "application/pdf" => return Ok(Some(Kind::Plain("application/pdf"))),
            "image/jpeg" => return Ok(Some(Kind::Plain("image/jpeg"))),
            "image/png" => return Ok(Some(Kind::Plain("image/png"))),
            "image/tiff" => return Ok(Some(Kind::Plain("image/tiff"))),
            "text/xml" => return Ok(Some(Kind::Plain("application/xml"))),
            _ => {}
        }
    }
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Some(Kind::Zip));
    }
    if without_bom.starts_with(b"<?xml") {
        return Ok(Some(Kind::Plain("application/xml")));
    }
    if looks_like_text(head) {
        return Ok(Some(Kind::Plain("text/plain")));
    }
    Ok(None)
}

/// UTF-8 without control characters other than tab, line feed, carriage return and form
/// feed (a character cut at the end of the sniffed bytes is allowed).
fn looks_like_text(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => match std::str::from_utf8(&head[..e.valid_up_to()]) {
            Ok(t) => t,
            Err(_) => return false,
        },
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

/// Reads a blob in ranges as `Read + Seek`, for the zip reader, on a blocking thread.
struct BlobReader {
    blobs: BlobStore,
    key: String,
    size: u64,
    position: u64,
    runtime: tokio::runtime::Handle,
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let end = (self.position + buf.len() as u64).min(self.size);
        let bytes = self
            .runtime
            .block_on(self.blobs.read_range(&self.key, self.position..end))
            .map_err(std::io::Error::other)?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let position = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = position.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.position)
    }
}

/// Checks a zip container read back from the blob store, in ranges and never unpacked to
/// disk: entries, declared and actual unpacked sizes, compression ratio, and the parts a
/// DOCX or ODT document has. Returns its media type.
async fn check_zip(
    blobs: &BlobStore,
    key: &str,
    size: u64,
    file: &str,
) -> Result<&'static str, AttachmentError> {
    let reader = BlobReader {
        blobs: blobs.clone(),
        key: key.to_owned(),
        size,
        position: 0,
        runtime: tokio::runtime::Handle::current(),
    };
    let file = file.to_owned();
    let file_name = file.clone();
    tokio::task::spawn_blocking(move || {
        check_zip_parts(
            std::io::BufReader::with_capacity(64 * 1024, reader),
            size,
            &file,
        )
    })
    .await
    .map_err(|e| AttachmentError::Interrupted {
        file: file_name,
        reason: e.to_string(),
    })?
}

fn check_zip_parts<R: Read + Seek>(
    reader: R,
    packed: u64,
    file: &str,
) -> Result<&'static str, AttachmentError> {
    let bomb = || AttachmentError::ZipBomb {
        file: file.to_owned(),
    };
    let not_a_document = |problem: String| AttachmentError::NotADocument {
        file: file.to_owned(),
        expected: "DOCX/ODT",
        problem,
    };
    let mut archive =
        zip::ZipArchive::new(reader).map_err(|e| not_a_document(format!("not a zip file: {e}")))?;
    if archive.len() > ZIP_MAX_ENTRIES {
        return Err(bomb());
    }
    let mut declared: u64 = 0;
    let mut names = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| not_a_document(e.to_string()))?;
        if entry.encrypted() {
            return Err(not_a_document("encrypted".into()));
        }
        let (size, compressed) = (entry.size(), entry.compressed_size());
        declared = declared.saturating_add(size);
        if size > ZIP_RATIO_FROM_BYTES && size / compressed.max(1) > ZIP_MAX_RATIO {
            return Err(bomb());
        }
        names.push(
            entry
                .name()
                .map_err(|e| not_a_document(e.to_string()))?
                .into_owned(),
        );
    }
    if declared > ZIP_MAX_UNPACKED_BYTES
        || (declared > ZIP_RATIO_FROM_BYTES && declared / packed.max(1) > ZIP_MAX_RATIO)
    {
        return Err(bomb());
    }
    // The declared sizes may lie: unpack every part into nothing, counting, and stop at the
    // first byte past what it declared.
    let mut unpacked: u64 = 0;
    let mut sink = [0u8; 16 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| not_a_document(e.to_string()))?;
        let declared_size = entry.size();
        let mut read: u64 = 0;
        loop {
            let n = entry
                .read(&mut sink)
                .map_err(|e| not_a_document(format!("damaged: {e}")))?;
            if n == 0 {
                break;
            }
            read += n as u64;
            unpacked += n as u64;
            if read > declared_size || unpacked > ZIP_MAX_UNPACKED_BYTES {
                return Err(bomb());
            }
        }
    }
    let has = |name: &str| names.iter().any(|n| n == name);
    if has("word/document.xml") {
        if !has("[Content_Types].xml") {
            return Err(not_a_document("no [Content_Types].xml".into()));
        }
        if names
            .iter()
            .any(|n| n.to_ascii_lowercase().ends_with("vbaproject.bin"))
        {
            return Err(AttachmentError::Macros {
                file: file.to_owned(),
            });
        }
        return Ok(DOCX);
    }
    if has("mimetype") {
        let mut mimetype = String::new();
        archive
            .by_name("mimetype")
            .map_err(|e| not_a_document(e.to_string()))?
            .take(200)
            .read_to_string(&mut mimetype)
            .map_err(|e| not_a_document(e.to_string()))?;
        if mimetype.trim() == ODT && has("content.xml") && has("META-INF/manifest.xml") {
            if names
                .iter()
                .any(|n| n.starts_with("Basic/") || n.starts_with("Scripts/"))
            {
                return Err(AttachmentError::Macros {
                    file: file.to_owned(),
                });
            }
            return Ok(ODT);
        }
    }
    Err(not_a_document("not a DOCX or ODT document".into()))
}

/// A file name safe to keep and show: the last part of a path only, without control,
/// reserved or direction-changing characters, not a Windows device name, not hidden, and at
/// most [`NAME_MAX_CHARS`] characters — keeping its extension.
pub fn sanitise_file_name(name: &str) -> String {
    // Browsers and clients may send a whole path (`C:\Users\…\doklad.pdf`, `../../x`).
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control()
                || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
                || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut cleaned = cleaned
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_owned();
    while cleaned.contains("..") {
        cleaned = cleaned.replace("..", ".");
    }
    let (stem, extension) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.chars().count() <= 10 => {
            (stem.trim().to_owned(), Some(ext.to_owned()))
        }
        _ => (cleaned.clone(), None),
    };
    let mut stem = if stem.is_empty() {
        "priloha".to_owned()
    } else {
        stem
    };
    // CON, PRN, AUX, NUL, COM1–9, LPT1–9 name devices on Windows, whatever the extension.
    let device = stem
        .split('.')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let is_device = matches!(device.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((device.starts_with("COM") || device.starts_with("LPT"))
            && device.len() == 4
            && device[3..].chars().all(|c| c.is_ascii_digit() && c != '0'));
    if is_device {
        stem.insert(0, '_');
    }
    let room = NAME_MAX_CHARS - extension.as_ref().map_or(0, |e| e.chars().count() + 1);
    if stem.chars().count() > room {
        stem = stem
            .chars()
            .take(room)
            .collect::<String>()
            .trim_end()
            .to_owned();
    }
    match extension {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem,
    }
}

/// A person's attachments of a draft, in slot order and then the order they were added.
pub async fn list(
    db: &Db,
    person_id: &str,
    draft_id: &str,
) -> Result<Vec<Attachment>, AttachmentError> {
    let rows = db
        .fetch_all(
            sql(concat!(
                "SELECT ",
                attachment_columns!(),
                " FROM attachment a JOIN draft d ON d.id = a.draft_id \
                 WHERE a.draft_id = $1 AND d.person_id = $2 ORDER BY a.slot_index, a.position"
            ))
            .bind(draft_id)
            .bind(person_id),
        )
        .await?;
    Ok(rows
        .iter()
        .map(attachment_from)
        .collect::<Result<Vec<_>, _>>()?)
}

/// A draft's attachments without the person check, for `submit` and `receipt` (which did it).
pub(crate) async fn of_draft(db: &Db, draft_id: &str) -> Result<Vec<Attachment>, StoreError> {
    let rows = db
        .fetch_all(
            sql(concat!(
                "SELECT ",
                attachment_columns!(),
                " FROM attachment a WHERE a.draft_id = $1 ORDER BY a.slot_index, a.position"
            ))
            .bind(draft_id),
        )
        .await?;
    rows.iter().map(attachment_from).collect()
}

/// One of a person's attachments and its bytes as a stream.
pub async fn read(
    store: &Attachments,
    person_id: &str,
    attachment_id: &str,
) -> Result<(Attachment, BoxStream<'static, Result<Bytes, BlobError>>), AttachmentError> {
    let row = store
        .db
        .fetch_optional(
            sql(concat!(
                "SELECT ",
                attachment_columns!(),
                ", a.blob_key FROM attachment a JOIN draft d ON d.id = a.draft_id \
                 WHERE a.id = $1 AND d.person_id = $2"
            ))
            .bind(attachment_id)
            .bind(person_id),
        )
        .await?
        .ok_or(AttachmentError::UnknownAttachment)?;
    let attachment = attachment_from(&row)?;
    let key: String = row.get("blob_key")?;
    let bytes = store.blobs.read(&key).await?;
    Ok((attachment, bytes))
}

/// Removes one of a person's attachments from a draft not yet submitted.
pub async fn remove(
    store: &Attachments,
    clock: &dyn Clock,
    person_id: &str,
    draft_id: &str,
    attachment_id: &str,
) -> Result<(), AttachmentError> {
    let db = &store.db;
    let now = clock.now();
    let pending_id = crate::new_id();
    let written = db
        .write([
            sql("UPDATE draft SET revision = revision + 1, updated_at = $3 \
                 WHERE id = $1 AND person_id = $2 AND submitted_at IS NULL \
                 AND EXISTS (SELECT 1 FROM attachment WHERE id = $4 AND draft_id = $1)")
            .bind(draft_id)
            .bind(person_id)
            .bind(now)
            .bind(attachment_id),
            // The blob to remove, recorded in the same write: should this process stop before
            // it is removed, the sweep removes it.
            sql("INSERT INTO attachment_pending (id, draft_id, blob_key, state, started_at, touched_at) \
                 SELECT $1, draft_id, blob_key, 'discard', $2, $2 FROM attachment WHERE id = $3 AND draft_id = $4 \
                 RETURNING blob_key")
            .bind(&pending_id)
            .bind(now)
            .bind(attachment_id)
            .bind(draft_id)
            .only_if_previous_changed(),
            sql("DELETE FROM attachment WHERE id = $1 AND draft_id = $2")
                .bind(attachment_id)
                .bind(draft_id)
                .only_if_previous_changed(),
        ])
        .await?;
    if written.get(2).is_some_and(|w| w.changed > 0) {
        // The key as stored: files of an earlier layout are kept under other keys.
        let key: Option<String> = written[1].rows.first().and_then(|r| r.get("blob_key").ok());
        if let Some(key) = key {
            if store.blobs.delete(&key).await.is_ok() {
                let _ = db
                    .write_one(
                        sql("DELETE FROM attachment_pending WHERE id = $1").bind(&pending_id),
                    )
                    .await;
            }
        }
        return Ok(());
    }
    match crate::draft(db, person_id, draft_id)
        .await
        .map_err(filing_to_attachment)?
    {
        Some(d) if d.submitted_at.is_some() => Err(AttachmentError::AlreadySubmitted),
        Some(_) => Err(AttachmentError::UnknownAttachment),
        None => Err(AttachmentError::UnknownDraft),
    }
}

/// What a sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Uploads abandoned by a process that stopped, taken over.
    pub abandoned: u64,
    /// Blobs removed (abandoned, refused or removed attachments' blobs).
    pub blobs_removed: u64,
}

/// Removes what crashed or failed uploads and removals left: uploads whose process has not
/// touched them for `stale_after_secs` are taken over, and the blobs of every upload given up
/// are removed, then their records. Uploads in progress (in this process or another sharing
/// the database) are left alone. Safe to run from several processes at once.
pub async fn sweep(
    db: &Db,
    blobs: &BlobStore,
    clock: &dyn Clock,
    stale_after_secs: i64,
) -> Result<Swept, AttachmentError> {
    let cutoff = clock.now() - stale_after_secs;
    let abandoned = db
        .write_one(
            sql("UPDATE attachment_pending SET state = 'discard' \
                 WHERE state = 'uploading' AND touched_at < $1")
            .bind(cutoff),
        )
        .await?
        .changed;
    let rows = db
        .fetch_all(sql("SELECT p.id, p.blob_key, \
             (SELECT COUNT(*) FROM attachment a WHERE a.blob_key = p.blob_key) AS kept \
             FROM attachment_pending p WHERE p.state = 'discard'"))
        .await?;
    let mut swept = Swept {
        abandoned,
        blobs_removed: 0,
    };
    for row in rows {
        let id: String = row.get("id")?;
        let key: String = row.get("blob_key")?;
        // A committed attachment's blob is never removed, whatever a record says.
        if row.get::<i64>("kept")? == 0 {
            blobs.delete(&key).await?;
            swept.blobs_removed += 1;
        }
        db.write_one(
            sql("DELETE FROM attachment_pending WHERE id = $1 AND state = 'discard'").bind(&id),
        )
        .await?;
    }
    Ok(swept)
}

/// The attachments of a draft checked against its form before it is submitted: every shown
/// required slot has a file, no slot has more than it takes, and the submission's totals are
/// within the limits. Returns them as the receipt lists them.
pub(crate) async fn check_for_submission(
    db: &Db,
    form: &FormDefinition,
    draft: &crate::Draft,
    limits: &Limits,
) -> Result<Vec<crate::ReceiptAttachment>, SubmissionProblem> {
    let attachments = of_draft(db, &draft.id)
        .await
        .map_err(SubmissionProblem::Store)?;
    let mut problems = Vec::new();
    for slot in &form.ui.attachments {
        let shown = slot.show_if.as_ref().is_none_or(|c| c.holds(&draft.data));
        let count = attachments.iter().filter(|a| a.slot == slot.id).count();
        if slot.required && shown && count == 0 {
            problems.push(AttachmentProblem::Missing {
                slot: slot.id.clone(),
                label: slot.label.clone(),
            });
        }
        if count > slot.max_files as usize {
            problems.push(AttachmentProblem::TooManyInSlot {
                slot: slot.id.clone(),
                label: slot.label.clone(),
                max: slot.max_files,
            });
        }
    }
    let bytes: i64 = attachments.iter().map(|a| a.size).sum();
    if attachments.len() > limits.files as usize {
        problems.push(AttachmentProblem::TooManyFiles { max: limits.files });
    }
    if u64::try_from(bytes).unwrap_or(0) > limits.submission_bytes {
        problems.push(AttachmentProblem::TooLarge {
            limit: limits.submission_bytes,
        });
    }
    if !problems.is_empty() {
        return Err(SubmissionProblem::Attachments(problems));
    }
    Ok(attachments.iter().map(Into::into).collect())
}

pub(crate) enum SubmissionProblem {
    Store(StoreError),
    Attachments(Vec<AttachmentProblem>),
}

impl From<SubmissionProblem> for crate::FilingError {
    fn from(problem: SubmissionProblem) -> crate::FilingError {
        match problem {
            SubmissionProblem::Store(e) => crate::FilingError::Store(e),
            SubmissionProblem::Attachments(p) => crate::FilingError::Attachments(p),
        }
    }
}

/// What is wrong with a draft's attachments when it is submitted.
#[derive(Clone, Debug, PartialEq)]
pub enum AttachmentProblem {
    /// A required slot, shown, has no file.
    Missing {
        slot: String,
        label: urad_core::Text,
    },
    TooManyInSlot {
        slot: String,
        label: urad_core::Text,
        max: u32,
    },
    TooManyFiles {
        max: u32,
    },
    TooLarge {
        limit: u64,
    },
}

impl AttachmentProblem {
    /// For the citizen, naming the slot by its label.
    pub fn message(&self, lang: Lang) -> String {
        let cs = matches!(lang, Lang::Cs);
        match self {
            AttachmentProblem::Missing { label, .. } => {
                if cs {
                    format!("Přiložte „{}“.", label.get(lang))
                } else {
                    format!("Attach “{}”.", label.get(lang))
                }
            }
            AttachmentProblem::TooManyInSlot { label, max, .. } => {
                if cs {
                    format!(
                        "K „{}“ patří nejvýše {}; odeberte přebývající.",
                        label.get(lang),
                        count_cs(*max, "soubor", "soubory", "souborů")
                    )
                } else {
                    format!(
                        "“{}” takes at most {}; remove the extra ones.",
                        label.get(lang),
                        count_en(*max, "file", "files")
                    )
                }
            }
            AttachmentProblem::TooManyFiles { max } => {
                if cs {
                    format!(
                        "Podání může mít nejvýše {}; odeberte přebývající.",
                        count_cs(*max, "přílohu", "přílohy", "příloh")
                    )
                } else {
                    format!(
                        "A submission can have at most {}; remove the extra ones.",
                        count_en(*max, "attachment", "attachments")
                    )
                }
            }
            AttachmentProblem::TooLarge { limit } => {
                if cs {
                    format!(
                        "Přílohy podání mají dohromady víc než {}; odeberte některé.",
                        size_text(*limit, lang)
                    )
                } else {
                    format!(
                        "The attachments exceed {} in total; remove some.",
                        size_text(*limit, lang)
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_sanitised_and_keep_their_extension() {
        assert_eq!(sanitise_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitise_file_name("..\\..\\windows\\system.ini"),
            "system.ini"
        );
        assert_eq!(
            sanitise_file_name("C:\\Users\\jana\\Doklad.pdf"),
            "Doklad.pdf"
        );
        assert_eq!(sanitise_file_name(".."), "priloha");
        assert_eq!(sanitise_file_name(""), "priloha");
        assert_eq!(sanitise_file_name("...hidden.pdf"), "hidden.pdf");
        assert_eq!(sanitise_file_name("a\u{0}b\nc.pdf"), "a_b_c.pdf");
        assert_eq!(sanitise_file_name("what?<>*|\".pdf"), "what______.pdf");
        assert_eq!(
            sanitise_file_name("faktura\u{202E}fdp.exe"),
            "faktura_fdp.exe"
        );
        assert_eq!(sanitise_file_name("CON.pdf"), "_CON.pdf");
        assert_eq!(sanitise_file_name("lpt1.txt"), "_lpt1.txt");
        assert_eq!(sanitise_file_name("console.pdf"), "console.pdf");
        assert_eq!(
            sanitise_file_name("Žádost o dotaci.docx"),
            "Žádost o dotaci.docx"
        );
        let long = format!("{}.pdf", "ř".repeat(500));
        let kept = sanitise_file_name(&long);
        assert_eq!(kept.chars().count(), NAME_MAX_CHARS);
        assert!(kept.ends_with(".pdf"));
    }

    #[test]
    fn programs_are_told_from_documents_by_content() {
        assert_eq!(
            sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"),
            Err("application/x-executable".into())
        );
        assert!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0").is_err());
        assert!(sniff(b"#!/bin/sh\nrm -rf /\n").is_err());
        assert!(sniff(b"\xcf\xfa\xed\xfe\x07\0\0\x01\x03\0\0\0").is_err());
        assert_eq!(
            sniff(b"%PDF-1.7\n"),
            Ok(Some(Kind::Plain("application/pdf")))
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(Some(Kind::Plain("image/png")))
        );
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0"), Ok(Some(Kind::Zip)));
        assert_eq!(
            sniff("Dobrý den,\nžádám…".as_bytes()),
            Ok(Some(Kind::Plain("text/plain")))
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><a/>"),
            Ok(Some(Kind::Plain("application/xml")))
        );
        assert_eq!(sniff(b"\0\x01\x02\x03binary"), Ok(None));
        assert_eq!(
            sniff("MZe: žádost".as_bytes()),
            Ok(Some(Kind::Plain("text/plain")))
        );
    }

    #[test]
    fn sizes_read_in_each_language() {
        assert_eq!(size_text(10 * MIB, Lang::Cs), "10 MB");
        assert_eq!(size_text(3 * MIB / 2, Lang::Cs), "1,5 MB");
        assert_eq!(size_text(3 * MIB / 2, Lang::En), "1.5 MB");
    }
}
