//! The crate builds from an empty target directory with no `protoc` reachable, because
//! protox compiles the schema in the build script.
//!
//! Ignored by default: it compiles every build dependency into a new target directory,
//! which took about two minutes on a two-core machine. Run it with
//! `cargo test -p rollcall-proto --test clean_build -- --ignored`.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Returns `PATH` without the directories that contain a `protoc`, and those directories.
fn path_without_protoc() -> (OsString, Vec<PathBuf>) {
    let path = env::var_os("PATH").unwrap_or_default();
    let (removed, kept): (Vec<PathBuf>, Vec<PathBuf>) =
        env::split_paths(&path).partition(|dir| dir.join("protoc").exists());
    (env::join_paths(kept).unwrap(), removed)
}

#[test]
#[ignore = "compiles the build dependencies into a new target directory"]
fn builds_without_protoc() {
    let (path, removed) = path_without_protoc();
    let which_output = Command::new("which").arg("protoc").env("PATH", &path).output().unwrap();
    assert!(
        !which_output.status.success(),
        "`which protoc` still finds `{}`",
        String::from_utf8_lossy(&which_output.stdout).trim()
    );

    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("build-without-protoc");
    if target.exists() {
        fs::remove_dir_all(&target).unwrap();
    }
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let output = Command::new(cargo)
        .args(["build", "--offline", "--locked", "-p", "rollcall-proto"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &target)
        // prost-build runs the compiler named here whenever it runs one, so a build that
        // still needed protoc would fail on this path.
        .env("PROTOC", "/nonexistent/protoc")
        .output()
        .unwrap();

    assert!(
        output.status.success(),
        "build failed with PATH directories {removed:?} removed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = fs::read_dir(target.join("debug/build"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("out/rollcall.v1.rs"))
        .find(|file| file.exists());
    assert!(generated.is_some(), "no rollcall.v1.rs under {}", target.display());

    // The new target directory contains a full debug build of the dependencies, so it
    // is removed to free the disk.
    fs::remove_dir_all(&target).unwrap();
}
