//! Watching a token's place in the queue: a plain `std::thread` per watch that polls the
//! token's status and tells the app's [`QueueListener`] about every change, until
//! [`QueueWatch::stop`].
//!
//! Why polling and not the server's SSE stream (`/opd-sessions/{id}/events`): the stream
//! carries the public board (display numbers), not this token's position or wait, so each event
//! would need a status request anyway; a held-open stream is also what mobile networks and
//! OS battery savers cut first. A conditional GET with `If-None-Match` costs the server one
//! indexed read and the phone a few hundred bytes when nothing changed (304), and it needs no
//! async runtime. The interval is 2 s while the server answers and doubles on each failure, up
//! to 30 s, so a phone in a dead zone does not drain its battery retrying.
//!
//! While the server cannot be reached the listener gets the last status received (kept in the
//! local store with its time) once, marked `stale`, and a `Network` error; when the server
//! answers again it gets the fresh status. The watch ends by itself once the token is completed
//! or cancelled, or when the server says the token or the session is gone (`NotFound`,
//! `Unauthorized`, reported through `on_error`).

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::api::RetryPolicy;
use crate::client::Core;
use crate::error::{Error, MobileError};
use crate::records::QueueUpdate;

/// Implemented by the app (Kotlin, Swift, Python) to hear about a watched token. Called on the
/// watch's own background thread: post to the UI thread from here. If a method throws, the
/// watch goes on and tells `on_error` (`MobileError.Listener`).
#[uniffi::export(with_foreign)]
pub trait QueueListener: Send + Sync {
    /// The token's status changed (or, with `stale`, is the last one known while offline).
    fn on_status(&self, update: QueueUpdate);
    /// A poll failed. `Network` means offline (polling goes on with backoff); after
    /// `NotFound` or `Unauthorized` the watch has ended.
    fn on_error(&self, error: MobileError);
}

/// How often a watch polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchTiming {
    /// Between polls while the server answers.
    pub interval: Duration,
    /// The longest wait after repeated failures (the wait doubles from `interval`).
    pub max_backoff: Duration,
}

impl WatchTiming {
    pub const DEFAULT: WatchTiming = WatchTiming {
        interval: Duration::from_secs(2),
        max_backoff: Duration::from_secs(30),
    };
}

/// The watch's stop: wakes the thread early, and keeps listener calls and `stop` apart, so that
/// once `stop` returns no listener call is running or will start.
#[derive(Debug, Default)]
struct StopSignal {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// Held for the length of each listener call.
    calling: Mutex<()>,
    /// The watch thread (set once it runs): a `stop` from its own listener must not wait for
    /// the call it is part of.
    worker: OnceLock<thread::ThreadId>,
}

impl StopSignal {
    fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
        if self.worker.get() != Some(&thread::current().id()) {
            // A listener call under way finishes first; every later one sees `stopped`.
            drop(self.calling.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }

    fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps for `duration` unless stopped first; true when stopped.
    fn wait(&self, duration: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, duration, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *stopped
    }

    /// Calls the app's listener unless the watch was stopped. The app's code may throw (touching
    /// a view from this thread is the classic way); uniffi turns that into a panic here, which
    /// would end the watch silently. It is caught: the listener hears of it through
    /// `on_error` (`Listener`), and the watch goes on. False once stopped.
    fn call(&self, listener: &dyn QueueListener, what: ListenerCall) -> bool {
        let _calling = self.calling.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_stopped() {
            return false;
        }
        let failed = |result: thread::Result<()>| result.err().map(panic_text);
        let problem = match what {
            ListenerCall::Status(update) => failed(panic::catch_unwind(AssertUnwindSafe(|| {
                listener.on_status(update)
            }))),
            ListenerCall::Error(error) => failed(panic::catch_unwind(AssertUnwindSafe(|| {
                listener.on_error(error)
            }))),
        };
        if let Some(details) = problem {
            // Told once; a listener whose on_error throws too is not called about it again.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                listener.on_error(MobileError::Listener { details })
            }));
        }
        true
    }
}

enum ListenerCall {
    Status(QueueUpdate),
    Error(MobileError),
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "the listener failed".to_owned())
}

/// Waits for a background thread the app asked to stop (a call), once; not from the thread
/// itself (a listener call), which would wait for itself.
pub(crate) fn join_worker(slot: &Mutex<Option<JoinHandle<()>>>) {
    let handle = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(handle) = handle {
        if handle.thread().id() != thread::current().id() {
            let _ = handle.join();
        }
    }
}

/// A running watch. Stop it when the screen goes away; dropping it stops it too.
#[derive(Debug, uniffi::Object)]
pub struct QueueWatch {
    signal: Arc<StopSignal>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[uniffi::export]
impl QueueWatch {
    /// Ends the watch and returns at once (from `onDestroy` on the main thread, say): no
    /// listener call is running when it returns, and none starts after. A poll already waiting
    /// on a slow server is abandoned (its thread ends when the request gives up). Calling it
    /// again, or from the listener itself, is fine.
    pub fn stop(&self) {
        self.signal.stop();
    }

    /// Whether the watch is still watching (not stopped, and not ended by itself).
    pub fn is_running(&self) -> bool {
        !self.signal.is_stopped()
            && self
                .thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .is_some_and(|handle| !handle.is_finished())
    }
}

impl Drop for QueueWatch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts watching `token_id` on a new thread.
pub fn watch(
    core: Arc<Core>,
    token_id: String,
    listener: Arc<dyn QueueListener>,
    timing: WatchTiming,
) -> Result<QueueWatch, Error> {
    crate::client::check_token_id(&token_id)?;
    let signal = Arc::new(StopSignal::default());
    let thread_signal = signal.clone();
    let thread = thread::Builder::new()
        .name("sanjeevani-queue-watch".into())
        .spawn(move || {
            let _ = thread_signal.worker.set(thread::current().id());
            run(&core, &token_id, listener.as_ref(), timing, &thread_signal)
        })?;
    Ok(QueueWatch {
        signal,
        thread: Mutex::new(Some(thread)),
    })
}

fn run(
    core: &Core,
    token_id: &str,
    listener: &dyn QueueListener,
    timing: WatchTiming,
    signal: &StopSignal,
) {
    // One attempt per poll: the loop's own backoff replaces the API's quick retries, and a
    // stop is never held up by them.
    let api = core.api().with_retry(RetryPolicy {
        attempts: 1,
        first_delay: Duration::ZERO,
    });
    let mut last: Option<QueueUpdate> = None;
    let mut offline = false;
    let mut delay = timing.interval;
    loop {
        match core.refresh_status(&api, token_id) {
            Ok(update) => {
                offline = false;
                delay = timing.interval;
                let finished = update.status.is_final();
                if last.as_ref() != Some(&update) {
                    last = Some(update.clone());
                    if !signal.call(listener, ListenerCall::Status(update)) {
                        return;
                    }
                }
                if finished {
                    return;
                }
            }
            Err(error) => {
                let network = error.is_network();
                let error = MobileError::from(error);
                let ends = matches!(
                    error,
                    MobileError::NotFound | MobileError::Unauthorized | MobileError::Closed
                );
                // Offline is reported once per outage, not on every failed poll.
                if network && !offline {
                    offline = true;
                    if let Ok(Some(cached)) = core.store().queue_status(token_id) {
                        let stale = QueueUpdate::new(cached.status, true);
                        last = Some(stale.clone());
                        if !signal.call(listener, ListenerCall::Status(stale)) {
                            return;
                        }
                    }
                    if !signal.call(listener, ListenerCall::Error(error)) {
                        return;
                    }
                } else if !network && !signal.call(listener, ListenerCall::Error(error)) {
                    return;
                }
                if ends {
                    return;
                }
                delay = delay.saturating_mul(2).min(timing.max_backoff);
            }
        }
        if signal.wait(delay) {
            return;
        }
    }
}
