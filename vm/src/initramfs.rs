//! The guest's initramfs: busybox, modules, files and `/init`.

use crate::image::Initramfs;
use crate::tools::{self, Tools, cache_dir};
use crate::{
    AGENT_PORT, GUEST_HELPER, HOST_ROOT, HOST_ROOT_TAG, HarnessError, INIT_MARKER, VmConfig, image,
    io_err,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Builds (or finds in the cache) the initramfs for `cfg`. With `helper`, `/init` ends by
/// running the agent; without (a [`nested`](crate::nested) guest), it stays up after `guest_init`.
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
