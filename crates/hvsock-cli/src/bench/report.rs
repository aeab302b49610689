//! Summing up a run: the JSON report, the baseline ratio and the text output.

use super::net::Dialer;
use super::wire::{Direction, Mode};
use super::workload::{Raw, run_round};
use super::{WorkArgs, start_baseline};
use serde::Serialize;
use std::process::ExitCode;

/// The JSON (and text) result of one run.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Report {
    pub(super) target: String,
    pub(super) mode: Mode,
    pub(super) direction: Direction,
    pub(super) msg_size: u32,
    pub(super) parallel: u32,
    pub(super) rounds: u32,
    pub(super) elapsed_s: f64,
    pub(super) bytes_sent: u64,
    pub(super) bytes_received: u64,
    pub(super) mb_per_s: f64,
    pub(super) ops: u64,
    pub(super) ops_per_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) latency_us: Option<Latency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) verified_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) checksum_errors: Option<u64>,
    pub(super) cpu_s: f64,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Latency {
    pub(super) p50: f64,
    pub(super) p99: f64,
    pub(super) max: f64,
    pub(super) mean: f64,
}

impl Latency {
    pub(super) fn of(mut ns: Vec<u32>) -> Option<Latency> {
        if ns.is_empty() {
            return None;
        }
        ns.sort_unstable();
        let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize] as f64 / 1e3;
        let mean = ns.iter().map(|&v| v as f64).sum::<f64>() / ns.len() as f64 / 1e3;
        Some(Latency {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
            mean,
        })
    }
}

/// The whole output: the run, and the baseline with the ratio.
#[derive(Serialize)]
pub(super) struct Output {
    #[serde(flatten)]
    pub(super) run: Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) baseline: Option<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ratio_of: Option<&'static str>,
}

/// Runs the workload, and the baseline when asked; prints the result.
pub(super) fn measure(
    dialer: &Dialer,
    w: &WorkArgs,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let baseline = start_baseline(w)?;
    let base = baseline.as_ref().map(|b| &b.dialer);
    // Rounds alternate between hvsock and the baseline, so that a load that comes and
    // goes on the machine weighs on both alike.
    let (mut raw, mut raw_base) = (Raw::default(), Raw::default());
    let round = w.round();
    for i in 0..w.rounds() {
        // Who goes first alternates too, so that neither always runs on a warm cache.
        let hv_first = i % 2 == 0;
        if let (Some(b), false) = (base, hv_first) {
            run_round(b, &round, &mut raw_base).map_err(|e| format!("baseline: {e}"))?;
        }
        run_round(dialer, &round, &mut raw).map_err(|e| format!("{}: {e}", dialer.describe()))?;
        if let (Some(b), true) = (base, hv_first) {
            run_round(b, &round, &mut raw_base).map_err(|e| format!("baseline: {e}"))?;
        }
    }
    let mut out = Output {
        run: raw.report(dialer, w),
        baseline: None,
        ratio: None,
        ratio_of: None,
    };
    if let Some(base) = base {
        let b = raw_base.report(base, w);
        let (of, x, y) = match w.mode {
            Mode::Throughput | Mode::Stress => ("mb_per_s", out.run.mb_per_s, b.mb_per_s),
            Mode::Latency => (
                "latency_p50_us",
                out.run.latency_us.map_or(0.0, |l| l.p50),
                b.latency_us.map_or(0.0, |l| l.p50),
            ),
            Mode::Connect => ("ops_per_s", out.run.ops_per_s, b.ops_per_s),
        };
        out.ratio = Some(if y > 0.0 { x / y } else { 0.0 });
        out.ratio_of = Some(of);
        out.baseline = Some(b);
    }
    if w.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_text(&out);
    }
    if out.run.checksum_errors.unwrap_or(0) > 0 {
        return Err(format!(
            "{}: {} connections echoed data that did not match",
            out.run.target,
            out.run.checksum_errors.unwrap_or(0)
        )
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn print_text(o: &Output) {
    let line = |label: &str, r: &Report| {
        let mut s = format!(
            "{label:<9} {:9.1} MB/s  {:10.0} ops/s",
            r.mb_per_s, r.ops_per_s
        );
        if let Some(l) = r.latency_us {
            s += &format!(
                "  latency p50 {:.1} us  p99 {:.1} us  max {:.1} us",
                l.p50, l.p99, l.max
            );
        }
        if let Some(v) = r.verified_bytes {
            s += &format!(
                "  verified {v} bytes, {} mismatches",
                r.checksum_errors.unwrap_or(0)
            );
        }
        s += &format!("  ({:.2} s, {:.2} CPU s)", r.elapsed_s, r.cpu_s);
        println!("{s}");
    };
    let r = &o.run;
    println!(
        "{:?} to {} ({} B messages, {} stream{}{})",
        r.mode,
        r.target,
        r.msg_size,
        r.parallel,
        if r.parallel == 1 { "" } else { "s" },
        if r.mode == Mode::Throughput {
            format!(", {:?}", r.direction).to_lowercase()
        } else {
            String::new()
        }
    );
    line("hvsock", r);
    if let (Some(b), Some(x), Some(of)) = (&o.baseline, o.ratio, o.ratio_of) {
        line("baseline", b);
        println!("ratio hvsock/baseline ({of}): {x:.3}");
    }
}
