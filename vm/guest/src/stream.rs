//! Framed test streams: a deterministic generator and a checksum, so one side can
//! produce data that the other side verifies without both holding a copy.
//!
//! A framed stream is the line `SEED BYTES\n` followed by `BYTES` bytes of
//! [`Gen::new(SEED)`](Gen::new). The host tests (`vm/tests/hvsock_vm/`) include this
//! very file, so both sides of a check run the same generator and checksum.

use std::io::{self, BufRead, Read, Write};

/// xorshift64 byte stream: each step yields the state's 8 bytes, little-endian.
/// The output does not depend on how it is cut into buffers.
pub struct Gen {
    x: u64,
    carry: [u8; 8],
    used: usize,
}

impl Gen {
    /// The stream for `seed` (its state starts at splitmix64(`seed`), never 0).
    pub fn new(seed: u64) -> Gen {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Gen {
            x: z.max(1),
            carry: [0; 8],
            used: 8,
        }
    }

    fn step(&mut self) -> u64 {
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        self.x
    }

    /// Fills `buf` with the next bytes of the stream.
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut i = 0;
        while i < buf.len() && self.used < 8 {
            buf[i] = self.carry[self.used];
            self.used += 1;
            i += 1;
        }
        let mut chunks = buf[i..].chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.step().to_le_bytes());
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            self.carry = self.step().to_le_bytes();
            self.used = tail.len();
            tail.copy_from_slice(&self.carry[..tail.len()]);
        }
    }
}

/// A 64-bit checksum (FNV-1a style over little-endian 8-byte words, the last word
/// zero-padded, then the length), independent of how the data is cut.
pub struct Sum {
    h: u64,
    buf: [u8; 8],
    n: usize,
    len: u64,
}

impl Sum {
    /// An empty checksum.
    pub fn new() -> Sum {
        Sum {
            h: 0xcbf2_9ce4_8422_2325,
            buf: [0; 8],
            n: 0,
            len: 0,
        }
    }

    fn mix(&mut self, w: u64) {
        self.h = (self.h ^ w)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(23);
    }

    /// Adds `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        while self.n > 0 && !data.is_empty() {
            self.buf[self.n] = data[0];
            self.n += 1;
            data = &data[1..];
            if self.n == 8 {
                self.n = 0;
                self.mix(u64::from_le_bytes(self.buf));
            }
        }
        if self.n > 0 {
            return; // `data` is used up and the word is still incomplete.
        }
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        self.buf[..rest.len()].copy_from_slice(rest);
        self.n = rest.len();
    }

    /// The checksum of everything added.
    pub fn finish(mut self) -> u64 {
        if self.n > 0 {
            self.buf[self.n..].fill(0);
            self.mix(u64::from_le_bytes(self.buf));
        }
        let len = self.len;
        self.mix(len);
        self.h
    }
}

/// `gen SEED BYTES`: writes the framed stream to stdout.
pub fn gen_stdout(seed: u64, bytes: u64) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(format!("{seed} {bytes}\n").as_bytes())?;
    let mut g = Gen::new(seed);
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        g.fill(&mut buf[..n]);
        out.write_all(&buf[..n])?;
        left -= n as u64;
    }
    out.flush()
}

/// `check`: reads a framed stream from stdin and verifies it; prints
/// `ok BYTES CHECKSUM` (checksum in hex) or `bad AT` (the first differing offset, or
/// where the stream ended early).
pub fn check_stdin() -> io::Result<()> {
    let mut input = io::stdin().lock();
    let mut head = String::new();
    if input.read_line(&mut head)? == 0 {
        return Ok(()); // A readiness probe: connected and closed.
    }
    let bad_head = || io::Error::new(io::ErrorKind::InvalidData, format!("bad header {head:?}"));
    let (seed, bytes) = head.trim_end().split_once(' ').ok_or_else(bad_head)?;
    let seed: u64 = seed.parse().map_err(|_| bad_head())?;
    let bytes: u64 = bytes.parse().map_err(|_| bad_head())?;
    let mut g = Gen::new(seed);
    let mut sum = Sum::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut want = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let verdict = loop {
        if total == bytes {
            break format!("ok {bytes} {:016x}\n", sum.finish());
        }
        let k = buf.len().min((bytes - total) as usize);
        let n = input.read(&mut buf[..k])?;
        if n == 0 {
            break format!("bad {total}\n");
        }
        g.fill(&mut want[..n]);
        if buf[..n] != want[..n] {
            let at = buf[..n].iter().zip(&want[..n]).position(|(a, b)| a != b);
            break format!("bad {}\n", total + at.unwrap_or(0) as u64);
        }
        sum.update(&buf[..n]);
        total += n as u64;
    };
    let mut out = io::stdout().lock();
    out.write_all(verdict.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_and_checksum_do_not_depend_on_cuts() {
        let mut whole = vec![0u8; 1000];
        Gen::new(7).fill(&mut whole);
        let mut g = Gen::new(7);
        let mut cut = vec![0u8; 1000];
        let mut s = Sum::new();
        let mut at = 0;
        for k in [1, 3, 8, 13, 0, 64, 5, 906] {
            g.fill(&mut cut[at..at + k]);
            s.update(&cut[at..at + k]);
            at += k;
        }
        assert_eq!(cut, whole);
        let mut one = Sum::new();
        one.update(&whole);
        assert_eq!(s.finish(), one.finish());
        assert_ne!(whole[..8], whole[8..16]);
        let mut other = vec![0u8; 1000];
        Gen::new(8).fill(&mut other);
        assert_ne!(other[..8], whole[..8]);
    }
}
