// Validates every ServiceMonitor and PrometheusRule in the YAML files named on the command
// line against the Prometheus Operator's API types (monitoring.coreos.com/v1), as the
// kubernetes-models package generates them from the operator's Go types. Other kinds are
// skipped: kubernetes-validate checks those against the Kubernetes API schemas.
//
// NOTE: the generated schemas check types, required fields, enums and patterns, but not
// unknown keys, so a misspelt optional field passes.
//
// Exits 1 naming each invalid object, and 2 when a file cannot be read.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import {
  PrometheusRule,
  ServiceMonitor,
} from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const models = { ServiceMonitor, PrometheusRule };
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml...");
  process.exit(2);
}

let checked = 0;
const problems = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    console.error(`validate: cannot read ${file}: ${error.message}`);
    process.exit(2);
  }
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      problems.push(`${file}: not YAML: ${document.errors[0].message}`);
      continue;
    }
    const object = document.toJS();
    if (!object || !String(object.apiVersion ?? "").startsWith("monitoring.coreos.com/")) {
      continue;
    }
    const name = `${object.kind} ${object.metadata?.name ?? "(no name)"} in ${file}`;
    const Model = object.apiVersion === "monitoring.coreos.com/v1" ? models[object.kind] : undefined;
    if (!Model) {
      problems.push(`${name}: no schema for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    try {
      new Model(object).validate();
      checked += 1;
    } catch (error) {
      problems.push(`${name}: ${error.message}`);
    }
  }
}
for (const problem of problems) {
  console.error(`validate: ${problem}`);
}
if (problems.length > 0) {
  process.exit(1);
}
console.log(`validate: ${checked} Prometheus Operator objects match their schemas`);
