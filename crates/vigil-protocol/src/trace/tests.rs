//! Tests of the tracing primitives, one file per header or type.

mod baggage;
mod ids;
mod never_panic;
mod sample_values;
mod sentry_trace;
mod span_status;
mod traceparent;

const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";
const SPAN_ID: &str = "b0e6f15b45c36b12";
