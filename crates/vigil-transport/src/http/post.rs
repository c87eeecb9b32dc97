//! One envelope posted to the envelope endpoint: gzipped, with Sentry's
//! headers, retried after network failures with jittered back-off (never
//! past the deadline of a pending flush or shutdown), and the answer read:
//! rate limits applied, the status sorted into an [`Outcome`].

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use vigil_core::TransportContext;
use vigil_core::protocol::{Envelope, EnvelopeItem};

use crate::http::agent::{Failure, ResolveCache, build_agent, classify};
use crate::http::backoff::jitter;
use crate::http::gzip::Gzipper;
use crate::http::options::HttpTransportOptions;
use crate::rate_limit::parse_retry_after;
use crate::stats::DeliveryState;
use crate::worker::control::Control;

/// At most this much of a response body is read (for diagnostics and so
/// the connection can be reused).
const MAX_RESPONSE_BODY: u64 = 64 * 1024;
/// At most this much of an error body is printed.
const MAX_LOGGED_BODY: usize = 1024;

/// How one delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `2xx`.
    Accepted,
    /// `429`: the server counted the items already.
    RateLimited,
    /// `502`, `503`, `504` or a redirect: the server, or a load balancer or
    /// proxy in front of it, is not serving now. Not the envelope's fault:
    /// a disk queue keeps it and tries again later, after `Retry-After`
    /// when the answer had one.
    Unavailable {
        /// The answer's `Retry-After`, if it had a valid one.
        retry_after: Option<Duration>,
    },
    /// Another error status: the server refused the envelope for good.
    Rejected,
    /// The network failed (after retries).
    NetworkError,
    /// The SDK failed (encoding, a bad header value).
    Internal,
}

/// Posts envelopes for one transport: owns the `ureq` agent and what
/// every request carries.
pub(crate) struct EnvelopePoster {
    agent: ureq::Agent,
    /// The agent's cached name resolution, dropped when a request fails.
    resolved: ResolveCache,
    url: String,
    /// The `X-Sentry-Auth` header.
    auth: String,
    user_agent: String,
    /// Where the rate limits of each response go.
    shared: Arc<DeliveryState>,
    options: HttpTransportOptions,
    gzipper: Gzipper,
}

impl EnvelopePoster {
    /// A poster to `url` for the client of `ctx`, applying the rate limits
    /// of each response to `shared`.
    pub(crate) fn new(
        ctx: &TransportContext<'_>,
        url: String,
        options: HttpTransportOptions,
        shared: Arc<DeliveryState>,
    ) -> EnvelopePoster {
        let options = options.with_client_proxy(ctx);
        let (agent, resolved) = build_agent(&options, &ctx.options.user_agent);
        EnvelopePoster {
            agent,
            resolved,
            url,
            auth: ctx
                .dsn
                .auth_header(&format!("{}/{}", ctx.sdk.name, ctx.sdk.version)),
            user_agent: ctx.options.user_agent.to_string(),
            shared,
            options,
            gzipper: Gzipper::new(),
        }
    }

    /// The transport's settings.
    pub(crate) fn options(&self) -> &HttpTransportOptions {
        &self.options
    }

    /// Posts the envelope, making up to `max_attempts` tries on network
    /// failures (at least one).
    pub(crate) fn post(
        &mut self,
        envelope: &mut Envelope,
        max_attempts: u32,
        control: &Control,
    ) -> Outcome {
        if self.url.starts_with("https:")
            && let Some(reason) = self.options.tls.unusable()
        {
            report_tls_unusable(reason);
            return Outcome::Internal;
        }
        let max_attempts = max_attempts.max(1);
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            envelope.headers_mut().sent_at = Some(SystemTime::now());
            let body = match self.gzipper.gzip(envelope) {
                Ok(body) => body,
                Err(e) => {
                    vigil_core::vigil_debug!("could not encode an envelope: {e}");
                    return Outcome::Internal;
                }
            };
            let error = match self.request(&body) {
                Ok(response) => return self.on_response(response, envelope),
                Err(error) => error,
            };
            vigil_core::vigil_debug!(
                "sending envelope {} failed (attempt {attempt} of {max_attempts}): {error}",
                describe(envelope)
            );
            // The host may have moved (a fail-over): resolve it again.
            self.resolved.forget();
            match classify(&error) {
                Failure::Internal => return Outcome::Internal,
                Failure::Network => return Outcome::NetworkError,
                Failure::Retryable if attempt >= max_attempts => return Outcome::NetworkError,
                Failure::Retryable => {
                    if !control.backoff(jitter(self.options.backoff_before_retry(attempt))) {
                        vigil_core::vigil_debug!("no retry: a flush or shutdown deadline is near");
                        return Outcome::NetworkError;
                    }
                }
            }
        }
    }

    /// One request with the envelope endpoint's headers.
    fn request(&self, body: &[u8]) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        self.agent
            .post(&self.url)
            .header("X-Sentry-Auth", &self.auth)
            .header("User-Agent", &self.user_agent)
            .header("Content-Type", "application/x-sentry-envelope")
            .header("Content-Encoding", "gzip")
            .send(body)
    }

    /// Reads the rate limits and the body of a response and says what the
    /// status means.
    fn on_response(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        envelope: &Envelope,
    ) -> Outcome {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let rate_limits = header("x-sentry-rate-limits");
        let retry_after = header("retry-after");
        let sentry_error = header("x-sentry-error");
        self.shared.limits().update_from_response(
            status,
            rate_limits.as_deref(),
            retry_after.as_deref(),
        );
        // Reading the body lets the connection be reused.
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BODY)
            .read_to_vec()
            .unwrap_or_default();
        match status {
            200..=299 => {
                vigil_core::vigil_debug!("envelope {} delivered ({status})", describe(envelope));
                Outcome::Accepted
            }
            429 => {
                vigil_core::vigil_debug!(
                    "envelope {} rate limited (429); limits now: {:?}",
                    describe(envelope),
                    self.shared.limits().active(Instant::now())
                );
                Outcome::RateLimited
            }
            300..=399 | 502..=504 => {
                vigil_core::vigil_debug!(
                    "envelope {} not taken: the server answered {status} (unavailable{})",
                    describe(envelope),
                    retry_after
                        .as_deref()
                        .map(|after| format!(", Retry-After: {after}"))
                        .unwrap_or_default()
                );
                Outcome::Unavailable {
                    retry_after: retry_after
                        .as_deref()
                        .and_then(|v| parse_retry_after(v, SystemTime::now())),
                }
            }
            _ => {
                if vigil_core::__private::debug_enabled() {
                    let shown = &body[..body.len().min(MAX_LOGGED_BODY)];
                    vigil_core::vigil_debug!(
                        "envelope {} rejected with {status}{}; X-Sentry-Error: {}; body: {}",
                        describe(envelope),
                        if status == 413 { " (too large)" } else { "" },
                        sentry_error.as_deref().unwrap_or("-"),
                        String::from_utf8_lossy(shown)
                    );
                }
                Outcome::Rejected
            }
        }
    }
}

/// A short name for an envelope in diagnostics (never its content).
fn describe(envelope: &Envelope) -> String {
    let types: Vec<&str> = envelope.items().map(EnvelopeItem::ty).collect();
    match envelope.headers().event_id {
        Some(id) => format!("{id} [{}]", types.join(",")),
        None => format!("[{}]", types.join(",")),
    }
}

/// Says on stderr, once per process, why `https` envelopes cannot be sent.
fn report_tls_unusable(reason: &str) {
    static REPORTED: std::sync::Once = std::sync::Once::new();
    REPORTED.call_once(|| eprintln!("[vigil] cannot send envelopes over https: {reason}"));
    vigil_core::vigil_debug!("envelope not sent: {reason}");
}
