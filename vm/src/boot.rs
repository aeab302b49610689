//! Starting a guest (images, backend, QEMU, the agent's hello) and tearing it down.

use crate::tools::{Tools, build_static_bin, cache_dir};
use crate::{
    AGENT_PORT, HOST_ROOT_TAG, HarnessError, INIT_MARKER, Machine, VmConfig, build_initramfs,
    image, io_err, spawn,
};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A running guest: QEMU plus its vhost-device-vsock backend, with a private temporary
/// directory for sockets and logs. Dropping it tears everything down.
pub struct Vm {
    dir: PathBuf,
    pub(crate) hybrid: PathBuf,
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
            .arg(format!("{} {}", image::KERNEL_ARGS, cfg.kernel_args))
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

    pub(crate) fn try_wait_backend(&self) -> Option<std::process::ExitStatus> {
        try_wait(&self.backend)
    }

    pub(crate) fn try_wait_qemu(&self) -> Option<std::process::ExitStatus> {
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
