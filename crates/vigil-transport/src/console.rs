//! The console printer: what each envelope holds, in a few lines for
//! people, on standard output; optionally handing every envelope on to
//! another transport.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use vigil_core::protocol::{
    Context, Envelope, EnvelopeItem, Event, Frame, ItemContainer, Log, Metric, SessionStatus,
    Transaction,
};
use vigil_core::{DeliveryStats, Transport, TransportContext, TransportFactory};

use crate::worker::Worker;
use crate::worker::control::Control;
use crate::worker::handler::Handler;

/// At most this many spans of a transaction are listed.
const MAX_SPANS_SHOWN: usize = 10;
/// At most this many in-app frames of a stack trace are shown.
const MAX_FRAMES_SHOWN: usize = 3;

/// A factory printing every envelope to standard output ([`describe`]),
/// for demos and local debugging. Built by [`console`].
///
/// ```
/// use vigil_core::ClientOptions;
/// // Print what is sent, and send it.
/// let options = ClientOptions::new()
///     .try_dsn("https://public@example.invalid/1")?
///     .transport(vigil_transport::console().then(vigil_transport::http()));
/// # let _ = options;
/// # Ok::<(), vigil_core::protocol::DsnError>(())
/// ```
pub struct ConsoleSink {
    next: Option<Arc<dyn TransportFactory>>,
}

impl fmt::Debug for ConsoleSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleSink")
            .field("then", &self.next.is_some())
            .finish()
    }
}

/// Prints every envelope to standard output, a few lines each
/// ([`describe`]); nothing is sent unless [`ConsoleSink::then`] names a
/// transport to hand the envelopes on to.
pub fn console() -> ConsoleSink {
    ConsoleSink { next: None }
}

impl ConsoleSink {
    /// Hands every envelope, once printed, on to the transport `next`
    /// builds (the HTTP transport, a file sink).
    #[must_use]
    pub fn then(self, next: impl TransportFactory) -> ConsoleSink {
        ConsoleSink {
            next: Some(Arc::new(next)),
        }
    }
}

impl TransportFactory for ConsoleSink {
    fn create_transport(&self, ctx: &TransportContext<'_>) -> Arc<dyn Transport> {
        Arc::new(ConsoleTransport {
            printer: Worker::spawn(
                ctx.options.transport_queue_size,
                ctx.recorder.clone(),
                Printer,
            ),
            next: self.next.as_ref().map(|f| f.create_transport(ctx)),
        })
    }

    fn create_spotlight_transport(&self, url: &str) -> Option<Arc<dyn Transport>> {
        self.next
            .as_ref()
            .and_then(|f| f.create_spotlight_transport(url))
    }
}

/// The transport [`console`] builds: prints on its own thread (the caller
/// never waits for the terminal), then hands the envelope on.
struct ConsoleTransport {
    printer: Worker<Envelope>,
    next: Option<Arc<dyn Transport>>,
}

impl Transport for ConsoleTransport {
    fn send_envelope(&self, envelope: Envelope) {
        match &self.next {
            Some(next) => {
                self.printer.send(envelope.clone());
                next.send_envelope(envelope);
            }
            None => self.printer.send(envelope),
        }
    }

    /// Both within `timeout` together: the other transport first, the
    /// printer with what is left.
    fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let next = self.next.as_ref().is_none_or(|n| n.flush(timeout));
        self.printer.flush(left_until(deadline)) && next
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let next = self.next.as_ref().is_none_or(|n| n.shutdown(timeout));
        self.printer.shutdown(left_until(deadline)) && next
    }

    fn delivery_stats(&self) -> Option<DeliveryStats> {
        self.next.as_ref().and_then(|n| n.delivery_stats())
    }
}

/// The time left until `deadline` (`None`: no deadline).
fn left_until(deadline: Option<Instant>) -> Duration {
    deadline.map_or(Duration::MAX, |d| {
        d.saturating_duration_since(Instant::now())
    })
}

struct Printer;

impl Handler for Printer {
    type Job = Envelope;

    fn handle(&mut self, envelope: Envelope, _control: &Control) {
        let text = describe(&envelope);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// What `envelope` holds, for people, one block of lines per item:
///
/// - an event: id, level and what happened (the outermost exception or the
///   message), its causes, where (the innermost in-app frames), tags, user,
///   contexts, release, environment and breadcrumbs;
/// - a transaction: name, op, duration, trace and its first spans;
/// - sessions, client reports and attachments: one line each.
///
/// ```
/// use vigil_core::protocol::{Envelope, Event, Level};
/// let event = Event {
///     message: Some("the checkout failed".into()),
///     level: Level::Error,
///     ..Default::default()
/// };
/// let text = vigil_transport::describe(&Envelope::from_event(event));
/// assert!(text.starts_with("event "));
/// assert!(text.lines().next().unwrap().ends_with("[error] the checkout failed"));
/// ```
pub fn describe(envelope: &Envelope) -> String {
    let mut out = String::new();
    for item in envelope.items() {
        // Writing into a String cannot fail.
        let _ = match item {
            EnvelopeItem::Event(event) => describe_event(&mut out, event),
            EnvelopeItem::Transaction(transaction) => describe_transaction(&mut out, transaction),
            EnvelopeItem::Session(update) => writeln!(
                out,
                "session {} ({} errors{})",
                status_name(update.status),
                update.errors,
                if update.init { ", started" } else { "" }
            ),
            EnvelopeItem::SessionAggregates(aggregates) => writeln!(
                out,
                "sessions counted per minute: {} bucket(s)",
                aggregates.aggregates.len()
            ),
            EnvelopeItem::ClientReport(report) => {
                let lost: Vec<String> = report
                    .discarded_events
                    .iter()
                    .map(|d| format!("{} {} ({})", d.quantity, d.category, d.reason))
                    .collect();
                writeln!(out, "client report: dropped {}", lost.join(", "))
            }
            EnvelopeItem::Attachment(attachment) => writeln!(
                out,
                "attachment {} ({} bytes)",
                attachment.filename,
                attachment.buffer.len()
            ),
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => describe_logs(&mut out, logs),
            EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics)) => {
                describe_metrics(&mut out, metrics)
            }
            EnvelopeItem::CheckIn(check_in) => writeln!(
                out,
                "check-in {} {}{}",
                check_in.monitor_slug,
                check_in.status,
                check_in
                    .duration
                    .map(|d| format!(" after {:.1} ms", d * 1000.0))
                    .unwrap_or_default()
            ),
            EnvelopeItem::Feedback(event) => match event.feedback() {
                Some(feedback) => writeln!(out, "feedback: {:?}", feedback.message),
                None => writeln!(out, "feedback item"),
            },
            other => writeln!(out, "{} item", other.ty()),
        };
    }
    out
}

fn describe_logs(out: &mut String, logs: &[Log]) -> fmt::Result {
    writeln!(out, "{}", count(logs.len(), "log"))?;
    for log in logs {
        writeln!(out, "  [{}] {}", log.level, log.body)?;
    }
    Ok(())
}

fn describe_metrics(out: &mut String, metrics: &[Metric]) -> fmt::Result {
    writeln!(out, "{}", count(metrics.len(), "metric"))?;
    for metric in metrics {
        let unit = metric
            .unit
            .as_ref()
            .map(|unit| format!(" {unit}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {} = {}{unit}",
            metric.r#type, metric.name, metric.value
        )?;
    }
    Ok(())
}

fn status_name(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Exited => "exited",
        SessionStatus::Crashed => "crashed",
        SessionStatus::Abnormal => "abnormal",
        _ => "ok",
    }
}

fn describe_event(out: &mut String, event: &Event) -> fmt::Result {
    let exceptions = &event.exception.values;
    let headline = event.headline().unwrap_or_default();
    writeln!(out, "event {} [{}] {headline}", event.event_id, event.level)?;
    for cause in exceptions.iter().rev().skip(1) {
        writeln!(
            out,
            "  caused by {}: {}",
            if cause.ty.is_empty() {
                "error"
            } else {
                &cause.ty
            },
            cause.value.as_deref().unwrap_or("")
        )?;
    }
    let frames = exceptions
        .iter()
        .rev()
        .find_map(|e| e.stacktrace.as_ref())
        .or_else(|| {
            event
                .threads
                .values
                .iter()
                .find_map(|t| t.stacktrace.as_ref())
        })
        .map(|s| s.frames.as_slice())
        .unwrap_or_default();
    for frame in frames
        .iter()
        .rev()
        .filter(|f| f.in_app == Some(true))
        .take(MAX_FRAMES_SHOWN)
    {
        writeln!(out, "  at {}", frame_line(frame))?;
    }
    if !event.tags.is_empty() {
        let tags: Vec<String> = event.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(out, "  tags: {}", tags.join(", "))?;
    }
    if let Some(user) = &event.user {
        let mut parts = Vec::new();
        for (name, value) in [
            ("id", &user.id),
            ("email", &user.email),
            ("username", &user.username),
            ("ip", &user.ip_address),
        ] {
            if let Some(value) = value {
                parts.push(format!("{name}={value}"));
            }
        }
        writeln!(out, "  user: {}", parts.join(" "))?;
    }
    if !event.contexts.is_empty() {
        let contexts: Vec<String> = event
            .contexts
            .iter()
            .map(|(key, context)| context_line(key, context))
            .collect();
        writeln!(out, "  contexts: {}", contexts.join(", "))?;
    }
    let mut about = Vec::new();
    if let Some(release) = &event.release {
        about.push(format!("release {release}"));
    }
    if let Some(environment) = &event.environment {
        about.push(format!("environment {environment}"));
    }
    if !event.breadcrumbs.is_empty() {
        let last = event
            .breadcrumbs
            .iter()
            .next_back()
            .and_then(|b| b.message.as_deref())
            .map(|m| format!(" (last: {m:?})"))
            .unwrap_or_default();
        about.push(format!(
            "{}{last}",
            count(event.breadcrumbs.len(), "breadcrumb")
        ));
    }
    if !about.is_empty() {
        writeln!(out, "  {}", about.join(", "))?;
    }
    Ok(())
}

fn frame_line(frame: &Frame) -> String {
    let function = frame.function.as_deref().unwrap_or("?");
    match (&frame.filename, frame.lineno) {
        (Some(file), Some(line)) => format!("{function} ({file}:{line})"),
        (Some(file), None) => format!("{function} ({file})"),
        _ => function.to_owned(),
    }
}

fn context_line(key: &str, context: &Context) -> String {
    let words = |parts: [&Option<String>; 2]| {
        parts
            .iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let detail = match context {
        Context::Os(os) => words([&os.name, &os.version]),
        Context::Runtime(runtime) => words([&runtime.name, &runtime.version]),
        Context::Trace(trace) => format!("{}", trace.trace_id),
        _ => String::new(),
    };
    if detail.is_empty() {
        key.to_owned()
    } else {
        format!("{key} {detail}")
    }
}

fn describe_transaction(out: &mut String, transaction: &Transaction) -> fmt::Result {
    let trace = match transaction.contexts.get("trace") {
        Some(Context::Trace(trace)) => Some(trace),
        _ => None,
    };
    writeln!(
        out,
        "transaction {:?} [{}] {}, trace {}, {}",
        transaction.name.as_deref().unwrap_or(""),
        trace.and_then(|t| t.op.as_deref()).unwrap_or("-"),
        millis(transaction.start_timestamp, Some(transaction.timestamp)),
        trace.map(|t| t.trace_id.to_string()).unwrap_or_default(),
        count(transaction.spans.len(), "span")
    )?;
    for span in transaction.spans.iter().take(MAX_SPANS_SHOWN) {
        writeln!(
            out,
            "  span [{}] {} {}",
            span.op.as_deref().unwrap_or("-"),
            span.description.as_deref().unwrap_or(""),
            millis(span.start_timestamp, span.timestamp)
        )?;
    }
    if transaction.spans.len() > MAX_SPANS_SHOWN {
        writeln!(
            out,
            "  … {} more spans",
            transaction.spans.len() - MAX_SPANS_SHOWN
        )?;
    }
    Ok(())
}

/// `1 span`, `2 spans`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `12.3 ms`, or `unfinished`.
fn millis(start: SystemTime, end: Option<SystemTime>) -> String {
    match end.and_then(|end| end.duration_since(start).ok()) {
        Some(d) => format!("{:.1} ms", d.as_secs_f64() * 1000.0),
        None => "unfinished".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::protocol::{Exception, Span, Stacktrace, TraceContext, Values};

    #[test]
    fn an_error_with_its_cause_and_where_it_happened() {
        let frame = |function: &str, line: u64, in_app: bool| Frame {
            function: Some(function.into()),
            filename: Some("app/src/main.rs".into()),
            lineno: Some(line),
            in_app: Some(in_app),
            ..Default::default()
        };
        let mut event = Event::new();
        event.exception = Values::from(vec![
            Exception {
                ty: "std::io::Error".into(),
                value: Some("no such file".into()),
                ..Default::default()
            },
            Exception {
                ty: "ConfigError".into(),
                value: Some("could not load".into()),
                stacktrace: Some(Stacktrace {
                    frames: vec![
                        frame("std::rt::lang_start", 1, false),
                        frame("app::main", 10, true),
                        frame("app::load", 20, true),
                    ],
                }),
                ..Default::default()
            },
        ]);
        event.tags.insert("service".into(), "api".into());
        let text = describe(&Envelope::from_event(event));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].ends_with("[error] ConfigError: could not load"),
            "{text}"
        );
        assert_eq!(lines[1], "  caused by std::io::Error: no such file");
        assert_eq!(lines[2], "  at app::load (app/src/main.rs:20)");
        assert_eq!(lines[3], "  at app::main (app/src/main.rs:10)");
        assert_eq!(lines[4], "  tags: service=api");
        assert_eq!(lines.len(), 5, "{text}");
    }

    #[test]
    fn a_transaction_with_its_spans() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut transaction = Transaction {
            name: Some("GET /users".into()),
            start_timestamp: start,
            timestamp: start + Duration::from_micros(12_300),
            ..Default::default()
        };
        let trace = TraceContext {
            op: Some("http.server".into()),
            ..Default::default()
        };
        let trace_id = trace.trace_id;
        transaction.contexts.insert("trace".into(), trace.into());
        transaction.spans.push(Span {
            op: Some("db".into()),
            description: Some("SELECT 1".into()),
            start_timestamp: start,
            timestamp: Some(start + Duration::from_millis(2)),
            ..Default::default()
        });
        let text = describe(&Envelope::from_transaction(transaction));
        assert_eq!(
            text,
            format!(
                "transaction \"GET /users\" [http.server] 12.3 ms, trace {trace_id}, 1 span\n  span [db] SELECT 1 2.0 ms\n"
            )
        );
    }

    #[test]
    fn logs_metrics_check_ins_and_feedback_are_described() {
        use std::time::SystemTime;
        use vigil_core::protocol::{
            CheckIn, CheckInStatus, Feedback, LogLevel, Map, MetricType, TraceId, Unit,
        };
        let log = Log {
            level: LogLevel::Warn,
            body: "stock low".into(),
            trace_id: None,
            timestamp: SystemTime::now(),
            severity_number: None,
            attributes: Map::new(),
        };
        let metric = Metric {
            r#type: MetricType::Distribution,
            name: "http.response_time".into(),
            value: 12.5,
            timestamp: SystemTime::now(),
            trace_id: TraceId::new(),
            span_id: None,
            unit: Some(Unit::Millisecond),
            attributes: Map::new(),
        };
        let mut check_in = CheckIn::new("nightly", CheckInStatus::Ok);
        check_in.duration = Some(1.5);
        let mut envelope = Envelope::new();
        envelope.add_item(ItemContainer::Logs(vec![log]));
        envelope.add_item(ItemContainer::Metrics(vec![metric]));
        envelope.add_item(check_in);
        envelope.add_item(EnvelopeItem::Feedback(Box::new(
            Feedback::new("it broke").into_event(),
        )));
        assert_eq!(
            describe(&envelope),
            "1 log\n  [warn] stock low\n\
             1 metric\n  distribution http.response_time = 12.5 millisecond\n\
             check-in nightly ok after 1500.0 ms\n\
             feedback: \"it broke\"\n"
        );
    }
}
