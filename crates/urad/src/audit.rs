//! `urad audit verify`: the personal-data access log against its hash chain, its head and its
//! checkpoints. See docs/audit.md.

use crate::StoreArgs;
use clap::{Args, Subcommand};
use std::process::ExitCode;
use urad_audit::Head;
use urad_core::SystemClock;

/// Exit status when something checked does not hold.
const DOES_NOT_HOLD: u8 = 1;
/// Exit status when the log cannot be checked at all (no database, not readable).
const UNUSABLE: u8 = 2;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute every entry's hash and the chain: seqs 1, 2, 3 … without gaps, every link,
    /// the head, the checkpoints (and --anchor heads). Prints the head, to be kept elsewhere.
    /// Exit 0 when all holds, 1 when anything does not, 2 when the log cannot be read.
    Verify(AuditVerifyArgs),
}

#[derive(Args, Debug, Clone)]
pub struct AuditVerifyArgs {
    /// When the log verifies, record its head as a checkpoint: a later rewrite of the history
    /// before it is then found even if the chain was recomputed.
    #[arg(long)]
    pub checkpoint: bool,
    /// A head kept outside the database (as printed by an earlier run: SEQ:CHAIN_HASH); the
    /// log must still have it. Repeat for several.
    #[arg(long = "anchor", value_name = "SEQ:CHAIN_HASH")]
    pub anchors: Vec<Head>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs an `urad audit` command; its exit status.
pub async fn run(command: AuditCommand) -> ExitCode {
    match command {
        AuditCommand::Verify(args) => match verify(&args).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(UNUSABLE)
            }
        },
    }
}

async fn verify(args: &AuditVerifyArgs) -> anyhow::Result<ExitCode> {
    let db = args.store.open().await?;
    let report = urad_audit::verify_with(&db, &args.anchors).await?;
    match &report.head {
        Some(head) => println!(
            "audit log: {} entries; head seq {} chain hash {}\n  (keep it elsewhere — publish or \
             sign it — and check a later log against it with --anchor {head})",
            report.entries, head.seq, head.chain_hash
        ),
        None => println!("audit log: {} entries; no head row", report.entries),
    }
    if !report.holds() {
        for problem in &report.problems {
            eprintln!("MISMATCH: {problem}");
        }
        eprintln!("{}", report.summary());
        if args.checkpoint {
            eprintln!("no checkpoint recorded: the log does not verify");
        }
        return Ok(ExitCode::from(DOES_NOT_HOLD));
    }
    println!("{}", report.summary());
    if let (true, Some(head)) = (args.checkpoint, &report.head) {
        if head.seq == 0 {
            println!("no checkpoint recorded: the log is empty");
        } else if urad_audit::checkpoint(&db, &SystemClock, head).await? {
            println!("checkpoint recorded at seq {}", head.seq);
        } else {
            println!("a checkpoint at seq {} exists already", head.seq);
        }
    }
    Ok(ExitCode::SUCCESS)
}
