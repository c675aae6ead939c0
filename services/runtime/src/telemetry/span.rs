//! The span that wraps one unit of work: a sync batch, a snapshot, a review request, a
//! reconcile.

use tracing::Span;
use tracing::field::Empty;

/// Opens the span for one unit of work.
///
/// The span is named `work`. It carries `work` (the kind, such as `entra_sync`), and
/// `tenant` and `source` when given, so every log line inside it has these fields. The
/// exported span is named after the kind. The `work_id` field starts empty, for the
/// caller to fill with `span.record("work_id", id)` once the id is known.
///
/// Never record request bodies, return values or workforce data on it: log lines and
/// traces leave the process.
pub fn work_span(kind: &str, tenant: Option<&str>, source: Option<&str>) -> Span {
    let span = tracing::info_span!(
        "work",
        otel.name = kind,
        work = kind,
        tenant = Empty,
        source = Empty,
        work_id = Empty,
    );
    if let Some(tenant) = tenant {
        span.record("tenant", tenant);
    }
    if let Some(source) = source {
        span.record("source", source);
    }
    span
}
