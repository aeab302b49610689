//! `hvsock agent`: the integration service (exec, shell, file copy) in a guest or a
//! local partition, built on `hvsock-agent` and the public hvsock socket API.

use super::key;
use crate::backoff::Backoff;
use crate::config::Config;
use crate::messages::{describe_named, describe_vm, one_line_untrusted, vm_name};
use crate::options::{parse_duration, parse_idle_timeout};
use clap::Args;
use hvsock::net::tokio::HvListener;
use hvsock::paths::Dirs;
use hvsock::registry::Registry;
use hvsock::{Context, HvAddr, Location, VmId};
use hvsock_agent::proto::Methods;
use hvsock_agent::server::{AuthOptions, KeySource, PasswordCheck};
use hvsock_agent::{Agent, AgentOptions, SERVICE_ID, SERVICE_NAME, VSOCK_PORT};
use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Serve `hvsock exec`, `hvsock shell` and `hvsock cp` in this VM or local partition.
///
/// The agent listens on the service "hvsock agent",
/// 00004856-facb-11e6-bd58-64006a7986d3 (the vsock template GUID of port 18518, so it
/// also answers on Linux hv_sock guests of a real Hyper-V host). It runs where the
/// commands should run: inside a VM guest (HVSOCK_GUEST=1) or a local partition
/// (HVSOCK_PARTITION=NAME). By default it accepts connections from its parent (the
/// host) only; --any accepts them from every partition that can reach it.
///
/// Each connection carries one request (a command, a login shell on a PTY, or a file
/// copy) and is served at the same time as the others, up to --max-concurrent; more
/// get a "busy" error. A malformed or failed request is logged as one line on stderr
/// and ends only its own connection. Commands run as the agent's user, with its
/// environment and working directory.
///
/// Clients authenticate first (--auth, default key): their public line (`hvsock key
/// show` on their side) must be in CONFIG_DIR/authorized_keys (a `user=NAME` prefix
/// authorizes other users) or in ~USER/.config/hvsock/authorized_keys. The agent's
/// own key pair is CONFIG_DIR/host_key, made at the first start; clients pin it.
///
/// The host must have the service registered (Hyper-V's GuestCommunicationServices):
/// `hvsock agent --install-service` on the host does that, once.
///
/// With --systemd the agent serves the listening socket systemd passed instead of
/// binding (socket activation). For guests, the units ship in dist/systemd/:
/// hvsock-agent.socket (ListenStream=vsock::18518, Accept=no) and
/// dist/systemd/hvsock-agent.service (`hvsock agent --systemd`): copy both to
/// /etc/systemd/system/, the binary to /usr/local/bin/hvsock, then
/// `systemctl enable --now hvsock-agent.socket`.
#[derive(Args)]
#[command(after_long_help = "\
Examples:
  hvsock agent --install-service              # on the host, once
  HVSOCK_GUEST=1 hvsock agent                 # in a VM guest
  HVSOCK_PARTITION=sandbox hvsock agent -v    # in a --local partition
  HVSOCK_GUEST=1 hvsock agent --systemd       # in a guest, from hvsock-agent.socket
  hvsock exec sandbox -- uname -a             # then, on the host
Exit status: 0 after --install-service; 1 with one `hvsock: ...` line if the agent
cannot start (otherwise it serves until killed).")]
pub struct AgentArgs {
    /// Accept connections from any partition (bind ZERO), not only the parent.
    #[arg(long)]
    any: bool,
    /// Confine file copies to DIR (relative remote paths are taken from it; nothing
    /// outside it can be read or written: no symlink inside it is followed).
    #[arg(long, value_name = "DIR")]
    copy_root: Option<PathBuf>,
    /// Fail a copy whose client sends or takes nothing for DUR (e.g. 30s, 5m).
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = parse_idle_timeout)]
    copy_idle_timeout: Duration,
    /// Most connections served at once; more get a "busy" error.
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent: u32,
    /// Register the agent service in this machine's registry (run it on the host) and
    /// exit; says so if it is already registered.
    #[arg(long, conflicts_with_all = ["any", "copy_root", "systemd"])]
    install_service: bool,
    /// Serve the listening socket passed by systemd (socket activation) instead of
    /// binding: in a guest, a .socket unit with ListenStream=vsock::18518.
    #[arg(long)]
    systemd: bool,
    /// How clients authenticate: key (their public line in CONFIG_DIR/authorized_keys,
    /// or in ~USER/.config/hvsock/authorized_keys), password (PAM), key,password, or
    /// none (anyone who can connect runs commands as the agent's user: a warning is
    /// logged at start).
    #[arg(long, value_name = "METHODS", default_value = "key", value_parser = parse_auth)]
    auth: Methods,
    /// How long a failed authentication waits before its error (slows guessing).
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = parse_duration)]
    auth_failure_delay: Duration,
    /// Failed authentications from one partition after which it is refused for
    /// --auth-lockout.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_auth_failures: u32,
    /// How long a partition that failed --max-auth-failures times is refused.
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = parse_idle_timeout)]
    auth_lockout: Duration,
    /// The PAM service that checks passwords (its configuration: /etc/pam.d/NAME).
    #[arg(long, value_name = "NAME", default_value = hvsock_agent::server::pam::SERVICE)]
    pam_service: String,
    /// Read PAM's service configuration from DIR instead of /etc/pam.d (libpam 1.5's
    /// pam_start_confdir): a PAM set-up of the agent's own.
    #[arg(long, value_name = "DIR")]
    pam_config_dir: Option<PathBuf>,
    /// Log each connection and its end to stderr (errors are always logged).
    #[arg(long, short)]
    verbose: bool,
}

fn parse_auth(s: &str) -> Result<Methods, String> {
    let mut m = Methods::default();
    for w in s.split(',') {
        m = m.with(match w.trim() {
            "key" => Methods::KEY,
            "password" => Methods::PASSWORD,
            "none" => Methods::NONE,
            _ => {
                return Err(format!(
                    "{w:?}: expected key, password, key,password or none"
                ));
            }
        });
    }
    if m.contains(Methods::NONE) && m != Methods::NONE {
        return Err("none cannot be combined with other methods".into());
    }
    Ok(m)
}

/// Where the agent's password checks go: a PAM service and, optionally, a PAM
/// configuration directory of its own.
#[derive(Debug, Clone)]
pub(crate) struct PamSetup {
    /// The PAM service name.
    pub service: String,
    /// The configuration directory instead of /etc/pam.d.
    pub config_dir: Option<PathBuf>,
}

/// The agent's authentication settings for `--auth methods`: its host key (made at
/// first start), the authorized keys files of `dirs`, and, when passwords are accepted,
/// the PAM check of `pam`.
pub(crate) fn auth_options(
    dirs: &Dirs,
    methods: Methods,
    pam: Option<PamSetup>,
) -> Result<AuthOptions, String> {
    let host_key =
        key::load_or_create_host_key(dirs).map_err(|e| format!("the agent's host key: {e}"))?;
    let password_check: Option<PasswordCheck> = match pam {
        Some(pam) if methods.contains(Methods::PASSWORD) => {
            if let Some(d) = &pam.config_dir
                && !d.join(&pam.service).is_file()
            {
                return Err(format!(
                    "--pam-config-dir {}: no PAM service file {:?} in it",
                    d.display(),
                    pam.service
                ));
            }
            Some(Arc::new(move |user: &str, password: &str| {
                hvsock_agent::server::pam::check_password(
                    &pam.service,
                    user,
                    password,
                    pam.config_dir.as_deref(),
                )
                .map_err(|e| e.to_string())
            }))
        }
        _ => None,
    };
    if methods.contains(Methods::PASSWORD) && password_check.is_none() {
        return Err("--auth password: no password check configured".into());
    }
    Ok(AuthOptions {
        methods,
        host_key,
        keys: KeySource::Files {
            system: Some(key::authorized_keys_file(dirs)),
            per_user: true,
        },
        password_check,
        ..AuthOptions::default()
    })
}

/// Registers [`SERVICE_ID`] as [`SERVICE_NAME`]; already registered is fine.
///
/// Returns `Ok(true)` if it was added, `Ok(false)` if it was there.
pub(crate) fn install_service(dirs: &Dirs) -> Result<bool, hvsock::registry::RegistryError> {
    Registry::update(dirs, |r| {
        if r.get(SERVICE_ID).is_some() {
            return Ok(false);
        }
        r.add(SERVICE_NAME, Some(SERVICE_ID))?;
        Ok(true)
    })
}

fn run_install(dirs: &Dirs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let file = dirs.services_file();
    if install_service(dirs)? {
        println!(
            "registered {SERVICE_NAME:?} {SERVICE_ID} (vsock port {VSOCK_PORT}) in {}",
            file.display()
        );
    } else {
        let reg = Registry::load(dirs)?;
        let s = reg.get(SERVICE_ID).expect("registered");
        let state = if s.enabled {
            ""
        } else {
            " but disabled (enable it: hvsock service enable 00004856-facb-11e6-bd58-64006a7986d3)"
        };
        println!(
            "already registered: {:?} {SERVICE_ID} in {}{state}",
            s.name,
            file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `hvsock agent`.
pub fn run(config: &Config, args: AgentArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if args.install_service {
        return run_install(&config.dirs);
    }
    let ctx = config.context()?;
    if ctx.location() == Location::Host && !args.any {
        return Err(
            "the agent serves its parent, but this process is on the host: run it \
                    in a VM guest (HVSOCK_GUEST=1) or a local partition (HVSOCK_PARTITION=NAME), \
                    or pass --any"
                .into(),
        );
    }
    let copy_root = match &args.copy_root {
        Some(d) => {
            let c = std::fs::canonicalize(d)
                .map_err(|e| format!("--copy-root {}: {e}", d.display()))?;
            if !c.is_dir() {
                return Err(format!("--copy-root {}: not a directory", d.display()).into());
            }
            Some(c)
        }
        None => None,
    };
    let pam = PamSetup {
        service: args.pam_service.clone(),
        config_dir: args.pam_config_dir.clone(),
    };
    let mut auth = auth_options(&config.dirs, args.auth, Some(pam))?;
    auth.failure_delay = args.auth_failure_delay;
    auth.max_failures = args.max_auth_failures;
    auth.lockout = args.auth_lockout;
    let opts = AgentOptions {
        auth,
        copy_root,
        copy_idle_timeout: args.copy_idle_timeout,
        max_concurrent: args.max_concurrent as usize,
        // What `--config-dir` means for the commands a session runs (no set_var).
        env: config
            .child_env()
            .into_iter()
            .map(|(k, v)| (k.into(), v.into_os_string()))
            .collect(),
        ..AgentOptions::default()
    };
    let vm = if args.any { VmId::ZERO } else { VmId::PARENT };
    let addr = HvAddr::new(vm, SERVICE_ID);
    // Taken before the runtime starts its threads (the variables are cleared).
    let passed = match args.systemd {
        true => Some(
            crate::commands::listen::systemd_listener(&ctx, addr)
                .map_err(|e| format!("--systemd: {}", crate::hints::full(&e)))?,
        ),
        false => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(serve(ctx, addr, passed, opts, args.verbose));
    // Stops the connections' tasks (their processes are killed) without waiting for
    // blocked threads.
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn serve(
    ctx: Context,
    addr: HvAddr,
    passed: Option<hvsock::HvListener>,
    opts: AgentOptions,
    verbose: bool,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dirs = ctx.dirs().clone();
    let where_ = match ctx.location() {
        Location::Host => "the host".to_string(),
        Location::Guest => "a VM guest".to_string(),
        Location::Local(id) => format!("local partition {}", describe_vm(id, &dirs)),
    };
    let listener = match passed {
        Some(l) => HvListener::from_std(l),
        None => HvListener::bind_with(&ctx, addr),
    };
    let listener = listener.map_err(|e| {
        format!(
            "cannot listen on {addr} in {where_}: {}",
            crate::hints::full(&e)
        )
    })?;
    let from = if addr.vm_id == VmId::ZERO {
        "any partition"
    } else {
        "the parent"
    };
    // One line, so that whoever waits for it sees the warning too.
    let warning = match opts.auth.methods == Methods::NONE {
        true => format!(
            " (WARNING: --auth none: anyone who can connect runs commands as {})",
            opts.auth.own_user
        ),
        false => String::new(),
    };
    eprintln!(
        "hvsock agent: serving {SERVICE_NAME:?} {SERVICE_ID} in {where_}, accepting {from} \
         (up to {} connections), auth {}{warning}, agent key {}",
        opts.max_concurrent,
        opts.auth.offered().names(),
        opts.auth.host_key.public().fingerprint()
    );
    let agent = Agent::new(opts);
    let mut backoff = Backoff::new();
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        };
        let (stream, peer) = match accepted {
            Ok(x) => {
                backoff.reset();
                x
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                let pause = backoff.next();
                eprintln!("hvsock agent: accept failed: {e}; retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let agent = agent.clone();
        // One look at the partition table names the peer for both log lines.
        let peer_name = vm_name(peer.vm_id, &dirs);
        let who = describe_named(peer.vm_id, peer_name.as_deref());
        let peer_name = peer_name.unwrap_or_default();
        // Failures are counted per partition, as the transport names it.
        let peer_id = peer.vm_id.to_string();
        tokio::spawn(async move {
            if verbose {
                eprintln!("hvsock agent: connection from {who}");
            }
            let (result, mut record) = agent.serve_audited(stream, &peer_id).await;
            record.peer_name = peer_name;
            // The error may quote a client's message or names.
            let error = result.as_ref().err().map(|e| one_line_untrusted(e));
            crate::log::audit(&record, error.as_deref());
            match error {
                None => {
                    if verbose {
                        eprintln!("hvsock agent: {who}: done");
                    }
                }
                Some(e) => eprintln!("hvsock agent: {who}: {e}"),
            }
        });
    }
    if verbose {
        eprintln!("hvsock agent: stopping");
    }
    Ok(ExitCode::SUCCESS)
}

impl AgentArgs {
    /// `--verbose`: also turns the log level up to INFO (refusals), see `crate::log`.
    pub fn verbose(&self) -> bool {
        self.verbose
    }
}
