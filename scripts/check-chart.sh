#!/usr/bin/env bash
# Checks the Helm chart offline (scripts/install-chart-tools.sh installs the tools):
# - helm lint and helm template with the default values and every charts/rollcall/ci/*-values.yaml;
# - the CRDs in charts/rollcall/crds/ against the same Kubernetes API schemas;
# - every rendered manifest against the Kubernetes API schemas of the oldest supported
#   and the newest version (kubernetes-validate --strict);
# - every file in charts/rollcall/ci/invalid/ must be rejected by values.schema.json or
#   the templates, with the error its `# expect:` line names;
# - the ServiceMonitor and PrometheusRule of every rendering against the Prometheus
#   Operator's monitoring.coreos.com/v1 types (scripts/monitoring-schemas), which
#   kubernetes-validate does not know;
# - the alert rules with promtool check rules and the unit tests in ci/alerts-test.yaml;
# - every alert has a runbook_url whose anchor is a heading of docs/operations/runbooks.md
#   named after the alert;
# - the dashboards are valid JSON with a unique uid.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=charts/rollcall
bin="$PWD/.tools/bin"
for tool in helm kubernetes-validate; do
  if [ ! -x "$bin/$tool" ]; then
    echo "check-chart: $bin/$tool is missing; run scripts/install-chart-tools.sh" >&2
    exit 1
  fi
done
command -v promtool >/dev/null || { echo "check-chart: promtool is missing; run scripts/install-chart-tools.sh" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Helm keeps no state between runs and reaches no repository.
export HELM_CACHE_HOME="$work/helm-cache" HELM_CONFIG_HOME="$work/helm-config" HELM_DATA_HOME="$work/helm-data"
helm="$bin/helm"

render() { # name, values files...
  local name=$1; shift
  local args=()
  for values in "$@"; do args+=(-f "$values"); done
  "$helm" lint --strict "$chart" "${args[@]}" >"$work/$name.lint" || { cat "$work/$name.lint" >&2; return 1; }
  "$helm" template rollcall "$chart" --namespace rollcall "${args[@]}" >"$work/$name.yaml"
  for version in 1.27.0 1.37.0; do
    if ! "$bin/kubernetes-validate" --strict --quiet -k "$version" "$work/$name.yaml" >"$work/$name.validate" 2>&1; then
      cat "$work/$name.validate" >&2
      echo "check-chart: $name does not validate against Kubernetes $version" >&2
      return 1
    fi
  done
  echo "check-chart: $name renders $(grep -c '^kind:' "$work/$name.yaml") objects, lint and schemas pass"
}

render defaults
# `helm template` leaves out crds/, so the CRDs are validated on their own.
for version in 1.27.0 1.37.0; do
  if ! "$bin/kubernetes-validate" --strict --quiet -k "$version" "$chart"/crds/*.yaml >"$work/crds.validate" 2>&1; then
    cat "$work/crds.validate" >&2
    echo "check-chart: the CRDs in $chart/crds do not validate against Kubernetes $version" >&2
    exit 1
  fi
done
echo "check-chart: $(ls "$chart"/crds/*.yaml | wc -l) CRDs validate"
for values in "$chart"/ci/*-values.yaml; do
  render "$(basename "$values" .yaml)" "$values"
done

# The checker must reject a ServiceMonitor with a numeric interval, or it checks nothing.
cat >"$work/bad-monitor.yaml.txt" <<'YAML'
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: wrong}
spec:
  selector: {}
  endpoints: [{port: ops, interval: 30}]
YAML
if node scripts/monitoring-schemas/validate.mjs "$work/bad-monitor.yaml.txt" >/dev/null 2>&1; then
  echo "check-chart: the Prometheus Operator schema check accepted an invalid ServiceMonitor" >&2
  exit 1
fi
"$helm" template rollcall "$chart" --namespace rollcall --set monitoring.prometheusRule.enabled=true \
  --set monitoring.serviceMonitor.enabled=true >"$work/monitoring.yaml"
node scripts/monitoring-schemas/validate.mjs "$work"/*.yaml

for values in "$chart"/ci/invalid/*.yaml; do
  if "$helm" template rollcall "$chart" -f "$values" >"$work/invalid.out" 2>&1; then
    echo "check-chart: $values was accepted, but it must be rejected" >&2
    exit 1
  fi
  # Each file names the error it must give, so a rejection for another reason fails.
  expected=$(sed -n 's/^# expect: //p' "$values")
  if [ -z "$expected" ] || ! grep -qF -- "$expected" "$work/invalid.out"; then
    cat "$work/invalid.out" >&2
    echo "check-chart: $values was rejected, but not with \"$expected\"" >&2
    exit 1
  fi
  echo "check-chart: $(basename "$values") rejected as expected: $expected"
done

"$helm" template rollcall "$chart" --set monitoring.prometheusRule.enabled=true \
  --show-only templates/prometheusrule.yaml >"$work/prometheusrule.yaml"
"$PWD/.tools/venv/bin/python" - "$work/prometheusrule.yaml" "$work/alerts.rules.yaml" <<'PY'
import sys, yaml
rule = yaml.safe_load(open(sys.argv[1]))
yaml.safe_dump({"groups": rule["spec"]["groups"]}, open(sys.argv[2], "w"), sort_keys=False)
PY
# Each alert's runbook_url must end in the anchor of a docs/operations/runbooks.md
# heading that is the alert's name. Anchors are made as GitHub makes them: the heading
# text in lower case, spaces as hyphens, other punctuation dropped.
"$PWD/.tools/venv/bin/python" - "$work/alerts.rules.yaml" docs/operations/runbooks.md <<'PY'
import re, sys, yaml
rules_path, runbooks_path = sys.argv[1:]
headings = {}
in_fence = False
for line in open(runbooks_path, encoding="utf-8"):
    # A `#` line inside a fenced code block is a shell comment, not a heading.
    if line.startswith("```"):
        in_fence = not in_fence
    match = None if in_fence else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
    if match:
        text = match.group(1).strip("` ")
        anchor = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        headings[anchor] = text
problems = []
alerts = [rule for group in yaml.safe_load(open(rules_path))["groups"] for rule in group["rules"] if "alert" in rule]
for rule in alerts:
    name = rule["alert"]
    url = rule.get("annotations", {}).get("runbook_url", "")
    if "#" not in url:
        problems.append(f"alert {name} has no runbook_url with an anchor (got {url!r})")
        continue
    anchor = url.rsplit("#", 1)[1]
    if anchor not in headings:
        problems.append(f"alert {name}: runbook_url anchor #{anchor} matches no heading in {runbooks_path}; add a section headed {name}")
    elif headings[anchor] != name:
        problems.append(f"alert {name}: runbook_url anchor #{anchor} is the section {headings[anchor]!r}, not {name!r}")
if problems:
    sys.exit("check-chart: " + "\ncheck-chart: ".join(problems))
print(f"check-chart: {len(alerts)} alerts link a runbook section in {runbooks_path}")
PY
cp "$chart/ci/alerts-test.yaml" "$work/"
promtool check rules "$work/alerts.rules.yaml"
(cd "$work" && promtool test rules alerts-test.yaml)

"$PWD/.tools/venv/bin/python" - "$chart"/dashboards/*.json <<'PY'
import json, sys
uids = {}
for path in sys.argv[1:]:
    board = json.load(open(path))
    uid = board.get("uid")
    if not uid or uid in uids:
        sys.exit(f"check-chart: {path} has a missing or repeated uid {uid!r}")
    uids[uid] = path
    for panel in board["panels"]:
        if not panel.get("targets") or not all(t.get("expr") for t in panel["targets"]):
            sys.exit(f"check-chart: {path}: panel {panel.get('title')!r} has a target without a query")
print(f"check-chart: {len(uids)} dashboards are valid JSON with unique uids")
PY
