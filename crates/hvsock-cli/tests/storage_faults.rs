//! Storage faults of the service registry and the partition table, through the `hvsock`
//! binary: 50 concurrent writers on the partition table, writers killed with SIGKILL at
//! random moments, and a full disk (a tiny tmpfs). Every time, the file on disk parses,
//! holds only complete entries, and keeps everything committed before.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

mod common;

use hvsock::partitions::PartitionTable;
use hvsock::registry::Registry;
use std::collections::BTreeSet;
use std::ffi::CString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SERVICES: &str = "services.toml";
const PARTITIONS: &str = "partitions.toml";

use common::TempEnv as Env;

/// The loaded file, or a panic naming `what` and the error.
fn loaded<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what} unreadable: {e}"))
}

impl Env {
    fn new() -> Env {
        Env::in_tmp("hvs")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::hvsock(&self.cfg, &self.run, args);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args).spawn().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs, expects success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        hvsock_testkit::proc::assert_success(&out, format_args!("{args:?} failed"));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs, expects exit 1 with one `hvsock: ` line on stderr, returns it.
    fn fail(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("hvsock: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    }

    /// Service names in the registry, in file order; the file must load (parse and
    /// pass every registry rule).
    fn service_names(&self) -> Vec<String> {
        let registry = loaded(Registry::load_file(&self.cfg.join(SERVICES)), "registry");
        registry.services().iter().map(|s| s.name.clone()).collect()
    }

    /// Partition names in the table, in file order; the file must load.
    fn partition_names(&self) -> Vec<String> {
        let table = loaded(
            PartitionTable::load_file(&self.cfg.join(PARTITIONS)),
            "partition table",
        );
        table.partitions().iter().map(|p| p.name.clone()).collect()
    }

    fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.cfg)
            .unwrap()
            .map(|d| d.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }
}

#[test]
fn fifty_concurrent_partition_table_writers() {
    let e = Env::new();
    let children: Vec<Child> = (0..50)
        .map(|i| e.spawn(&["vm", "add", &format!("vm-{i}"), "--local"]))
        .collect();
    let printed = common::stdout_lines_of_successes(children);
    let table = PartitionTable::load_file(&e.cfg.join(PARTITIONS)).unwrap();
    assert_eq!(table.partitions().len(), 50);
    let ids: BTreeSet<String> = table
        .partitions()
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, printed, "every printed id is stored, once");
    let names: BTreeSet<String> = table.partitions().iter().map(|p| p.name.clone()).collect();
    let want: BTreeSet<String> = (0..50).map(|i| format!("vm-{i}")).collect();
    assert_eq!(names, want);
    assert_eq!(e.files(), [PARTITIONS, "partitions.toml.lock"]);
}

/// xorshift64*, seeded from the clock; the seed is printed so a failure can be replayed
/// by setting `HVSOCK_TEST_SEED`.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = hvsock_testkit::data::env_seed("HVSOCK_TEST_SEED")
            .unwrap_or_else(|| hvsock_testkit::data::clock_seed() | 1);
        println!("HVSOCK_TEST_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Checks one file after a round: `before` is still a prefix (nothing committed was
/// lost or reordered), what follows are names this round tried (complete entries only,
/// each once), and every writer that exited 0 is in it.
fn check_round(what: &str, before: &[String], now: &[String], tried: &[String], done: &[String]) {
    assert!(
        now.len() >= before.len() && now[..before.len()] == *before,
        "{what}: committed entries lost or changed\nbefore {before:?}\nnow {now:?}"
    );
    let added = &now[before.len()..];
    let unique: BTreeSet<&String> = added.iter().collect();
    assert_eq!(unique.len(), added.len(), "{what}: duplicate in {added:?}");
    for n in added {
        assert!(tried.contains(n), "{what}: {n:?} was never written");
    }
    for n in done {
        assert!(added.contains(n), "{what}: {n:?} exited 0 but is missing");
    }
}

#[test]
fn writers_killed_at_random_moments_never_break_the_files() {
    let e = Env::new();
    // Start with both files present, so every round rewrites an existing file.
    e.ok(&["service", "add", "base"]);
    e.ok(&["vm", "add", "base", "--local"]);
    let mut services = e.service_names();
    let mut partitions = e.partition_names();
    let mut rng = Rng::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    let (mut rounds, mut killed, mut exited, mut committed_by_killed) = (0, 0, 0, 0);
    let (mut temps_seen, mut max_temps) = (0usize, 0usize);
    for round in 0..200 {
        if Instant::now() > deadline {
            break;
        }
        rounds += 1;
        // Two writers of each file at once, so some are killed while waiting for the
        // lock, some while writing, some after finishing.
        let mut procs = Vec::new();
        for k in 0..2 {
            let s = format!("s{round}-{k}");
            procs.push((true, s.clone(), e.spawn(&["service", "add", &s])));
            let v = format!("v{round}-{k}");
            procs.push((false, v.clone(), e.spawn(&["vm", "add", &v, "--local"])));
        }
        std::thread::sleep(Duration::from_micros(rng.below(6000)));
        let (mut done_s, mut done_v, mut tried_s, mut tried_v) = (vec![], vec![], vec![], vec![]);
        let mut killed_names = vec![];
        for (is_service, name, mut child) in procs {
            // Kill at a random moment: some now, the rest a little later.
            if rng.below(2) == 0 {
                std::thread::sleep(Duration::from_micros(rng.below(1500)));
            }
            let _ = child.kill(); // SIGKILL; a no-op when it already exited
            let status = child.wait().unwrap();
            let (tried, done) = if is_service {
                (&mut tried_s, &mut done_s)
            } else {
                (&mut tried_v, &mut done_v)
            };
            tried.push(name.clone());
            if status.success() {
                exited += 1;
                done.push(name);
            } else {
                use std::os::unix::process::ExitStatusExt;
                assert_eq!(status.signal(), Some(9), "{name}: {status:?}");
                killed += 1;
                killed_names.push(name);
            }
        }
        let now_s = e.service_names();
        let now_v = e.partition_names();
        check_round("services.toml", &services, &now_s, &tried_s, &done_s);
        check_round("partitions.toml", &partitions, &now_v, &tried_v, &done_v);
        committed_by_killed += killed_names
            .iter()
            .filter(|n| now_s.contains(n) || now_v.contains(n))
            .count();
        services = now_s;
        partitions = now_v;
        // Nothing but the data files, their lock files, and hidden temp files that no
        // reader opens.
        let mut temps = 0;
        for f in e.files() {
            match f.as_str() {
                SERVICES | PARTITIONS | "services.toml.lock" | "partitions.toml.lock" => {}
                t if t.starts_with(".services.toml.tmp.")
                    || t.starts_with(".partitions.toml.tmp.") =>
                {
                    temps += 1
                }
                other => panic!("unexpected file {other:?} in the config dir"),
            }
        }
        temps_seen += temps;
        max_temps = max_temps.max(temps);
    }
    println!(
        "{rounds} rounds: {killed} writers killed ({committed_by_killed} of them after their \
         commit), {exited} finished; temp files seen after rounds: {temps_seen} in all, at most \
         {max_temps} at once"
    );
    assert!(rounds >= 20, "only {rounds} rounds in the time");
    assert!(killed > 0, "no writer was ever killed");
    // Leftover temp files of killed writers are removed by the next writer of that file.
    e.ok(&["service", "add", "after"]);
    e.ok(&["vm", "add", "after", "--local"]);
    assert_eq!(
        e.files(),
        [
            PARTITIONS,
            "partitions.toml.lock",
            SERVICES,
            "services.toml.lock"
        ]
    );
    assert_eq!(e.service_names().last().unwrap(), "after");
    assert_eq!(e.partition_names().last().unwrap(), "after");
}

/// A tmpfs mounted for the test; unmounted on drop, also when the test panics.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `dir`; `Ok(None)` when not permitted here.
    fn mount(dir: &Path, size: &str) -> std::io::Result<Option<Tmpfs>> {
        use rustix::mount::{MountFlags, mount};
        let opts = CString::new(format!("size={size},mode=0755")).unwrap();
        match mount("tmpfs", dir, "tmpfs", MountFlags::empty(), opts.as_c_str()) {
            Ok(()) => Ok(Some(Tmpfs(dir.to_owned()))),
            Err(rustix::io::Errno::PERM | rustix::io::Errno::ACCESS) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // MNT_DETACH: files a failed assertion left open do not keep the mount alive.
        let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
    }
}

#[test]
fn disk_full_fails_cleanly_and_keeps_the_previous_files() {
    let e = Env::new();
    std::fs::create_dir(&e.cfg).unwrap();
    let Some(_mount) = Tmpfs::mount(&e.cfg, "64k").unwrap() else {
        println!("skipped: mounting a tmpfs is not permitted here (needs root / CAP_SYS_ADMIN)");
        return;
    };
    e.ok(&["service", "add", "one"]);
    e.ok(&["service", "add", "two"]);
    e.ok(&["vm", "add", "p1", "--local"]);
    let services = std::fs::read(e.cfg.join(SERVICES)).unwrap();
    let partitions = std::fs::read(e.cfg.join(PARTITIONS)).unwrap();

    // Fill the file system to the last page.
    let filler = e.cfg.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = [0x5au8; 4096];
    let full = loop {
        if let Err(err) = f.write_all(&chunk) {
            break err;
        }
    };
    assert_eq!(full.raw_os_error(), Some(libc::ENOSPC), "{full}");
    drop(f);

    for (args, file) in [
        (&["service", "add", "three"][..], SERVICES),
        (&["service", "disable", "one"], SERVICES),
        (&["service", "remove", "two"], SERVICES),
        (&["vm", "add", "p2", "--local"], PARTITIONS),
        (&["vm", "remove", "p1"], PARTITIONS),
    ] {
        let err = e.fail(args);
        let path = e.cfg.join(file);
        assert!(
            err.contains(&*path.to_string_lossy()),
            "{args:?}: the error names {}: {err}",
            path.display()
        );
        assert!(
            err.contains("No space left on device"),
            "{args:?}: the error says why: {err}"
        );
        // Both files intact and readable, byte for byte.
        assert_eq!(std::fs::read(e.cfg.join(SERVICES)).unwrap(), services);
        assert_eq!(std::fs::read(e.cfg.join(PARTITIONS)).unwrap(), partitions);
        assert_eq!(e.service_names(), ["one", "two"]);
        assert_eq!(e.partition_names(), ["p1"]);
        // No temp file left to eat the space a retry needs.
        assert_eq!(
            e.files(),
            [
                "filler",
                PARTITIONS,
                "partitions.toml.lock",
                SERVICES,
                "services.toml.lock"
            ],
            "{args:?}"
        );
    }
    // Reading needs no space.
    let list = e.ok(&["service", "list"]);
    assert!(list.contains("one") && list.contains("two"), "{list}");

    // Space again: the same commands work.
    std::fs::remove_file(&filler).unwrap();
    e.ok(&["service", "add", "three"]);
    e.ok(&["vm", "add", "p2", "--local"]);
    assert_eq!(e.service_names(), ["one", "two", "three"]);
    assert_eq!(e.partition_names(), ["p1", "p2"]);
}
