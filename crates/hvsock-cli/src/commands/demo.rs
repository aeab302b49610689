//! `hvsock demo`: the integration service end to end on a throw-away setup.

use clap::Args;
use hvsock::net::tokio::{HvListener, HvStream};
use hvsock::partitions::{PartitionKind, PartitionTable};
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr, VmId};
use hvsock_agent::{Agent, AgentOptions, ExecRequest, SERVICE_ID, SERVICE_NAME, VSOCK_PORT};
use hvsock_agent::{ClientError, client};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Show exec and cp through Hyper-V sockets, with nothing set up.
///
/// Creates a throw-away config and runtime directory, registers the agent service,
/// adds a local partition "demo-vm" standing in for a VM, starts an agent in it (in this
/// process), runs a few commands and a file copy both ways through hvsock sockets, and
/// prints each step and how to do the same with a real VM. Nothing is left running and
/// the temporary directory is removed, also on error or Ctrl-C. Your own configuration
/// is neither read nor changed.
///
/// Exit status: 0 if every step worked; 1 with one `hvsock: ...` line otherwise.
#[derive(Args)]
pub struct DemoArgs {}

const VM: &str = "demo-vm";
const PAYLOAD: usize = 8 << 20;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256_file(p: &Path) -> std::io::Result<String> {
    let data = std::fs::read(p)?;
    Ok(hex(&Sha256::digest(&data)))
}

/// Seed of [`payload`].
const PAYLOAD_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Deterministic pseudo-random bytes (xorshift), so the copy has real content: the
/// test data generator `hvsock_testkit::data::xorshift_words(n, PAYLOAD_SEED)`, kept
/// here because the CLI binary does not link the test kit (a unit test pins the two
/// to the same bytes).
fn payload(n: usize) -> Vec<u8> {
    let mut x = PAYLOAD_SEED;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    v
}

fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
}

/// Prints a copy as `hvsock cp ARGS` would have made it, with its size and speed.
fn print_copy(args: &str, s: &hvsock_agent::CopySummary, start: Instant) {
    let dt = start.elapsed().as_secs_f64().max(1e-3);
    println!(
        "      $ hvsock cp {args}\n        -> {} file, {} in {:.0} ms ({:.0} MiB/s)",
        s.files,
        mib(s.bytes),
        dt * 1e3,
        s.bytes as f64 / dt / (1u64 << 20) as f64
    );
}

/// Output of one exec call.
struct Ran {
    code: Result<i32, ClientError>,
    out: Vec<u8>,
    err: Vec<u8>,
}

/// The host side of the demo: its context and the throw-away key.
struct Host {
    ctx: Context,
    auth: client::ClientAuth,
}

async fn exec(host: &Host, argv: &[&str], stdin: &[u8]) -> Result<Ran, String> {
    // The address by names: the partition table and the service registry resolve it.
    let addr = format!("{VM}:{SERVICE_NAME}");
    let stream = HvStream::connect_with(&host.ctx, addr.as_str(), Duration::from_secs(5))
        .await
        .map_err(|e| format!("connect {addr}: {}", crate::hints::full(&e)))?;
    let req = ExecRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        ..ExecRequest::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let conn = client::Connection::new(stream, host.auth.clone());
    let code = client::exec(conn, req, stdin, &mut out, &mut err).await;
    Ok(Ran { code, out, err })
}

fn indent(label: &str, b: &[u8]) {
    let text = String::from_utf8_lossy(b);
    for line in text.lines() {
        println!("        {label}{line}");
    }
}

/// One exec of step 4: the command as shown, its argv and stdin, the exit code it must
/// have and, where checked, its stdout and stderr (else the error `bad`).
struct ExecStep {
    shown: &'static str,
    argv: &'static [&'static str],
    stdin: &'static [u8],
    code: i32,
    /// Label stdout and stderr apart.
    split: bool,
    out: Option<&'static [u8]>,
    err: Option<&'static [u8]>,
    bad: &'static str,
}

const EXEC_STEPS: [ExecStep; 4] = [
    ExecStep {
        shown: "uname -a",
        argv: &["uname", "-a"],
        stdin: b"",
        code: 0,
        split: false,
        out: None,
        err: None,
        bad: "",
    },
    ExecStep {
        shown: "tr a-z A-Z   <<< 'hello over a hyper-v socket'",
        argv: &["tr", "a-z", "A-Z"],
        stdin: b"hello over a hyper-v socket\n",
        code: 0,
        split: false,
        out: Some(b"HELLO OVER A HYPER-V SOCKET\n"),
        err: None,
        bad: "tr: unexpected output",
    },
    ExecStep {
        shown: "sh -c 'echo to stdout; echo to stderr >&2; exit 3'",
        argv: &["sh", "-c", "echo to stdout; echo to stderr >&2; exit 3"],
        stdin: b"",
        code: 3,
        split: true,
        out: Some(b"to stdout\n"),
        err: Some(b"to stderr\n"),
        bad: "sh: stdout and stderr were not kept apart",
    },
    ExecStep {
        shown: "no-such-command",
        argv: &["no-such-command"],
        stdin: b"",
        code: 127,
        split: false,
        out: None,
        err: None,
        bad: "",
    },
];

/// Runs `argv`, prints it, checks the exit code.
async fn show(
    host: &Host,
    shown: &str,
    argv: &[&str],
    stdin: &[u8],
    want: i32,
    split: bool,
) -> Result<Ran, String> {
    println!("      $ {shown}");
    let r = exec(host, argv, stdin).await?;
    let (o, e) = if split {
        ("stdout: ", "stderr: ")
    } else {
        ("", "stderr: ")
    };
    indent(o, &r.out);
    indent(e, &r.err);
    let code = match &r.code {
        Ok(c) => {
            println!("        -> exit {c}");
            *c
        }
        Err(err) => {
            println!("        -> exit {} ({err})", err.exit_code());
            err.exit_code()
        }
    };
    if code != want {
        return Err(format!("{shown}: exit {code}, expected {want}"));
    }
    Ok(r)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn demo(root: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let dirs = Dirs::new(root.join("config"), root.join("run"));
    std::fs::create_dir_all(&dirs.config)?;
    std::fs::create_dir_all(&dirs.runtime)?;

    super::agent::install_service(&dirs)?;
    println!(
        "[1/6] registered the agent service   {SERVICE_NAME:?} = {SERVICE_ID} (vsock port {VSOCK_PORT})"
    );
    println!("      (on a real host: hvsock agent --install-service)");

    let id = PartitionTable::update(&dirs, |t| t.add(VM, None, PartitionKind::Local))?;
    println!("[2/6] added a local partition        {VM} = {id}");
    println!("      (hvsock vm add {VM} --local; it stands in for a VM)");

    // The agent, in the partition, as `HVSOCK_PARTITION=demo-vm hvsock agent` runs it.
    let vm_ctx = Context::local(dirs.clone(), VM)?;
    let listener = HvListener::bind_with(&vm_ctx, HvAddr::new(VmId::PARENT, SERVICE_ID))?;
    // Key authentication, as a real agent's default: a throw-away key, authorized in
    // the demo's own authorized_keys.
    let key = super::key::setup_throwaway(&dirs)?;
    let agent = Agent::new(AgentOptions {
        auth: super::agent::auth_options(&dirs, hvsock_agent::proto::Methods::KEY, None)?,
        ..AgentOptions::default()
    });
    let _agent_task = AbortOnDrop(tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let agent = agent.clone();
            tokio::spawn(async move {
                let _ = agent.serve_from(stream, &peer.vm_id.to_string()).await;
            });
        }
    }));
    println!("[3/6] started the agent in {VM}   listening on parent:{SERVICE_ID}, key auth");
    println!("      (HVSOCK_PARTITION={VM} hvsock agent; it accepts its parent only)");

    let host = Host {
        ctx: Context::host(dirs.clone()),
        auth: client::ClientAuth::with_key(key),
    };
    println!("[4/6] exec from the host through hvsock ({VM}:{SERVICE_NAME})");
    for step in EXEC_STEPS {
        let r = show(
            &host, step.shown, step.argv, step.stdin, step.code, step.split,
        )
        .await?;
        if step.out.is_some_and(|o| r.out != o) || step.err.is_some_and(|e| r.err != e) {
            return Err(step.bad.into());
        }
    }

    println!("[5/6] cp through hvsock, verified with SHA-256");
    let host_dir = root.join("host");
    let vm_dir = root.join("vm");
    std::fs::create_dir_all(&host_dir)?;
    std::fs::create_dir_all(&vm_dir)?;
    let src = host_dir.join("payload.bin");
    std::fs::write(&src, payload(PAYLOAD))?;
    let sum = sha256_file(&src)?;
    println!(
        "      host   payload.bin  {}  sha256 {sum}",
        mib(PAYLOAD as u64)
    );

    let addr = format!("{VM}:{SERVICE_NAME}");
    let connect = async || {
        let s = HvStream::connect_with(&host.ctx, addr.as_str(), Duration::from_secs(5)).await?;
        Ok::<_, std::io::Error>(client::Connection::new(s, host.auth.clone()))
    };
    let remote = vm_dir.join("payload.bin");
    let remote_s = remote.to_str().ok_or("temp path is not UTF-8")?;
    let t = Instant::now();
    let s = client::copy_to_remote(connect().await?, &src, remote_s, false, None).await?;
    print_copy(&format!("payload.bin {VM}:{remote_s}"), &s, t);
    // Checked inside the "VM" by a command it runs itself.
    let r = exec(&host, &["sha256sum", remote_s], b"").await?;
    let in_vm = match r.code {
        Ok(0) => String::from_utf8_lossy(&r.out)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        _ => {
            // No sha256sum in the partition: read the file the agent wrote.
            sha256_file(&remote)?
        }
    };
    println!("      $ hvsock exec {VM} -- sha256sum ...payload.bin\n        {in_vm}");
    if in_vm != sum {
        return Err("the copy in the VM differs from the original".into());
    }
    let back = host_dir.join("back.bin");
    let t = Instant::now();
    let s = client::copy_from_remote(connect().await?, remote_s, &back, false, None).await?;
    print_copy(&format!("{VM}:{remote_s} back.bin"), &s, t);
    let back_sum = sha256_file(&back)?;
    println!(
        "      host   back.bin     {}  sha256 {back_sum}",
        mib(s.bytes)
    );
    if back_sum != sum {
        return Err("the file copied back differs from the original".into());
    }
    println!("      identical both ways");
    Ok(())
}

/// Runs `hvsock demo` (in its own throw-away directories: the config is not used).
pub fn run(
    _config: &crate::config::Config,
    _args: DemoArgs,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let tmp = tempfile::Builder::new().prefix("hvsock-demo-").tempdir()?;
    let root = tmp.path().to_path_buf();
    println!("hvsock demo: exec and cp into a \"VM\" over Hyper-V sockets, no network");
    println!(
        "(throw-away config and runtime in {}; your own setup is not touched)\n",
        root.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        tokio::select! {
            r = demo(&root) => r,
            _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
        }
    });
    // The agent and its processes end with the runtime.
    rt.shutdown_timeout(Duration::from_secs(2));
    let closed = tmp.close();
    result?;
    closed.map_err(|e| format!("cannot remove {}: {e}", root.display()))?;
    println!("[6/6] stopped the agent, removed {}", root.display());
    println!(
        "
The same with a real VM:
  on the host:    hvsock agent --install-service
                  hvsock vm add myvm --hybrid /path/to/firecracker.vsock   (or --cid N)
                  hvsock key generate; hvsock key show     (your key's public line)
  in the guest:   that line into /etc/hvsock/authorized_keys
                  HVSOCK_GUEST=1 hvsock agent        (or dist/systemd/hvsock-agent.service)
  on the host:    hvsock exec myvm -- uname -a
                  hvsock shell myvm
                  hvsock cp ./file myvm:/tmp/"
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_the_test_kits_xorshift_words() {
        for n in [0, 1, 7, 8, 9, 4096 + 3] {
            assert_eq!(
                payload(n),
                hvsock_testkit::data::xorshift_words(n, PAYLOAD_SEED),
                "{n}"
            );
        }
    }
}
