//! The run's own namespace on the shared loopback servers, and the service processes.
//!
//! A run has one scratch PostgreSQL database, one NATS subject and stream prefix (which
//! also prefixes the engine's Redis keys) and one folder under `target/e2e/` for
//! configurations, secrets, drop folders and logs. Dropping the run stops every process
//! it started, by its pid, drops the database and deletes the streams. The folder stays
//! when the test failed, so that the logs can be read.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_integration_tests::repo;

use crate::support::devup::bin_dir;

/// How long a condition that depends on other processes may take to hold on a shared
/// two-core machine before the test gives up and prints what it saw. Not a speed check.
pub const PATIENCE: Duration = Duration::from_secs(240);

/// A process of the run, killed by its pid when dropped.
pub struct Process {
    pub name: String,
    pub log: PathBuf,
    child: Child,
}

impl Process {
    /// Panics with the end of the log when the process has exited.
    pub fn check_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited with {status}; its log ends:\n{}", self.name, tail(&self.log));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns the last 40 lines of a log file.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

pub fn wait_for_port(address: &str, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(address).is_err() {
        assert!(started.elapsed() < PATIENCE, "{what} did not listen on {address}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Calls `probe` every second until it returns `Ok`, or panics with `what` and the text of
/// its last `Err` once [`PATIENCE`] has passed.
pub fn eventually<T>(what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let started = Instant::now();
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) if started.elapsed() > PATIENCE => {
                panic!("{what}: not reached after {} s; last seen: {last}", PATIENCE.as_secs())
            }
            Err(_) => std::thread::sleep(Duration::from_secs(1)),
        }
    }
}

pub struct Run {
    pub dir: PathBuf,
    pub db: String,
    pub subject_prefix: String,
    pub stream_prefix: String,
    processes: Vec<Process>,
}

impl Run {
    /// Creates the folder and the database, and migrates it with `rollcall-engine migrate`.
    pub fn new() -> Run {
        let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        let dir = repo().join("target/e2e").join(&id);
        std::fs::create_dir_all(dir.join("secrets")).unwrap();
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let run = Run {
            db: format!("rollcall_e2e_{id}"),
            subject_prefix: format!("e2e{id}"),
            stream_prefix: format!("E2E{}", id.to_ascii_uppercase()),
            dir,
            processes: Vec::new(),
        };
        for role in ["rollcall_migrator", "rollcall_app"] {
            run.psql_on(
                "postgres",
                &format!(
                    "DO $$ BEGIN CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS; \
                     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                ),
            );
        }
        run.psql_on("postgres", &format!("CREATE DATABASE {} OWNER rollcall_migrator", run.db));
        let output = Command::new(bin_dir().join("rollcall-engine"))
            .arg("migrate")
            .arg("--owner-url")
            .arg(format!("postgres://rollcall_migrator@127.0.0.1:5432/{}", run.db))
            .env_clear()
            .output()
            .expect("rollcall-engine is built; `make e2e` builds every service first");
        assert!(output.status.success(), "migrate: {}", String::from_utf8_lossy(&output.stderr));
        run
    }

    /// Runs SQL as the `postgres` superuser on database `db` and returns the unaligned
    /// output, one row a line with `|` between columns. The superuser is not subject to
    /// row-level security, so it sees every tenant, as an operator's psql does.
    pub fn psql_on(&self, db: &str, sql: &str) -> String {
        let output = Command::new("psql")
            .args(["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U"])
            .args(["postgres", "-d", db, "-c", sql])
            .output()
            .expect("psql is installed");
        assert!(
            output.status.success(),
            "psql failed on `{sql}`: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// [`Run::psql_on`] on the run's database.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_on(&self.db, sql)
    }

    /// Writes a secret file (mode 0600) and returns its path.
    pub fn secret(&self, name: &str, value: &str) -> PathBuf {
        let path = self.dir.join("secrets").join(name);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        path
    }

    /// Returns the `nats:` block of a service configuration.
    pub fn nats_yaml(&self) -> String {
        format!(
            "nats:\n  url: nats://127.0.0.1:4222\n  subject_prefix: {}\n  stream_prefix: {}\n",
            self.subject_prefix, self.stream_prefix
        )
    }

    /// Writes the application role's PostgreSQL URL to a secret file and returns its path.
    pub fn postgres_url_file(&self) -> PathBuf {
        self.secret("postgres-url", &format!("postgres://rollcall_app@127.0.0.1:5432/{}", self.db))
    }

    /// Writes `config` as `<name>.yaml` and returns its path.
    pub fn config(&self, name: &str, config: &str) -> PathBuf {
        let path = self.dir.join(format!("{name}.yaml"));
        std::fs::write(&path, config).unwrap();
        path
    }

    /// Starts a program with its output in `logs/<name>.log` and keeps it until the run
    /// ends. `ROLLCALL_*` variables of the caller are not passed on, because the services
    /// reject unknown ones.
    pub fn spawn(&mut self, name: &str, mut command: Command) -> &mut Process {
        let log = self.dir.join("logs").join(format!("{name}.log"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ROLLCALL_") {
                command.env_remove(key);
            }
        }
        let file = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        self.processes.push(Process { name: name.to_owned(), log, child });
        self.processes.last_mut().unwrap()
    }

    /// Starts one of the workspace's binaries with `--config`.
    pub fn service(&mut self, binary: &str, config: &Path) -> &mut Process {
        let mut command = Command::new(bin_dir().join(binary));
        command.arg("--config").arg(config);
        self.spawn(binary, command)
    }

    /// Panics with the log of the first process that has exited.
    pub fn check_running(&mut self) {
        for process in &mut self.processes {
            process.check_running();
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.processes.clear();
        let _ = Command::new("psql")
            .args(["-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db))
            .output();
        let prefix = self.stream_prefix.clone();
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
            else {
                return;
            };
            runtime.block_on(async {
                let Ok(client) = async_nats::connect("nats://127.0.0.1:4222").await else {
                    return;
                };
                let jetstream = async_nats::jetstream::new(client);
                for family in ["SOURCE", "HR", "FINDING", "DEADLETTER"] {
                    let _ = jetstream.delete_stream(format!("{prefix}_{family}")).await;
                }
            });
        });
        let _ = cleanup.join();
        if std::thread::panicking() {
            eprintln!("e2e: the run's configurations and logs stay in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
