//! What a receiver asked for ([`Expect`]) and where the tree goes ([`Dest`]).

use crate::fsat;
use crate::proto::ErrorCode;
use crate::tree::{CopyError, escape};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Component, Path};
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
    pub fn for_request(path: &str, recursive: bool, idle_timeout: Duration) -> Expect {
        Expect {
            root: Path::new(path)
                .file_name()
                .and_then(OsStr::to_str)
                .map(str::to_string),
            recursive,
            idle_timeout,
        }
    }
}

/// Where a received tree goes: a directory opened once, and whether the tree goes
/// inside it (`cp` onto an existing directory) or becomes its entry `name`.
#[derive(Debug)]
pub struct Dest {
    pub(super) dir: OwnedFd,
    pub(super) name: Option<OsString>,
    pub(super) shown: String,
}

fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP)
    )
}

impl Dest {
    /// The user's own destination `path`, like `cp`: an existing directory (symlinks in
    /// `path` are followed: the user's choice) receives the tree inside it, otherwise
    /// the tree's root becomes `path` (its parent directory must exist).
    pub fn open(path: &Path) -> Result<Dest, CopyError> {
        let shown = path.display().to_string();
        let flags = rustix::fs::OFlags::RDONLY
            | rustix::fs::OFlags::DIRECTORY
            | rustix::fs::OFlags::CLOEXEC;
        match rustix::fs::open(path, flags, rustix::fs::Mode::empty()) {
            Ok(dir) => {
                return Ok(Dest {
                    dir,
                    name: None,
                    shown,
                });
            }
            Err(e) if is_absent(&e.into()) => {}
            Err(e) => return Err(CopyError::io("cannot open", &shown, &e.into())),
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
        let dir = rustix::fs::open(parent, flags, rustix::fs::Mode::empty()).map_err(|e| {
            CopyError::io(
                "cannot open directory",
                &parent.display().to_string(),
                &e.into(),
            )
        })?;
        Ok(Dest {
            dir,
            name: Some(name.to_os_string()),
            shown,
        })
    }

    /// `rel` (plain components, checked by the caller) beneath the directory `root`,
    /// with no symlink followed at any component; `shown` names it in messages.
    pub(crate) fn beneath(
        root: BorrowedFd<'_>,
        rel: &Path,
        shown: &str,
    ) -> Result<Dest, CopyError> {
        let rel_s = rel.to_str().unwrap_or_default();
        match fsat::open_dir(root, rel_s) {
            Ok(dir) => {
                return Ok(Dest {
                    dir,
                    name: None,
                    shown: shown.to_string(),
                });
            }
            Err(e) if is_absent(&e) => {}
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
