//! Building and running the application: the same code path for `main.rs` and the tests.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, App, HttpMessage, HttpServer};
use tracing_actix_web::{RequestId, TracingLogger};

use crate::clock::{SharedClock, SystemClock};
use crate::cluster::wakeups::Wakeups;
use crate::config::{Cli, Command, Mode, Settings};
use crate::db::{Backend, Database, DbOptions, StoreError};
use crate::error::{ApiError, REQUEST_ID};
use crate::notify::{MessageCapture, Messenger};
use crate::state::AppState;
use crate::telemetry::RequestSpan;
use crate::{demo, pages, routes, telemetry};

/// Replacements tests (and simulations) make; the server binary uses none.
#[derive(Default, Clone)]
pub struct Overrides {
    pub clock: Option<SharedClock>,
    /// Keep messages in memory instead of sending them. Refused in production mode.
    pub capture: Option<MessageCapture>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Unsafe(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Delivery(#[from] crate::notify::DeliveryError),
    #[error(transparent)]
    Kek(#[from] crate::kek::KekError),
    #[error(transparent)]
    Keys(#[from] crate::services::prescriptions::KeyError),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    stopper: Stopper,
    kek_origin: crate::kek::KekOrigin,
    /// The port of `/metrics` on an address of its own (`metrics.listen`).
    metrics_port: Option<u16>,
}

/// Stops a running [`Application`]: its HTTP server and its background tasks (the queue
/// sweep, the call-room watcher, the outbox worker), as if the process ended.
#[derive(Clone)]
pub struct Stopper {
    /// The API's server first, then the metrics listener's if it has one.
    servers: Vec<ServerHandle>,
    background: Vec<tokio::task::AbortHandle>,
}

impl Stopper {
    /// `graceful`: finish the requests in flight first (as on SIGTERM); otherwise drop them
    /// (as a crash would).
    pub async fn stop(&self, graceful: bool) {
        for task in &self.background {
            task.abort();
        }
        for server in &self.servers {
            server.stop(graceful).await;
        }
    }
}

/// A start-up step's failure, as the store's (what it is at start-up).
fn store_error(error: crate::services::ServiceError) -> StoreError {
    match error {
        crate::services::ServiceError::Store(error) => error,
        other => StoreError::Unavailable(other.to_string()),
    }
}

impl Application {
    pub async fn build(settings: Settings, overrides: Overrides) -> Result<Self, StartupError> {
        settings.check()?;
        crate::auth::hashing::return_large_blocks_to_the_system();
        if overrides.capture.is_some() && settings.mode == Mode::Production {
            return Err(StartupError::Unsafe(
                "the in-memory message capture is for tests and cannot run in production mode",
            ));
        }
        let options = DbOptions {
            url: settings.database_url.clone(),
            pool_size: settings.db_pool_size,
            read_url: settings.database_read_url.clone(),
        };
        let limits = settings.database.clone();
        let db = tokio::task::spawn_blocking(move || Database::open_with(&options, &limits))
            .await
            .map_err(|_| StoreError::Unavailable("database start-up task failed".into()))??;
        let messenger = Messenger::from_settings(&settings, overrides.capture)?;
        let calls = crate::call::Calls::new(&settings.calls);
        let (wakeups, relay) = match db.backend() {
            Backend::Postgres if settings.cluster.wakeups => {
                let url = settings.cluster.listen_url.as_ref();
                let (wakeups, relay) = Wakeups::with_relay(url.unwrap_or(&settings.database_url));
                (wakeups, Some(relay))
            }
            _ => (Wakeups::local(), None),
        };
        let (kek, kek_origin) = crate::kek::load(&settings)?;
        let metrics = crate::metrics::Metrics::new(db.metrics());
        let state = AppState {
            db,
            clock: overrides.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            settings: Arc::new(settings),
            messenger,
            outbox: crate::notify::outbox::Outbox::new(),
            wakeups,
            queues: Default::default(),
            caches: Default::default(),
            calls,
            kek,
            metrics,
        };
        if state.settings.mode == Mode::Demo {
            demo::seed(&state).await?;
        }
        // Before serving: the signing key is encrypted at rest, opens with this KEK and is
        // published from the first start, and called patients get back the time the service
        // was down before anyone can be refused a join.
        crate::services::prescriptions::ensure_signing_key(&state).await?;
        crate::services::queue::sweep(&state, true)
            .await
            .map_err(store_error)?;
        let mut background = vec![spawn_sweeper(state.clone())];
        if let Some(relay) = relay {
            background.push(crate::cluster::wakeups::spawn_relay(relay));
        }
        background.push(crate::call::spawn_watcher(state.clone()));
        if state.settings.notifications.worker {
            background.push(crate::notify::outbox::spawn_worker(state.clone()));
        }

        let listener = TcpListener::bind(&state.settings.listen)?;
        let port = listener.local_addr()?.port();
        let workers = match state.settings.workers {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            n => n,
        };
        let app_state = web::Data::new(state.clone());
        let (metrics_server, metrics_port) = match crate::metrics::Exposure::of(&state.settings) {
            crate::metrics::Exposure::OwnAddress(address) => {
                let (server, port) = metrics_server(&address, app_state.clone())?;
                (Some(server), Some(port))
            }
            _ => (None, None),
        };
        let metrics = state.metrics.clone();
        let server = HttpServer::new(move || {
            let metrics = metrics.clone();
            App::new()
                // Innermost: its refusals carry the request id like every other answer.
                .wrap(actix_web::middleware::from_fn(
                    crate::url_guard::refuse_control_characters,
                ))
                .wrap_fn(|req, srv| {
                    let request_id = req
                        .extensions()
                        .get::<RequestId>()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    let response = srv.call(req);
                    REQUEST_ID.scope(request_id.clone(), async move {
                        let mut response = response.await?;
                        if let Ok(value) = HeaderValue::from_str(&request_id) {
                            response
                                .headers_mut()
                                .insert(HeaderName::from_static("x-request-id"), value);
                        }
                        Ok(response)
                    })
                })
                .wrap(TracingLogger::<RequestSpan>::new())
                // Outermost: counts every answer with its final status, by route pattern.
                .wrap_fn(move |req, srv| {
                    let started = std::time::Instant::now();
                    let method = crate::metrics::method_label(req.method());
                    let response = srv.call(req);
                    let metrics = metrics.clone();
                    async move {
                        let response = response.await?;
                        let route = crate::telemetry::MatchedRoute::of(response.request());
                        metrics.observe_request(
                            route.as_str(),
                            method,
                            response.status().as_u16(),
                            started.elapsed().as_secs_f64(),
                        );
                        Ok(response)
                    }
                })
                .app_data(app_state.clone())
                .app_data(web::JsonConfig::default().limit(256 * 1024).error_handler(
                    |error, _req| {
                        ApiError::bad_request(
                            "invalid_body",
                            format!("The request body was not accepted: {error}"),
                        )
                        .into()
                    },
                ))
                .app_data(
                    web::PathConfig::default()
                        .error_handler(|_error, _req| ApiError::not_found("resource").into()),
                )
                .app_data(web::QueryConfig::default().error_handler(|error, _req| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("The query string was not accepted: {error}"),
                    )
                    .into()
                }))
                .route("/metrics", web::get().to(crate::metrics::public_endpoint))
                .configure(routes::configure)
                .configure(pages::configure)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(ApiError::not_found("endpoint"))
                }))
        })
        .workers(workers)
        .shutdown_timeout(30)
        .listen(listener)?
        .run();
        let mut servers = vec![server.handle()];
        if let Some(metrics_server) = metrics_server {
            servers.push(metrics_server.handle());
            background.push(tokio::spawn(async move {
                if let Err(error) = metrics_server.await {
                    tracing::error!(%error, "the metrics listener stopped");
                }
            }));
        }
        let stopper = Stopper {
            servers,
            background: background.iter().map(|task| task.abort_handle()).collect(),
        };
        Ok(Self {
            port,
            server,
            state,
            stopper,
            kek_origin,
            metrics_port,
        })
    }

    /// The port `/metrics` answers on when it has an address of its own.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// What stops this instance from outside (tests stop one and start another on its
    /// database, as a restart of the process would).
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (up to 30 s) and stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Runs the queue sweep (overdue calls, silent doctors) in the background for as long as the
/// process lives. Several API processes may each run one: every sweep step re-checks under the
/// session lock, so doing it twice changes nothing. The sweep after a failed one is told it is
/// resuming: the database may have been unreachable for a while (see `queue::sweep`).
fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    let interval = std::time::Duration::from_millis(state.settings.queue.sweep_interval_ms.max(50));
    tokio::spawn(async move {
        let mut resuming = false;
        loop {
            tokio::time::sleep(interval).await;
            match crate::services::queue::sweep(&state, resuming).await {
                Ok(_) => resuming = false,
                Err(error) => {
                    resuming = true;
                    tracing::warn!(%error, "queue sweep failed");
                }
            }
        }
    })
}

/// `/metrics` alone on an address of its own (`metrics.listen`), with one worker.
fn metrics_server(
    address: &str,
    state: web::Data<AppState>,
) -> Result<(Server, u16), StartupError> {
    let listener = TcpListener::bind(address)?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(crate::metrics::own_endpoint))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok((server, port))
}

/// The server binary's whole job: the sub-command (`serve` by default) with the settings.
pub async fn run_cli(cli: Cli) -> ExitCode {
    let command = cli.command.clone().unwrap_or(Command::Serve);
    if command == Command::CheckConfig {
        return crate::ops::check_config(&cli).await;
    }
    let settings = match Settings::load(&cli) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("sanjeevani: {error}");
            return ExitCode::from(2);
        }
    };
    if cli.print_config {
        print!("{}", settings.to_redacted_toml());
        return ExitCode::SUCCESS;
    }
    if command != Command::Serve {
        return crate::ops::run(command, settings).await;
    }
    serve(settings).await
}

/// `sanjeevani serve`: runs the server until SIGINT or SIGTERM.
async fn serve(settings: Settings) -> ExitCode {
    telemetry::init(&settings.log_format);
    let mode = settings.mode;
    let application = match Application::build(settings, Overrides::default()).await {
        Ok(application) => application,
        Err(error) => {
            eprintln!("sanjeevani: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let settings = &application.state().settings;
    let host = settings
        .listen
        .rsplit_once(':')
        .map(|(host, _)| host)
        .unwrap_or("127.0.0.1");
    println!(
        "Sanjeevani {} listening on http://{host}:{} ({} mode, {} database)\n  API docs: http://{host}:{}/api/v1/docs",
        env!("CARGO_PKG_VERSION"),
        application.port(),
        mode.as_str(),
        application.state().db.backend().as_str(),
        application.port(),
    );
    match &application.kek_origin {
        crate::kek::KekOrigin::DevFile { path, created } => println!(
            "  The signing key is encrypted under the local key-encryption key {} ({}; \
             production needs keys.kek_file)",
            path.display(),
            if *created {
                "made now"
            } else {
                "kept from before"
            }
        ),
        crate::kek::KekOrigin::Configured => {}
    }
    if let Some(port) = application.metrics_port() {
        println!(
            "  Metrics: http://{}/metrics",
            with_port(settings.metrics.listen.as_deref().unwrap_or(""), port)
        );
    }
    if mode == Mode::Demo {
        demo::print_guide(&format!("http://{host}:{}", application.port()));
    }
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sanjeevani: server stopped with an error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `host:port` of a configured address with the port actually bound (`:0` picks one).
fn with_port(address: &str, port: u16) -> String {
    match address.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => format!("{address}:{port}"),
    }
}
