use super::layout::*;
use super::*;
use crate::guid::Guid;
use proptest::prelude::*;

fn sample() -> ProcessStats {
    let mut c = Counters {
        accepted: 3,
        connected: 4,
        open: 1,
        bytes_in: 1 << 40,
        bytes_out: 7,
        ..Counters::default()
    };
    c.refused[Reason::Disabled.index()] = 2;
    ProcessStats {
        pid: 42,
        start_time: 99,
        overflowed: 5,
        slots: vec![SlotStats {
            service: ServiceId::from_vsock_port(5000),
            vm: VmId(Guid::from_u128(0x1234)),
            counters: c,
        }],
    }
}

#[test]
fn a_file_reads_back_as_written() {
    let s = sample();
    assert_eq!(parse(&encode(&s)).unwrap(), s);
}

#[test]
fn truncated_files_bad_magic_and_versions_are_errors() {
    let b = encode(&sample());
    assert!(matches!(
        parse(&b[..b.len() - 1]),
        Err(StatsFileError::Truncated { .. })
    ));
    assert!(matches!(
        parse(&b[..10]),
        Err(StatsFileError::Truncated { .. })
    ));
    let mut m = b.clone();
    m[0] ^= 1;
    assert_eq!(parse(&m), Err(StatsFileError::BadMagic));
    let mut v = b.clone();
    v[8] = 9;
    assert_eq!(parse(&v), Err(StatsFileError::Version(9)));
    let mut slot = b.clone();
    slot[HEADER_WORDS * 8] = 7;
    assert_eq!(
        parse(&slot),
        Err(StatsFileError::BadSlot { slot: 0, state: 7 })
    );
    let mut many = b;
    many[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(parse(&many), Err(StatsFileError::TooManySlots(_))));
}

// /proc: Linux only.
#[cfg(unix)]
#[test]
fn this_process_is_alive_and_a_wrong_start_time_is_not() {
    let me = std::process::id();
    let start = read::start_time(me).expect("a start time in /proc");
    assert!(alive(u64::from(me), start));
    assert!(!alive(u64::from(me), start + 1));
    assert!(!alive(u64::MAX, start));
}

#[test]
fn a_region_publishes_its_file_and_counts_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let dirs = crate::config::paths::Dirs::new(dir.path().join("c"), dir.path().join("r"));
    let r = region(&dirs);
    let path = r.path().expect("a published file").to_path_buf();
    assert_eq!(path.parent(), Some(stats_dir(&dirs.runtime).as_path()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let svc = ServiceId::from_vsock_port(7);
    let vm = VmId(Guid::from_u128(9));
    let m = Meter::open(r, svc, vm, true);
    let _ = m.read(Ok(10));
    let _ = m.wrote(Ok(3));
    let _ = m.read(Err(std::io::ErrorKind::Other.into()));
    r.refused(svc, vm, Reason::BusyPartition);
    let host = read_host(&dirs.runtime);
    assert!(host.skipped.is_empty(), "{:?}", host.skipped);
    let p = &host.processes[0];
    assert_eq!(p.pid, u64::from(std::process::id()));
    let c = p.slots[0].counters;
    assert_eq!((c.accepted, c.open, c.bytes_in, c.bytes_out), (1, 1, 10, 3));
    assert_eq!(c.refused(Reason::BusyPartition), 1);
    drop(m);
    let c = read_host(&dirs.runtime).processes[0].slots[0].counters;
    assert_eq!(c.open, 0);
}

#[test]
fn unlocked_files_are_ignored_and_swept_and_corrupt_ones_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path();
    let sd = stats_dir(runtime);
    std::fs::create_dir_all(&sd).unwrap();
    // This very process's pid and start time, but nobody holds the lock: a leftover
    // (the pid says alive, the lock says gone, and the lock decides).
    let me = std::process::id();
    let mut orphan = sample();
    orphan.pid = u64::from(me);
    orphan.start_time = read::start_time(me).unwrap_or(0);
    let orphan_name = read::file_name(me, 0xabc);
    std::fs::write(sd.join(&orphan_name), encode(&orphan)).unwrap();
    // Garbage under a locked name is a warning, not a process.
    let garbage = sd.join(read::file_name(1, 1));
    std::fs::write(&garbage, b"garbage").unwrap();
    let held = lock(&garbage);
    std::fs::write(sd.join("notes.txt"), b"ignored").unwrap();
    // An older version's name: neither read nor swept (its writer holds no lock).
    std::fs::write(sd.join("77.stats"), encode(&sample())).unwrap();
    let host = read_host(runtime);
    assert!(host.processes.is_empty(), "{:?}", host.processes);
    assert_eq!(host.skipped.len(), 1, "{:?}", host.skipped);
    assert_eq!(host.skipped[0].0, garbage);
    read::sweep(&sd);
    assert!(!sd.join(&orphan_name).exists());
    assert!(garbage.exists(), "a locked file is never swept");
    assert!(sd.join("77.stats").exists() && sd.join("notes.txt").exists());
    drop(held);
    read::sweep(&sd);
    assert!(!garbage.exists());
}

/// Holds `path`'s lock as its publisher does, until dropped.
fn lock(path: &std::path::Path) -> std::fs::File {
    let f = std::fs::File::open(path).unwrap();
    read::hold_as_publisher(&f).unwrap();
    f
}

// Another PID namespace (a container sharing the runtime dir): its pid is no process
// here, yet its publisher holds the lock.
#[test]
fn a_locked_file_is_read_and_kept_whatever_its_pid() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path();
    let sd = stats_dir(runtime);
    std::fs::create_dir_all(&sd).unwrap();
    let mut other = sample();
    // Beyond any pid_max: not a running process in this namespace.
    other.pid = 4_000_000_000;
    assert!(!alive(other.pid, other.start_time));
    let path = sd.join(read::file_name(4_000_000_000, 0x5eed));
    std::fs::write(&path, encode(&other)).unwrap();
    let held = lock(&path);
    let host = read_host(runtime);
    assert!(host.skipped.is_empty(), "{:?}", host.skipped);
    assert_eq!(host.processes, vec![other.clone()]);
    // Readers do not block each other: two at once both see it.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| read_host(runtime).processes.len());
        let b = s.spawn(|| read_host(runtime).processes.len());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!((a, b), (1, 1));
    read::sweep(&sd);
    assert!(path.exists(), "the sweeper removed a live file");
    assert_eq!(read_host(runtime).processes, vec![other]);
    // Its process gone (the kernel drops the lock): ignored, then swept.
    drop(held);
    assert!(read_host(runtime).processes.is_empty());
    read::sweep(&sd);
    assert!(!path.exists());
}

#[test]
fn file_names_carry_the_pid_and_differ_by_their_random_part() {
    let n = read::file_name(42, 0x1f);
    assert_eq!(n, "42-000000000000001f.stats");
    assert_eq!(read::file_pid(std::path::Path::new(&n)), Some(42));
    assert_ne!(n, read::file_name(42, 0x20));
    for bad in [
        "42.stats",
        "-1f.stats",
        "42-.stats",
        "42-xyz.stats",
        "4a-1f.stats",
        ".42-1f.stats.tmp",
        "42-1f.stat",
    ] {
        assert_eq!(read::file_pid(std::path::Path::new(bad)), None, "{bad}");
    }
}

// Two publishers with the same pid (two PID namespaces) never share a file name, and
// the second's sweep leaves the first's file (locked) alone.
#[test]
fn two_publishers_with_one_pid_get_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let dirs = crate::config::paths::Dirs::new(dir.path().join("c"), dir.path().join("r"));
    let (_, pa, _fa) = publish::publish(&dirs).unwrap();
    let (_, pb, _fb) = publish::publish(&dirs).unwrap();
    assert_ne!(pa, pb);
    assert!(pa.exists() && pb.exists());
    let pid = Some(u64::from(std::process::id()));
    assert_eq!((read::file_pid(&pa), read::file_pid(&pb)), (pid, pid));
    let host = read_host(&dirs.runtime);
    assert_eq!(host.processes.len(), 2, "{:?}", host.skipped);
}

// More (service, VM) pairs than slots: the rest share the overflow slot, and every
// count still adds up.
#[test]
fn pairs_past_the_last_slot_are_counted_in_the_overflow_slot() {
    let dir = tempfile::tempdir().unwrap();
    let dirs = crate::config::paths::Dirs::new(dir.path().join("c"), dir.path().join("r"));
    let r = region(&dirs);
    let svc = |i: usize| ServiceId::from_vsock_port(10_000 + i as u32);
    let vm = VmId(Guid::from_u128(0x77));
    for i in 0..SLOTS - 1 {
        r.refused(svc(i), vm, Reason::Disabled);
    }
    // Three more pairs, one with a connection that moves bytes.
    r.refused(svc(SLOTS), vm, Reason::NotAllowed);
    r.refused(
        svc(SLOTS + 1),
        VmId(Guid::from_u128(0x78)),
        Reason::NotAllowed,
    );
    let m = Meter::open(r, svc(SLOTS + 2), vm, true);
    let _ = m.read(Ok(100));
    let _ = m.wrote(Ok(7));
    // A pair that has its own slot still counts there.
    r.refused(svc(0), vm, Reason::Disabled);
    let host = read_host(&dirs.runtime);
    assert!(host.skipped.is_empty(), "{:?}", host.skipped);
    let p = &host.processes[0];
    assert_eq!(p.slots.len(), SLOTS);
    assert_eq!(p.overflowed, 3);
    let own = p.slots.iter().find(|s| s.service == svc(0)).unwrap();
    assert_eq!(own.counters.refused(Reason::Disabled), 2);
    let over: Vec<_> = p
        .slots
        .iter()
        .filter(|s| s.service == OVERFLOW_SERVICE)
        .collect();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0].vm, UNKNOWN_PEER);
    let c = over[0].counters;
    assert_eq!(c.refused(Reason::NotAllowed), 2);
    assert_eq!(
        (c.accepted, c.open, c.bytes_in, c.bytes_out),
        (1, 1, 100, 7)
    );
    let total: u64 = p.slots.iter().map(|s| s.counters.refused_total()).sum();
    assert_eq!(total, SLOTS as u64 - 1 + 1 + 2);
    drop(m);
    let host = read_host(&dirs.runtime);
    let over = host.processes[0]
        .slots
        .iter()
        .find(|s| s.service == OVERFLOW_SERVICE)
        .unwrap();
    assert_eq!(over.counters.open, 0);
}

#[test]
fn every_reason_has_its_own_name_and_index() {
    for (i, r) in Reason::ALL.iter().enumerate() {
        assert_eq!(r.index(), i);
    }
    let names: std::collections::BTreeSet<_> = Reason::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(names.len(), Reason::ALL.len());
}

proptest! {
    #[test]
    fn file_names_parse_back_and_any_name_never_panics(pid: u32, random: u64, name in "\\PC{0,40}") {
        let n = read::file_name(pid, random);
        prop_assert_eq!(read::file_pid(std::path::Path::new(&n)), Some(u64::from(pid)));
        let _ = read::file_pid(std::path::Path::new(&name));
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn flipping_bytes_of_a_file_never_panics(idx in 0usize..(HEADER_WORDS + SLOT_WORDS) * 8, val: u8, cut in 0usize..600) {
        let mut b = encode(&sample());
        b[idx] = val;
        let _ = parse(&b);
        let n = b.len().saturating_sub(cut);
        let _ = parse(&b[..n]);
    }

    #[test]
    fn encode_parse_roundtrips(pid: u64, start: u64, words in proptest::collection::vec(any::<u64>(), 5..10), svc: u128, vm: u128) {
        let c = Counters {
            accepted: words[0],
            connected: words[1],
            open: words[2],
            bytes_in: words[3],
            bytes_out: words[4],
            refused: [words[0] ^ 1; Reason::ALL.len()],
        };
        let s = ProcessStats {
            pid,
            start_time: start,
            overflowed: words[1],
            slots: vec![SlotStats { service: ServiceId(Guid::from_u128(svc)), vm: VmId(Guid::from_u128(vm)), counters: c }],
        };
        prop_assert_eq!(parse(&encode(&s)).unwrap(), s);
    }
}

/// The fuzz seeds (written by `fuzz/gen-seeds.sh` without this crate) follow the
/// layout documented in `layout.rs`.
#[test]
fn the_fuzz_seeds_follow_the_documented_layout() {
    let one = parse(include_bytes!("../../../../fuzz/seeds/stats_file/one-slot")).unwrap();
    assert_eq!(
        (one.pid, one.start_time, one.slots.len()),
        (4242, 123456, 1)
    );
    let s = &one.slots[0];
    assert_eq!(s.service, ServiceId::from_vsock_port(5000));
    assert_eq!(
        s.vm,
        VmId(Guid::from_bytes_le({
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&0xaaaau64.to_le_bytes());
            b[8..].copy_from_slice(&0xbbbbu64.to_le_bytes());
            b
        }))
    );
    assert_eq!((s.counters.accepted, s.counters.open), (3, 1));
    assert_eq!((s.counters.bytes_in, s.counters.bytes_out), (4096, 2048));
    assert_eq!(s.counters.refused(Reason::Disabled), 2);
    assert!(
        parse(include_bytes!(
            "../../../../fuzz/seeds/stats_file/truncated"
        ))
        .is_err()
    );
    assert!(
        parse(include_bytes!(
            "../../../../fuzz/seeds/stats_file/bad-state"
        ))
        .is_err()
    );
}
