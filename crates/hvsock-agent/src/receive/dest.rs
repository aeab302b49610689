//! What a receiver asked for ([`Expect`]) and where the tree goes ([`Dest`]).

use crate::fsat::{self, Dir};
use crate::proto::ErrorCode;
use crate::tree::{CopyError, escape};
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// What the receiver asked for; a stream that does not match is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The root entry's name, when known: for `CopyFrom`, the base name of the
    /// requested remote path. `None` (a `CopyTo` on the agent, or a request such as
    /// `.` whose name only the sender knows): any single plain name.
    pub root: Option<String>,
    /// Whether a directory tree may come; if not, the stream is exactly one `File`.
    pub recursive: bool,
    /// The longest the sender may send nothing before the copy fails.
    pub idle_timeout: Duration,
}

impl Expect {
    /// What a request for `path` (as sent in `CopyFrom`) expects: the root named like
    /// the path's last component (the sender names it the same way), if it has one.
    /// `path` is the agent's (`/`-separated, whatever this side's platform).
    ///
    /// ```
    /// use hvsock_agent::tree::Expect;
    /// let t = std::time::Duration::from_secs(1);
    /// assert_eq!(Expect::for_request("/var/log/", true, t).root.as_deref(), Some("log"));
    /// assert_eq!(Expect::for_request("a/.", true, t).root.as_deref(), Some("a"));
    /// assert_eq!(Expect::for_request("a\\b", true, t).root.as_deref(), Some("a\\b"));
    /// assert_eq!(Expect::for_request("a/..", true, t).root, None);
    /// assert_eq!(Expect::for_request("/", true, t).root, None);
    /// ```
    pub fn for_request(path: &str, recursive: bool, idle_timeout: Duration) -> Expect {
        let last = path.split('/').rfind(|c| !c.is_empty() && *c != ".");
        Expect {
            root: last.filter(|c| *c != "..").map(str::to_string),
            recursive,
            idle_timeout,
        }
    }
}

/// Where a received tree goes: a directory opened once, and whether the tree goes
/// inside it (`cp` onto an existing directory) or becomes its entry `name`.
#[derive(Debug)]
pub struct Dest {
    pub(super) dir: Dir,
    pub(super) name: Option<OsString>,
    pub(super) shown: String,
}

impl Dest {
    /// The user's own destination `path`, like `cp`: an existing directory (symlinks in
    /// `path` are followed: the user's choice) receives the tree inside it, otherwise
    /// the tree's root becomes `path` (its parent directory must exist). On Windows
    /// `path` is a Windows path (`C:\data\file`, `.\dir`, `dir\sub`).
    pub fn open(path: &Path) -> Result<Dest, CopyError> {
        let shown = path.display().to_string();
        match Dir::open(path) {
            Ok(dir) => {
                return Ok(Dest {
                    dir,
                    name: None,
                    shown,
                });
            }
            Err(e) if fsat::is_absent(&e) => {}
            Err(e) => return Err(CopyError::io("cannot open", &shown, &e)),
        }
        let Some(name) = path.file_name() else {
            return Err(CopyError::local(
                ErrorCode::BAD_REQUEST,
                format!("cannot copy to {}: no file name", escape(&shown)),
            ));
        };
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = Dir::open(parent).map_err(|e| {
            CopyError::io("cannot open directory", &parent.display().to_string(), &e)
        })?;
        Ok(Dest {
            dir,
            name: Some(name.to_os_string()),
            shown,
        })
    }

    /// `rel` (plain components, checked by the caller) beneath the directory `root`,
    /// with no symlink followed at any component; `shown` names it in messages.
    #[cfg(unix)]
    pub(crate) fn beneath(root: &Dir, rel: &Path, shown: &str) -> Result<Dest, CopyError> {
        use std::path::Component;
        let rel_s = rel.to_str().unwrap_or_default();
        match fsat::open_dir(root, rel_s) {
            Ok(dir) => {
                return Ok(Dest {
                    dir,
                    name: None,
                    shown: shown.to_string(),
                });
            }
            Err(e) if fsat::is_absent(&e) => {}
            Err(e) => return Err(CopyError::io("cannot open", shown, &e)),
        }
        let (Some(Component::Normal(name)), parent) = (rel.components().next_back(), rel.parent())
        else {
            return Err(CopyError::local(
                ErrorCode::BAD_REQUEST,
                format!("cannot copy to {}: no file name", escape(shown)),
            ));
        };
        let parent = parent.and_then(Path::to_str).unwrap_or_default();
        let dir = fsat::open_dir(root, parent)
            .map_err(|e| CopyError::io("cannot open the directory of", shown, &e))?;
        Ok(Dest {
            dir,
            name: Some(name.to_os_string()),
            shown: shown.to_string(),
        })
    }
}
