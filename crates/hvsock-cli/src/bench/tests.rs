//! Unit tests of the bench: wire format, sizes, every mode against an in-process
//! server.

use super::net::Dialer;
use super::report::Latency;
use super::wire::{Direction, GREETING, Header, MAX_SIZE, Mode, parse_size};
use super::workload::run_workload;
use super::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// A bench server in a thread on a free loopback TCP port (TCP, so that these run on
/// every platform); its dialer.
fn tcp_server() -> Dialer {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || server::serve(net::Acceptor::Tcp(l), false));
    Dialer::Tcp("127.0.0.1".into(), port)
}

#[test]
fn header_round_trip_and_validation() {
    let h = Header {
        mode: Mode::Stress,
        direction: Direction::Both,
        size: 4096,
        seed: 0xdead_beef,
    };
    let b = h.encode();
    assert_eq!(Header::decode(&b), Ok(h));
    let bad = |i: usize, v: u8| {
        let mut x = b;
        x[i] = v;
        Header::decode(&x).unwrap_err()
    };
    assert!(bad(0, b'X').contains("magic"));
    assert!(bad(4, 2).contains("version"));
    assert!(bad(5, 9).contains("mode"));
    assert!(bad(6, 0).contains("direction"));
    assert!(bad(7, 1).contains("reserved"));
    assert!(bad(13, 1).contains("reserved"));
    let mut z = b;
    z[8..12].copy_from_slice(&0u32.to_le_bytes());
    assert!(Header::decode(&z).is_err());
    z[8..12].copy_from_slice(&(MAX_SIZE + 1).to_le_bytes());
    assert!(Header::decode(&z).is_err());
}

#[test]
fn sizes() {
    assert_eq!(parse_size("64"), Ok(64));
    assert_eq!(parse_size("64B"), Ok(64));
    assert_eq!(parse_size("4K"), Ok(4096));
    assert_eq!(parse_size("64KiB"), Ok(65536));
    assert_eq!(parse_size("1MiB"), Ok(1 << 20));
    assert_eq!(parse_size("16M"), Ok(16 << 20));
    for bad in ["", "0", "17M", "x", "1G", "-1"] {
        assert!(parse_size(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn percentiles() {
    let l = Latency::of((1..=100).map(|v| v * 1000).collect()).unwrap();
    assert_eq!(l.max, 100.0);
    assert_eq!(l.p50, 51.0);
    assert_eq!(l.p99, 99.0);
    assert_eq!(l.mean, 50.5);
    assert!(Latency::of(Vec::new()).is_none());
}

#[test]
fn every_mode_against_an_in_process_server() {
    let d = tcp_server();
    for (mode, direction) in [
        (Mode::Throughput, Direction::Send),
        (Mode::Throughput, Direction::Receive),
        (Mode::Throughput, Direction::Both),
        (Mode::Latency, Direction::Send),
        (Mode::Connect, Direction::Send),
        (Mode::Stress, Direction::Send),
    ] {
        let w = WorkArgs {
            mode,
            size: Some(1000),
            parallel: 2,
            duration: Duration::from_secs(1),
            count: Some(20),
            direction,
            json: true,
            baseline: false,
            rounds: Some(2),
        };
        let r = run_workload(&d, &w).unwrap();
        assert!(r.ops > 0 || direction == Direction::Receive, "{r:?}");
        match (mode, direction) {
            (Mode::Throughput, Direction::Send) => assert_eq!(r.bytes_sent, 2 * 20 * 1000),
            (Mode::Throughput, Direction::Receive) => {
                assert!(r.bytes_received >= 2 * 20 * 1000)
            }
            (Mode::Throughput, Direction::Both) => {
                assert_eq!(r.bytes_sent, 40_000);
                assert!(r.bytes_received >= 40_000);
            }
            (Mode::Latency, _) => {
                assert_eq!(r.ops, 40);
                let l = r.latency_us.unwrap();
                assert!(l.p50 > 0.0 && l.p50 <= l.p99 && l.p99 <= l.max);
            }
            (Mode::Connect, _) => assert_eq!(r.ops, 40),
            (Mode::Stress, _) => {
                assert_eq!(r.ops, 40);
                assert_eq!(r.checksum_errors, Some(0));
                assert_eq!(r.verified_bytes, Some(r.bytes_sent));
                assert!(r.bytes_sent >= 40 * 1000);
            }
        }
    }
}

#[test]
fn a_bad_header_is_refused_and_the_server_keeps_serving() {
    let d = tcp_server();
    let mut s = match &d {
        Dialer::Tcp(host, port) => TcpStream::connect((host.as_str(), *port)).unwrap(),
        _ => panic!("tcp_server gives a TCP dialer"),
    };
    s.write_all(b"GET / HTTP/1.1\r\n\r\nxxxxxx").unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    assert_eq!(reply[0], GREETING);
    assert_eq!(reply[1], 1);
    let msg = String::from_utf8_lossy(&reply[4..]);
    assert!(msg.contains("magic"), "{msg}");
    let h = Header {
        mode: Mode::Latency,
        direction: Direction::Send,
        size: 8,
        seed: 0,
    };
    let s = d.open(&h).unwrap();
    (&s).write_all(b"12345678").unwrap();
    let mut back = [0u8; 8];
    (&s).read_exact(&mut back).unwrap();
    assert_eq!(&back, b"12345678");
}
