//! Latency and error counts per operation, kept per worker and merged at the end of a phase.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Default, Clone)]
pub struct OpStats {
    /// Latencies of successful requests, in microseconds.
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    /// The first few error descriptions, to say what went wrong.
    pub samples: Vec<String>,
}

impl OpStats {
    pub fn ok(&self) -> u64 {
        self.latencies_us.len() as u64
    }

    /// The latency at quantile `q` (0..=1), in milliseconds; the list must be sorted.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

/// One worker's (or a whole phase's) figures by operation name.
#[derive(Default, Clone)]
pub struct Stats {
    pub ops: BTreeMap<&'static str, OpStats>,
}

impl Stats {
    /// Runs one request and records its latency, or the error when `check` refuses the answer.
    pub async fn time<T, E: std::fmt::Display>(
        &mut self,
        op: &'static str,
        request: impl std::future::Future<Output = Result<T, E>>,
    ) -> Option<T> {
        let started = Instant::now();
        let outcome = request.await;
        let elapsed = started.elapsed();
        match outcome {
            Ok(value) => {
                self.record_ok(op, elapsed);
                Some(value)
            }
            Err(error) => {
                self.record_error(op, error.to_string());
                None
            }
        }
    }

    pub fn record_ok(&mut self, op: &'static str, elapsed: Duration) {
        let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
        self.ops.entry(op).or_default().latencies_us.push(micros);
    }

    pub fn record_error(&mut self, op: &'static str, error: String) {
        let entry = self.ops.entry(op).or_default();
        entry.errors += 1;
        if entry.samples.len() < 3 {
            entry.samples.push(error);
        }
    }

    /// Failed requests of every operation.
    pub fn errors(&self) -> u64 {
        self.ops.values().map(|s| s.errors).sum()
    }

    pub fn merge(&mut self, other: Stats) {
        for (op, stats) in other.ops {
            let entry = self.ops.entry(op).or_default();
            entry.latencies_us.extend(stats.latencies_us);
            entry.errors += stats.errors;
            for sample in stats.samples {
                if entry.samples.len() < 3 {
                    entry.samples.push(sample);
                }
            }
        }
        for stats in self.ops.values_mut() {
            stats.latencies_us.sort_unstable();
        }
    }
}

/// A finished phase: its wall time and merged figures.
pub struct Phase {
    pub name: String,
    pub elapsed: Duration,
    pub stats: Stats,
}

impl Phase {
    pub fn op(&self, op: &str) -> Option<&OpStats> {
        self.stats.ops.get(op)
    }

    /// Successful requests of `op` per second of this phase's wall time.
    pub fn rate(&self, op: &str) -> f64 {
        self.op(op)
            .map(|s| s.ok() as f64 / self.elapsed.as_secs_f64().max(1e-9))
            .unwrap_or(0.0)
    }

    pub fn errors(&self) -> u64 {
        self.stats.errors()
    }

    /// Every operation of the phase, one line each.
    pub fn print(&self, ceiling: f64) {
        println!(
            "  phase {:<22} {:>8.2} s   {:>7} errors",
            self.name,
            self.elapsed.as_secs_f64(),
            self.errors()
        );
        for (op, stats) in &self.stats.ops {
            let rate = self.rate(op);
            println!(
                "    {:<20} {:>9} ok {:>10.0}/s  ({:>5.3} of hello)  p50 {:>7.2} ms  p99 {:>7.2} ms  {:>6} errors",
                op,
                stats.ok(),
                rate,
                rate / ceiling.max(1e-9),
                stats.quantile_ms(0.5),
                stats.quantile_ms(0.99),
                stats.errors
            );
            for sample in &stats.samples {
                let short: String = sample.chars().take(200).collect();
                println!("      error: {short}");
            }
        }
    }
}
