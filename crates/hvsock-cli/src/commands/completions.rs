//! `hvsock completions SHELL` (a completion script on stdout) and `hvsock man`
//! (the man pages, one per command): both from the clap command tree, so they follow every new flag. `scripts/gen-dist.sh` writes them to `dist/`,
//! and `scripts/test` fails when the checked-in copies are stale.

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::path::PathBuf;
use std::process::ExitCode;

/// Print a shell completion script for hvsock to stdout.
///
/// Install it where the shell looks for completions, e.g.
/// bash: hvsock completions bash > ~/.local/share/bash-completion/completions/hvsock;
/// zsh: hvsock completions zsh > ~/.zfunc/_hvsock (with ~/.zfunc in $fpath);
/// fish: hvsock completions fish > ~/.config/fish/completions/hvsock.fish.
/// The release files are in dist/completions/.
#[derive(Args)]
#[command(after_long_help = "\
Examples:
  hvsock completions bash > ~/.local/share/bash-completion/completions/hvsock
  hvsock completions zsh > ~/.zfunc/_hvsock
  hvsock completions fish > ~/.config/fish/completions/hvsock.fish
  hvsock completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    shell: Shell,
}

/// Print hvsock's man page for COMMAND (roff, e.g. `hvsock man listen | man -l -`),
/// or write every page to DIR.
///
/// Pages are named hvsock.1, hvsock-listen.1, hvsock-service-add.1, ...; the release
/// files are in dist/man/ (copy them to /usr/local/share/man/man1/).
#[derive(Args)]
#[command(after_long_help = "\
Examples:
  hvsock man listen | man -l -
  hvsock man service add | man -l -
  hvsock man --out-dir /usr/local/share/man/man1")]
pub struct ManArgs {
    /// The command whose page to print (none: hvsock itself), e.g. `service add`.
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    command: Vec<String>,
    /// Write every page to DIR (created if missing) instead.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// Runs `hvsock completions`.
pub fn run(args: CompletionsArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut cmd = crate::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "hvsock", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// Runs `hvsock man`.
pub fn run_man(args: ManArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut cmd = crate::Cli::command().disable_help_subcommand(true);
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        clap_mangen::generate_to(cmd, dir)
            .map_err(|e| format!("cannot write man pages to {}: {e}", dir.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    // Built, a subcommand has the name its page carries (`hvsock-service-add`).
    cmd.build();
    let mut page = cmd;
    for word in &args.command {
        page = page
            .find_subcommand(word)
            .cloned()
            .ok_or_else(|| format!("no command `{}`", args.command.join(" ")))?;
    }
    clap_mangen::Man::new(page).render(&mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
