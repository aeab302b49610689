//! `hvsock service`: the service registry (Hyper-V's GuestCommunicationServices).

use crate::config::Config;
use crate::messages::{print_json, print_list};
use clap::{Subcommand, ValueEnum};
use hvsock::ServiceId;
use hvsock::paths::Dirs;
use hvsock::regfile;
use hvsock::registry::{Registry, Service};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ServiceCmd {
    /// Register a service; prints its id alone.
    ///
    /// The id is a random GUID unless --id or --vsock-port gives it. vsock transports use
    /// the first 8 hex digits of the GUID (Data1) as the vsock port, so Data1 must be at
    /// least 1024, not ffffffff, and unique in the registry.
    #[command(after_long_help = "\
Examples:
  hvsock service add \"My Echo Service\"
  hvsock service add \"VM Session Service\" --id 999E53D4-3D5C-4C3E-8779-BED06EC056E1
  hvsock service add web --vsock-port 8080      # id 00001f90-facb-11e6-bd58-64006a7986d3
  ID=$(hvsock service add mine)                 # scriptable: stdout is the id alone")]
    Add {
        /// The friendly name (Hyper-V's ElementName).
        name: String,
        /// Use this GUID as the service id.
        #[arg(long, value_name = "GUID", conflicts_with = "vsock_port")]
        id: Option<ServiceId>,
        /// Use the vsock template GUID of this port (decimal or 0x hex).
        #[arg(long, value_name = "N", value_parser = parse_port_arg)]
        vsock_port: Option<u32>,
    },
    /// List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME).
    #[command(after_long_help = "\
Examples:
  hvsock service list
  hvsock service list --json | jq -r '.[] | select(.enabled) | .name'")]
    List {
        /// JSON array of {id, name, enabled, vsock_port, port}.
        #[arg(long)]
        json: bool,
    },
    /// Show one service, by id or name.
    Show {
        /// The service's GUID or name.
        #[arg(value_name = "ID|NAME")]
        service: String,
        /// JSON object {id, name, enabled, vsock_port, port}.
        #[arg(long)]
        json: bool,
    },
    /// Unregister a service, by id or name.
    Remove {
        /// The service's GUID or name.
        #[arg(value_name = "ID|NAME")]
        service: String,
    },
    /// Enable a service (listeners accept connections for it).
    Enable {
        /// The service's GUID or name.
        #[arg(value_name = "ID|NAME")]
        service: String,
    },
    /// Disable a service (listeners refuse connections for it).
    Disable {
        /// The service's GUID or name.
        #[arg(value_name = "ID|NAME")]
        service: String,
    },
    /// Write the registry as a Windows .reg file, a PowerShell script or a services.toml.
    ///
    /// The result registers the services on a real Hyper-V host under
    /// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices.
    /// The .reg file is in regedit's own format (UTF-16LE with BOM, CRLF, "Windows
    /// Registry Editor Version 5.00"); import it with `reg import FILE` or by
    /// double-clicking. The .ps1 script can be run again safely. Only enabled services are
    /// exported: Hyper-V has no disabled flag, so disabled services appear as comments.
    /// The toml format is Linux's services.toml, disabled services included: it carries
    /// one registry from a Windows host to a Linux host and back (`service import`).
    #[command(after_long_help = "\
Examples:
  hvsock service export --format reg -o hvsock-services.reg
  hvsock service export --format ps1 > register.ps1
  hvsock service export --format toml -o services.toml   # for another host's import
On the Windows host (elevated):
  reg import hvsock-services.reg
  powershell -ExecutionPolicy Bypass -File register.ps1")]
    Export {
        /// reg (regedit file), ps1 (PowerShell script) or toml (services.toml).
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Write to FILE (atomically) instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Register the services of a .reg file (regedit's UTF-16LE form or REGEDIT4) or of
    /// a services.toml (another host's, or `service export --format toml`).
    ///
    /// Only the ElementName values of keys directly under GuestCommunicationServices
    /// are used; other keys and values are skipped and reported. Entries already
    /// registered, or breaking a registry rule, are skipped with the reason. Imported
    /// services are enabled, except those a services.toml marks disabled. FILE may be -
    /// for stdin; a file that does not start as a .reg file does is read as TOML.
    #[command(after_long_help = "\
Examples:
  # On Windows: reg export \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\" gcs.reg
  hvsock service import gcs.reg
  hvsock service import gcs.reg --json")]
    Import {
        /// The .reg or .toml file, or - for stdin.
        file: PathBuf,
        /// Report as JSON {added: [...], skipped: [...]}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// Windows .reg file (UTF-16LE, regedit 5 format).
    Reg,
    /// PowerShell script.
    Ps1,
    /// Linux's services.toml (disabled services included).
    Toml,
}

/// Whether `bytes` start as a .reg file does: a UTF-16 byte order mark, or the
/// header of regedit 5 or REGEDIT4 (after an optional UTF-8 BOM and blank lines).
fn looks_like_reg(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = String::from_utf8_lossy(&text[..text.len().min(64)]);
    let head = text.trim_start();
    head.starts_with("Windows Registry Editor") || head.starts_with("REGEDIT4")
}

/// One service to import: id, name, enabled.
type ImportEntry = (hvsock::ServiceId, String, bool);

/// The services of `bytes` (a .reg file or a services.toml), with what the .reg
/// reader skipped.
fn parse_import(
    file: &std::path::Path,
    bytes: &[u8],
) -> Result<(Vec<ImportEntry>, Vec<String>), String> {
    if looks_like_reg(bytes) {
        let parsed =
            hvsock::regfile::parse_reg(bytes).map_err(|e| format!("{}: {e}", file.display()))?;
        let entries = parsed
            .services
            .into_iter()
            .map(|(id, name)| (id, name, true));
        return Ok((entries.collect(), parsed.skipped));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        format!(
            "{}: neither a .reg file nor a services.toml (not UTF-8)",
            file.display()
        )
    })?;
    let reg = Registry::from_toml(file, text).map_err(|e| {
        format!(
            "{}: neither a .reg file nor a valid services.toml: {e}",
            file.display()
        )
    })?;
    let entries = reg
        .services()
        .iter()
        .map(|s| (s.id, s.name.clone(), s.enabled));
    Ok((entries.collect(), Vec::new()))
}

fn parse_port_arg(s: &str) -> Result<u32, String> {
    hvsock::syntax::parse_port(s).ok_or_else(|| {
        format!("{s:?} is not a port number from 0 to 4294967295 (decimal or 0x hex)")
    })
}

pub fn service_json(s: &Service) -> Value {
    json!({
        "id": s.id.to_string(),
        "name": s.name,
        "enabled": s.enabled,
        "vsock_port": s.id.vsock_port(),
        "port": s.id.port(),
    })
}

/// One line of `hvsock service list`.
fn row(s: &Service) -> String {
    format!(
        "{:<36}  {:>10}  {:<7}  {}\n",
        s.id.to_string(),
        s.id.port(),
        if s.enabled { "yes" } else { "no" },
        s.name
    )
}

fn found<'a>(reg: &'a Registry, q: &str) -> Result<&'a Service, hvsock::registry::RegistryError> {
    reg.find(q)
        .ok_or_else(|| hvsock::registry::RegistryError::NotFound(q.to_string()))
}

fn set_enabled(dirs: &Dirs, q: &str, on: bool) -> Result<(), hvsock::registry::RegistryError> {
    let s = Registry::update(dirs, |r| {
        r.set_enabled(q, on)?;
        Ok(found(r, q)?.clone())
    })?;
    println!(
        "{} {} {:?}",
        if on { "enabled" } else { "disabled" },
        s.id,
        s.name
    );
    Ok(())
}

/// Runs `hvsock service`.
pub fn run(config: &Config, cmd: ServiceCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dirs = &config.dirs;
    match cmd {
        ServiceCmd::Add {
            name,
            id,
            vsock_port,
        } => {
            let id = id.or(vsock_port.map(ServiceId::from_vsock_port));
            let id = Registry::update(dirs, |r| r.add(&name, id))?;
            println!("{id}");
        }
        ServiceCmd::List { json } => {
            let reg = Registry::load(dirs)?;
            let header = format!("{:<36}  {:>10}  {:<7}  NAME\n", "ID", "PORT", "ENABLED");
            let empty = "no services registered (add one with `hvsock service add NAME`)";
            print_list(json, reg.services(), service_json, header, row, empty);
        }
        ServiceCmd::Show { service, json } => {
            let reg = Registry::load(dirs)?;
            let s = found(&reg, &service)?;
            if json {
                print_json(&service_json(s));
            } else {
                println!("id:         {}", s.id);
                println!("name:       {}", s.name);
                println!("enabled:    {}", if s.enabled { "yes" } else { "no" });
                match s.id.vsock_port() {
                    Some(p) => println!("vsock port: {p} (template GUID)"),
                    None => println!("vsock port: {} (Data1; not a template GUID)", s.id.port()),
                }
            }
        }
        ServiceCmd::Remove { service } => {
            let s = Registry::update(dirs, |r| r.remove(&service))?;
            println!("removed {} {:?}", s.id, s.name);
        }
        ServiceCmd::Enable { service } => set_enabled(dirs, &service, true)?,
        ServiceCmd::Disable { service } => set_enabled(dirs, &service, false)?,
        ServiceCmd::Export { format, output } => {
            let reg = Registry::load(dirs)?;
            let bytes = match format {
                ExportFormat::Reg => regfile::export_reg(reg.services()),
                ExportFormat::Ps1 => regfile::export_ps1(reg.services()).into_bytes(),
                ExportFormat::Toml => reg.to_toml().into_bytes(),
            };
            match output {
                Some(path) => {
                    hvsock::store::write_atomic(&path, &bytes)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    let n = match format {
                        ExportFormat::Toml => reg.services().len(),
                        _ => reg.services().iter().filter(|s| s.enabled).count(),
                    };
                    eprintln!("hvsock: wrote {n} services to {}", path.display());
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&bytes)?;
                    out.flush()?;
                }
            }
        }
        ServiceCmd::Import { file, json } => {
            let bytes = if file.as_os_str() == "-" {
                let mut b = Vec::new();
                std::io::stdin().read_to_end(&mut b)?;
                b
            } else {
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?
            };
            let (entries, mut skipped) = parse_import(&file, &bytes)?;
            let pairs: Vec<_> = entries.iter().map(|(id, n, _)| (*id, n.clone())).collect();
            // A set, not a scan of `entries` per added service: imports of 100k services
            // must stay linear.
            let disabled: std::collections::HashSet<_> = entries
                .iter()
                .filter(|(_, _, on)| !on)
                .map(|(id, _, _)| *id)
                .collect();
            let report = Registry::update(dirs, |r| {
                let report = r.import(&pairs);
                // What the file marks disabled stays disabled here (services.toml only).
                for s in &report.added {
                    if disabled.contains(&s.id) {
                        r.set_enabled(&s.id.to_string(), false)?;
                    }
                }
                Ok(report)
            })?;
            skipped.extend(report.skipped);
            if json {
                print_json(&json!({
                    "added": report.added.iter().map(service_json).collect::<Vec<_>>(),
                    "skipped": skipped,
                }));
            } else {
                for s in &report.added {
                    println!("added   {} {:?}", s.id, s.name);
                }
                for why in &skipped {
                    println!("skipped {why}");
                }
                println!("{} added, {} skipped", report.added.len(), skipped.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
