//! # hvsock-vm: real Linux guests with virtio-vsock, for hvsock's VM tests
//!
//! [`Vm::start`] boots a Debian kernel under QEMU (`-accel tcg`, no network device at
//! all) with a `vhost-user-vsock-pci` device served by `vhost-device-vsock`, whose
//! "hybrid vsock" Unix socket ([`Vm::hybrid_path`]) is the host's way in:
//!
//! * host -> guest port P: connect to [`Vm::hybrid_path`], send `CONNECT P\n`, wait for
//!   `OK ...\n` ([`hybrid_connect`], [`Vm::connect`]); bytes sent before the `OK` line are
//!   dropped by the backend, and a port with no listener just closes the connection;
//! * guest -> host port P: the backend connects to the Unix socket `<hybrid_path>_P`
//!   ([`Vm::host_port_path`]), so a host test listens there first.
//!
//! The guest runs busybox and `/init`: it mounts proc/sys/dev, loads the virtio/vsock
//! modules ([`image::VSOCK_MODULES`]), exports [`VmConfig::env`], runs
//! [`VmConfig::guest_init`] and then the harness's agent (`vm-guest agent`, package
//! `hvsock-vm-guest`) on [`AGENT_PORT`]. The VM is ready when the agent answers;
//! tests then run guest commands with [`Vm::exec`] (wait, capture output) and
//! [`Vm::spawn`] (background, output to the console). The guest console goes to a
//! file ([`Vm::console_log`]), printed to stderr when a test panics with a `Vm` alive.
//!
//! Dropping the [`Vm`] kills QEMU and the backend by their pids, waits for them and
//! removes the temporary directory with every socket. Children also get
//! `PR_SET_PDEATHSIG`, so a killed test process leaves no orphans.
//!
//! ```no_run
//! use hvsock_vm::{Vm, VmConfig};
//!
//! let vm = Vm::start(VmConfig::default())?;
//! let out = vm.exec("uname -r")?;
//! assert!(out.success());
//! # Ok::<(), hvsock_vm::HarnessError>(())
//! ```
//!
//! ## Running the program under test in the guest
//!
//! Build it static with [`build_static_bin`], copy it in with
//! [`VmConfig::guest_binaries`] (config files with [`VmConfig::guest_files`]), start it
//! from [`VmConfig::guest_init`] or [`Vm::spawn`], wait for its port, then talk to it
//! through [`Vm::hybrid_path`]:
//!
//! ```no_run
//! use std::time::Duration;
//! use hvsock_vm::{Vm, VmConfig, build_static_bin};
//!
//! let hvsock = build_static_bin("hvsock-cli", "hvsock")?;
//! let vm = Vm::start(VmConfig {
//!     guest_binaries: vec![(hvsock, "/bin/hvsock".into())],
//!     env: vec![("HVSOCK_GUEST".into(), "1".into())],
//!     guest_init: "hvsock listen any:5000 --keep-open --exec cat &".into(),
//!     ..VmConfig::default()
//! })?;
//! vm.wait_port(5000, Duration::from_secs(30))?;
//! // The host side: `hvsock vm add NAME --hybrid <vm.hybrid_path()>`, then connect.
//! let _stream = vm.connect(5000)?;
//! # Ok::<(), hvsock_vm::HarnessError>(())
//! ```
//!
//! ## Known limits of the backend (vhost-device-vsock 0.3.0)
//!
//! * Half-close is not propagated: a guest `shutdown(SHUT_WR)` never reaches the host
//!   (rust-vmm/vhost-device#874) and a host `shutdown(SHUT_WR)` becomes a full close
//!   (Firecracker does the same). Kernel vhost-vsock carries it: [`nested`] boots a
//!   guest inside a guest to test hvsock there.
//! * A host CONNECT racing with the guest driver's start-up can wedge the backend; the
//!   harness therefore waits for the agent's hello (guest -> host) before connecting.
//! * One connection saturated in both directions at once can stall for good (log:
//!   "Failed to re-enable EPOLLOUT"); keep the data in flight bounded (a window) when
//!   echoing bulk data.
//! * A guest connect to a host port nobody listens on fails with `ETIMEDOUT` after the
//!   guest's connect timeout (2 s), not with a reset.
//! * A host closing a guest-initiated connection with data still unread (the Unix
//!   socket then resets its peer instead of EOF) is never passed on: the guest's
//!   connection hangs. Read what the guest sent, or shut down both ways and drain,
//!   before closing.
//!
//! Host tools come from `vm/setup.sh` (Debian packages `qemu-system-x86`,
//! `linux-image-amd64`, `busybox-static`, `xz-utils`, and `vhost-device-vsock` 0.3.0
//! cargo-installed under `target/vm-tools`); see [`Tools`] for overrides.
#![warn(missing_docs)]

mod boot;
mod config;
mod error;
mod guest;
pub mod image;
mod initramfs;
pub mod nested;
mod spawn;
#[allow(unsafe_code)]
mod sys;
pub mod tools;

pub use boot::{Vm, sweep_stale_dirs};
pub use config::{Machine, VmConfig};
pub use error::HarnessError;
pub(crate) use error::io_err;
pub use guest::{GuestOutput, echo_rtt, hybrid_connect};
pub use image::Initramfs;
pub(crate) use initramfs::build_initramfs;
pub use tools::{
    Tools, build_static_bin, build_static_bin_profile, build_static_example, cache_dir,
    guest_profile, target_dir,
};

/// The vsock port of the harness's guest agent.
pub const AGENT_PORT: u32 = 52_000;

/// Guest path of the harness's helper program (`vm-guest`).
pub const GUEST_HELPER: &str = "/bin/vm-guest";

/// What `/init` prints on the console once it runs (followed by the guest uptime).
pub const INIT_MARKER: &str = "hvsock-vm: init up";

/// Where a guest with [`VmConfig::share_host_root`] sees the host's root directory.
pub const HOST_ROOT: &str = "/host";

/// The 9p mount tag of the shared host root.
pub(crate) const HOST_ROOT_TAG: &str = "hostroot";
