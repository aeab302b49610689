//! The agent's side of the authentication exchange (protocol v3, see PROTOCOL.md
//! "Authentication"): the challenge, the check of the client's credential, the failure
//! delay and the per-peer lockout.

use super::user::{self, SessionUser, UserError};
use super::{AgentError, AgentOptions, Conn};
use crate::auth::keys::fingerprint;
use crate::auth::{
    AuthorizedKey, KeyPair, agent_transcript, parse_authorized_keys, random32, user_transcript,
    verify,
};
use crate::proto::{Challenge, Credential, ErrorCode, Frame, Methods};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

/// Who a connection was authenticated as: handed from the handshake to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user the session runs as (its login name).
    pub user: String,
    /// That user's account, looked up before the credential was checked (its home holds
    /// the per-user `authorized_keys`), and one this agent may serve
    /// ([`may_serve`](super::user::may_serve)).
    pub account: SessionUser,
    /// How they proved it.
    pub method: Methods,
}

/// The password check: `(user, password)`, `Err(reason)` to refuse (the reason goes to
/// the agent's log, not to the client). The CLI's is PAM.
pub type PasswordCheck = Arc<dyn Fn(&str, &str) -> Result<(), String> + Send + Sync>;

/// Where the agent finds the keys it accepts.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Read at each connection (edits count at once, as with sshd): the system-wide
    /// file (a line without `user=` authorizes the agent's own user only), and, if
    /// `per_user`, the user's `~/.config/hvsock/authorized_keys` (refused when it or a
    /// directory above it up to the home is group/world-writable or owned by someone
    /// other than the user or root).
    Files {
        /// The system-wide file (`<agent config dir>/authorized_keys`).
        system: Option<PathBuf>,
        /// Whether users' own files count.
        per_user: bool,
    },
    /// A fixed list (tests, embedders).
    Keys(Vec<AuthorizedKey>),
}

/// How the agent authenticates clients.
#[derive(Clone)]
pub struct AuthOptions {
    /// The methods offered. Default: key.
    pub methods: Methods,
    /// The agent's own key pair (its host key): it signs each challenge, and clients
    /// pin its public half. Default: a random key for this process.
    pub host_key: KeyPair,
    /// The keys accepted. Default: none.
    pub keys: KeySource,
    /// The password check; `None` means password authentication is not offered even
    /// if `methods` has it.
    pub password_check: Option<PasswordCheck>,
    /// How long a failure waits before its error (slows down guessing). Default 1 s.
    pub failure_delay: Duration,
    /// Failures from one peer after which it is refused for `lockout`. Default 5.
    pub max_failures: u32,
    /// How long a peer is refused after `max_failures`. Default 60 s.
    pub lockout: Duration,
    /// The failure counts, shared by every clone of these options.
    pub failures: Arc<Failures>,
    /// The agent's own user (the one a client's empty `user` means): default from the
    /// password database.
    pub own_user: String,
}

impl std::fmt::Debug for AuthOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthOptions")
            .field("methods", &self.methods)
            .field("host_key", &self.host_key)
            .field("keys", &self.keys)
            .field("password_check", &self.password_check.is_some())
            .field("failure_delay", &self.failure_delay)
            .field("max_failures", &self.max_failures)
            .field("lockout", &self.lockout)
            .field("own_user", &self.own_user)
            .finish_non_exhaustive()
    }
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            methods: Methods::KEY,
            host_key: KeyPair::generate("hvsock agent").expect("the OS random source"),
            keys: KeySource::Keys(Vec::new()),
            password_check: None,
            failure_delay: Duration::from_secs(1),
            max_failures: 5,
            lockout: Duration::from_secs(60),
            failures: Arc::default(),
            own_user: own_user_name(),
        }
    }
}

impl AuthOptions {
    /// The methods actually offered: `password` only with a check.
    pub fn offered(&self) -> Methods {
        let mut m = self.methods;
        if self.password_check.is_none() {
            m.0 &= !Methods::PASSWORD.0;
        }
        m
    }
}

/// The agent's user name from the password database, else its uid.
pub fn own_user_name() -> String {
    crate::sys::current_user()
        .0
        .unwrap_or_else(|| rustix::process::getuid().as_raw().to_string())
}

/// Most peers whose failures are remembered: a new peer past it first drops those
/// no longer locked out (peers are partitions, so this is far above real use).
const MAX_PEERS: usize = 4096;

/// Failed authentications per peer.
#[derive(Debug, Default)]
pub struct Failures {
    peers: Mutex<HashMap<String, PeerState>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct PeerState {
    count: u32,
    locked_until: Option<Instant>,
}

impl Failures {
    /// If `peer` is locked out: for how much longer.
    pub fn locked(&self, peer: &str) -> Option<Duration> {
        let now = Instant::now();
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        let until = peers.get(peer)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Counts a failure; locks the peer out at the `max`th.
    fn fail(&self, peer: &str, max: u32, lockout: Duration) {
        let now = Instant::now();
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers.len() >= MAX_PEERS && !peers.contains_key(peer) {
            peers.retain(|_, s| s.locked_until.is_some_and(|u| u > now));
        }
        let s = peers.entry(peer.to_string()).or_default();
        if s.locked_until.is_some_and(|u| u <= now) {
            *s = PeerState::default();
        }
        s.count += 1;
        if s.count >= max.max(1) {
            s.locked_until = Some(now + lockout);
            s.count = 0;
        }
    }

    /// A success forgets the peer's earlier failures.
    fn succeed(&self, peer: &str) {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.remove(peer);
    }
}

/// Why a credential was refused: what the client is told, and the log's detail.
struct Refusal {
    message: String,
    detail: String,
    /// Counted (and delayed) as a guess.
    counts: bool,
}

fn refuse(message: impl Into<String>, counts: bool) -> Refusal {
    let message = message.into();
    Refusal {
        detail: message.clone(),
        message,
        counts,
    }
}

/// Runs the exchange after the `Hello`s: returns who the client is, or fails the
/// connection (with its `Error` sent). `record` gets the user and method the client
/// asked for as soon as its `Auth` arrives, so that a refusal is audited with them.
pub(super) async fn authenticate<R, W>(
    c: &mut Conn<R, W>,
    deadline: Instant,
    peer: &str,
    opts: &AgentOptions,
    record: &mut super::AuditRecord,
) -> Result<Option<Principal>, AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let a = &opts.auth;
    let client_nonce = match c.read_by(deadline, "AuthHello", opts).await? {
        None => return Ok(None),
        Some(Frame::AuthHello { client_nonce }) => client_nonce,
        Some(other) => {
            return Err(c
                .fail(
                    ErrorCode::PROTOCOL,
                    format!("expected AuthHello, got a {} frame", other.name()),
                )
                .await);
        }
    };
    if let Some(left) = a.failures.locked(peer) {
        let message = format!(
            "too many failed authentications from this peer: refused for another {}s",
            left.as_secs().max(1)
        );
        return Err(auth_error(c, message.clone(), message).await);
    }
    let agent_nonce = random32().map_err(|e| AgentError::Request {
        code: ErrorCode::IO,
        message: e.to_string(),
    })?;
    let agent_key = a.host_key.public_bytes();
    let offered = a.offered();
    let agent_sig = a.host_key.sign(&agent_transcript(
        offered.0,
        &client_nonce,
        &agent_nonce,
        &agent_key,
    ));
    c.writer
        .write_frame(&Frame::Challenge(Challenge {
            methods: offered,
            agent_nonce,
            agent_key,
            agent_sig,
        }))
        .await?;
    c.writer.flush().await?;
    let (user, credential) = match c.read_by(deadline, "Auth", opts).await? {
        None => return Ok(None),
        Some(Frame::Auth { user, credential }) => (user, credential),
        Some(other) => {
            return Err(c
                .fail(
                    ErrorCode::PROTOCOL,
                    format!("expected Auth, got a {} frame", other.name()),
                )
                .await);
        }
    };
    record.user = if user.is_empty() {
        a.own_user.clone()
    } else {
        user.clone()
    };
    record.method = credential.method().names();
    let t = Transcript {
        client_nonce,
        agent_nonce,
        agent_key,
    };
    match check(a, &t, &user, &credential).await {
        Ok(principal) => {
            a.failures.succeed(peer);
            c.writer
                .write_frame(&Frame::AuthOk {
                    user: principal.user.clone(),
                })
                .await?;
            c.writer.flush().await?;
            Ok(Some(principal))
        }
        Err(r) => {
            if r.counts {
                a.failures.fail(peer, a.max_failures, a.lockout);
                tokio::time::sleep(a.failure_delay).await;
            }
            Err(auth_error(c, r.message, r.detail).await)
        }
    }
}

async fn auth_error<R, W>(c: &mut Conn<R, W>, message: String, detail: String) -> AgentError
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    c.fail(ErrorCode::AUTH_FAILED, message).await;
    AgentError::Auth(detail)
}

struct Transcript {
    client_nonce: [u8; 32],
    agent_nonce: [u8; 32],
    agent_key: [u8; 32],
}

async fn check(
    a: &AuthOptions,
    t: &Transcript,
    sent_user: &str,
    credential: &Credential,
) -> Result<Principal, Refusal> {
    let method = credential.method();
    let offered = a.offered();
    if !offered.contains(method) {
        return Err(refuse(
            format!(
                "this agent does not accept {} authentication (it accepts: {})",
                method.names(),
                offered.names()
            ),
            false,
        ));
    }
    let user = if sent_user.is_empty() {
        a.own_user.clone()
    } else {
        sent_user.to_string()
    };
    // The account first: the per-user key file is in its home, and an agent that is
    // not root refuses other users before looking at any credential. An unknown user
    // counts as a failure, like a wrong credential (guessing names is guessing too).
    let requested = (user != a.own_user).then_some(user.as_str());
    let account = user::resolve(requested).await.map_err(|e| {
        let counts = matches!(e, UserError::NoSuchUser(_));
        refuse(e.to_string(), counts)
    })?;
    match credential {
        Credential::None => {}
        Credential::Key {
            public_key,
            signature,
        } => {
            let msg = user_transcript(
                &t.client_nonce,
                &t.agent_nonce,
                &t.agent_key,
                sent_user,
                public_key,
            );
            if !verify(public_key, &msg, signature) {
                return Err(refuse(
                    "the key's signature does not verify for this connection (altered or replayed)",
                    true,
                ));
            }
            let keys = a.keys.clone();
            let (u, own) = (account.clone(), a.own_user.clone());
            let pk = *public_key;
            let found = tokio::task::spawn_blocking(move || authorized(&keys, &u, &own, &pk))
                .await
                .map_err(|e| refuse(format!("key lookup failed: {e}"), false))?;
            if let Err(detail) = found {
                let message = format!(
                    "key {} is not authorized for user {user} on this agent",
                    fingerprint(public_key)
                );
                return Err(Refusal {
                    detail: format!("{message}: {detail}"),
                    message,
                    counts: true,
                });
            }
        }
        Credential::Password(p) => {
            let check = a.password_check.clone().expect("offered only with a check");
            let (u, p) = (user.clone(), p.clone());
            let r = tokio::task::spawn_blocking(move || check(&u, &p))
                .await
                .map_err(|e| refuse(format!("password check failed: {e}"), true))?;
            if let Err(detail) = r {
                return Err(Refusal {
                    message: format!("password not accepted for user {user}"),
                    detail: format!("password not accepted for user {user}: {detail}"),
                    counts: true,
                });
            }
        }
    }
    Ok(Principal {
        user,
        account,
        method,
    })
}

/// Whether `key` is authorized for `user`; `Err` says where it looked and what it
/// skipped.
fn authorized(
    src: &KeySource,
    account: &SessionUser,
    own_user: &str,
    key: &[u8; 32],
) -> Result<(), String> {
    let user = account.name.as_str();
    let hit = |list: &[AuthorizedKey], per_user: bool| {
        list.iter()
            .any(|k| k.key.key == *key && (per_user || k.authorizes(user, own_user)))
    };
    match src {
        KeySource::Keys(list) => match hit(list, false) {
            true => Ok(()),
            false => Err("not in the agent's key list".into()),
        },
        KeySource::Files { system, per_user } => {
            let mut notes = Vec::new();
            if let Some(f) = system {
                match read_keys(f) {
                    Ok(list) if hit(&list, false) => return Ok(()),
                    Ok(_) => notes.push(format!("not in {}", f.display())),
                    Err(e) => notes.push(e),
                }
            }
            if *per_user {
                match user_file(account) {
                    Ok(f) => match read_keys(&f) {
                        Ok(list) if hit(&list, true) => return Ok(()),
                        Ok(_) => notes.push(format!("not in {}", f.display())),
                        Err(e) => notes.push(e),
                    },
                    Err(e) => notes.push(e),
                }
            }
            Err(notes.join("; "))
        }
    }
}

fn read_keys(f: &Path) -> Result<Vec<AuthorizedKey>, String> {
    match std::fs::read_to_string(f) {
        Ok(text) => {
            parse_authorized_keys(&text).map_err(|e| format!("{} skipped: {e}", f.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", f.display())),
    }
}

/// `~user/.config/hvsock/authorized_keys`, after the StrictModes checks of it and of
/// each directory from it up to the home.
fn user_file(account: &SessionUser) -> Result<PathBuf, String> {
    let home = account.home();
    let f = home.join(".config/hvsock/authorized_keys");
    strict_modes(&f, home, account.uid)?;
    Ok(f)
}

/// Refuses `file` if it or a directory above it up to `home` (inclusive) is writable
/// by group or others, or owned by someone other than `uid` or root: another user
/// could put a key in.
pub fn strict_modes(file: &Path, home: &Path, uid: u32) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let mut p = Some(file);
    while let Some(cur) = p {
        match std::fs::metadata(cur) {
            Ok(m) => {
                if m.uid() != uid && m.uid() != 0 {
                    return Err(format!(
                        "{} skipped: owned by uid {}, not the user or root",
                        cur.display(),
                        m.uid()
                    ));
                }
                if m.mode() & 0o022 != 0 {
                    return Err(format!(
                        "{} skipped: writable by group or others (mode {:o})",
                        cur.display(),
                        m.mode() & 0o7777
                    ));
                }
            }
            // A missing file has no keys; `read_keys` says nothing about it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", cur.display())),
        }
        if cur == home {
            break;
        }
        p = cur.parent();
    }
    Ok(())
}
