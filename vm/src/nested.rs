//! A guest inside a guest: kernel vhost-vsock, the vsock host of KVM.
//!
//! vhost-device-vsock (and Firecracker, whose vsock code Cloud Hypervisor shares) turns a
//! host `shutdown(SHUT_WR)` into a full close and never passes a guest's half-close on.
//! The Linux kernel's vhost-vsock does both, but on this machine the host must not use
//! AF_VSOCK. So the vsock host here is a guest of our own: the outer guest (a [`Vm`]
//! started with [`outer_config`]) loads `vhost_vsock`, mounts the host's root read-only
//! ([`VmConfig::share_host_root`]) and runs the host's own QEMU from it
//! (`chroot /host qemu-system-x86_64 ... -device vhost-vsock-pci,guest-cid=N`) to boot
//! the inner guest with the same kernel. In the outer guest, AF_VSOCK to CID `N` reaches
//! the inner guest through the kernel, and the inner guest's CID 2 (PARENT) is the outer
//! guest: exactly a KVM host and its VM, with no userspace backend in between.
//!
//! TCG inside TCG is slow: the inner kernel takes ~50-60 s to reach `/init` on 2 cores.
//!
//! The inner guest has no agent: its `/init` runs [`VmConfig::guest_init`] (busybox `sh`,
//! with [`VmConfig::env`] exported) and then idles until stopped; its console is a file
//! in the outer guest, read with [`NestedGuest::console`] and polled with
//! [`NestedGuest::wait_for`]. Dropping the [`NestedGuest`] kills its QEMU.
//!
//! ```no_run
//! use std::time::Duration;
//! use hvsock_vm::{Vm, VmConfig, nested::{NestedGuest, outer_config}};
//!
//! let outer = Vm::start(outer_config(VmConfig::default()))?;
//! let inner = NestedGuest::start(&outer, VmConfig {
//!     cid: 5,
//!     guest_init: "echo inner: up".into(),
//!     ..VmConfig::default()
//! })?;
//! inner.wait_for("inner: up", Duration::from_secs(240))?;
//! # Ok::<(), hvsock_vm::HarnessError>(())
//! ```

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::image::{self, shell_quote};
use crate::tools::{Tools, cache_dir};
use crate::{HOST_ROOT, HarnessError, Machine, Vm, VmConfig, build_initramfs};

/// `base` made able to host a [`NestedGuest`]: the host root shared, vhost-vsock loaded,
/// at least 1 GiB of memory (the inner guest's QEMU lives in it) and 2 vCPUs (the inner
/// guest's TCG threads, the vhost worker and the host side share them).
pub fn outer_config(base: VmConfig) -> VmConfig {
    let mut modules = base.modules.clone();
    modules.extend(image::VHOST_VSOCK_MODULES.iter().map(|m| m.to_string()));
    VmConfig {
        memory_mib: base.memory_mib.max(1024),
        cpus: base.cpus.max(2),
        share_host_root: true,
        modules,
        ..base
    }
}

/// The inner guest's console file in the outer guest.
fn console_path(cid: u32) -> String {
    format!("/tmp/nested-{cid}.console")
}

/// An inner guest running under QEMU inside an outer [`Vm`] (see the [module](self)).
pub struct NestedGuest<'a> {
    outer: &'a Vm,
    /// The outer guest's pid of the inner guest's QEMU.
    pid: u32,
    cid: u32,
    started: Instant,
}

impl<'a> NestedGuest<'a> {
    /// Boots an inner guest in `outer` (started with [`outer_config`]). From `cfg` it
    /// uses `cid` (must differ from the outer guest's own CID, which vhost-vsock
    /// refuses), `memory_mib`, `cpus`, `guest_init`, `guest_binaries`, `guest_files`,
    /// `env`, `modules` and `kernel_args`. Returns once QEMU runs; wait for a line of
    /// `guest_init` with [`NestedGuest::wait_for`].
    pub fn start(outer: &'a Vm, cfg: VmConfig) -> Result<NestedGuest<'a>, HarnessError> {
        if cfg.cid == outer.cid() || cfg.cid < 3 {
            return Err(HarnessError::Config(format!(
                "inner guest CID {} must be 3 or more and differ from the outer guest's {}",
                cfg.cid,
                outer.cid()
            )));
        }
        if cfg.machine != Machine::Q35 || cfg.share_host_root {
            // microvm has no usable clock source under nested TCG (the kernel stalls
            // calibrating the TSC); a third level is out of reach anyway.
            return Err(HarnessError::Config(
                "an inner guest runs on q35 and shares nothing".into(),
            ));
        }
        let tools = Tools::find()?;
        let initrd = build_initramfs(&cfg, &tools, None)?;
        let kernel = match image::extract_vmlinux(&tools.bzimage, &tools.xz, &cache_dir()?) {
            Ok(vmlinux) => vmlinux,
            Err(e) => {
                eprintln!("hvsock-vm: no PVH kernel for the inner guest ({e}); using the bzImage");
                tools.bzimage.clone()
            }
        };
        let qemu = absolute(&tools.qemu)?;
        let check = outer.exec(&format!(
            "test -c {HOST_ROOT}/dev/vhost-vsock && test -x {HOST_ROOT}{}",
            shell_quote(&qemu.to_string_lossy())
        ))?;
        if !check.success() {
            return Err(HarnessError::Config(format!(
                "the outer guest has no {HOST_ROOT}/dev/vhost-vsock or no QEMU under \
                 {HOST_ROOT}: start it with nested::outer_config ({})",
                check.stderr_str().trim()
            )));
        }
        let q = |p: &Path| shell_quote(&p.to_string_lossy());
        let script = format!(
            "exec chroot {HOST_ROOT} {qemu} -machine q35 -accel tcg -cpu max -smp {cpus} \
             -m {mem}M -nodefaults -no-user-config -nic none -display none -monitor none \
             -serial stdio -no-reboot -device vhost-vsock-pci,guest-cid={cid} \
             -kernel {kernel} -initrd {initrd} \
             -append {append} > {console} 2>&1 < /dev/null",
            qemu = q(&qemu),
            cpus = cfg.cpus,
            mem = cfg.memory_mib,
            cid = cfg.cid,
            kernel = q(&kernel),
            initrd = q(&initrd),
            append = shell_quote(&format!("{} {}", image::KERNEL_ARGS, cfg.kernel_args)),
            console = console_path(cfg.cid),
        );
        let pid = outer.spawn(&script)?;
        Ok(NestedGuest {
            outer,
            pid,
            cid: cfg.cid,
            started: Instant::now(),
        })
    }

    /// The inner guest's CID (AF_VSOCK in the outer guest reaches it there).
    pub fn cid(&self) -> u32 {
        self.cid
    }

    /// Time since [`NestedGuest::start`] returned.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The inner guest's console so far (QEMU's own messages included).
    pub fn console(&self) -> Result<String, HarnessError> {
        let out = self
            .outer
            .exec(&format!("cat {} 2>&1", console_path(self.cid)))?;
        Ok(out.stdout_str())
    }

    /// Whether the inner guest's QEMU still runs.
    pub fn running(&self) -> Result<bool, HarnessError> {
        Ok(self
            .outer
            .exec(&format!("kill -0 {} 2>/dev/null", self.pid))?
            .success())
    }

    /// Waits (polling every 500 ms, bounded by `timeout`) until the console has a line
    /// containing `marker`, and returns that line. Fails at once when QEMU exits.
    pub fn wait_for(&self, marker: &str, timeout: Duration) -> Result<String, HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            let console = self.console()?;
            if let Some(line) = console.lines().find(|l| l.contains(marker)) {
                return Ok(line.to_string());
            }
            if !self.running()? {
                return Err(HarnessError::Boot {
                    what: format!("inner guest exited before printing {marker:?}"),
                    console,
                });
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Boot {
                    what: format!("inner guest: no {marker:?} within {timeout:?}"),
                    console,
                });
            }
            thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for NestedGuest<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- inner guest console (CID {}) ---\n{}--- end of inner guest console ---",
                self.cid,
                self.console()
                    .unwrap_or_else(|e| format!("(unreadable: {e})\n"))
            );
        }
        let _ = self.outer.kill(self.pid);
    }
}

fn absolute(p: &Path) -> Result<PathBuf, HarnessError> {
    p.canonicalize()
        .map_err(|e| crate::io_err(format!("resolve {}", p.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_config_adds_vhost_and_the_host_root_and_keeps_the_rest() {
        let cfg = outer_config(VmConfig {
            memory_mib: 2048,
            cpus: 1,
            modules: vec!["loop".into()],
            guest_init: "echo hi".into(),
            ..VmConfig::default()
        });
        assert!(cfg.share_host_root);
        assert_eq!(cfg.memory_mib, 2048, "more memory than the minimum is kept");
        assert_eq!(cfg.cpus, 2, "at least 2 vCPUs");
        assert_eq!(cfg.modules, ["loop", "vhost_iotlb", "vhost", "vhost_vsock"]);
        assert_eq!(cfg.guest_init, "echo hi");
        assert_eq!(outer_config(VmConfig::default()).memory_mib, 1024);
    }

    #[test]
    fn console_files_are_per_cid() {
        assert_ne!(console_path(5), console_path(6));
        assert!(console_path(5).starts_with("/tmp/"));
    }
}
