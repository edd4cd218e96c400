//! A developer's profile of SQLite statements: per statement text, how often it ran, its time,
//! and SQLite's own step counters, written to a file while the server runs.
//!
//! Turned on by `SANJEEVANI_SQLITE_STATEMENT_PROFILE=<file>` (never in production: it takes a
//! lock on every statement). It answers the question a CPU profile cannot: *which statement*
//! costs more as the day's rows grow. SQLite's virtual-machine steps per run
//! (`SQLITE_STMTSTATUS_VM_STEP`) do not move with machine noise, so a statement whose steps per
//! run rise from one wave of the load generator to the next reads rows in proportion to the
//! table, and `SQLITE_STMTSTATUS_FULLSCAN_STEP` says when that is a full scan.
//!
//! Only the statement's text with its `?` placeholders is recorded, never a bound value, so the
//! file holds no health detail and no secret.

use std::collections::HashMap;
use std::ffi::{c_int, c_uint, c_void, CStr};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use libsqlite3_sys::{sqlite3, sqlite3_stmt};

/// The environment variable naming the profile's file.
pub const PROFILE_FILE_VARIABLE: &str = "SANJEEVANI_SQLITE_STATEMENT_PROFILE";

/// How often the file is rewritten with the totals so far.
const WRITE_EVERY: Duration = Duration::from_secs(5);

#[derive(Default, Clone, Copy)]
struct Tally {
    runs: u64,
    nanoseconds: u64,
    vm_steps: u64,
    full_scan_steps: u64,
}

type Tallies = Mutex<HashMap<String, Tally>>;

fn tallies() -> &'static Tallies {
    static TALLIES: OnceLock<Tallies> = OnceLock::new();
    TALLIES.get_or_init(Tallies::default)
}

/// The profile's file, when profiling is asked for; starts the thread that writes it.
fn profile_file() -> Option<&'static PathBuf> {
    static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = PathBuf::from(std::env::var_os(PROFILE_FILE_VARIABLE)?);
        let target = path.clone();
        std::thread::Builder::new()
            .name("statement-profile".into())
            .spawn(move || loop {
                std::thread::sleep(WRITE_EVERY);
                if let Err(error) = std::fs::write(&target, render()) {
                    tracing::warn!(%error, "cannot write the statement profile");
                }
            })
            .ok()?;
        tracing::warn!(file = %path.display(), "SQLite statement profiling is on (a developer's tool: it slows every statement)");
        Some(path)
    })
    .as_ref()
}

/// Called for every SQLite connection as it opens: profiles its statements if asked.
///
/// # Safety
/// `db` must be a connection SQLite is opening (the auto-extension's argument).
pub(super) unsafe fn attach(db: *mut sqlite3) {
    if profile_file().is_none() {
        return;
    }
    // SAFETY: `db` is valid (the caller's contract); the callback is a static function and
    // takes no context pointer.
    unsafe {
        libsqlite3_sys::sqlite3_trace_v2(
            db,
            libsqlite3_sys::SQLITE_TRACE_PROFILE as c_uint,
            Some(on_statement_done),
            std::ptr::null_mut(),
        );
    }
}

/// SQLite's profile callback: `statement` has finished a run that took `*nanoseconds`.
unsafe extern "C" fn on_statement_done(
    _kind: c_uint,
    _context: *mut c_void,
    statement: *mut c_void,
    nanoseconds: *mut c_void,
) -> c_int {
    let statement = statement as *mut sqlite3_stmt;
    // SAFETY: for SQLITE_TRACE_PROFILE, SQLite passes the statement (valid during the call)
    // and a pointer to an i64 of nanoseconds; `sqlite3_sql` returns its UTF-8 text or null.
    let (text, elapsed, vm_steps, full_scan_steps) = unsafe {
        let text = libsqlite3_sys::sqlite3_sql(statement);
        if text.is_null() {
            return 0;
        }
        (
            CStr::from_ptr(text).to_string_lossy().into_owned(),
            *(nanoseconds as *const i64),
            // Reset after reading, so each run counts only its own steps.
            libsqlite3_sys::sqlite3_stmt_status(
                statement,
                libsqlite3_sys::SQLITE_STMTSTATUS_VM_STEP,
                1,
            ),
            libsqlite3_sys::sqlite3_stmt_status(
                statement,
                libsqlite3_sys::SQLITE_STMTSTATUS_FULLSCAN_STEP,
                1,
            ),
        )
    };
    if let Ok(mut tallies) = tallies().lock() {
        let tally = tallies.entry(text).or_default();
        tally.runs += 1;
        tally.nanoseconds += elapsed.max(0) as u64;
        tally.vm_steps += vm_steps.max(0) as u64;
        tally.full_scan_steps += full_scan_steps.max(0) as u64;
    }
    0
}

/// The totals so far as a tab-separated table, the costliest statements (by time) first.
fn render() -> String {
    let mut rows: Vec<(String, Tally)> = match tallies().lock() {
        Ok(tallies) => tallies.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        Err(_) => Vec::new(),
    };
    rows.sort_by_key(|row| std::cmp::Reverse(row.1.nanoseconds));
    let mut out =
        String::from("runs\ttotal_ms\tus_per_run\tvm_steps_per_run\tfull_scan_steps\tstatement\n");
    for (text, tally) in rows {
        let runs = tally.runs.max(1);
        let _ = writeln!(
            out,
            "{}\t{:.1}\t{:.1}\t{:.1}\t{}\t{}",
            tally.runs,
            tally.nanoseconds as f64 / 1e6,
            tally.nanoseconds as f64 / 1e3 / runs as f64,
            tally.vm_steps as f64 / runs as f64,
            tally.full_scan_steps,
            text.split_whitespace().collect::<Vec<_>>().join(" "),
        );
    }
    out
}
