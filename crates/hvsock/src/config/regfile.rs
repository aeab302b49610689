//! Windows `.reg` files and PowerShell scripts for Hyper-V's service registration,
//! `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices`.
//!
//! [`export_reg`] writes what regedit itself writes (UTF-16LE with a BOM, CRLF,
//! `Windows Registry Editor Version 5.00`), one key per service named by its bare
//! uppercase GUID, as Hyper-V's own keys are, with a string value `ElementName`.
//! [`export_ps1`] writes a PowerShell script that does the same and can be run again.
//! Both export only enabled services: the registry has no "disabled" flag, so a
//! disabled service is written as a comment naming it.
//!
//! [`parse_reg`] reads regedit's UTF-16LE form, the ASCII/UTF-8 `REGEDIT4` form and
//! UTF-16BE/UTF-8 variants, and keeps only `ElementName` values of keys directly under
//! `GuestCommunicationServices`; everything else is reported in
//! [`RegImport::skipped`].
//!
//! ```
//! use hvsock::regfile::{export_reg, parse_reg};
//! use hvsock::registry::Service;
//!
//! let s = Service {
//!     id: "999e53d4-3d5c-4c3e-8779-bed06ec056e1".parse().unwrap(),
//!     name: "VM Session Service".into(),
//!     enabled: true,
//! };
//! let bytes = export_reg(&[s.clone()]);
//! assert_eq!(&bytes[..2], &[0xff, 0xfe]);
//! let back = parse_reg(&bytes).unwrap();
//! assert_eq!(back.services, vec![(s.id, s.name)]);
//! assert!(back.skipped.is_empty());
//! ```

use crate::addr::ServiceId;
use crate::addr::guid::Guid;
use crate::config::registry::Service;
use std::fmt::Write as _;

/// The registry key holding Hyper-V socket services, with its full hive name.
pub const GCS_KEY: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices";
/// The same key as PowerShell's registry provider names it.
pub const GCS_PS_PATH: &str = "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices";
/// The header line of regedit 5 files.
pub const REGEDIT5_HEADER: &str = "Windows Registry Editor Version 5.00";
/// The header line of old ASCII `.reg` files.
pub const REGEDIT4_HEADER: &str = "REGEDIT4";

fn upper_guid(id: ServiceId) -> String {
    id.to_string().to_ascii_uppercase()
}

fn reg_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The text (before UTF-16 encoding) of [`export_reg`].
pub fn export_reg_text(services: &[Service]) -> String {
    let mut out = String::new();
    out.push_str(REGEDIT5_HEADER);
    out.push_str("\r\n\r\n");
    for s in services {
        if s.enabled {
            let _ = write!(
                out,
                "[{GCS_KEY}\\{}]\r\n\"ElementName\"=\"{}\"\r\n\r\n",
                upper_guid(s.id),
                reg_escape(&s.name)
            );
        } else {
            let _ = write!(
                out,
                "; disabled in hvsock, not exported: {} \"{}\"\r\n\r\n",
                upper_guid(s.id),
                reg_escape(&s.name)
            );
        }
    }
    out
}

/// A `.reg` file registering the enabled `services`, in regedit's own format: UTF-16LE
/// with the BOM `FF FE`, CRLF line ends, the `Windows Registry Editor Version 5.00`
/// header and a blank line after it and after every key. Disabled services appear only
/// as `;` comments (the registry has no "disabled" flag).
pub fn export_reg(services: &[Service]) -> Vec<u8> {
    let text = export_reg_text(services);
    let mut out = Vec::with_capacity(2 + text.len() * 2);
    out.extend_from_slice(&[0xff, 0xfe]);
    for u in text.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

/// A PowerShell literal for `s`: a single-quoted string, with non-ASCII characters
/// spliced in as `[char]` codes so the script is pure ASCII (Windows PowerShell 5.1 reads
/// BOM-less scripts in the ANSI code page).
fn ps_literal(s: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in s.chars() {
        if c.is_ascii() {
            if c == '\'' {
                run.push('\'');
            }
            run.push(c);
        } else {
            if !run.is_empty() {
                parts.push(format!("'{run}'"));
                run.clear();
            }
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                parts.push(format!("[char]0x{u:04X}"));
            }
        }
    }
    if !run.is_empty() || parts.is_empty() {
        parts.push(format!("'{run}'"));
    }
    if parts.len() == 1 {
        parts.pop().unwrap()
    } else {
        format!("(-join @({}))", parts.join(", "))
    }
}

/// A PowerShell script (CRLF, pure ASCII) that registers the enabled `services` on a
/// Hyper-V host. It creates each key if missing and sets `ElementName`, so running it
/// again is harmless. Disabled services appear only as comments.
pub fn export_ps1(services: &[Service]) -> String {
    let mut lines: Vec<String> = vec![
        "# Registers Hyper-V socket services (written by `hvsock service export --format ps1`)."
            .into(),
        "# Run in an elevated PowerShell on the Hyper-V host; running it again is harmless.".into(),
        "$ErrorActionPreference = 'Stop'".into(),
        format!("$base = '{GCS_PS_PATH}'"),
    ];
    for s in services {
        let id = upper_guid(s.id);
        lines.push(String::new());
        if !s.enabled {
            let name: String = s
                .name
                .chars()
                .map(|c| if c.is_ascii() { c } else { '?' })
                .collect();
            lines.push(format!("# disabled in hvsock, not exported: {id} {name}"));
            continue;
        }
        lines.push(format!("$key = Join-Path $base '{id}'"));
        lines.push(format!(
            "if (-not (Test-Path -LiteralPath $key)) {{ $null = New-Item -Path $base -Name '{id}' }}"
        ));
        lines.push(format!(
            "$null = New-ItemProperty -LiteralPath $key -Name 'ElementName' -PropertyType String -Value {} -Force",
            ps_literal(&s.name)
        ));
    }
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    out
}

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
fn decode(bytes: &[u8]) -> Result<String, RegParseError> {
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

/// Reads a `.reg` file (see the [module docs](self)); returns the services it registers
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn svc(id: &str, name: &str, enabled: bool) -> Service {
        Service {
            id: id.parse().unwrap(),
            name: name.into(),
            enabled,
        }
    }

    fn utf16le(s: &str) -> Vec<u8> {
        let mut v = vec![0xff, 0xfe];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn export_is_regedit_format() {
        let b = export_reg(&[
            svc(
                "999e53d4-3d5c-4c3e-8779-bed06ec056e1",
                "VM Session Service",
                true,
            ),
            svc("00001388-facb-11e6-bd58-64006a7986d3", r#"a "q" \ b"#, true),
        ]);
        assert_eq!(&b[..4], &[0xff, 0xfe, b'W', 0]);
        let text = decode(&b).unwrap();
        let want = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\999E53D4-3D5C-4C3E-8779-BED06EC056E1]\r\n\
\"ElementName\"=\"VM Session Service\"\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00001388-FACB-11E6-BD58-64006A7986D3]\r\n\
\"ElementName\"=\"a \\\"q\\\" \\\\ b\"\r\n\r\n";
        assert_eq!(text, want);
        assert!(!text.replace("\r\n", "").contains('\n'), "only CRLF");
    }

    #[test]
    fn disabled_services_become_comments() {
        let services = [
            svc("999e53d4-3d5c-4c3e-8779-bed06ec056e1", "on", true),
            svc("00001388-facb-11e6-bd58-64006a7986d3", "off", false),
        ];
        let text = export_reg_text(&services);
        assert!(text.contains(
            "; disabled in hvsock, not exported: 00001388-FACB-11E6-BD58-64006A7986D3 \"off\""
        ));
        let back = parse_reg(&export_reg(&services)).unwrap();
        assert_eq!(back.services.len(), 1);
        assert_eq!(back.services[0].1, "on");
        let ps = export_ps1(&services);
        assert!(ps.contains(
            "# disabled in hvsock, not exported: 00001388-FACB-11E6-BD58-64006A7986D3 off"
        ));
        assert_eq!(ps.matches("New-ItemProperty").count(), 1);
    }

    #[test]
    fn ps1_script() {
        let ps = export_ps1(&[
            svc(
                "999e53d4-3d5c-4c3e-8779-bed06ec056e1",
                "VM Session Service",
                true,
            ),
            svc("00001388-facb-11e6-bd58-64006a7986d3", "it's café", true),
        ]);
        assert!(ps.is_ascii());
        assert!(ps.ends_with("\r\n"));
        assert!(!ps.replace("\r\n", "").contains('\n'));
        assert!(ps.contains(&format!("$base = '{GCS_PS_PATH}'")));
        assert!(ps.contains("$key = Join-Path $base '999E53D4-3D5C-4C3E-8779-BED06EC056E1'"));
        assert!(ps.contains(
            "if (-not (Test-Path -LiteralPath $key)) { $null = New-Item -Path $base -Name '999E53D4-3D5C-4C3E-8779-BED06EC056E1' }"
        ));
        assert!(ps.contains(
            "-Name 'ElementName' -PropertyType String -Value 'VM Session Service' -Force"
        ));
        assert!(
            ps.contains("-Value (-join @('it''s caf', [char]0x00E9)) -Force"),
            "{ps}"
        );
    }

    #[test]
    fn ps_literals() {
        assert_eq!(ps_literal(""), "''");
        assert_eq!(ps_literal("a'b"), "'a''b'");
        assert_eq!(ps_literal("é"), "[char]0x00E9");
        assert_eq!(ps_literal("\u{2019}x"), "(-join @([char]0x2019, 'x'))");
        assert_eq!(ps_literal("😀"), "(-join @([char]0xD83D, [char]0xDE00))");
    }

    const REGEDIT_SAMPLE: &str = "Windows Registry Editor Version 5.00\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices]\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\999E53D4-3D5C-4C3E-8779-BED06EC056E1]\r\n\
\"ElementName\"=\"VM Session Service\"\r\n\
\"Description\"=\"something else\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\{0000ABCD-FACB-11E6-BD58-64006A7986D3}]\r\n\
@=\"default\"\r\n\
\"ElementName\"=\"With \\\"quotes\\\" and C:\\\\path\"\r\n\
\"Flags\"=dword:00000001\r\n\
\"Blob\"=hex:01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,17,\\\r\n\
  18,19,1a\r\n\
\r\n\
; a comment\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\999E53D4-3D5C-4C3E-8779-BED06EC056E1\\Sub]\r\n\
\"ElementName\"=\"nested\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\not-a-guid]\r\n\
\"ElementName\"=\"bad\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00002222-FACB-11E6-BD58-64006A7986D3]\r\n\
\"ElementName\"=hex(2):41,00,00,00\r\n\
\r\n\
[HKEY_CURRENT_USER\\Software\\Other]\r\n\
\"ElementName\"=\"unrelated\"\r\n\
\r\n\
[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00003333-FACB-11E6-BD58-64006A7986D3]\r\n\
\r\n";

    #[test]
    fn imports_regedit_utf16le_with_unrelated_keys() {
        let r = parse_reg(&utf16le(REGEDIT_SAMPLE)).unwrap();
        assert_eq!(
            r.services,
            vec![
                (
                    "999e53d4-3d5c-4c3e-8779-bed06ec056e1".parse().unwrap(),
                    "VM Session Service".to_string()
                ),
                (
                    ServiceId::from_vsock_port(0xabcd),
                    r#"With "quotes" and C:\path"#.to_string()
                ),
            ]
        );
        let sk = r.skipped.join("\n");
        for want in [
            "line 7: value \"Description\"",
            "line 10: value @ (default)",
            "line 12: value \"Flags\"",
            "line 13: value \"Blob\"",
            "line 17: key [",
            "below a service key",
            "not-a-guid",
            "not a service GUID",
            "ElementName of 00002222-facb-11e6-bd58-64006a7986d3 is a hex(2) value",
            "line 23: key of 00002222-facb-11e6-bd58-64006a7986d3 has no ElementName",
            "[HKEY_CURRENT_USER\\Software\\Other] is outside GuestCommunicationServices",
            "deletion of key",
        ] {
            assert!(sk.contains(want), "missing {want:?} in:\n{sk}");
        }
        assert_eq!(r.skipped.len(), 10, "{sk}");
        // Same content as LF-only UTF-8 with a BOM, and as UTF-16BE.
        let lf = REGEDIT_SAMPLE.replace("\r\n", "\n");
        let mut u8bom = vec![0xef, 0xbb, 0xbf];
        u8bom.extend_from_slice(lf.as_bytes());
        assert_eq!(parse_reg(&u8bom).unwrap(), r);
        let mut be = vec![0xfe, 0xff];
        for u in REGEDIT_SAMPLE.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(parse_reg(&be).unwrap(), r);
        // BOM-less UTF-16LE.
        assert_eq!(parse_reg(&utf16le(REGEDIT_SAMPLE)[2..]).unwrap(), r);
    }

    #[test]
    fn imports_regedit4_ascii() {
        let text = b"REGEDIT4\n\n[HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00001388-facb-11e6-bd58-64006a7986d3]\n\"ElementName\"=\"Caf\xe9 \x80\"\n";
        let r = parse_reg(text).unwrap();
        assert_eq!(
            r.services,
            vec![(ServiceId::from_vsock_port(5000), "Café €".to_string())]
        );
        assert!(r.skipped.is_empty());
    }

    #[test]
    fn last_element_name_wins() {
        let k = format!("[{GCS_KEY}\\00001388-FACB-11E6-BD58-64006A7986D3]");
        let text = format!("REGEDIT4\n{k}\n\"ElementName\"=\"a\"\n{k}\n\"elementname\"=\"b\"\n");
        let r = parse_reg(text.as_bytes()).unwrap();
        assert_eq!(
            r.services,
            vec![(ServiceId::from_vsock_port(5000), "b".into())]
        );
    }

    #[test]
    fn errors_carry_line_numbers() {
        for (text, line, want) in [
            ("", 1, "empty"),
            ("hello\n", 1, "not a .reg file"),
            ("\n\nREGEDIT5\n", 3, "not a .reg file"),
            ("REGEDIT4\n\n[abc\n", 3, "']'"),
            ("REGEDIT4\n[x]\n\"a\"=\"unterminated\n", 3, "unterminated"),
            ("REGEDIT4\n[x]\n\"a\" \"b\"\n", 3, "'='"),
            ("REGEDIT4\n[x]\njunk\n", 3, "expected [KEY]"),
            (
                "REGEDIT4\n[x]\n\"a\"=\"b\" c\n",
                3,
                "after the closing quote",
            ),
            ("REGEDIT4\n[x]\n\"a\"=what\n", 3, "unrecognised"),
        ] {
            let e = parse_reg(text.as_bytes()).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(want), "{text:?}: {e}");
        }
        let e = parse_reg(&[0xff, 0xfe, b'R', 0, b'E']).unwrap_err();
        assert!(e.message.contains("odd"), "{e}");
    }

    proptest! {
        #[test]
        fn export_parse_round_trip(
            names in proptest::collection::vec("[^\\p{Cc}]{1,16}|[\"\\\\a-z ]{1,8}", 0..6),
            ids in proptest::collection::hash_set(any::<u128>(), 6),
        ) {
            let services: Vec<Service> = names.iter().zip(&ids).map(|(n, id)| Service {
                id: ServiceId(Guid::from_u128(*id)),
                name: n.clone(),
                enabled: true,
            }).collect();
            let r = parse_reg(&export_reg(&services)).unwrap();
            let want: Vec<(ServiceId, String)> = services.iter().map(|s| (s.id, s.name.clone())).collect();
            prop_assert_eq!(r.services, want);
            prop_assert!(r.skipped.is_empty());
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_reg(&bytes);
        }

        #[test]
        fn parse_never_panics_on_near_reg_text(
            body in proptest::collection::vec(
                prop_oneof![
                    Just("[".to_string()), Just("]".to_string()), Just("\"".to_string()),
                    Just("\\".to_string()), Just("=".to_string()), Just("\r\n".to_string()),
                    Just("\n".to_string()), Just("@".to_string()), Just("-".to_string()),
                    Just(";".to_string()), Just("hex:".to_string()), Just("ElementName".to_string()),
                    Just(GCS_KEY.to_string()), Just("\\999E53D4-3D5C-4C3E-8779-BED06EC056E1".to_string()),
                    "[a-zé ]{0,3}",
                ],
                0..40,
            ),
            utf16 in any::<bool>(),
        ) {
            let text = format!("{REGEDIT5_HEADER}\r\n{}", body.concat());
            let bytes = if utf16 { utf16le(&text) } else { text.into_bytes() };
            let _ = parse_reg(&bytes);
        }
    }
}
