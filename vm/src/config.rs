//! What a test asks the harness to boot.

use std::path::PathBuf;
use std::time::Duration;

/// QEMU machine type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// `q35` with `vhost-user-vsock-pci`.
    Q35,
    /// `microvm` with `vhost-user-vsock-device` on virtio-mmio (no PCI, no ACPI).
    Microvm,
}

/// What to boot.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// The guest's CID (default 3).
    pub cid: u32,
    /// Guest memory in MiB (default 256).
    pub memory_mib: u32,
    /// Virtual CPUs (default 1; TCG runs them on host threads).
    pub cpus: u32,
    /// QEMU machine (default [`Machine::Q35`]).
    pub machine: Machine,
    /// Shell run by `/init` after the modules are loaded and before the agent starts
    /// (busybox `sh`); start long-running programs in the background with `&`.
    pub guest_init: String,
    /// Static host executables copied into the guest: (host path, absolute guest path).
    pub guest_binaries: Vec<(PathBuf, String)>,
    /// Other files copied into the guest (mode 0644): (contents, absolute guest path).
    pub guest_files: Vec<(Vec<u8>, String)>,
    /// Environment exported by `/init` for `guest_init` and every agent command.
    pub env: Vec<(String, String)>,
    /// Bound on boot-to-ready (default 60 s).
    pub boot_timeout: Duration,
    /// Extra kernel command line.
    pub kernel_args: String,
    /// Kernel modules `/init` loads after the virtio/vsock ones (dependencies first),
    /// e.g. [`image::VHOST_VSOCK_MODULES`](crate::image::VHOST_VSOCK_MODULES) for a guest that hosts a [`nested`](crate::nested) guest.
    pub modules: Vec<String>,
    /// Share the host's root directory read-only with the guest (virtio-9p), mounted
    /// at [`HOST_ROOT`](crate::HOST_ROOT) with the guest's own `proc`, `sys` and `dev` on top, so that
    /// `chroot /host PROGRAM` runs a host program (QEMU, for [`nested`](crate::nested)) in the guest.
    pub share_host_root: bool,
}

impl Default for VmConfig {
    fn default() -> Self {
        VmConfig {
            cid: 3,
            memory_mib: 256,
            cpus: 1,
            machine: Machine::Q35,
            guest_init: String::new(),
            guest_binaries: Vec::new(),
            guest_files: Vec::new(),
            env: Vec::new(),
            boot_timeout: Duration::from_secs(60),
            kernel_args: String::new(),
            modules: Vec::new(),
            share_host_root: false,
        }
    }
}
