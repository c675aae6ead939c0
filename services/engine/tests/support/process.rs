//! Service binaries as child processes of a test, killed with SIGKILL at random points:
//! the engine (this package's binary) and the HR webhook (built beside it by
//! `cargo test --workspace`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{TestBus, TestDb, as_of, example_dir, redis_url};

/// Reads a positive number from the environment, or `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A small xorshift generator, seeded from the clock and printed, so a failing run can
/// be repeated with `ROLLCALL_TEST_KILL_SEED`.
pub struct Random(u64);

impl Random {
    pub fn new() -> Self {
        let seed = std::env::var("ROLLCALL_TEST_KILL_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| u64::from(chrono::Utc::now().timestamp_subsec_nanos()) | 1);
        eprintln!("kill test seed: {seed}");
        Self(seed)
    }

    /// Returns a number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// A service binary as a child process, killed when dropped (a failed test).
pub struct ServiceProcess {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServiceProcess {
    /// Starts `binary --config config`, appending its output to `log_path`.
    pub fn start(name: &'static str, binary: &Path, config: &Path, log_path: &Path) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log_path).unwrap();
        let mut command = Command::new(binary);
        // The services read every ROLLCALL_* variable as configuration and reject unknown
        // keys, such as this test's own ROLLCALL_TEST_* settings.
        for (variable, _) in std::env::vars_os() {
            if variable.to_string_lossy().starts_with("ROLLCALL_") {
                command.env_remove(variable);
            }
        }
        let child = command
            .arg("--config")
            .arg(config)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} failed: {e}", binary.display()));
        Self { name, child, log: log_path.to_path_buf() }
    }

    /// Starts this package's engine binary. Cargo names the binary only to the engine's
    /// own tests, so other packages that include this support module still compile.
    pub fn engine(config: &Path, log_path: &Path) -> Self {
        let Some(binary) = option_env!("CARGO_BIN_EXE_rollcall-engine") else {
            panic!("only the engine package's tests can start the engine binary");
        };
        Self::start("engine", Path::new(binary), config, log_path)
    }

    /// Fails the test at once when the process exited on its own, such as on an invalid
    /// configuration, instead of letting the test wait for work that will never happen.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!("the {} exited on its own ({status}); its log:\n{log}", self.name);
        }
    }

    /// Sends SIGKILL and waits for the exit.
    pub fn kill(mut self) {
        self.assert_running();
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM, requires a clean exit, and drops the process.
    pub fn terminate_owned(mut self) {
        self.terminate();
    }

    /// Sends SIGTERM and requires a clean exit.
    pub fn terminate(&mut self) {
        let status =
            Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the {} did not stop cleanly on SIGTERM: {status}", self.name);
    }
}

/// Returns the folder of the workspace's binaries: the test binary runs from
/// `target/<profile>/deps/`.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// Writes `<root>/<tenant>/tenant.yaml`: the example's, under another tenant id.
pub fn tenant_dir(root: &Path, tenant: &str) -> PathBuf {
    let dir = root.join(tenant);
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(example_dir().join("tenant.yaml")).unwrap();
    std::fs::write(
        dir.join("tenant.yaml"),
        text.replace("id: harborview", &format!("id: {tenant}")),
    )
    .unwrap();
    dir
}

/// Writes the engine's configuration file for a child process, with short intervals so
/// that restarts recover quickly.
pub fn engine_config_file(root: &Path, db: &TestDb, bus: &TestBus) -> PathBuf {
    let path = root.join("engine.yaml");
    let text = format!(
        "telemetry: {{level: warn}}\n\
         ops: {{listen: \"127.0.0.1:0\"}}\n\
         shutdown: {{grace_period_seconds: 10}}\n\
         nats: {{url: \"{}\", subject_prefix: {}, stream_prefix: {}}}\n\
         postgres: {{url_file: \"{}\"}}\n\
         redis: {{url: \"{}\"}}\n\
         engine: {{reconcile_seconds: 1, partial_snapshot_seconds: 10, lock_ttl_seconds: 3, ack_wait_seconds: 2, max_deliver: 100, due_scan_seconds: 1, fixed_as_of: \"{}\"}}\n",
        bus.url,
        bus.namespace.subject_prefix(),
        bus.namespace.stream_prefix(),
        root.join("postgres-url").display(),
        redis_url(),
        as_of().to_rfc3339(),
    );
    std::fs::write(root.join("postgres-url"), format!("{}\n", db.app_url())).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}
