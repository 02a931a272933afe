//! The personal-data access log: every read or change of a person's data by the office and
//! every decision, with who did it, whose data, what, when, on which case and why (the
//! purpose). Append-only and hash-chained; [`verify`] (`urad audit verify`) finds any entry
//! altered, removed or reordered. Citizens see the accesses to their data through
//! [`for_subject`] ("Who accessed my data"). See docs/audit.md.
//!
//! # Appending: in the caller's own write
//! An entry for a change must commit in the same transaction as the change — a decision and
//! its entry, or neither. So appending is a pair of [`Statement`]s ([`append`]) that the caller
//! puts into its own [`Db::write`], last:
//!
//! ```ignore
//! let [head, entry] = urad_audit::append(&entry, clock.now())?;
//! db.write([decide, head.only_if_previous_changed(), entry]).await?;
//! ```
//!
//! (`only_if_previous_changed` on the first: when the change changed nothing, no entry.)
//! Reads are recorded with [`record`], a write of its own; record before showing the data,
//! and do not show it when recording fails.
//!
//! # The chain
//! Each entry has `seq` (1, 2, 3 … without gaps, in commit order), `entry_hash` — SHA-256 of
//! the canonical encoding of its content ([`entry_hash`]: every field length-prefixed, so no
//! two different entries encode alike) — and `chain_hash(n) = SHA-256(chain_hash(n−1) ‖
//! entry_hash(n) ‖ n)` as text (two 64-digit hex strings and the decimal seq), starting from
//! [`GENESIS`]. One row, `audit_head`, holds the last seq and chain hash. The first statement
//! of an append updates it, `seq = seq + 1, chain_hash = sha256_hex(chain_hash || $1 ||
//! (seq + 1))`; the second inserts the entry with the head's new values. The head's row lock
//! (PostgreSQL) or the one writer (SQLite) serialises appends, also across processes: seqs
//! are gapless and a rolled-back write gives its seq back, as the filing office's counters do.
//!
//! **Why the chain is computed in SQL**: the previous chain hash is known only inside the
//! transaction, under the head's lock. Computing it in Rust would need a transaction with
//! logic between its statements (read the head, hash, write), which [`Db::write`] does not
//! offer and which would hold the head's lock over extra round trips, slowing every append
//! of every process. The alternative, "sealing" — entries written without chain hashes and
//! a later step chaining them in Rust — keeps SQL plain but leaves a window in which the
//! newest entries are not chained, and needs a sealer running. So `sha256_hex(text)` exists
//! on both engines: on PostgreSQL created by migration 0015, on SQLite registered by
//! urad-store on every connection it opens itself. **Consequence**: on SQLite an append
//! must go through [`Db::write`] (never [`Db::writer`] or [`Db::begin_write`], whose sqlx
//! connections lack the function), and a tool that opens the file on its own (the `sqlite3`
//! shell) cannot append. The entry hash is computed in Rust, where the encoding is defined;
//! [`verify`] recomputes everything in Rust.
//!
//! # What the chain does not do
//! Someone who can rewrite the whole table can recompute a consistent chain. Against that,
//! [`verify`] reports the head (seq and chain hash) to be kept elsewhere — published, signed
//! or written down — and checked later ([`verify_with`], `--anchor SEQ:HASH`); and `urad
//! audit verify --checkpoint` keeps verified heads in `audit_checkpoint` ([`checkpoint`]), so
//! that a rewrite of the history before one is found unless the checkpoints are rewritten
//! too. Triggers refuse UPDATE and DELETE of entries and checkpoints and any move of the
//! head other than by one; whoever can drop them can still change rows, and [`verify`] finds
//! it.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use urad_core::{hex, Clock};
use urad_store::statement::{Row, Statement};
use urad_store::{sql, Db, StoreError};

/// The chain hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The most bytes of `details` (as JSON text): details are a few identifiers, not the data.
pub const MAX_DETAILS: usize = 4096;

/// Entries read per query while verifying.
const PAGE: i64 = 1000;

/// The most entries one [`for_subject`] or [`for_case`] call returns.
pub const MAX_PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("an audit entry needs {0}")]
    Invalid(&'static str),
    #[error("audit entry {seq} as stored: {problem}")]
    Stored { seq: i64, problem: String },
    #[error("the audit log has no head row (database damaged or not migrated)")]
    NoHead,
    #[error("database error: {0}")]
    Store(#[from] StoreError),
}

/// What was done with the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Personal data shown or read.
    Read,
    /// Personal data changed.
    Change,
    /// A decision made (in a case).
    Decision,
    /// Data handed out of the office's systems (a download, a transfer to another office).
    Export,
    /// A code this release does not know (written by a newer one); kept as stored.
    Other(String),
}

impl Action {
    /// The stored code.
    pub fn code(&self) -> &str {
        match self {
            Action::Read => "read",
            Action::Change => "change",
            Action::Decision => "decision",
            Action::Export => "export",
            Action::Other(code) => code,
        }
    }

    pub fn from_code(code: &str) -> Action {
        match code {
            "read" => Action::Read,
            "change" => Action::Change,
            "decision" => Action::Decision,
            "export" => Action::Export,
            other => Action::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// What is recorded: who, whose data, what, on which resource and case, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    /// The official (or `system:…` for a robot) — their person id.
    pub actor_person_id: String,
    /// The role they acted in (a role code, e.g. `referent`).
    pub actor_role: String,
    /// Whose data.
    pub subject_person_id: String,
    pub action: Action,
    /// What was accessed: `submission`, `case`, `document` …
    pub resource_kind: String,
    pub resource_id: String,
    pub case_id: Option<String>,
    /// The agenda the case belongs to (shown to the citizen).
    pub agenda: Option<String>,
    /// The reason given, e.g. "vyřízení žádosti".
    pub purpose: String,
    /// Small JSON (at most [`MAX_DETAILS`] bytes); `{}` when there is nothing to add.
    pub details: serde_json::Value,
}

impl Entry {
    fn check(&self) -> Result<(), AuditError> {
        let required = [
            (&self.actor_person_id, "the actor's person id"),
            (&self.actor_role, "the actor's role"),
            (
                &self.subject_person_id,
                "the subject's person id (whose data)",
            ),
            (&self.resource_kind, "the kind of resource accessed"),
            (&self.resource_id, "the id of the resource accessed"),
            (&self.purpose, "a purpose (the reason for the access)"),
        ];
        for (value, what) in required {
            if value.trim().is_empty() {
                return Err(AuditError::Invalid(what));
            }
        }
        if self.action.code().trim().is_empty() {
            return Err(AuditError::Invalid("an action"));
        }
        Ok(())
    }
}

/// An entry as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recorded {
    pub seq: i64,
    /// UTC, seconds since the Unix epoch.
    pub at: i64,
    #[serde(flatten)]
    pub entry: Entry,
}

/// The head of the chain: the last seq and the chain hash after it. Also what is kept
/// elsewhere to anchor the log (an anchor), and what a checkpoint records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub chain_hash: String,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.chain_hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;
    /// `SEQ:HASH`, as [`Head`]'s `Display` prints it.
    fn from_str(s: &str) -> Result<Head, String> {
        let (seq, hash) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not SEQ:CHAIN_HASH"))?;
        let seq: i64 = seq
            .trim()
            .parse()
            .map_err(|_| format!("`{seq}` is not a seq (a whole number)"))?;
        let hash = hash.trim().to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "`{hash}` is not a chain hash (64 hexadecimal digits)"
            ));
        }
        Ok(Head {
            seq,
            chain_hash: hash,
        })
    }
}

/// The content of an entry as it is hashed: the stored text of every field.
struct Content<'a> {
    at: i64,
    actor_person_id: &'a str,
    actor_role: &'a str,
    subject_person_id: &'a str,
    action: &'a str,
    resource_kind: &'a str,
    resource_id: &'a str,
    case_id: Option<&'a str>,
    agenda: Option<&'a str>,
    purpose: &'a str,
    details: &'a str,
}

/// Names the encoding, so that a later one can never be mistaken for this one.
const ENCODING: &str = "urad-audit-entry/1";

/// The canonical encoding: the encoding's name, then every field in a fixed order, each text
/// as its length in bytes (8 bytes, big-endian) followed by its UTF-8 bytes, an optional text
/// as a byte 0 (absent) or 1 followed by the text, `at` as 8 bytes big-endian. A field's
/// length says where it ends, so no two different entries have the same encoding.
fn canonical(c: &Content<'_>) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    fn optional(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                text(out, s);
            }
        }
    }
    let mut out = Vec::with_capacity(256 + c.details.len() + c.purpose.len());
    text(&mut out, ENCODING);
    out.extend_from_slice(&c.at.to_be_bytes());
    text(&mut out, c.actor_person_id);
    text(&mut out, c.actor_role);
    text(&mut out, c.subject_person_id);
    text(&mut out, c.action);
    text(&mut out, c.resource_kind);
    text(&mut out, c.resource_id);
    optional(&mut out, c.case_id);
    optional(&mut out, c.agenda);
    text(&mut out, c.purpose);
    text(&mut out, c.details);
    out
}

fn hash_content(c: &Content<'_>) -> String {
    hex(&Sha256::digest(canonical(c)))
}

/// The entry hash of `entry` recorded at `at`, with `details` as the JSON text stored.
pub fn entry_hash(entry: &Entry, at: i64, details: &str) -> String {
    hash_content(&Content {
        at,
        actor_person_id: &entry.actor_person_id,
        actor_role: &entry.actor_role,
        subject_person_id: &entry.subject_person_id,
        action: entry.action.code(),
        resource_kind: &entry.resource_kind,
        resource_id: &entry.resource_id,
        case_id: entry.case_id.as_deref(),
        agenda: entry.agenda.as_deref(),
        purpose: &entry.purpose,
        details,
    })
}

/// The chain hash after the entry `seq` with `entry_hash`, following `previous`: what the
/// append computes in SQL (`sha256_hex(chain_hash || $1 || (seq + 1))`), byte for byte.
pub fn chain_next(previous: &str, entry_hash: &str, seq: i64) -> String {
    hex(&Sha256::digest(
        format!("{previous}{entry_hash}{seq}").as_bytes(),
    ))
}

/// The two statements that append `entry`, recorded at `at` (UTC seconds), for the caller's
/// own [`Db::write`] — put them last in it (the head's lock is then held for the shortest
/// time, and taken after any other lock, so writes that follow this rule never deadlock).
/// The first moves the head; the second inserts the entry and returns its `seq` and
/// `chain_hash`. On SQLite they must run through [`Db::write`] (see the crate's docs).
pub fn append(entry: &Entry, at: i64) -> Result<[Statement; 2], AuditError> {
    entry.check()?;
    let details = entry.details.to_string();
    if details.len() > MAX_DETAILS {
        return Err(AuditError::Invalid(
            "details of at most 4096 bytes (identifiers, not the data)",
        ));
    }
    let hash = entry_hash(entry, at, &details);
    Ok([
        sql("UPDATE audit_head SET seq = seq + 1, \
             chain_hash = sha256_hex(chain_hash || $1 || (seq + 1)) WHERE id = 1")
        .bind(hash.as_str()),
        // The seq and chain hash from the head just moved. Without a head row they are NULL
        // and the insert fails (trigger, NOT NULL): the caller's write fails with it.
        sql(
            "INSERT INTO audit_entry (seq, at, actor_person_id, actor_role, subject_person_id, \
             action, resource_kind, resource_id, case_id, agenda, purpose, details, entry_hash, \
             chain_hash) VALUES ((SELECT seq FROM audit_head WHERE id = 1), $1, $2, $3, $4, $5, \
             $6, $7, $8, $9, $10, $11, $12, (SELECT chain_hash FROM audit_head WHERE id = 1)) \
             RETURNING seq, chain_hash",
        )
        .bind(at)
        .bind(entry.actor_person_id.as_str())
        .bind(entry.actor_role.as_str())
        .bind(entry.subject_person_id.as_str())
        .bind(entry.action.code())
        .bind(entry.resource_kind.as_str())
        .bind(entry.resource_id.as_str())
        .bind(entry.case_id.as_deref())
        .bind(entry.agenda.as_deref())
        .bind(entry.purpose.as_str())
        .bind(details)
        .bind(hash),
    ])
}

/// Appends `entry` now, in a write of its own (for reads; a change appends in its own write
/// with [`append`]). Returns the head after it: the entry's seq and chain hash.
pub async fn record(db: &Db, clock: &dyn Clock, entry: &Entry) -> Result<Head, AuditError> {
    let written = db.write(append(entry, clock.now())?).await?;
    let row = written
        .get(1)
        .and_then(|w| w.rows.first())
        .ok_or(AuditError::NoHead)?;
    Ok(Head {
        seq: row.get("seq")?,
        chain_hash: row.get("chain_hash")?,
    })
}

/// The head as stored now.
pub async fn head(db: &Db) -> Result<Head, AuditError> {
    read_head(db).await?.ok_or(AuditError::NoHead)
}

async fn read_head(db: &Db) -> Result<Option<Head>, AuditError> {
    let row = db
        .fetch_optional(sql("SELECT seq, chain_hash FROM audit_head WHERE id = 1"))
        .await?;
    row.map(|r| {
        Ok(Head {
            seq: r.get("seq")?,
            chain_hash: r.get("chain_hash")?,
        })
    })
    .transpose()
}

/// Which entries of a list: newest first, `limit` of them (at most [`MAX_PAGE`]), older than
/// seq `before` (the last seq of the page before) when given.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: u32,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            before: None,
            limit: 50,
        }
    }
}

/// The columns of `audit_entry`, in the order of the table, for the queries below.
macro_rules! entry_columns {
    () => {
        "seq, at, actor_person_id, actor_role, subject_person_id, action, resource_kind, \
         resource_id, case_id, agenda, purpose, details, entry_hash, chain_hash"
    };
}

/// The accesses to one person's data, newest first: "Who accessed my data".
pub async fn for_subject(
    db: &Db,
    person_id: &str,
    page: Page,
) -> Result<Vec<Recorded>, AuditError> {
    const SQL: &str = concat!(
        "SELECT ",
        entry_columns!(),
        " FROM audit_entry WHERE subject_person_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
    );
    list(db, SQL, person_id, page).await
}

/// The entries of one case, newest first.
pub async fn for_case(db: &Db, case_id: &str, page: Page) -> Result<Vec<Recorded>, AuditError> {
    const SQL: &str = concat!(
        "SELECT ",
        entry_columns!(),
        " FROM audit_entry WHERE case_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
    );
    list(db, SQL, case_id, page).await
}

/// What the administrator's view of the whole log narrows to; an empty field matches all.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Whose data.
    pub subject_person_id: String,
    /// Who accessed it.
    pub actor_person_id: String,
    pub case_id: String,
    /// An action code (`read`, `change`, `decision`, `export`).
    pub action: String,
}

/// The entries `filter` matches, newest first: the administrator's view of the whole log.
pub async fn search(db: &Db, filter: &Filter, page: Page) -> Result<Vec<Recorded>, AuditError> {
    const SQL: &str = concat!(
        "SELECT ",
        entry_columns!(),
        " FROM audit_entry WHERE ($1 = '' OR subject_person_id = $1) \
         AND ($2 = '' OR actor_person_id = $2) AND ($3 = '' OR case_id = $3) \
         AND ($4 = '' OR action = $4) AND seq < $5 ORDER BY seq DESC LIMIT $6"
    );
    let rows = db
        .fetch_all(
            sql(SQL)
                .bind(filter.subject_person_id.trim())
                .bind(filter.actor_person_id.trim())
                .bind(filter.case_id.trim())
                .bind(filter.action.trim())
                .bind(page.before.unwrap_or(i64::MAX))
                .bind(i64::from(page.limit.clamp(1, MAX_PAGE))),
        )
        .await?;
    rows.iter()
        .map(|r| Stored::from_row(r)?.recorded())
        .collect()
}

async fn list(
    db: &Db,
    query: &'static str,
    key: &str,
    page: Page,
) -> Result<Vec<Recorded>, AuditError> {
    let rows = db
        .fetch_all(
            sql(query)
                .bind(key)
                .bind(page.before.unwrap_or(i64::MAX))
                .bind(i64::from(page.limit.clamp(1, MAX_PAGE))),
        )
        .await?;
    rows.iter()
        .map(|r| Stored::from_row(r)?.recorded())
        .collect()
}

/// A row of `audit_entry` as stored, every field as text.
struct Stored {
    seq: i64,
    at: i64,
    actor_person_id: String,
    actor_role: String,
    subject_person_id: String,
    action: String,
    resource_kind: String,
    resource_id: String,
    case_id: Option<String>,
    agenda: Option<String>,
    purpose: String,
    details: String,
    entry_hash: String,
    chain_hash: String,
}

impl Stored {
    fn from_row(r: &Row) -> Result<Stored, AuditError> {
        Ok(Stored {
            seq: r.get("seq")?,
            at: r.get("at")?,
            actor_person_id: r.get("actor_person_id")?,
            actor_role: r.get("actor_role")?,
            subject_person_id: r.get("subject_person_id")?,
            action: r.get("action")?,
            resource_kind: r.get("resource_kind")?,
            resource_id: r.get("resource_id")?,
            case_id: r.get("case_id")?,
            agenda: r.get("agenda")?,
            purpose: r.get("purpose")?,
            details: r.get("details")?,
            entry_hash: r.get("entry_hash")?,
            chain_hash: r.get("chain_hash")?,
        })
    }

    fn content_hash(&self) -> String {
        hash_content(&Content {
            at: self.at,
            actor_person_id: &self.actor_person_id,
            actor_role: &self.actor_role,
            subject_person_id: &self.subject_person_id,
            action: &self.action,
            resource_kind: &self.resource_kind,
            resource_id: &self.resource_id,
            case_id: self.case_id.as_deref(),
            agenda: self.agenda.as_deref(),
            purpose: &self.purpose,
            details: &self.details,
        })
    }

    fn recorded(&self) -> Result<Recorded, AuditError> {
        let details = serde_json::from_str(&self.details).map_err(|e| AuditError::Stored {
            seq: self.seq,
            problem: format!("details are not JSON: {e}"),
        })?;
        Ok(Recorded {
            seq: self.seq,
            at: self.at,
            entry: Entry {
                actor_person_id: self.actor_person_id.clone(),
                actor_role: self.actor_role.clone(),
                subject_person_id: self.subject_person_id.clone(),
                action: Action::from_code(&self.action),
                resource_kind: self.resource_kind.clone(),
                resource_id: self.resource_id.clone(),
                case_id: self.case_id.clone(),
                agenda: self.agenda.clone(),
                purpose: self.purpose.clone(),
                details,
            },
        })
    }
}

/// Something [`verify`] found that does not hold. Each names the seq where it is seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The entry's content does not have its entry hash: a field was changed.
    Altered { seq: i64 },
    /// The entries `first..=last` are missing between two that are there.
    Missing { first: i64, last: i64 },
    /// An entry with a seq the log never gives (below 1).
    OutOfRange { seq: i64 },
    /// The entry's chain hash does not follow from the one before it and its entry hash: an
    /// entry was replaced, moved, inserted or rewritten with its hash here (or just before).
    ChainBroken { seq: i64 },
    /// There is no head row.
    HeadMissing,
    /// The head counts up to `head` but the entries end at `last`: the last ones were removed.
    HeadAhead { head: i64, last: i64 },
    /// The head's chain hash is not that of the entry at its seq.
    HeadChain { seq: i64 },
    /// Entries up to `seq` that the head (at `head`) does not count: inserted behind its back.
    BeyondHead { seq: i64, head: i64 },
    /// A recorded checkpoint (or, with `anchor`, a head given to [`verify_with`]) does not
    /// match the entry at its seq; `found` is that entry's chain hash, `None` if it is gone.
    Pinned {
        seq: i64,
        anchor: bool,
        expected: String,
        found: Option<String>,
    },
}

impl Problem {
    /// The seq it names (the first, for a range).
    pub fn seq(&self) -> Option<i64> {
        match self {
            Problem::Altered { seq }
            | Problem::OutOfRange { seq }
            | Problem::ChainBroken { seq }
            | Problem::HeadChain { seq }
            | Problem::BeyondHead { seq, .. }
            | Problem::Pinned { seq, .. } => Some(*seq),
            Problem::Missing { first, .. } => Some(*first),
            Problem::HeadAhead { last, .. } => Some(last + 1),
            Problem::HeadMissing => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Altered { seq } => write!(
                f,
                "seq {seq}: altered — its content does not match its entry hash"
            ),
            Problem::Missing { first, last } if first == last => {
                write!(f, "seq {first}: removed — the entry is missing")
            }
            Problem::Missing { first, last } => {
                write!(
                    f,
                    "seq {first} to {last}: removed — the entries are missing"
                )
            }
            Problem::OutOfRange { seq } => {
                write!(
                    f,
                    "seq {seq}: an entry numbered below 1, which the log never gives"
                )
            }
            Problem::ChainBroken { seq } => write!(
                f,
                "seq {seq}: the chain breaks — its chain hash does not follow from the entry \
                 before and its own entry hash (an entry replaced, reordered, inserted or \
                 rewritten here or just before)"
            ),
            Problem::HeadMissing => write!(f, "the head row is missing"),
            Problem::HeadAhead { head, last } => write!(
                f,
                "seq {}: removed — the head counts {head} entries but the log ends at seq {last}",
                last + 1
            ),
            Problem::HeadChain { seq } => write!(
                f,
                "seq {seq}: the head's chain hash is not that of its last entry"
            ),
            Problem::BeyondHead { seq, head } => write!(
                f,
                "seq {seq}: entries after the head (seq {head}) that it does not count"
            ),
            Problem::Pinned {
                seq,
                anchor,
                expected,
                found,
            } => {
                let what = if *anchor {
                    "the anchor"
                } else {
                    "the checkpoint"
                };
                match found {
                    Some(found) => write!(
                        f,
                        "seq {seq}: {what} has chain hash {expected}, the log {found} — the \
                         history up to it was rewritten"
                    ),
                    None => write!(
                        f,
                        "seq {seq}: {what} (chain hash {expected}) names an entry the log does \
                         not have — entries were removed"
                    ),
                }
            }
        }
    }
}

/// What [`verify`] found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The head as it was when the verification began (the entries up to it were checked).
    pub head: Option<Head>,
    /// Entries read.
    pub entries: u64,
    /// Checkpoints and anchors compared.
    pub checkpoints: u64,
    pub anchors: u64,
    /// Empty when the log verifies.
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        match self.problems.first() {
            None => {
                let head = self.head.as_ref().map_or(0, |h| h.seq);
                format!(
                    "the audit log verifies: {} entries, seq 1 to {head} without gaps, every \
                     entry hash and chain link recomputed, the head matches, {} checkpoint{} \
                     and {} anchor{} match",
                    self.entries,
                    self.checkpoints,
                    if self.checkpoints == 1 { "" } else { "s" },
                    self.anchors,
                    if self.anchors == 1 { "" } else { "s" },
                )
            }
            Some(first) => format!(
                "the audit log does NOT verify: {} problem{}, the first: {first}",
                self.problems.len(),
                if self.problems.len() == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Verifies the whole log: every entry's hash, every link of the chain, seqs 1, 2, 3 …
/// without gaps, the head, and the checkpoints. Reads the entries in pages of 1 000, in seq
/// order. Appends may go on meanwhile: the entries up to the head read first are checked.
pub async fn verify(db: &Db) -> Result<Report, AuditError> {
    verify_with(db, &[]).await
}

/// [`verify`], and every head in `anchors` (kept outside the database) must be in the chain.
pub async fn verify_with(db: &Db, anchors: &[Head]) -> Result<Report, AuditError> {
    let mut report = Report {
        head: read_head(db).await?,
        ..Report::default()
    };
    let problems = &mut report.problems;
    // Checkpoints and anchors by seq: (expected chain hash, is an anchor, matched).
    let mut pins: BTreeMap<i64, Vec<(String, bool)>> = BTreeMap::new();
    for row in db
        .fetch_all(sql(
            "SELECT seq, chain_hash FROM audit_checkpoint ORDER BY seq",
        ))
        .await?
    {
        report.checkpoints += 1;
        pins.entry(row.get("seq")?)
            .or_default()
            .push((row.get("chain_hash")?, false));
    }
    for anchor in anchors {
        report.anchors += 1;
        pins.entry(anchor.seq)
            .or_default()
            .push((anchor.chain_hash.clone(), true));
    }
    let mut found_pins: BTreeMap<i64, String> = BTreeMap::new();

    let until = report.head.as_ref().map_or(i64::MAX, |h| h.seq);
    let mut from = i64::MIN;
    let mut expected = 1i64;
    let mut previous = GENESIS.to_owned();
    let mut last: Option<Stored> = None;
    loop {
        let rows = db
            .fetch_all(
                sql(concat!(
                    "SELECT ",
                    entry_columns!(),
                    " FROM audit_entry WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3"
                ))
                .bind(from)
                .bind(until)
                .bind(PAGE),
            )
            .await?;
        let full = rows.len() as i64 == PAGE;
        for row in &rows {
            let entry = Stored::from_row(row)?;
            report.entries += 1;
            if entry.content_hash() != entry.entry_hash {
                problems.push(Problem::Altered { seq: entry.seq });
            }
            if entry.seq < 1 {
                problems.push(Problem::OutOfRange { seq: entry.seq });
                continue;
            }
            if entry.seq > expected {
                // The gap explains the broken link that follows it; the entry's own link is
                // not checked.
                problems.push(Problem::Missing {
                    first: expected,
                    last: entry.seq - 1,
                });
            } else if chain_next(&previous, &entry.entry_hash, entry.seq) != entry.chain_hash {
                problems.push(Problem::ChainBroken { seq: entry.seq });
            }
            if pins.contains_key(&entry.seq) {
                found_pins.insert(entry.seq, entry.chain_hash.clone());
            }
            expected = entry.seq + 1;
            previous.clone_from(&entry.chain_hash);
            last = Some(entry);
        }
        match rows.last() {
            Some(row) if full => from = row.get::<i64>("seq")? + 1,
            _ => break,
        }
    }

    let last_seq = last.as_ref().map_or(0, |e| e.seq);
    match &report.head {
        None => problems.push(Problem::HeadMissing),
        Some(head) if head.seq > last_seq => problems.push(Problem::HeadAhead {
            head: head.seq,
            last: last_seq,
        }),
        Some(head) => {
            let chain = last.as_ref().map_or(GENESIS, |e| e.chain_hash.as_str());
            if head.chain_hash != chain {
                problems.push(Problem::HeadChain { seq: head.seq });
            }
        }
    }
    // Entries the head does not count: the highest seq first, then the head again, so that an
    // append committed between the two is counted by the head read second.
    if report.head.is_some() {
        let top = db
            .fetch_optional(sql("SELECT MAX(seq) AS top FROM audit_entry"))
            .await?
            .map(|r| r.get::<Option<i64>>("top"))
            .transpose()?
            .flatten();
        let now = read_head(db).await?;
        if let (Some(top), Some(now)) = (top, now) {
            if top > now.seq {
                problems.push(Problem::BeyondHead {
                    seq: top,
                    head: now.seq,
                });
            }
        }
    }
    for (seq, expectations) in pins {
        let found = found_pins.get(&seq);
        for (chain_hash, anchor) in expectations {
            if found != Some(&chain_hash) {
                problems.push(Problem::Pinned {
                    seq,
                    anchor,
                    expected: chain_hash,
                    found: found.cloned(),
                });
            }
        }
    }
    problems.sort_by_key(|p| p.seq().unwrap_or(i64::MIN));
    Ok(report)
}

/// Records `head` (one that [`verify`] found to hold) as a checkpoint at `clock`'s now.
/// Returns false when a checkpoint at its seq exists already (it is kept).
pub async fn checkpoint(db: &Db, clock: &dyn Clock, head: &Head) -> Result<bool, AuditError> {
    let written = db
        .write_one(
            sql(
                "INSERT INTO audit_checkpoint (seq, chain_hash, at) VALUES ($1, $2, $3) \
                 ON CONFLICT (seq) DO NOTHING",
            )
            .bind(head.seq)
            .bind(head.chain_hash.as_str())
            .bind(clock.now()),
        )
        .await?;
    Ok(written.changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> Entry {
        Entry {
            actor_person_id: "official-1".into(),
            actor_role: "referent".into(),
            subject_person_id: "citizen-7".into(),
            action: Action::Read,
            resource_kind: "submission".into(),
            resource_id: "s-1".into(),
            case_id: Some("case-3".into()),
            agenda: Some("dotace".into()),
            purpose: "vyřízení žádosti".into(),
            details: json!({}),
        }
    }

    fn encode(e: &Entry, at: i64) -> Vec<u8> {
        let details = e.details.to_string();
        canonical(&Content {
            at,
            actor_person_id: &e.actor_person_id,
            actor_role: &e.actor_role,
            subject_person_id: &e.subject_person_id,
            action: e.action.code(),
            resource_kind: &e.resource_kind,
            resource_id: &e.resource_id,
            case_id: e.case_id.as_deref(),
            agenda: e.agenda.as_deref(),
            purpose: &e.purpose,
            details: &details,
        })
    }

    #[test]
    fn field_boundaries_matter_in_the_encoding() {
        // The same characters split differently between neighbouring fields: naive
        // concatenation would make these equal.
        let mut a = entry();
        a.actor_person_id = "ab".into();
        a.actor_role = "c".into();
        let mut b = entry();
        b.actor_person_id = "a".into();
        b.actor_role = "bc".into();
        assert_ne!(encode(&a, 1), encode(&b, 1));

        let mut a = entry();
        a.resource_kind = "case".into();
        a.resource_id = "".into();
        let mut b = entry();
        b.resource_kind = "".into();
        b.resource_id = "case".into();
        assert_ne!(encode(&a, 1), encode(&b, 1));

        // An absent case is not an empty one, and a case id is not an agenda.
        let mut a = entry();
        a.case_id = None;
        let mut b = entry();
        b.case_id = Some(String::new());
        assert_ne!(encode(&a, 1), encode(&b, 1));
        let mut a = entry();
        a.case_id = Some("x".into());
        a.agenda = None;
        let mut b = entry();
        b.case_id = None;
        b.agenda = Some("x".into());
        assert_ne!(encode(&a, 1), encode(&b, 1));

        // Text that imitates a field boundary of the encoding (a length, then the next field)
        // stays inside its own field.
        let mut a = entry();
        a.actor_person_id = "a".into();
        a.actor_role = "b".into();
        let mut b = entry();
        b.actor_person_id = format!(
            "a{}b",
            String::from_utf8(1u64.to_be_bytes().to_vec()).unwrap()
        );
        b.actor_role = String::new();
        assert_ne!(encode(&a, 1), encode(&b, 1));
    }

    #[test]
    fn every_field_changes_the_entry_hash() {
        let base = entry();
        let at = 1_800_000_000;
        let hash = |e: &Entry, at: i64| entry_hash(e, at, &e.details.to_string());
        let original = hash(&base, at);
        assert_eq!(original, hash(&base.clone(), at), "deterministic");
        assert_eq!(original.len(), 64);
        let mut variants: Vec<(String, String)> = vec![("at".into(), hash(&base, at + 1))];
        type Change = (&'static str, fn(&mut Entry));
        let changes: Vec<Change> = vec![
            ("actor", |e| e.actor_person_id.push('x')),
            ("role", |e| e.actor_role.push('x')),
            ("subject", |e| e.subject_person_id.push('x')),
            ("action", |e| e.action = Action::Change),
            ("kind", |e| e.resource_kind.push('x')),
            ("id", |e| e.resource_id.push('x')),
            ("case", |e| e.case_id = None),
            ("agenda", |e| e.agenda = None),
            ("purpose", |e| e.purpose.push('x')),
            ("details", |e| e.details = json!({"x": 1})),
        ];
        for (name, change) in changes {
            let mut e = base.clone();
            change(&mut e);
            variants.push((name.into(), hash(&e, at)));
        }
        let mut seen = std::collections::BTreeSet::from([original]);
        for (name, h) in variants {
            assert!(
                seen.insert(h),
                "changing {name} left the hash the same as another"
            );
        }
    }

    #[test]
    fn the_encoding_is_fixed() {
        // The stored hashes depend on it: a change of the encoding must be a new ENCODING.
        let mut e = entry();
        e.case_id = None;
        e.details = json!({"n": 1});
        let bytes = encode(&e, 258);
        let mut expected = Vec::new();
        expected.extend_from_slice(&18u64.to_be_bytes());
        expected.extend_from_slice(b"urad-audit-entry/1");
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
        for s in [
            "official-1",
            "referent",
            "citizen-7",
            "read",
            "submission",
            "s-1",
        ] {
            expected.extend_from_slice(&(s.len() as u64).to_be_bytes());
            expected.extend_from_slice(s.as_bytes());
        }
        expected.push(0);
        expected.push(1);
        expected.extend_from_slice(&6u64.to_be_bytes());
        expected.extend_from_slice(b"dotace");
        let purpose = "vyřízení žádosti";
        expected.extend_from_slice(&(purpose.len() as u64).to_be_bytes());
        expected.extend_from_slice(purpose.as_bytes());
        expected.extend_from_slice(&7u64.to_be_bytes());
        expected.extend_from_slice(b"{\"n\":1}");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn the_chain_links_as_the_sql_does() {
        // sha256_hex(GENESIS || entry_hash || 1), computed independently (sha256sum).
        let first = chain_next(GENESIS, "e", 1);
        assert_eq!(
            first,
            "72feb8f509ecfea16fc6a1a63991ff270cd28323466ae23d37065e1b9b4f6f96"
        );
        assert_ne!(chain_next(GENESIS, "e", 2), first);
        assert_ne!(chain_next(&first, "e", 1), first);
    }

    #[test]
    fn entries_need_who_whose_what_and_why() {
        assert!(append(&entry(), 1).is_ok());
        let mut e = entry();
        e.purpose = "  ".into();
        assert!(matches!(append(&e, 1), Err(AuditError::Invalid(w)) if w.contains("purpose")));
        let mut e = entry();
        e.subject_person_id = String::new();
        assert!(append(&e, 1).is_err());
        let mut e = entry();
        e.details = json!({ "x": "y".repeat(MAX_DETAILS) });
        assert!(append(&e, 1).is_err());
    }

    #[test]
    fn heads_parse_as_they_print() {
        let head = Head {
            seq: 42,
            chain_hash: GENESIS.replace('0', "a"),
        };
        assert_eq!(head.to_string().parse::<Head>().unwrap(), head);
        assert!("42".parse::<Head>().is_err());
        assert!("x:aa".parse::<Head>().is_err());
        assert!(format!("1:{}", &GENESIS[1..]).parse::<Head>().is_err());
    }
}
