//! ed25519 key pairs and their text forms.
//!
//! * A public key is one line, `hvsock-ed25519 <base64 of the 32 key bytes> [comment]`
//!   (what `hvsock key show` prints and `authorized_keys` holds).
//! * A private key file (`hvsock key generate`, mode 0600) is comment lines (`#`) and
//!   exactly one line `hvsock-ed25519-private <base64 of the 32-byte seed> [comment]`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// The key type word of a public line.
pub const PUBLIC_TAG: &str = "hvsock-ed25519";
/// The key type word of a private key file's key line.
pub const PRIVATE_TAG: &str = "hvsock-ed25519-private";
/// Longest line the key parsers accept (bytes): a comment is for people, not data.
pub const MAX_LINE: usize = 4096;

/// A malformed key line or file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct KeyError {
    /// 1-based line number (1 for a single line).
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl KeyError {
    pub(crate) fn new(line: usize, what: impl Into<String>) -> KeyError {
        KeyError {
            line,
            what: what.into(),
        }
    }
}

/// An ed25519 public key and its comment.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The 32 key bytes.
    pub key: [u8; 32],
    /// Free text after the key (usually `user@host`); may be empty.
    pub comment: String,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({} {:?})",
            fingerprint(&self.key),
            self.comment
        )
    }
}

/// `SHA256:<base64 without padding>` of the key bytes, as ssh shows fingerprints.
pub fn fingerprint(key: &[u8; 32]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(key)))
}

/// Decodes base64 that must hold exactly 32 bytes.
pub(crate) fn decode32(b64: &str, line: usize) -> Result<[u8; 32], KeyError> {
    let v = STANDARD
        .decode(b64)
        .map_err(|e| KeyError::new(line, format!("bad base64: {e}")))?;
    v.try_into()
        .map_err(|v: Vec<u8>| KeyError::new(line, format!("key is {} bytes, expected 32", v.len())))
}

/// Base64 (with padding) of a key.
pub fn encode32(key: &[u8; 32]) -> String {
    STANDARD.encode(key)
}

/// Checks the line limits shared by every key format: length, no control characters
/// other than tab.
pub(crate) fn check_line(text: &str, line: usize) -> Result<(), KeyError> {
    if text.len() > MAX_LINE {
        return Err(KeyError::new(
            line,
            format!("line longer than {MAX_LINE} bytes"),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(KeyError::new(line, "control character in line"));
    }
    Ok(())
}

/// The entry lines of a list file (`authorized_keys`, the pin file): each line checked
/// ([`check_line`]), blank and `#` comment lines skipped, the rest trimmed, with their
/// line numbers; an error at the entry after the first `max` (`what` names the entries
/// in it).
pub(crate) fn entry_lines<'a>(
    text: &'a str,
    max: usize,
    what: &'static str,
) -> impl Iterator<Item = Result<(usize, &'a str), KeyError>> + 'a {
    let mut entries = 0;
    text.lines().enumerate().filter_map(move |(i, l)| {
        let n = i + 1;
        if let Err(e) = check_line(l, n) {
            return Some(Err(e));
        }
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            return None;
        }
        if entries == max {
            return Some(Err(KeyError::new(n, format!("more than {max} {what}"))));
        }
        entries += 1;
        Some(Ok((n, t)))
    })
}

/// Splits off the first whitespace-separated word.
pub(crate) fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    Some((&s[..end], s[end..].trim()))
}

impl PublicKey {
    /// Parses a public line (`line` is the line number for errors).
    pub fn parse_line(text: &str, line: usize) -> Result<PublicKey, KeyError> {
        check_line(text, line)?;
        let (tag, rest) = word(text).ok_or_else(|| KeyError::new(line, "empty line"))?;
        if tag != PUBLIC_TAG {
            return Err(KeyError::new(
                line,
                format!("expected {PUBLIC_TAG:?}, found {:?}", truncate(tag)),
            ));
        }
        let (b64, comment) = word(rest).ok_or_else(|| KeyError::new(line, "missing key"))?;
        let key = decode32(b64, line)?;
        if ed25519_dalek::VerifyingKey::from_bytes(&key).is_err() {
            return Err(KeyError::new(line, "not a valid ed25519 public key"));
        }
        Ok(PublicKey {
            key,
            comment: comment.to_string(),
        })
    }

    /// The public line (no newline).
    pub fn to_line(&self) -> String {
        let mut s = format!("{PUBLIC_TAG} {}", encode32(&self.key));
        if !self.comment.is_empty() {
            s.push(' ');
            s.push_str(&self.comment);
        }
        s
    }

    /// See [`fingerprint`].
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key)
    }
}

impl std::str::FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<PublicKey, KeyError> {
        PublicKey::parse_line(s.trim_end_matches(['\r', '\n']), 1)
    }
}

/// A private key (the seed, zeroed on drop by `ed25519-dalek`) and its comment.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
    /// The comment written with the key (`user@host`).
    pub comment: String,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KeyPair({} {:?})",
            fingerprint(&self.public_bytes()),
            self.comment
        )
    }
}

impl KeyPair {
    /// A new random key pair.
    pub fn generate(comment: impl Into<String>) -> std::io::Result<KeyPair> {
        Ok(KeyPair::from_seed(super::random32()?, comment))
    }

    /// The key pair of a 32-byte seed.
    pub fn from_seed(seed: [u8; 32], comment: impl Into<String>) -> KeyPair {
        KeyPair {
            signing: SigningKey::from_bytes(&seed),
            comment: comment.into(),
        }
    }

    /// The public key bytes.
    pub fn public_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The public key with this pair's comment.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.public_bytes(),
            comment: self.comment.clone(),
        }
    }

    /// The signature of `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// Parses a private key file.
    pub fn parse_file(text: &str) -> Result<KeyPair, KeyError> {
        let mut found = None;
        for (i, l) in text.lines().enumerate() {
            let n = i + 1;
            check_line(l, n)?;
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let (tag, rest) = word(t).expect("not empty");
            if tag != PRIVATE_TAG {
                return Err(KeyError::new(
                    n,
                    format!("expected {PRIVATE_TAG:?}, found {:?}", truncate(tag)),
                ));
            }
            if found.is_some() {
                return Err(KeyError::new(n, "a second key (a key file holds one)"));
            }
            let (b64, comment) = word(rest).ok_or_else(|| KeyError::new(n, "missing key"))?;
            found = Some(KeyPair::from_seed(decode32(b64, n)?, comment));
        }
        found.ok_or_else(|| KeyError::new(text.lines().count().max(1), "no key in the file"))
    }

    /// The private key file's text (keep it 0600: it is the secret).
    pub fn to_file(&self) -> String {
        let mut s = format!(
            "# hvsock private key (ed25519): keep it secret. Its public line:\n# {}\n{PRIVATE_TAG} {}",
            self.public().to_line(),
            encode32(&self.signing.to_bytes())
        );
        if !self.comment.is_empty() {
            s.push(' ');
            s.push_str(&self.comment);
        }
        s.push('\n');
        s
    }
}

/// At most 40 characters of untrusted text for an error message.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}
