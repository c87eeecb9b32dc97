//! The middleware.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};
use vigil_core::protocol::{Breadcrumb, Level, SpanStatus, Value};
use vigil_core::{Hub, Span};

use crate::url::SplitUrl;

/// The span op of outgoing HTTP requests.
const OP: &str = "http.client";
/// The origin of the spans the middleware makes.
const ORIGIN: &str = "auto.http.reqwest";

/// A [`reqwest_middleware::Middleware`] that makes each request a span,
/// adds the trace propagation headers and leaves a breadcrumb (see the
/// [crate docs](crate)).
#[derive(Clone, Debug)]
pub struct VigilMiddleware {
    breadcrumbs: bool,
    spans: bool,
}

impl Default for VigilMiddleware {
    fn default() -> VigilMiddleware {
        VigilMiddleware::new()
    }
}

impl VigilMiddleware {
    /// Spans, propagation headers and breadcrumbs, all on.
    pub fn new() -> VigilMiddleware {
        VigilMiddleware {
            breadcrumbs: true,
            spans: true,
        }
    }

    /// Whether each request leaves an `http` breadcrumb (on by default).
    #[must_use]
    pub fn breadcrumbs(mut self, on: bool) -> VigilMiddleware {
        self.breadcrumbs = on;
        self
    }

    /// Whether each request is a span under the current one (on by
    /// default). The propagation headers are sent either way.
    #[must_use]
    pub fn spans(mut self, on: bool) -> VigilMiddleware {
        self.spans = on;
        self
    }
}

/// What the middleware keeps about a request while it runs.
struct Outgoing {
    hub: Arc<Hub>,
    method: String,
    url: SplitUrl,
    span: Option<Span>,
}

impl Outgoing {
    /// Starts the span (when one is current) and adds the propagation
    /// headers the hub's options allow for this URL.
    fn start(hub: Arc<Hub>, request: &mut Request, spans: bool) -> Outgoing {
        let method = request.method().as_str().to_owned();
        let url = SplitUrl::of(request.url());
        let span = spans
            .then(|| hub.current_span())
            .flatten()
            .map(|parent| parent.start_child(OP, &format!("{method} {}", url.url)));
        if let Some(span) = &span {
            span.set_origin(ORIGIN);
        }
        if let Some(span) = span.as_ref().filter(|s| s.is_sampled()) {
            span.set_data("http.request.method", Value::from(method.as_str()));
            span.set_data("url", Value::from(url.url.as_str()));
            if let Some(query) = &url.query {
                // The values of sensitive parameters never leave.
                let query = vigil_core::privacy::filter_query(query);
                span.set_data("http.query", Value::from(query.as_ref()));
            }
            if let Some(fragment) = &url.fragment {
                span.set_data("http.fragment", Value::from(fragment.as_str()));
            }
        }
        let allowed = hub.client().is_none_or(|c| {
            c.options()
                .should_propagate_trace_to(request.url().as_str())
        });
        if allowed {
            let headers = match &span {
                Some(span) => span.iter_headers(),
                None => hub.iter_trace_propagation_headers(),
            };
            for (name, value) in headers {
                let Ok(value) = http::HeaderValue::from_str(&value) else {
                    continue;
                };
                // A header the caller set stays.
                request.headers_mut().entry(name).or_insert(value);
            }
        }
        Outgoing {
            hub,
            method,
            url,
            span,
        }
    }

    /// Records the outcome on the span and the breadcrumb, and finishes
    /// the span.
    fn finish(self, outcome: &reqwest_middleware::Result<Response>, breadcrumbs: bool) {
        let status = outcome.as_ref().ok().map(|r| r.status().as_u16());
        let size = outcome.as_ref().ok().and_then(Response::content_length);
        if let Some(span) = self.span {
            match outcome {
                Ok(_) => {
                    let code = status.unwrap_or_default();
                    span.set_status(SpanStatus::from_http_status(code));
                    if span.is_sampled() {
                        span.set_data("http.response.status_code", Value::from(code));
                        if let Some(size) = size {
                            span.set_data("http.response_content_length", Value::from(size));
                        }
                    }
                }
                Err(error) => span.set_status(failure_status(error)),
            }
            span.finish();
        }
        if breadcrumbs {
            let mut data = BTreeMap::new();
            data.insert("method".to_owned(), Value::from(self.method));
            data.insert("url".to_owned(), Value::from(self.url.url));
            if let Some(status) = status {
                data.insert("status_code".to_owned(), Value::from(status));
            }
            if let Err(error) = outcome {
                data.insert("reason".to_owned(), Value::from(error.to_string()));
            }
            let level = match status {
                Some(code) if code >= 500 => Level::Error,
                Some(code) if code >= 400 => Level::Warning,
                Some(_) => Level::Info,
                None => Level::Error,
            };
            self.hub.add_breadcrumb(Breadcrumb {
                ty: "http".into(),
                category: Some("http".into()),
                data,
                level,
                ..Breadcrumb::default()
            });
        }
    }
}

/// The span status of a request that got no response.
fn failure_status(error: &reqwest_middleware::Error) -> SpanStatus {
    match error {
        reqwest_middleware::Error::Reqwest(e) if e.is_timeout() => SpanStatus::DeadlineExceeded,
        _ => SpanStatus::InternalError,
    }
}

#[async_trait::async_trait]
impl Middleware for VigilMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        // The hub of the task making the request (a request's hub inside a
        // server, the thread's otherwise).
        let Some(hub) = Hub::current_active() else {
            return next.run(request, extensions).await;
        };
        let outgoing = Outgoing::start(hub, &mut request, self.spans);
        let outcome = next.run(request, extensions).await;
        outgoing.finish(&outcome, self.breadcrumbs);
        outcome
    }
}
