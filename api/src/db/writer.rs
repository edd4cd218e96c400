//! The SQLite writer: one thread owns the only writing connection and commits queued writes in
//! batches. Each write runs in its own savepoint, so one failing write rolls back alone; the
//! batch shares one commit (and one fsync). Measured on these machines, a single writer gave
//! about 1.5x the throughput and 5x better p99 than pooled writers retrying on `SQLITE_BUSY`.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;

use diesel::Connection;
use tokio::sync::oneshot;

use super::connection::DbManager;
use super::{DbConnection, StoreError};

/// The most writes committed together; bounds the latency one batch adds.
const MAX_BATCH: usize = 256;

/// Called after the batch's commit with the commit's error, if any.
type Completion = Box<dyn FnOnce(Option<&diesel::result::Error>) + Send>;
/// Runs one write inside the open batch transaction.
type Job = Box<dyn FnOnce(&mut DbConnection) -> Completion + Send>;

thread_local! {
    /// Set on the writer thread: see [`batch_state`].
    static ON_WRITER: Cell<bool> = const { Cell::new(false) };
    static BATCH_STATE: Cell<u64> = const { Cell::new(0) };
}

/// On the SQLite writer thread, a number for the state the open batch's writes have built so
/// far; `None` on any other thread. It changes when a batch begins and when a write of the batch
/// fails (its savepoint rolled back): what a write derived from the rows it wrote is good for
/// the writes after it while the number stays the same, as they see those rows uncommitted on
/// the same connection, and for nothing once it changed (the batch may not commit).
pub fn batch_state() -> Option<u64> {
    ON_WRITER
        .with(Cell::get)
        .then(|| BATCH_STATE.with(Cell::get))
}

fn next_batch_state() {
    BATCH_STATE.with(|state| state.set(state.get().wrapping_add(1)));
}

pub(super) struct SqliteWriter {
    jobs: Option<crossbeam_channel::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl SqliteWriter {
    /// Starts the writer thread; it records each batch's size in `batch_sizes`.
    pub(super) fn start(
        manager: DbManager,
        batch_sizes: prometheus::Histogram,
    ) -> Result<Self, StoreError> {
        let conn = open_writer(&manager)?;
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(manager, conn, queue, batch_sizes))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Writes waiting in the queue now.
    pub(super) fn queued(&self) -> usize {
        self.jobs.as_ref().map_or(0, crossbeam_channel::Sender::len)
    }

    pub(super) async fn submit<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: &mut DbConnection| {
            // Nested transaction = savepoint inside the batch's transaction.
            let outcome = conn.transaction(f);
            if outcome.is_err() {
                next_batch_state();
            }
            Box::new(move |commit_error: Option<&diesel::result::Error>| {
                let outcome = match (outcome, commit_error) {
                    (Ok(_), Some(e)) => Err(E::from(StoreError::Unavailable(format!(
                        "commit failed: {e}"
                    )))),
                    (outcome, _) => outcome,
                };
                // The caller may have gone away (client disconnected); the write still stands.
                let _ = reply.send(outcome);
            })
        });
        let sender = self.jobs.as_ref().ok_or(StoreError::WriterStopped)?;
        sender.send(job).map_err(|_| StoreError::WriterStopped)?;
        answer
            .await
            .map_err(|_| E::from(StoreError::WriterStopped))?
    }
}

impl Drop for SqliteWriter {
    /// Closing the queue lets the thread finish what was already queued, then stop.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer keeps each write's savepoint journal in memory. SQLite copies every page
/// a write changes into its savepoint's sub-journal first, so that the write alone can be undone;
/// by default the sub-journal moves to a temporary file once it passes 64 KiB, which most steps
/// of a consultation do. Then each page cost two `pwrite`s (its number, its 4 KiB), and every
/// batch created, unlinked and closed a file: in the consultation phase, 126,543 such writes in
/// 4.8 s, a fifth of the writer thread's time (`perf trace` on the thread). Nothing durable
/// moves: the sub-journal only ever undoes a write inside the batch's open transaction, and it
/// is emptied when the write ends. The writer's statements sort and group nothing large, the
/// other use of temporary storage.
const WRITER_TEMP_STORE: &str = "PRAGMA temp_store = MEMORY;";

/// The writer's page cache, in KiB (negative: a size, not a page count): 32 MiB instead of
/// SQLite's default 2 MB.
///
/// Why: every write goes through this one connection, and on a record day the database grows
/// past 4 GB; with 2 MB cached the writer read the same index pages (the day's tokens, codes,
/// sessions, messages) from the file again and again, and perf showed the kernel copying pages.
/// The readers keep the default: in WAL mode a reader's cache is emptied whenever another
/// connection has written since its last read, which under load is every time.
///
/// Known cost, kept: below 1 GiB, a commit after an insert split a page walks the whole cache
/// (SQLite swaps page numbers through the locking page's number, which then lies far beyond the
/// database's end), about 6% of the writer's time in the consultation phase. SQLite's default
/// size removed that but made the status polls after a burst of bookings cost about 15% more
/// CPU (`tests/BENCHMARKS.md`, ninth round).
const WRITER_PAGE_CACHE: &str = "PRAGMA cache_size = -32768;";

fn open_writer(manager: &DbManager) -> Result<DbConnection, StoreError> {
    use diesel::connection::SimpleConnection;
    let mut conn = manager.establish()?;
    conn.batch_execute(WRITER_TEMP_STORE)?;
    conn.batch_execute(WRITER_PAGE_CACHE)?;
    Ok(conn)
}

fn run(
    manager: DbManager,
    mut conn: DbConnection,
    queue: crossbeam_channel::Receiver<Job>,
    batch_sizes: prometheus::Histogram,
) {
    ON_WRITER.with(|on| on.set(true));
    while let Ok(first) = queue.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch_sizes.observe(batch.len() as f64);
        let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
        let committed = catch_unwind(AssertUnwindSafe(|| {
            conn.transaction::<(), diesel::result::Error, _>(|conn| {
                next_batch_state();
                take_write_lock(conn)?;
                for job in batch {
                    completions.push(job(conn));
                }
                Ok(())
            })
        }));
        match committed {
            Ok(result) => {
                let commit_error = result.err();
                for complete in completions {
                    complete(commit_error.as_ref());
                }
            }
            Err(_) => {
                // A write panicked: nothing of this batch was committed. Dropping the
                // completions tells every waiting caller; a fresh connection replaces the one
                // whose transaction state is now unknown.
                tracing::error!("a database write panicked; the batch was rolled back");
                drop(completions);
                match open_writer(&manager) {
                    Ok(fresh) => conn = fresh,
                    Err(e) => {
                        tracing::error!(error = %e, "the SQLite writer cannot reopen; stopping");
                        return;
                    }
                }
            }
        }
    }
}

/// Takes SQLite's write lock at the start of the batch (as `BEGIN IMMEDIATE` would). Otherwise
/// a batch that reads first and another process's writer could each hold a read lock and
/// wait for the other's, and SQLite would fail one with "database is locked" at once instead of
/// waiting out the busy timeout. A write statement that changes nothing is enough.
fn take_write_lock(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("DELETE FROM idempotency_keys WHERE 1 = 0")
}
