//! `rollcall evidence verify DIR`: check a campaign's evidence pack with no server.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use rollcall_reviews::evidence::verify_pack;

/// Exit status when the pack has a problem.
pub const EXIT_TAMPERED: u8 = 1;

/// The `evidence` subcommands.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Verify an evidence pack written by `rollcall-engine evidence export`: every file's
    /// SHA-256, the audit chain's hashes and links, and that the records agree with the
    /// chain. Exits 0 when intact, 1 when anything was changed, 3 when the folder cannot
    /// be read.
    Verify(VerifyArgs),
}

/// Arguments of `rollcall evidence verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The pack folder, which contains manifest.json.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Runs `command` and returns the exit status.
pub fn run(command: &EvidenceCommand) -> Result<ExitCode> {
    match command {
        EvidenceCommand::Verify(args) => verify(args),
    }
}

fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let verification = verify_pack(&args.dir)
        .with_context(|| format!("cannot verify the evidence pack in {}", args.dir.display()))?;
    let campaign = verification.campaign_id.as_deref().unwrap_or("unknown");
    let tenant = verification.tenant.as_deref().unwrap_or("unknown");
    if verification.is_intact() {
        println!(
            "{}: intact: campaign {campaign} of tenant {tenant}, {} items, {} audit entries",
            args.dir.display(),
            verification.items,
            verification.entries
        );
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &verification.problems {
        println!("{}: {problem}", args.dir.display());
    }
    eprintln!(
        "rollcall: the evidence pack in {} failed verification with {} problems",
        args.dir.display(),
        verification.problems.len()
    );
    Ok(ExitCode::from(EXIT_TAMPERED))
}
