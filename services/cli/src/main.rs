//! `rollcall`: run Rollcall's rules offline on exported files.

mod evidence;
mod scan;

use std::process::ExitCode;

/// The allocator of the `rollcall` binary: see `Cargo.toml` for why.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Keeps the workforce access of medical practices at HIPAA's minimum necessary.
#[derive(Debug, Parser)]
#[command(name = "rollcall", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read tenant folders of exported files and report every finding.
    Scan(scan::ScanArgs),
    /// Check evidence packs of access-review campaigns offline.
    Evidence {
        #[command(subcommand)]
        command: evidence::EvidenceCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Evidence { command } => evidence::run(&command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rollcall: {error:#}");
            ExitCode::from(scan::EXIT_INPUT)
        }
    }
}
