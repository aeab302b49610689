//! Guest images: the uncompressed kernel for PVH boot, the kernel modules and the
//! initramfs (a newc cpio archive, written here).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use crate::{HarnessError, io_err};

/// The kernel command line of every guest (a [`crate::VmConfig::kernel_args`] is appended).
///
/// `tsc=reliable`: under TCG the vCPUs' TSCs drift apart, so on some runs the kernel marks
/// the TSC unstable at boot ("TSCs unsynchronized") and falls back to the HPET, and every
/// clock read becomes an emulated MMIO access. The test guests need no TSC watchdog.
pub const KERNEL_ARGS: &str = "console=ttyS0 panic=-1 quiet loglevel=4 tsc=reliable";

/// Modules the guest needs for virtio-vsock, in load order (dependencies first).
pub const VSOCK_MODULES: &[&str] = &[
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "virtio_mmio",
    "vsock",
    "vmw_vsock_virtio_transport_common",
    "vmw_vsock_virtio_transport",
];

/// Modules for the read-only 9p mount of the host root ([`crate::VmConfig::share_host_root`]).
pub const NINEP_MODULES: &[&str] = &["netfs", "fscache", "9pnet", "9pnet_virtio", "9p"];

/// Modules that make a guest a vsock *host* (kernel vhost-vsock, `/dev/vhost-vsock`), for
/// a [`crate::nested`] guest; load after [`VSOCK_MODULES`].
pub const VHOST_VSOCK_MODULES: &[&str] = &["vhost_iotlb", "vhost", "vhost_vsock"];

/// 64-bit FNV-1a, for cache keys.
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub(crate) fn update(&mut self, data: &[u8]) {
        // Length first, so that ("ab","c") and ("a","bc") differ.
        for b in (data.len() as u64).to_le_bytes().iter().chain(data) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    pub(crate) fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// Writes `data` to `path` atomically (temp file, fsync, rename).
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<(), HarnessError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(format!("write {}", path.display()), e)
    })
}

/// Removes files in `dir` named `prefix*` that were not modified for `age`.
pub(crate) fn prune(dir: &Path, prefix: &str, age: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|d| d > age);
        if old && e.file_name().to_string_lossy().starts_with(prefix) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Runs `prog args` with `input` on stdin and returns its stdout.
fn filter(prog: &Path, args: &[&str], input: &[u8]) -> Result<Vec<u8>, HarnessError> {
    let what = format!("{} {}", prog.display(), args.join(" "));
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io_err(format!("run {what}"), e))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut out = Vec::new();
    let mut stdout = child.stdout.take().expect("piped stdout");
    thread::scope(|s| {
        s.spawn(move || {
            // A decompressor may stop reading early (trailing data): ignore EPIPE.
            let _ = stdin.write_all(input);
        });
        stdout.read_to_end(&mut out)
    })
    .map_err(|e| io_err(format!("read from {what}"), e))?;
    let output = child
        .wait_with_output()
        .map_err(|e| io_err(format!("wait for {what}"), e))?;
    if !output.status.success() {
        return Err(HarnessError::Image(format!(
            "{what}: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(out)
}

/// Extracts the uncompressed ELF `vmlinux` from an XZ-compressed bzImage, caching it in
/// `cache` under a hash of the bzImage. The XZ stream is found by its magic; the data
/// after it (the rest of the bzImage) is ignored with `xz --single-stream`.
pub fn extract_vmlinux(bzimage: &Path, xz: &Path, cache: &Path) -> Result<PathBuf, HarnessError> {
    let image = fs::read(bzimage).map_err(|e| io_err(format!("read {}", bzimage.display()), e))?;
    let mut h = Fnv::new();
    h.update(&image);
    let out = cache.join(format!("vmlinux-{}", h.hex()));
    if out.is_file() {
        return Ok(out);
    }
    const MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
    let mut last_err = HarnessError::Image(format!("no XZ stream in {}", bzimage.display()));
    for (off, _) in image
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(_, w)| *w == MAGIC)
    {
        match filter(xz, &["-dc", "--single-stream"], &image[off..]) {
            Ok(elf) if elf.starts_with(b"\x7fELF") => {
                write_atomic(&out, &elf)?;
                return Ok(out);
            }
            Ok(_) => last_err = HarnessError::Image("XZ stream is not an ELF image".into()),
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

/// Reads the kernel modules `names` from `moddir` (`/lib/modules/VERSION`), decompressing
/// `.ko.xz` / `.ko.zst` / `.ko.gz`. Modules built into the kernel (`modules.builtin`)
/// are skipped. Returns `(name, contents)` in the given order.
pub fn load_modules(
    moddir: &Path,
    names: &[&str],
    xz: &Path,
) -> Result<Vec<(String, Vec<u8>)>, HarnessError> {
    let mut found: HashMap<String, PathBuf> = HashMap::new();
    let mut stack = vec![moddir.join("kernel")];
    while let Some(dir) = stack.pop() {
        let entries =
            fs::read_dir(&dir).map_err(|e| io_err(format!("read {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(name) = path.file_name().and_then(|n| n.to_str())
                && let Some((stem, _)) = name.split_once(".ko")
            {
                found.insert(stem.replace('-', "_"), path);
            }
        }
    }
    let builtin = fs::read_to_string(moddir.join("modules.builtin")).unwrap_or_default();
    let mut out = Vec::new();
    for name in names {
        let Some(path) = found.get(*name) else {
            let suffix = format!("/{name}.ko");
            let alt = format!("/{}.ko", name.replace('_', "-"));
            if builtin
                .lines()
                .any(|l| l.ends_with(&suffix) || l.ends_with(&alt))
            {
                continue;
            }
            return Err(HarnessError::Image(format!(
                "kernel module {name} not found under {}",
                moddir.display()
            )));
        };
        let raw = fs::read(path).map_err(|e| io_err(format!("read {}", path.display()), e))?;
        let file = path.to_string_lossy();
        let data = if file.ends_with(".ko") {
            raw
        } else if file.ends_with(".ko.xz") {
            filter(xz, &["-dc"], &raw)?
        } else if file.ends_with(".ko.zst") {
            filter(Path::new("zstd"), &["-dc"], &raw)?
        } else if file.ends_with(".ko.gz") {
            filter(Path::new("gzip"), &["-dc"], &raw)?
        } else {
            return Err(HarnessError::Image(format!("unknown module format {file}")));
        };
        out.push((name.to_string(), data));
    }
    Ok(out)
}

enum Node {
    Dir,
    File { data: Vec<u8>, mode: u32 },
    Symlink(String),
    CharDev(u32, u32),
}

/// An initramfs under construction: paths are relative to `/` (no leading slash);
/// parent directories are created implicitly.
pub struct Initramfs {
    nodes: BTreeMap<String, Node>,
}

impl Default for Initramfs {
    fn default() -> Self {
        Self::new()
    }
}

impl Initramfs {
    /// An empty archive.
    pub fn new() -> Initramfs {
        Initramfs {
            nodes: BTreeMap::new(),
        }
    }

    fn parents(&mut self, path: &str) {
        let mut acc = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(part);
            self.nodes.entry(acc.clone()).or_insert(Node::Dir);
        }
    }

    fn clean(path: &str) -> String {
        path.trim_start_matches('/')
            .trim_end_matches('/')
            .to_string()
    }

    /// Adds a directory.
    pub fn dir(&mut self, path: &str) -> &mut Self {
        let p = Self::clean(path);
        self.parents(&p);
        self.nodes.insert(p, Node::Dir);
        self
    }

    /// Adds a regular file with permission bits `mode` (e.g. `0o755`).
    pub fn file(&mut self, path: &str, data: Vec<u8>, mode: u32) -> &mut Self {
        let p = Self::clean(path);
        self.parents(&p);
        self.nodes.insert(p, Node::File { data, mode });
        self
    }

    /// Adds a symbolic link to `target`.
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let p = Self::clean(path);
        self.parents(&p);
        self.nodes.insert(p, Node::Symlink(target.to_string()));
        self
    }

    /// Adds a character device node.
    pub fn char_dev(&mut self, path: &str, major: u32, minor: u32) -> &mut Self {
        let p = Self::clean(path);
        self.parents(&p);
        self.nodes.insert(p, Node::CharDev(major, minor));
        self
    }

    /// The archive in `newc` cpio format (uncompressed: the kernel unpacks it as is,
    /// which is faster than gunzip under TCG). Parents come before children.
    pub fn to_cpio(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (ino, (path, node)) in (1u32..).zip(&self.nodes) {
            let (mode, data, rdev): (u32, &[u8], (u32, u32)) = match node {
                Node::Dir => (0o040_755, &[], (0, 0)),
                Node::File { data, mode } => (0o100_000 | mode, data, (0, 0)),
                Node::Symlink(t) => (0o120_777, t.as_bytes(), (0, 0)),
                Node::CharDev(ma, mi) => (0o020_600, &[], (*ma, *mi)),
            };
            let nlink = if matches!(node, Node::Dir) { 2 } else { 1 };
            cpio_entry(&mut out, ino, mode, nlink, rdev, path, data);
        }
        cpio_entry(&mut out, 0, 0, 1, (0, 0), "TRAILER!!!", &[]);
        out
    }
}

fn cpio_entry(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    nlink: u32,
    rdev: (u32, u32),
    name: &str,
    data: &[u8],
) {
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime
        data.len() as u32,
        0, // devmajor
        0, // devminor
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0, // check
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_layout() {
        let mut fs = Initramfs::new();
        fs.file("/bin/x", b"abc".to_vec(), 0o755)
            .symlink("bin/sh", "busybox");
        let c = fs.to_cpio();
        assert!(c.starts_with(b"070701"));
        assert_eq!(c.len() % 4, 0);
        let text = String::from_utf8_lossy(&c);
        // "bin" directory before its children, trailer last.
        let bin = text.find("bin\0").unwrap();
        let x = text.find("bin/x\0").unwrap();
        assert!(bin < x);
        assert!(text.trim_end_matches('\0').ends_with("TRAILER!!!"));
        // file size field (7th, after the 6-byte magic) of bin/x is 3.
        let hdr = &text[x - 110..x];
        assert_eq!(&hdr[6 + 6 * 8..6 + 7 * 8], "00000003");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn fnv_differs_on_split() {
        let mut a = Fnv::new();
        a.update(b"ab");
        a.update(b"c");
        let mut b = Fnv::new();
        b.update(b"a");
        b.update(b"bc");
        assert_ne!(a.hex(), b.hex());
    }
}
