//! Deterministic test data (so both ends can check it), checksums and replayable seeds.

use sha2::{Digest, Sha256};

/// `len` pseudo-random bytes: the little-endian words of xorshift64 (13, 7, 17)
/// started at `seed | 1`.
///
/// `hvsock demo` makes its payload with a copy of this generator (the CLI does not
/// link the test kit); its unit test checks that the two agree.
pub fn xorshift_words(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// `len` pseudo-random bytes: the low byte of each step of xorshift64 (13, 7, 17)
/// started at `state` (which must not be 0).
pub fn xorshift_low_bytes(state: u64, len: usize) -> Vec<u8> {
    let mut x = state;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `len` pseudo-random bytes: the little-endian words of xorshift64* started at
/// `seed | 1`.
pub fn xorshift_star_words(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// FNV-1a of `data`, for comparing what went in with what came out.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of `data` in lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The seed given in the environment variable `var` (a decimal `u64`), if any: set it
/// to replay a run.
pub fn env_seed(var: &str) -> Option<u64> {
    std::env::var(var).ok().and_then(|s| s.parse().ok())
}

/// A seed from the clock: the nanoseconds since the Unix epoch (truncated to 64 bits).
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(sha256(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf]);
    }

    #[test]
    fn generators_are_deterministic_prefixes_of_themselves() {
        for g in [xorshift_words, xorshift_star_words] {
            assert_eq!(g(1000, 7), g(1000, 7));
            assert_eq!(g(1000, 7)[..333], g(333, 7)[..]);
            assert_ne!(g(64, 7), g(64, 8));
            assert_eq!(g(0, 7), Vec::<u8>::new());
        }
        // seed 0 and 1 are the same stream (the low bit is forced).
        assert_eq!(xorshift_words(64, 0), xorshift_words(64, 1));
        // xorshift64(13, 7, 17) from 1: the first step is 0x4082_2041 (little-endian).
        assert_eq!(xorshift_words(4, 1), 0x4082_2041u32.to_le_bytes());
        assert_eq!(xorshift_low_bytes(1, 1), [0x41]);
        assert_eq!(xorshift_low_bytes(5, 100), xorshift_low_bytes(5, 100));
    }

    #[test]
    fn env_seed_reads_a_decimal_and_ignores_the_rest() {
        assert_eq!(env_seed("HVSOCK_TESTKIT_SURELY_UNSET_SEED"), None);
        assert_ne!(clock_seed(), 0);
    }
}
