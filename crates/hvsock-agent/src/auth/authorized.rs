//! `authorized_keys`: the public keys an agent accepts.
//!
//! One entry a line: an optional option word `user=NAME[,NAME...]` and a public line
//! (`hvsock-ed25519 <base64> [comment]`). Blank lines and lines starting with `#` are
//! ignored. In the agent's system-wide file a line without `user=` authorizes the
//! agent's own user only; in a user's own file (`~/.config/hvsock/authorized_keys`)
//! `user=` is not allowed (the file authorizes that user).

use super::keys::{KeyError, PublicKey, entry_lines, truncate, word};
use crate::proto::MAX_USER;

/// Most lines an `authorized_keys` file may hold.
pub const MAX_ENTRIES: usize = 10_000;
/// Most names in one `user=` option.
pub const MAX_USERS_PER_LINE: usize = 64;

/// One line of `authorized_keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedKey {
    /// The key.
    pub key: PublicKey,
    /// The users of its `user=` option; `None` without the option.
    pub users: Option<Vec<String>>,
    /// Its line number (for log lines).
    pub line: usize,
}

impl AuthorizedKey {
    /// Whether this entry lets `user` in, `own_user` being the agent's own user (what a
    /// line without `user=` means).
    pub fn authorizes(&self, user: &str, own_user: &str) -> bool {
        match &self.users {
            Some(list) => list.iter().any(|u| u == user),
            None => user == own_user,
        }
    }
}

/// Parses an `authorized_keys` file.
pub fn parse_authorized_keys(text: &str) -> Result<Vec<AuthorizedKey>, KeyError> {
    let mut out = Vec::new();
    for entry in entry_lines(text, MAX_ENTRIES, "keys") {
        let (n, t) = entry?;
        let (first, rest) = word(t).expect("not empty");
        let (users, key_text) = match first.strip_prefix("user=") {
            Some(list) => (Some(parse_users(list, n)?), rest),
            None if first.contains('=') => {
                return Err(KeyError::new(
                    n,
                    format!(
                        "unknown option {:?} (only user=NAME[,NAME])",
                        truncate(first)
                    ),
                ));
            }
            None => (None, t),
        };
        out.push(AuthorizedKey {
            key: PublicKey::parse_line(key_text, n)?,
            users,
            line: n,
        });
    }
    Ok(out)
}

fn parse_users(list: &str, n: usize) -> Result<Vec<String>, KeyError> {
    let mut users = Vec::new();
    for u in list.split(',') {
        if u.is_empty() || u.len() > MAX_USER || u.contains(['/', ':', '=']) {
            return Err(KeyError::new(
                n,
                format!("bad user name {:?} in user=", truncate(u)),
            ));
        }
        if users.len() == MAX_USERS_PER_LINE {
            return Err(KeyError::new(
                n,
                format!("more than {MAX_USERS_PER_LINE} users in user="),
            ));
        }
        users.push(u.to_string());
    }
    Ok(users)
}
