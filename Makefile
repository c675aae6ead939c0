# Developer entry points. `make test` is what CI runs.

CARGO ?= cargo
EXAMPLE_AS_OF ?= 2026-12-01T09:00:00-06:00

.PHONY: test lint unit chart example example-data bench bench-pipeline bench-reviews fmt dev-up dev-down

## Everything CI checks: formatting, lints, every test, then the Helm chart.
test: lint unit chart

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# The chart test in integration-tests renders the chart, so helm is installed first.
unit:
	scripts/install-chart-tools.sh
	$(CARGO) test --workspace --locked

## Helm chart: lint, render, Kubernetes schemas, rejected values, alert rules and their
## unit tests, dashboards (docs/operations/helm.md).
chart:
	scripts/install-chart-tools.sh
	scripts/check-chart.sh

## The bundled example, as the README runs it.
example:
	$(CARGO) run --locked -p rollcall-cli -- scan examples/harborview --as-of $(EXAMPLE_AS_OF)

## Regenerates examples/harborview from the generator.
example-data:
	rm -rf examples/harborview/entra examples/harborview/ldap examples/harborview/ehr examples/harborview/hr
	$(CARGO) run --locked -p rollcall-datagen -- example examples/harborview

## The engine and the file connector as local processes on the example practice
## (docs/dev-up.md); dev-down stops them.
dev-up:
	scripts/dev-up.sh

dev-down:
	scripts/dev-down.sh

## Benchmarks; results go in docs/benchmarks.md. Options of the scan benchmark go in
## BENCH_ARGS, such as BENCH_ARGS="--reps 3 --only msp". `make bench-pipeline` times
## snapshot ingest through NATS, the engine and PostgreSQL against a raw JetStream
## publish; it needs NATS, PostgreSQL and Redis on 127.0.0.1.
BENCH_ARGS ?=
bench:
	$(CARGO) bench --locked -p rollcall-cli --bench scan -- $(BENCH_ARGS)
	$(CARGO) bench --locked -p rollcall-ldap-connector --bench sync

bench-pipeline:
	$(CARGO) bench --locked -p rollcall-engine --bench pipeline

bench-reviews:
	$(CARGO) bench --locked -p rollcall-reviews --bench campaign

fmt:
	$(CARGO) fmt --all
