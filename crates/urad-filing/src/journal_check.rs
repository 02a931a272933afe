//! A check of the whole registry journal against the promises the filing office makes: every
//! receipt sequence counts 1, 2, 3 … in its scope and every reference number 1, 2, 3 … in its
//! office and year, without gaps or repeats; receipt-log leaves are 0, 1, 2 … without gaps;
//! within a scope, a later sequence has a later log leaf and no earlier instant (commit order);
//! every submission's data still has the SHA-256 its receipt names; and a draft is marked
//! sent exactly when its submission exists (nothing half-written). The surge benchmark and
//! the crash test run it after the load (`urad filing verify`).

use crate::FilingError;
use sha2::{Digest, Sha256};
use urad_core::hex;
use urad_store::{sql, Db};

/// What the check found.
#[derive(Debug, Default)]
pub struct JournalReport {
    pub submissions: i64,
    pub scopes: i64,
    /// Every broken promise, in words; empty when the journal holds.
    pub problems: Vec<String>,
}

impl JournalReport {
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the registry journal (see the module's documentation).
pub async fn verify_journal(db: &Db) -> Result<JournalReport, FilingError> {
    let mut report = JournalReport::default();
    let problems = &mut report.problems;

    // Sequences per scope: exactly 1..=n.
    for row in db
        .fetch_all(sql(
            "SELECT scope, COUNT(*) AS n, COUNT(DISTINCT sequence) AS distinct_n, \
             MIN(sequence) AS lowest, MAX(sequence) AS highest FROM submission GROUP BY scope",
        ))
        .await?
    {
        let scope: String = row.get("scope")?;
        let (n, distinct, lowest, highest): (i64, i64, i64, i64) = (
            row.get("n")?,
            row.get("distinct_n")?,
            row.get("lowest")?,
            row.get("highest")?,
        );
        report.scopes += 1;
        report.submissions += n;
        if distinct != n || lowest != 1 || highest != n {
            problems.push(format!(
                "scope {scope}: {n} submissions with {distinct} distinct sequences from {lowest} to {highest} (expected 1 to {n})"
            ));
        }
    }

    // Reference numbers per year: exactly 1..=n (one office per database).
    for row in db
        .fetch_all(sql(
            "SELECT reference_year, COUNT(*) AS n, COUNT(DISTINCT reference_number) AS distinct_n, \
             MIN(reference_number) AS lowest, MAX(reference_number) AS highest \
             FROM submission GROUP BY reference_year",
        ))
        .await?
    {
        let year: i64 = row.get("reference_year")?;
        let (n, distinct, lowest, highest): (i64, i64, i64, i64) = (
            row.get("n")?,
            row.get("distinct_n")?,
            row.get("lowest")?,
            row.get("highest")?,
        );
        if distinct != n || lowest != 1 || highest != n {
            problems.push(format!(
                "year {year}: {n} reference numbers, {distinct} distinct, from {lowest} to {highest} (expected 1 to {n})"
            ));
        }
    }

    // Receipt-log leaves: exactly 0..n-1, and the counter agrees.
    let leaves = db
        .fetch_optional(sql(
            "SELECT COUNT(log_index) AS n, COUNT(DISTINCT log_index) AS distinct_n, \
             COALESCE(MIN(log_index), 0) AS lowest, COALESCE(MAX(log_index), -1) AS highest \
             FROM submission",
        ))
        .await?;
    if let Some(row) = leaves {
        let (n, distinct, lowest, highest): (i64, i64, i64, i64) = (
            row.get("n")?,
            row.get("distinct_n")?,
            row.get("lowest")?,
            row.get("highest")?,
        );
        if n != report.submissions || distinct != n || (n > 0 && (lowest != 0 || highest != n - 1))
        {
            problems.push(format!(
                "receipt log: {n} leaves of {} submissions, {distinct} distinct, from {lowest} to {highest}",
                report.submissions
            ));
        }
    }
    let counter: Option<i64> = db
        .fetch_optional(sql(
            "SELECT value FROM filing_counter WHERE name = 'receipt-log'",
        ))
        .await?
        .map(|r| r.get("value"))
        .transpose()?;
    if counter.unwrap_or(0) != report.submissions {
        problems.push(format!(
            "the receipt-log counter is at {} but {} submissions exist",
            counter.unwrap_or(0),
            report.submissions
        ));
    }

    // Commit order: within a scope, sequence, log leaf and instant rise together.
    let out_of_order: i64 = db
        .fetch_optional(sql(
            "SELECT COUNT(*) AS n FROM (SELECT log_index, received_at, \
             LAG(log_index) OVER (PARTITION BY scope ORDER BY sequence) AS previous_leaf, \
             LAG(received_at) OVER (PARTITION BY scope ORDER BY sequence) AS previous_at \
             FROM submission) ordered \
             WHERE previous_leaf >= log_index OR previous_at > received_at",
        ))
        .await?
        .map(|r| r.get("n"))
        .transpose()?
        .unwrap_or(0);
    if out_of_order > 0 {
        problems.push(format!(
            "{out_of_order} submissions come before their predecessor in the log or in time"
        ));
    }

    // Nothing half-written: a draft is marked sent exactly when its submission exists.
    let orphans: i64 = db
        .fetch_optional(sql(
            "SELECT (SELECT COUNT(*) FROM draft d WHERE d.submitted_at IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM submission s WHERE s.id = d.id)) + \
             (SELECT COUNT(*) FROM submission s WHERE NOT EXISTS \
               (SELECT 1 FROM draft d WHERE d.id = s.id AND d.submitted_at IS NOT NULL)) AS n",
        ))
        .await?
        .map(|r| r.get("n"))
        .transpose()?
        .unwrap_or(0);
    if orphans > 0 {
        problems.push(format!(
            "{orphans} drafts marked sent without a submission, or submissions without their sent draft"
        ));
    }

    // The data as received.
    let mut altered = 0;
    for row in db
        .fetch_all(sql("SELECT data, data_sha256 FROM submission"))
        .await?
    {
        let data: String = row.get("data")?;
        let named: String = row.get("data_sha256")?;
        if hex(&Sha256::digest(data.as_bytes())) != named {
            altered += 1;
        }
    }
    if altered > 0 {
        problems.push(format!(
            "{altered} submissions' data no longer match the SHA-256 of their receipt"
        ));
    }
    Ok(report)
}
