//! `hvsock addr`: SOCKADDR_HV encoding.

use clap::Subcommand;
use hvsock::HvAddr;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AddrCmd {
    /// Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits.
    Encode {
        /// VM:SERVICE
        addr: String,
    },
    /// Print the VMID:SERVICEID held in a hex SOCKADDR_HV.
    Decode {
        /// 72 hex digits
        hex: String,
    },
}

pub fn run(cmd: AddrCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cmd {
        AddrCmd::Encode { addr } => {
            let (vm, svc) = addr
                .split_once(':')
                .ok_or_else(|| format!("{addr:?} is not VM:SERVICE"))?;
            let a = HvAddr::new(vm.parse()?, svc.parse()?);
            let hex: String = a.to_sockaddr_hv().iter().map(|b| format!("{b:02x}")).collect();
            println!("{hex}");
        }
        AddrCmd::Decode { hex } => {
            let hex = hex.trim();
            if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{hex:?} is not an even number of hex digits").into());
            }
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            println!("{}", HvAddr::from_sockaddr_hv(&bytes)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
