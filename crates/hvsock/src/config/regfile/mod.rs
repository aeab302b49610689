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

mod parse;
pub use parse::{RegImport, RegParseError, parse_reg};

#[cfg(test)]
mod tests;
