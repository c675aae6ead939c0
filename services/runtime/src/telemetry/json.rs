//! One JSON object per log line, with the fields of the enclosing spans and the
//! OpenTelemetry trace and span ids at the top level, where log stores index them.
//!
//! tracing-subscriber's own JSON format nests span fields under `span` and `spans` and
//! cannot add the OpenTelemetry ids, so this format replaces it. Its `JsonFields` still
//! records the span fields.

use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{SecondsFormat, Utc};
use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::dispatcher::{Dispatch, WeakDispatch};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::layer::Layer;
use tracing_subscriber::registry::LookupSpan;

/// Keys that the format writes itself; an event or span field of the same name is
/// dropped rather than allowed to replace them.
const RESERVED: [&str; 8] =
    ["timestamp", "level", "target", "service", "span", "message", "trace_id", "span_id"];

/// Formats events as JSON lines:
///
/// `{"timestamp":"2026-01-05T10:00:00.000000Z","level":"INFO","target":"rollcall_engine",
/// "service":"engine","span":"work","tenant":"practice-a","source":"entra",
/// "trace_id":"…","span_id":"…","message":"sync finished","accounts":120}`
///
/// Span fields come from every enclosing span, an inner span's value replacing an outer
/// one's, and event fields replace span fields. `trace_id` and `span_id` are present only
/// when the OpenTelemetry layer is installed and the event is inside a span.
pub(crate) struct JsonFormat {
    service: String,
    /// The subscriber this format runs in. The OpenTelemetry ids are read through it,
    /// because `tracing::dispatcher::get_default` returns no subscriber while an event is
    /// being dispatched.
    dispatch: Arc<OnceLock<WeakDispatch>>,
}

impl JsonFormat {
    /// Creates the format and the layer that gives it its subscriber; add both to the
    /// same subscriber.
    pub(crate) fn new(service: &str) -> (JsonFormat, DispatchCapture) {
        let dispatch = Arc::new(OnceLock::new());
        let format = JsonFormat { service: service.to_owned(), dispatch: Arc::clone(&dispatch) };
        (format, DispatchCapture { dispatch })
    }

    /// Returns the OpenTelemetry trace and span ids of a span, in lowercase hex.
    ///
    /// Reading them starts the OpenTelemetry span if it has not started yet. After that
    /// `OpenTelemetrySpanExt::set_parent` no longer applies, so set a span's remote parent
    /// before logging inside it.
    fn otel_ids(&self, id: &tracing::span::Id) -> Option<(String, String)> {
        let dispatch = self.dispatch.get()?.upgrade()?;
        let context = tracing_opentelemetry::get_otel_context(id, &dispatch)?;
        let span = context.span();
        let span_context = span.span_context();
        span_context
            .is_valid()
            .then(|| (span_context.trace_id().to_string(), span_context.span_id().to_string()))
    }
}

/// A layer that only records which subscriber it was installed in, for [`JsonFormat`].
pub(crate) struct DispatchCapture {
    dispatch: Arc<OnceLock<WeakDispatch>>,
}

impl<S: Subscriber> Layer<S> for DispatchCapture {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        // A subscriber is registered once; a second registration keeps the first.
        let _ = self.dispatch.set(subscriber.downgrade());
    }
}

impl<S> FormatEvent<S, JsonFields> for JsonFormat
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let mut innermost = None;

        if let Some(scope) = context.event_scope() {
            let spans: Vec<_> = scope.from_root().collect();
            for span in &spans {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<JsonFields>>() else {
                    continue;
                };
                // JsonFields leaves an empty string for a span without fields.
                if let Ok(object) = serde_json::from_str::<Map<String, Value>>(&fields.fields) {
                    line.extend(object);
                }
            }
            innermost = spans.last().map(|span| (span.id(), span.name()));
        }

        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        for (key, value) in visitor.fields {
            line.insert(key, value);
        }
        for key in RESERVED {
            line.remove(key);
        }

        let metadata = event.metadata();
        let timestamp = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        line.insert("timestamp".to_owned(), Value::String(timestamp));
        line.insert("level".to_owned(), Value::String(metadata.level().to_string()));
        line.insert("target".to_owned(), Value::String(metadata.target().to_owned()));
        line.insert("service".to_owned(), Value::String(self.service.clone()));
        if let Some(message) = visitor.message {
            line.insert("message".to_owned(), Value::String(message));
        }
        if let Some((id, name)) = innermost {
            line.insert("span".to_owned(), Value::String(name.to_owned()));
            // No span extension may be borrowed here: the OpenTelemetry layer locks them.
            if let Some((trace_id, span_id)) = self.otel_ids(&id) {
                line.insert("trace_id".to_owned(), Value::String(trace_id));
                line.insert("span_id".to_owned(), Value::String(span_id));
            }
        }

        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Collects an event's fields as JSON values, keeping the message apart.
#[derive(Default)]
struct FieldVisitor {
    fields: Map<String, Value>,
    message: Option<String>,
}

impl FieldVisitor {
    fn insert(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(text) => text,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.insert(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, Value::String(value.to_owned()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.insert(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, Value::String(format!("{value:?}")));
    }
}
