//! CLI tests of `hvsock service`, `hvsock vm` and `hvsock addr`, each in its own temp
//! config and runtime directories.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

#[path = "../common/mod.rs"]
mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::BIN;
const VMSS: &str = "999e53d4-3d5c-4c3e-8779-bed06ec056e1";

use common::TempEnv as Env;

impl Env {
    fn new() -> Env {
        Env::in_tmp("hvr")
    }

    fn cmd(&self) -> Command {
        Command::from_std(common::hvsock(&self.cfg, &self.run, &[]))
    }

    /// Runs, expects exit 0, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        hvsock_testkit::proc::assert_success(&out, format_args!("{args:?} failed"));
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Runs, expects exit 1 and one `hvsock: ` line on stderr, returns it.
    fn fail(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(err.starts_with("hvsock: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    }

    /// Runs, expects a usage error (exit 2).
    fn usage(&self, args: &[&str]) {
        self.cmd().args(args).assert().code(2);
    }

    fn services_file(&self) -> PathBuf {
        self.cfg.join("services.toml")
    }

    fn ids(&self) -> BTreeSet<(String, String)> {
        self.json(&["service", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_string(),
                    s["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

fn is_guid_line(s: &str) -> bool {
    let t = s.strip_suffix('\n').unwrap_or("");
    t.len() == 36 && t.parse::<hvsock::Guid>().is_ok() && t == t.to_lowercase()
}

mod cli;
mod files;
mod import_export;
mod service;
mod vm;
