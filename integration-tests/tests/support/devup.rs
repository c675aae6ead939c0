//! One `make dev-up` instance of the test's own: its folder, database, ops ports and NATS
//! namespace, removed when dropped. It uses the binaries that `cargo test --workspace`
//! builds.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rollcall_integration_tests::repo;

/// Returns `target/debug` (or the profile folder the test binary runs from).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test binary>
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

pub fn free_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// One dev-up instance; dropping it stops the processes and removes the database and the
/// NATS streams, also when an assertion failed.
pub struct Instance {
    dir: tempfile::TempDir,
    db: String,
    stream_prefix: String,
    env: Vec<(String, String)>,
}

impl Instance {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let short = &id[..12];
        let db = format!("rollcall_devup_{short}");
        let stream_prefix = format!("DEVUP{}", short.to_ascii_uppercase());
        let env = vec![
            ("DEV_DIR".to_owned(), dir.path().join("dev").display().to_string()),
            ("DEV_DB".to_owned(), db.clone()),
            ("DEV_ENGINE_OPS".to_owned(), free_address()),
            ("DEV_CONNECTOR_OPS".to_owned(), free_address()),
            ("DEV_SUBJECT_PREFIX".to_owned(), format!("devup{short}")),
            ("DEV_STREAM_PREFIX".to_owned(), stream_prefix.clone()),
            ("DEV_BIN_DIR".to_owned(), bin_dir().display().to_string()),
            ("DEV_SKIP_BUILD".to_owned(), "1".to_owned()),
        ];
        Self { dir, db, stream_prefix, env }
    }

    pub fn script(&self, name: &str) -> Output {
        let mut command = Command::new(repo().join("scripts").join(name));
        // The services reject unknown ROLLCALL_* variables, such as a test's own.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ROLLCALL_") {
                command.env_remove(key);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v))).current_dir(repo());
        command.output().unwrap()
    }

    /// Returns the value of one of the instance's `DEV_*` settings.
    pub fn setting(&self, key: &str) -> &str {
        self.env.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    /// Returns the folder the scripts write into: the drop folder, configs, logs, pids.
    pub fn dev_dir(&self) -> PathBuf {
        self.dir.path().join("dev")
    }

    pub fn pid(&self, service: &str) -> Option<String> {
        let file = self.dir.path().join("dev").join(format!("{service}.pid"));
        std::fs::read_to_string(file).ok().map(|pid| pid.trim().to_owned())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.script("dev-down.sh");
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
    }
}

pub fn alive(pid: &str) -> bool {
    Path::new("/proc").join(pid).exists()
}
