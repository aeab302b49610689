//! The agent's authorized_keys parser (crates/hvsock-agent/src/auth/authorized.rs):
//! a file a user (or anyone who can write to it) edits, read at every connection.
#![no_main]
use hvsock_agent::auth::parse_authorized_keys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(keys) = parse_authorized_keys(text) {
        let lines = text.lines().count();
        for k in &keys {
            // Every entry names a real line, whose key it is; `user=` names are plain.
            assert!(k.line >= 1 && k.line <= lines);
            let line = text.lines().nth(k.line - 1).unwrap();
            assert!(line.contains("hvsock-ed25519"));
            if let Some(users) = &k.users {
                assert!(!users.is_empty());
                // A `user=` entry does not authorize the agent's own user unless named.
                assert!(!k.authorizes("\u{1}own", "\u{1}own"));
                for u in users {
                    assert!(!u.is_empty() && !u.contains([',', '/', ':', ' ']));
                    assert!(k.authorizes(u, "\u{1}own"));
                }
            }
        }
        // Written back (user= then the public line), the file parses to the same keys.
        let again: String = keys
            .iter()
            .map(|k| match &k.users {
                Some(u) => format!("user={} {}\n", u.join(","), k.key.to_line()),
                None => format!("{}\n", k.key.to_line()),
            })
            .collect();
        let back = parse_authorized_keys(&again).unwrap();
        assert_eq!(back.len(), keys.len());
        for (a, b) in back.iter().zip(&keys) {
            assert_eq!((&a.key, &a.users), (&b.key, &b.users));
        }
    }
});
