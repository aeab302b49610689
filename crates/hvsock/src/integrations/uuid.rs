//! `uuid::Uuid` conversions (feature `uuid`).
//!
//! A `Uuid` keeps its 16 bytes in text order (RFC 9562); a [`Guid`] is Windows' struct
//! whose first three fields are little-endian in memory. The conversions go through the
//! 128-bit value in text order, so the text stays the same both ways and
//! [`Guid::to_bytes_le`] equals `Uuid::to_bytes_le`:
//!
//! ```
//! use hvsock::Guid;
//!
//! let u = uuid::Uuid::parse_str("a42e7cda-d03f-480c-9cc2-a4de20abb878").unwrap();
//! let g = Guid::from(u);
//! assert_eq!(g.to_string(), u.to_string());
//! assert_eq!(g.data1, 0xa42e7cda);
//! assert_eq!(g.to_bytes_le(), u.to_bytes_le());
//! assert_eq!(uuid::Uuid::from(g), u);
//! ```

use crate::addr::guid::Guid;
use crate::addr::{ServiceId, VmId};
use uuid::Uuid;

impl From<Uuid> for Guid {
    fn from(u: Uuid) -> Guid {
        Guid::from_u128(u.as_u128())
    }
}

impl From<Guid> for Uuid {
    fn from(g: Guid) -> Uuid {
        Uuid::from_u128(g.to_u128())
    }
}

impl From<Uuid> for VmId {
    fn from(u: Uuid) -> VmId {
        VmId(u.into())
    }
}

impl From<VmId> for Uuid {
    fn from(v: VmId) -> Uuid {
        v.0.into()
    }
}

impl From<Uuid> for ServiceId {
    fn from(u: Uuid) -> ServiceId {
        ServiceId(u.into())
    }
}

impl From<ServiceId> for Uuid {
    fn from(s: ServiceId) -> Uuid {
        s.0.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn windows_layout_of_a_known_guid() {
        // HV_GUID_PARENT, {0xa42e7cda, 0xd03f, 0x480c, {0x9c, 0xc2, ...}} in hvsocket.h.
        let u = Uuid::from(VmId::PARENT);
        assert_eq!(u.to_string(), "a42e7cda-d03f-480c-9cc2-a4de20abb878");
        assert_eq!(u.as_fields().0, 0xa42e7cda);
        assert_eq!(&u.as_bytes()[..4], &[0xa4, 0x2e, 0x7c, 0xda]);
        assert_eq!(
            &VmId::PARENT.0.to_bytes_le()[..4],
            &[0xda, 0x7c, 0x2e, 0xa4]
        );
        assert_eq!(VmId::from(u), VmId::PARENT);
        let s = ServiceId::from_vsock_port(5000);
        assert_eq!(ServiceId::from(Uuid::from(s)), s);
        assert_eq!(Uuid::from(s).to_string(), s.to_string());
    }

    proptest! {
        #[test]
        fn round_trip_keeps_text_and_windows_bytes(v in any::<u128>()) {
            let g = Guid::from_u128(v);
            let u = Uuid::from(g);
            prop_assert_eq!(Guid::from(u), g);
            prop_assert_eq!(u.to_string(), g.to_string());
            prop_assert_eq!(u.to_bytes_le(), g.to_bytes_le());
            prop_assert_eq!(u.as_fields(), (g.data1, g.data2, g.data3, &g.data4));
            let back = Uuid::from(Guid::from_bytes_le(u.to_bytes_le()));
            prop_assert_eq!(back, u);
            // Uuid's text parses to the same Guid, and the other way round.
            prop_assert_eq!(u.to_string().parse::<Guid>().unwrap(), g);
            prop_assert_eq!(Uuid::parse_str(&g.to_string()).unwrap(), u);
        }
    }
}
