//! Where hvsock keeps its files: the config directory (registry, partition table,
//! settings) and the runtime directory (listener sockets of local partitions).

#[cfg(unix)]
use std::path::Path;
use std::path::PathBuf;

/// Environment variable naming the config directory.
pub const CONFIG_DIR_ENV: &str = "HVSOCK_CONFIG_DIR";
/// Environment variable naming the runtime directory.
pub const RUNTIME_DIR_ENV: &str = "HVSOCK_RUNTIME_DIR";

/// The two directories a process of hvsock works with.
///
/// ```
/// use hvsock::paths::Dirs;
///
/// let d = Dirs::new("/tmp/cfg", "/tmp/run");
/// assert_eq!(d.services_file(), std::path::Path::new("/tmp/cfg/services.toml"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// Registry, partition table and settings.
    pub config: PathBuf,
    /// Sockets of local partitions.
    pub runtime: PathBuf,
}

impl Dirs {
    /// Both directories given explicitly.
    pub fn new(config: impl Into<PathBuf>, runtime: impl Into<PathBuf>) -> Dirs {
        Dirs {
            config: config.into(),
            runtime: runtime.into(),
        }
    }

    /// `HVSOCK_CONFIG_DIR` / `HVSOCK_RUNTIME_DIR`, else the defaults for this user.
    pub fn from_env() -> Dirs {
        Dirs {
            config: env_dir(CONFIG_DIR_ENV).unwrap_or_else(default_config_dir),
            runtime: env_dir(RUNTIME_DIR_ENV).unwrap_or_else(default_runtime_dir),
        }
    }

    /// The service registry file.
    pub fn services_file(&self) -> PathBuf {
        self.config.join("services.toml")
    }

    /// The partition table file.
    pub fn partitions_file(&self) -> PathBuf {
        self.config.join("partitions.toml")
    }

    /// The settings file (`guest = true`, limits).
    pub fn settings_file(&self) -> PathBuf {
        self.config.join("hvsock.toml")
    }
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(unix)]
fn is_root() -> bool {
    crate::sys::geteuid() == 0
}

/// `/etc/hvsock` as root, `$XDG_CONFIG_HOME/hvsock` (or `~/.config/hvsock`) otherwise.
/// On Windows `%ProgramData%\hvsock` (settings and exports; the service registry is
/// the Windows registry there).
pub fn default_config_dir() -> PathBuf {
    #[cfg(windows)]
    {
        program_data().join("hvsock")
    }
    #[cfg(unix)]
    {
        if is_root() {
            return PathBuf::from("/etc/hvsock");
        }
        env_dir("XDG_CONFIG_HOME")
            .or_else(|| env_dir("HOME").map(|h| h.join(".config")))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("hvsock")
    }
}

/// `/run/hvsock` as root, `$XDG_RUNTIME_DIR/hvsock` (or `/tmp/hvsock-UID`) otherwise.
/// On Windows `%ProgramData%\hvsock\run` (hvsock keeps no sockets there: Windows
/// routes Hyper-V sockets itself).
pub fn default_runtime_dir() -> PathBuf {
    #[cfg(windows)]
    {
        program_data().join("hvsock").join("run")
    }
    #[cfg(unix)]
    {
        if is_root() {
            return PathBuf::from("/run/hvsock");
        }
        match env_dir("XDG_RUNTIME_DIR") {
            Some(d) => d.join("hvsock"),
            None => Path::new("/tmp").join(format!("hvsock-{}", crate::sys::getuid())),
        }
    }
}

#[cfg(windows)]
fn program_data() -> PathBuf {
    env_dir("ProgramData").unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"))
}
