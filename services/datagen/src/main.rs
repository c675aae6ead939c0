//! `rollcall-datagen`: writes synthetic tenants in the `rollcall scan` layout.

use std::path::PathBuf;

use anyhow::{Result, bail};

const USAGE: &str = "usage: rollcall-datagen example OUT_DIR";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [command, out] if command == "example" => {
            let dir = PathBuf::from(out);
            rollcall_datagen::write::tenant(&rollcall_datagen::example::harborview(), &dir)?;
            println!("wrote the example practice to {}", dir.display());
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}
