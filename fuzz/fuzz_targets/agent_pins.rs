//! The client's pin file parser (crates/hvsock-agent/src/auth/pins.rs): agent keys it
//! has seen, like ssh's known_hosts.
#![no_main]
use hvsock_agent::auth::pins::{parse_pins, pin_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(pins) = parse_pins(text) {
        // Each pin written back is one line that parses to the same pin.
        for p in &pins {
            let line = pin_line(p.vm, p.service, &p.key);
            let back = parse_pins(&line).unwrap();
            assert_eq!(back.len(), 1);
            assert_eq!((back[0].vm, back[0].service, back[0].key), (p.vm, p.service, p.key));
        }
    }
});
