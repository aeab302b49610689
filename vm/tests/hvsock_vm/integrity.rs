//! Steps: 16 parallel streams each way, checksums compared.

use super::*;

/// (seed, size) of the integrity step `step`'s connections.
fn integrity_plan(env: &Env, step: u64) -> Vec<(u64, u64)> {
    let mut rng = Rng(env.seed ^ step.wrapping_mul(0x1000_0000_01b3));
    (0..PARALLEL)
        .map(|_| (rng.next() >> 1, rng.next() % MAX_SIZE + 1))
        .collect()
}

/// `run(seed, size)` for each of `plan` at once, one thread each; the results in plan
/// order.
fn in_parallel<T: Send>(plan: &[(u64, u64)], run: impl Fn(u64, u64) -> T + Sync) -> Vec<T> {
    let run = &run;
    thread::scope(|sc| {
        let handles: Vec<_> = plan
            .iter()
            .map(|&(seed, size)| sc.spawn(move || run(seed, size)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// 16 parallel host -> guest -> host echoes of random sizes up to 4 MiB, checksums
/// compared (at most WINDOW bytes in flight per connection).
pub(super) fn integrity_echo_16_parallel(env: &Env) {
    let plan = integrity_plan(env, 1);
    let total: u64 = plan.iter().map(|p| p.1).sum();
    let t = Instant::now();
    let results = in_parallel(&plan, |seed, size| {
        windowed_echo(env.connect(ECHO), seed, size)
    });
    let d = t.elapsed();
    for ((sent, got, n), (seed, size)) in results.iter().zip(&plan) {
        assert_eq!(*n, *size, "seed {seed}: echo ended early");
        assert_eq!(got, sent, "seed {seed}, {size} bytes: checksums differ");
        assert_eq!(*sent, gen_sum(*seed, *size));
    }
    eprintln!(
        "integrity echo: {PARALLEL} connections, {total} bytes each way in {d:?} ({:.1} MB/s each way)",
        mb_s(total, d)
    );
}

/// Sends one framed stream to the guest's `vm-guest check`; returns its verdict and
/// the checksum of what was sent.
pub(super) fn send_framed(env: &Env, seed: u64, size: u64) -> (String, u64) {
    let mut s = env.connect(CHECK);
    s.write_all(format!("{seed} {size}\n").as_bytes()).unwrap();
    let sum = gen_chunks(seed, size, |chunk| s.write_all(chunk).unwrap());
    (read_line(&s).unwrap(), sum)
}

/// 16 parallel host -> guest streams of random sizes, verified in the guest
/// (`vm-guest check`), its checksums compared with the host's.
pub(super) fn integrity_host_to_guest_16_parallel(env: &Env) {
    let _check = env.guest_listen(CHECK, Some(&format!("{GUEST_HELPER} check")));
    let plan = integrity_plan(env, 2);
    let total: u64 = plan.iter().map(|p| p.1).sum();
    let t = Instant::now();
    let results = in_parallel(&plan, |seed, size| send_framed(env, seed, size));
    let d = t.elapsed();
    for ((verdict, sum), (seed, size)) in results.iter().zip(&plan) {
        assert_eq!(
            verdict.trim_end(),
            format!("ok {size} {sum:016x}"),
            "seed {seed}"
        );
    }
    eprintln!(
        "integrity host->guest: {PARALLEL} connections, {total} bytes in {d:?} ({:.1} MB/s)",
        mb_s(total, d)
    );
}

/// Host side of a framed stream from the guest: verifies it byte by byte and by
/// checksum and answers `ok SIZE SUM` or `bad ...`. Returns (seed, size, verdict).
pub(super) fn receive_framed(mut s: HvStream) -> (u64, u64, String) {
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = read_line(&s).unwrap();
    let (seed, size) = head
        .trim_end()
        .split_once(' ')
        .map(|(a, b)| (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap()))
        .unwrap_or_else(|| panic!("bad header {head:?}"));
    let mut g = Gen::new(seed);
    let (mut got_sum, mut want_sum) = (Sum::new(), Sum::new());
    let mut buf = vec![0u8; 64 << 10];
    let mut want = vec![0u8; 64 << 10];
    let mut total = 0u64;
    let mut first_bad = None;
    while total < size {
        let k = buf.len().min((size - total) as usize);
        let n = s.read(&mut buf[..k]).unwrap();
        if n == 0 {
            break;
        }
        g.fill(&mut want[..n]);
        if first_bad.is_none() && buf[..n] != want[..n] {
            first_bad = buf[..n].iter().zip(&want[..n]).position(|(a, b)| a != b);
            first_bad = first_bad.map(|i| i + total as usize);
        }
        got_sum.update(&buf[..n]);
        want_sum.update(&want[..n]);
        total += n as u64;
    }
    let (got, want) = (got_sum.finish(), want_sum.finish());
    let verdict = match first_bad {
        None if total == size && got == want => format!("ok {size} {got:016x}"),
        None => format!("bad: {total} of {size} bytes"),
        Some(at) => format!("bad at {at}"),
    };
    // The sender may be gone already (a guest `--exec vm-guest gen` exits when done);
    // where it waits for the verdict, it checks it.
    let _ = s.write_all(format!("{verdict}\n").as_bytes());
    (seed, size, verdict)
}

/// 16 parallel guest -> host streams: the guest runs `vm-guest gen SEED SIZE | hvsock
/// connect parent:upload`; the host verifies each (bytes and checksums).
pub(super) fn integrity_guest_to_host_16_parallel(env: &Env) {
    let plan = integrity_plan(env, 3);
    let total: u64 = plan.iter().map(|p| p.1).sum();
    let l = env.host.bind((VmId::ZERO, UPLOAD)).unwrap();
    let mut script = String::from("mkdir -p /tmp/up && cd /tmp/up && rm -f r.*\n");
    for (i, (seed, size)) in plan.iter().enumerate() {
        script.push_str(&format!(
            "( {GUEST_HELPER} gen {seed} {size} | hvsock connect parent:vsock:{} > r.{i} 2>&1; \
             echo \"exit=$?\" >> r.{i} ) &\n",
            UPLOAD.port()
        ));
    }
    script.push_str("wait\nfor f in r.*; do echo \"$(tr '\\n' ' ' < $f)\"; done\n");
    let t = Instant::now();
    let (out, mut got) = thread::scope(|sc| {
        let server = sc.spawn(|| {
            thread::scope(|hs| {
                let mut handlers = Vec::new();
                for _ in 0..PARALLEL {
                    let Some((s, peer)) = accept_within(&l, Duration::from_secs(60)) else {
                        break;
                    };
                    assert_eq!(peer.vm_id, VM_ID);
                    handlers.push(hs.spawn(move || receive_framed(s)));
                }
                handlers
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            })
        });
        let out = env.guest(&script);
        (out, server.join().unwrap())
    });
    let d = t.elapsed();
    assert!(out.success(), "{out:?}");
    assert_eq!(got.len(), PARALLEL, "guest output: {}", out.stdout_str());
    got.sort();
    let mut want: Vec<_> = plan.clone();
    want.sort();
    for ((seed, size, verdict), (wseed, wsize)) in got.iter().zip(&want) {
        assert_eq!((seed, size), (wseed, wsize));
        assert_eq!(
            *verdict,
            format!("ok {size} {:016x}", gen_sum(*seed, *size)),
            "seed {seed}"
        );
    }
    // Every guest client got its verdict (the same) and exited normally.
    let report = out.stdout_str();
    let mut lines: Vec<&str> = report.lines().map(str::trim_end).collect();
    lines.sort();
    let mut verdicts: Vec<String> = got.iter().map(|(_, _, v)| format!("{v} exit=0")).collect();
    verdicts.sort();
    assert_eq!(lines, verdicts, "{report}");
    eprintln!(
        "integrity guest->host: {PARALLEL} connections, {total} bytes in {d:?} ({:.1} MB/s)",
        mb_s(total, d)
    );
}
