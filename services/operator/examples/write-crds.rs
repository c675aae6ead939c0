//! Writes each CRD to its own file in every folder given as an argument; used by
//! `scripts/generate-crds.sh`.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for dir in std::env::args().skip(1) {
        std::fs::create_dir_all(&dir)?;
        for (file, definition) in rollcall_operator::crd::definitions() {
            let path = Path::new(&dir).join(file);
            std::fs::write(&path, rollcall_operator::crd::to_yaml(&definition)?)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
