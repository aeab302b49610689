//! AF_HYPERV sockets: creation, `SOCKADDR_HV` in and out of socket2's `SockAddr`, and
//! the `HV_PROTOCOL_RAW` socket options.

use crate::addr::{AF_HYPERV, HV_PROTOCOL_RAW, HvAddr, SOCKADDR_HV_LEN};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::os::windows::io::AsRawSocket;
use windows_sys::Win32::Networking::WinSock;

/// A new, unconnected `socket(AF_HYPERV, SOCK_STREAM, HV_PROTOCOL_RAW)`. Fails with
/// WSAEAFNOSUPPORT (10047) where Windows has no Hyper-V sockets (and under wine).
pub(crate) fn hyperv_socket() -> io::Result<Socket> {
    Socket::new(
        Domain::from(i32::from(AF_HYPERV)),
        Type::STREAM,
        Some(Protocol::from(HV_PROTOCOL_RAW)),
    )
}

/// `addr` as a `SOCKADDR_HV` in socket2's address type.
pub(crate) fn sockaddr_hv(addr: &HvAddr) -> SockAddr {
    let bytes = addr.to_sockaddr_hv();
    // SAFETY: `try_init` hands a zeroed SOCKADDR_STORAGE (128 bytes, more than the 36
    // of SOCKADDR_HV) and its length to fill in; we copy exactly `bytes` into it and
    // set the length to match.
    let made = unsafe {
        SockAddr::try_init(|storage, len| {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), storage.cast::<u8>(), bytes.len());
            *len = SOCKADDR_HV_LEN as _;
            Ok(())
        })
    };
    match made {
        Ok(((), sa)) => sa,
        Err(_) => unreachable!("the closure never fails"),
    }
}

/// The `SOCKADDR_HV` in `sa`, if it is one (what `accept`, `getpeername` and
/// `getsockname` report for an AF_HYPERV socket).
pub(crate) fn hv_addr_of(sa: &SockAddr) -> Option<HvAddr> {
    if sa.family() != AF_HYPERV || (sa.len() as usize) < SOCKADDR_HV_LEN {
        return None;
    }
    // SAFETY: `as_ptr` points at the address's storage, which holds at least
    // `sa.len()` initialised bytes; we read SOCKADDR_HV_LEN <= len of them while `sa`
    // is borrowed.
    let bytes = unsafe { std::slice::from_raw_parts(sa.as_ptr().cast::<u8>(), SOCKADDR_HV_LEN) };
    HvAddr::from_sockaddr_hv(bytes).ok()
}

/// Sets a DWORD option of level `HV_PROTOCOL_RAW` (`HVSOCKET_CONNECT_TIMEOUT`,
/// `HVSOCKET_CONNECTED_SUSPEND`, ...).
pub(crate) fn set_hv_option(sock: &Socket, name: i32, value: u32) -> io::Result<()> {
    // SAFETY: the socket handle is valid while `sock` is borrowed; the option value is
    // a DWORD on our stack, passed with its size.
    let r = unsafe {
        WinSock::setsockopt(
            sock.as_raw_socket() as WinSock::SOCKET,
            HV_PROTOCOL_RAW,
            name,
            (&value as *const u32).cast(),
            std::mem::size_of::<u32>() as i32,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_wsa_error())
    }
}

/// Reads a DWORD option of level `HV_PROTOCOL_RAW`.
pub(crate) fn hv_option(sock: &Socket, name: i32) -> io::Result<u32> {
    let mut value = 0u32;
    let mut len = std::mem::size_of::<u32>() as i32;
    // SAFETY: as in `set_hv_option`; `len` says how much room `value` has and is
    // updated by the call.
    let r = unsafe {
        WinSock::getsockopt(
            sock.as_raw_socket() as WinSock::SOCKET,
            HV_PROTOCOL_RAW,
            name,
            (&mut value as *mut u32).cast(),
            &mut len,
        )
    };
    if r == 0 {
        Ok(value)
    } else {
        Err(last_wsa_error())
    }
}

fn last_wsa_error() -> io::Error {
    // SAFETY: WSAGetLastError only reads the calling thread's last WinSock error.
    io::Error::from_raw_os_error(unsafe { WinSock::WSAGetLastError() })
}
