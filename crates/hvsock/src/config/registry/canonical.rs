//! A fast path for reading `services.toml` as hvsock writes it.
//!
//! The general TOML parser keeps a whole document in memory before serde sees it: a
//! 34 MB registry of 330,000 services took 780 MB to load. The files hvsock writes
//! ([`Registry::to_toml`](super::Registry::to_toml)) have one fixed shape, so this
//! reader takes exactly that shape, line by line:
//!
//! ```toml
//! [[service]]
//! id = "999e53d4-3d5c-4c3e-8779-bed06ec056e1"
//! name = "VM Session Service"
//! enabled = true
//! ```
//!
//! (blank lines anywhere, each key at most once per entry, `enabled` optional, names
//! without `"`, `\` or control characters). Anything else, a comment, other spacing, an
//! escape, a missing key, makes it give up (`None`) and the general parser reads the
//! file, with its error messages. So for every text this reader accepts, the result is
//! what the general parser gives (checked by property tests and the `registry_toml`
//! fuzz target).

use super::Service;
use crate::addr::ServiceId;

/// The services of `text` if it has the canonical shape; `None` otherwise.
pub(super) fn parse(text: &str) -> Option<Vec<Service>> {
    let mut out = Vec::new();
    // The entry being read: its id, name and enabled flag so far.
    let mut cur: Option<(Option<ServiceId>, Option<String>, Option<bool>)> = None;
    let finish = |c: (Option<ServiceId>, Option<String>, Option<bool>)| {
        Some(Service {
            id: c.0?,
            name: c.1?,
            enabled: c.2.unwrap_or(true),
        })
    };
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        if line == "[[service]]" {
            if let Some(c) = cur.take() {
                out.push(finish(c)?);
            }
            cur = Some((None, None, None));
            continue;
        }
        let c = cur.as_mut()?;
        if let Some(v) = line.strip_prefix("id = \"") {
            let v = v.strip_suffix('"')?;
            if c.0.is_some() || !v.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                return None;
            }
            c.0 = Some(ServiceId(v.parse().ok()?));
        } else if let Some(v) = line.strip_prefix("name = \"") {
            let v = v.strip_suffix('"')?;
            if c.1.is_some()
                || v.chars()
                    .any(|ch| ch == '"' || ch == '\\' || ch.is_control())
            {
                return None;
            }
            c.1 = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("enabled = ") {
            if c.2.is_some() {
                return None;
            }
            c.2 = Some(match v {
                "true" => true,
                "false" => false,
                _ => return None,
            });
        } else {
            return None;
        }
    }
    if let Some(c) = cur {
        out.push(finish(c)?);
    }
    Some(out)
}
