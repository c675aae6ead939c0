# Developer entry points. `make test` is what CI runs.

CARGO ?= cargo
EXAMPLE_AS_OF ?= 2026-12-01T09:00:00-06:00

.PHONY: test lint unit chart e2e example example-data bench bench-pipeline bench-leavers bench-reviews fmt dev-up dev-down

## Everything CI checks: formatting, lints, every test, the Helm chart, then the quarter
## played end to end (docs/e2e.md).
test: lint unit chart e2e

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# The service tests need the local servers and the packages the scripts install (slapd,
# Samba, the SMTP sink, the OpenID provider, Chromium); each script returns at once when
# its part is there. The chart test in integration-tests renders the chart, so helm is
# installed first.
unit:
	scripts/services.sh
	scripts/install-test-deps.sh
	scripts/install-chart-tools.sh
	$(CARGO) test --workspace --locked

## Helm chart: lint, render, Kubernetes schemas, rejected values, alert rules and their
## unit tests, dashboards (docs/operations/helm.md).
chart:
	scripts/install-chart-tools.sh
	scripts/check-chart.sh

## A quarter of an MSP's work played end to end: every service as a process on loopback,
## three tenants, a leaver, a review campaign in Chromium, the dashboards (docs/e2e.md).
E2E_PACKAGES = -p rollcall-engine -p rollcall-file-connector -p rollcall-ldap-connector \
	-p rollcall-entra-connector -p rollcall-hr-webhook -p rollcall-reviews-web -p rollcall-cli \
	-p rollcall-drchrono-connector -p rollcall-graph-double
e2e:
	scripts/services.sh
	scripts/install-test-deps.sh
	scripts/install-chart-tools.sh
	$(CARGO) build --locked $(E2E_PACKAGES)
	$(CARGO) test --locked -p rollcall-integration-tests --test e2e -- --ignored --nocapture

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

bench-leavers:
	$(CARGO) bench --locked -p rollcall-engine --bench leavers

bench-reviews:
	$(CARGO) bench --locked -p rollcall-reviews --bench campaign

## Verified vendor deliveries per second and lookups against the vendor double.
.PHONY: bench-hr-vendors
bench-hr-vendors:
	$(CARGO) bench --locked -p rollcall-hr-vendors --bench deliveries

## The review page and the decision API under load from wrk; needs PostgreSQL and Redis.
.PHONY: bench-reviews-web
bench-reviews-web:
	scripts/install-bench-tools.sh
	$(CARGO) bench --locked -p rollcall-reviews-web --bench load

fmt:
	$(CARGO) fmt --all
