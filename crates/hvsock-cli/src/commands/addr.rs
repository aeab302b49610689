//! `hvsock addr`: SOCKADDR_HV encoding and the VM:SERVICE address syntax.

use crate::config::Config;
use clap::Subcommand;
use hvsock::HvAddr;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AddrCmd {
    /// Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits.
    ///
    /// ADDR is VM:SERVICE, split at the first ':'. VM is a GUID, a wildcard (any,
    /// wildcard, zero, children, loopback, parent, broadcast, silohost) or a name from the
    /// partition table (`hvsock vm list`). SERVICE is a GUID, vsock:PORT (decimal or 0x
    /// hex; the vsock template GUID) or a registered name (`hvsock service list`). The
    /// registry and table are only read when a name needs them.
    #[command(after_long_help = "\
Examples:
  hvsock addr encode parent:vsock:5000
  hvsock addr encode any:999E53D4-3D5C-4C3E-8779-BED06EC056E1
  hvsock addr encode \"qemu1:VM Session Service\"")]
    Encode {
        /// VM:SERVICE
        addr: String,
    },
    /// Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits).
    #[command(after_long_help = "\
Example:
  hvsock addr decode 22000000da7c2ea43fd00c489cc2a4de20abb87888130000cbfae611bd5864006a7986d3")]
    Decode {
        /// 72 hex digits (whitespace and a 0x prefix are ignored)
        hex: String,
    },
}

/// Decodes hex digits (ignoring whitespace and a leading 0x) to bytes.
fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(&t);
    if let Some(c) = t.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("{s:?} is not hex: {c:?} is not a hex digit"));
    }
    if !t.len().is_multiple_of(2) {
        return Err(format!(
            "{s:?} has an odd number of hex digits ({}); a SOCKADDR_HV is 72",
            t.len()
        ));
    }
    Ok((0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).expect("checked hex digits"))
        .collect())
}

/// Runs `hvsock addr`.
pub fn run(config: &Config, cmd: AddrCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cmd {
        AddrCmd::Encode { addr } => {
            let a = config.resolve(&addr)?;
            let hex: String = a
                .to_sockaddr_hv()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            println!("{hex}");
        }
        AddrCmd::Decode { hex } => {
            let bytes = from_hex(&hex)?;
            let a = HvAddr::from_sockaddr_hv(&bytes).map_err(|e| format!("{}: {e}", hex.trim()))?;
            println!("{a}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
