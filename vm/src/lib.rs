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

pub mod image;
pub mod nested;
mod spawn;
pub mod tools;

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

pub use image::Initramfs;
pub use tools::{Tools, build_static_bin, build_static_bin_profile, cache_dir, target_dir};

/// The vsock port of the harness's guest agent.
pub const AGENT_PORT: u32 = 52_000;

/// Guest path of the harness's helper program (`vm-guest`).
pub const GUEST_HELPER: &str = "/bin/vm-guest";

/// What `/init` prints on the console once it runs (followed by the guest uptime).
pub const INIT_MARKER: &str = "hvsock-vm: init up";

/// Where a guest with [`VmConfig::share_host_root`] sees the host's root directory.
pub const HOST_ROOT: &str = "/host";

/// The 9p mount tag of the shared host root.
const HOST_ROOT_TAG: &str = "hostroot";

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A host tool is missing.
    #[error("{what} not found: run vm/setup.sh (or set {var})")]
    MissingTool {
        /// The tool.
        what: String,
        /// The environment variable that overrides its location.
        var: &'static str,
    },
    /// A guest binary is not statically linked.
    #[error("{path}: not a static executable: {why}")]
    NotStatic {
        /// The file.
        path: PathBuf,
        /// Why not.
        why: String,
    },
    /// Building a static guest binary failed.
    #[error("static build of {what} failed:\n{stderr}")]
    Build {
        /// `package/bin`.
        what: String,
        /// Cargo's error output.
        stderr: String,
    },
    /// Building the kernel or initramfs image failed.
    #[error("guest image: {0}")]
    Image(String),
    /// The configuration is invalid.
    #[error("invalid VM configuration: {0}")]
    Config(String),
    /// The VM did not come up (or died); carries the guest console.
    #[error("{what}\n--- guest console ---\n{console}--- end of guest console ---")]
    Boot {
        /// What went wrong.
        what: String,
        /// The guest console log so far.
        console: String,
    },
    /// A wait ran out of time.
    #[error("{what}: timed out after {after:?}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The bound.
        after: Duration,
    },
    /// A hybrid-vsock `CONNECT` was not answered with `OK`.
    #[error("hybrid vsock CONNECT {port}: {reason}")]
    Connect {
        /// The guest port.
        port: u32,
        /// What happened instead.
        reason: String,
    },
    /// The guest agent answered something unexpected.
    #[error("guest agent: {0}")]
    Agent(String),
}

pub(crate) fn io_err(context: String, source: io::Error) -> HarnessError {
    HarnessError::Io { context, source }
}

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
    /// e.g. [`image::VHOST_VSOCK_MODULES`] for a guest that hosts a [`nested`] guest.
    pub modules: Vec<String>,
    /// Share the host's root directory read-only with the guest (virtio-9p), mounted
    /// at [`HOST_ROOT`] with the guest's own `proc`, `sys` and `dev` on top, so that
    /// `chroot /host PROGRAM` runs a host program (QEMU, for [`nested`]) in the guest.
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

/// Output of a guest command run by [`Vm::exec`].
#[derive(Debug, Clone)]
pub struct GuestOutput {
    /// Exit status (128 + signal when killed by one).
    pub status: i32,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

impl GuestOutput {
    /// Whether the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }
    /// Standard output as (lossy) text.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Standard error as (lossy) text.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Mean round trip of `rounds` 64-byte messages echoed by the peer of `s` (a figure for
/// test output; nothing asserts on it).
pub fn echo_rtt(s: &mut (impl Read + Write), rounds: u32) -> io::Result<Duration> {
    let mut buf = [0u8; 64];
    let t = Instant::now();
    for _ in 0..rounds {
        s.write_all(&[7u8; 64])?;
        s.read_exact(&mut buf)?;
    }
    Ok(t.elapsed() / rounds.max(1))
}

/// Connects to guest port `port` through the hybrid vsock socket `hybrid`: sends
/// `CONNECT port\n` and waits (up to `timeout`) for the `OK` line, which is consumed.
/// A closed connection or another answer means no listener (or no guest driver yet).
pub fn hybrid_connect(
    hybrid: &Path,
    port: u32,
    timeout: Duration,
) -> Result<UnixStream, HarnessError> {
    let fail = |reason: String| HarnessError::Connect { port, reason };
    let mut s = UnixStream::connect(hybrid).map_err(|e| fail(format!("connect: {e}")))?;
    s.set_read_timeout(Some(timeout))
        .and_then(|_| s.set_write_timeout(Some(timeout)))
        .map_err(|e| fail(e.to_string()))?;
    s.write_all(format!("CONNECT {port}\n").as_bytes())
        .map_err(|e| fail(format!("send: {e}")))?;
    // Byte by byte, so nothing after the line is consumed.
    let mut line = Vec::new();
    let mut b = [0u8];
    while line.last() != Some(&b'\n') {
        match s.read(&mut b) {
            Ok(0) => return Err(fail("connection closed (no listener?)".into())),
            Ok(_) if line.len() < 64 => line.push(b[0]),
            Ok(_) => return Err(fail("overlong reply".into())),
            Err(e) => return Err(fail(format!("read: {e}"))),
        }
    }
    if !line.starts_with(b"OK ") {
        return Err(fail(format!(
            "reply {:?}",
            String::from_utf8_lossy(&line).trim_end()
        )));
    }
    s.set_read_timeout(None)
        .and_then(|_| s.set_write_timeout(None))
        .map_err(|e| fail(e.to_string()))?;
    Ok(s)
}

/// A running guest: QEMU plus its vhost-device-vsock backend, with a private temporary
/// directory for sockets and logs. Dropping it tears everything down.
pub struct Vm {
    dir: PathBuf,
    hybrid: PathBuf,
    console: PathBuf,
    qemu: Mutex<Option<Child>>,
    backend: Mutex<Option<Child>>,
    qemu_pid: u32,
    backend_pid: u32,
    cid: u32,
    boot_time: Duration,
    pvh: bool,
}

/// A guest kernel to boot.
struct Kernel {
    path: PathBuf,
    pvh: bool,
}

static DIR_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Removes `hvsock-vm-PID-N` directories left in the temp dir by dead processes
/// (a test process killed with SIGKILL cannot clean up after itself). [`Vm::start`]
/// does this itself.
pub fn sweep_stale_dirs(tmp: &Path) {
    let Ok(entries) = fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("hvsock-vm-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

fn make_dir() -> Result<PathBuf, HarnessError> {
    let tmp = std::env::temp_dir();
    sweep_stale_dirs(&tmp);
    let n = DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = tmp.join(format!("hvsock-vm-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir(&dir)
        .and_then(|_| fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)))
        .map_err(|e| io_err(format!("create {}", dir.display()), e))?;
    Ok(dir)
}

fn log_file(path: &Path) -> Result<Stdio, HarnessError> {
    fs::File::create(path)
        .map(Stdio::from)
        .map_err(|e| io_err(format!("create {}", path.display()), e))
}

/// Kills the child by its pid (SIGKILL) and reaps it.
fn kill_and_wait(child: &Mutex<Option<Child>>) {
    let mut c = child.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(mut c) = c.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn try_wait(child: &Mutex<Option<Child>>) -> Option<std::process::ExitStatus> {
    let mut c = child.lock().unwrap_or_else(|e| e.into_inner());
    c.as_mut()?.try_wait().ok().flatten()
}

impl Vm {
    /// Builds the images (cached under `target/vm-cache`), starts vhost-device-vsock and
    /// QEMU, and waits until the guest agent answers on [`AGENT_PORT`] (bounded by
    /// [`VmConfig::boot_timeout`]). Boots the uncompressed kernel through PVH and falls
    /// back to the bzImage when extracting it or booting it fails.
    pub fn start(cfg: VmConfig) -> Result<Vm, HarnessError> {
        let tools = Tools::find()?;
        let helper = build_static_bin("hvsock-vm-guest", "vm-guest")?;
        let initrd = build_initramfs(&cfg, &tools, Some(&helper))?;
        let mut kernels = Vec::new();
        if std::env::var_os("HVSOCK_VM_BZIMAGE").is_none() {
            match image::extract_vmlinux(&tools.bzimage, &tools.xz, &cache_dir()?) {
                Ok(path) => kernels.push(Kernel { path, pvh: true }),
                Err(e) => eprintln!("hvsock-vm: no PVH kernel ({e}); booting the bzImage"),
            }
        }
        kernels.push(Kernel {
            path: tools.bzimage.clone(),
            pvh: false,
        });
        let last = kernels.len() - 1;
        for (i, kernel) in kernels.iter().enumerate() {
            match Vm::launch(&cfg, &tools, kernel, &initrd) {
                // Fall back only when the kernel never reached /init.
                Err(HarnessError::Boot { what, console })
                    if i < last && !console.contains(INIT_MARKER) =>
                {
                    eprintln!(
                        "hvsock-vm: PVH boot failed ({what}); booting the bzImage\n{console}"
                    );
                }
                other => return other,
            }
        }
        unreachable!("the last kernel's result is returned")
    }

    fn launch(
        cfg: &VmConfig,
        tools: &Tools,
        kernel: &Kernel,
        initrd: &Path,
    ) -> Result<Vm, HarnessError> {
        let started = Instant::now();
        let dir = make_dir()?;
        let hybrid = dir.join("vm.vsock");
        let vhost = dir.join("vhost.sock");
        let console = dir.join("console.log");
        fs::write(&console, b"").map_err(|e| io_err("create console log".into(), e))?;

        let mut backend_cmd = Command::new(&tools.backend);
        backend_cmd
            .arg("--vm")
            .arg(format!(
                "guest-cid={},socket={},uds-path={}",
                cfg.cid,
                vhost.display(),
                hybrid.display()
            ))
            .stdin(Stdio::null())
            .stdout(log_file(&dir.join("backend.log"))?)
            .stderr(log_file(&dir.join("backend.err.log"))?);
        let backend = match spawn::spawn(backend_cmd) {
            Ok(c) => c,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(io_err(format!("start {}", tools.backend.display()), e));
            }
        };
        let backend_pid = backend.id();
        // From here on, Drop cleans up.
        let mut vm = Vm {
            dir,
            hybrid,
            console,
            qemu: Mutex::new(None),
            backend: Mutex::new(Some(backend)),
            qemu_pid: 0,
            backend_pid,
            cid: cfg.cid,
            boot_time: Duration::ZERO,
            pvh: kernel.pvh,
        };

        // The backend creates the vhost-user socket QEMU connects to.
        let deadline = Instant::now() + Duration::from_secs(20);
        while !vhost.exists() {
            if let Some(status) = vm.try_wait_backend() {
                return Err(vm.boot_error(format!(
                    "vhost-device-vsock exited ({status}): {}",
                    vm.read_log("backend.err.log")
                )));
            }
            if Instant::now() > deadline {
                return Err(vm.boot_error("vhost-device-vsock did not create its socket".into()));
            }
            thread::sleep(Duration::from_millis(10));
        }

        // The agent says hello (guest -> host) once it listens; only then does the host
        // CONNECT: probing while the guest driver starts can wedge the backend.
        let hello = UnixListener::bind(vm.host_port_path(AGENT_PORT))
            .and_then(|l| l.set_nonblocking(true).map(|_| l))
            .map_err(|e| io_err("bind the hello socket".into(), e))?;

        let mem = format!("{}M", cfg.memory_mib);
        let (machine, device) = match cfg.machine {
            Machine::Q35 => ("q35", "vhost-user-vsock-pci"),
            Machine::Microvm => ("microvm,memory-backend=mem", "vhost-user-vsock-device"),
        };
        let mut qemu_cmd = Command::new(&tools.qemu);
        qemu_cmd
            .args(["-machine", machine, "-accel", "tcg", "-cpu", "max"])
            .args(["-smp", &cfg.cpus.to_string(), "-m", &mem])
            .arg("-object")
            .arg(format!("memory-backend-memfd,id=mem,size={mem},share=on"));
        if cfg.machine == Machine::Q35 {
            qemu_cmd.args(["-numa", "node,memdev=mem"]);
        }
        if cfg.share_host_root {
            let device = match cfg.machine {
                Machine::Q35 => "virtio-9p-pci",
                Machine::Microvm => "virtio-9p-device",
            };
            // multidevs=remap: / spans several file systems (proc, sys, tmpfs...), whose
            // inode numbers would otherwise collide in the guest.
            qemu_cmd
                .arg("-fsdev")
                .arg("local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap")
                .arg("-device")
                .arg(format!("{device},fsdev=hostroot,mount_tag={HOST_ROOT_TAG}"));
        }
        qemu_cmd
            .arg("-chardev")
            .arg(format!("socket,id=vsock0,path={}", vhost.display()))
            .arg("-device")
            .arg(format!("{device},chardev=vsock0"))
            .args([
                "-nodefaults",
                "-no-user-config",
                "-nic",
                "none",
                "-display",
                "none",
            ])
            .arg("-serial")
            .arg(format!("file:{}", vm.console.display()))
            .args(["-no-reboot", "-kernel"])
            .arg(&kernel.path)
            .arg("-initrd")
            .arg(initrd)
            .arg("-append")
            .arg(format!(
                "console=ttyS0 panic=-1 quiet loglevel=4 {}",
                cfg.kernel_args
            ))
            .stdin(Stdio::null())
            .stdout(log_file(&vm.dir.join("qemu.log"))?)
            .stderr(Stdio::from(
                fs::OpenOptions::new()
                    .append(true)
                    .open(vm.dir.join("qemu.log"))
                    .map_err(|e| io_err("open qemu.log".into(), e))?,
            ));
        let qemu = spawn::spawn(qemu_cmd)
            .map_err(|e| vm.boot_error(format!("start {}: {e}", tools.qemu.display())))?;
        vm.qemu_pid = qemu.id();
        vm.qemu = Mutex::new(Some(qemu));

        vm.wait_hello(&hello, cfg.boot_timeout)
            .and_then(|_| vm.wait_port(AGENT_PORT, Duration::from_secs(10)))
            .map_err(|e| vm.boot_error(format!("guest not ready: {e}")))?;
        vm.boot_time = started.elapsed();
        Ok(vm)
    }

    /// Waits for the agent's `READY` line on `hello` (bounded; fails early if QEMU or the
    /// backend exits).
    fn wait_hello(&self, hello: &UnixListener, timeout: Duration) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            match hello.accept() {
                Ok((s, _)) => {
                    let mut line = String::new();
                    s.set_nonblocking(false)
                        .and_then(|_| s.set_read_timeout(Some(Duration::from_secs(10))))
                        .and_then(|_| (&s).take(64).read_to_string(&mut line))
                        .map_err(|e| io_err("read the agent's hello".into(), e))?;
                    if line.starts_with("READY ") {
                        return Ok(());
                    }
                    return Err(HarnessError::Agent(format!("bad hello {line:?}")));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(io_err("accept the agent's hello".into(), e)),
            }
            if let Some(status) = self.try_wait_qemu() {
                return Err(HarnessError::Agent(format!("QEMU exited ({status})")));
            }
            if let Some(status) = self.try_wait_backend() {
                return Err(HarnessError::Agent(format!(
                    "vhost-device-vsock exited ({status})"
                )));
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: "waiting for the guest agent's hello".into(),
                    after: timeout,
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn read_log(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    fn boot_error(&self, what: String) -> HarnessError {
        let qemu = self.read_log("qemu.log");
        let what = if qemu.trim().is_empty() {
            what
        } else {
            format!("{what}\nqemu: {}", qemu.trim())
        };
        HarnessError::Boot {
            what,
            console: self.console_log(),
        }
    }

    fn try_wait_backend(&self) -> Option<std::process::ExitStatus> {
        try_wait(&self.backend)
    }

    fn try_wait_qemu(&self) -> Option<std::process::ExitStatus> {
        try_wait(&self.qemu)
    }

    /// The host side of the hybrid vsock (`uds-path` of vhost-device-vsock).
    pub fn hybrid_path(&self) -> &Path {
        &self.hybrid
    }

    /// Where a host program listens for guest connections to host port `port`:
    /// `<hybrid_path>_<port>`.
    pub fn host_port_path(&self, port: u32) -> PathBuf {
        PathBuf::from(format!("{}_{port}", self.hybrid.display()))
    }

    /// The private temporary directory (sockets and logs); removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The guest's CID.
    pub fn cid(&self) -> u32 {
        self.cid
    }

    /// Time from [`Vm::start`]'s launch of the backend to the agent's first answer
    /// (images already built).
    pub fn boot_time(&self) -> Duration {
        self.boot_time
    }

    /// Whether the kernel was booted through PVH (uncompressed vmlinux).
    pub fn pvh(&self) -> bool {
        self.pvh
    }

    /// The pid of QEMU (host).
    pub fn qemu_pid(&self) -> u32 {
        self.qemu_pid
    }

    /// The pid of vhost-device-vsock.
    pub fn backend_pid(&self) -> u32 {
        self.backend_pid
    }

    /// The guest console (serial port) so far.
    pub fn console_log(&self) -> String {
        fs::read_to_string(&self.console).unwrap_or_default()
    }

    /// One [`hybrid_connect`] to guest port `port` (10 s bound on the `OK` line).
    pub fn connect(&self, port: u32) -> Result<UnixStream, HarnessError> {
        hybrid_connect(&self.hybrid, port, Duration::from_secs(10))
    }

    /// Waits until a guest program listens on `port`: retries [`Vm::connect`] (and
    /// closes the probe connection) until `OK`, up to `timeout`. Fails early if QEMU
    /// or the backend exits.
    pub fn wait_port(&self, port: u32, timeout: Duration) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            let t = Instant::now();
            match hybrid_connect(&self.hybrid, port, Duration::from_secs(2)) {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
            if std::env::var_os("HVSOCK_VM_DEBUG").is_some() {
                eprintln!(
                    "hvsock-vm: wait_port {port}: {last} after {:?}",
                    t.elapsed()
                );
            }
            if let Some(status) = self.try_wait_qemu() {
                return Err(HarnessError::Connect {
                    port,
                    reason: format!("QEMU exited ({status})"),
                });
            }
            if let Some(status) = self.try_wait_backend() {
                return Err(HarnessError::Connect {
                    port,
                    reason: format!("vhost-device-vsock exited ({status})"),
                });
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!("waiting for guest port {port} (last: {last})"),
                    after: timeout,
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn agent_request(
        &self,
        mode: u8,
        script: &str,
        timeout: Duration,
    ) -> Result<UnixStream, HarnessError> {
        let mut s = self.connect(AGENT_PORT)?;
        let mut req = vec![mode];
        req.extend_from_slice(format!("{}\n", script.len()).as_bytes());
        req.extend_from_slice(script.as_bytes());
        s.set_read_timeout(Some(timeout))
            .and_then(|_| s.write_all(&req))
            .map_err(|e| io_err("send to guest agent".into(), e))?;
        Ok(s)
    }

    /// Runs `script` with `/bin/sh -c` in the guest and waits for it (60 s bound).
    pub fn exec(&self, script: &str) -> Result<GuestOutput, HarnessError> {
        self.exec_timeout(script, Duration::from_secs(60))
    }

    /// [`Vm::exec`] with a bound of `timeout`.
    pub fn exec_timeout(
        &self,
        script: &str,
        timeout: Duration,
    ) -> Result<GuestOutput, HarnessError> {
        let mut s = self.agent_request(b'X', script, timeout)?;
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).map_err(|e| {
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) {
                HarnessError::Timeout {
                    what: format!("guest command {script:?}"),
                    after: timeout,
                }
            } else {
                io_err("read from guest agent".into(), e)
            }
        })?;
        let bad = || HarnessError::Agent(format!("bad reply to {script:?}"));
        let nl = reply.iter().position(|&b| b == b'\n').ok_or_else(bad)?;
        let head = std::str::from_utf8(&reply[..nl]).map_err(|_| bad())?;
        let nums: Vec<usize> = head
            .split(' ')
            .map(|n| n.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let [status, outlen, errlen] = nums[..] else {
            return Err(bad());
        };
        let body = &reply[nl + 1..];
        if body.len() != outlen + errlen {
            return Err(bad());
        }
        Ok(GuestOutput {
            status: status as i32,
            stdout: body[..outlen].to_vec(),
            stderr: body[outlen..].to_vec(),
        })
    }

    /// Kills guest process `pid` (SIGKILL) and waits up to 10 s until it is gone, so that
    /// what it held (a port, a device) is free again.
    pub fn kill(&self, pid: u32) -> Result<(), HarnessError> {
        self.exec(&format!(
            "kill -9 {pid} 2>/dev/null; for i in $(seq 200); do \
             kill -0 {pid} 2>/dev/null || break; sleep 0.05; done"
        ))
        .map(|_| ())
    }

    /// Starts `script` with `/bin/sh -c` in the guest in the background (its output goes
    /// to the console) and returns its guest pid.
    pub fn spawn(&self, script: &str) -> Result<u32, HarnessError> {
        let mut s = self.agent_request(b'S', script, Duration::from_secs(30))?;
        let mut reply = String::new();
        s.read_to_string(&mut reply)
            .map_err(|e| io_err("read from guest agent".into(), e))?;
        reply
            .trim()
            .parse()
            .map_err(|_| HarnessError::Agent(format!("bad spawn reply {reply:?}")))
    }

    fn teardown(&mut self) {
        kill_and_wait(&self.qemu);
        kill_and_wait(&self.backend);
        if std::env::var_os("HVSOCK_VM_KEEP").is_some() {
            eprintln!("hvsock-vm: keeping {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- guest console ({}) ---\n{}--- end of guest console ---",
                self.dir.display(),
                self.console_log()
            );
        }
        self.teardown();
    }
}

/// Builds (or finds in the cache) the initramfs for `cfg`. With `helper`, `/init` ends by
/// running the agent; without (a [`nested`] guest), it stays up after `guest_init`.
pub(crate) fn build_initramfs(
    cfg: &VmConfig,
    tools: &Tools,
    helper: Option<&Path>,
) -> Result<PathBuf, HarnessError> {
    let read = |p: &Path| fs::read(p).map_err(|e| io_err(format!("read {}", p.display()), e));
    let mut fs_ = Initramfs::new();
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run", "root", "etc",
    ] {
        fs_.dir(d);
    }
    fs_.char_dev("dev/console", 5, 1)
        .char_dev("dev/null", 1, 3)
        .file("bin/busybox", read(&tools.busybox)?, 0o755)
        .symlink("bin/sh", "busybox");
    if let Some(helper) = helper {
        fs_.file(GUEST_HELPER, read(helper)?, 0o755);
    }
    let mut names: Vec<&str> = image::VSOCK_MODULES.to_vec();
    if cfg.share_host_root {
        names.extend_from_slice(image::NINEP_MODULES);
    }
    names.extend(cfg.modules.iter().map(String::as_str));
    // Each module once, at its first place (a second insmod would only fail).
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    let modules = image::load_modules(&tools.modules, &names, &tools.xz)?;
    let mut insmod = String::new();
    for (name, data) in modules {
        fs_.file(&format!("lib/modules/{name}.ko"), data, 0o644);
        insmod.push_str(&format!(
            "insmod /lib/modules/{name}.ko || echo \"hvsock-vm: insmod {name} failed\"\n"
        ));
    }
    for (host, guest) in &cfg.guest_binaries {
        if !guest.starts_with('/') {
            return Err(HarnessError::Config(format!(
                "guest path {guest:?} is not absolute"
            )));
        }
        tools::check_static(host)?;
        fs_.file(guest, read(host)?, 0o755);
    }
    for (data, guest) in &cfg.guest_files {
        if !guest.starts_with('/') {
            return Err(HarnessError::Config(format!(
                "guest path {guest:?} is not absolute"
            )));
        }
        fs_.file(guest, data.clone(), 0o644);
    }
    let mut env = String::new();
    for (k, v) in &cfg.env {
        let valid = k
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(HarnessError::Config(format!("bad environment name {k:?}")));
        }
        env.push_str(&format!("export {k}={}\n", image::shell_quote(v)));
    }
    let share = if cfg.share_host_root {
        // Read-only, cached: the guest runs host programs from it, nothing writes it.
        format!(
            "mkdir -p {HOST_ROOT}\n\
             if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 \
             {HOST_ROOT_TAG} {HOST_ROOT}; then\n\
             mount -t proc proc {HOST_ROOT}/proc\n\
             mount -t sysfs sysfs {HOST_ROOT}/sys\n\
             mount -t devtmpfs devtmpfs {HOST_ROOT}/dev\n\
             else echo \"hvsock-vm: mounting the host root failed\"; fi\n"
        )
    } else {
        String::new()
    };
    let tail = if helper.is_some() {
        format!(
            "{GUEST_HELPER} agent {AGENT_PORT} {AGENT_PORT}\n\
             echo \"hvsock-vm: agent exited ($?)\"\n\
             poweroff -f\n"
        )
    } else {
        // Whoever started the guest stops it; until then guest_init's children serve.
        "echo \"hvsock-vm: guest_init done ($?)\"\nwhile :; do sleep 3600; done\n".to_string()
    };
    let init = format!(
        "#!/bin/sh\n\
         /bin/busybox --install -s\n\
         export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sysfs /sys\n\
         mount -t devtmpfs devtmpfs /dev\n\
         {insmod}\
         {share}\
         {env}\
         echo \"{INIT_MARKER} $(cut -d' ' -f1 /proc/uptime)s\"\n\
         cd /\n\
         {}\n\
         {tail}",
        cfg.guest_init
    );
    fs_.file("init", init.into_bytes(), 0o755);
    let cpio = fs_.to_cpio();
    let mut h = image::Fnv::new();
    h.update(&cpio);
    let cache = cache_dir()?;
    let path = cache.join(format!("initramfs-{}.cpio", h.hex()));
    if path.is_file() {
        // Mark it used, so the pruning below keeps it.
        let _ = fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
    } else {
        image::write_atomic(&path, &cpio)?;
    }
    image::prune(&cache, "initramfs-", Duration::from_secs(24 * 3600));
    Ok(path)
}
