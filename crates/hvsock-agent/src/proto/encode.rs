//! The encoder.

use super::types::*;
use super::{ProtoError, validate};
use bytes::{BufMut, BytesMut};

/// Appends the encoding of `frame` to `out`.
///
/// Fails (writing nothing) if the frame breaks a limit: the peer would reject it.
pub fn encode(frame: &Frame, out: &mut BytesMut) -> Result<(), ProtoError> {
    validate(frame)?;
    let start = out.len();
    out.put_u32(0);
    out.put_u8(frame.type_byte());
    match frame {
        Frame::Hello { version } => {
            out.put_slice(&MAGIC);
            out.put_u16(*version);
        }
        Frame::AuthHello { client_nonce } => out.put_slice(client_nonce),
        Frame::Challenge(c) => {
            out.put_u8(c.methods.0);
            out.put_slice(&c.agent_nonce);
            out.put_slice(&c.agent_key);
            out.put_slice(&c.agent_sig);
        }
        Frame::Auth { user, credential } => {
            put_str(out, user);
            out.put_u8(credential.method().0);
            match credential {
                Credential::Key {
                    public_key,
                    signature,
                } => {
                    out.put_slice(public_key);
                    out.put_slice(signature);
                }
                Credential::Password(p) => put_str(out, p),
                Credential::None => {}
            }
        }
        Frame::AuthOk { user } => put_str(out, user),
        Frame::Exec(r) => {
            out.put_u8(r.tty as u8);
            put_window(out, r.window);
            out.put_u32(r.argv.len() as u32);
            for a in &r.argv {
                put_str(out, a);
            }
            put_env(out, &r.env);
            match &r.cwd {
                None => out.put_u8(0),
                Some(c) => {
                    out.put_u8(1);
                    put_str(out, c);
                }
            }
        }
        Frame::Shell(r) => {
            put_window(out, r.window);
            match &r.term {
                None => out.put_u8(0),
                Some(t) => {
                    out.put_u8(1);
                    put_str(out, t);
                }
            }
            put_env(out, &r.env);
        }
        Frame::CopyTo { path, recursive } | Frame::CopyFrom { path, recursive } => {
            out.put_u8(*recursive as u8);
            put_str(out, path);
        }
        Frame::Stdin(b) | Frame::Stdout(b) | Frame::Stderr(b) | Frame::Data(b) => {
            out.put_slice(b);
        }
        Frame::StdinEof | Frame::CopyEnd => {}
        Frame::Resize(w) => put_window(out, *w),
        Frame::Signal(s) => out.put_u8(*s),
        Frame::Exit(st) => match st {
            ExitStatus::Code(c) => {
                out.put_u8(0);
                out.put_i32(*c);
            }
            ExitStatus::Signal(s) => {
                out.put_u8(1);
                out.put_i32(*s);
            }
        },
        Frame::Credit { stream, bytes } => {
            out.put_u8(stream.to_byte());
            out.put_u32(*bytes);
        }
        Frame::CopyTotal { files, bytes } => {
            out.put_u64(*files);
            out.put_u64(*bytes);
        }
        Frame::Dir { path, mode } => {
            out.put_u32(*mode);
            put_str(out, path);
        }
        Frame::File { path, mode, size } => {
            out.put_u32(*mode);
            out.put_u64(*size);
            put_str(out, path);
        }
        Frame::FileEnd { sha256 } => out.put_slice(sha256),
        Frame::CopyDone { files, dirs, bytes } => {
            out.put_u64(*files);
            out.put_u64(*dirs);
            out.put_u64(*bytes);
        }
        Frame::Error { code, message } => {
            out.put_u16(code.0);
            put_str(out, message);
        }
    }
    let len = out.len() - start - 4;
    debug_assert!(len <= MAX_FRAME);
    out[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// Encodes one frame into a fresh buffer.
pub fn encode_to_vec(frame: &Frame) -> Result<Vec<u8>, ProtoError> {
    let mut b = BytesMut::new();
    encode(frame, &mut b)?;
    Ok(b.to_vec())
}

fn put_str(out: &mut BytesMut, s: &str) {
    out.put_u32(s.len() as u32);
    out.put_slice(s.as_bytes());
}

fn put_window(out: &mut BytesMut, w: WindowSize) {
    out.put_u16(w.rows);
    out.put_u16(w.cols);
}

fn put_env(out: &mut BytesMut, env: &[(String, String)]) {
    out.put_u32(env.len() as u32);
    for (k, v) in env {
        put_str(out, k);
        put_str(out, v);
    }
}
