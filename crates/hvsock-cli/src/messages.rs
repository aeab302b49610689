//! User-facing texts that more than one command prints, and how errors become lines.

use hvsock::VmId;
use hvsock::paths::Dirs;
use hvsock::text::escape_untrusted;
use serde_json::Value;
use std::fmt::Display;

/// The hint after a failed connection to an agent (refused, not found, timed out).
pub const AGENT_UNREACHABLE_HINT: &str = "; is `hvsock agent` running there, and the service \
     registered on the host (`hvsock agent --install-service`)?";

/// One line, whatever the error's text: line breaks become `; `.
pub fn one_line(e: &dyn Display) -> String {
    e.to_string().replace('\n', "; ")
}

/// One line of a text that may quote a peer (an agent's or a client's message, names
/// from a VM): line breaks become `; ` and control characters are escaped.
pub fn one_line_untrusted(e: &dyn Display) -> String {
    escape_untrusted(&one_line(e)).into_owned()
}

/// Names a VM id for log lines: PARENT, LOOPBACK, ..., or `name (id)` from the table.
pub fn describe_vm(id: VmId, dirs: &Dirs) -> String {
    describe_named(id, vm_name(id, dirs).as_deref())
}

/// [`describe_vm`] with the name already looked up ([`vm_name`]).
pub fn describe_named(id: VmId, name: Option<&str>) -> String {
    match name {
        Some(name) if id.is_wildcard() => name.to_string(),
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

/// The partition table's name of `id`, or the wildcard's (`PARENT`...); `None` if it
/// has none.
pub fn vm_name(id: VmId, dirs: &Dirs) -> Option<String> {
    if let Some(n) = id.wildcard_name() {
        return Some(n.to_ascii_uppercase());
    }
    hvsock::partitions::PartitionTable::load(dirs)
        .ok()
        .and_then(|t| t.get(id).map(|p| p.name.clone()))
}

/// Says on stderr which VMs listeners skip because their hybrid paths clash (a table
/// edited by hand; `hvsock vm add` refuses such paths).
pub fn warn_hybrid_clashes(dirs: &Dirs) {
    if let Ok(t) = hvsock::partitions::PartitionTable::load(dirs) {
        for c in t.hybrid_clashes() {
            eprintln!("hvsock: warning: {c}");
        }
    }
}

/// Prints a JSON value, pretty, on stdout.
pub fn print_json(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values serialize")
    );
}

/// Prints a listing on stdout: a JSON array of `to_json` of each item, or a table of
/// `header` and one `row` (each ending in a newline) per item, with `empty` on stderr
/// when there is none.
pub fn print_list<T>(
    json: bool,
    items: &[T],
    to_json: fn(&T) -> Value,
    header: String,
    row: impl Fn(&T) -> String,
    empty: &str,
) {
    if json {
        print_json(&Value::Array(items.iter().map(to_json).collect()));
        return;
    }
    let mut out = header;
    for item in items {
        out.push_str(&row(item));
    }
    print!("{out}");
    if items.is_empty() {
        eprintln!("hvsock: {empty}");
    }
}

/// Said once when stdin ends and `--half-close auto` sends no half-close because the
/// VM's VMM cannot carry it: why the command keeps waiting, and what else to do.
pub fn half_close_withheld(vm: &str) -> String {
    format!(
        "hvsock: stdin ended; its end is not sent to {vm}: the VM's VMM cannot carry a \
         half-close (`hvsock vm show`), so a peer that answers only after the end of its \
         input (like sha256sum) gets none over it; printing what the peer sends until it \
         closes (--idle-timeout DUR to stop earlier, --half-close always to send it anyway)"
    )
}

/// Said once when `--half-close always` sends a half-close to a VM whose VMM loses it.
pub fn half_close_lost_warning(vm: &str) -> String {
    format!(
        "hvsock: warning: sending the end of stdin to {vm}, whose VMM cannot carry a \
         half-close: it closes the whole connection, and what the peer sends after it is \
         lost (--half-close auto keeps the connection open)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_escapes_only_when_asked() {
        let e = "refused: a\nb\x1b[2J";
        assert_eq!(one_line(&e), "refused: a; b\x1b[2J");
        let u = one_line_untrusted(&e);
        assert!(u.starts_with("refused: a; b"), "{u}");
        assert!(!u.chars().any(|c| c.is_control()), "{u:?}");
    }
}
