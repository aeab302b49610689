//! `SOCKADDR_HV` bytes (what `accept`/`getpeername` hand back).
//!
//! Properties: never panics; `Ok` only for exactly 36 bytes, and re-encoding gives the
//! input back byte for byte.
#![no_main]

use hvsock::HvAddr;
use hvsock::addr::{AF_HYPERV, SOCKADDR_HV_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match HvAddr::from_sockaddr_hv(data) {
        Ok(a) => {
            assert_eq!(data.len(), SOCKADDR_HV_LEN);
            assert_eq!(&a.to_sockaddr_hv()[..], data);
            assert_eq!(u16::from_le_bytes([data[0], data[1]]), AF_HYPERV);
            // The text form names the same address.
            let text = a.to_string();
            let (vm, svc) = text.split_once(':').unwrap();
            assert_eq!(vm.parse(), Ok(a.vm_id));
            assert_eq!(svc.parse(), Ok(a.service_id));
        }
        Err(e) => {
            // The error message renders.
            let _ = e.to_string();
        }
    }
});
