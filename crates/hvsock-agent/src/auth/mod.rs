//! Authentication material shared by the agent and the client: the signed transcripts
//! of protocol version 3, ed25519 keys and their text formats (`keys`), the agent's
//! `authorized_keys` files (`authorized`) and the client's pin file of agent keys
//! (`pins`). Every parser here reads text someone else may have written: each returns
//! a typed error with the line number and never panics (fuzzed in `fuzz/`).

pub mod authorized;
pub mod keys;
pub mod pins;

pub use authorized::{AuthorizedKey, parse_authorized_keys};
pub use keys::{KeyError, KeyPair, PublicKey};
pub use pins::{PinFile, PinMode, PinOutcome};

/// What the agent's signature in `Challenge` covers, before the three fields.
pub const AGENT_CONTEXT: &[u8] = b"hvsock-agent v3 agent\0";
/// What the client's signature in `Auth` covers, before its fields.
pub const USER_CONTEXT: &[u8] = b"hvsock-agent v3 user\0";

/// The bytes the agent signs: [`AGENT_CONTEXT`] `|| methods || client_nonce ||
/// agent_nonce || agent_key`. Both nonces bind it to this connection; `methods` is in it
/// so that no one on the path can make a key user's client fall back to sending a
/// password.
pub fn agent_transcript(
    methods: u8,
    client_nonce: &[u8; 32],
    agent_nonce: &[u8; 32],
    agent_key: &[u8; 32],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(AGENT_CONTEXT.len() + 97);
    t.extend_from_slice(AGENT_CONTEXT);
    t.push(methods);
    t.extend_from_slice(client_nonce);
    t.extend_from_slice(agent_nonce);
    t.extend_from_slice(agent_key);
    t
}

/// The bytes the client signs: [`USER_CONTEXT`] `|| client_nonce || agent_nonce ||
/// agent_key || user || public_key`. `user` is as sent (empty for the agent's own
/// user); the fixed-size key after it keeps the encoding unambiguous.
pub fn user_transcript(
    client_nonce: &[u8; 32],
    agent_nonce: &[u8; 32],
    agent_key: &[u8; 32],
    user: &str,
    public_key: &[u8; 32],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(USER_CONTEXT.len() + 128 + user.len());
    t.extend_from_slice(USER_CONTEXT);
    t.extend_from_slice(client_nonce);
    t.extend_from_slice(agent_nonce);
    t.extend_from_slice(agent_key);
    t.extend_from_slice(user.as_bytes());
    t.extend_from_slice(public_key);
    t
}

/// 32 bytes from the operating system's random source (a nonce or a key seed).
pub fn random32() -> std::io::Result<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(format!("random source: {e}")))?;
    Ok(b)
}

/// Whether `signature` is `key`'s signature of `msg` (strict verification: no
/// malleable or small-order encodings).
pub fn verify(key: &[u8; 32], msg: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(k) = ed25519_dalek::VerifyingKey::from_bytes(key) else {
        return false;
    };
    k.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(signature))
        .is_ok()
}

#[cfg(test)]
mod tests;
