//! `urad verify-receipt` (a citizen's receipt file, offline) and `urad receipt-log verify` (the
//! whole log, against the database). See docs/receipts.md.

use crate::StoreArgs;
use clap::{Args, Subcommand};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use urad_core::{hex, SystemClock};
use urad_filing::verify::{self, GivenFile, Unusable, VerifyOptions};

/// Exit status when something checked does not hold.
const DOES_NOT_HOLD: u8 = 1;
/// Exit status when the input cannot be checked at all.
const UNUSABLE: u8 = 2;

#[derive(Args, Debug, Clone)]
pub struct VerifyReceiptArgs {
    /// The receipt file (JSON) as downloaded from the portal.
    pub file: PathBuf,
    /// The office's public key as it publishes it (/api/v1/receipt-log/key): a JWK, or a JWK
    /// Set. The receipt must be signed with it. Without it the key in the file is taken.
    #[arg(long, value_name = "JWK_FILE")]
    pub key: Option<PathBuf>,
    /// The submitted data: its SHA-256 must be the one in the receipt.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// An attached file: it must be one of those the receipt lists (repeat for several).
    #[arg(long = "attachment", value_name = "FILE")]
    pub attachments: Vec<PathBuf>,
    /// The time-stamping authority's certificate (PEM or DER) the file's time stamp must be
    /// signed with. Without it the certificate in the token is taken.
    #[arg(long, value_name = "CERTIFICATE_FILE")]
    pub tsa_certificate: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReceiptLogCommand {
    /// Recompute every leaf from the stored submissions and check every signed tree head
    /// against them: signature, root, consistency with the latest. Exit 1 on any mismatch.
    Verify(ReceiptLogVerifyArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ReceiptLogVerifyArgs {
    /// First sign a tree head over every leaf, as the server does when asked for the latest
    /// (so that the check covers every submission).
    #[arg(long)]
    pub sign_head: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// SHA-256 and size of a file, read in pieces (attachments can be large).
fn hash_file(path: &Path) -> Result<GivenFile, Unusable> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| Unusable(format!("cannot read {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)
        .map_err(|e| Unusable(format!("cannot read {}: {e}", path.display())))?;
    Ok(GivenFile {
        label: path.display().to_string(),
        sha256: hex(&hasher.finalize()),
        size,
    })
}

fn read_certificate(path: &Path) -> Result<Vec<u8>, Unusable> {
    let bytes = std::fs::read(path).map_err(|e| {
        Unusable(format!(
            "cannot read the certificate {}: {e}",
            path.display()
        ))
    })?;
    urad_filing::timestamp::read_certificate(&bytes)
        .map_err(|e| Unusable(format!("{}: {e}", path.display())))
}

fn read_text(path: &Path, what: &str) -> Result<String, Unusable> {
    std::fs::read_to_string(path)
        .map_err(|e| Unusable(format!("cannot read the {what} {}: {e}", path.display())))
}

/// Checks a receipt file and prints every check; 0 when all hold, 1 when one does not, 2
/// when the input is unusable.
pub fn verify_receipt(args: &VerifyReceiptArgs) -> ExitCode {
    let checked = (|| {
        let text = read_text(&args.file, "receipt file")?;
        let options = VerifyOptions {
            pinned_keys: match &args.key {
                Some(path) => verify::parse_keys(&read_text(path, "key file")?)?,
                None => Vec::new(),
            },
            data: args.data.as_deref().map(hash_file).transpose()?,
            attachments: args
                .attachments
                .iter()
                .map(|p| hash_file(p))
                .collect::<Result<_, _>>()?,
            tsa_certificate: args
                .tsa_certificate
                .as_deref()
                .map(read_certificate)
                .transpose()?,
        };
        verify::verify_file(&text, &options)
    })();
    let verification = match checked {
        Ok(v) => v,
        Err(Unusable(reason)) => {
            eprintln!("error: {reason}");
            return ExitCode::from(UNUSABLE);
        }
    };
    println!("Receipt file {}:", args.file.display());
    for check in &verification.checks {
        println!(
            "  {} {}",
            if check.passed { "ok  " } else { "FAIL" },
            check.text
        );
    }
    if verification.holds() {
        println!("The receipt verifies: it was signed by the office and is in its receipt log.");
        ExitCode::SUCCESS
    } else {
        let reasons: Vec<&str> = verification
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.text.as_str())
            .collect();
        eprintln!("The receipt does NOT verify: {}", reasons.join("; "));
        ExitCode::from(DOES_NOT_HOLD)
    }
}

/// `urad receipt-log verify`.
pub async fn verify_log(args: &ReceiptLogVerifyArgs) -> anyhow::Result<ExitCode> {
    let db = args.store.open().await?;
    if args.sign_head {
        let log = urad_filing::receipt_log::ReceiptLog::new();
        let head = log.latest_head(&db, &SystemClock).await?;
        println!("signed a tree head over {} leaves", head.tree_size);
    }
    let audit = urad_filing::receipt_log::audit(&db).await?;
    println!(
        "{} submissions, {} leaves recomputed from them{}",
        audit.submissions,
        audit.leaves,
        if audit.without_leaf > 0 {
            format!(
                " ({} submissions from before the receipt log have none)",
                audit.without_leaf
            )
        } else {
            String::new()
        }
    );
    match &audit.latest {
        Some(head) => println!(
            "{} signed tree heads; the latest covers {} of the {} leaves (root {}, signed at {} ms)",
            audit.heads, head.tree_size, audit.leaves, head.root_hash, head.timestamp
        ),
        None => println!("no signed tree heads yet"),
    }
    if audit.problems.is_empty() {
        println!(
            "the receipt log verifies: every leaf recomputed, every head signed by the office key, \
             its root that of the leaves, and consistent with the latest"
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &audit.problems {
            eprintln!("MISMATCH: {problem}");
        }
        eprintln!(
            "the receipt log does NOT verify ({} problems)",
            audit.problems.len()
        );
        Ok(ExitCode::from(DOES_NOT_HOLD))
    }
}
