//! The limit checks shared by the encoder and the decoder.

use super::ProtoError;
use super::types::*;

/// Checks every limit of `frame` (the same checks the decoder makes).
pub fn validate(frame: &Frame) -> Result<(), ProtoError> {
    let name = frame.name();
    let too_long = |field, len: usize, max| {
        if len > max {
            Err(ProtoError::FieldTooLong {
                frame: name,
                field,
                len: len as u64,
                max,
            })
        } else {
            Ok(())
        }
    };
    let check_env = |env: &[(String, String)]| -> Result<(), ProtoError> {
        if env.len() > MAX_ENV {
            return Err(ProtoError::TooMany {
                frame: name,
                field: "env",
                count: env.len() as u64,
                max: MAX_ENV,
            });
        }
        let total: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
        too_long("env", total, MAX_ENV_BYTES)?;
        for (k, _) in env {
            check_env_key(name, k)?;
        }
        Ok(())
    };
    match frame {
        Frame::Exec(r) => {
            if r.argv.is_empty() {
                return Err(ProtoError::BadValue {
                    frame: name,
                    field: "argc",
                    value: 0,
                });
            }
            if r.argv.len() > MAX_ARGC {
                return Err(ProtoError::TooMany {
                    frame: name,
                    field: "argv",
                    count: r.argv.len() as u64,
                    max: MAX_ARGC,
                });
            }
            too_long("argv", r.argv.iter().map(|a| a.len()).sum(), MAX_ARGV_BYTES)?;
            for a in &r.argv {
                no_nul(name, "argv", a)?;
            }
            check_env(&r.env)?;
            if let Some(c) = &r.cwd {
                too_long("cwd", c.len(), MAX_PATH)?;
                no_nul(name, "cwd", c)?;
            }
        }
        Frame::Shell(r) => {
            if let Some(t) = &r.term {
                too_long("term", t.len(), MAX_TERM)?;
                no_nul(name, "term", t)?;
            }
            check_env(&r.env)?;
        }
        Frame::CopyTo { path, .. } | Frame::CopyFrom { path, .. } => {
            too_long("path", path.len(), MAX_PATH)?;
            no_nul(name, "path", path)?;
        }
        Frame::Dir { path, .. } | Frame::File { path, .. } => {
            too_long("path", path.len(), MAX_PATH)?;
            no_nul(name, "path", path)?;
        }
        Frame::Stdin(b) | Frame::Stdout(b) | Frame::Stderr(b) | Frame::Data(b) => {
            too_long("data", b.len(), MAX_PAYLOAD)?;
        }
        Frame::Challenge(c) => check_methods(c.methods.0)?,
        Frame::Auth { user, credential } => {
            check_user(name, user)?;
            if let Credential::Password(p) = credential {
                too_long("password", p.len(), MAX_PASSWORD)?;
                no_nul(name, "password", p)?;
            }
        }
        Frame::AuthOk { user } => check_user(name, user)?,
        Frame::Signal(s) => check_signal(*s)?,
        Frame::Credit { bytes, .. } => check_credit(*bytes)?,
        Frame::Error { message, .. } => too_long("message", message.len(), MAX_MESSAGE)?,
        _ => {}
    }
    Ok(())
}

pub(super) fn no_nul(frame: &'static str, field: &'static str, s: &str) -> Result<(), ProtoError> {
    if s.as_bytes().contains(&0) {
        Err(ProtoError::BadValue {
            frame,
            field,
            value: 0,
        })
    } else {
        Ok(())
    }
}

pub(super) fn check_env_key(frame: &'static str, k: &str) -> Result<(), ProtoError> {
    if k.is_empty() || k.contains('=') || k.as_bytes().contains(&0) {
        return Err(ProtoError::BadValue {
            frame,
            field: "env key",
            value: k.len() as u64,
        });
    }
    Ok(())
}

pub(super) fn check_signal(s: u8) -> Result<(), ProtoError> {
    if s == 0 || s > 64 {
        Err(ProtoError::BadValue {
            frame: "Signal",
            field: "signo",
            value: s as u64,
        })
    } else {
        Ok(())
    }
}

pub(super) fn check_credit(bytes: u32) -> Result<(), ProtoError> {
    if bytes == 0 || bytes > MAX_WINDOW {
        Err(ProtoError::BadValue {
            frame: "Credit",
            field: "bytes",
            value: bytes as u64,
        })
    } else {
        Ok(())
    }
}

/// A user name: at most [`MAX_USER`] bytes, no NUL, `/`, `:` or control characters
/// (none of which a passwd name has; they would make paths or log lines ambiguous).
pub(super) fn check_user(frame: &'static str, user: &str) -> Result<(), ProtoError> {
    if user.len() > MAX_USER {
        return Err(ProtoError::FieldTooLong {
            frame,
            field: "user",
            len: user.len() as u64,
            max: MAX_USER,
        });
    }
    if let Some(c) = user
        .chars()
        .find(|c| c.is_control() || *c == '/' || *c == ':')
    {
        return Err(ProtoError::BadValue {
            frame,
            field: "user",
            value: c as u64,
        });
    }
    Ok(())
}

/// `Challenge.methods`: at least one method, only defined bits.
pub(super) fn check_methods(m: u8) -> Result<(), ProtoError> {
    if m == 0 || m & !Methods::ALL.0 != 0 {
        Err(ProtoError::BadValue {
            frame: "Challenge",
            field: "methods",
            value: m as u64,
        })
    } else {
        Ok(())
    }
}
