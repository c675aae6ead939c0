//! A throwaway OpenLDAP server per test: a temp dir with its own configuration, database,
//! CA and server certificate, on free loopback ports, stopped by its pid.
//!
//! Certificates come from rcgen at test time, so no key is checked in and a test can ask
//! for an expired certificate, which the openssl CLI of Debian 12 cannot backdate without
//! a CA database.

use std::fmt::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType,
    date_time_ymd,
};
use tempfile::TempDir;

/// The suffix of the test directory.
pub const SUFFIX: &str = "dc=harborview,dc=example";
/// The service account the connector binds as: read access, nothing else.
pub const SERVICE_DN: &str = "cn=rollcall,ou=Services,dc=harborview,dc=example";
/// Its password.
pub const SERVICE_PASSWORD: &str = "synthetic-test-password";
/// The administrator DN (for ldapsearch exports with everything).
pub const ADMIN_DN: &str = "cn=admin,dc=harborview,dc=example";
/// Its password.
pub const ADMIN_PASSWORD: &str = "synthetic-admin-password";
/// The remediation account of the onboarding guide: write access to the ppolicy lock
/// attribute of the staff and to the members of the groups, read access to the rest. The
/// seed must add its entry ([`writer_entry`]).
pub const WRITER_DN: &str = "cn=rollcall-remediation,ou=Services,dc=harborview,dc=example";
/// Its password.
pub const WRITER_PASSWORD: &str = "synthetic-writer-password";

/// Returns the LDIF entry of [`WRITER_DN`], for a seed that needs the account.
pub fn writer_entry() -> String {
    format!(
        "dn: {WRITER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n\
         cn: rollcall-remediation\nuserPassword: {WRITER_PASSWORD}\n\n"
    )
}

/// Which certificate the server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCert {
    /// Valid now, for 127.0.0.1 and localhost, signed by the test CA.
    Valid,
    /// Signed by the test CA, but expired in 2021.
    Expired,
}

/// Options of one server.
#[derive(Debug, Clone)]
pub struct SlapdOptions {
    /// The certificate.
    pub cert: ServerCert,
    /// `sizelimit` for every bind but the root DN, if set.
    pub size_limit: Option<u32>,
    /// Schema text (slapd.conf `attributetype` and `objectclass` lines) loaded after the
    /// standard schemas, such as Active Directory's `userAccountControl`.
    pub extra_schema: Option<&'static str>,
}

impl Default for SlapdOptions {
    fn default() -> Self {
        Self { cert: ServerCert::Valid, size_limit: None, extra_schema: None }
    }
}

/// A running slapd.
pub struct Slapd {
    pub dir: TempDir,
    /// `ldap://127.0.0.1:<port>` (plain and StartTLS).
    pub ldap_url: String,
    /// `ldaps://127.0.0.1:<port>`.
    pub ldaps_url: String,
    /// The CA that signed the server certificate.
    pub ca_file: PathBuf,
    /// A second CA that signed nothing the server presents.
    pub other_ca_file: PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Writes `ca.pem`, `other-ca.pem`, `server.pem` and `server.key` (mode 0600) into `dir`
/// and returns the paths of the two CA files.
pub fn write_certificates(dir: &Path, cert: ServerCert) -> (PathBuf, PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Rollcall test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");

    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
    params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    params.distinguished_name.push(DnType::CommonName, "localhost");
    if cert == ServerCert::Expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().expect("server key");
    let server = params.signed_by(&key, &ca).expect("server certificate");

    let mut other_params = CertificateParams::new(Vec::<String>::new()).expect("other CA");
    other_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    other_params.distinguished_name.push(DnType::CommonName, "Unrelated test CA");
    let other = CertifiedIssuer::self_signed(other_params, KeyPair::generate().expect("key"))
        .expect("other CA certificate");

    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write CA");
    std::fs::write(dir.join("other-ca.pem"), other.pem()).expect("write other CA");
    std::fs::write(dir.join("server.pem"), server.pem()).expect("write server certificate");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server key");
    // Samba refuses a key file that others can read.
    std::fs::set_permissions(
        dir.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("restrict the key file");
    (dir.join("ca.pem"), dir.join("other-ca.pem"))
}

fn config(dir: &Path, options: &SlapdOptions) -> String {
    let d = dir.display();
    let extra = match options.extra_schema {
        Some(schema) => {
            std::fs::write(dir.join("extra.schema"), schema).expect("write the extra schema");
            format!("include {d}/extra.schema\n")
        }
        None => String::new(),
    };
    let mut text = format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
{extra}modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {d}/slapd.pid
TLSCACertificateFile {d}/ca.pem
TLSCertificateFile {d}/server.pem
TLSCertificateKeyFile {d}/server.key
"
    );
    if let Some(limit) = options.size_limit {
        let _ = writeln!(text, "sizelimit {limit}");
    }
    let _ = write!(
        text,
        "database mdb
maxsize 1073741824
suffix \"{SUFFIX}\"
rootdn \"{ADMIN_DN}\"
rootpw {ADMIN_PASSWORD}
directory {d}/db
index objectClass eq
index uid,cn,member eq
overlay ppolicy
access to attrs=userPassword by anonymous auth by * none
access to dn.subtree=\"ou=Staff,ou=Clinic,{SUFFIX}\" attrs=pwdAccountLockedTime by dn.exact=\"{WRITER_DN}\" write by dn.exact=\"{SERVICE_DN}\" read by * none
access to dn.subtree=\"ou=Groups,ou=Clinic,{SUFFIX}\" attrs=member,uniqueMember by dn.exact=\"{WRITER_DN}\" write by dn.exact=\"{SERVICE_DN}\" read by * none
access to dn.subtree=\"{SUFFIX}\" by dn.exact=\"{SERVICE_DN}\" read by dn.exact=\"{WRITER_DN}\" read by * none
"
    );
    // slapd's default size limit is 500 entries, also for paged searches in total, so the
    // service account gets no limit unless the test sets one.
    if options.size_limit.is_none() {
        let _ = writeln!(text, "limits dn.exact=\"{SERVICE_DN}\" size=unlimited");
    }
    text
}

impl Slapd {
    /// Writes the configuration, loads `seed` (LDIF) with slapadd and starts slapd.
    pub fn start(seed: &str, options: SlapdOptions) -> Slapd {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("db")).expect("db dir");
        let (ca_file, other_ca_file) = write_certificates(dir.path(), options.cert);
        let conf = dir.path().join("slapd.conf");
        std::fs::write(&conf, config(dir.path(), &options)).expect("write slapd.conf");
        let seed_file = dir.path().join("seed.ldif");
        std::fs::write(&seed_file, seed).expect("write seed");
        let output = Command::new("/usr/sbin/slapadd")
            .arg("-q")
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&seed_file)
            .output()
            .expect("slapadd is installed (scripts/install-test-deps.sh installs slapd)");
        assert!(
            output.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let ldap_port = free_port();
        let ldaps_port = free_port();
        let ldap_url = format!("ldap://127.0.0.1:{ldap_port}");
        let ldaps_url = format!("ldaps://127.0.0.1:{ldaps_port}");
        // `-d 0` keeps slapd in the foreground, so the test owns its process and its pid.
        let child = Command::new("/usr/sbin/slapd")
            .arg("-f")
            .arg(&conf)
            .arg("-h")
            .arg(format!("{ldap_url}/ {ldaps_url}/"))
            .arg("-d")
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("slapd.log")).expect("log file"))
            .spawn()
            .expect("start slapd");
        let mut slapd =
            Slapd { dir, ldap_url, ldaps_url, ca_file, other_ca_file, child: Some(child) };
        slapd.wait_until_listening(ldap_port);
        slapd.wait_until_listening(ldaps_port);
        slapd
    }

    fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("slapd exited with {status}: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("slapd did not listen on port {port} within 20 s: {}", self.log());
    }

    /// slapd's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }

    /// Returns the server's pid.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills slapd by its pid (SIGKILL, like a crash) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Exports the directory as `ldapsearch` does, with paging and the attributes the
    /// OpenLDAP section of docs/inputs/ldap.md names, bound as the service account.
    pub fn ldapsearch_export(&self, base: &str, attributes: &[&str]) -> Vec<u8> {
        let output = Command::new("ldapsearch")
            .args(["-x", "-H", &self.ldap_url, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD])
            .args(["-b", base, "-E", "pr=50/noprompt", "-o", "ldif_wrap=no"])
            .arg(rollcall_ldap_connector::config::OPENLDAP_FILTER)
            .args(attributes)
            .output()
            .expect("ldapsearch is installed (scripts/install-test-deps.sh installs ldap-utils)");
        assert!(
            output.status.success(),
            "ldapsearch failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.kill();
    }
}
