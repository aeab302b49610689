//! `hvsock stats serve`: the Prometheus exposition over HTTP for scraping, a tiny
//! HTTP/1.1 server (GET /metrics, one thread per connection, no keep-alive).

use super::{StatsArgs, look, render};
use crate::config::Config;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// The most a request's head may take: a scraper sends a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

pub(super) fn serve(config: &Config, listen: &str) -> Result<(), Box<dyn std::error::Error>> {
    let l = TcpListener::bind(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    eprintln!(
        "hvsock: serving metrics on http://{}/metrics",
        l.local_addr()?
    );
    for s in l.incoming() {
        let Ok(s) = s else { continue };
        let config = config.clone();
        std::thread::spawn(move || {
            let _ = answer(&config, s);
        });
    }
    Ok(())
}

fn answer(config: &Config, s: TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut r = BufReader::new(&s);
    let mut first = String::new();
    r.read_line(&mut first)?;
    // Read the rest of the head (headers are not needed), bounded.
    let mut seen = first.len();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line)?;
        seen += n;
        if n == 0 || line == "\r\n" || line == "\n" || seen > MAX_HEAD {
            break;
        }
    }
    let mut parts = first.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, ctype, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let args = StatsArgs {
                json: false,
                prometheus: true,
                service: None,
                vm: None,
                watch: None,
                cmd: None,
            };
            let look = look(config, &args);
            (
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                render::prometheus(&look),
            )
        }
        ("GET" | "HEAD", _) => ("404 Not Found", "text/plain", "only /metrics here\n".into()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n".into(),
        ),
    };
    let mut w = &s;
    write!(
        w,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        w.write_all(body.as_bytes())?;
    }
    w.flush()
}
