//! Helpers for the tests that run the `rollcall-engine` binary. Kept apart from
//! `mod.rs` because the binary's path exists at compile time only in this crate's tests,
//! and the connectors' tests include `mod.rs` too.

use std::path::{Path, PathBuf};

use crate::support::TestDb;

/// Runs the `rollcall-engine` binary with `--config config` and `args`, with no
/// `ROLLCALL_*` variable of the test's environment, and returns its output.
pub fn engine_cli(config: &Path, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-engine"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ROLLCALL_") {
            command.env_remove(name);
        }
    }
    command.arg("--config").arg(config).args(args).output().unwrap()
}

/// Decodes a process's output as text, replacing invalid UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes an engine configuration with the local NATS and `db` into `dir` and returns
/// its path.
pub fn cli_config(db: &TestDb, dir: &Path) -> PathBuf {
    let config = dir.join("engine.yaml");
    std::fs::write(
        &config,
        format!("nats: {{url: \"127.0.0.1:4222\"}}\npostgres: {{url: \"{}\"}}\n", db.app_url()),
    )
    .unwrap();
    config
}

/// Stores the example practice with `tenant apply`, as an MSP engineer does first.
pub fn apply_example(config: &Path) {
    let example = crate::support::example_dir();
    let applied = engine_cli(config, &["tenant", "apply", example.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
}

/// Returns the arguments of `remediation set` for the example practice, by an MSP
/// engineer, with `mode` and one `--source` per entry of `sources`.
pub fn remediation_set<'a>(mode: &'a str, sources: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "remediation",
        "set",
        "--tenant",
        "harborview",
        "--actor",
        "msp.engineer@msp.example",
        "--mode",
        mode,
    ];
    for source in sources {
        args.extend(["--source", source]);
    }
    args
}
