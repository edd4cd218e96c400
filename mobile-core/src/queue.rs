//! Watching a token's place in the queue: a plain `std::thread` per watch that follows the
//! session's server-sent event stream and tells the app's [`QueueListener`] about every change
//! of the token, until [`QueueWatch::stop`].
//!
//! **Push, with polling as the fallback.** The watch learns the token's session from
//! `GET /tokens/{id}` and opens the session's stream, `GET /opd-sessions/{id}/events` (a helper
//! thread reads it). The stream carries the public board, not this token's own position, so
//! each `board` event wakes the watch to fetch the token's status with `If-None-Match` (a 304
//! when this token's status did not change). The server sends an event as soon as the queue
//! changes in its process (and within `queue.stream_poll_ms`, 1 s, for a change made by another
//! API process), so a change reaches the phone within about a second. While the stream is up
//! the status is also fetched every 30 s, in case an event was lost in a proxy. When the stream
//! cannot be opened or breaks (a proxy that buffers, a mobile network that cuts long
//! connections, an older server), the watch polls every 2 s, doubling up to 30 s while the
//! server does not answer, and opens the stream again with the same backoff.
//!
//! **No state is skipped.** A push only says "something changed"; by the time the status is
//! fetched the token may have moved on twice (a doctor who starts and completes within 30 ms).
//! The token's steps are a ladder (waiting, called, in consultation, then completed; a no-show
//! after being called) and the server stamps each step it passes (`called_at`, `started_at`
//! in the token). So when a fetched status is more than one step past the last one reported,
//! the watch reads the token (`GET /tokens/{id}`) and reports every step in between that has
//! its stamp, in order, each with the time it happened as `as_of`, before the new status. A
//! requeue clears the stamps and sends the token back to waiting, which is reported as such.
//!
//! While the server cannot be reached the listener gets a `Network` error, then the last status
//! received (kept in the local store with its time) once, marked `stale`; when the server
//! answers again it gets the fresh status. The watch ends by itself once the token is completed
//! or cancelled, or when the server says the token or the session is gone (`NotFound`,
//! `SessionEnded`, reported through `on_error`).

use std::io::{BufRead, BufReader};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use sanjeevani_types::queue::TokenTimes;

use crate::api::{Api, RetryPolicy};
use crate::client::Core;
use crate::error::{Error, MobileError};
use crate::logging::{self, LogLevel};
use crate::records::{QueueUpdate, TokenStatus};

/// Implemented by the app (Kotlin, Swift, Python) to hear about a watched token. Called on the
/// watch's own background thread: post to the UI thread from here. If a method throws, the
/// watch goes on and tells `on_error` (`MobileError.Listener`).
#[uniffi::export(with_foreign)]
pub trait QueueListener: Send + Sync {
    /// The token's status changed (or, with `stale`, is the last one known while offline).
    fn on_status(&self, update: QueueUpdate);
    /// A fetch failed. `Network` means offline (the watch goes on with backoff); after
    /// `NotFound`, `SessionEnded`, `NotSignedIn` or `Closed` the watch has ended.
    fn on_error(&self, error: MobileError);
}

/// How often a watch fetches the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchTiming {
    /// Between fetches while the event stream is down and the server answers.
    pub interval: Duration,
    /// The longest wait after repeated failures (the wait doubles from `interval`); also the
    /// longest wait before opening a broken event stream again.
    pub max_backoff: Duration,
    /// Between fetches while the event stream is up (a safety net for a lost event).
    pub with_stream: Duration,
}

impl WatchTiming {
    pub const DEFAULT: WatchTiming = WatchTiming {
        interval: Duration::from_secs(2),
        max_backoff: Duration::from_secs(30),
        with_stream: Duration::from_secs(30),
    };
}

/// The server sends a keepalive every 15 s on a quiet stream: a read waiting longer than this
/// is a dead connection.
const STREAM_SILENCE: Duration = Duration::from_secs(40);

/// What wakes the watch thread.
#[derive(Debug)]
enum Wake {
    /// The session's queue changed (a `board` event).
    Changed,
    /// The event stream is open.
    StreamUp,
    /// The event stream could not be opened or broke.
    StreamLost,
    /// The app stopped the watch.
    Stopped,
}

/// The watch's stop: wakes the thread early, and keeps listener calls and `stop` apart, so that
/// once `stop` returns no listener call is running or will start.
#[derive(Debug)]
struct StopSignal {
    stopped: Mutex<bool>,
    wake: Mutex<Sender<Wake>>,
    /// Held for the length of each listener call.
    calling: Mutex<()>,
    /// The watch thread (set once it runs): a `stop` from its own listener must not wait for
    /// the call it is part of.
    worker: OnceLock<thread::ThreadId>,
}

impl StopSignal {
    fn new(wake: Sender<Wake>) -> Self {
        Self {
            stopped: Mutex::new(false),
            wake: Mutex::new(wake),
            calling: Mutex::new(()),
            worker: OnceLock::new(),
        }
    }

    fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        let _ = self
            .wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(Wake::Stopped);
        if self.worker.get() != Some(&thread::current().id()) {
            // A listener call under way finishes first; every later one sees `stopped`.
            drop(self.calling.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }

    fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn waker(&self) -> Sender<Wake> {
        self.wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
                listener.on_error(MobileError::listener(details))
            }));
        }
        true
    }
}

enum ListenerCall {
    Status(QueueUpdate),
    Error(MobileError),
}

pub(crate) fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
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
    /// listener call is running when it returns, and none starts after. A fetch already waiting
    /// on a slow server, or the event stream, is abandoned (its thread ends when the request
    /// gives up or the next event arrives). Calling it again, or from the listener itself, is
    /// fine.
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
    let (wake, woken) = mpsc::channel();
    let signal = Arc::new(StopSignal::new(wake));
    let thread_signal = signal.clone();
    let thread = thread::Builder::new()
        .name("sanjeevani-queue-watch".into())
        .spawn(move || {
            let _ = thread_signal.worker.set(thread::current().id());
            let mut watcher = Watcher {
                core: &core,
                // One attempt per fetch: the watch's own backoff replaces the API's quick
                // retries, and a stop is never held up by them.
                api: core.api().with_retry(RetryPolicy {
                    attempts: 1,
                    first_delay: Duration::ZERO,
                }),
                token_id: &token_id,
                listener: listener.as_ref(),
                timing,
                signal: &thread_signal,
                last: None,
                offline: false,
                delay: timing.interval,
                session_id: None,
            };
            watcher.run(&woken);
        })?;
    Ok(QueueWatch {
        signal,
        thread: Mutex::new(Some(thread)),
    })
}

/// The event stream, as the watch thread sees it.
enum Stream {
    /// Opening or open (the helper thread reports `StreamUp` or `StreamLost`); `failures` in a
    /// row before it, none once it is up.
    Started { up: bool, failures: u32 },
    /// Broken: open it again at `retry_at`, after `failures` failures in a row.
    Down { retry_at: Instant, failures: u32 },
}

struct Watcher<'a> {
    core: &'a Core,
    api: Api,
    token_id: &'a str,
    listener: &'a dyn QueueListener,
    timing: WatchTiming,
    signal: &'a StopSignal,
    /// The last status reported (a stale one included).
    last: Option<QueueUpdate>,
    offline: bool,
    /// The wait before the next fetch while the stream is down.
    delay: Duration,
    /// The token's session, for its event stream (known after the first answer).
    session_id: Option<String>,
}

/// Why the watch ends.
struct Ended;

impl Watcher<'_> {
    fn run(&mut self, woken: &Receiver<Wake>) {
        let mut stream = Stream::Down {
            retry_at: Instant::now(),
            failures: 0,
        };
        loop {
            if self.fetch().is_err() {
                return;
            }
            let stream_up = matches!(stream, Stream::Started { up: true, .. });
            let mut fetch_at = Instant::now()
                + if stream_up {
                    self.timing.with_stream
                } else {
                    self.delay
                };
            // Wait for a reason to fetch: a change pushed, or the time for the next fetch.
            loop {
                if let (Stream::Down { retry_at, failures }, Some(session_id)) =
                    (&stream, &self.session_id)
                {
                    if Instant::now() >= *retry_at {
                        let failures = *failures;
                        stream = match self.open_stream(session_id) {
                            Ok(()) => Stream::Started {
                                up: false,
                                failures,
                            },
                            Err(_) => self.stream_down(failures + 1),
                        };
                    }
                }
                let mut until = fetch_at;
                if let Stream::Down { retry_at, .. } = &stream {
                    if self.session_id.is_some() {
                        until = until.min(*retry_at);
                    }
                }
                match woken.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(Wake::Stopped) | Err(RecvTimeoutError::Disconnected) => return,
                    Ok(Wake::Changed) => {
                        // Several events in a burst need one fetch.
                        while let Ok(wake) = woken.try_recv() {
                            match wake {
                                Wake::Stopped => return,
                                Wake::Changed => {}
                                other => stream = self.stream_after(other, &stream),
                            }
                        }
                        break;
                    }
                    Ok(wake @ (Wake::StreamUp | Wake::StreamLost)) => {
                        stream = self.stream_after(wake, &stream);
                        if matches!(stream, Stream::Down { .. }) {
                            // Back to polling: the next fetch comes at the polling rhythm.
                            fetch_at = fetch_at.min(Instant::now() + self.delay);
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        if Instant::now() >= fetch_at {
                            break;
                        }
                    }
                }
            }
        }
    }

    /// The stream's state after its helper thread reported `wake`.
    fn stream_after(&self, wake: Wake, stream: &Stream) -> Stream {
        let failures = match stream {
            Stream::Down { failures, .. } | Stream::Started { failures, .. } => *failures,
        };
        match wake {
            Wake::StreamUp => Stream::Started {
                up: true,
                failures: 0,
            },
            _ => self.stream_down(failures + 1),
        }
    }

    fn stream_down(&self, failures: u32) -> Stream {
        let wait = self
            .timing
            .interval
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(self.timing.max_backoff);
        Stream::Down {
            retry_at: Instant::now() + wait,
            failures,
        }
    }

    /// Starts the helper thread that reads the session's event stream.
    fn open_stream(&self, session_id: &str) -> Result<(), Error> {
        let api = self.api.clone();
        let path = format!("/opd-sessions/{session_id}/events");
        let wake = self.signal.waker();
        thread::Builder::new()
            .name("sanjeevani-queue-stream".into())
            .spawn(move || {
                let why = match follow_stream(&api, &path, &wake) {
                    Ok(()) => "it ended".to_owned(),
                    Err(error) => MobileError::from(error).to_string(),
                };
                // Nobody to tell once the watch has ended.
                if wake.send(Wake::StreamLost).is_ok() {
                    logging::log(LogLevel::Info, "queue", || {
                        format!("the session's event stream is down ({why}); polling meanwhile")
                    });
                }
            })?;
        Ok(())
    }

    /// Fetches the status and reports what changed; `Err` when the watch ends.
    fn fetch(&mut self) -> Result<(), Ended> {
        match self.core.refresh_status(&self.api, self.token_id) {
            Ok(update) => {
                self.offline = false;
                self.delay = self.timing.interval;
                let finished = update.status.is_final();
                if self.last.as_ref() != Some(&update) {
                    self.report_steps_between(&update)?;
                    self.last = Some(update.clone());
                    self.tell(ListenerCall::Status(update))?;
                }
                if self.session_id.is_none() && !finished {
                    // The session is the stream's address; without it the watch polls.
                    if let Ok(token) = self.core.fetch_token(&self.api, self.token_id) {
                        self.session_id = Some(token.session_id);
                    }
                }
                if finished {
                    return Err(Ended);
                }
                Ok(())
            }
            Err(error) => {
                let network = error.is_network();
                let error = MobileError::from(error);
                let ends = error.is_final();
                // Offline is reported once per outage, not on every failed fetch.
                if network && !self.offline {
                    self.offline = true;
                    // The error first: an app that hears the stale status knows why.
                    self.tell(ListenerCall::Error(error))?;
                    if let Ok(Some(cached)) = self.core.store().queue_status(self.token_id) {
                        let stale = QueueUpdate::new(cached.status, true);
                        self.last = Some(stale.clone());
                        self.tell(ListenerCall::Status(stale))?;
                    }
                } else if !network {
                    self.tell(ListenerCall::Error(error))?;
                }
                if ends {
                    return Err(Ended);
                }
                self.delay = self.delay.saturating_mul(2).min(self.timing.max_backoff);
                Ok(())
            }
        }
    }

    /// Reports the steps the token passed between the last status reported and `update`, from
    /// the stamps the server keeps in the token.
    fn report_steps_between(&self, update: &QueueUpdate) -> Result<(), Ended> {
        let Some(last) = &self.last else {
            return Ok(());
        };
        if steps_between(last.status, update.status, None).is_empty() {
            return Ok(());
        }
        // Without the token (a failed read) the steps cannot be known: the new status is
        // reported alone, as before there was a stream.
        let Ok(token) = self.core.fetch_token(&self.api, self.token_id) else {
            return Ok(());
        };
        for (status, at) in steps_between(last.status, update.status, Some(&token.times)) {
            let mut step = update.clone();
            step.status = status;
            step.as_of = at;
            step.position = None;
            step.expected_wait_minutes = None;
            if status != TokenStatus::Called {
                step.join_deadline = None;
            }
            self.tell(ListenerCall::Status(step))?;
        }
        Ok(())
    }

    fn tell(&self, call: ListenerCall) -> Result<(), Ended> {
        if self.signal.call(self.listener, call) {
            Ok(())
        } else {
            Err(Ended)
        }
    }
}

/// The steps a token passed strictly between `from` and `to`, in order, each with the time the
/// server stamped it. Without `times`, every step that may lie between (a stamp decides).
fn steps_between(
    from: TokenStatus,
    to: TokenStatus,
    times: Option<&TokenTimes>,
) -> Vec<(TokenStatus, SystemTime)> {
    use TokenStatus::*;
    // The ladder up to `to`.
    let ladder: &[TokenStatus] = match to {
        InConsultation => &[Waiting, Called],
        Completed => &[Waiting, Called, InConsultation],
        NoShow => &[Waiting, Called],
        Waiting | Called | Cancelled => &[],
    };
    let Some(from_rung) = ladder.iter().position(|rung| *rung == from) else {
        return Vec::new();
    };
    ladder[from_rung + 1..]
        .iter()
        .filter_map(|&status| {
            let stamp = match (times, status) {
                (None, _) => Some(SystemTime::UNIX_EPOCH),
                (Some(times), Called) => times.called_at.map(Into::into),
                (Some(times), InConsultation) => times.started_at.map(Into::into),
                _ => None,
            };
            stamp.map(|at| (status, at))
        })
        .collect()
}

/// Reads the event stream until it ends or breaks, waking the watch on each `board` event;
/// returns once the watch is gone.
fn follow_stream(api: &Api, path: &str, wake: &Sender<Wake>) -> Result<(), Error> {
    let reader = BufReader::new(api.open_stream(path, STREAM_SILENCE)?);
    logging::log(LogLevel::Info, "queue", || {
        "the session's event stream is open".into()
    });
    if wake.send(Wake::StreamUp).is_err() {
        return Ok(());
    }
    let mut event = String::new();
    for line in reader.lines() {
        let line = line?;
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_owned();
        } else if line.is_empty() {
            // An event ends with a blank line.
            if event == "board" && wake.send(Wake::Changed).is_err() {
                return Ok(());
            }
            event.clear();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn times(called: bool, started: bool) -> TokenTimes {
        let at = |minute| Some(Utc.with_ymd_and_hms(2026, 12, 3, 10, minute, 0).unwrap());
        TokenTimes {
            booked_at: Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap(),
            called_at: if called { at(1) } else { None },
            join_deadline: None,
            joined_at: None,
            started_at: if started { at(2) } else { None },
            completed_at: None,
            no_show_at: None,
            cancelled_at: None,
        }
    }

    fn statuses(from: TokenStatus, to: TokenStatus, times: &TokenTimes) -> Vec<TokenStatus> {
        steps_between(from, to, Some(times))
            .into_iter()
            .map(|(status, _)| status)
            .collect()
    }

    #[test]
    fn a_consultation_started_and_completed_between_two_fetches_is_reported() {
        use TokenStatus::*;
        let all = times(true, true);
        assert_eq!(statuses(Called, Completed, &all), [InConsultation]);
        assert_eq!(statuses(Waiting, Completed, &all), [Called, InConsultation]);
        assert_eq!(statuses(Waiting, InConsultation, &all), [Called]);
        assert_eq!(statuses(Waiting, NoShow, &times(true, false)), [Called]);
        // Steps in order, each at its own time.
        let steps = steps_between(Waiting, Completed, Some(&all));
        assert!(steps[0].1 < steps[1].1);
    }

    #[test]
    fn nothing_is_invented() {
        use TokenStatus::*;
        let all = times(true, true);
        assert!(statuses(InConsultation, Completed, &all).is_empty());
        assert!(statuses(Called, Waiting, &all).is_empty(), "a requeue");
        assert!(statuses(Waiting, Cancelled, &all).is_empty());
        // A step without its stamp did not happen (a requeue cleared it).
        assert_eq!(statuses(Waiting, Completed, &times(true, false)), [Called]);
    }
}
