//! WinSock errors of AF_HYPERV sockets, as errors a person can act on.
//!
//! Pure (no Windows calls), so it builds and is tested everywhere. The messages are
//! hvsock's own: wine has no text for these codes (`FormatMessage` fails), and
//! Windows' texts speak of networks and hosts, not of VMs and services.

use crate::addr::HvAddr;
use crate::error::HvError;
use std::io;

/// WSAEACCES: the service is not registered (or the VM may not use it).
pub(crate) const WSAEACCES: i32 = 10013;
/// WSAEAFNOSUPPORT: no Hyper-V sockets on this system.
pub(crate) const WSAEAFNOSUPPORT: i32 = 10047;
/// WSAEADDRINUSE: a listener has this address already.
pub(crate) const WSAEADDRINUSE: i32 = 10048;
/// WSAENETUNREACH: the VM is not running (or not there).
pub(crate) const WSAENETUNREACH: i32 = 10051;
/// WSAECONNRESET: what some builds report for a missing listener.
pub(crate) const WSAECONNRESET: i32 = 10054;
/// WSAETIMEDOUT: the connect timeout passed.
pub(crate) const WSAETIMEDOUT: i32 = 10060;
/// WSAECONNREFUSED: nothing listens on the service in that VM.
pub(crate) const WSAECONNREFUSED: i32 = 10061;
/// WSAEHOSTDOWN: the VM is not running.
pub(crate) const WSAEHOSTDOWN: i32 = 10064;
/// WSAEHOSTUNREACH: the VM is not running (or not there).
pub(crate) const WSAEHOSTUNREACH: i32 = 10065;

/// ERROR_CONNECTION_UNAVAIL: what some builds report while the VM's side is not up.
pub(crate) const ERROR_CONNECTION_UNAVAIL: i32 = 1201;
/// ERROR_CONNECTION_REFUSED: the Win32 code for a refused connection.
pub(crate) const ERROR_CONNECTION_REFUSED: i32 = 1225;

/// What Hyper-V sockets need, said when they are missing.
pub(crate) const NEEDS: &str = "Hyper-V sockets are not available on this system: they need Windows 10 or Windows Server 2016 or later with Hyper-V enabled (or a Windows container host); under wine there are none";

/// The error of creating a socket: WSAEAFNOSUPPORT becomes [`HvError::Unavailable`].
pub(crate) fn socket_error(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(WSAEAFNOSUPPORT) => HvError::Unavailable {
            reason: NEEDS.to_string(),
        }
        .into(),
        _ => e,
    }
}

/// The error of a connect to `addr`, described as `target` (e.g. `connect to myvm`).
pub(crate) fn connect_error(e: io::Error, target: &str, addr: HvAddr) -> io::Error {
    match e.raw_os_error() {
        Some(WSAEAFNOSUPPORT) => socket_error(e),
        Some(WSAEACCES) => HvError::AccessDenied {
            target: target.to_string(),
            service: addr.service_id,
        }
        .into(),
        Some(
            WSAECONNREFUSED | WSAECONNRESET | ERROR_CONNECTION_REFUSED | ERROR_CONNECTION_UNAVAIL,
        ) => HvError::NothingListens {
            target: target.to_string(),
            on: format!("service {}", addr.service_id),
        }
        .into(),
        Some(WSAENETUNREACH | WSAEHOSTUNREACH | WSAEHOSTDOWN) => HvError::Unreachable {
            target: target.to_string(),
            vm: addr.vm_id,
        }
        .into(),
        Some(WSAETIMEDOUT) => HvError::TimedOut {
            what: target.to_string(),
            during: "",
        }
        .into(),
        _ => with_context(e, target),
    }
}

/// The error of binding `addr`.
pub(crate) fn bind_error(e: io::Error, addr: HvAddr) -> io::Error {
    let target = format!("listen on {addr}");
    match e.raw_os_error() {
        Some(WSAEAFNOSUPPORT) => socket_error(e),
        Some(WSAEACCES) => HvError::AccessDenied {
            target,
            service: addr.service_id,
        }
        .into(),
        Some(WSAEADDRINUSE) => io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{target}: another listener has this VM id and service already"),
        ),
        _ => with_context(e, &target),
    }
}

/// Any other error, with what was being done and its WinSock code (no system text:
/// it may be missing, as under wine).
fn with_context(e: io::Error, target: &str) -> io::Error {
    let shown = match e.raw_os_error() {
        Some(code) => format!("{target}: WinSock error {code} ({:?})", e.kind()),
        None => format!("{target}: {e}"),
    };
    io::Error::new(e.kind(), shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{ServiceId, VmId};

    fn addr() -> HvAddr {
        HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(5000))
    }

    #[test]
    fn every_code_a_person_can_act_on_has_its_own_words() {
        let shown = |code| {
            let e = connect_error(
                io::Error::from_raw_os_error(code),
                "connect to myvm",
                addr(),
            );
            (e.kind(), e.to_string(), HvError::of(&e).is_some())
        };
        let (kind, text, typed) = shown(WSAEAFNOSUPPORT);
        assert_eq!(kind, io::ErrorKind::Unsupported);
        assert!(
            text.starts_with("Hyper-V sockets are not available"),
            "{text}"
        );
        assert!(typed);
        let (kind, text, _) = shown(WSAEACCES);
        assert_eq!(kind, io::ErrorKind::PermissionDenied);
        assert!(
            text.contains("not registered") && text.contains("connect to myvm"),
            "{text}"
        );
        for code in [
            WSAECONNREFUSED,
            WSAECONNRESET,
            ERROR_CONNECTION_REFUSED,
            ERROR_CONNECTION_UNAVAIL,
        ] {
            let (kind, text, _) = shown(code);
            assert_eq!(kind, io::ErrorKind::ConnectionRefused, "{code}");
            assert!(text.contains("nothing listens"), "{text}");
        }
        for code in [WSAENETUNREACH, WSAEHOSTUNREACH, WSAEHOSTDOWN] {
            let (kind, text, _) = shown(code);
            assert_eq!(kind, io::ErrorKind::HostUnreachable, "{code}");
            assert!(text.contains("not running"), "{text}");
        }
        let (kind, text, _) = shown(WSAETIMEDOUT);
        assert_eq!(kind, io::ErrorKind::TimedOut);
        assert!(text.contains("timed out"), "{text}");
        // Anything else keeps its code, in hvsock's words.
        let (_, text, typed) = shown(10050);
        assert!(
            text.starts_with("connect to myvm: WinSock error 10050 ("),
            "{text}"
        );
        assert!(!typed);
    }

    #[test]
    fn a_waiting_dialer_retries_the_codes_of_a_vm_not_up_yet() {
        let retried = |code| {
            crate::net::is_not_there_yet(&connect_error(
                io::Error::from_raw_os_error(code),
                "connect to myvm",
                addr(),
            ))
        };
        // go-winio's redial set, and the other ways a VM that is still booting shows.
        for code in [
            WSAECONNREFUSED,
            WSAECONNRESET,
            WSAENETUNREACH,
            WSAEHOSTUNREACH,
            WSAEHOSTDOWN,
            WSAETIMEDOUT,
            ERROR_CONNECTION_REFUSED,
            ERROR_CONNECTION_UNAVAIL,
        ] {
            assert!(retried(code), "{code}");
        }
        for code in [WSAEACCES, WSAEAFNOSUPPORT, WSAEADDRINUSE] {
            assert!(!retried(code), "{code}");
        }
    }

    #[test]
    fn bind_errors_say_what_was_bound() {
        let e = bind_error(io::Error::from_raw_os_error(WSAEADDRINUSE), addr());
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        assert!(e.to_string().contains(&addr().to_string()), "{e}");
        let e = bind_error(io::Error::from_raw_os_error(WSAEAFNOSUPPORT), addr());
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        // Errors without a code are kept as they are, with context.
        let e = socket_error(io::Error::other("x"));
        assert_eq!(e.to_string(), "x");
    }
}
