//! Property tests: the configuration loader returns `Ok` or `Err` for any file text,
//! environment or flags, and never panics.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::collections::BTreeMap;
use std::io::Write;

use proptest::prelude::*;
use rollcall_runtime::Secret;
use rollcall_runtime::config::ConfigLoader;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "the fields exist to be deserialized, not read")]
struct Typed {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    ratio: Option<f64>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    token: Option<Secret>,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    limits: BTreeMap<String, i64>,
    #[serde(default)]
    nested: Option<Box<Typed>>,
    #[serde(default)]
    mode: Option<Mode>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "the variants exist to be deserialized, not read")]
enum Mode {
    Off,
    Every(u32),
    Window { start: u8, end: u8 },
}

fn yaml_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("name: ".to_owned()),
        Just("port: ".to_owned()),
        Just("nested:\n  ".to_owned()),
        Just("mode: ".to_owned()),
        Just("token_file: ".to_owned()),
        Just("hosts: [".to_owned()),
        Just("- ".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("{Window: {start: 1, end: 2}}".to_owned()),
        Just("\n".to_owned()),
        Just("---\n".to_owned()),
        "[ -~]{0,12}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn load_file(text: &[u8]) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text).unwrap();
    let loader = ConfigLoader::new().file(file.path()).env(Vec::<(String, String)>::new());
    let _ = loader.load::<Typed>();
    let _ = loader.load::<serde_json::Value>();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_file_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        load_file(&bytes);
    }

    #[test]
    fn yaml_like_files_never_panic(text in yaml_like()) {
        load_file(text.as_bytes());
    }

    #[test]
    fn any_env_never_panics(vars in prop::collection::vec(("ROLLCALL_[A-Z_]{0,20}", ".{0,24}"), 0..6)) {
        let _ = ConfigLoader::new().env(vars.clone()).load::<Typed>();
        let _ = ConfigLoader::new().env(vars).load::<serde_json::Value>();
    }

    #[test]
    fn any_flags_never_panic(sets in prop::collection::vec(".{0,32}", 0..6)) {
        let mut loader = ConfigLoader::new().env(Vec::<(String, String)>::new());
        for set in sets {
            loader = loader.set(set);
        }
        let _ = loader.load::<Typed>();
        let _ = loader.load::<serde_json::Value>();
    }
}
