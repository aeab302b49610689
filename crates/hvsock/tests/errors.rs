#![cfg(unix)]
//! Every [`HvError`] variant the library raises, seen through `io::Error`: the right
//! kind, the typed error inside, and a message that describes without naming CLI
//! commands (the CLI adds those).

mod common;
use common::*;
use hvsock::handshake::Status;
use hvsock::{Context, HvAddr, HvError, VmId};
use std::io::{self, ErrorKind};
use std::time::Duration;

fn at(v: VmId, s: hvsock::ServiceId) -> HvAddr {
    HvAddr::new(v, s)
}

/// The typed error inside `e`, after checking that the kinds agree and that the
/// message names no `hvsock` command.
fn typed(e: &io::Error) -> &HvError {
    let h = HvError::of(e).unwrap_or_else(|| panic!("no HvError in {e:?}"));
    assert_eq!(e.kind(), h.kind(), "{e}");
    assert!(!e.to_string().contains("`hvsock "), "{e}");
    h
}

/// Keeps calling `accept` (non-blocking) for a few seconds so the listener answers
/// handshakes; the connections it takes are dropped.
fn serve_for_a_while(l: hvsock::HvListener) {
    std::thread::spawn(move || {
        let _ = l.set_nonblocking(true);
        let mut kept = Vec::new();
        for _ in 0..500 {
            if let Ok(c) = l.accept() {
                kept.push(c);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}

#[test]
fn not_registered() {
    let f = Fixture::new();
    let e = f.host().bind(at(VmId::ZERO, UNREG)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(typed(&e), &HvError::NotRegistered { service: UNREG });
    let e = f.host().connect(at(A, UNREG)).unwrap_err();
    assert_eq!(typed(&e), &HvError::NotRegistered { service: UNREG });
}

#[test]
fn disabled() {
    let f = Fixture::new();
    f.set_enabled(SVC, false);
    let e = f.host().connect(at(A, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        typed(&e),
        &HvError::Disabled {
            service: SVC,
            name: "echo".into()
        }
    );
    assert_eq!(
        e.to_string(),
        format!("service \"echo\" ({SVC}) is disabled on the host")
    );
}

#[test]
fn unknown_partition() {
    let f = Fixture::new();
    let e = Context::local(f.dirs.clone(), "nosuch").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(matches!(typed(&e), HvError::UnknownPartition { shown } if shown == "\"nosuch\""));
    let ghost = VmId(hvsock::Guid::from_u128(99));
    let e = f.host().connect(at(ghost, SVC)).unwrap_err();
    assert!(matches!(typed(&e), HvError::UnknownPartition { .. }));
    let e = f.host().bind(at(ghost, SVC)).unwrap_err();
    assert!(matches!(typed(&e), HvError::UnknownPartition { .. }));
}

#[test]
fn not_allowed_from_this_partition() {
    let f = Fixture::new();
    let e = f.local("a").connect(at(B, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(matches!(typed(&e), HvError::NotAllowed { to, .. } if to == "b"));
}

#[test]
fn nothing_listens() {
    let f = Fixture::new();
    let e = f.local("a").connect(at(VmId::PARENT, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    assert!(matches!(typed(&e), HvError::NothingListens { .. }), "{e}");
}

#[test]
fn busy_at_the_per_partition_limit() {
    let f = Fixture::new();
    f.settings("max_connections_per_partition = 1\n");
    let l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    serve_for_a_while(l);
    let _first = f.local("a").connect(at(VmId::PARENT, SVC)).unwrap();
    let e = f.local("a").connect(at(VmId::PARENT, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    match typed(&e) {
        HvError::Busy { message, .. } => {
            assert!(message.contains("max_connections_per_partition"), "{e}")
        }
        other => panic!("not busy: {other:?}"),
    }
}

#[test]
fn refused_with_the_listeners_status_and_words() {
    let f = Fixture::new();
    let l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    // Disabled after bind: the listener refuses at accept time, with its reason.
    f.set_enabled(SVC, false);
    serve_for_a_while(l);
    let e = f.local("a").connect(at(VmId::PARENT, SVC)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    let h = HvError::of(&e).expect("typed");
    match h {
        HvError::Refused {
            status, message, ..
        } => {
            assert_eq!(*status, Status::PermissionDenied);
            assert!(message.contains("is disabled on the host"), "{e}");
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn timed_out() {
    let f = Fixture::new();
    let _l = f.host().bind(at(VmId::ZERO, SVC)).unwrap();
    let e = f
        .local("a")
        .connect_timeout(at(VmId::PARENT, SVC), Duration::from_millis(200))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(matches!(typed(&e), HvError::TimedOut { .. }), "{e}");
}
