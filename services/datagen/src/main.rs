//! `rollcall-datagen`: writes synthetic tenants in the `rollcall scan` layout.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use rollcall_datagen::synthetic::{self, Params};

const USAGE: &str = "usage:
  rollcall-datagen example OUT_DIR
  rollcall-datagen synthetic --tenants N --people P --grants G --seed S OUT_DIR";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((command, [out])) if command == "example" => {
            let dir = PathBuf::from(out);
            rollcall_datagen::write::tenant(&rollcall_datagen::example::harborview(), &dir)?;
            println!("wrote the example practice to {}", dir.display());
            Ok(())
        }
        Some((command, rest)) if command == "synthetic" => {
            let (params, out) = synthetic_args(rest)?;
            synthetic::write_all(&params, &out)?;
            println!(
                "wrote {} synthetic practices of {} people with about {} grants each to {} (seed {}; scan with --as-of {})",
                params.tenants,
                params.people,
                params.grants,
                out.display(),
                params.seed,
                synthetic::REFERENCE
            );
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}

/// Parses `--tenants N --people P --grants G --seed S OUT_DIR`; every option is required,
/// so that a data set is always described by its command line.
fn synthetic_args(args: &[String]) -> Result<(Params, PathBuf)> {
    let mut values: [Option<u64>; 4] = [None; 4];
    let names = ["--tenants", "--people", "--grants", "--seed"];
    let mut out = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if let Some(slot) = names.iter().position(|n| n == arg) {
            let value = rest.next().with_context(|| format!("{arg} needs a value\n{USAGE}"))?;
            let number = value
                .parse::<u64>()
                .with_context(|| format!("{arg} takes a whole number, not `{value}`\n{USAGE}"))?;
            if let Some(cell) = values.get_mut(slot) {
                *cell = Some(number);
            }
        } else if arg.starts_with("--") {
            bail!("unknown option `{arg}`\n{USAGE}");
        } else if out.replace(PathBuf::from(arg)).is_some() {
            bail!("give one OUT_DIR\n{USAGE}");
        }
    }
    let get = |i: usize| -> Result<u64> {
        values
            .get(i)
            .copied()
            .flatten()
            .with_context(|| format!("{} is required\n{USAGE}", names.get(i).unwrap_or(&"")))
    };
    let size = |i: usize| -> Result<usize> {
        usize::try_from(get(i)?).context("the number is too large for this machine")
    };
    let params = Params { tenants: size(0)?, people: size(1)?, grants: size(2)?, seed: get(3)? };
    params.check()?;
    let out = out.with_context(|| format!("OUT_DIR is required\n{USAGE}"))?;
    Ok((params, out))
}
