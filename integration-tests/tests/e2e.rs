//! A quarter of an MSP's work, played end to end on one machine (docs/e2e.md).
//!
//! Every Rollcall service runs as its real binary on loopback. NATS, Redis and PostgreSQL
//! are the local servers of `scripts/services.sh`; slapd, the Graph double, the DrChrono
//! double, the OpenID provider, the SMTP sink and Prometheus are the test's own. The three
//! tenants share one scratch database and one NATS namespace:
//!
//! - tenant A (`harborview`): Entra ID through the Graph double and the Entra connector,
//!   OpenLDAP through slapd and the LDAP connector, the HR roster through the file
//!   connector;
//! - tenant B (`ehr-athena-leavers`): athenahealth exports and an HR roster, as files;
//! - tenant C (`bayview`): an Active Directory export with ranged members, as files, and
//!   DrChrono through the DrChrono double and the DrChrono connector.
//!
//! `make e2e` builds the services and runs this test, which is ignored in `cargo test`
//! otherwise. It needs the packages that `scripts/install-test-deps.sh` and
//! `scripts/install-chart-tools.sh` install.

mod support;

#[path = "e2e/directory.rs"]
mod directory;
#[path = "../../services/drchrono-connector/tests/double/mod.rs"]
mod drchrono_double;
#[path = "e2e/harness.rs"]
mod harness;
#[path = "../../services/ldap-connector/tests/support/slapd.rs"]
#[allow(dead_code, reason = "the end-to-end run uses the plain server only")]
mod slapd;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rollcall_integration_tests::{describe, repo, scan};

use harness::{Run, eventually, wait_for_port};
use slapd::{ADMIN_DN, ADMIN_PASSWORD, SERVICE_DN, SERVICE_PASSWORD, SUFFIX, Slapd, SlapdOptions};
use support::devup::{bin_dir, free_address};
use support::prometheus::Prometheus;

/// The instant the engine's test clock starts at, and `rollcall scan`'s, so that the two
/// can be compared finding for finding. The example practice's data describes this
/// instant. Stage 2 moves the engine's clock forward past a leaver's deadline.
const AS_OF: &str = "2026-12-01T15:00:00Z";

/// How far stage 2 moves the engine's clock after the termination: one hour past the
/// tenant's 24-hour deprovisioning deadline.
const CLOCK_STEP_HOURS: i64 = 25;

const TENANT_A: &str = "harborview";
const TENANT_B: &str = "ehr-athena-leavers";
const TENANT_C: &str = "bayview";

/// The Graph double's directory id and app credentials for tenant A (synthetic).
const DIRECTORY_ID: &str = "0c0ffee0-0000-4000-8000-00000000e2e0";
const CLIENT_ID: &str = "e2e00000-2222-4333-8444-555555555555";
const CLIENT_SECRET: &str = "synthetic-e2e-client-secret";
/// A directory id for tenant B's sign-in settings; its people have no Entra accounts.
const DIRECTORY_ID_B: &str = "0c0ffee0-0000-4000-8000-00000000e2eb";
/// The reviews web's OpenID client secret (synthetic).
const WEB_CLIENT_SECRET: &str = "synthetic-e2e-oidc-secret";

fn as_of() -> DateTime<Utc> {
    AS_OF.parse().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let status = Command::new("cp").arg("-r").arg(from).arg(to).status().unwrap();
    assert!(status.success(), "copying {} failed", from.display());
}

/// Removes `lines` from `text`, which must contain them.
fn without(text: &str, lines: &str) -> String {
    assert!(text.contains(lines), "tenant.yaml lacks:\n{lines}");
    text.replace(lines, "")
}

/// The folders of the run's tenants: what `rollcall scan` reads (`scan/<tenant>`, tenant
/// B's drop folder itself) and what the MSP drops for the file connector
/// (`drop/<tenant>`).
struct Folders {
    scan: BTreeMap<&'static str, PathBuf>,
    drop_root: PathBuf,
}

/// Lays out the three tenants. Tenant A's scan folder gets the directory as
/// `ldapsearch` exports it, the Graph double's tenant as saved responses and the roster; its drop folder holds only the roster, because its directories are read live.
fn lay_out(run: &Run, slapd: &Slapd) -> Folders {
    let example = repo().join("examples/harborview");
    let scenarios = repo().join("integration-tests/scenarios");
    let drop_root = run.dir.join("drop");
    let mut scan = BTreeMap::new();

    let a = run.dir.join("scan").join(TENANT_A);
    std::fs::create_dir_all(a.join("ldap")).unwrap();
    // The Graph double serves the example's saved responses; written back as files the
    // way the Entra connector selects them, they are what `rollcall scan` reads. The
    // double's tenants have Entra ID P1, so sign-in activity is included.
    let directory = rollcall_graph_double::Tenant::load_dir(&example.join("entra")).unwrap();
    directory.export_dir(&a.join("entra"), rollcall_entra_connector::USER_SELECT, true).unwrap();
    copy_dir(&example.join("hr"), &a.join("hr"));
    let export =
        slapd.ldapsearch_export(SUFFIX, rollcall_ldap_connector::config::OPENLDAP_ATTRIBUTES);
    std::fs::write(a.join("ldap/directory.ldif"), export).unwrap();
    let full = std::fs::read_to_string(example.join("tenant.yaml")).unwrap();
    // Tenant A has no EHR; its EHR baselines stay and simply match nothing.
    let yaml = without(
        &full,
        "  ehr:\n    - files: [ehr/athena-users.csv]\n      profile: athenahealth\n",
    );
    std::fs::write(a.join("tenant.yaml"), &yaml).unwrap();
    let dropped = drop_root.join(TENANT_A);
    copy_dir(&example.join("hr"), &dropped.join("hr"));
    let hr_only = without(&yaml, "  entra: entra\n  ldap: ldap\n");
    std::fs::write(dropped.join("tenant.yaml"), hr_only).unwrap();
    scan.insert(TENANT_A, a);

    for (tenant, scenario) in [(TENANT_B, "ehr-athena-leavers"), (TENANT_C, "ad-ranged-members")] {
        let folder = drop_root.join(tenant);
        copy_dir(&scenarios.join(scenario), &folder);
        // The expected findings of the scenario test are no export.
        std::fs::remove_file(folder.join("expected.txt")).unwrap();
        scan.insert(tenant, folder);
    }

    // Tenant C's EHR is DrChrono, read live from the DrChrono double. Its scan folder adds
    // the practice's export of the records the double serves; its drop folder keeps the
    // directory export only.
    let c = run.dir.join("scan").join(TENANT_C);
    copy_dir(&scan[TENANT_C], &c);
    std::fs::create_dir_all(c.join("ehr")).unwrap();
    std::fs::copy(drchrono_export(), c.join("ehr/drchrono.json")).unwrap();
    let yaml = std::fs::read_to_string(c.join("tenant.yaml")).unwrap();
    assert!(!yaml.contains("sources:"), "tenant C's scenario now names its sources");
    let sources = "sources:\n  ldap: ldap\n  ehr:\n    - files: [ehr/drchrono.json]\n      \
                   format: drchrono\n      vendor: drchrono\npolicy:\n";
    std::fs::write(c.join("tenant.yaml"), yaml.replacen("policy:\n", sources, 1)).unwrap();
    scan.insert(TENANT_C, c);
    Folders { scan, drop_root }
}

/// Returns the path of the practice's DrChrono export that the DrChrono double serves
/// (synthetic).
fn drchrono_export() -> PathBuf {
    repo().join("testdata/field-cases/ehr-exports/drchrono/example.json")
}

/// Serves the DrChrono export through the DrChrono double on a runtime of its own, which
/// the caller keeps while the double must serve, and returns the double's URL.
fn start_drchrono_double() -> (tokio::runtime::Runtime, String) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let export: serde_json::Value =
        serde_json::from_slice(&std::fs::read(drchrono_export()).unwrap()).unwrap();
    let double = drchrono_double::DrChronoDouble::from_dump(&export);
    let base = runtime.block_on(double.spawn());
    (runtime, base)
}

/// Starts the DrChrono connector for tenant C against the double at `base`, and returns
/// its ops address.
fn start_drchrono_connector(run: &mut Run, base: &str) -> String {
    let ops = free_address();
    let secret = run.secret("drchrono-client-secret", drchrono_double::CLIENT_SECRET);
    let token = run.secret("drchrono-refresh-token", drchrono_double::FIRST_REFRESH_TOKEN);
    let config = run.config(
        "drchrono-connector",
        &format!(
            "{nats}postgres:\n  url_file: {postgres}\nops:\n  listen: {ops}\n\
             api_url: {base}\ntoken_url: {base}/o/token/\nallow_plain_http_loopback: true\n\
             interval_minutes: 1\nstart_delay_max_seconds: 0\n\
             limits:\n  page_size: 3\n  min_request_interval_ms: 0\n\
             tenants:\n  - tenant: {TENANT_C}\n    client_id: {client}\n\
             \x20   client_secret_file: {secret}\n    refresh_token_file: {token}\n\
             \x20   time_zone: America/Los_Angeles\n",
            nats = run.nats_yaml(),
            postgres = run.postgres_url_file().display(),
            client = drchrono_double::CLIENT_ID,
            secret = secret.display(),
            token = token.display(),
        ),
    );
    run.service("rollcall-drchrono-connector", &config);
    ops
}

/// Returns the engine's test clock file, which holds the instant the engine evaluates at.
fn clock_file(run: &Run) -> PathBuf {
    run.dir.join("engine-clock")
}

/// Sets the engine's test clock to `at`. The engine reads the file at each evaluation.
fn set_clock(run: &Run, at: DateTime<Utc>) {
    // Written beside and renamed, so the engine never reads half a file.
    let part = run.dir.join("engine-clock.part");
    std::fs::write(&part, at.to_rfc3339()).unwrap();
    std::fs::rename(&part, clock_file(run)).unwrap();
}

/// Writes the engine's configuration. Its test clock starts at [`AS_OF`], and
/// review mail goes to the sink over STARTTLS, with links to the review pages at `web`.
/// Tenant A's remediation writes to the Graph double at `graph` and to `slapd` as the
/// directory administrator. The tenant's mode stays off until stage 2 switches it on.
fn engine_config(
    run: &Run,
    ops: &str,
    sink: &Sink,
    web: &str,
    graph: &str,
    slapd: &Slapd,
) -> PathBuf {
    let postgres = run.postgres_url_file();
    let redis = run.secret("redis-url", "redis://127.0.0.1:6379");
    let graph_secret = run.secret("graph-write-secret", CLIENT_SECRET);
    let ldap_password = run.secret("ldap-write-password", ADMIN_PASSWORD);
    set_clock(run, as_of());
    run.config(
        "engine",
        &format!(
            "{nats}postgres:\n  url_file: {postgres}\nredis:\n  url_file: {redis}\n\
             engine:\n  reconcile_seconds: 5\n  due_scan_seconds: 5\n  campaign_scan_seconds: 5\n\
             \x20 clock_file: {clock}\nops:\n  listen: {ops}\n\
             mail:\n  smtp:\n    host: 127.0.0.1\n    port: {port}\n    tls: starttls_required\n\
             \x20   ca_file: {ca}\n  from: \"Rollcall reviews <reviews@msp.example>\"\n\
             \x20 ui_base_url: http://{web}\n  review_path: \"/campaigns/{{campaign}}\"\n\
             remediation:\n  tenants:\n    {TENANT_A}:\n      entra:\n\
             \x20       directory_id: {DIRECTORY_ID}\n        client_id: {CLIENT_ID}\n\
             \x20       client_secret_file: {graph_secret}\n\
             \x20       authority_url: http://{graph}\n        graph_url: http://{graph}\n\
             \x20     ldap:\n        url: {ldaps}\n        ca_file: {ldap_ca}\n\
             \x20       bind_dn: {ADMIN_DN}\n        password_file: {ldap_password}\n\
             \x20       disable: attribute\n        disable_attribute: pwdAccountLockedTime\n\
             \x20       disable_value: \"000001010000Z\"\n",
            nats = run.nats_yaml(),
            clock = clock_file(run).display(),
            postgres = postgres.display(),
            redis = redis.display(),
            port = sink.port,
            ca = sink.ca.display(),
            graph_secret = graph_secret.display(),
            ldaps = slapd.ldaps_url,
            ldap_ca = slapd.ca_file.display(),
            ldap_password = ldap_password.display(),
        ),
    )
}

/// The SMTP sink (aiosmtpd, `scripts/smtp-sink/sink.py`): every accepted message is a
/// JSON file in `out`.
struct Sink {
    port: u16,
    ca: PathBuf,
    out: PathBuf,
}

impl Sink {
    fn start(run: &mut Run) -> Sink {
        let python = std::env::var_os("ROLLCALL_SMTP_SINK_VENV")
            .map_or_else(|| repo().join("target/test-tools/smtp-sink"), PathBuf::from)
            .join("bin/python");
        assert!(python.exists(), "the SMTP sink is missing; run scripts/install-test-deps.sh");
        let pki = run.dir.join("smtp-pki");
        std::fs::create_dir_all(&pki).unwrap();
        let (ca, _) = slapd::write_certificates(&pki, slapd::ServerCert::Valid);
        let out = run.dir.join("mail");
        std::fs::create_dir_all(&out).unwrap();
        let mut command = Command::new(python);
        command
            .arg(repo().join("scripts/smtp-sink/sink.py"))
            .args(["--mode", "starttls", "--out"])
            .arg(&out)
            .arg("--cert")
            .arg(pki.join("server.pem"))
            .arg("--key")
            .arg(pki.join("server.key"));
        let log = run.spawn("smtp-sink", command).log.clone();
        let port = eventually("the SMTP sink reports its port", || {
            run.check_running();
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.lines()
                .find_map(|line| line.strip_prefix("READY ").and_then(|p| p.trim().parse().ok()))
                .ok_or(text)
        });
        Sink { port, ca, out }
    }

    /// Returns the messages accepted so far as recipient and text, with quoted-printable
    /// soft line breaks removed.
    fn messages(&self) -> Vec<(String, String)> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .filter_map(|path| {
                let message: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
                let to = message["rcpt_tos"][0].as_str()?.to_owned();
                Some((to, message["data"].as_str()?.replace("=\r\n", "")))
            })
            .collect()
    }
}

/// Starts the OpenID provider of the reviews web tests (`services/reviews-web/tests/idp`)
/// and returns its issuer. Its development login pages sign in any Entra object id given
/// as the login name.
fn start_idp(run: &mut Run, web: &str) -> String {
    let dir = repo().join("services/reviews-web/tests/idp");
    assert!(
        dir.join("node_modules/oidc-provider").is_dir(),
        "oidc-provider is missing; run scripts/install-test-deps.sh"
    );
    let mut command = Command::new("node");
    command
        .arg("idp.mjs")
        .current_dir(&dir)
        .env("CLIENT_ID", "rollcall-reviews")
        .env("CLIENT_SECRET", WEB_CLIENT_SECRET)
        .env("REDIRECT_URI", format!("http://{web}/auth/callback"))
        .env("DEFAULT_TID", DIRECTORY_ID);
    let log = run.spawn("oidc-provider", command).log.clone();
    eventually("the OpenID provider reports its issuer", || {
        run.check_running();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines().find_map(|line| line.strip_prefix("listening ").map(str::to_owned)).ok_or(text)
    })
}

fn start_reviews_web(run: &mut Run, web: &str, ops: &str, issuer: &str) {
    let secret = run.secret("oidc-client-secret", WEB_CLIENT_SECRET);
    let config = run.config(
        "reviews",
        &format!(
            "ops:\n  listen: {ops}\nhttp:\n  listen: {web}\n  public_url: http://{web}\n\
             postgres:\n  url_file: {postgres}\n\
             redis:\n  url: redis://127.0.0.1:6379/0\n  key_prefix: \"{prefix}:reviews:\"\n\
             oidc:\n  client_id: rollcall-reviews\n  client_secret_file: {secret}\n\
             tenants:\n  {TENANT_A}:\n    issuer: {issuer}\n    directory_id: {DIRECTORY_ID}\n\
             \x20 {TENANT_B}:\n    issuer: {issuer}\n    directory_id: {DIRECTORY_ID_B}\n",
            postgres = run.postgres_url_file().display(),
            prefix = run.subject_prefix,
            secret = secret.display(),
        ),
    );
    run.service("rollcall-reviews", &config);
    wait_for_port(web, "the reviews web");
}

fn tenant_apply(config: &Path, folder: &Path) {
    let output = Command::new(bin_dir().join("rollcall-engine"))
        .arg("--config")
        .arg(config)
        .args(["tenant", "apply"])
        .arg(folder)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tenant apply {} failed:\n{}",
        folder.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The services of the run and where they listen.
struct Services {
    slapd: Slapd,
    graph: String,
    sink: Sink,
    /// The reviews web's address.
    web: String,
    folders: Folders,
    engine_config: PathBuf,
    /// Ops servers that Prometheus scrapes.
    ops: Vec<String>,
    /// Runs the DrChrono double; dropping it stops the double.
    _drchrono: tokio::runtime::Runtime,
}

fn start_services(run: &mut Run) -> Services {
    let workers = directory::roster(
        &std::fs::read_to_string(repo().join("examples/harborview/hr/roster.csv")).unwrap(),
    );
    let slapd = Slapd::start(&directory::seed(&workers), SlapdOptions::default());
    let folders = lay_out(run, &slapd);

    let sink = Sink::start(run);
    let (web, web_ops) = (free_address(), free_address());
    let engine_ops = free_address();
    let graph = free_address();
    let engine_config = engine_config(run, &engine_ops, &sink, &web, &graph, &slapd);
    for folder in folders.scan.values() {
        tenant_apply(&engine_config, folder);
    }
    run.service("rollcall-engine", &engine_config);
    wait_for_port(&engine_ops, "the engine's ops server");

    let file_ops = free_address();
    let file_config = run.config(
        "file-connector",
        &format!(
            "drop_root: {drop}\nstate_dir: {state}\npoll_interval_seconds: 2\nsettle_seconds: 1\n\
             {nats}ops:\n  listen: {file_ops}\n",
            drop = folders.drop_root.display(),
            state = run.dir.join("file-connector-state").display(),
            nats = run.nats_yaml(),
        ),
    );
    run.service("rollcall-file-connector", &file_config);

    let mut double = Command::new(bin_dir().join("rollcall-graph-double"));
    double
        .args(["--listen", &graph, "--tenant-id", DIRECTORY_ID, "--client-id", CLIENT_ID])
        .args(["--client-secret", CLIENT_SECRET, "--dir"])
        .arg(repo().join("examples/harborview/entra"));
    run.spawn("rollcall-graph-double", double);
    wait_for_port(&graph, "the Graph double");

    let entra_ops = free_address();
    let secret = run.secret("entra-client-secret", CLIENT_SECRET);
    let entra_config = run.config(
        "entra-connector",
        &format!(
            "{nats}postgres:\n  url_file: {postgres}\nops:\n  listen: {entra_ops}\n\
             apps:\n  msp:\n    client_id: {CLIENT_ID}\n    client_secret_file: {secret}\n\
             tenants:\n  - tenant: {TENANT_A}\n    directory_id: {DIRECTORY_ID}\n    app: msp\n\
             authority_url: http://{graph}\ngraph_url: http://{graph}\n\
             interval_minutes: 1\nstart_delay_max_seconds: 0\n",
            nats = run.nats_yaml(),
            postgres = run.postgres_url_file().display(),
            secret = secret.display(),
        ),
    );
    run.service("rollcall-entra-connector", &entra_config);

    let ldap_ops = free_address();
    let password = run.secret("ldap-password", SERVICE_PASSWORD);
    let ldap_config = run.config(
        "ldap-connector",
        &format!(
            "{nats}ops:\n  listen: {ldap_ops}\n\
             directories:\n  - tenant: {TENANT_A}\n    url: {url}\n    tls: ldaps\n\
             \x20   ca_file: {ca}\n    bind_dn: {SERVICE_DN}\n    password_file: {password}\n\
             \x20   base_dn: {SUFFIX}\n    interval_seconds: 5\n    jitter_seconds: 0\n",
            nats = run.nats_yaml(),
            url = slapd.ldaps_url,
            ca = slapd.ca_file.display(),
            password = password.display(),
        ),
    );
    run.service("rollcall-ldap-connector", &ldap_config);

    let (drchrono_runtime, drchrono) = start_drchrono_double();
    let drchrono_ops = start_drchrono_connector(run, &drchrono);

    let issuer = start_idp(run, &web);
    start_reviews_web(run, &web, &web_ops, &issuer);

    Services {
        slapd,
        graph,
        sink,
        web,
        folders,
        engine_config,
        ops: vec![engine_ops, file_ops, entra_ops, ldap_ops, drchrono_ops, web_ops],
        _drchrono: drchrono_runtime,
    }
}

/// Returns the open findings of a tenant in PostgreSQL, as finding id to `kind summary`.
fn open_findings(run: &Run, tenant: &str) -> BTreeMap<String, String> {
    run.psql(&format!(
        "SELECT finding_id, kind, summary FROM rollcall.findings \
         WHERE tenant_id = '{tenant}' AND resolved_at IS NULL"
    ))
    .lines()
    .filter_map(|line| {
        let mut cells = line.splitn(3, '|');
        let id = cells.next()?.to_owned();
        Some((id, format!("{} {}", cells.next()?, cells.next()?)))
    })
    .collect()
}

/// Scans a folder as `rollcall scan` does and returns finding id to its description.
fn scanned_findings(folder: &Path) -> BTreeMap<String, String> {
    let (_, evaluation) = scan(folder, as_of());
    evaluation.findings.iter().map(|f| (f.id.clone(), describe(f))).collect()
}

/// Stage 1: every source syncs, and each tenant's open findings are the ones
/// `rollcall scan` reports for the same data.
fn stage_sync_matches_scan(run: &mut Run, services: &Services) {
    for (tenant, folder) in &services.folders.scan {
        let expected = scanned_findings(folder);
        assert!(!expected.is_empty(), "{tenant}: the scan finds nothing to compare");
        eventually(&format!("{tenant}: the stored findings match rollcall scan"), || {
            run.check_running();
            let stored = open_findings(run, tenant);
            let missing: Vec<_> =
                expected.iter().filter(|(id, _)| !stored.contains_key(*id)).collect();
            let extra: Vec<_> =
                stored.iter().filter(|(id, _)| !expected.contains_key(*id)).collect();
            if missing.is_empty() && extra.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "scanned but not stored: {missing:#?}\nstored but not scanned: {extra:#?}"
                ))
            }
        });
        eprintln!("e2e: {tenant}: {} open findings, as rollcall scan reports", expected.len());
    }
}

/// The leaver of stage 2: a physician who reports to the office manager, E1002.
const LEAVER: &str = "E1004";
/// The leaver's Entra object id and directory login in the example practice.
const LEAVER_ENTRA_ID: &str = "6e7a1000-0000-4000-8000-0000000003ec";
const LEAVER_UID: &str = "imogen.thackeray";
/// The HR system's webhook signing key for tenant A (synthetic, 32 bytes).
const WEBHOOK_KEY: &[u8] = b"e2e harborview hr key, 32 bytes.";

/// Runs one future to completion on a runtime of its own; the test itself is synchronous.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

fn start_hr_webhook(run: &mut Run) -> (String, String) {
    use base64::Engine as _;
    let (http, ops) = (free_address(), free_address());
    let key = run.secret(
        "hr-webhook-key",
        &format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(WEBHOOK_KEY)),
    );
    let config = run.config(
        "hr-webhook",
        &format!(
            "http:\n  listen: \"{http}\"\nops:\n  listen: \"{ops}\"\n{nats}\
             postgres:\n  url_file: {postgres}\n\
             tenants:\n  {TENANT_A}:\n    webhook_keys:\n      - id: hris\n        secret_file: {key}\n",
            nats = run.nats_yaml(),
            postgres = run.postgres_url_file().display(),
            key = key.display(),
        ),
    );
    run.service("rollcall-hr-webhook", &config);
    wait_for_port(&http, "the HR webhook");
    (http, ops)
}

/// The leaver's termination instant: [`AS_OF`] in the practice's zone.
const TERMINATED_AT: &str = "2026-12-01T09:00:00-06:00";

/// Posts a termination of [`LEAVER`] as the HR system does: a Standard Webhooks
/// signature over the id, the timestamp and the body.
fn post_termination(http: &str) {
    // Effective at the engine's clock; with the 24 h SLA of tenant.yaml the deadline
    // is a day later.
    let body = serde_json::json!({
        "type": "termination",
        "employee_id": LEAVER,
        "effective_at": TERMINATED_AT,
        "time_zone": "America/Chicago",
        "reason": "voluntary resignation",
        "manager_employee_id": "E1002",
    })
    .to_string();
    let id = format!("msg_e2e_{}", uuid::Uuid::new_v4().simple());
    let now = Utc::now().timestamp();
    let signature = rollcall_hr_webhook::signature::sign(WEBHOOK_KEY, &id, now, body.as_bytes());
    let status = block_on(async {
        reqwest::Client::new()
            .post(format!("http://{http}/v1/tenants/{TENANT_A}/hr/events"))
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(status.is_success(), "the HR webhook answered {status}");
}

/// Open findings of one kind for a tenant, by id.
fn open_of_kind(run: &Run, tenant: &str, kind: &str) -> BTreeMap<String, String> {
    open_findings(run, tenant)
        .into_iter()
        .filter(|(_, text)| text.starts_with(&format!("{kind} ")))
        .collect()
}

/// Returns the value of an alert that fires for a tenant, or `None` while it does not.
fn firing(prometheus: &Prometheus, alert: &str, tenant: &str) -> Option<f64> {
    let alerts = prometheus.api("/api/v1/alerts", &[]);
    alerts["alerts"].as_array()?.iter().find_map(|a| {
        (a["labels"]["alertname"] == alert
            && a["labels"]["tenant"] == tenant
            && a["state"] == "firing")
            .then(|| a["value"].as_str().and_then(|v| v.parse().ok()))
            .flatten()
    })
}

/// Reads `accountEnabled` of a user from the Graph double's user list, with a
/// client-credentials token as any Graph client gets one.
fn account_enabled_in_double(graph: &str, object_id: &str) -> Option<bool> {
    block_on(async {
        let client = reqwest::Client::new();
        let token: serde_json::Value = client
            .post(format!("http://{graph}/{DIRECTORY_ID}/oauth2/v2.0/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .map(|text| serde_json::from_str(&text).expect("the token answer is JSON"))
            .unwrap();
        let token = token["access_token"].as_str().expect("the double issues a token");
        // The double returns single users only inside a batch, so the list is paged through.
        let mut next = Some(format!("http://{graph}/v1.0/users?$select=id,accountEnabled"));
        while let Some(url) = next.take() {
            let text =
                client.get(&url).bearer_auth(token).send().await.unwrap().text().await.unwrap();
            let page: serde_json::Value = serde_json::from_str(&text).expect("a JSON page");
            let users = page["value"].as_array().expect("a page of users");
            if let Some(user) = users.iter().find(|user| user["id"] == object_id) {
                return user["accountEnabled"].as_bool();
            }
            next = page["@odata.nextLink"].as_str().map(str::to_owned);
        }
        None
    })
}

/// Sets a tenant's remediation mode with `rollcall-engine remediation set`, as the MSP
/// engineer does, and checks what the command prints back.
fn set_remediation(config: &Path, tenant: &str, mode: &str, sources: &[&str]) {
    let mut command = Command::new(bin_dir().join("rollcall-engine"));
    command.arg("--config").arg(config).args(["remediation", "set", "--tenant", tenant]);
    command.args(["--mode", mode, "--actor", "msp.engineer@msp.example"]);
    for source in sources {
        command.args(["--source", source]);
    }
    let output = command.env_clear().output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "remediation set: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected =
        format!("tenant `{tenant}`: remediation {mode} for sources [{}]", sources.join(", "));
    assert!(stdout.contains(&expected), "expected `{expected}` in {stdout}");
}

/// Returns the ids of the open findings of `kind` about [`LEAVER`] in tenant A.
fn leaver_findings(run: &Run, kind: &str) -> Vec<String> {
    run.psql(&format!(
        "SELECT finding_id FROM rollcall.findings WHERE tenant_id = '{TENANT_A}' \
         AND kind = '{kind}' AND resolved_at IS NULL \
         AND subject->'identity'->>'employee_id' = '{LEAVER}'"
    ))
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Stage 2: a leaver through the signed HR webhook, effective at the engine's clock. The
/// leaver opens with a day to go. Then the run moves the engine's test clock 25 hours
/// forward, so the deadline passes while the services run: `deprovision_overdue` opens
/// and the chart's alert fires. Once the accounts are disabled, the next syncs resolve the
/// findings and record the time to deprovision.
fn stage_leaver(run: &mut Run, services: &Services, prometheus: &Prometheus) {
    let (http, _) = start_hr_webhook(run);
    post_termination(&http);

    // Before the deadline: the leaver is open, its accounts are `terminated_active`, and
    // nothing is overdue yet.
    let deadline = eventually("the termination opens a leaver", || {
        run.check_running();
        let row = run.psql(&format!(
            "SELECT state || '|' || extract(epoch FROM deadline)::bigint FROM rollcall.leavers \
             WHERE tenant_id = '{TENANT_A}' AND employee_id = '{LEAVER}'"
        ));
        if row.trim().starts_with("open|") { Ok(row.trim().to_owned()) } else { Err(row) }
    });
    let deadline =
        DateTime::from_timestamp(deadline.trim_start_matches("open|").parse().unwrap(), 0).unwrap();
    let terminated_at: DateTime<Utc> = TERMINATED_AT.parse().unwrap();
    assert_eq!(deadline, terminated_at + chrono::TimeDelta::hours(24), "the leaver's deadline");
    eventually("terminated_active opens for the leaver's accounts", || {
        run.check_running();
        let count = leaver_findings(run, "terminated_active").len();
        if count == 2 { Ok(()) } else { Err(format!("{count} findings")) }
    });
    let overdue = leaver_findings(run, "deprovision_overdue");
    assert_eq!(overdue, Vec::<String>::new(), "overdue before the deadline");

    let moved = as_of() + chrono::TimeDelta::hours(CLOCK_STEP_HOURS);
    set_clock(run, moved);
    let opened = eventually("deprovision_overdue opens for the leaver", || {
        run.check_running();
        let open = leaver_findings(run, "deprovision_overdue");
        if open.is_empty() { Err("no deprovision_overdue finding".to_owned()) } else { Ok(open) }
    });
    eprintln!("e2e: stage 2: opened {opened:#?}");
    eventually("RollcallLeaverOverdue fires with the open count", || {
        let total = open_of_kind(run, TENANT_A, "deprovision_overdue").len() as f64;
        match firing(prometheus, "RollcallLeaverOverdue", TENANT_A) {
            Some(value) if (value - total).abs() < 0.5 => Ok(()),
            other => Err(format!("alert value {other:?}, open overdue findings {total}")),
        }
    });

    // The practice switches remediation on, as the MSP engineer does with the engine's
    // command. At its next evaluation the engine disables every overdue leaver's Entra
    // user and locks the directory account, the new leaver's among them.
    // The engine goes to enforce only after a dry run, which the practice reviews first.
    set_remediation(&services.engine_config, TENANT_A, "dry_run", &["entra", "ldap"]);
    set_remediation(&services.engine_config, TENANT_A, "enforce", &["entra", "ldap"]);
    let tasks = eventually("remediation disables the leaver's accounts", || {
        run.check_running();
        let rows = run.psql(&format!(
            "SELECT kind || ':' || state FROM rollcall.remediation_tasks \
             WHERE tenant_id = '{TENANT_A}' AND employee_id = '{LEAVER}' ORDER BY 1"
        ));
        let rows: Vec<String> = rows.lines().map(str::to_owned).collect();
        if rows == ["disable_entra_user:done", "disable_ldap_account:done"] {
            Ok(rows)
        } else {
            Err(format!("remediation tasks {rows:?}"))
        }
    });
    eprintln!("e2e: stage 2: remediation {tasks:?}");
    assert_eq!(
        account_enabled_in_double(&services.graph, LEAVER_ENTRA_ID),
        Some(false),
        "the leaver's Entra user is still enabled in the Graph double"
    );
    let leaver_dn = format!("uid={LEAVER_UID},{}", directory::STAFF);
    assert!(
        directory::is_locked(&services.slapd.ldap_url, &leaver_dn),
        "the leaver's directory account is not locked in slapd"
    );
    let audited = run.psql(&format!(
        "SELECT count(*) FROM rollcall.audit_log WHERE tenant_id = '{TENANT_A}' \
         AND action = 'remediation.done'"
    ));
    let audited: u32 = audited.trim().parse().expect("a count");
    assert!(audited >= 2, "remediation.done audit entries: {audited}");

    eventually("the next syncs resolve the leaver's findings", || {
        run.check_running();
        let open = open_findings(run, TENANT_A);
        let still: Vec<_> = opened.iter().filter(|id| open.contains_key(*id)).collect();
        if still.is_empty() { Ok(()) } else { Err(format!("still open: {still:?}")) }
    });
    let leaver = eventually("the leaver closes with its time to deprovision", || {
        let row = run.psql(&format!(
            "SELECT state, time_to_deprovision_seconds FROM rollcall.leavers \
             WHERE tenant_id = '{TENANT_A}' AND employee_id = '{LEAVER}'"
        ));
        if row.trim().starts_with("closed|") { Ok(row.trim().to_owned()) } else { Err(row) }
    });
    let seconds: i64 = leaver.trim_start_matches("closed|").parse().unwrap();
    // From the effective instant to the evaluation instant that first saw both accounts
    // disabled: the moved clock.
    assert_eq!(seconds, (moved - terminated_at).num_seconds(), "time to deprovision");
    let disabled = run.psql(&format!(
        "SELECT source || ':' || disabled_how FROM rollcall.leaver_accounts a \
         JOIN rollcall.leavers l USING (tenant_id, leaver_id) \
         WHERE l.tenant_id = '{TENANT_A}' AND l.employee_id = '{LEAVER}' ORDER BY 1"
    ));
    assert_eq!(disabled.lines().collect::<Vec<_>>(), ["entra:disabled", "ldap:disabled"]);
}

/// Tenant A's quarterly review of directory (LDAP) grants. The first reminder lies
/// before the launch (15 days before a 14-day deadline), so every reviewer is mailed at
/// launch. The IT administrator E1050 acts as the security officer in the second stage.
const CAMPAIGN_A: &str = "
campaigns:
  - id: quarterly-directory
    name: Quarterly directory access review
    scope: { source: ldap }
    reviewers:
      fallback: E1003
      second_stage: E1050
    deadline_days: 14
    max_source_age: 30d
    reminders: [15d, 1d]
";

/// Tenant B's quarterly review, which tenant A's manager must never see.
const CAMPAIGN_B: &str = "
campaigns:
  - id: quarterly-all
    name: Cedar Run quarterly access review
    reviewers:
      fallback: E-10422
    deadline_days: 14
    max_source_age: 30d
";

/// The office manager, E1002, reviews her reports; she revokes this person's directory
/// membership in Front Office, access outside a nurse's baseline.
const MANAGER: &str = "E1002";
const REVOKED_PERSON: &str = "E1010";
const REVOKED_GROUP: &str = "Front Office";
/// The security officer of the second stage.
const SECURITY_OFFICER: &str = "E1050";

/// Applies a tenant folder again with campaign definitions appended to its tenant.yaml,
/// from a copy, as an MSP adds a campaign at the start of the quarter.
fn apply_with_campaign(run: &Run, services: &Services, tenant: &str, campaigns: &str) {
    let copy = run.dir.join("campaign-config").join(tenant);
    copy_dir(&services.folders.scan[tenant], &copy);
    let mut yaml = std::fs::read_to_string(copy.join("tenant.yaml")).unwrap();
    yaml.push_str(campaigns);
    std::fs::write(copy.join("tenant.yaml"), yaml).unwrap();
    tenant_apply(&services.engine_config, &copy);
}

fn launched_campaign(run: &mut Run, tenant: &str, definition: &str) -> String {
    eventually(&format!("{tenant}: campaign {definition} launches"), || {
        run.check_running();
        let id = run.psql(&format!(
            "SELECT campaign_id FROM rollcall.review_campaigns \
             WHERE tenant_id = '{tenant}' AND definition_id = '{definition}'"
        ));
        if id.trim().is_empty() { Err("not launched".to_owned()) } else { Ok(id.trim().to_owned()) }
    })
}

/// Employee id to Entra object id, from the saved Graph responses the double serves.
fn entra_object_ids() -> BTreeMap<String, String> {
    let pages: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("examples/harborview/entra/users.json")).unwrap(),
    )
    .unwrap();
    let mut ids = BTreeMap::new();
    for page in pages.as_array().unwrap() {
        for user in page["value"].as_array().unwrap() {
            if let (Some(employee), Some(id)) = (user["employeeId"].as_str(), user["id"].as_str()) {
                ids.insert(employee.to_owned(), id.to_owned());
            }
        }
    }
    ids
}

/// Waits for the review mail to `address` about `campaign` and returns the link in it.
fn mailed_link(sink: &Sink, web: &str, address: &str, campaign: &str) -> String {
    let link = format!("http://{web}/campaigns/{campaign}");
    eventually(&format!("a review mail to {address} with the link"), || {
        let messages = sink.messages();
        if messages.iter().any(|(to, text)| to == address && text.contains(&link)) {
            Ok(link.clone())
        } else {
            Err(format!(
                "{} messages, to {:?}",
                messages.len(),
                messages.iter().map(|m| &m.0).collect::<Vec<_>>()
            ))
        }
    })
}

/// Runs one of the run's Chromium scripts as `login` of tenant A against the reviews web at
/// `web`, and returns the JSON line it prints last. The scripts start Chromium and sign in
/// with the reviews web tests' `chromium.mjs`, which signs in to `harborview`, tenant A.
fn chromium_script(
    script: &str,
    web: &str,
    login: &str,
    env: &[(&str, &str)],
) -> serde_json::Value {
    let browser = repo().join("services/reviews-web/tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir()
            && Path::new("/usr/bin/chromium").exists(),
        "chromium or playwright-core is missing; run scripts/install-test-deps.sh"
    );
    let output = Command::new("node")
        .arg(repo().join("integration-tests/tests/e2e").join(script))
        .env("BASE_URL", format!("http://{web}"))
        .env("LOGIN", login)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} as {login} failed: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// One reviewer's part in Chromium (`e2e/review.mjs`); returns what the script reports.
fn review_in_chromium(
    web: &str,
    login: &str,
    link: &str,
    extra: &[(&str, &str)],
) -> serde_json::Value {
    let mut env = vec![
        ("LINK", link),
        ("JUSTIFICATION", "Needed for the job; checked with the person this quarter."),
    ];
    env.extend_from_slice(extra);
    chromium_script("review.mjs", web, login, &env)
}

fn campaign_status(run: &Run, tenant: &str, campaign: &str) -> String {
    run.psql(&format!(
        "SELECT status FROM rollcall.review_campaigns WHERE tenant_id = '{tenant}' AND campaign_id = '{campaign}'"
    ))
    .trim()
    .to_owned()
}

/// Tenant B's open campaign and one of its items: what tenant A's manager reaches for at
/// every step of the run.
struct OtherTenant {
    campaign: String,
    item: String,
}

/// A person of tenant B whose name must never show to tenant A's manager.
const OTHER_NAME: &str = "Kowalczyk";

impl OtherTenant {
    /// Applies tenant B's campaign and waits for its launch, so that from the first
    /// step on there is something of tenant B's to reach for.
    fn launch(run: &mut Run, services: &Services) -> OtherTenant {
        apply_with_campaign(run, services, TENANT_B, CAMPAIGN_B);
        let campaign = launched_campaign(run, TENANT_B, "quarterly-all");
        let item = run
            .psql(&format!(
                "SELECT min(item_id) FROM rollcall.review_items \
                 WHERE tenant_id = '{TENANT_B}' AND campaign_id = '{campaign}'"
            ))
            .trim()
            .to_owned();
        assert!(!item.is_empty(), "tenant B's campaign has no items");
        OtherTenant { campaign, item }
    }

    /// Returns the variables the Chromium scripts take for the probe.
    fn env(&self) -> [(&'static str, &str); 3] {
        [("OTHER_CAMPAIGN", &self.campaign), ("OTHER_NAME", OTHER_NAME), ("OTHER_ITEM", &self.item)]
    }

    /// Stage 4 at a step of the run: tenant A's manager signs in in Chromium and reaches
    /// for tenant B's campaign (`e2e/isolation.mjs`).
    fn probe(&self, run: &Run, services: &Services, when: &str) {
        let login = &entra_object_ids()[MANAGER];
        let mut env = self.env().to_vec();
        env.push(("WHEN", when));
        let result = chromium_script("isolation.mjs", &services.web, login, &env);
        self.assert_isolated(run, &result, 1);
        eprintln!("e2e: stage 4: tenant A's manager cannot reach tenant B {when}");
    }

    /// Checks what tenant A's manager got in `expected` attempts: every read refused
    /// without tenant B's data, every decision refused, and tenant B's items undecided.
    fn assert_isolated(&self, run: &Run, result: &serde_json::Value, expected: usize) {
        let attempts = result["isolation"].as_array().unwrap();
        assert_eq!(attempts.len(), expected, "{result}");
        for attempt in attempts {
            for (key, value) in attempt.as_object().unwrap() {
                if key.ends_with("_shows_other") {
                    assert_eq!(value, false, "tenant B's campaign showed through {key}: {attempt}");
                }
            }
            for key in [
                "page_status",
                "overview_status",
                "evidence_status",
                "api_items_status",
                "api_decide_status",
                "form_decide_status",
            ] {
                let status = attempt[key].as_u64().unwrap();
                assert!(status == 403 || status == 404, "{key} was {status}: {attempt}");
            }
            assert_eq!(attempt["list_status"], 200, "{attempt}");
            assert_eq!(attempt["api_campaigns_status"], 200, "{attempt}");
        }
        let decided = run.psql(&format!(
            "SELECT count(*) FROM rollcall.review_items WHERE tenant_id = '{TENANT_B}' \
             AND campaign_id = '{}' AND decision IS NOT NULL",
            self.campaign
        ));
        assert_eq!(decided.trim(), "0", "tenant B's items were decided from tenant A");
    }
}

/// Stage 3: the quarterly review of tenant A. Tenant A's manager reaches for tenant B's
/// campaign once signed in and again after signing off (stage 4).
fn stage_review(
    run: &mut Run,
    services: &Services,
    prometheus: &Prometheus,
    watch: &mut DashboardWatch,
    other: &OtherTenant,
) {
    apply_with_campaign(run, services, TENANT_A, CAMPAIGN_A);
    let campaign = launched_campaign(run, TENANT_A, "quarterly-directory");
    let items = |run: &Run, condition: &str| {
        run.psql(&format!(
            "SELECT item_id FROM rollcall.review_items \
             WHERE tenant_id = '{TENANT_A}' AND campaign_id = '{campaign}' AND {condition}"
        ))
    };
    let revoke = items(
        run,
        &format!(
            "reviewee = 'hr:{REVOKED_PERSON}' AND reviewer = 'hr:{MANAGER}' \
             AND facts->'entitlement'->>'name' = '{REVOKED_GROUP}'"
        ),
    );
    let revoke = revoke.trim();
    assert!(!revoke.is_empty() && !revoke.contains('\n'), "one item to revoke, found `{revoke}`");
    let reviewers: Vec<String> = run
        .psql(&format!(
            "SELECT DISTINCT reviewer FROM rollcall.review_items \
             WHERE tenant_id = '{TENANT_A}' AND campaign_id = '{campaign}' ORDER BY 1"
        ))
        .lines()
        .map(|line| line.trim_start_matches("hr:").to_owned())
        .collect();
    assert!(reviewers.contains(&MANAGER.to_owned()), "{reviewers:?}");
    let object_ids = entra_object_ids();
    let workers = directory::roster(
        &std::fs::read_to_string(repo().join("examples/harborview/hr/roster.csv")).unwrap(),
    );
    let email = |id: &str| workers.iter().find(|w| w.employee_id == id).unwrap().email.clone();

    // The manager first, with the other tenant's campaign tried before and after.
    let link = mailed_link(&services.sink, &services.web, &email(MANAGER), &campaign);
    let mut env = vec![("REVOKE", revoke)];
    env.extend(other.env());
    let result = review_in_chromium(&services.web, &object_ids[MANAGER], &link, &env);
    assert_eq!(result["revoked"], revoke, "{result}");
    other.assert_isolated(run, &result, 2);
    // The campaign is open and partly decided: its burndown panels have data now.
    eventually("the review gauges reach Prometheus", || {
        let empty = watch.check(prometheus);
        if empty.iter().any(|name| name.contains("Access-review")) {
            Err(format!("{empty:?}"))
        } else {
            Ok(())
        }
    });
    for reviewer in reviewers.iter().filter(|r| r.as_str() != MANAGER) {
        let link = mailed_link(&services.sink, &services.web, &email(reviewer), &campaign);
        review_in_chromium(&services.web, &object_ids[reviewer], &link, &[]);
    }
    let signed = run.psql(&format!(
        "SELECT reviewer FROM rollcall.review_signoffs \
         WHERE tenant_id = '{TENANT_A}' AND campaign_id = '{campaign}' AND stage = 1 ORDER BY 1"
    ));
    let signed: Vec<&str> = signed.lines().map(|line| line.trim_start_matches("hr:")).collect();
    assert_eq!(signed, reviewers, "first-stage sign-offs");
    eventually("every first-stage reviewer signed off", || {
        match campaign_status(run, TENANT_A, &campaign).as_str() {
            "second_stage" => Ok(()),
            other => Err(other.to_owned()),
        }
    });
    let link = mailed_link(&services.sink, &services.web, &email(SECURITY_OFFICER), &campaign);
    review_in_chromium(&services.web, &object_ids[SECURITY_OFFICER], &link, &[]);
    assert_eq!(campaign_status(run, TENANT_A, &campaign), "closed");
    let second = run.psql(&format!(
        "SELECT reviewer FROM rollcall.review_signoffs \
         WHERE tenant_id = '{TENANT_A}' AND campaign_id = '{campaign}' AND stage = 2"
    ));
    assert_eq!(second.trim(), format!("hr:{SECURITY_OFFICER}"), "second-stage sign-off");
    let decisions = run.psql(&format!(
        "SELECT decision, count(*), count(justification) FROM rollcall.review_items \
         WHERE tenant_id = '{TENANT_A}' AND campaign_id = '{campaign}' GROUP BY 1 ORDER BY 1"
    ));
    let decisions: Vec<&str> = decisions.lines().collect();
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    assert!(decisions[0].starts_with("approve|"), "{decisions:?}");
    let approved: Vec<&str> = decisions[0].split('|').collect();
    assert_eq!(approved[1], approved[2], "every approval has a justification");
    assert!(decisions[1].starts_with("revoke|1|"), "{decisions:?}");

    // Remediation is in enforce since stage 2, so the engine removes the revoked direct
    // membership from the directory group itself.
    let person = workers.iter().find(|w| w.employee_id == REVOKED_PERSON).unwrap();
    let member = directory::user_dn(person);
    eventually("remediation removes the revoked membership in slapd", || {
        run.check_running();
        let members =
            directory::members(&services.slapd.ldap_url, &directory::group_dn(REVOKED_GROUP));
        if members.contains(&member) { Err(format!("still a member: {member}")) } else { Ok(()) }
    });
    eventually("the next sync verifies the revoked grant gone", || {
        run.check_running();
        let state = run.psql(&format!(
            "SELECT state FROM rollcall.review_revocations \
             WHERE tenant_id = '{TENANT_A}' AND campaign_id = '{campaign}' AND item_id = {revoke}"
        ));
        if state.trim() == "verified" { Ok(()) } else { Err(format!("state `{}`", state.trim())) }
    });

    let pack = run.dir.join("evidence");
    let output = Command::new(bin_dir().join("rollcall-engine"))
        .arg("--config")
        .arg(&services.engine_config)
        .args(["evidence", "export", "--tenant", TENANT_A, "--campaign", &campaign, "--out"])
        .arg(&pack)
        .args(["--actor", "security.officer@harborview.example"])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "evidence export: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = Command::new(bin_dir().join("rollcall"))
        .args(["evidence", "verify"])
        .arg(&pack)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rollcall evidence verify: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Publishes bytes that are no snapshot chunk on a tenant's snapshot subject; the engine
/// dead-letters them after the last delivery.
fn publish_poison(run: &Run, tenant: &str, source: &str) {
    let subject = format!("{}.{tenant}.source.{source}.snapshot", run.subject_prefix);
    block_on(async {
        let client = async_nats::connect("nats://127.0.0.1:4222").await.unwrap();
        let jetstream = async_nats::jetstream::new(client);
        let ack = jetstream.publish(subject, "not a protobuf chunk".into()).await.unwrap();
        ack.await.expect("JetStream stores the poison message");
    });
}

/// The dashboards' panel expressions, with `$tenant` set to tenant A, and the ones that
/// have returned data at some check during the run. A campaign's burndown has data only
/// while the campaign is open, so the panels are checked at several points.
struct DashboardWatch {
    queries: Vec<(String, String)>,
    seen: std::collections::BTreeSet<usize>,
}

impl DashboardWatch {
    fn new() -> DashboardWatch {
        let queries = support::prometheus::dashboard_queries(TENANT_A);
        assert!(queries.len() > 20, "the dashboards hold {} queries", queries.len());
        DashboardWatch { queries, seen: Default::default() }
    }

    /// Evaluates the expressions without data so far and returns the names of those
    /// still without.
    fn check(&mut self, prometheus: &Prometheus) -> Vec<String> {
        for (index, (_, expr)) in self.queries.iter().enumerate() {
            if !self.seen.contains(&index) && !prometheus.query(expr).is_empty() {
                self.seen.insert(index);
            }
        }
        (0..self.queries.len())
            .filter(|index| !self.seen.contains(index))
            .map(|index| self.queries[index].0.clone())
            .collect()
    }
}

/// Stage 5: every dashboard panel's expression has returned data during the run. The
/// end of the quarter brings the failures the pipeline panels count: tenant C drops a
/// truncated export, a message that no connector wrote reaches tenant C's subject, and
/// tenant A's directory server goes down.
fn stage_dashboards(
    services: &mut Services,
    run: &Run,
    prometheus: &Prometheus,
    watch: &mut DashboardWatch,
) {
    let broken = services.folders.drop_root.join(TENANT_C).join("entra");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("users.json.tmp"),
        b"{\"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#users\", \"value\": [",
    )
    .unwrap();
    // Written under a temporary name and renamed, as the file connector's guide asks.
    std::fs::rename(broken.join("users.json.tmp"), broken.join("users.json")).unwrap();
    publish_poison(run, TENANT_C, "ldap");
    services.slapd.kill();

    eventually("every dashboard query has returned data", || {
        let empty = watch.check(prometheus);
        if empty.is_empty() { Ok(()) } else { Err(format!("no data for {empty:#?}")) }
    });
}

fn start_prometheus(run: &Run, services: &Services) -> Prometheus {
    // The rules file takes the PrometheusRule's groups as they are; no `for:` is changed.
    let rules = serde_yaml_ng::to_string(&support::prometheus::rendered_rules()).unwrap();
    let targets: Vec<&str> = services.ops.iter().map(String::as_str).collect();
    let dir = run.dir.join("prometheus");
    std::fs::create_dir_all(&dir).unwrap();
    support::prometheus::start(&dir, &free_address(), &targets, Some(&rules))
}

#[test]
#[ignore = "`make e2e` runs it once the services are built (docs/e2e.md)"]
fn a_quarter_end_to_end() {
    let started = Instant::now();
    let mut run = Run::new();
    let mut services = start_services(&mut run);

    stage_sync_matches_scan(&mut run, &services);
    eprintln!("e2e: stage 1 (sources sync, findings match scan) passed at {:?}", started.elapsed());
    // Stage 4 runs at every step from here on: tenant B's campaign opens first, so there
    // is always something of tenant B's for tenant A's manager to reach for.
    let other = OtherTenant::launch(&mut run, &services);
    other.probe(&run, &services, "after the sources synced");

    let prometheus = start_prometheus(&run, &services);
    stage_leaver(&mut run, &services, &prometheus);
    eprintln!("e2e: stage 2 (leaver through the HR webhook) passed at {:?}", started.elapsed());
    other.probe(&run, &services, "after the leaver");

    let mut watch = DashboardWatch::new();
    watch.check(&prometheus);
    stage_review(&mut run, &services, &prometheus, &mut watch, &other);
    eprintln!(
        "e2e: stage 3 (quarterly review, tenant isolation inside it) passed at {:?}",
        started.elapsed()
    );

    stage_dashboards(&mut services, &run, &prometheus, &mut watch);
    eprintln!("e2e: stage 5 (every dashboard panel has data) passed at {:?}", started.elapsed());
    other.probe(&run, &services, "at the end of the quarter");

    eprintln!("e2e: the quarter took {:?}", started.elapsed());
}
