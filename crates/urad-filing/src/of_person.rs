//! What one person has at the filing office, for "My submissions": their unfinished drafts
//! and their received submissions, newest first, and the removal of a draft they no longer
//! want. Every query is bound to the person: nobody sees or removes another's.

use crate::{draft_from, Draft, FilingError, Receipt};
use urad_store::{sql, Db};

/// The person's drafts not yet submitted, the last saved first; only those of `form_id`
/// when given.
pub async fn drafts(
    db: &Db,
    person_id: &str,
    form_id: Option<&str>,
) -> Result<Vec<Draft>, FilingError> {
    let rows = match form_id {
        Some(form) => {
            db.fetch_all(
                sql("SELECT id, person_id, form_id, form_version, data, created_at, updated_at, submitted_at, revision \
                     FROM draft WHERE person_id = $1 AND form_id = $2 AND submitted_at IS NULL \
                     ORDER BY updated_at DESC, id")
                .bind(person_id)
                .bind(form),
            )
            .await?
        }
        None => {
            db.fetch_all(
                sql("SELECT id, person_id, form_id, form_version, data, created_at, updated_at, submitted_at, revision \
                     FROM draft WHERE person_id = $1 AND submitted_at IS NULL \
                     ORDER BY updated_at DESC, id")
                .bind(person_id),
            )
            .await?
        }
    };
    rows.iter().map(draft_from).collect()
}

/// The person's received submissions, the latest first.
pub async fn submissions(db: &Db, person_id: &str) -> Result<Vec<Receipt>, FilingError> {
    let rows = db
        .fetch_all(
            sql("SELECT id, reference, scope, sequence, received_at, person_id, form_id, form_version, data_sha256, log_index \
                 FROM submission WHERE person_id = $1 ORDER BY received_at DESC, reference DESC")
            .bind(person_id),
        )
        .await?;
    // The list names no attachments: the detail page reads the whole receipt.
    rows.iter().map(crate::receipt_from).collect()
}

/// Removes one of the person's unfinished drafts. `Ok(false)` when there is no such draft of
/// theirs, or it was submitted (a submission is never removed).
pub async fn delete_draft(db: &Db, person_id: &str, draft_id: &str) -> Result<bool, FilingError> {
    let written = db
        .write_one(
            sql("DELETE FROM draft WHERE id = $1 AND person_id = $2 AND submitted_at IS NULL")
                .bind(draft_id)
                .bind(person_id),
        )
        .await?;
    Ok(written.changed == 1)
}
