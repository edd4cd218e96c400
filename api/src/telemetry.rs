//! Logging with tracing: one line per request with its id and status; `RUST_LOG` sets the
//! level. Nothing a user sent is logged: no bodies, no error details that could echo input
//! (an OTP typed as a number, a diagnosis), only status and the stable error code.

use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,actix_web=warn"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if format == "json" {
        builder.json().try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    drop(result);
}

/// The request span: method, route, path, client and request id; at the end only the status
/// and the error's stable code are recorded. Built here rather than by tracing-actix-web's
/// default, which logs the query string (a name searched for at the spoke is a health detail)
/// and a client address taken from any `X-Forwarded-For` a client sends itself: ours is the
/// one the rate limits and the audit trail use (`cluster::client_address`).
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let client = crate::cluster::client_address::of_request(
            request.peer_addr(),
            request.headers(),
            request.app_data(),
        );
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            // Recorded at the end, once routed: finding a path's pattern walks every route.
            http.route = tracing::field::Empty,
            http.target = %request.path(),
            http.client_ip = %client,
            http.status_code = tracing::field::Empty,
            otel.kind = "server",
            request_id = %request_id,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => {
                let route = MatchedRoute::of(response.request());
                span.record("http.route", route.as_str());
                response.response().status()
            }
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("http.status_code", status.as_u16());
        let _entered = span.enter();
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), "request failed");
        } else {
            tracing::info!(status = status.as_u16(), "request finished");
        }
    }
}

/// The route pattern a request matched (`/api/v1/tokens/{id}`, never the path with its ids),
/// or `unmatched`. Found once per request and kept in its extensions: finding it walks the
/// whole route table (about 20,000 instructions, a tenth of a cached status poll), and both
/// the log line and the metrics need it.
#[derive(Clone)]
pub struct MatchedRoute(std::rc::Rc<str>);

impl MatchedRoute {
    pub fn of(request: &actix_web::HttpRequest) -> Self {
        if let Some(found) = request.extensions().get::<MatchedRoute>() {
            return found.clone();
        }
        let route = Self(
            request
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into())
                .into(),
        );
        request.extensions_mut().insert(route.clone());
        route
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
