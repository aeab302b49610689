//! The counters file (`<runtime>/stats/<pid>.stats`) that `hvsock stats` reads from
//! every hvsock process of the host: any bytes at all, written by another process.
//!
//! Properties: never panics; a file that parses encodes to bytes that parse to the
//! same stats (free and half-claimed slots dropped); a prefix of a valid file shorter
//! than its header's length is an error, never a partial result.
#![no_main]

use hvsock::stats::{encode, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(stats) = parse(data) {
        let again = encode(&stats);
        assert_eq!(parse(&again).as_ref(), Ok(&stats));
        for cut in [1, 8, again.len() / 2] {
            if cut <= again.len() {
                assert!(parse(&again[..again.len() - cut]).is_err(), "cut {cut}");
            }
        }
    }
});
