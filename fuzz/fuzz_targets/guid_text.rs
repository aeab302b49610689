//! GUID text: `Guid`, `VmId` and `ServiceId` from `&str`.
//!
//! Properties: never panics; whatever parses prints as 36 lowercase characters that
//! parse back to the same value; case and braces do not change the value.
#![no_main]

use hvsock::{Guid, ServiceId, VmId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();

    if let Ok(g) = s.parse::<Guid>() {
        let text = g.to_string();
        assert_eq!(text.len(), 36, "{s:?} -> {text:?}");
        assert!(!text.chars().any(|c| c.is_ascii_uppercase()), "{text:?}");
        assert_eq!(text.parse::<Guid>(), Ok(g), "{s:?} -> {text:?}");
        assert_eq!(format!("{{{text}}}").parse::<Guid>(), Ok(g));
        assert_eq!(s.to_ascii_uppercase().parse::<Guid>(), Ok(g));
        assert_eq!(s.to_ascii_lowercase().parse::<Guid>(), Ok(g));
        assert_eq!(Guid::from_bytes_le(g.to_bytes_le()), g);
        assert_eq!(Guid::from_u128(g.to_u128()), g);
        // Every GUID is a service id and a VM id with the same text.
        assert_eq!(s.parse::<ServiceId>(), Ok(ServiceId(g)));
        assert_eq!(s.parse::<VmId>(), Ok(VmId(g)));
    }

    match s.parse::<VmId>() {
        Ok(v) => {
            assert_eq!(v.to_string().parse::<VmId>(), Ok(v), "{s:?}");
            // A VM id is a GUID or a wildcard name.
            assert!(s.parse::<Guid>().is_ok() || VmId::from_wildcard_name(s) == Some(v));
            if let Some(name) = v.wildcard_name() {
                assert_eq!(name.parse::<VmId>(), Ok(v));
            }
        }
        Err(_) => assert!(s.parse::<Guid>().is_err()),
    }

    if let Ok(id) = s.parse::<ServiceId>() {
        assert_eq!(id.to_string().parse::<ServiceId>(), Ok(id), "{s:?}");
        if let Some(p) = id.vsock_port() {
            assert_eq!(ServiceId::from_vsock_port(p), id);
            assert_eq!(id.port(), p);
        }
    }
});
