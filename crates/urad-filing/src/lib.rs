//! The e-filing office (podatelna): drafts of online forms kept on the server, and their
//! submission — validated again, committed atomically with its registry-journal entry, a
//! reference number unique per office and year (`KUMSK 12345/2026`) and a receipt sequence
//! per scope (a grant call, a service) that increases by one in commit order.
//!
//! Why the numbers hold under a surge and across processes: both come from rows of
//! `filing_counter` updated inside the submission's own transaction. On PostgreSQL the row
//! stays locked until that transaction commits, so the next submission of the same scope gets
//! the next number only after the previous one is committed — numbers follow commit order —
//! and a transaction that rolls back gives its number back: no gaps. On SQLite the one writer
//! commits the writes in order (group commit, `urad-store`), with the same effect. The receipt
//! instant is the later of the server's clock and the scope's last instant, so instants never
//! go back in sequence order, whichever process's clock gave them.

pub mod attachments;
pub mod journal_check;
pub mod merkle;
pub mod of_person;
pub mod receipt;
pub mod receipt_log;
pub mod timestamp;
pub mod verify;

pub use journal_check::{verify_journal, JournalReport};

use serde_json::Value;
use sha2::{Digest, Sha256};
use urad_core::{hex, Clock, Lang};
use urad_forms::{FieldError, Forms};
use urad_store::statement::Row;
use urad_store::{sql, Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FilingError {
    #[error("no such draft of this person")]
    UnknownDraft,
    #[error("no form `{0}`")]
    UnknownForm(String),
    #[error("the draft was submitted already and can no longer change")]
    AlreadySubmitted,
    #[error("the draft changed while it was being submitted; submit it again")]
    Changed,
    #[error("the data do not match the form: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("the attachments do not match the form: {0:?}")]
    Attachments(Vec<attachments::AttachmentProblem>),
    #[error("database error: {0}")]
    Store(#[from] StoreError),
}

impl FilingError {
    /// What a citizen is told, in their language. Field errors are told at their fields
    /// (see [`FilingError::Invalid`]); this is the sentence above them.
    pub fn message(&self, lang: Lang) -> String {
        let (cs, en) = match self {
            FilingError::UnknownDraft => (
                "Tento koncept neexistuje, nebo patří někomu jinému.".to_owned(),
                "There is no such draft, or it belongs to someone else.".to_owned(),
            ),
            FilingError::UnknownForm(form) => (
                format!("Formulář „{form}“ neexistuje nebo jeho verze už není v provozu; začněte prosím nový koncept."),
                format!("The form “{form}” does not exist or its version is no longer in use; please start a new draft."),
            ),
            FilingError::AlreadySubmitted => (
                "Koncept už byl odeslán a nelze jej měnit.".to_owned(),
                "The draft has been sent already and can no longer change.".to_owned(),
            ),
            FilingError::Changed => (
                "Koncept se během odesílání změnil; zkontrolujte jej a odešlete znovu.".to_owned(),
                "The draft changed while it was being sent; check it and send it again.".to_owned(),
            ),
            FilingError::Invalid(errors) => (
                format!("Formulář obsahuje chyby ({}); opravte je a odešlete znovu.", errors.len()),
                format!("The form has errors ({}); correct them and send it again.", errors.len()),
            ),
            FilingError::Attachments(problems) => {
                let all = |lang: Lang| {
                    problems
                        .iter()
                        .map(|p| p.message(lang))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                (all(Lang::Cs), all(Lang::En))
            }
            FilingError::Store(_) => (
                "Podání se nepodařilo uložit kvůli technické chybě; nic nebylo přijato. Zkuste to prosím za chvíli znovu.".to_owned(),
                "The submission could not be stored because of a technical fault; nothing was received. Please try again shortly.".to_owned(),
            ),
        };
        match lang {
            Lang::Cs => cs,
            Lang::En => en,
        }
    }
}

/// A draft as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub id: String,
    pub person_id: String,
    pub form_id: String,
    pub form_version: u32,
    pub data: Value,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    /// Counts every change of the draft (data or attachments); a submission commits the
    /// revision it validated and no other.
    pub revision: i64,
}

/// What the filing office confirms it received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The submission's id (its draft's).
    pub id: String,
    /// `KUMSK 12345/2026`.
    pub reference: String,
    pub scope: String,
    pub sequence: i64,
    /// Unix seconds, from the server's clock.
    pub received_at: i64,
    pub person_id: String,
    pub form_id: String,
    pub form_version: u32,
    /// SHA-256 (hex) of the submitted data exactly as stored.
    pub data_sha256: String,
    /// The submission's leaf in the receipt log (0, 1, 2 … in commit order over all scopes).
    pub log_index: i64,
    /// The files that came with it, in slot order and then the order they were added.
    pub attachments: Vec<ReceiptAttachment>,
}

/// One attached file as the receipt names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptAttachment {
    /// The form's attachment slot.
    pub slot: String,
    /// The file's name as sanitised when it was uploaded.
    pub file_name: String,
    /// Decided from the content, not the name.
    pub media_type: String,
    pub size: i64,
    /// SHA-256 (hex) of the file's bytes.
    pub sha256: String,
}

/// A new draft id: 256 random bits, hexadecimal.
pub(crate) fn new_id() -> String {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a draft of the latest version of `form_id` for `person_id`; returns its id.
pub async fn start_draft(
    db: &Db,
    clock: &dyn Clock,
    forms: &Forms,
    person_id: &str,
    form_id: &str,
    data: &Value,
) -> Result<String, FilingError> {
    new_draft(db, clock, forms, person_id, form_id, data)
        .await
        .map(|d| d.id)
}

/// [`start_draft`], answering the draft as stored (what the API returns, without reading it
/// back).
pub async fn new_draft(
    db: &Db,
    clock: &dyn Clock,
    forms: &Forms,
    person_id: &str,
    form_id: &str,
    data: &Value,
) -> Result<Draft, FilingError> {
    let form = forms
        .latest(form_id)
        .ok_or_else(|| FilingError::UnknownForm(form_id.to_owned()))?;
    let id = new_id();
    let now = clock.now();
    db.write_one(
        sql("INSERT INTO draft (id, person_id, form_id, form_version, data, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)")
        .bind(&id)
        .bind(person_id)
        .bind(form_id)
        .bind(i64::from(form.version))
        .bind(data.to_string())
        .bind(now),
    )
    .await?;
    Ok(Draft {
        id,
        person_id: person_id.to_owned(),
        form_id: form_id.to_owned(),
        form_version: form.version,
        data: data.clone(),
        created_at: now,
        updated_at: now,
        submitted_at: None,
        // The column's default: a new draft has had no change yet.
        revision: 0,
    })
}

/// Replaces a draft's data (any part of it may be incomplete or wrong while it is a draft).
pub async fn save_draft(
    db: &Db,
    clock: &dyn Clock,
    person_id: &str,
    draft_id: &str,
    data: &Value,
) -> Result<(), FilingError> {
    let written = db
        .write_one(
            sql(
                "UPDATE draft SET data = $1, updated_at = $2, revision = revision + 1 \
                 WHERE id = $3 AND person_id = $4 AND submitted_at IS NULL",
            )
            .bind(data.to_string())
            .bind(clock.now())
            .bind(draft_id)
            .bind(person_id),
        )
        .await?;
    if written.changed == 1 {
        return Ok(());
    }
    match draft(db, person_id, draft_id).await? {
        Some(_) => Err(FilingError::AlreadySubmitted),
        None => Err(FilingError::UnknownDraft),
    }
}

/// A person's draft; `None` when it does not exist or is someone else's.
pub async fn draft(db: &Db, person_id: &str, draft_id: &str) -> Result<Option<Draft>, FilingError> {
    let row = db
        .fetch_optional(
            sql("SELECT id, person_id, form_id, form_version, data, created_at, updated_at, submitted_at, revision \
                 FROM draft WHERE id = $1 AND person_id = $2")
            .bind(draft_id)
            .bind(person_id),
        )
        .await?;
    row.map(|r| draft_from(&r)).transpose()
}

fn draft_from(row: &Row) -> Result<Draft, FilingError> {
    let data: String = row.get("data")?;
    Ok(Draft {
        id: row.get("id")?,
        person_id: row.get("person_id")?,
        form_id: row.get("form_id")?,
        form_version: u32::try_from(row.get::<i64>("form_version")?).unwrap_or(0),
        data: serde_json::from_str(&data).map_err(|_| StoreError::Column {
            column: "data".into(),
            problem: "not JSON",
        })?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        submitted_at: row.get("submitted_at")?,
        revision: row.get("revision")?,
    })
}

/// The calendar year of an instant in Europe/Prague (reference numbers count per year).
pub fn prague_year(unix_seconds: i64) -> i64 {
    let prague = jiff::tz::TimeZone::get("Europe/Prague").unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_second(unix_seconds)
        .map(|t| i64::from(t.to_zoned(prague).year()))
        .unwrap_or(1970)
}

/// Who submits which draft, counted in which scope, and the language of any error messages.
#[derive(Clone, Copy, Debug)]
pub struct SubmitRequest<'a> {
    pub person_id: &'a str,
    pub draft_id: &'a str,
    /// What the receipt sequence counts in: a grant call (`call:KD-2026`) or a form.
    pub scope: &'a str,
    pub lang: Lang,
    /// The office's limits on a submission's attachments (checked again on submitting).
    pub attachment_limits: attachments::Limits,
}

/// Submits a draft: validates its data against the form version it was filled with, then in
/// one atomic write marks the draft submitted, takes the scope's next receipt sequence and
/// the office's next reference number of the year, and enters the submission in the registry
/// journal. Submitting the same draft again returns the first receipt.
pub async fn submit(
    db: &Db,
    clock: &dyn Clock,
    forms: &Forms,
    office_code: &str,
    request: &SubmitRequest<'_>,
) -> Result<Receipt, FilingError> {
    let SubmitRequest {
        person_id,
        draft_id,
        scope,
        lang,
        attachment_limits,
    } = *request;
    let draft = draft(db, person_id, draft_id)
        .await?
        .ok_or(FilingError::UnknownDraft)?;
    if draft.submitted_at.is_some() {
        return receipt(db, person_id, draft_id)
            .await?
            .ok_or(FilingError::AlreadySubmitted);
    }
    let form = forms
        .version(&draft.form_id, draft.form_version)
        .ok_or_else(|| {
            FilingError::UnknownForm(format!("{} v{}", draft.form_id, draft.form_version))
        })?;
    let errors = form.check(&draft.data, lang);
    if !errors.is_empty() {
        return Err(FilingError::Invalid(errors));
    }
    // The revision check of the write below makes these the attachments committed.
    let attachments =
        attachments::check_for_submission(db, form, &draft, &attachment_limits).await?;
    let data = draft.data.to_string();
    let data_sha256 = hex(&Sha256::digest(data.as_bytes()));
    let now = clock.now();
    let year = prague_year(now);
    let sequence_counter = format!("sequence:{scope}");
    let reference_counter = format!("reference:{office_code}:{year}");
    // Leaves of the receipt log count from 0, so the counter's value minus one.
    let log_counter = "receipt-log";
    // The three counters in one statement, always in this order: on PostgreSQL their row
    // locks are held until the commit, so the fewer round trips while they are held, the more
    // submissions follow one another per second (and one order means no deadlock).
    let counters =
        sql("INSERT INTO filing_counter (name, value, last_at) VALUES ($1, 1, $4), ($2, 1, $4), ($3, 1, $4) \
             ON CONFLICT (name) DO UPDATE SET value = filing_counter.value + 1, \
             last_at = CASE WHEN filing_counter.last_at > $4 THEN filing_counter.last_at ELSE $4 END")
        .bind(sequence_counter.as_str())
        .bind(reference_counter.as_str())
        .bind(log_counter)
        .bind(now)
        .only_if_previous_changed();
    let written = db
        .write([
            // The draft exactly as validated, once: neither its data nor its attachments may
            // have changed meanwhile (`revision`).
            sql("UPDATE draft SET submitted_at = $1 \
                 WHERE id = $2 AND person_id = $3 AND submitted_at IS NULL AND revision = $4")
            .bind(now)
            .bind(draft_id)
            .bind(person_id)
            .bind(draft.revision)
            // A receipt promises the submission was received: it must survive a power loss.
            .durable(),
            counters,
            sql("INSERT INTO submission (id, reference, reference_year, reference_number, scope, sequence, \
                 received_at, person_id, form_id, form_version, data, data_sha256, log_index) \
                 SELECT $1, $2 || ' ' || r.value || '/' || $3, $3, r.value, $4, s.value, s.last_at, \
                 $5, $6, $7, $8, $9, l.value - 1 \
                 FROM filing_counter s, filing_counter r, filing_counter l \
                 WHERE s.name = $10 AND r.name = $11 AND l.name = $12 \
                 RETURNING reference, sequence, received_at, log_index")
            .bind(draft_id)
            .bind(office_code)
            .bind(year)
            .bind(scope)
            .bind(person_id)
            .bind(draft.form_id.as_str())
            .bind(i64::from(draft.form_version))
            .bind(data)
            .bind(data_sha256.as_str())
            .bind(sequence_counter.as_str())
            .bind(reference_counter.as_str())
            .bind(log_counter)
            .only_if_previous_changed(),
        ])
        .await?;
    let Some(row) = written.get(2).and_then(|w| w.rows.first()) else {
        // Not submitted by this call: another submitted it first, or the data changed.
        return receipt(db, person_id, draft_id)
            .await?
            .ok_or(FilingError::Changed);
    };
    Ok(Receipt {
        id: draft_id.to_owned(),
        reference: row.get("reference")?,
        scope: scope.to_owned(),
        sequence: row.get("sequence")?,
        received_at: row.get("received_at")?,
        person_id: person_id.to_owned(),
        form_id: draft.form_id,
        form_version: draft.form_version,
        data_sha256,
        log_index: row.get("log_index")?,
        attachments,
    })
}

/// The receipt of a person's submission.
pub async fn receipt(
    db: &Db,
    person_id: &str,
    submission_id: &str,
) -> Result<Option<Receipt>, FilingError> {
    let row = db
        .fetch_optional(
            sql("SELECT id, reference, scope, sequence, received_at, person_id, form_id, form_version, data_sha256, log_index \
                 FROM submission WHERE id = $1 AND person_id = $2")
            .bind(submission_id)
            .bind(person_id),
        )
        .await?;
    let Some(mut receipt) = row.map(|r| receipt_from(&r)).transpose()? else {
        return Ok(None);
    };
    receipt.attachments = attachments::of_draft(db, submission_id)
        .await?
        .iter()
        .map(Into::into)
        .collect();
    Ok(Some(receipt))
}

/// A received submission with its data, whoever sent it: for the back office, which checks
/// who may read it (and records that they did) before it asks.
pub async fn received(
    db: &Db,
    submission_id: &str,
) -> Result<Option<(Receipt, serde_json::Value)>, FilingError> {
    let row = db
        .fetch_optional(
            sql("SELECT id, reference, scope, sequence, received_at, person_id, form_id, form_version, data_sha256, log_index, data \
                 FROM submission WHERE id = $1")
            .bind(submission_id),
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut receipt = receipt_from(&row)?;
    let data: String = row.get("data")?;
    let data = serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
    receipt.attachments = attachments::of_draft(db, submission_id)
        .await?
        .iter()
        .map(Into::into)
        .collect();
    Ok(Some((receipt, data)))
}

/// The receipts of the submissions whose receipt-log leaves are `from`, `from + 1` … (at most
/// `limit` of them), in log order: what the receipt log is computed from.
pub async fn receipts_in_log_order(
    db: &Db,
    from: i64,
    limit: i64,
) -> Result<Vec<Receipt>, FilingError> {
    let rows = db
        .fetch_all(
            sql("SELECT id, reference, scope, sequence, received_at, person_id, form_id, form_version, data_sha256, log_index \
                 FROM submission WHERE log_index >= $1 ORDER BY log_index LIMIT $2")
            .bind(from)
            .bind(limit),
        )
        .await?;
    let mut attached = receipt_attachments(db, from, limit).await?;
    rows.iter()
        .map(|row| {
            let mut receipt = receipt_from(row)?;
            receipt.attachments = attached.remove(&receipt.id).unwrap_or_default();
            Ok(receipt)
        })
        .collect()
}

/// A receipt from its `submission` row. Both [`receipt`] and [`receipts_in_log_order`] read
/// through here, and both must name the submission's attachments: the receipt log's leaf is the
/// payload of the whole receipt (`receipt_log.rs`).
pub(crate) fn receipt_from(row: &Row) -> Result<Receipt, FilingError> {
    Ok(Receipt {
        id: row.get("id")?,
        reference: row.get("reference")?,
        scope: row.get("scope")?,
        sequence: row.get("sequence")?,
        received_at: row.get("received_at")?,
        person_id: row.get("person_id")?,
        form_id: row.get("form_id")?,
        form_version: u32::try_from(row.get::<i64>("form_version")?).unwrap_or(0),
        data_sha256: row.get("data_sha256")?,
        log_index: row.get("log_index")?,
        attachments: Vec::new(),
    })
}

/// The attachments named by the receipts of the submissions whose log leaves are `from` …
/// `from + limit - 1`, by submission, in slot order and
/// then upload order (one query for a whole page of the log).
async fn receipt_attachments(
    db: &Db,
    from: i64,
    limit: i64,
) -> Result<std::collections::HashMap<String, Vec<ReceiptAttachment>>, FilingError> {
    let rows = db
        .fetch_all(
            sql(
                "SELECT a.draft_id, a.slot, a.file_name, a.media_type, a.size, a.sha256 \
                 FROM attachment a JOIN submission s ON s.id = a.draft_id \
                 WHERE s.log_index >= $1 AND s.log_index < $1 + $2 \
                 ORDER BY a.draft_id, a.slot_index, a.position",
            )
            .bind(from)
            .bind(limit),
        )
        .await?;
    let mut by_submission: std::collections::HashMap<String, Vec<ReceiptAttachment>> =
        std::collections::HashMap::new();
    for row in rows {
        by_submission
            .entry(row.get("draft_id")?)
            .or_default()
            .push(ReceiptAttachment {
                slot: row.get("slot")?,
                file_name: row.get("file_name")?,
                media_type: row.get("media_type")?,
                size: row.get("size")?,
                sha256: row.get("sha256")?,
            });
    }
    Ok(by_submission)
}
