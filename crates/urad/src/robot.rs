//! `urad robot …`: the grants processing robot from the command line. `evaluate` is the
//! what-if replay of shared/domain/boiler-grant.md: the live robot's engine over a file of
//! applications, deterministic, all or nothing. See docs/grants.md.

use crate::ContentArgs;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use urad_grants::replay::{CallFile, DecisionLine};
use urad_grants::FileRegistry;

/// Exit status for bad input: nothing was printed to standard output.
const BAD_INPUT: u8 = 2;

#[derive(Subcommand, Debug)]
pub enum RobotCommand {
    /// Decide a file of applications as the robot would, in receipt order, and print one
    /// decision a line (JSON). Exit 0; 2 for bad input (the message names the line and
    /// field), with nothing printed.
    Evaluate(EvaluateArgs),
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// The call: {"programme": "KD-2026", "opens_at", "closes_at", "budget_czk",
    /// "priority_municipalities"}; given values override the programme's.
    #[arg(long = "call", value_name = "CALL.json")]
    pub call: PathBuf,
    /// Registry facts: {"owners": {building: [person, …]}, "past_boiler_grants": [building,
    /// …], "unavailable": [building, …]}.
    #[arg(long = "registry", value_name = "REGISTRY.json")]
    pub registry: PathBuf,
    /// One application a line, in any order (`-` for standard input).
    #[arg(value_name = "APPLICATIONS.jsonl")]
    pub applications: PathBuf,
    #[command(flatten)]
    pub content: ContentArgs,
}

pub fn run(command: RobotCommand) -> ExitCode {
    match command {
        RobotCommand::Evaluate(args) => match evaluate(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(BAD_INPUT)
            }
        },
    }
}

fn read(path: &Path) -> Result<String, String> {
    if path == Path::new("-") {
        return std::io::read_to_string(std::io::stdin())
            .map_err(|e| format!("standard input: {e}"));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn evaluate(args: &EvaluateArgs) -> Result<(), String> {
    let programmes = args.content.grant_programmes().map_err(|e| e.to_string())?;
    let in_file = |path: &Path, e: String| format!("{}: {e}", path.display());
    let call_file = CallFile::from_json(&read(&args.call)?).map_err(|e| in_file(&args.call, e))?;
    let (index, call) = call_file
        .resolve(&programmes)
        .map_err(|e| in_file(&args.call, e))?;
    let registry =
        FileRegistry::from_json(&read(&args.registry)?).map_err(|e| in_file(&args.registry, e))?;
    let applications = urad_grants::application::parse_lines(&read(&args.applications)?)
        .map_err(|e| in_file(&args.applications, e.to_string()))?;
    let decisions =
        urad_grants::replay::evaluate(&programmes[index], call, &registry, &applications);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for decision in &decisions {
        let line =
            serde_json::to_string(&DecisionLine::from(decision)).expect("strings and numbers");
        writeln!(out, "{line}").map_err(|e| format!("standard output: {e}"))?;
    }
    out.flush().map_err(|e| format!("standard output: {e}"))
}
