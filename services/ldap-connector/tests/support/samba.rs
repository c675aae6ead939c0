//! A throwaway Samba Active Directory domain controller on loopback, for the tests that
//! need AD itself: binary `objectGUID` and `objectSid`, `userAccountControl`, the
//! protected groups by RID and the in-chain matching rule.
//!
//! Samba listens on the fixed AD ports (389, 636, 88, 445 and others) of 127.0.0.1 only,
//! so one domain controller runs at a time: [`SambaDc::start`] holds a process-wide lock
//! until the value is dropped. Provisioning takes about 5 s. The LDAPS certificate is the
//! test CA's, with an IP address SAN for 127.0.0.1.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::slapd::{ServerCert, write_certificates};

/// The domain's base DN.
pub const BASE: &str = "DC=harborview,DC=test";
/// The administrator, who seeds the directory.
pub const ADMIN: &str = "Administrator@harborview.test";
/// Its password (synthetic, meets Samba's complexity rules).
pub const ADMIN_PASSWORD: &str = "Synthetic-Admin-1";

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running domain controller.
pub struct SambaDc {
    pub dir: TempDir,
    pub ldaps_url: String,
    pub ca_file: PathBuf,
    child: Option<Child>,
    _turn: MutexGuard<'static, ()>,
}

impl SambaDc {
    /// Provisions a domain in a temp dir and starts Samba in the foreground.
    pub fn start() -> SambaDc {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = tempfile::tempdir().expect("temp dir");
        let (ca_file, _) = write_certificates(dir.path(), ServerCert::Valid);
        let d = dir.path().display().to_string();
        let output = Command::new("samba-tool")
            .args(["domain", "provision", "--targetdir", &d])
            .args(["--realm=HARBORVIEW.TEST", "--domain=HARBORVIEW", "--server-role=dc"])
            .args([
                "--dns-backend=NONE",
                "--use-rfc2307",
                "--host-ip=127.0.0.1",
                "--host-name=dc01",
            ])
            .arg(format!("--adminpass={ADMIN_PASSWORD}"))
            .args(["--option=interfaces = lo", "--option=bind interfaces only = yes"])
            .arg(format!("--option=tls keyfile = {d}/server.key"))
            .arg(format!("--option=tls certfile = {d}/server.pem"))
            .arg(format!("--option=tls cafile = {d}/ca.pem"))
            .output()
            .expect("samba-tool is installed (scripts/install-test-deps.sh installs samba)");
        assert!(
            output.status.success(),
            "samba-tool domain provision failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let child = Command::new("samba")
            .args(["--foreground", "--no-process-group", "-s", &format!("{d}/etc/smb.conf")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("samba.log")).expect("log file"))
            .spawn()
            .expect("start samba");
        let mut dc = SambaDc {
            dir,
            ldaps_url: "ldaps://127.0.0.1:636".to_owned(),
            ca_file,
            child: Some(child),
            _turn: turn,
        };
        dc.wait_until_listening();
        dc
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", 636)).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("samba exited with {status}: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("samba did not listen on 127.0.0.1:636 within 60 s: {}", self.log());
    }

    /// Samba's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("samba.log")).unwrap_or_default()
    }

    /// Runs `ldapadd` as the administrator with `ldif`.
    pub fn add(&self, ldif: &str) {
        let file = self.dir.path().join("add.ldif");
        std::fs::write(&file, ldif).expect("write LDIF");
        self.ldap_tool("ldapadd", &["-f", &file.display().to_string()]);
    }

    /// Runs `ldapsearch` as the administrator with paging and `args` (base, filter,
    /// attributes) and returns its output.
    pub fn search(&self, args: &[&str]) -> Vec<u8> {
        self.ldap_tool(
            "ldapsearch",
            &[&["-E", "pr=500/noprompt", "-o", "ldif_wrap=no"], args].concat(),
        )
    }

    fn ldap_tool(&self, tool: &str, args: &[&str]) -> Vec<u8> {
        let output = Command::new(tool)
            .env("LDAPTLS_CACERT", &self.ca_file)
            .args(["-x", "-H", &self.ldaps_url, "-D", ADMIN, "-w", ADMIN_PASSWORD])
            .args(args)
            .output()
            .expect("ldap-utils is installed");
        assert!(
            output.status.success(),
            "{tool} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }
}

impl Drop for SambaDc {
    /// Stops Samba by its pid. SIGTERM lets the main process stop its worker processes.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
