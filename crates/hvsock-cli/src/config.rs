//! The configuration of one run of `hvsock`, built once in `main` from `--config-dir` and
//! the environment, then passed to each command (nothing else reads the environment).

use hvsock::context::{GUEST_ENV, PARTITION_ENV};
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr};
use std::io::{self, ErrorKind};
use std::path::PathBuf;

/// Where this process is and where its files are, as given at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config and runtime directories (`--config-dir` wins over the environment).
    pub dirs: Dirs,
    /// `--config-dir`, when given: commands started for a connection inherit it (Unix:
    /// `listen --exec` and the agent start commands).
    #[cfg(unix)]
    config_dir_flag: Option<PathBuf>,
    /// `HVSOCK_PARTITION` as it was at start.
    partition: Option<String>,
    /// `HVSOCK_GUEST` as it was at start.
    guest: Option<String>,
}

impl Config {
    /// Reads the environment, once: `HVSOCK_CONFIG_DIR` (unless `config_dir` is given),
    /// `HVSOCK_RUNTIME_DIR`, `HVSOCK_PARTITION`, `HVSOCK_GUEST` and the defaults.
    pub fn from_env(config_dir: Option<PathBuf>) -> Config {
        let mut dirs = Dirs::from_env();
        if let Some(d) = &config_dir {
            dirs.config = d.clone();
        }
        Config {
            dirs,
            #[cfg(unix)]
            config_dir_flag: config_dir,
            partition: std::env::var(PARTITION_ENV).ok(),
            guest: std::env::var(GUEST_ENV).ok(),
        }
    }

    /// The context of this process, as [`Context::from_env`] builds it but with these
    /// directories and the environment captured at start ([`Context::from_parts`]):
    /// `HVSOCK_PARTITION` (a local partition), `HVSOCK_GUEST=1` or `guest = true` in
    /// `hvsock.toml` (a VM guest), else the host.
    pub fn context(&self) -> io::Result<Context> {
        Context::from_parts(
            self.dirs.clone(),
            self.partition.as_deref(),
            self.guest.as_deref(),
        )
    }

    /// Resolves a VM:SERVICE address, reading the registry and the partition table of
    /// these directories only when a name needs them. The error carries the typed
    /// [`AddrSyntaxError`](hvsock::syntax::AddrSyntaxError), for [`crate::hints`].
    pub fn resolve(&self, text: &str) -> io::Result<HvAddr> {
        hvsock::syntax::resolve_addr_in(text, &self.dirs)
            .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))
    }

    /// The environment a command started by hvsock for a connection gets on top of
    /// this process's: the `--config-dir`, if one was given.
    #[cfg(unix)]
    pub fn child_env(&self) -> Vec<(&'static str, PathBuf)> {
        self.config_dir_flag
            .iter()
            .map(|d| (hvsock::paths::CONFIG_DIR_ENV, d.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hvsock::Location;

    fn config(dir: &std::path::Path, partition: Option<&str>, guest: Option<&str>) -> Config {
        Config {
            dirs: Dirs::new(dir.join("c"), dir.join("r")),
            #[cfg(unix)]
            config_dir_flag: Some(dir.join("c")),
            partition: partition.map(String::from),
            guest: guest.map(String::from),
        }
    }

    #[test]
    fn the_location_comes_from_the_captured_environment_and_the_settings() {
        let tmp = tempfile::tempdir().unwrap();
        let loc = |p, g| config(tmp.path(), p, g).context().map(|c| c.location());
        assert_eq!(loc(None, None).unwrap(), Location::Host);
        assert_eq!(loc(None, Some("")).unwrap(), Location::Host);
        assert_eq!(loc(Some(""), Some("0")).unwrap(), Location::Host);
        assert_eq!(loc(None, Some("1")).unwrap(), Location::Guest);
        assert_eq!(loc(None, Some("yes")).unwrap(), Location::Guest);
        let e = loc(None, Some("maybe")).unwrap_err();
        assert_eq!(e.to_string(), "HVSOCK_GUEST=\"maybe\": expected 1 or 0");
        let e = loc(Some("box"), Some("1")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "HVSOCK_PARTITION and guest mode exclude each other"
        );
        // An unknown partition: the library's own message.
        assert!(loc(Some("box"), None).is_err());
        // guest = true in hvsock.toml of the given config dir.
        std::fs::create_dir_all(tmp.path().join("c")).unwrap();
        std::fs::write(tmp.path().join("c/hvsock.toml"), "guest = true\n").unwrap();
        assert_eq!(loc(None, None).unwrap(), Location::Guest);
        assert_eq!(loc(None, Some("0")).unwrap(), Location::Host);
        std::fs::write(tmp.path().join("c/hvsock.toml"), "gest = true\n").unwrap();
        let e = loc(None, None).unwrap_err();
        assert!(e.to_string().contains("hvsock.toml"), "{e}");
        #[cfg(unix)]
        let c = config(tmp.path(), None, None);
        #[cfg(unix)]
        assert_eq!(
            c.child_env(),
            vec![(hvsock::paths::CONFIG_DIR_ENV, tmp.path().join("c"))]
        );
    }
}
