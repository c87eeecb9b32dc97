//! The actix-web operations (`ax1`, `ax2`): one request through an
//! actix-web 4 `App` wrapped in each SDK's middleware
//! (`vigil_actix::VigilMiddleware` / `sentry_actix::Sentry`), driven in
//! process with `actix_web::test::call_service`, without sockets.
//!
//! The handler sets a tag with the request's own id (its `x-request-id`
//! header, unique per request), adds a breadcrumb, and one request in 10
//! returns an `std::io::Error`, which actix-web renders as a 500 and each
//! middleware captures as an error event. Both SDKs start from the
//! suite's standard scope and serializing transport. `ax1` runs with
//! tracing off; `ax2` with every transaction sampled (Vigil's middleware
//! with its defaults, `sentry_actix::Sentry::with_transaction()`), one
//! transaction per request, serialized.

use std::hint::black_box;

use actix_web::{App, HttpRequest, HttpResponse, test, web};
use serde_json::{Value, json};

use crate::ops::{Action, Tracing, sentry_crumb, setup_traced, vigil_crumb};
use crate::traces::{CAPTURE_EVERY, check, complete, envelope_counts};
use crate::transports::Mode;

/// The route, and the path every request asks for.
const ROUTE: &str = "/api/items/{id}";
const PATH: &str = "/api/items/42?page=2";
const QUERY: &str = "SELECT * FROM items WHERE id = $1";

/// The request: a path, a host and three more headers, one of them a
/// request id unique to the request.
fn request(i: u64) -> test::TestRequest {
    test::TestRequest::get()
        .uri(PATH)
        .insert_header(("host", "example.com"))
        .insert_header(("user-agent", "bench-client/1.0"))
        .insert_header(("accept", "application/json"))
        .insert_header(("x-request-id", format!("{i:016x}")))
}

/// The request's id and whether it fails (one in [`CAPTURE_EVERY`]).
fn request_id(req: &HttpRequest) -> (&str, bool) {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?");
    let fails = u64::from_str_radix(id, 16).is_ok_and(|n| n % CAPTURE_EVERY == 0);
    (id, fails)
}

fn failure() -> actix_web::Error {
    std::io::Error::other("item store unavailable").into()
}

async fn vigil_handler(req: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    let (id, fails) = request_id(&req);
    vigil::configure_scope(|scope| scope.set_tag("request_id", id));
    vigil::add_breadcrumb(vigil_crumb(QUERY.into()));
    if fails {
        return Err(failure());
    }
    Ok(HttpResponse::Ok().finish())
}

async fn sentry_handler(req: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    let (id, fails) = request_id(&req);
    sentry::configure_scope(|scope| scope.set_tag("request_id", id));
    sentry::add_breadcrumb(sentry_crumb(QUERY.into()));
    if fails {
        return Err(failure());
    }
    Ok(HttpResponse::Ok().finish())
}

/// The handler of the floor: [`vigil_handler`] without the SDK calls.
async fn bare_handler(req: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    let (id, fails) = request_id(&req);
    black_box(id);
    if fails {
        return Err(failure());
    }
    Ok(HttpResponse::Ok().finish())
}

/// What differs between the two SDKs' work, for the suite's report.
fn note(op: &str) -> &'static str {
    match op {
        "ax1" => {
            "tracing off. Vigil's middleware (defaults) also names the scope's transaction \
             after the route pattern (events get `transaction: GET /api/items/{id}`) and \
             records an http breadcrumb per response before capturing a 5xx (so its error \
             event has one breadcrumb more); Vigil builds the request data only for the \
             request that captures, sentry-actix for every request; Vigil's error event \
             also has a response context and its envelope the sampling context"
        }
        "ax2" => {
            "as ax1, with a transaction per request (Vigil: VigilMiddleware defaults; \
             sentry: Sentry::with_transaction()), both named after the route pattern. Vigil \
             also puts http.request.method, url and http.response.status_code in the trace \
             data, applies the scope to the transaction when it ends (so it has the \
             handler's request_id tag: 6 tags, sentry's 5) and names the scope's \
             transaction (sentry's error event has no `transaction`); most of Vigil's time \
             is vigil-core's transaction pipeline (scope, scrubbing, limits, JSON), as in tx5"
        }
        _ => "",
    }
}

/// Sets up `op` (`ax1`, `ax2`) and performs `action` on it; returns the
/// child's report.
pub(crate) fn run(op: &str, action: Action) -> Value {
    let measuring = matches!(action, Action::Measure(_));
    let tracing = match op {
        "ax1" => Tracing::Off,
        "ax2" => Tracing::Sampled,
        other => panic!("unknown operation {other}"),
    };
    let env = setup_traced(Some(Mode::Serialize), tracing);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let _context = runtime.enter();
    let sentry_middleware = if tracing == Tracing::Off {
        sentry_actix::Sentry::new()
    } else {
        sentry_actix::Sentry::with_transaction()
    };
    let vigil_app = runtime.block_on(test::init_service(
        App::new()
            .wrap(vigil_actix::VigilMiddleware::new())
            .route(ROUTE, web::get().to(vigil_handler)),
    ));
    let sentry_app = runtime.block_on(test::init_service(
        App::new()
            .wrap(sentry_middleware)
            .route(ROUTE, web::get().to(sentry_handler)),
    ));
    let (mut vi, mut si) = (0u64, 0u64);
    // One request through `app`, as `test::call_service` sends it; the
    // handlers never wait, so one poll completes it.
    macro_rules! serve {
        ($app:expr, $i:expr) => {{
            *$i += 1;
            let response = complete(test::call_service($app, request(*$i).to_request()));
            black_box(response.status());
        }};
    }
    let mut report = crate::ops::drive(
        action,
        || serve!(&vigil_app, &mut vi),
        || serve!(&sentry_app, &mut si),
    );
    // The floor: the same requests through the same app without any
    // SDK middleware, its handler doing the same work but the SDK calls:
    // what both numbers contain that is not SDK work.
    let floor_vigil = runtime.block_on(test::init_service(
        App::new().route(ROUTE, web::get().to(bare_handler)),
    ));
    let floor_sentry = runtime.block_on(test::init_service(
        App::new().route(ROUTE, web::get().to(bare_handler)),
    ));
    let (mut fv, mut fs) = (0u64, 0u64);
    crate::ops::floor(
        action,
        &mut report,
        || serve!(&floor_vigil, &mut fv),
        || serve!(&floor_sentry, &mut fs),
    );
    if measuring {
        envelope_counts(&mut report, &env);
        // Ten requests each, one of which fails: one event (and ten
        // transactions with tracing).
        let keep = if tracing == Tracing::Off { 1 } else { 11 };
        check(
            &mut report,
            &env,
            keep,
            || {
                for _ in 0..CAPTURE_EVERY {
                    serve!(&vigil_app, &mut vi);
                }
            },
            || {
                for _ in 0..CAPTURE_EVERY {
                    serve!(&sentry_app, &mut si);
                }
            },
        );
        report["note"] = json!(note(op));
    }
    report
}
