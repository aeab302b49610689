//! The user a session runs as ([`SessionUser`]), whether this agent may serve it
//! ([`resolve`]), and running work with its credentials.
//!
//! A root agent runs each session as its user: a child process takes the user's
//! groups, gid and uid before exec (`sys::user::configure_user`); a copy does its file
//! operations on a dedicated thread that took the user's credentials (see
//! `copy.rs`). An agent that is not root serves only its own user.

use crate::proto::ErrorCode;
use crate::sys::user::{self as sys_user, Credentials, PasswdEntry};
use std::io;
use std::path::{Path, PathBuf};

/// The user a session runs as, from the password and group databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Every group of the user (`getgrouplist`: the primary group and those of the
    /// group database that list the user), sorted.
    pub groups: Vec<u32>,
    /// Home directory (`/` if the entry has none).
    pub home: PathBuf,
    /// Login shell (`/bin/sh` if the entry has none, or names no existing file).
    pub shell: PathBuf,
}

/// Why a session cannot run as the user asked for.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No such user in the password database.
    #[error("no such user: {0}")]
    NoSuchUser(String),
    /// The agent is not root and was asked for another user than its own.
    #[error("the agent runs as {agent}, not root: it can only serve {agent} (not {requested})")]
    NotRoot {
        /// The agent's user.
        agent: String,
        /// The user asked for.
        requested: String,
    },
    /// The password or group database could not be read.
    #[error("cannot look up user {name}: {error}")]
    Lookup {
        /// The user.
        name: String,
        /// What failed.
        error: io::Error,
    },
}

impl UserError {
    /// The protocol error code a client is sent for it.
    pub fn code(&self) -> ErrorCode {
        match self {
            UserError::NoSuchUser(_) => ErrorCode::NOT_FOUND,
            UserError::NotRoot { .. } => ErrorCode::PERMISSION_DENIED,
            UserError::Lookup { .. } => ErrorCode::IO,
        }
    }
}

impl SessionUser {
    fn from_entry(pw: PasswdEntry, groups: Vec<u32>) -> SessionUser {
        let home = if pw.home.as_os_str().is_empty() {
            PathBuf::from("/")
        } else {
            pw.home
        };
        let shell = Some(pw.shell)
            .filter(|s| s.is_absolute() && s.exists())
            .unwrap_or_else(|| PathBuf::from("/bin/sh"));
        SessionUser {
            name: pw.name,
            uid: pw.uid,
            gid: pw.gid,
            groups,
            home,
            shell,
        }
    }

    /// The user `name` (blocking: the databases may be remote, through NSS).
    pub fn lookup(name: &str) -> Result<SessionUser, UserError> {
        let failed = |error| UserError::Lookup {
            name: name.to_string(),
            error,
        };
        let pw = sys_user::passwd_by_name(name)
            .map_err(failed)?
            .ok_or_else(|| UserError::NoSuchUser(name.to_string()))?;
        let groups = sys_user::group_list(&pw.name, pw.gid).map_err(failed)?;
        Ok(SessionUser::from_entry(pw, groups))
    }

    /// The agent's own user (its effective uid). Without a password entry (a container
    /// running an arbitrary uid): named by its uid, home `$HOME` or `/`, the process's
    /// own groups, `/bin/sh`. Blocking, like [`lookup`](Self::lookup).
    pub fn current() -> SessionUser {
        let uid = rustix::process::geteuid().as_raw();
        if let Ok(Some(pw)) = sys_user::passwd_by_uid(uid)
            && let Ok(groups) = sys_user::group_list(&pw.name, pw.gid)
        {
            return SessionUser::from_entry(pw, groups);
        }
        let (_, _, _, gid, groups) = sys_user::thread_credentials().unwrap_or_default();
        SessionUser {
            name: uid.to_string(),
            uid,
            gid,
            groups,
            home: std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|h| h.is_absolute())
                .unwrap_or_else(|| PathBuf::from("/")),
            shell: PathBuf::from("/bin/sh"),
        }
    }

    /// The credentials a session of this user takes, or `None` when it runs with the
    /// agent's own (the agent is this user).
    pub(crate) fn switch(&self) -> Option<Credentials> {
        (self.uid != rustix::process::geteuid().as_raw()).then(|| Credentials {
            uid: self.uid,
            gid: self.gid,
            groups: self.groups.clone(),
        })
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.home
    }
}

/// Whether an agent running as `agent` may serve `user`: its own user always (no
/// switch), any user when it is root (uid 0), no other user otherwise.
pub fn may_serve(agent: &SessionUser, user: &SessionUser) -> Result<(), UserError> {
    if user.uid == agent.uid || agent.uid == 0 {
        return Ok(());
    }
    Err(UserError::NotRoot {
        agent: agent.name.clone(),
        requested: user.name.clone(),
    })
}

/// The user a connection's session runs as: `requested` (the authenticated user), or
/// the agent's own user for `None`; refused if this agent may not serve it
/// ([`may_serve`]). The lookups run on tokio's blocking pool.
pub async fn resolve(requested: Option<&str>) -> Result<SessionUser, UserError> {
    let requested = requested.map(str::to_string);
    let looked_up = tokio::task::spawn_blocking(move || {
        let agent = SessionUser::current();
        let user = match requested {
            None => agent.clone(),
            Some(name) => SessionUser::lookup(&name)?,
        };
        may_serve(&agent, &user)?;
        Ok(user)
    })
    .await;
    looked_up.unwrap_or_else(|e| {
        Err(UserError::Lookup {
            name: String::new(),
            error: io::Error::other(e.to_string()),
        })
    })
}

/// Runs `f` on a new thread that first takes `creds` for good (it never runs anything
/// else), and waits for it without blocking the runtime. Before the first such thread
/// the process is made non-dumpable (`sys::user::make_undumpable`): a thread with a
/// user's uid shares the agent's memory, and must not be open to that user's `ptrace`.
///
/// Threads started by `f` inherit the user's credentials (the kernel copies the
/// creating thread's), not the agent's.
pub(crate) async fn run_as<T, F>(creds: Credentials, f: F) -> io::Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    sys_user::make_undumpable()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("hvsock-as-user".into())
        .spawn(move || {
            let r = sys_user::take_credentials(&creds).map(|()| f());
            let _ = tx.send(r);
        })?;
    rx.await
        .map_err(|_| io::Error::other("the thread working as the session's user panicked"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, uid: u32) -> SessionUser {
        SessionUser {
            name: name.into(),
            uid,
            gid: uid,
            groups: vec![uid],
            home: "/".into(),
            shell: "/bin/sh".into(),
        }
    }

    #[test]
    fn root_serves_anyone_others_only_themselves() {
        let (root, alice, bob) = (user("root", 0), user("alice", 1000), user("bob", 1001));
        assert!(may_serve(&root, &alice).is_ok());
        assert!(may_serve(&root, &root).is_ok());
        assert!(may_serve(&alice, &alice).is_ok());
        let e = may_serve(&alice, &bob).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the agent runs as alice, not root: it can only serve alice (not bob)"
        );
        assert_eq!(e.code(), ErrorCode::PERMISSION_DENIED);
        assert!(may_serve(&alice, &root).is_err());
    }

    /// nobody's credentials, with one extra supplementary group.
    fn nobody() -> Credentials {
        Credentials {
            uid: 65534,
            gid: 65534,
            groups: vec![65534, 4242],
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn run_as_changes_only_its_own_thread_and_the_threads_it_starts() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("run_as_changes_only_its_own_thread...: skipped: needs root");
            return;
        }
        let before = sys_user::thread_credentials().unwrap();
        let creds = nobody();
        let want = creds.clone();
        let (here, blocking) = run_as(creds, move || {
            let here = want.are_current();
            // A runtime's blocking thread, started from this thread, as the copy's are.
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let w = want.clone();
            let blocking = rt.block_on(async move {
                tokio::task::spawn_blocking(move || w.are_current())
                    .await
                    .unwrap()
            });
            (here, blocking)
        })
        .await
        .unwrap();
        assert!(here && blocking);
        // The agent's own threads kept theirs (the calls are per thread).
        assert_eq!(sys_user::thread_credentials().unwrap(), before);
        let pool = tokio::task::spawn_blocking(sys_user::thread_credentials)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pool, before);
    }

    #[tokio::test]
    async fn run_as_reports_credentials_it_cannot_take() {
        let other = Credentials {
            uid: 4243,
            gid: 4243,
            groups: vec![4243],
        };
        let inner = move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(run_as(other, || ()))
        };
        // A thread that is not root (as nobody, when the test runs as root) cannot
        // take another user's credentials: the error says so, nothing runs.
        let e = if rustix::process::geteuid().is_root() {
            run_as(nobody(), inner).await.unwrap().unwrap_err()
        } else {
            inner().unwrap_err()
        };
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
    }

    #[test]
    fn current_user_matches_the_process() {
        let me = SessionUser::current();
        assert_eq!(me.uid, rustix::process::geteuid().as_raw());
        assert!(me.home.is_absolute());
        assert!(me.shell.is_absolute());
        assert_eq!(me.switch(), None);
    }

    #[test]
    fn root_is_found_and_unknown_users_are_not() {
        let root = SessionUser::lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(root.groups.contains(&0));
        let e = SessionUser::lookup("hvst-no-such-user-x").unwrap_err();
        assert!(matches!(e, UserError::NoSuchUser(_)), "{e}");
        assert_eq!(e.to_string(), "no such user: hvst-no-such-user-x");
        assert_eq!(e.code(), ErrorCode::NOT_FOUND);
        assert!(matches!(
            SessionUser::lookup("a\0b").unwrap_err(),
            UserError::NoSuchUser(_)
        ));
    }
}
