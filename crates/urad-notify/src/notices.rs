//! Notices in the portal: what a person is told, kept in both languages as rendered when it
//! was made (a later change of a template does not rewrite what someone was told), read or
//! unread.

use crate::NotifyError;
use serde::Serialize;
use urad_core::{Clock, Text};
use urad_store::statement::{Row, Statement};
use urad_store::{sql, Db};

/// A notice to add ([`notice_statement`]).
#[derive(Clone, Debug)]
pub struct NewNotice {
    pub id: String,
    pub person_id: String,
    pub kind: String,
    pub case_id: Option<String>,
    pub title: Text,
    pub body: Text,
}

impl NewNotice {
    /// A notice with a new id, from a rendered template.
    pub fn new(
        person_id: &str,
        kind: &str,
        case_id: Option<&str>,
        rendered: &crate::Rendered,
    ) -> NewNotice {
        NewNotice {
            id: crate::new_id(),
            person_id: person_id.to_owned(),
            kind: kind.to_owned(),
            case_id: case_id.map(str::to_owned),
            title: rendered.subject.clone(),
            body: rendered.body.clone(),
        }
    }
}

/// The statement that adds `notice`, for the caller's batch. A notice whose id exists already
/// is not added again.
pub fn notice_statement(notice: &NewNotice, clock: &dyn Clock) -> Statement {
    sql(
        "INSERT INTO notice (id, person_id, kind, case_id, title_cs, title_en, body_cs, body_en, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&notice.id)
    .bind(&notice.person_id)
    .bind(&notice.kind)
    .bind(notice.case_id.clone())
    .bind(&notice.title.cs)
    .bind(&notice.title.en)
    .bind(&notice.body.cs)
    .bind(&notice.body.en)
    .bind(clock.now())
}

/// A notice as the portal shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub id: String,
    pub person_id: String,
    pub kind: String,
    pub case_id: Option<String>,
    pub title: Text,
    pub body: Text,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl Notice {
    fn from_row(row: &Row) -> Result<Notice, NotifyError> {
        Ok(Notice {
            id: row.get("id")?,
            person_id: row.get("person_id")?,
            kind: row.get("kind")?,
            case_id: row.get("case_id")?,
            title: Text::new(
                row.get::<String>("title_cs")?,
                row.get::<String>("title_en")?,
            ),
            body: Text::new(row.get::<String>("body_cs")?, row.get::<String>("body_en")?),
            created_at: row.get("created_at")?,
            read_at: row.get("read_at")?,
        })
    }

    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }
}

/// A person's notices, newest first.
pub async fn notices_of(db: &Db, person_id: &str, limit: i64) -> Result<Vec<Notice>, NotifyError> {
    let rows = db
        .fetch_all(
            sql(
                "SELECT id, person_id, kind, case_id, title_cs, title_en, body_cs, body_en, \
                 created_at, read_at FROM notice WHERE person_id = $1 \
                 ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(person_id)
            .bind(limit),
        )
        .await?;
    rows.iter().map(Notice::from_row).collect()
}

/// Marks one of the person's notices read. `false`: no such notice of theirs, or read already.
pub async fn mark_read(
    db: &Db,
    clock: &dyn Clock,
    person_id: &str,
    notice_id: &str,
) -> Result<bool, NotifyError> {
    let written = db
        .write_one(
            sql(
                "UPDATE notice SET read_at = $3 WHERE id = $1 AND person_id = $2 \
                 AND read_at IS NULL",
            )
            .bind(notice_id)
            .bind(person_id)
            .bind(clock.now()),
        )
        .await?;
    Ok(written.changed == 1)
}

/// Marks all of a person's notices read; returns how many were unread.
pub async fn mark_all_read(
    db: &Db,
    clock: &dyn Clock,
    person_id: &str,
) -> Result<u64, NotifyError> {
    let written = db
        .write_one(
            sql("UPDATE notice SET read_at = $2 WHERE person_id = $1 AND read_at IS NULL")
                .bind(person_id)
                .bind(clock.now()),
        )
        .await?;
    Ok(written.changed)
}

/// How many of a person's notices are unread (the badge beside "Zprávy").
pub async fn unread_count(db: &Db, person_id: &str) -> Result<i64, NotifyError> {
    let row = db
        .fetch_optional(
            sql("SELECT COUNT(*) AS n FROM notice WHERE person_id = $1 AND read_at IS NULL")
                .bind(person_id),
        )
        .await?;
    Ok(match row {
        Some(row) => row.get("n")?,
        None => 0,
    })
}
