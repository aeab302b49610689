//! `hvsock stats`: the host's live connection counters (every hvsock process's file in
//! `<runtime>/stats/`), added up by service ElementName and VM name: a table, `--json`,
//! `--prometheus`, `--watch` with rates per second.

mod render;
mod serve;

use crate::config::Config;
use clap::{Args, Subcommand};
use hvsock::partitions::PartitionTable;
use hvsock::registry::Registry;
use hvsock::stats::{Counters, read_host, slot_labels};
use hvsock::{ServiceId, VmId};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The host's live connection counters, by service and VM, over every hvsock process
/// (each publishes its own in the runtime dir; those of processes that are gone are
/// ignored).
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StatsArgs {
    #[command(subcommand)]
    pub cmd: Option<StatsCmd>,
    /// Print JSON: {"processes", "skipped": [{"file", "error"}], "rows": [{"service",
    /// "service_id", "vm", "vm_id", "accepted", "connected", "open", "bytes_in",
    /// "bytes_out", "refused": {REASON: N}}]}
    #[arg(long, conflicts_with = "prometheus")]
    pub json: bool,
    /// Print the Prometheus text exposition (hvsock_connections_total,
    /// hvsock_connections_open, hvsock_bytes_total, hvsock_processes)
    #[arg(long)]
    pub prometheus: bool,
    /// Only this service (ElementName or GUID)
    #[arg(long, value_name = "NAME|GUID")]
    pub service: Option<String>,
    /// Only this VM (name from the partition table, a wildcard name or GUID)
    #[arg(long, value_name = "NAME|GUID")]
    pub vm: Option<String>,
    /// Refresh every SECONDS (default 2) like top, with rates per second
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "2",
          conflicts_with_all = ["json", "prometheus"])]
    pub watch: Option<f64>,
}

/// What `hvsock stats` does besides printing.
#[derive(Subcommand, Debug)]
pub enum StatsCmd {
    /// Serve the Prometheus exposition over HTTP at /metrics, for scraping (see
    /// dist/prometheus/)
    Serve {
        /// Address to listen on (loopback by default: the metrics name the host's
        /// services and VMs)
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9746")]
        listen: String,
    },
}

/// One (service, VM) pair added up over the host's processes.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub service_id: ServiceId,
    pub service: String,
    pub vm_id: VmId,
    pub vm: String,
    pub counters: Counters,
}

/// What one look at the host found.
#[derive(Debug)]
pub(crate) struct Look {
    pub processes: usize,
    pub skipped: Vec<(String, String)>,
    pub rows: Vec<Row>,
}

pub fn run(config: &Config, args: StatsArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if let Some(StatsCmd::Serve { listen }) = &args.cmd {
        serve::serve(config, listen)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(secs) = args.watch {
        if !(secs.is_finite() && secs > 0.0) {
            return Err("--watch takes a positive number of seconds".into());
        }
        return watch(config, &args, Duration::from_secs_f64(secs));
    }
    let look = look(config, &args);
    for (file, e) in &look.skipped {
        eprintln!("hvsock: warning: skipped {file}: {e}");
    }
    let out = if args.json {
        render::json(&look)
    } else if args.prometheus {
        render::prometheus(&look)
    } else {
        render::table(&look, None)
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn watch(
    config: &Config,
    args: &StatsArgs,
    every: Duration,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut last: Option<(Instant, Look)> = None;
    loop {
        let now = Instant::now();
        let look = look(config, args);
        let rates = last
            .as_ref()
            .map(|(t, prev)| render::rates(prev, &look, now.duration_since(*t)));
        // Clear the screen and go home, as `top` does.
        print!("\x1b[H\x1b[2J{}", render::table(&look, rates.as_ref()));
        for (file, e) in &look.skipped {
            println!("warning: skipped {file}: {e}");
        }
        use std::io::Write;
        std::io::stdout().flush()?;
        last = Some((now, look));
        std::thread::sleep(every);
    }
}

/// Whether `text` names this row's service (or VM): its name, or its GUID in any case.
fn names(text: &str, name: &str, guid: String) -> bool {
    text.eq_ignore_ascii_case(name) || text.trim_matches(['{', '}']).eq_ignore_ascii_case(&guid)
}

pub(crate) fn look(config: &Config, args: &StatsArgs) -> Look {
    let host = read_host(&config.dirs.runtime);
    let reg = Registry::load(&config.dirs).ok();
    let table = PartitionTable::load(&config.dirs).ok();
    let mut sums: BTreeMap<(ServiceId, VmId), Counters> = BTreeMap::new();
    for p in &host.processes {
        for s in &p.slots {
            sums.entry((s.service, s.vm)).or_default().add(&s.counters);
        }
    }
    let mut rows: Vec<Row> = sums
        .into_iter()
        .map(|((sid, vid), counters)| {
            let (service, vm) = slot_labels(reg.as_ref(), table.as_ref(), sid, vid);
            Row {
                service_id: sid,
                service,
                vm_id: vid,
                vm,
                counters,
            }
        })
        .filter(|r| {
            args.service
                .as_deref()
                .is_none_or(|t| names(t, &r.service, r.service_id.to_string()))
                && args
                    .vm
                    .as_deref()
                    .is_none_or(|t| names(t, &r.vm, r.vm_id.to_string()))
        })
        .collect();
    rows.sort_by(|a, b| (&a.service, &a.vm).cmp(&(&b.service, &b.vm)));
    Look {
        processes: host.processes.len(),
        skipped: host
            .skipped
            .into_iter()
            .map(|(p, e)| (p.display().to_string(), e))
            .collect(),
        rows,
    }
}
