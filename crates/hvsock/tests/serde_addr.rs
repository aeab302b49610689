//! serde of the address types: the text forms, both ways, with clear refusals.

use hvsock::{Guid, HvAddr, ServiceId, VmId};
use proptest::prelude::*;

#[test]
fn addr_text_forms_and_refusals() {
    let a = HvAddr::new(VmId::CHILDREN, ServiceId::from_vsock_port(0x1b58));
    let want = "\"90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd:00001b58-facb-11e6-bd58-64006a7986d3\"";
    assert_eq!(serde_json::to_string(&a).unwrap(), want);
    for text in [
        "children:vsock:7000",
        "CHILDREN:vsock:0x1b58",
        "{90DB8B89-0D35-4F79-8CE9-49EA0AC8B7CD}:{00001B58-FACB-11E6-BD58-64006A7986D3}",
    ] {
        let got: HvAddr = serde_json::from_value(text.into()).unwrap();
        assert_eq!(got, a, "{text}");
    }
    let err = |text: &str| {
        serde_json::from_value::<HvAddr>(text.into())
            .unwrap_err()
            .to_string()
    };
    let e = err("myvm:vsock:5000");
    assert!(
        e.contains("the VM part \"myvm\"") && e.contains("names no partition by name"),
        "{e}"
    );
    let e = err("parent:echo");
    assert!(
        e.contains("the service part \"echo\"") && e.contains("no service by name"),
        "{e}"
    );
    let e = err("a42e7cda-d03f-480c-9cc2-a4de20abb87:vsock:1");
    assert!(e.contains("a GUID has 36 characters"), "{e}");
    assert!(err("parent").contains("expected VM:SERVICE"));
    assert!(err("parent:vsock:x").contains("not a vsock port"));
    // Not a string at all.
    let e = serde_json::from_str::<HvAddr>("42")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("expected a borrowed string") || e.contains("string"),
        "{e}"
    );
}

#[test]
fn ids_serialize_as_guid_text() {
    assert_eq!(
        serde_json::to_string(&VmId::PARENT).unwrap(),
        "\"a42e7cda-d03f-480c-9cc2-a4de20abb878\""
    );
    let e = serde_json::from_str::<ServiceId>("\"vsock:1\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("a GUID has 36 characters"), "{e}");
}

proptest! {
    #[test]
    fn json_round_trips(vm in any::<u128>(), svc in any::<u128>()) {
        let vm_id = VmId(Guid::from_u128(vm));
        let service_id = ServiceId(Guid::from_u128(svc));
        let a = HvAddr::new(vm_id, service_id);
        let json = serde_json::to_string(&a).unwrap();
        prop_assert_eq!(&json, &format!("\"{a}\""));
        prop_assert_eq!(serde_json::from_str::<HvAddr>(&json).unwrap(), a);
        let v = serde_json::to_string(&vm_id).unwrap();
        prop_assert_eq!(&v, &format!("\"{}\"", vm_id.0));
        prop_assert_eq!(serde_json::from_str::<VmId>(&v).unwrap(), vm_id);
        let s = serde_json::to_string(&service_id).unwrap();
        prop_assert_eq!(serde_json::from_str::<ServiceId>(&s).unwrap(), service_id);
        // Inside a structure, as a config or an API would carry them.
        let doc = serde_json::json!({"addr": a, "vm": vm_id, "svc": service_id});
        let back: (HvAddr, VmId, ServiceId) = (
            serde_json::from_value(doc["addr"].clone()).unwrap(),
            serde_json::from_value(doc["vm"].clone()).unwrap(),
            serde_json::from_value(doc["svc"].clone()).unwrap(),
        );
        prop_assert_eq!(back, (a, vm_id, service_id));
    }
}
