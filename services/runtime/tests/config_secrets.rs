//! Secrets in configuration: read from `<key>_file` or inline with a warning, and never
//! shown in `Debug` output or error messages.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::io::Write;
use std::path::Path;

use rollcall_runtime::Secret;
use rollcall_runtime::config::{ConfigError, ConfigLoader, ConfigWarning, Origin};
use serde::Deserialize;

const TOKEN: &str = "tok-7f3a9c-synthetic";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceConfig {
    hr: Hr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hr {
    webhook_secret: Secret,
    #[serde(default)]
    api_token: Option<Secret>,
    #[serde(default)]
    #[allow(
        dead_code,
        reason = "present so that `roster_url_file` names a key that is not a secret"
    )]
    roster_url: Option<String>,
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(contents).unwrap();
    path
}

fn config_file(dir: &Path, yaml: &str) -> std::path::PathBuf {
    write(dir, "service.yaml", yaml.as_bytes())
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

#[test]
fn secret_file_key_strips_newline() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "webhook", format!("{TOKEN}\n").as_bytes());
    let file =
        config_file(dir.path(), &format!("hr:\n  webhook_secret_file: {}\n", secret.display()));

    let loaded = ConfigLoader::new().file(&file).env(no_env()).load::<ServiceConfig>().unwrap();

    assert_eq!(loaded.config.hr.webhook_secret.expose_str(), Some(TOKEN));
    assert!(loaded.config.hr.api_token.is_none());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn secret_file_env_var() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "webhook", TOKEN.as_bytes());
    let env = [("ROLLCALL_HR__WEBHOOK_SECRET_FILE", secret.to_str().unwrap())];

    let loaded = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap();

    assert_eq!(loaded.config.hr.webhook_secret.expose_str(), Some(TOKEN));
    assert!(loaded.warnings.is_empty());
}

#[test]
fn optional_secret_from_file() {
    let dir = tempfile::tempdir().unwrap();
    let webhook = write(dir.path(), "webhook", b"w");
    let token = write(dir.path(), "token", format!("{TOKEN}\r\n").as_bytes());
    let env = [
        ("ROLLCALL_HR__WEBHOOK_SECRET_FILE", webhook.to_str().unwrap()),
        ("ROLLCALL_HR__API_TOKEN_FILE", token.to_str().unwrap()),
    ];
    let config: ServiceConfig = ConfigLoader::new().env(env).load().unwrap().config;
    assert_eq!(config.hr.api_token.as_ref().and_then(Secret::expose_str), Some(TOKEN));
}

#[test]
fn binary_secret_file_kept_as_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "key.der", &[0x30, 0x82, 0xff, 0x00, 0x0a]);
    let env = [("ROLLCALL_HR__WEBHOOK_SECRET_FILE", secret.to_str().unwrap())];
    let config: ServiceConfig = ConfigLoader::new().env(env).load().unwrap().config;
    assert_eq!(config.hr.webhook_secret.expose_bytes(), &[0x30, 0x82, 0xff, 0x00]);
    assert_eq!(config.hr.webhook_secret.expose_str(), None);
}

#[test]
fn inline_secret_loads_with_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), &format!("hr:\n  webhook_secret: {TOKEN}\n"));

    let loaded = ConfigLoader::new().file(&file).env(no_env()).load::<ServiceConfig>().unwrap();

    assert_eq!(loaded.config.hr.webhook_secret.expose_str(), Some(TOKEN));
    let expected = ConfigWarning::InlineSecret {
        key: "hr.webhook_secret".to_owned(),
        origin: Origin::File { path: file.clone(), line: 2 },
    };
    assert_eq!(loaded.warnings, vec![expected]);
    let text = loaded.warnings.first().unwrap().to_string();
    assert!(text.contains("`hr.webhook_secret_file`"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

#[test]
fn inline_secret_from_env_warns() {
    let env = [("ROLLCALL_HR__WEBHOOK_SECRET", TOKEN)];
    let loaded = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap();
    let expected = ConfigWarning::InlineSecret {
        key: "hr.webhook_secret".to_owned(),
        origin: Origin::Env { var: "ROLLCALL_HR__WEBHOOK_SECRET".to_owned() },
    };
    assert_eq!(loaded.warnings, vec![expected]);
}

#[test]
fn file_form_in_higher_layer_replaces_inline() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "webhook", b"from-file");
    let file = config_file(dir.path(), "hr:\n  webhook_secret: from-yaml\n");
    let env = [("ROLLCALL_HR__WEBHOOK_SECRET_FILE", secret.to_str().unwrap())];

    let loaded = ConfigLoader::new().file(&file).env(env).load::<ServiceConfig>().unwrap();

    assert_eq!(loaded.config.hr.webhook_secret.expose_str(), Some("from-file"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn inline_in_higher_layer_replaces_file_form() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), "hr:\n  webhook_secret_file: /nonexistent/webhook\n");
    let loaded = ConfigLoader::new()
        .file(&file)
        .env(no_env())
        .set("hr.webhook_secret=from-flag")
        .load::<ServiceConfig>()
        .unwrap();
    assert_eq!(loaded.config.hr.webhook_secret.expose_str(), Some("from-flag"));
    assert_eq!(loaded.warnings.len(), 1);
}

#[test]
fn both_forms_in_one_layer_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "webhook", TOKEN.as_bytes());
    let yaml =
        format!("hr:\n  webhook_secret: {TOKEN}\n  webhook_secret_file: {}\n", secret.display());
    let file = config_file(dir.path(), &yaml);

    let error = ConfigLoader::new().file(&file).env(no_env()).load::<ServiceConfig>().unwrap_err();

    let ConfigError::SecretConflict { key, origin } = &error else { panic!("{error:?}") };
    assert_eq!(key, "hr.webhook_secret");
    assert_eq!(*origin, Origin::File { path: file.clone(), line: 3 });
    assert!(!error.to_string().contains(TOKEN));
}

#[test]
fn missing_secret_file_names_key_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("not-mounted");
    let env = [("ROLLCALL_HR__WEBHOOK_SECRET_FILE", absent.to_str().unwrap())];

    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();

    let ConfigError::SecretFile { key, path, origin, error: io_error } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(key, "hr.webhook_secret");
    assert_eq!(*path, absent);
    assert_eq!(*origin, Origin::Env { var: "ROLLCALL_HR__WEBHOOK_SECRET_FILE".to_owned() });
    assert_eq!(io_error.kind(), std::io::ErrorKind::NotFound);
    let message = error.to_string();
    assert!(message.contains("`hr.webhook_secret`"), "{message}");
    assert!(message.contains("not-mounted"), "{message}");
}

#[test]
fn unreadable_secret_file_is_error() {
    let dir = tempfile::tempdir().unwrap();
    // A directory cannot be read as a file, whatever the user's permissions.
    let env = [("ROLLCALL_HR__WEBHOOK_SECRET_FILE", dir.path().to_str().unwrap())];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    assert!(
        matches!(&error, ConfigError::SecretFile { key, .. } if key == "hr.webhook_secret"),
        "{error:?}"
    );
}

#[test]
fn empty_secret_file_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "webhook", b"\n");
    let env = [("ROLLCALL_HR__WEBHOOK_SECRET_FILE", secret.to_str().unwrap())];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    assert!(
        matches!(&error, ConfigError::EmptySecretFile { key, .. } if key == "hr.webhook_secret"),
        "{error:?}"
    );
}

#[test]
fn empty_inline_secret_is_error() {
    let error = ConfigLoader::new()
        .env(no_env())
        .set("hr.webhook_secret=")
        .load::<ServiceConfig>()
        .unwrap_err();
    let ConfigError::InvalidValue { key, reason, .. } = &error else { panic!("{error:?}") };
    assert_eq!(key, "hr.webhook_secret");
    assert!(reason.contains("empty"), "{reason}");
}

#[test]
fn file_form_on_plain_key_rejected_unread() {
    let dir = tempfile::tempdir().unwrap();
    let webhook = write(dir.path(), "webhook", b"w");
    let other = write(dir.path(), "roster", TOKEN.as_bytes());
    let env = [
        ("ROLLCALL_HR__WEBHOOK_SECRET_FILE", webhook.to_str().unwrap()),
        ("ROLLCALL_HR__ROSTER_URL_FILE", other.to_str().unwrap()),
    ];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    let ConfigError::NotASecret { key, .. } = &error else { panic!("{error:?}") };
    assert_eq!(key, "hr.roster_url");
    assert!(!error.to_string().contains(TOKEN));
}

#[test]
fn secret_absent_from_config_debug() {
    let env = [
        ("ROLLCALL_HR__WEBHOOK_SECRET", TOKEN),
        ("ROLLCALL_HR__API_TOKEN", "tok-second-synthetic"),
    ];
    let config: ServiceConfig = ConfigLoader::new().env(env).load().unwrap().config;
    for text in [format!("{config:?}"), format!("{config:#?}")] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("tok-second-synthetic"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}

#[test]
fn secret_absent_from_error_messages() {
    let dir = tempfile::tempdir().unwrap();
    type Case = (Vec<(String, String)>, Vec<String>);
    let cases: Vec<Case> = vec![
        // A secret next to an unknown key.
        (
            vec![
                ("ROLLCALL_HR__WEBHOOK_SECRET".into(), TOKEN.into()),
                ("ROLLCALL_HR__EXTRA".into(), "1".into()),
            ],
            vec![],
        ),
        // A secret given to a misspelled key.
        (vec![("ROLLCALL_HR__WEBHOK_SECRET".into(), TOKEN.into())], vec![]),
        (vec![], vec![format!("hr.webhok_secret={TOKEN}")]),
        // A secret inside a list, which a secret key does not accept.
        (vec![("ROLLCALL_HR".into(), format!("{{webhook_secret: [{TOKEN}]}}"))], vec![]),
        // A secret given as a mapping.
        (vec![], vec![format!("hr={{webhook_secret: {{value: {TOKEN}}}}}")]),
        // A secret in a malformed flag.
        (vec![], vec![format!("hr.webhook_secret.={TOKEN}")]),
        // A secret file whose path is given to a key that is not a secret.
        (
            vec![
                ("ROLLCALL_HR__WEBHOOK_SECRET".into(), "w".into()),
                (
                    "ROLLCALL_HR__ROSTER_URL_FILE".into(),
                    write(dir.path(), "f", TOKEN.as_bytes()).to_str().unwrap().into(),
                ),
            ],
            vec![],
        ),
    ];
    for (env, sets) in cases {
        let mut loader = ConfigLoader::new().env(env.clone());
        for set in &sets {
            loader = loader.set(set.clone());
        }
        let error = loader.load::<ServiceConfig>().unwrap_err();
        let message = error.to_string();
        let debug = format!("{error:?}");
        assert!(!message.contains(TOKEN), "env {env:?} sets {sets:?}: {message}");
        assert!(!debug.contains(TOKEN), "env {env:?} sets {sets:?}: {debug}");
        assert!(!format!("{loader:?}").contains(TOKEN));
    }
}
