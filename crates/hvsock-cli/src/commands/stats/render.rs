//! The forms `hvsock stats` prints: a table (with rates under `--watch`), JSON and the
//! Prometheus text exposition.

use super::{Look, Row};
use hvsock::stats::Reason;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

/// Per-second rates of one row between two looks: (connections, bytes in, bytes out).
pub(crate) type Rates = HashMap<(String, String), (f64, f64, f64)>;

fn key(r: &Row) -> (String, String) {
    (r.service_id.to_string(), r.vm_id.to_string())
}

/// Rates between `prev` and `now`, `dt` apart (a row new since `prev` counts from 0).
pub(crate) fn rates(prev: &Look, now: &Look, dt: Duration) -> Rates {
    let secs = dt.as_secs_f64().max(1e-3);
    let before: HashMap<_, _> = prev.rows.iter().map(|r| (key(r), r.counters)).collect();
    now.rows
        .iter()
        .map(|r| {
            let b = before.get(&key(r)).copied().unwrap_or_default();
            let c = &r.counters;
            let d = |x: u64, y: u64| x.saturating_sub(y) as f64 / secs;
            let conns = d(c.accepted + c.connected, b.accepted + b.connected);
            (
                key(r),
                (
                    conns,
                    d(c.bytes_in, b.bytes_in),
                    d(c.bytes_out, b.bytes_out),
                ),
            )
        })
        .collect()
}

/// Refusals by reason, only the reasons counted: `disabled=2 busy_partition=1`.
fn reasons(r: &Row) -> String {
    Reason::ALL
        .iter()
        .filter(|x| r.counters.refused(**x) > 0)
        .map(|x| format!("{}={}", x.name(), r.counters.refused(*x)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Bytes for people: 1.5 MB.
fn human(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub(crate) fn table(look: &Look, rates: Option<&Rates>) -> String {
    let mut head = vec![
        "SERVICE",
        "VM",
        "ACCEPTED",
        "CONNECTED",
        "OPEN",
        "REFUSED",
        "IN",
        "OUT",
    ];
    if rates.is_some() {
        head.extend(["CONN/s", "IN/s", "OUT/s"]);
    }
    head.push("REASONS");
    let mut lines: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
    for r in &look.rows {
        let c = &r.counters;
        let mut l = vec![
            r.service.clone(),
            r.vm.clone(),
            c.accepted.to_string(),
            c.connected.to_string(),
            c.open.to_string(),
            c.refused_total().to_string(),
            human(c.bytes_in as f64),
            human(c.bytes_out as f64),
        ];
        if let Some(rates) = rates {
            let (n, i, o) = rates.get(&key(r)).copied().unwrap_or_default();
            l.extend([format!("{n:.1}"), human(i), human(o)]);
        }
        l.push(reasons(r));
        lines.push(l);
    }
    let cols = lines[0].len();
    let width: Vec<usize> = (0..cols)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in &lines {
        let mut s = String::new();
        for (i, cell) in l.iter().enumerate() {
            if i + 1 == cols {
                s.push_str(cell);
            } else {
                let _ = write!(s, "{cell:<w$}  ", w = width[i]);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} process{} counted",
        look.processes,
        if look.processes == 1 { "" } else { "es" }
    );
    out
}

pub(crate) fn json(look: &Look) -> String {
    let rows: Vec<Value> = look
        .rows
        .iter()
        .map(|r| {
            let c = &r.counters;
            let refused: Map<String, Value> = Reason::ALL
                .iter()
                .map(|x| (x.name().to_string(), json!(c.refused(*x))))
                .collect();
            json!({
                "service": r.service,
                "service_id": r.service_id.to_string(),
                "vm": r.vm,
                "vm_id": r.vm_id.to_string(),
                "accepted": c.accepted,
                "connected": c.connected,
                "open": c.open,
                "bytes_in": c.bytes_in,
                "bytes_out": c.bytes_out,
                "refused": refused,
            })
        })
        .collect();
    let skipped: Vec<Value> = look
        .skipped
        .iter()
        .map(|(f, e)| json!({"file": f, "error": e}))
        .collect();
    let v = json!({"processes": look.processes, "skipped": skipped, "rows": rows});
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}

/// A label value in the text exposition: backslash, double quote and newline escaped.
pub(crate) fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn labels(r: &Row) -> String {
    format!(
        "service=\"{}\",service_id=\"{}\",vm=\"{}\",vm_id=\"{}\"",
        escape_label(&r.service),
        r.service_id,
        escape_label(&r.vm),
        r.vm_id
    )
}

/// The Prometheus text exposition format (version 0.0.4).
pub(crate) fn prometheus(look: &Look) -> String {
    let mut o = String::new();
    o.push_str("# HELP hvsock_connections_total Connections by result: accepted (by a listener), connected (made by this host's processes), refused_<reason>.\n# TYPE hvsock_connections_total counter\n");
    for r in &look.rows {
        let l = labels(r);
        let c = &r.counters;
        let _ = writeln!(
            o,
            "hvsock_connections_total{{{l},result=\"accepted\"}} {}",
            c.accepted
        );
        let _ = writeln!(
            o,
            "hvsock_connections_total{{{l},result=\"connected\"}} {}",
            c.connected
        );
        for x in Reason::ALL {
            let _ = writeln!(
                o,
                "hvsock_connections_total{{{l},result=\"refused_{}\"}} {}",
                x.name(),
                c.refused(x)
            );
        }
    }
    o.push_str("# HELP hvsock_connections_open Connections open now.\n# TYPE hvsock_connections_open gauge\n");
    for r in &look.rows {
        let _ = writeln!(
            o,
            "hvsock_connections_open{{{}}} {}",
            labels(r),
            r.counters.open
        );
    }
    o.push_str("# HELP hvsock_bytes_total Bytes read from (in) and written to (out) the peer through hvsock streams.\n# TYPE hvsock_bytes_total counter\n");
    for r in &look.rows {
        let l = labels(r);
        let _ = writeln!(
            o,
            "hvsock_bytes_total{{{l},direction=\"in\"}} {}",
            r.counters.bytes_in
        );
        let _ = writeln!(
            o,
            "hvsock_bytes_total{{{l},direction=\"out\"}} {}",
            r.counters.bytes_out
        );
    }
    o.push_str("# HELP hvsock_processes hvsock processes whose counters were read.\n# TYPE hvsock_processes gauge\n");
    let _ = writeln!(o, "hvsock_processes {}", look.processes);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        assert_eq!(escape_label("plain-name"), "plain-name");
    }

    fn look(accepted: u64, bytes_in: u64) -> Look {
        Look {
            processes: 1,
            skipped: Vec::new(),
            rows: vec![Row {
                service_id: hvsock::ServiceId::from_vsock_port(5000),
                service: "echo".into(),
                vm_id: hvsock::VmId::PARENT,
                vm: "parent".into(),
                counters: hvsock::stats::Counters {
                    accepted,
                    bytes_in,
                    ..Default::default()
                },
            }],
        }
    }

    /// `--watch`: rates are the differences over the interval, shown as columns.
    #[test]
    fn watch_rates_are_differences_per_second() {
        let (a, b) = (look(10, 1_000), look(30, 5_000));
        let r = rates(&a, &b, Duration::from_secs(2));
        let (conns, bin, bout) = r.values().next().copied().unwrap();
        assert_eq!((conns, bin, bout), (10.0, 2000.0, 0.0));
        let t = table(&b, Some(&r));
        let head: Vec<&str> = t.lines().next().unwrap().split_whitespace().collect();
        assert!(head.contains(&"CONN/s") && head.contains(&"IN/s"), "{t}");
        assert!(t.contains("2.0 kB"), "{t}");
        // A counter that went down (a process gone) never gives a negative rate.
        let back = rates(&b, &a, Duration::from_secs(1));
        assert_eq!(back.values().next().unwrap().0, 0.0);
    }
}
