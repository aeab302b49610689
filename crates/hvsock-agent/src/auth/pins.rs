//! The client's pin file: the agent keys it has seen, like ssh's `known_hosts`.
//!
//! One pin a line: `<vm id> <service id> hvsock-ed25519 <base64>` (GUIDs as `hvsock vm
//! list` prints them). Blank lines and `#` comments are ignored. The file is
//! `<config dir>/agent_keys` by default (`hvsock exec --pin-file`).

use super::keys::{
    KeyError, PUBLIC_TAG, decode32, encode32, entry_lines, fingerprint, truncate, word,
};
use hvsock::{ServiceId, VmId};
use std::path::{Path, PathBuf};

/// Most pins a pin file may hold.
pub const MAX_PINS: usize = 100_000;

/// One pinned agent key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The VM (or partition) the agent runs in.
    pub vm: VmId,
    /// The agent's service id.
    pub service: ServiceId,
    /// Its ed25519 public key.
    pub key: [u8; 32],
    /// The line number in the file.
    pub line: usize,
}

/// Parses a pin file.
pub fn parse_pins(text: &str) -> Result<Vec<Pin>, KeyError> {
    let mut out = Vec::new();
    for entry in entry_lines(text, MAX_PINS, "pins") {
        let (n, t) = entry?;
        let (vm, rest) = word(t).expect("not empty");
        let vm: VmId = vm
            .parse()
            .map_err(|_| KeyError::new(n, format!("bad VM id {:?}", truncate(vm))))?;
        let (service, rest) = word(rest).ok_or_else(|| KeyError::new(n, "missing service id"))?;
        let service: ServiceId = service
            .parse()
            .map_err(|_| KeyError::new(n, format!("bad service id {:?}", truncate(service))))?;
        let (tag, rest) = word(rest).ok_or_else(|| KeyError::new(n, "missing key type"))?;
        if tag != PUBLIC_TAG {
            return Err(KeyError::new(
                n,
                format!("expected {PUBLIC_TAG:?}, found {:?}", truncate(tag)),
            ));
        }
        let (b64, extra) = word(rest).ok_or_else(|| KeyError::new(n, "missing key"))?;
        if !extra.is_empty() {
            return Err(KeyError::new(n, "text after the key"));
        }
        out.push(Pin {
            vm,
            service,
            key: decode32(b64, n)?,
            line: n,
        });
    }
    Ok(out)
}

/// The line of a pin (no newline).
pub fn pin_line(vm: VmId, service: ServiceId, key: &[u8; 32]) -> String {
    format!("{vm} {service} {PUBLIC_TAG} {}", encode32(key))
}

/// What the client does with the agent's key (`--pin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PinMode {
    /// No check (the agent's signature is still verified).
    Off,
    /// Trust on first use: an unknown agent's key is recorded, a changed one refused.
    #[default]
    Tofu,
    /// Only agents whose key is in the file.
    Strict,
}

/// What [`PinFile::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    /// The key matches its pin.
    Matched,
    /// There was no pin: this key has been recorded (trust on first use).
    Recorded,
    /// Pinning is off.
    Unchecked,
}

/// A pin file and the agent it is checked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinFile {
    /// The file.
    pub path: PathBuf,
    /// Whether and how to check.
    pub mode: PinMode,
    /// The VM connected to.
    pub vm: VmId,
    /// The service connected to.
    pub service: ServiceId,
}

impl PinFile {
    /// Checks `key` (the agent's, its signature already verified) against the pins;
    /// records it when unknown and the mode is [`PinMode::Tofu`]. The error is the
    /// message to show (both fingerprints, the file and line to edit).
    pub fn check(&self, key: &[u8; 32]) -> Result<PinOutcome, String> {
        if self.mode == PinMode::Off {
            return Ok(PinOutcome::Unchecked);
        }
        let p = &self.path;
        // The lock orders two clients recording their first pin at once.
        let _lock = match self.mode {
            PinMode::Tofu => Some(hvsock::store::lock(p).map_err(|e| e.to_string())?),
            _ => None,
        };
        let text = hvsock::store::read_optional(p)
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let pins = parse_pins(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        if let Some(pin) = pins
            .iter()
            .find(|x| x.vm == self.vm && x.service == self.service)
        {
            if pin.key == *key {
                return Ok(PinOutcome::Matched);
            }
            return Err(format!(
                "THE AGENT'S KEY HAS CHANGED for VM {} service {}: pinned {} ({} line {}), \
                 the agent now offers {}. Someone may be impersonating the agent, or its \
                 key was regenerated; if you know it was, delete line {} of {} and connect again",
                self.vm,
                self.service,
                fingerprint(&pin.key),
                p.display(),
                pin.line,
                fingerprint(key),
                pin.line,
                p.display()
            ));
        }
        if self.mode == PinMode::Strict {
            return Err(format!(
                "no pinned key for VM {} service {} in {} (--pin strict): the agent offers {}; \
                 to trust it add the line `{}`",
                self.vm,
                self.service,
                p.display(),
                fingerprint(key),
                pin_line(self.vm, self.service, key)
            ));
        }
        let mut new = text;
        if !new.is_empty() && !new.ends_with('\n') {
            new.push('\n');
        }
        new.push_str(&pin_line(self.vm, self.service, key));
        new.push('\n');
        if let Some(dir) = p.parent() {
            hvsock::store::ensure_dir(dir).map_err(|e| e.to_string())?;
        }
        hvsock::store::write_atomic(p, new.as_bytes()).map_err(|e| e.to_string())?;
        Ok(PinOutcome::Recorded)
    }
}

/// The default pin file of a config dir.
pub fn default_pin_file(config_dir: &Path) -> PathBuf {
    config_dir.join("agent_keys")
}
