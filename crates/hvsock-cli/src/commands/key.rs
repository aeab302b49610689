//! `hvsock key`: the user's key pair for the agent's key authentication, and the files
//! the agent and the client keep their keys in.

use crate::config::Config;
use clap::{Args, Subcommand};
use hvsock::paths::Dirs;
use hvsock_agent::auth::{KeyPair, PinFile, PinMode};
use hvsock_agent::client::{ClientAuth, PasswordSource};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// The user's key pair for `hvsock exec`, `shell` and `cp` (agent key authentication).
///
/// The key is ed25519, kept in the config dir as `identity` (mode 0600). Put its public
/// line (`hvsock key show`) into the guest's authorized_keys: /etc/hvsock/authorized_keys
/// for the agent's own user (root), or ~USER/.config/hvsock/authorized_keys.
#[derive(Subcommand)]
pub enum KeyCmd {
    /// Create the key pair (refuses to replace one unless --force).
    Generate(GenerateArgs),
    /// Print the public line to put into a guest's authorized_keys.
    Show,
}

/// `hvsock key generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// Replace an existing key (clients that used it must be authorized again).
    #[arg(long)]
    force: bool,
}

/// The user's private key file: `<config dir>/identity`.
pub fn identity_file(dirs: &Dirs) -> PathBuf {
    dirs.config.join("identity")
}

/// The agent's own key pair: `<agent config dir>/host_key`.
#[cfg(unix)]
pub fn host_key_file(dirs: &Dirs) -> PathBuf {
    dirs.config.join("host_key")
}

/// The agent's system-wide authorized keys: `<agent config dir>/authorized_keys`.
#[cfg(unix)]
pub fn authorized_keys_file(dirs: &Dirs) -> PathBuf {
    dirs.config.join("authorized_keys")
}

/// Who this is, for a new key's comment: `user@host`.
fn whoami() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "user".into());
    let host = std::env::var("COMPUTERNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// Writes a new key pair to `file` (0600, atomically).
fn write_new(file: &Path, comment: &str) -> Result<KeyPair, String> {
    let k = KeyPair::generate(comment).map_err(|e| e.to_string())?;
    if let Some(dir) = file.parent() {
        hvsock::store::ensure_dir(dir).map_err(|e| e.to_string())?;
    }
    hvsock::store::write_atomic_private(file, k.to_file().as_bytes()).map_err(|e| e.to_string())?;
    Ok(k)
}

/// Reads a key file.
pub fn load(file: &Path) -> Result<KeyPair, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    KeyPair::parse_file(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// The agent's host key: read, or made at first start.
#[cfg(unix)]
pub fn load_or_create_host_key(dirs: &Dirs) -> Result<KeyPair, String> {
    let f = host_key_file(dirs);
    if f.exists() {
        load(&f)
    } else {
        write_new(&f, &format!("hvsock agent {}", whoami()))
    }
}

/// A throw-away key for a temp config dir (`hvsock demo`): written as the dir's
/// identity and authorized in its `authorized_keys`.
#[cfg(unix)]
pub fn setup_throwaway(dirs: &Dirs) -> Result<KeyPair, String> {
    let k = write_new(&identity_file(dirs), "hvsock demo")?;
    let line = format!("{}\n", k.public().to_line());
    hvsock::store::write_atomic(&authorized_keys_file(dirs), line.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(k)
}

/// Runs `hvsock key`.
pub fn run(config: &Config, cmd: KeyCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let f = identity_file(&config.dirs);
    match cmd {
        KeyCmd::Generate(a) => {
            if f.exists() && !a.force {
                return Err(format!(
                    "{} exists (hvsock key show prints it); --force replaces it",
                    f.display()
                )
                .into());
            }
            let k = write_new(&f, &whoami())?;
            println!("wrote {} (keep it secret); its public line:", f.display());
            println!("{}", k.public().to_line());
            println!(
                "put it into the guest's /etc/hvsock/authorized_keys (or ~USER/.config/hvsock/authorized_keys)"
            );
        }
        KeyCmd::Show => {
            if !f.exists() {
                return Err(format!("no key in {}: run hvsock key generate", f.display()).into());
            }
            println!("{}", load(&f)?.public().to_line());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The authentication options of `exec`, `shell` and `cp`.
#[derive(Args, Clone, Debug, Default)]
pub struct AuthOpts {
    /// Run as USER in the VM [default: the agent's own user].
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// The private key to authenticate with [default: CONFIG_DIR/identity, if present].
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Check of the agent's key: tofu records it at first use in CONFIG_DIR/agent_keys
    /// and refuses a changed one; strict only accepts recorded keys; off checks only
    /// its signature.
    #[arg(long, value_name = "MODE", default_value = "tofu", value_parser = parse_pin)]
    pub pin: PinModeArg,
    /// Read the password from the first line of stdin (read before connecting; used
    /// when the agent takes passwords and no key); without it, a terminal prompt (no
    /// echo).
    #[arg(long)]
    pub password_stdin: bool,
}

/// `--pin`'s value.
#[derive(Clone, Copy, Debug, Default)]
pub struct PinModeArg(pub PinMode);

fn parse_pin(s: &str) -> Result<PinModeArg, String> {
    match s {
        "off" => Ok(PinModeArg(PinMode::Off)),
        "tofu" => Ok(PinModeArg(PinMode::Tofu)),
        "strict" => Ok(PinModeArg(PinMode::Strict)),
        _ => Err(format!("{s:?}: expected off, tofu or strict")),
    }
}

impl AuthOpts {
    /// The client's credentials for the agent at `vm`.
    pub fn client_auth(&self, dirs: &Dirs, vm: hvsock::VmId) -> Result<ClientAuth, String> {
        let identity = match &self.identity {
            Some(f) => Some(load(f)?),
            None => {
                let f = identity_file(dirs);
                if f.exists() { Some(load(&f)?) } else { None }
            }
        };
        let password: Option<PasswordSource> = if self.password_stdin {
            // Read now, before the session's stdin reader holds stdin: the rest of
            // stdin is the command's.
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| format!("--password-stdin: {e}"))?;
            Some(Arc::new(move |_prompt: &str| Ok(line.clone())))
        } else if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            // The prompt comes during the handshake, before the session reads stdin
            // (its reader starts at its first read); for `shell` and `exec -t` the
            // terminal is raw by then, which rpassword (reading a character at a time,
            // CR or NL ending the line) handles.
            Some(Arc::new(|prompt: &str| rpassword::prompt_password(prompt)))
        } else {
            None
        };
        Ok(ClientAuth {
            user: self.user.clone().unwrap_or_default(),
            identity,
            password,
            pins: Some(PinFile {
                path: hvsock_agent::auth::pins::default_pin_file(&dirs.config),
                mode: self.pin.0,
                vm,
                service: hvsock_agent::SERVICE_ID,
            }),
        })
    }
}
