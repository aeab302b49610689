//! `hvsock cp`: copy files and directory trees to and from a VM's `hvsock agent`.

use super::exec::connect_agent;
use crate::config::Config;
use crate::options::{ConnectOpts, parse_idle_timeout};
use clap::Args;
use hvsock::text::escape_untrusted as escape;
use hvsock_agent::{CopySummary, Progress, client};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Copy a file (or with -r a directory tree) to or from a VM through its `hvsock agent`.
///
/// Exactly one of SRC and DST is VM:PATH (VM a partition name, a GUID or a wildcard such
/// as parent; PATH a path in the VM, relative to the agent's working directory or copy
/// root). An argument is VM:PATH when it has a ':' with no '/' before it, split at the
/// first ':'; write a local path containing ':' with a '/' before it, e.g. ./a:b. On
/// Windows '\' counts as '/' and a drive letter is no VM: C:\x, C:/x, .\dir and
/// dir\sub are local paths.
///
/// Placement is cp's: if DST is an existing directory, SRC goes inside it; otherwise
/// SRC becomes DST. Permission bits are kept, less the receiver's umask; only regular
/// files and directories are copied (symlinks and special files inside a tree are
/// skipped). Every file is checked
/// end to end with SHA-256, written to a temp file next to its destination and renamed
/// into place only when complete and verified: an interrupted or failed copy never
/// leaves a truncated file at DST. Where the filesystem supports it (O_TMPFILE) the temp
/// file has no name until then, so even a receiver killed outright leaves nothing.
///
/// The receiver accepts only what was asked for: from a VM, a stream whose root is not
/// SRC's base name, a directory in a copy without -r, counts or sizes beyond what was
/// announced, or any path that repeats, leaves the tree or goes through a symlink is
/// refused. Modes from the other side are masked with the umask; existing directories
/// keep theirs. Names from the VM are printed with control characters escaped.
///
/// A copy during which the other side sends (or takes) nothing for --idle-timeout fails,
/// naming the file being copied.
///
/// A progress bar is drawn on stderr when stderr is a terminal.
///
/// Exit status: 0 on success; 1 with one `hvsock: ...` line on any error; 128+N if
/// interrupted by signal N (SIGINT, SIGTERM, SIGHUP; the partial file is removed).
#[derive(Args)]
#[command(after_long_help = "\
Examples:
  hvsock cp build/app.tar.gz myvm:/tmp/           # into an existing directory
  hvsock cp myvm:/var/log/syslog ./syslog.myvm
  hvsock cp -r ./site myvm:/srv/www               # a tree, modes kept
  hvsock cp ./a:b myvm:a-b                         # a local name with a ':'")]
pub struct CpArgs {
    /// Copy directories recursively.
    #[arg(long, short = 'r', visible_short_alias = 'R')]
    recursive: bool,
    #[command(flatten)]
    connect: ConnectOpts,
    #[command(flatten)]
    auth: crate::commands::key::AuthOpts,
    /// Fail if the other side sends or takes nothing for DUR (e.g. 30s, 5m).
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = parse_idle_timeout)]
    idle_timeout: Duration,
    /// Source: a local path or VM:PATH.
    #[arg(value_name = "SRC")]
    src: String,
    /// Destination: a local path or VM:PATH.
    #[arg(value_name = "DST")]
    dst: String,
}

/// One side of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Loc {
    Local(PathBuf),
    Remote { vm: String, path: String },
}

/// `VM:PATH` if there is a ':' with no '/' before it (split at the first ':'), else a
/// local path. An empty PATH is `.` (the agent's working directory or copy root).
///
/// On Windows a '\' counts as a '/' (`.\a:b`, `dir\x:y` are local), and a single
/// letter before the ':' is a drive (`C:\x`, `C:/x`, `c:x` are local paths), never a VM.
fn parse_loc(s: &str) -> Loc {
    let separator = |c: char| c == '/' || (cfg!(windows) && c == '\\');
    let drive = |vm: &str| cfg!(windows) && vm.len() == 1 && vm.as_bytes()[0].is_ascii_alphabetic();
    match s.split_once(':') {
        Some((vm, path)) if !vm.is_empty() && !vm.contains(separator) && !drive(vm) => {
            Loc::Remote {
                vm: vm.to_string(),
                path: if path.is_empty() { "." } else { path }.to_string(),
            }
        }
        _ => Loc::Local(PathBuf::from(s)),
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// The progress line for `p` in `width` columns after `secs` seconds. The path comes
/// from the other side: it is escaped, so the line holds no control characters.
fn bar_line(p: &Progress, width: usize, secs: f64) -> String {
    let frac = if p.bytes_total == 0 {
        1.0
    } else {
        p.bytes_done as f64 / p.bytes_total as f64
    };
    let rate = p.bytes_done as f64 / secs;
    let stats = format!(
        " {:>3}% {}/{} {}/s {}/{} files ",
        (frac * 100.0) as u32,
        human(p.bytes_done),
        human(p.bytes_total),
        human(rate as u64),
        p.files_done,
        p.files_total,
    );
    let bar_len = width.saturating_sub(stats.len() + 2).min(30);
    let filled = (frac * bar_len as f64).round() as usize;
    let mut line = format!(
        "[{}{}]{stats}",
        "#".repeat(filled.min(bar_len)),
        "-".repeat(bar_len - filled.min(bar_len))
    );
    let room = width.saturating_sub(line.chars().count());
    if room > 3 {
        // The path comes from the other side: never raw to the terminal.
        let name: Vec<char> = escape(&p.path).chars().collect();
        let name: String = if name.len() > room {
            std::iter::once('…')
                .chain(name[name.len() - (room - 1)..].iter().copied())
                .collect()
        } else {
            name.into_iter().collect()
        };
        line.push_str(&name);
    }
    line
}

/// Draws a one-line progress bar on stderr with `\r`, at most 10 times a second.
struct Bar {
    start: Instant,
    last: Option<Instant>,
    drawn: bool,
}

impl Bar {
    fn new() -> Bar {
        Bar {
            start: Instant::now(),
            last: None,
            drawn: false,
        }
    }

    fn width() -> usize {
        crate::sys::stderr_window()
            .map(|w| w.cols as usize)
            .filter(|&c| c >= 20)
            .unwrap_or(80)
    }

    fn draw(&mut self, p: &Progress) {
        let now = Instant::now();
        let done = p.bytes_done >= p.bytes_total && p.files_done >= p.files_total;
        if !done
            && self
                .last
                .is_some_and(|l| now - l < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        let secs = (now - self.start).as_secs_f64().max(1e-3);
        let line = bar_line(p, Self::width() - 1, secs);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

async fn copy(
    config: &Config,
    args: &CpArgs,
    src: Loc,
    dst: Loc,
    bar: &mut Option<Bar>,
) -> Result<CopySummary, String> {
    let mut draw = |p: &Progress| {
        if let Some(b) = bar.as_mut() {
            b.draw(p)
        }
    };
    let progress: Option<hvsock_agent::tree::ProgressFn<'_>> = Some(&mut draw);
    let opts = client::CopyOptions {
        recursive: args.recursive,
        idle_timeout: args.idle_timeout,
    };
    // Messages may quote the agent's text or its names: escaped before printing.
    let shown = |e: client::ClientError| escape(&e.to_string()).into_owned();
    match (src, dst) {
        (Loc::Local(local), Loc::Remote { vm, path }) => {
            // Fail fast (and clearly) on a bad source, before connecting.
            let meta = std::fs::metadata(&local)
                .map_err(|e| format!("cannot read {}: {e}", local.display()))?;
            if meta.is_dir() && !args.recursive {
                return Err(format!("{} is a directory (use -r)", local.display()));
            }
            let stream = connect_agent(config, &vm, args.connect, &args.auth).await?;
            client::copy_to_remote_with(stream, &local, &path, &opts, progress)
                .await
                .map_err(shown)
        }
        (Loc::Remote { vm, path }, Loc::Local(local)) => {
            let stream = connect_agent(config, &vm, args.connect, &args.auth).await?;
            client::copy_from_remote_with(stream, &path, &local, &opts, progress)
                .await
                .map_err(shown)
        }
        (Loc::Remote { .. }, Loc::Remote { .. }) => Err(
            "both SRC and DST are VM:PATH; one must be local (write a local path containing \
             ':' as ./a:b)"
                .into(),
        ),
        (Loc::Local(_), Loc::Local(_)) => Err(
            "neither SRC nor DST is VM:PATH; one must be in a VM (use cp for local copies)".into(),
        ),
    }
}

/// Runs `hvsock cp`.
pub fn run(config: &Config, args: CpArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let src = parse_loc(&args.src);
    let dst = parse_loc(&args.dst);
    let tty = std::io::stderr().is_terminal();
    let mut bar = tty.then(Bar::new);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let start = Instant::now();
    let outcome = rt.block_on(async {
        let interrupted = crate::sys::interrupted()?;
        // On a signal the copy is dropped: its temp file is removed (and the agent
        // removes its own when the connection closes).
        let r = tokio::select! {
            r = copy(config, &args, src, dst, &mut bar) => Ok(r),
            sig = interrupted => Err(sig),
        };
        Ok::<_, std::io::Error>(r)
    })?;
    if let Some(b) = bar.as_mut() {
        b.clear();
    }
    match outcome {
        Ok(Ok(s)) => {
            if tty {
                let secs = start.elapsed().as_secs_f64().max(1e-3);
                let skipped = if s.skipped > 0 {
                    format!(", {} special files skipped", s.skipped)
                } else {
                    String::new()
                };
                let dirs = match s.dirs {
                    0 => String::new(),
                    1 => ", 1 dir".to_string(),
                    n => format!(", {n} dirs"),
                };
                eprintln!(
                    "{} file{}{dirs}, {} in {secs:.1} s ({}/s), verified{skipped}",
                    s.files,
                    if s.files == 1 { "" } else { "s" },
                    human(s.bytes),
                    human((s.bytes as f64 / secs) as u64),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(msg)) => Err(msg.into()),
        Err(sig) => {
            drop(rt);
            eprintln!("hvsock: cp interrupted (signal {sig}); nothing left at the destination");
            Ok(ExitCode::from(128 + sig as u8))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(vm: &str, path: &str) -> Loc {
        Loc::Remote {
            vm: vm.into(),
            path: path.into(),
        }
    }

    #[test]
    fn locations() {
        assert_eq!(parse_loc("vm1:/tmp/x"), remote("vm1", "/tmp/x"));
        assert_eq!(parse_loc("vm1:a:b"), remote("vm1", "a:b"));
        assert_eq!(parse_loc("vm1:"), remote("vm1", "."));
        assert_eq!(parse_loc("./a:b"), Loc::Local("./a:b".into()));
        assert_eq!(parse_loc("/x/a:b"), Loc::Local("/x/a:b".into()));
        assert_eq!(parse_loc("plain"), Loc::Local("plain".into()));
        assert_eq!(parse_loc(":x"), Loc::Local(":x".into()));
        // Windows: drives and backslashes make local paths.
        for s in [
            r"C:\x",
            "C:/x",
            "c:x",
            r".\dir",
            r"dir\sub",
            r".\a:b",
            r"\\?\C:\x",
        ] {
            let want = if cfg!(windows) {
                Loc::Local(s.into())
            } else {
                let (vm, path) = s.split_once(':').unwrap_or((s, ""));
                if s.contains(':') && !vm.contains('/') {
                    remote(vm, if path.is_empty() { "." } else { path })
                } else {
                    Loc::Local(s.into())
                }
            };
            assert_eq!(parse_loc(s), want, "{s}");
        }
        assert_eq!(parse_loc("vm:C:\\x"), remote("vm", "C:\\x"));
        assert_eq!(parse_loc("ab:x"), remote("ab", "x"));
    }

    #[test]
    fn the_progress_line_escapes_the_peer_path() {
        let p = Progress {
            path: "a\x1b]0;owned\x07\x1b[2J\u{202e}b".into(),
            files_done: 0,
            files_total: 1,
            bytes_done: 1,
            bytes_total: 2,
        };
        let line = bar_line(&p, 200, 1.0);
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{line:?}"
        );
        assert!(
            line.ends_with("a\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{202e}b"),
            "{line:?}"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(human(5), "5 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(100 << 20), "100.0 MiB");
    }
}
