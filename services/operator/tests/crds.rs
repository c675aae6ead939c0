//! The checked-in CRD manifests equal the ones generated from the resource types.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test stops at its first broken expectation"
)]

use std::path::Path;

const REGENERATE: &str = "regenerate them with `scripts/generate-crds.sh`";

#[test]
fn checked_in_crds_match_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (file, definition) in rollcall_operator::crd::definitions() {
        let generated = rollcall_operator::crd::to_yaml(&definition).unwrap();
        for dir in ["k8s/crds", "charts/rollcall/crds"] {
            let path = root.join(dir).join(file);
            let checked_in = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}; {REGENERATE}", path.display()));
            assert!(
                checked_in == generated,
                "{} differs from the CRD generated from the Rust types; {REGENERATE}",
                path.display()
            );
        }
    }
}

#[test]
fn crds_are_namespaced_v1alpha1() {
    for (file, definition) in rollcall_operator::crd::definitions() {
        assert_eq!(definition.spec.group, "rollcall.dev", "{file}");
        assert_eq!(definition.spec.scope, "Namespaced", "{file}");
        let versions: Vec<&str> =
            definition.spec.versions.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(versions, ["v1alpha1"], "{file}");
        let status =
            definition.spec.versions[0].subresources.as_ref().and_then(|s| s.status.as_ref());
        assert!(status.is_some(), "{file} has no status subresource");
    }
}

#[test]
fn crds_command_prints_every_crd() {
    let all = rollcall_operator::crd::all_yaml().unwrap();
    for kind in ["kind: Tenant\n", "kind: AccessPolicy\n", "kind: ReviewCampaign\n"] {
        assert!(all.contains(kind), "`{kind}` missing from the output");
    }
}
