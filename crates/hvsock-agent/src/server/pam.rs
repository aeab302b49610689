//! The agent's password check through PAM: `pam_authenticate`, then `pam_acct_mgmt`
//! (expired or locked accounts are refused too), under the agent's own PAM service.
//!
//! libpam is loaded at run time (see `sys::pam`): a guest without it refuses password
//! authentication with [`PamError::Unavailable`] and serves everything else.

use crate::sys::pam as sys_pam;
use std::path::Path;

/// The PAM service the agent checks passwords under (`/etc/pam.d/hvsock`).
pub const SERVICE: &str = "hvsock";

/// Why a password check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PamError {
    /// Wrong password, unknown user, or a module that refused the authentication.
    #[error("authentication failed for {user}: {message}")]
    Refused {
        /// The user.
        user: String,
        /// PAM's text.
        message: String,
    },
    /// The account check (`pam_acct_mgmt`) refused: expired, locked, not allowed.
    #[error("account of {user} not usable: {message}")]
    Account {
        /// The user.
        user: String,
        /// PAM's text.
        message: String,
    },
    /// PAM could not be used (no libpam, no such service configuration...).
    #[error("PAM is not usable: {0}")]
    Unavailable(String),
}

/// Checks `user`'s `password` with PAM under `service`, with PAM's configuration from
/// `confdir` (one service file per name, as in `/etc/pam.d`; libpam 1.5) or the
/// system's. Blocking: call it from a blocking thread (modules may sleep after a
/// failure).
pub fn check_password(
    service: &str,
    user: &str,
    password: &str,
    confdir: Option<&Path>,
) -> Result<(), PamError> {
    sys_pam::authenticate(service, user, password, confdir).map_err(|f| match f.step {
        "pam_authenticate" => PamError::Refused {
            user: user.to_string(),
            message: f.message,
        },
        "pam_acct_mgmt" => PamError::Account {
            user: user.to_string(),
            message: f.message,
        },
        _ => PamError::Unavailable(f.message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confdir(service: &str, rules: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(service), rules).unwrap();
        d
    }

    #[test]
    fn permit_and_deny_plumbing() {
        let d = confdir(
            "hvst-permit",
            "auth required pam_permit.so\naccount required pam_permit.so\n",
        );
        check_password("hvst-permit", "nobody", "x", Some(d.path())).unwrap();
        let d = confdir(
            "hvst-deny",
            "auth required pam_deny.so\naccount required pam_permit.so\n",
        );
        let e = check_password("hvst-deny", "nobody", "x", Some(d.path())).unwrap_err();
        assert!(matches!(e, PamError::Refused { .. }), "{e}");
        let d = confdir(
            "hvst-acct",
            "auth required pam_permit.so\naccount required pam_deny.so\n",
        );
        let e = check_password("hvst-acct", "nobody", "x", Some(d.path())).unwrap_err();
        assert!(matches!(e, PamError::Account { .. }), "{e}");
    }

    #[test]
    fn a_service_without_configuration_is_refused() {
        // Linux-PAM falls back to the directory's "other" service, absent here: every
        // step fails rather than letting anyone in.
        let d = tempfile::tempdir().unwrap();
        assert!(check_password("hvst-none", "nobody", "x", Some(d.path())).is_err());
    }

    #[test]
    fn nul_bytes_are_refused_before_pam() {
        let d = tempfile::tempdir().unwrap();
        let e = check_password("hvst", "a\0b", "x", Some(d.path())).unwrap_err();
        assert!(matches!(e, PamError::Unavailable(_)), "{e}");
    }
}
