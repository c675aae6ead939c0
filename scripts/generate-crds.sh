#!/usr/bin/env bash
# Regenerates the CRD manifests under k8s/crds/ and charts/rollcall/crds/ from the Rust
# types in services/operator/src/resources. services/operator/tests/crds.rs fails when
# the checked-in files differ from the generated ones.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -p rollcall-operator --example write-crds -- k8s/crds charts/rollcall/crds
