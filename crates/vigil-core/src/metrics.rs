//! Trace metrics: counters, gauges and distributions linked to the trace
//! and span they were taken in, sent in batches as `trace_metric` items.
//!
//! Build a metric with [`counter`], [`gauge`] or [`distribution`], add
//! attributes (and, for gauges and distributions, a [`Unit`]), and
//! [`capture`](CounterMetric::capture) it on the current hub. The client
//! adds the trace, the active span and the default attributes
//! (`sentry.sdk.name`, `sentry.environment`, `sentry.release`,
//! `server.address`, the user's with `send_default_pii`), runs
//! `before_send_metric`, and sends metrics in batches of at most 100, at
//! the latest 5 s after the first. Metrics are on by default
//! ([`ClientOptions::enable_metrics`](crate::ClientOptions::enable_metrics)).
//!
//! ```
//! use vigil_core::metrics;
//! use vigil_core::protocol::{EnvelopeItem, ItemContainer, LogAttribute, MetricType, Unit};
//!
//! let envelopes = vigil_core::test::with_captured_envelopes(|| {
//!     metrics::counter("http.requests", 1)
//!         .attribute("http.route", "/health")
//!         .attribute("http.response.status_code", 200)
//!         .capture();
//!     metrics::gauge("queue.depth", 42).capture();
//!     metrics::distribution("http.response_time", 187.5)
//!         .unit(Unit::Millisecond)
//!         .capture();
//! });
//! let Some(EnvelopeItem::ItemContainer(ItemContainer::Metrics(sent))) = envelopes[0].items().next()
//! else {
//!     panic!("a trace_metric item");
//! };
//! assert_eq!(sent.len(), 3);
//! assert_eq!(sent[0].r#type, MetricType::Counter);
//! assert_eq!(sent[0].attributes["http.response.status_code"], LogAttribute::from(200));
//! assert_eq!(sent[2].unit, Some(Unit::Millisecond));
//! ```

use std::borrow::Cow;
use std::time::SystemTime;

use vigil_protocol::{LogAttribute, Map, Metric, MetricType, TraceId, Unit};

use crate::hub::Hub;

/// A counter: how many times something happened (requests handled, jobs
/// processed). Counters have no unit.
///
/// ```
/// vigil_core::metrics::counter("jobs.processed", 1)
///     .attribute("queue", "mail")
///     .capture();
/// ```
pub fn counter(name: impl Into<Cow<'static, str>>, value: impl Into<f64>) -> CounterMetric {
    CounterMetric(Draft::new(name.into(), value.into()))
}

/// A gauge: a current state (queue depth, open connections), which may go
/// up and down.
///
/// ```
/// vigil_core::metrics::gauge("pool.connections", 12).capture();
/// ```
pub fn gauge(name: impl Into<Cow<'static, str>>, value: impl Into<f64>) -> GaugeMetric {
    GaugeMetric(Draft::new(name.into(), value.into()))
}

/// A distribution: one sample of a value to analyse statistically
/// (response times, payload sizes).
///
/// ```
/// use vigil_core::protocol::Unit;
/// vigil_core::metrics::distribution("upload.size", 5.2)
///     .unit(Unit::Megabyte)
///     .capture();
/// ```
pub fn distribution(
    name: impl Into<Cow<'static, str>>,
    value: impl Into<f64>,
) -> DistributionMetric {
    DistributionMetric(Draft::new(name.into(), value.into()))
}

/// What every kind of metric holds before it is captured.
#[derive(Clone, Debug)]
struct Draft {
    name: Cow<'static, str>,
    value: f64,
    unit: Option<Unit>,
    attributes: Map<Cow<'static, str>, LogAttribute>,
}

impl Draft {
    fn new(name: Cow<'static, str>, value: f64) -> Draft {
        Draft {
            name,
            value,
            unit: None,
            attributes: Map::new(),
        }
    }

    /// The metric, taken now; its trace is set when it is captured.
    fn into_metric(self, r#type: MetricType) -> Metric {
        Metric {
            r#type,
            name: self.name,
            value: self.value,
            timestamp: SystemTime::now(),
            trace_id: TraceId::new(),
            span_id: None,
            unit: self.unit,
            attributes: self.attributes,
        }
    }
}

/// A counter built by [`counter`]; send it with
/// [`capture`](CounterMetric::capture).
#[derive(Clone, Debug)]
#[must_use = "a metric is sent only by `.capture()`"]
pub struct CounterMetric(Draft);

/// A gauge built by [`gauge`]; send it with
/// [`capture`](GaugeMetric::capture).
#[derive(Clone, Debug)]
#[must_use = "a metric is sent only by `.capture()`"]
pub struct GaugeMetric(Draft);

/// A distribution sample built by [`distribution`]; send it with
/// [`capture`](DistributionMetric::capture).
#[derive(Clone, Debug)]
#[must_use = "a metric is sent only by `.capture()`"]
pub struct DistributionMetric(Draft);

macro_rules! metric_builder {
    ($builder:ident, $type:expr) => {
        impl $builder {
            /// Adds an attribute to filter and group by (Sentry's semantic
            /// conventions name the common ones: `http.route`,
            /// `http.response.status_code`, …). A later value for the
            /// same key replaces the earlier one.
            pub fn attribute(
                mut self,
                key: impl Into<Cow<'static, str>>,
                value: impl Into<LogAttribute>,
            ) -> Self {
                self.0.attributes.insert(key.into(), value.into());
                self
            }

            /// Captures the metric on the current hub (see
            /// [`Hub::capture_metric`]); without a client it is dropped.
            pub fn capture(self) {
                Hub::with_active(|hub| hub.capture_metric(self));
            }
        }

        impl From<$builder> for Metric {
            /// The metric, timestamped now; its trace and span are set
            /// when it is captured.
            fn from(builder: $builder) -> Metric {
                builder.0.into_metric($type)
            }
        }
    };
}

metric_builder!(CounterMetric, MetricType::Counter);
metric_builder!(GaugeMetric, MetricType::Gauge);
metric_builder!(DistributionMetric, MetricType::Distribution);

impl GaugeMetric {
    /// Sets the unit of the value (a [`Unit`], or its name or symbol:
    /// `"ms"`, `"byte"`).
    pub fn unit(mut self, unit: impl Into<Unit>) -> Self {
        self.0.unit = Some(unit.into());
        self
    }
}

impl DistributionMetric {
    /// Sets the unit of the value (a [`Unit`], or its name or symbol:
    /// `"ms"`, `"byte"`).
    pub fn unit(mut self, unit: impl Into<Unit>) -> Self {
        self.0.unit = Some(unit.into());
        self
    }
}
