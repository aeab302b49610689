//! The client's side of the authentication exchange (protocol v3): it checks the
//! agent's signature and pinned key before it sends any credential.

use super::ClientError;
use crate::auth::keys::fingerprint;
use crate::auth::{KeyPair, PinFile, agent_transcript, random32, user_transcript, verify};
use crate::proto::{Challenge, Credential, Frame, Methods};
use std::sync::Arc;

/// Asks for the password (the argument is the prompt, e.g. `builder's password: `);
/// called only when the agent accepts passwords and no key is used.
pub type PasswordSource = Arc<dyn Fn(&str) -> std::io::Result<String> + Send + Sync>;

/// How the client authenticates to an agent.
#[derive(Clone, Default)]
pub struct ClientAuth {
    /// The user to run as; empty for the agent's own user.
    pub user: String,
    /// The key pair to sign with, if the agent accepts keys.
    pub identity: Option<KeyPair>,
    /// Where a password comes from, if the agent accepts passwords and there is no key.
    pub password: Option<PasswordSource>,
    /// The pin check of the agent's key; `None` checks only its signature.
    pub pins: Option<PinFile>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("user", &self.user)
            .field("identity", &self.identity)
            .field("password", &self.password.is_some())
            .field("pins", &self.pins)
            .finish()
    }
}

impl ClientAuth {
    /// Authenticates with `key` as the agent's own user, no pinning.
    pub fn with_key(key: KeyPair) -> ClientAuth {
        ClientAuth {
            identity: Some(key),
            ..ClientAuth::default()
        }
    }
}

/// A stream to an agent and how to authenticate on it: what every client operation
/// takes. The handshake runs when the operation starts.
#[derive(Debug)]
pub struct Connection<S> {
    /// The connected stream.
    pub stream: S,
    /// The credentials.
    pub auth: ClientAuth,
}

impl<S> Connection<S> {
    /// Bundles a stream and its credentials.
    pub fn new(stream: S, auth: ClientAuth) -> Connection<S> {
        Connection { stream, auth }
    }
}

/// The `AuthHello` frame to send after `Hello`, and its nonce.
pub(super) fn auth_hello() -> Result<([u8; 32], Frame), ClientError> {
    let client_nonce = random32()?;
    Ok((client_nonce, Frame::AuthHello { client_nonce }))
}

/// Checks the agent's `Challenge` and builds the `Auth` frame.
pub(super) fn answer(
    auth: &ClientAuth,
    client_nonce: &[u8; 32],
    c: &Challenge,
) -> Result<Frame, ClientError> {
    let t = agent_transcript(c.methods.0, client_nonce, &c.agent_nonce, &c.agent_key);
    if !verify(&c.agent_key, &t, &c.agent_sig) {
        return Err(ClientError::Auth(format!(
            "the agent's signature (key {}) does not verify: not talking to it",
            fingerprint(&c.agent_key)
        )));
    }
    if let Some(p) = &auth.pins {
        p.check(&c.agent_key).map_err(ClientError::Auth)?;
    }
    let user = auth.user.clone();
    let credential = if c.methods.contains(Methods::KEY)
        && let Some(k) = &auth.identity
    {
        let public_key = k.public_bytes();
        let msg = user_transcript(
            client_nonce,
            &c.agent_nonce,
            &c.agent_key,
            &user,
            &public_key,
        );
        Credential::Key {
            public_key,
            signature: k.sign(&msg),
        }
    } else if c.methods.contains(Methods::PASSWORD)
        && let Some(ask) = &auth.password
    {
        let who = if user.is_empty() {
            "the agent user"
        } else {
            &user
        };
        let p = ask(&format!("password for {who}: "))?;
        Credential::Password(p.trim_end_matches(['\r', '\n']).to_string())
    } else if c.methods.contains(Methods::NONE) {
        Credential::None
    } else {
        return Err(ClientError::Auth(no_method_message(c.methods, auth)));
    };
    Ok(Frame::Auth { user, credential })
}

fn no_method_message(offered: Methods, auth: &ClientAuth) -> String {
    let mut s = format!("the agent accepts {} authentication only", offered.names());
    if offered.contains(Methods::KEY) && auth.identity.is_none() {
        s.push_str(
            "; no key: generate one (hvsock key generate) and add its line (hvsock key show) \
             to the guest's authorized_keys",
        );
    }
    if offered.contains(Methods::PASSWORD) && auth.password.is_none() {
        s.push_str("; for a password use a terminal or --password-stdin");
    }
    s
}
