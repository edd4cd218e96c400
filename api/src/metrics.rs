//! `GET /metrics` in the Prometheus text format (the `prometheus` crate writes it).
//!
//! Each [`crate::startup::Application`] has its own registry, so two instances in one process
//! (the tests) count apart. Counters and histograms move as things happen: requests (labelled
//! by the route's pattern, e.g. `/api/v1/tokens/{id}`, never the raw path with its ids), OTPs
//! sent and refused; the database's pool waits and the SQLite writer's batches come from
//! [`crate::db::DbMetrics`]. Gauges that describe the database (outbox depth, doctors online,
//! tokens waiting) are read at each scrape. No label ever holds a patient's identifier, phone
//! number, code or name: labels are route patterns, methods, statuses, channels, outbox states
//! and programme codes.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use crate::config::Mode;
use crate::error::ApiError;
use crate::models::gauges;
use crate::services::ServiceError;
use crate::state::AppState;

/// The request latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One application's metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    otps_sent: IntCounterVec,
    otp_failed_verifications: IntCounter,
    live_streams: IntGauge,
    call_rooms: IntGauge,
    writer_queue: IntGauge,
    outbox: IntGaugeVec,
    outbox_oldest_pending: Gauge,
    doctors_online: IntGauge,
    tokens_waiting: IntGaugeVec,
}

fn registered<T: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: T,
) -> T {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique within the registry");
    metric
}

impl Metrics {
    /// A fresh registry with every metric at zero, the database's own among them.
    pub fn new(db: &crate::db::DbMetrics) -> Self {
        let registry =
            Registry::new_custom(Some("sanjeevani".into()), None).expect("a valid registry prefix");
        for collector in db.collectors() {
            registry
                .register(collector)
                .expect("database metric names are unique");
        }
        let r = &registry;
        let inner = Inner {
            requests: registered(
                r,
                IntCounterVec::new(
                    Opts::new("http_requests_total", "HTTP requests answered, by route pattern, method and status."),
                    &["route", "method", "status"],
                )
                .expect("valid metric"),
            ),
            latency: registered(
                r,
                HistogramVec::new(
                    HistogramOpts::new("http_request_duration_seconds", "Time to answer an HTTP request (until the response starts), by route pattern, method and status.")
                        .buckets(LATENCY_BUCKETS.to_vec()),
                    &["route", "method", "status"],
                )
                .expect("valid metric"),
            ),
            otps_sent: registered(
                r,
                IntCounterVec::new(
                    Opts::new("otps_sent_total", "One-time codes issued and queued for delivery, by channel (sms, email)."),
                    &["channel"],
                )
                .expect("valid metric"),
            ),
            otp_failed_verifications: registered(
                r,
                IntCounter::new("otp_failed_verifications_total", "Code verifications refused (wrong, expired, used up or unknown).")
                    .expect("valid metric"),
            ),
            live_streams: registered(
                r,
                IntGauge::new("live_event_streams", "Server-sent event streams open now (queue boards).")
                    .expect("valid metric"),
            ),
            call_rooms: registered(
                r,
                IntGauge::new("call_rooms", "Consultation call rooms live in this process.")
                    .expect("valid metric"),
            ),
            writer_queue: registered(
                r,
                IntGauge::new("db_writer_queue_length", "Writes waiting for the SQLite writer thread (0 on PostgreSQL).")
                    .expect("valid metric"),
            ),
            outbox: registered(
                r,
                IntGaugeVec::new(
                    Opts::new("outbox_messages", "Notification outbox messages by state: pending (not yet tried), retrying, dead."),
                    &["state"],
                )
                .expect("valid metric"),
            ),
            outbox_oldest_pending: registered(
                r,
                Gauge::new("outbox_oldest_pending_age_seconds", "Age of the oldest message still to be sent (0 when none).")
                    .expect("valid metric"),
            ),
            doctors_online: registered(
                r,
                IntGauge::new("doctors_online", "Doctors online now (an open presence with a recent heartbeat).")
                    .expect("valid metric"),
            ),
            tokens_waiting: registered(
                r,
                IntGaugeVec::new(
                    Opts::new("tokens_waiting", "Tokens waiting to be called, by programme code."),
                    &["programme"],
                )
                .expect("valid metric"),
            ),
            registry,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Counts one answered request. `route` is the matched pattern (`unmatched` for none).
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [route, method, status.as_str()];
        self.inner.requests.with_label_values(&labels).inc();
        self.inner
            .latency
            .with_label_values(&labels)
            .observe(seconds);
    }

    pub fn otp_sent(&self, channel: &str) {
        self.inner.otps_sent.with_label_values(&[channel]).inc();
    }

    pub fn otp_verification_failed(&self) {
        self.inner.otp_failed_verifications.inc();
    }

    /// Counts a live event stream for as long as the returned guard lives.
    pub fn stream_opened(&self) -> LiveStream {
        self.inner.live_streams.inc();
        LiveStream(self.inner.live_streams.clone())
    }

    /// Reads the gauges that describe the database and this process, then writes everything
    /// in the text format.
    async fn render(&self, state: &AppState) -> Result<String, ServiceError> {
        let since = state.presence_since();
        let (outbox, online, waiting) = state
            .db
            .read(move |conn| -> Result<_, ServiceError> {
                Ok((
                    gauges::outbox_depth(conn)?,
                    gauges::doctors_online(conn, since)?,
                    gauges::tokens_waiting_per_programme(conn)?,
                ))
            })
            .await?;
        let inner = &self.inner;
        inner
            .outbox
            .with_label_values(&["pending"])
            .set(outbox.pending);
        inner
            .outbox
            .with_label_values(&["retrying"])
            .set(outbox.retrying);
        inner.outbox.with_label_values(&["dead"]).set(outbox.dead);
        // The outbox schedules by the wall clock (`notify::outbox`), so its age is too.
        let age = outbox.oldest_pending.map_or(0.0, |oldest| {
            (crate::notify::outbox::wall_now() - oldest)
                .num_milliseconds()
                .max(0) as f64
                / 1000.0
        });
        inner.outbox_oldest_pending.set(age);
        inner.doctors_online.set(online);
        inner.tokens_waiting.reset();
        for (programme, count) in waiting {
            inner
                .tokens_waiting
                .with_label_values(&[&programme])
                .set(count);
        }
        inner.call_rooms.set(state.calls.rooms.len() as i64);
        inner
            .writer_queue
            .set(state.db.writer_queue_length() as i64);
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&inner.registry.gather(), &mut text)
            .map_err(|e| ServiceError::Store(crate::db::StoreError::Unavailable(e.to_string())))?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    }
}

/// The method as a label: the standard ones by name, anything else as `other` (a client
/// cannot make new label values up).
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// One open event stream; the gauge goes down when the stream ends (the client left).
pub struct LiveStream(IntGauge);

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Where `/metrics` is served, from the mode and `[metrics]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// On the server's own port, open (dev and demo).
    Open,
    /// On the server's own port for a scraper presenting this bearer token.
    Token,
    /// Only on the separate address `metrics.listen`.
    OwnAddress(String),
    /// Not served (production with neither a token nor an address of its own).
    Off,
}

impl Exposure {
    pub fn of(settings: &crate::config::Settings) -> Self {
        match (&settings.metrics.listen, &settings.metrics.bearer_token) {
            (Some(listen), _) => Exposure::OwnAddress(listen.clone()),
            (None, Some(_)) => Exposure::Token,
            (None, None) if settings.mode == Mode::Production => Exposure::Off,
            (None, None) => Exposure::Open,
        }
    }
}

/// Whether the request carries the configured scraper token (compared in constant time).
fn token_accepted(state: &AppState, req: &HttpRequest) -> bool {
    let Some(expected) = &state.settings.metrics.bearer_token else {
        return false;
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = expected.expose().as_bytes();
    let presented = presented.as_bytes();
    expected.len() == presented.len()
        && expected
            .iter()
            .zip(presented)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// `GET /metrics` on the server's own port: open in dev and demo, with the scraper's token in
/// production when one is configured; otherwise not there (404, like any unknown path).
pub async fn public_endpoint(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    match Exposure::of(&state.settings) {
        Exposure::Open => {}
        Exposure::Token if token_accepted(&state, &req) => {}
        Exposure::Token => {
            return Ok(HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .finish())
        }
        Exposure::OwnAddress(_) | Exposure::Off => return Err(ApiError::not_found("endpoint")),
    }
    own_endpoint(state).await
}

/// `GET /metrics` on the metrics address of its own: whoever reaches the address may scrape.
pub async fn own_endpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render(&state).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text))
}
