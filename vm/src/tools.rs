//! Finding the host tools (QEMU, vhost-device-vsock, kernel, busybox) and building
//! static guest binaries.

use std::cmp::Ordering;
use std::env;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::{HarnessError, io_err};

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("vm/ has a parent")
        .to_path_buf()
}

/// The cargo target directory: `$CARGO_TARGET_DIR` or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(d) => workspace_root().join(d),
        None => workspace_root().join("target"),
    }
}

/// The harness's cache (`<target>/vm-cache`): extracted kernels, initramfs images.
pub fn cache_dir() -> Result<PathBuf, HarnessError> {
    let dir = target_dir().join("vm-cache");
    fs::create_dir_all(&dir).map_err(|e| io_err(format!("create {}", dir.display()), e))?;
    Ok(dir)
}

fn is_executable(p: &Path) -> bool {
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Looks `name` up on `$PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn from_env(var: &str) -> Option<PathBuf> {
    env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn missing(what: &str, var: &'static str) -> HarnessError {
    HarnessError::MissingTool {
        what: what.to_string(),
        var,
    }
}

/// The host programs and files a VM needs. [`Tools::find`] locates them; every one
/// can be overridden by an environment variable.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `qemu-system-x86_64` (`HVSOCK_VM_QEMU`).
    pub qemu: PathBuf,
    /// `vhost-device-vsock` (`HVSOCK_VM_BACKEND`); searched in `<target>/vm-tools/bin`,
    /// `$PATH` and `~/.cargo/bin`.
    pub backend: PathBuf,
    /// The kernel bzImage (`HVSOCK_VM_KERNEL`): the newest `/boot/vmlinuz-*-amd64`
    /// that has a `/lib/modules` tree.
    pub bzimage: PathBuf,
    /// The kernel's module tree (`HVSOCK_VM_MODULES`), `/lib/modules/VERSION`.
    pub modules: PathBuf,
    /// A statically linked busybox (`HVSOCK_VM_BUSYBOX`).
    pub busybox: PathBuf,
    /// `xz`, for the kernel and compressed modules.
    pub xz: PathBuf,
}

impl Tools {
    /// Finds every tool, or says which one is missing (run `vm/setup.sh`).
    pub fn find() -> Result<Tools, HarnessError> {
        let qemu = from_env("HVSOCK_VM_QEMU")
            .or_else(|| which("qemu-system-x86_64"))
            .ok_or_else(|| missing("qemu-system-x86_64", "HVSOCK_VM_QEMU"))?;
        let backend = from_env("HVSOCK_VM_BACKEND")
            .or_else(|| {
                let cached = target_dir().join("vm-tools/bin/vhost-device-vsock");
                is_executable(&cached).then_some(cached)
            })
            .or_else(|| which("vhost-device-vsock"))
            .or_else(|| {
                let home = PathBuf::from(env::var_os("HOME")?);
                let p = home.join(".cargo/bin/vhost-device-vsock");
                is_executable(&p).then_some(p)
            })
            .ok_or_else(|| missing("vhost-device-vsock", "HVSOCK_VM_BACKEND"))?;
        let (bzimage, modules) = match (from_env("HVSOCK_VM_KERNEL"), from_env("HVSOCK_VM_MODULES"))
        {
            (Some(k), Some(m)) => (k, m),
            (k, m) => {
                let (bk, bm) = newest_kernel(Path::new("/boot"), Path::new("/lib/modules"))
                    .ok_or_else(|| missing("/boot/vmlinuz-*-amd64", "HVSOCK_VM_KERNEL"))?;
                (k.unwrap_or(bk), m.unwrap_or(bm))
            }
        };
        let busybox = from_env("HVSOCK_VM_BUSYBOX")
            .or_else(|| {
                ["/bin/busybox", "/usr/bin/busybox"]
                    .iter()
                    .map(PathBuf::from)
                    .find(|p| is_executable(p))
            })
            .ok_or_else(|| missing("busybox (busybox-static)", "HVSOCK_VM_BUSYBOX"))?;
        check_static(&busybox)?;
        let xz = which("xz").ok_or_else(|| missing("xz (xz-utils)", "PATH"))?;
        Ok(Tools {
            qemu,
            backend,
            bzimage,
            modules,
            busybox,
            xz,
        })
    }
}

/// Compares version strings piecewise: digit runs numerically, the rest as text.
fn version_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    for (x, y) in chunks(a).into_iter().zip(chunks(b)) {
        let o = match (x, y) {
            ((true, x), (true, y)) => x
                .trim_start_matches('0')
                .len()
                .cmp(&y.trim_start_matches('0').len())
                .then_with(|| x.trim_start_matches('0').cmp(y.trim_start_matches('0'))),
            ((_, x), (_, y)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// The newest `vmlinuz-VERSION-amd64` in `boot` whose `modules/VERSION` exists. This is
/// independent of the running kernel (`uname -r`), which may be something else.
pub fn newest_kernel(boot: &Path, modules: &Path) -> Option<(PathBuf, PathBuf)> {
    let mut versions: Vec<String> = fs::read_dir(boot)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let v = name.strip_prefix("vmlinuz-")?;
            (v.ends_with("-amd64") && modules.join(v).join("kernel").is_dir())
                .then(|| v.to_string())
        })
        .collect();
    versions.sort_by(|a, b| version_cmp(a, b));
    let v = versions.pop()?;
    Some((boot.join(format!("vmlinuz-{v}")), modules.join(v)))
}

/// Fails unless `path` is an ELF executable without a program interpreter (static).
pub fn check_static(path: &Path) -> Result<(), HarnessError> {
    let data = fs::read(path).map_err(|e| io_err(format!("read {}", path.display()), e))?;
    let not = |why: &str| HarnessError::NotStatic {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    if data.len() < 64 || !data.starts_with(b"\x7fELF") || data[4] != 2 {
        return Err(not("not a 64-bit ELF file"));
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(data[0x20..0x28].try_into().expect("8 bytes")) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        let Some(t) = data.get(o..o + 4) else {
            return Err(not("truncated program headers"));
        };
        if u32::from_le_bytes(t.try_into().expect("4 bytes")) == 3 {
            return Err(not("dynamically linked (has PT_INTERP)"));
        }
    }
    Ok(())
}

/// The target triple static guest binaries are built for.
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Builds binary `bin` of workspace package `package` statically linked
/// (`-C target-feature=+crt-static`, target [`STATIC_TARGET`], profile [`guest_profile`],
/// debug info stripped) into `<target>/vm-static`, so the normal build is not invalidated, and
/// returns its path. Each (package, bin) is built once per process.
///
/// ```no_run
/// let hvsock = hvsock_vm::build_static_bin("hvsock-cli", "hvsock")?;
/// # Ok::<(), hvsock_vm::HarnessError>(())
/// ```
pub fn build_static_bin(package: &str, bin: &str) -> Result<PathBuf, HarnessError> {
    build_static_bin_profile(package, bin, &guest_profile())
}

/// The cargo profile of guest binaries: `HVSOCK_VM_PROFILE`, by default `guest` (the
/// workspace's dev profile at opt-level 1: TCG guests run unoptimized code very slowly).
pub fn guest_profile() -> String {
    env::var("HVSOCK_VM_PROFILE").unwrap_or_else(|_| "guest".into())
}

/// [`build_static_bin`] with a cargo profile (`"dev"`, `"release"`, ...).
pub fn build_static_bin_profile(
    package: &str,
    bin: &str,
    profile: &str,
) -> Result<PathBuf, HarnessError> {
    build_static(package, Kind::Bin, bin, profile)
}

/// [`build_static_bin`] for example `example` of `package` (with the features its
/// `required-features` need enabled by the package's dev-dependencies, as `cargo test`
/// builds it), in the [`guest_profile`].
///
/// ```no_run
/// let grpc = hvsock_vm::build_static_example("hvsock", "grpc_in_guest")?;
/// # Ok::<(), hvsock_vm::HarnessError>(())
/// ```
pub fn build_static_example(package: &str, example: &str) -> Result<PathBuf, HarnessError> {
    build_static(package, Kind::Example, example, &guest_profile())
}

/// What cargo builds: a `[[bin]]` or an `[[example]]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Bin,
    Example,
}

fn build_static(
    package: &str,
    kind: Kind,
    bin: &str,
    profile: &str,
) -> Result<PathBuf, HarnessError> {
    type Built = Vec<([String; 4], PathBuf)>;
    static BUILT: OnceLock<Mutex<Built>> = OnceLock::new();
    let key = [
        package.to_string(),
        format!("{kind:?}"),
        bin.to_string(),
        profile.to_string(),
    ];
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = built.iter().find(|(k, _)| *k == key) {
        return Ok(p.clone());
    }
    let target = target_dir().join("vm-static");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "-p",
            package,
            match kind {
                Kind::Bin => "--bin",
                Kind::Example => "--example",
            },
            bin,
            "--profile",
            profile,
        ])
        .arg("--target")
        .arg(STATIC_TARGET)
        .arg("--target-dir")
        .arg(&target)
        .env(
            "RUSTFLAGS",
            "-C target-feature=+crt-static -C strip=debuginfo",
        )
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .map_err(|e| io_err("run cargo build".to_string(), e))?;
    if !output.status.success() {
        return Err(HarnessError::Build {
            what: format!("{package}/{bin}"),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let dir = match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    };
    let mut path = target.join(STATIC_TARGET).join(dir);
    if kind == Kind::Example {
        path.push("examples");
    }
    path.push(bin);
    check_static(&path)?;
    built.push((key, path.clone()));
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        assert_eq!(
            version_cmp("6.10.0-1-amd64", "6.9.0-3-amd64"),
            Ordering::Greater
        );
        assert_eq!(
            version_cmp("6.1.0-56-amd64", "6.1.0-9-amd64"),
            Ordering::Greater
        );
        assert_eq!(
            version_cmp("6.1.0-9-amd64", "6.1.0-9-amd64"),
            Ordering::Equal
        );
    }

    #[test]
    fn newest_kernel_needs_modules() {
        let d = std::env::temp_dir().join(format!("hvsock-vm-kt-{}", std::process::id()));
        let (boot, lib) = (d.join("boot"), d.join("modules"));
        for v in ["6.1.0-9-amd64", "6.1.0-56-amd64", "6.12.0-1-amd64"] {
            fs::create_dir_all(&boot).unwrap();
            fs::write(boot.join(format!("vmlinuz-{v}")), b"x").unwrap();
        }
        for v in ["6.1.0-9-amd64", "6.1.0-56-amd64"] {
            fs::create_dir_all(lib.join(v).join("kernel")).unwrap();
        }
        let (k, m) = newest_kernel(&boot, &lib).unwrap();
        assert_eq!(k, boot.join("vmlinuz-6.1.0-56-amd64"));
        assert_eq!(m, lib.join("6.1.0-56-amd64"));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn static_check() {
        // The test binary itself is dynamically linked on the gnu target.
        let me = std::env::current_exe().unwrap();
        let dynamic = fs::read(&me)
            .unwrap()
            .windows(10)
            .any(|w| w == b"ld-linux-x");
        assert_eq!(check_static(&me).is_err(), dynamic);
        assert!(
            check_static(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("Cargo.toml")
                    .as_path()
            )
            .is_err()
        );
    }
}
