//! The key file parsers of crates/hvsock-agent/src/auth/keys.rs: the private key file
//! (`hvsock key generate`, read by every client) and the public line (`hvsock key show`,
//! pasted by people into authorized_keys).
#![no_main]
use hvsock_agent::auth::{KeyPair, PublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A private key file that parses writes back to a file of the same key.
    if let Ok(k) = KeyPair::parse_file(text) {
        let again = KeyPair::parse_file(&k.to_file()).unwrap();
        assert_eq!(again.public(), k.public());
    }
    // A public line that parses prints as a line that parses to the same key; the
    // comment is kept, trimmed.
    if let Ok(p) = PublicKey::parse_line(text, 1) {
        let line = p.to_line();
        assert!(!line.contains('\n'));
        assert_eq!(PublicKey::parse_line(&line, 1).unwrap(), p);
    }
});
