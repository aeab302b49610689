//! Step: the measurements (boot, connect latency, round trip, throughput).

use super::integrity::{receive_framed, send_framed};
use super::*;

/// Measurements: boot, connect latency, echo round trip, throughput both ways.
pub(super) fn figures(env: &Env) {
    eprintln!(
        "FIGURE Vm::start: {:?}, of which boot to ready {:?} (pvh: {})",
        env.start_time,
        env.vm.boot_time(),
        env.vm.pvh()
    );
    let n = 30;
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            let s = env.connect(ECHO);
            let d = t.elapsed();
            drop(s);
            d
        })
        .collect();
    times.sort();
    eprintln!(
        "FIGURE HvStream connect host->guest (Context::connect to a guest `hvsock listen`): \
         mean {:?}, median {:?}, min {:?}, max {:?} (of {n})",
        times.iter().sum::<Duration>() / n,
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    let mut s = env.connect(ECHO);
    let rounds = 100;
    eprintln!(
        "FIGURE 64 B echo round trip over HvStream (guest cat): {:?} (mean of {rounds})",
        hvsock_vm::echo_rtt(&mut s, rounds).unwrap()
    );
    drop(s);

    const SIZE: u64 = 64 << 20;
    let _check = env.guest_listen(CHECK, Some(&format!("{GUEST_HELPER} check")));
    let t = Instant::now();
    let (verdict, sum) = send_framed(env, 77, SIZE);
    let d = t.elapsed();
    assert_eq!(verdict.trim_end(), format!("ok {SIZE} {sum:016x}"));
    eprintln!(
        "FIGURE {} MiB host->guest (HvStream -> guest vm-guest check): {d:?}, {:.1} MB/s",
        SIZE >> 20,
        mb_s(SIZE, d)
    );

    let l = env.host.bind((VM_ID, UPLOAD)).unwrap();
    let (out, (verdict, d)) = thread::scope(|sc| {
        let server = sc.spawn(|| {
            let (s, _) = accept_within(&l, Duration::from_secs(60)).expect("no guest");
            let t = Instant::now();
            let (_, _, verdict) = receive_framed(s);
            (verdict, t.elapsed())
        });
        let out = env.guest_connect(&format!("{GUEST_HELPER} gen 78 {SIZE}"), UPLOAD);
        (out, server.join().unwrap())
    });
    assert!(verdict.starts_with("ok "), "{verdict}");
    assert!(out.success(), "{out:?}");
    eprintln!(
        "FIGURE {} MiB guest->host (guest vm-guest gen | hvsock connect -> HvListener): {d:?}, {:.1} MB/s",
        SIZE >> 20,
        mb_s(SIZE, d)
    );

    // Guest -> host without the guest's pipe: the program `hvsock listen --exec` starts
    // writes to the connection itself.
    let _gen = env.guest_listen(GEN, Some(&format!("{GUEST_HELPER} gen 79 {SIZE}")));
    let t = Instant::now();
    let (seed, size, verdict) = receive_framed(env.connect(GEN));
    let d = t.elapsed();
    assert_eq!((seed, size), (79, SIZE));
    assert!(verdict.starts_with("ok "), "{verdict}");
    eprintln!(
        "FIGURE {} MiB guest->host (guest hvsock listen --exec vm-guest gen -> HvStream): {d:?}, {:.1} MB/s",
        SIZE >> 20,
        mb_s(SIZE, d)
    );
}
