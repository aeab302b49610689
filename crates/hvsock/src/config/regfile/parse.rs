//! Reading `.reg` files: the encodings regedit writes, quoted strings, and the keys
//! and values under `GuestCommunicationServices`.

use super::{GCS_KEY, REGEDIT4_HEADER, REGEDIT5_HEADER};
use crate::addr::ServiceId;
use crate::addr::guid::Guid;

/// What [`parse_reg`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegImport {
    /// Each service key with an `ElementName`, in file order (a key given twice keeps
    /// its first position and its last name, as regedit would).
    pub services: Vec<(ServiceId, String)>,
    /// What was ignored and why, one human-readable line each (`line N: ...`).
    pub skipped: Vec<String>,
}

/// Why bytes are not a `.reg` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RegParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> RegParseError {
    RegParseError {
        line,
        message: message.into(),
    }
}

/// Windows-1252 bytes 0x80..=0x9F (the rest of the code page is Latin-1).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
];

fn decode_utf16(b: &[u8], le: bool) -> Result<String, RegParseError> {
    if !b.len().is_multiple_of(2) {
        let line = 1 + b
            .chunks_exact(2)
            .filter(|c| {
                u16::from_le_bytes([c[0], c[1]]) == 10 || u16::from_be_bytes([c[0], c[1]]) == 10
            })
            .count();
        return Err(err(
            line,
            "UTF-16 text with an odd number of bytes (truncated file?)",
        ));
    }
    let units = b.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    Ok(char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

/// Decodes the file's bytes: BOM-marked UTF-16LE/BE or UTF-8, BOM-less UTF-16LE, else
/// UTF-8, else Windows-1252 (what REGEDIT4 files usually are).
pub(super) fn decode(bytes: &[u8]) -> Result<String, RegParseError> {
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        return decode_utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        return decode_utf16(rest, false);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return Ok(String::from_utf8_lossy(rest).into_owned());
    }
    if bytes.len() >= 4 && bytes[0] != 0 && bytes[1] == 0 && bytes[2] != 0 && bytes[3] == 0 {
        return decode_utf16(bytes, true);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => Ok(bytes
            .iter()
            .map(|&b| match b {
                0x80..=0x9f => CP1252_HIGH[(b - 0x80) as usize],
                _ => b as char,
            })
            .collect()),
    }
}

/// Parses a quoted string starting at `s[0] == '"'`; returns the unescaped contents
/// and the rest after the closing quote.
fn parse_quoted(s: &str, line: usize) -> Result<(String, &str), RegParseError> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e @ ('\\' | '"'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(err(line, "unterminated quoted string"))
}

enum KeyState {
    /// Before any key, or in a key we skip.
    Ignore,
    /// In the key of this service.
    Service(ServiceId),
}

fn key_suffix(path: &str) -> Option<&str> {
    let lower = path.to_ascii_lowercase();
    let gcs_lower = GCS_KEY.to_ascii_lowercase();
    let short = gcs_lower.replacen("hkey_local_machine", "hklm", 1);
    for prefix in [gcs_lower.as_str(), short.as_str()] {
        if lower.len() >= prefix.len()
            && lower.starts_with(prefix)
            && path.is_char_boundary(prefix.len())
        {
            return Some(&path[prefix.len()..]);
        }
    }
    None
}

/// Reads a `.reg` file (see the [module docs](super)); returns the services it registers
/// and what it skipped. Errors carry the 1-based line number. Never panics.
pub fn parse_reg(bytes: &[u8]) -> Result<RegImport, RegParseError> {
    let text = decode(bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();

    let mut i = 0;
    // Header: the first non-blank line.
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    match lines.get(i).map(|l| l.trim()) {
        Some(REGEDIT5_HEADER) | Some(REGEDIT4_HEADER) => i += 1,
        Some(other) => {
            let shown: String = other.chars().take(60).collect();
            return Err(err(
                i + 1,
                format!(
                    "not a .reg file: expected {REGEDIT5_HEADER:?} or {REGEDIT4_HEADER:?}, found {shown:?}"
                ),
            ));
        }
        None => return Err(err(1, "empty file: expected a .reg header")),
    }

    let mut out = RegImport::default();
    let mut state = KeyState::Ignore;
    // Service keys in the order first seen, with their ElementName and line; `slots`
    // finds a key's entry in O(1), so a file of N keys parses in O(N).
    let mut names: Vec<(ServiceId, Option<String>, usize)> = Vec::new();
    let mut slots: std::collections::HashMap<ServiceId, usize> = Default::default();

    while i < lines.len() {
        let lineno = i + 1;
        let raw = lines[i];
        i += 1;
        let line = raw.trim_start();
        if line.trim().is_empty() || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(end) = rest.trim_end().strip_suffix(']') else {
                return Err(err(lineno, "a key line must end with ']'"));
            };
            state = KeyState::Ignore;
            if let Some(del) = end.strip_prefix('-') {
                out.skipped
                    .push(format!("line {lineno}: deletion of key [{del}] ignored"));
                continue;
            }
            match key_suffix(end) {
                Some("") | Some("\\") => {} // the parent key itself: nothing to record
                Some(sub) => {
                    let sub = sub.trim_start_matches('\\');
                    let (first, deeper) = match sub.split_once('\\') {
                        Some((f, d)) => (f, !d.is_empty()),
                        None => (sub, false),
                    };
                    match first.parse::<Guid>() {
                        Ok(_) if deeper => out.skipped.push(format!(
                            "line {lineno}: key [{end}] is below a service key; ignored"
                        )),
                        Ok(g) => {
                            let id = ServiceId(g);
                            slots.entry(id).or_insert_with(|| {
                                names.push((id, None, lineno));
                                names.len() - 1
                            });
                            state = KeyState::Service(id);
                        }
                        Err(e) => out.skipped.push(format!(
                            "line {lineno}: key {first:?} under GuestCommunicationServices is not a service GUID ({e}); ignored"
                        )),
                    }
                }
                None => out.skipped.push(format!(
                    "line {lineno}: key [{end}] is outside GuestCommunicationServices; ignored"
                )),
            }
            continue;
        }

        // A value line: "name"=data or @=data, data possibly continued with '\'.
        let (vname, rest) = if let Some(r) = line.strip_prefix('@') {
            (None, r)
        } else if line.starts_with('"') {
            let (n, r) = parse_quoted(line, lineno)?;
            (Some(n), r)
        } else {
            let shown: String = line.chars().take(60).collect();
            return Err(err(
                lineno,
                format!("expected [KEY], \"NAME\"=VALUE or a ; comment, found {shown:?}"),
            ));
        };
        let Some(data) = rest.trim_start().strip_prefix('=') else {
            return Err(err(lineno, "expected '=' after the value name"));
        };
        let data = data.trim_start();
        let mut value: Option<String> = None;
        let what: String;
        if data.starts_with('"') {
            let (v, tail) = parse_quoted(data, lineno)?;
            let tail = tail.trim();
            if !tail.is_empty() && !tail.starts_with(';') {
                return Err(err(lineno, "unexpected text after the closing quote"));
            }
            value = Some(v);
            what = "string".into();
        } else if data.trim() == "-" {
            what = "deletion".into();
        } else {
            // hex:, hex(N):, dword: ... ; follow '\' continuations.
            let mut cur = data.trim_end();
            while cur.ends_with('\\') {
                match lines.get(i) {
                    Some(next) => {
                        cur = next.trim();
                        i += 1;
                    }
                    None => break,
                }
            }
            what = data
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !(what.starts_with("hex") || what == "dword" || what == "qword") {
                let shown: String = data.chars().take(40).collect();
                return Err(err(lineno, format!("unrecognised value data {shown:?}")));
            }
        }
        let shown_name = vname
            .as_deref()
            .map_or("@ (default)".to_string(), |n| format!("{n:?}"));
        match (&state, vname.as_deref()) {
            (KeyState::Service(id), Some(n)) if n.eq_ignore_ascii_case("ElementName") => match value
            {
                Some(v) => {
                    let slot = slots[id];
                    names[slot].1 = Some(v);
                }
                None => out.skipped.push(format!(
                    "line {lineno}: ElementName of {id} is a {what} value, not a string; ignored"
                )),
            },
            (KeyState::Service(id), _) => out.skipped.push(format!(
                "line {lineno}: value {shown_name} of {id} ignored (only ElementName is used)"
            )),
            (KeyState::Ignore, _) => {} // values of skipped keys: already reported with the key
        }
    }
    for (id, name, line) in names {
        match name {
            Some(n) => out.services.push((id, n)),
            None => out.skipped.push(format!(
                "line {line}: key of {id} has no ElementName string; ignored"
            )),
        }
    }
    Ok(out)
}
