//! Instruction counts per request (`--instructions`): the release server runs under valgrind's
//! callgrind over a fixed small workload, and each phase's instructions are cut out with
//! `callgrind_control` (zero before the phase, dump after it), then divided by the phase's
//! successful requests. Unlike a rate, an instruction count does not move with the machine's
//! load, so two runs agree within a few percent and the demo and national worlds can be set
//! side by side: no request may cost more because the country has more facilities or doctors.
//!
//! What is not the phase's own is kept out: the server starts and the load's staff and OPDs
//! are made by a plain (not instrumented) server on the same database first; the instrumented
//! one is left to settle before the first phase; and the background (the queue sweep every
//! second, the notification worker's polling) is measured over an idle interval as long as the
//! phase, right after it, and subtracted. A phase lasts until the server has gone quiet, so the
//! work it queued (the messages the notification worker sends) is counted in it.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sanjeevani_tests::{Backend, TestDatabase};
use sanjeevani_types::prescription::PharmacyView;
use sanjeevani_types::queue::{PresenceUpdate, Token};

use crate::assisted::{self, Registered, WalkIn};
use crate::scenario::{self, Booked, Booking, Worker, World};
use crate::server::{self, OtpInbox, Running};
use crate::stats::Phase;
use crate::{backend_name, national, WorldSize};

/// The fixed workload, the same in every run and in both worlds. Small, because under
/// callgrind the server runs about 50 times slower.
const CONNECTIONS: usize = 4;
const PATIENTS: usize = 50;
/// Each patient books this many OPDs (100 bookings).
const BOOKINGS_PER_PATIENT: usize = 2;
/// Queue-status polls, a fixed number instead of a timed phase (each token twice).
const POLLS: usize = 200;
/// Doctors, each with an OPD of their own. Enough that each step of a consultation is a phase
/// of 10 requests: the background (a sweep a second) cannot be subtracted to better than about
/// one sweep a phase, which must stay small beside the phase's requests.
const DOCTORS: usize = 10;
/// Rounds of consultations: each doctor sees one patient a round (20 consultations).
const ROUNDS: usize = 2;
const PHARMACISTS: usize = 2;
const CHOS: usize = 2;
const WALK_INS: usize = 40;
/// Medicines on each prescription: fixed, so prescribing and dispensing cost the same in every
/// run whatever token numbers the doctors happened to call.
const MEDICINES: usize = 2;

/// One measured phase.
struct Measured {
    operation: &'static str,
    requests: u64,
    errors: u64,
    phase_dump: String,
    idle_dump: String,
}

/// The instrumented server and what has been measured on it.
struct Meter {
    pid: u32,
    api: Running,
    measured: Vec<Measured>,
}

impl Meter {
    async fn control(&self, what: &str) {
        let status = tokio::process::Command::new("callgrind_control")
            .arg(what)
            .arg(self.pid.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await
            .expect("callgrind_control runs (valgrind installed?)");
        assert!(status.success(), "callgrind_control {what} failed");
    }

    /// Waits until the server has used less than a fifth of a core over a whole second: what
    /// a request queued (messages to send, a cache to fill) is done, only the background runs.
    async fn quiet(&self) {
        let deadline = Instant::now() + Duration::from_secs(300);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut before = self.api.cpu_seconds();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.api.cpu_seconds();
            if now - before < 0.2 || Instant::now() > deadline {
                return;
            }
            before = now;
        }
    }

    /// Runs one phase between a zeroing and a dump, then measures an idle interval as long.
    /// `operation` names the table's row, `op` the load's name for the request counted.
    async fn measure<T>(
        &mut self,
        operation: &'static str,
        op: &'static str,
        work: impl Future<Output = (T, Phase)>,
    ) -> T {
        let n = self.measured.len();
        self.control("--zero").await;
        let started = Instant::now();
        let (value, phase) = work.await;
        self.quiet().await;
        let length = started.elapsed();
        let phase_dump = format!("phase{n:02}");
        self.control(&format!("--dump={phase_dump}")).await;
        tokio::time::sleep(length).await;
        let idle_dump = format!("idle{n:02}");
        self.control(&format!("--dump={idle_dump}")).await;
        let stats = phase.op(op);
        let requests = stats.map(|s| s.ok()).unwrap_or(0);
        let errors = phase.errors();
        println!(
            "  {operation:<44} {requests:>4} ok {errors:>3} errors  {:>6.1} s (+ as long idle)",
            length.as_secs_f64()
        );
        for stats in phase.stats.ops.values() {
            for sample in &stats.samples {
                println!(
                    "      error: {}",
                    sample.chars().take(200).collect::<String>()
                );
            }
        }
        self.measured.push(Measured {
            operation,
            requests,
            errors,
            phase_dump,
            idle_dump,
        });
        value
    }
}

/// Collects the results of a phase's jobs (in no particular order) beside its figures.
async fn gather<J, R, F, Fut>(
    name: &str,
    address: &str,
    connections: usize,
    jobs: Vec<J>,
    work: F,
) -> (Vec<R>, Phase)
where
    J: Clone + Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(Worker, J) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (Worker, Option<R>)> + Send + 'static,
{
    let results = Arc::new(Mutex::new(Vec::new()));
    let sink = results.clone();
    let work = Arc::new(work);
    let phase = scenario::run_phase(
        name,
        address,
        connections,
        scenario::each_of(jobs),
        move |w: Worker, job: J| {
            let work = work.clone();
            let sink = sink.clone();
            async move {
                let (w, result) = work(w, job).await;
                if let Some(result) = result {
                    sink.lock().expect("results").push(result);
                }
                w
            }
        },
    )
    .await;
    let results = std::mem::take(&mut *results.lock().expect("results"));
    (results, phase)
}

/// One world's instruction counts per operation.
pub struct Table {
    pub backend: Backend,
    /// Operation -> (successful requests, instructions per request).
    pub rows: Vec<(&'static str, u64, f64)>,
}

impl Table {
    fn per_request(&self, operation: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.0 == operation).map(|r| r.2)
    }
}

/// The totals of every dump callgrind wrote into `dir` and its file, by the name it was given.
fn dump_totals(dir: &Path) -> HashMap<String, (u64, PathBuf)> {
    let mut totals = HashMap::new();
    for entry in std::fs::read_dir(dir).expect("callgrind output directory") {
        let path = entry.expect("entry").path();
        let is_output = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("callgrind.out."));
        if !is_output {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut name = None;
        let mut total = None;
        for line in text.lines() {
            if let Some(trigger) = line.strip_prefix("desc: Trigger: dump ") {
                name = Some(trigger.trim().to_owned());
            } else if let Some(value) = line
                .strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
            {
                // Only the event `Ir` is collected: the line holds one number.
                total = value.split_whitespace().next().and_then(|v| v.parse().ok());
            }
        }
        if let (Some(name), Some(total)) = (name, total) {
            totals.insert(name, (total, path));
        }
    }
    totals
}

/// Thousands separated, for counts that run to millions.
fn grouped(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Measures one world on one backend and prints its table. With `keep`, callgrind's files are
/// written under it (one directory per backend and world) and kept, to annotate a phase.
pub async fn measure_world(
    server_bin: &PathBuf,
    backend: Backend,
    world_size: WorldSize,
    keep: Option<&Path>,
) -> Table {
    println!(
        "\n== instruction counts: {}, {} world ==",
        backend_name(backend),
        world_size.name()
    );
    let database = TestDatabase::create(backend);
    let inbox = Arc::new(OtpInbox::default());
    // A plain server migrates the database and seeds the demo (the national rows must come
    // after the demo's West Bengal), and makes the load's staff and OPDs: none of it is counted.
    let mut plain = server::start_api(server_bin, &database.url, inbox.clone()).await;
    if world_size == WorldSize::National {
        plain.stop();
        let seeded = national::seed(&database.url, backend).await;
        println!("  {}", national::describe(&seeded));
        plain = server::start_api(server_bin, &database.url, inbox.clone()).await;
    }
    let mut world = scenario::build_world(
        &plain.address,
        DOCTORS,
        200,
        200,
        DOCTORS,
        PHARMACISTS,
        CHOS,
    )
    .await;
    plain.stop();

    let temporary = tempfile::tempdir().expect("callgrind output directory");
    let dir = match keep {
        Some(root) => {
            let dir = root.join(format!(
                "{}-{}",
                backend_name(backend).to_lowercase(),
                world_size.name()
            ));
            // A directory of an earlier run would mix its dumps with these.
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("the directory for callgrind's files");
            dir
        }
        None => temporary.path().to_owned(),
    };
    let started = Instant::now();
    let api = server::start_api_under(server_bin, &database.url, inbox.clone(), Some(&dir)).await;
    println!(
        "  server under callgrind, pid {}, ready in {:.0} s",
        api.pid(),
        started.elapsed().as_secs_f64()
    );
    world.address = api.address.clone();
    let mut meter = Meter {
        pid: api.pid(),
        api,
        measured: Vec::new(),
    };
    meter.quiet().await;
    let booked = workload(&mut meter, &world, &inbox).await;
    let Meter { api, measured, .. } = meter;
    api.stop();
    let report = crate::invariants::check(&database.url, booked).await;
    crate::print_invariants(&report);

    let totals = dump_totals(&dir);
    let mut sums: BTreeMap<&'static str, (u64, i128, i128, u64)> = BTreeMap::new();
    let mut order = Vec::new();
    for m in &measured {
        let (phase, phase_file) = totals
            .get(&m.phase_dump)
            .unwrap_or_else(|| panic!("no callgrind dump {}", m.phase_dump));
        let (idle, _) = totals
            .get(&m.idle_dump)
            .unwrap_or_else(|| panic!("no callgrind dump {}", m.idle_dump));
        let (phase, idle) = (*phase, *idle);
        if keep.is_some() {
            println!("  {:<44} {}", m.operation, phase_file.display());
        }
        if !sums.contains_key(m.operation) {
            order.push(m.operation);
        }
        let entry = sums.entry(m.operation).or_default();
        entry.0 += m.requests;
        entry.1 += i128::from(phase);
        entry.2 += i128::from(idle);
        entry.3 += m.errors;
    }
    let mut rows = Vec::new();
    println!(
        "\ninstructions per request, {} world on {} (server under callgrind; idle background \
         subtracted)",
        world_size.name(),
        backend_name(backend)
    );
    println!("| operation | requests | instructions per request | background subtracted |");
    println!("| --- | ---: | ---: | ---: |");
    for operation in order {
        let (requests, phase, idle, errors) = sums[operation];
        let per = (phase - idle) as f64 / requests.max(1) as f64;
        let note = if errors > 0 {
            format!(" ({errors} errors)")
        } else {
            String::new()
        };
        println!(
            "| {operation} | {requests}{note} | {} | {:.1}% |",
            grouped(per),
            idle as f64 * 100.0 / phase.max(1) as f64
        );
        rows.push((operation, requests, per));
    }
    let mut table = Table { backend, rows };
    for (name, parts) in [
        (
            "per consultation (call+start+record+prescribe+complete)",
            &[CALL, START, RECORD, PRESCRIBE, COMPLETE][..],
        ),
        ("per dispensing (verify+dispense)", &[VERIFY, DISPENSE][..]),
    ] {
        let sum: Option<f64> = parts.iter().map(|p| table.per_request(p)).sum();
        if let Some(sum) = sum {
            println!("| {name} | | {} | |", grouped(sum));
            table.rows.push((name, 0, sum));
        }
    }
    table
}

const OTP_REQUEST: &str = "OTP request";
const OTP_VERIFY: &str = "OTP verify";
const REGISTER: &str = "patient registration";
const BOOK: &str = "booking (patient's app)";
const STATUS: &str = "queue status poll";
const WALK_IN: &str = "walk-in registration (CHO)";
const VITALS: &str = "vitals (CHO)";
const ASSISTED: &str = "booking (assisted, CHO)";
const ONLINE: &str = "doctor goes online";
const CALL: &str = "call next";
const START: &str = "start consultation";
const RECORD: &str = "record consultation";
const PRESCRIBE: &str = "prescribe (2 medicines)";
const COMPLETE: &str = "complete";
const VERIFY: &str = "pharmacy verify";
const DISPENSE: &str = "dispense";
const OVER: &str = "dispense beyond quantity (refused)";

/// The phases, in the order of a day. Returns the acknowledged bookings, for the invariants.
async fn workload(meter: &mut Meter, world: &World, inbox: &Arc<OtpInbox>) -> Vec<Booked> {
    let address = world.address.clone();
    let phones: Vec<String> = (0..PATIENTS).map(scenario::phone_of).collect();
    for phone in &phones {
        inbox.expect(phone);
    }
    meter
        .measure(OTP_REQUEST, "otp_request", async {
            let phase = scenario::request_otps(world, phones.clone(), CONNECTIONS).await;
            // The codes go out through the notification worker: part of the request's cost.
            let deadline = Instant::now() + Duration::from_secs(600);
            while inbox.arrived() < PATIENTS && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            ((), phase)
        })
        .await;
    let signed_in = meter
        .measure(
            OTP_VERIFY,
            "otp_verify",
            scenario::verify_otps(world, inbox, phones, CONNECTIONS),
        )
        .await;
    let patients = meter
        .measure(
            REGISTER,
            "register",
            scenario::register_patients(world, signed_in, CONNECTIONS),
        )
        .await;

    // Patient `p` books the OPDs `p` and `p + 1` (one per doctor), so each fills evenly.
    let bookings: Vec<Booking> = (0..BOOKINGS_PER_PATIENT)
        .flat_map(|round| {
            patients
                .iter()
                .enumerate()
                .map(move |(p, patient)| Booking {
                    session_id: world.session_of((p + round) % DOCTORS),
                    patient_id: patient.patient_id.clone(),
                    bearer: Arc::from(patient.bearer.as_str()),
                })
        })
        .collect();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    meter
        .measure(BOOK, "book", async {
            let phase =
                scenario::book_phase("book", "book", world, bookings, CONNECTIONS, &acknowledged)
                    .await;
            ((), phase)
        })
        .await;
    let booked: Vec<Booked> = acknowledged.lock().expect("booked").clone();
    let polls: Vec<Booked> = booked.iter().cycle().take(POLLS).cloned().collect();
    meter
        .measure(STATUS, "queue_status", async {
            let phase = scenario::run_phase(
                "queue status",
                &address,
                CONNECTIONS,
                scenario::each_of(polls),
                scenario::poll_status,
            )
            .await;
            ((), phase)
        })
        .await;

    // Walk-ins at the spokes: one connection per CHO, as each works at one desk.
    let walk_ins: Vec<WalkIn> = (0..WALK_INS)
        .map(|i| WalkIn {
            cho: world.chos[i % CHOS].clone(),
            index: i,
            session_id: world.session_of(i % DOCTORS),
        })
        .collect();
    let registered = meter
        .measure(
            WALK_IN,
            "walk_in_register",
            gather(
                "walk-in",
                &address,
                CHOS,
                walk_ins,
                |mut w, walk_in: WalkIn| async move {
                    let r = assisted::register(&mut w, &walk_in).await;
                    (w, r)
                },
            ),
        )
        .await;
    let with_vitals = meter
        .measure(
            VITALS,
            "vitals",
            gather(
                "vitals",
                &address,
                CHOS,
                registered,
                |mut w, mut registered: Registered| async move {
                    let r = assisted::record_vitals(&mut w, &mut registered)
                        .await
                        .map(|()| registered);
                    (w, r)
                },
            ),
        )
        .await;
    let keys = assisted::key_counter();
    let assisted_booked = meter
        .measure(
            ASSISTED,
            "assisted_book",
            gather(
                "assisted booking",
                &address,
                CHOS,
                with_vitals,
                move |mut w, registered: Registered| {
                    let keys = keys.clone();
                    async move {
                        let r = assisted::book(&mut w, &registered, &keys).await;
                        (w, r)
                    }
                },
            ),
        )
        .await;

    // Consultations in rounds: in each, every doctor (a connection each) takes one step at a
    // time, so each step is a phase of its own.
    let doctors: Vec<(Arc<str>, String, String)> = world
        .doctors
        .iter()
        .map(|d| {
            let opd = d.opds[0];
            (
                Arc::from(d.bearer.as_str()),
                world.opds[opd].id.clone(),
                world.session_of(opd),
            )
        })
        .collect();
    let mut codes = Vec::new();
    for _ in 0..ROUNDS {
        // Presence lapses without a heartbeat: the doctors say they are online each round.
        meter
            .measure(
                ONLINE,
                "go_online",
                gather(
                    "presence",
                    &address,
                    DOCTORS,
                    doctors.clone(),
                    |mut w, (bearer, opd_id, _): (Arc<str>, String, String)| async move {
                        let presence = PresenceUpdate {
                            opd_id,
                            online: true,
                        };
                        scenario::go_online(&mut w, &bearer, "/api/v1/doctor/presence", &presence)
                            .await;
                        (w, Some(()))
                    },
                ),
            )
            .await;
        let called: Vec<(Arc<str>, Token)> = meter
            .measure(
                CALL,
                "call_next",
                gather(
                    "call next",
                    &address,
                    DOCTORS,
                    doctors.clone(),
                    |mut w, (bearer, _, session): (Arc<str>, String, String)| async move {
                        let r = scenario::call_next(&mut w, &bearer, &session)
                            .await
                            .map(|t| (bearer, t));
                        (w, r)
                    },
                ),
            )
            .await;
        let started: Vec<(Arc<str>, Token)> = meter
            .measure(
                START,
                "start",
                gather(
                    "start",
                    &address,
                    DOCTORS,
                    called,
                    |mut w, (bearer, token): (Arc<str>, Token)| async move {
                        let r = scenario::start(&mut w, &bearer, &token)
                            .await
                            .map(|()| (bearer, token));
                        (w, r)
                    },
                ),
            )
            .await;
        let recorded = meter
            .measure(
                RECORD,
                "consultation",
                gather(
                    "record",
                    &address,
                    DOCTORS,
                    started,
                    |mut w, (bearer, token): (Arc<str>, Token)| async move {
                        let r = scenario::record(&mut w, &bearer, &token)
                            .await
                            .map(|c| (bearer, token, c));
                        (w, r)
                    },
                ),
            )
            .await;
        let prescribed: Vec<(Arc<str>, Token, String)> = meter
            .measure(
                PRESCRIBE,
                "prescribe",
                gather(
                    "prescribe",
                    &address,
                    DOCTORS,
                    recorded,
                    |mut w, (bearer, token, consultation)| async move {
                        let r = scenario::prescribe(&mut w, &bearer, &consultation, MEDICINES)
                            .await
                            .map(|p| (bearer, token, p.code));
                        (w, r)
                    },
                ),
            )
            .await;
        let done: Vec<String> = meter
            .measure(
                COMPLETE,
                "complete",
                gather(
                    "complete",
                    &address,
                    DOCTORS,
                    prescribed,
                    |mut w, (bearer, token, code): (Arc<str>, Token, String)| async move {
                        let r = scenario::complete(&mut w, &bearer, &token)
                            .await
                            .map(|()| code);
                        (w, r)
                    },
                ),
            )
            .await;
        codes.extend(done);
    }

    // The pharmacy: verify each code, dispense everything, then one tablet more (refused).
    let pharmacists: Vec<Arc<str>> = world
        .pharmacists
        .iter()
        .map(|p| Arc::from(p.as_str()))
        .collect();
    let jobs: Vec<(Arc<str>, String)> = codes
        .into_iter()
        .enumerate()
        .map(|(i, code)| (pharmacists[i % PHARMACISTS].clone(), code))
        .collect();
    let verified: Vec<(Arc<str>, String, PharmacyView)> = meter
        .measure(
            VERIFY,
            "pharmacy_verify",
            gather(
                "verify",
                &address,
                PHARMACISTS,
                jobs,
                |mut w, (bearer, code): (Arc<str>, String)| async move {
                    let r = scenario::verify(&mut w, &bearer, &code)
                        .await
                        .map(|v| (bearer, code, v));
                    (w, r)
                },
            ),
        )
        .await;
    let dispensed = meter
        .measure(
            DISPENSE,
            "dispense",
            gather(
                "dispense",
                &address,
                PHARMACISTS,
                verified,
                |mut w, (bearer, code, view): (Arc<str>, String, PharmacyView)| async move {
                    let r = scenario::dispense_all(&mut w, &bearer, &code, &view)
                        .await
                        .map(|()| (bearer, code, view));
                    (w, r)
                },
            ),
        )
        .await;
    meter
        .measure(
            OVER,
            "over_dispense_refused",
            gather(
                "over-dispense",
                &address,
                PHARMACISTS,
                dispensed,
                |mut w, (bearer, code, view): (Arc<str>, String, PharmacyView)| async move {
                    scenario::over_dispense(&mut w, &bearer, &code, &view).await;
                    (w, Some(()))
                },
            ),
        )
        .await;

    let mut all = booked;
    all.extend(assisted_booked);
    all
}

/// The demo and national tables side by side, with the national world's cost as a multiple of
/// the demo's: a request that grew is marked.
pub fn print_comparison(demo: &Table, national: &Table) {
    println!(
        "\ninstructions per request on {}, demo world vs national world ({} hubs, {} spokes, {} \
         OPDs, {} doctors)",
        backend_name(demo.backend),
        national::indian(national::HUBS),
        national::indian(national::SPOKES),
        national::indian(national::OPDS),
        national::indian(national::DOCTORS)
    );
    println!("| operation | demo world | national world | national / demo |");
    println!("| --- | ---: | ---: | ---: |");
    for (operation, _, per) in &demo.rows {
        let Some(other) = national.per_request(operation) else {
            continue;
        };
        let ratio = other / per.max(1.0);
        let mark = if ratio > 1.10 { " grew" } else { "" };
        println!(
            "| {operation} | {} | {} | {ratio:.2}{mark} |",
            grouped(*per),
            grouped(other)
        );
    }
}
