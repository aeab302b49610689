//! Hot library paths: address text parsing and resolution, the local preamble,
//! SOCKADDR_HV, and a whole local connect + accept + first byte, next to the same
//! over a raw Unix socket.
//!
//! `cargo bench -p hvsock-benches` measures; `cargo test` runs each once.

use criterion::{Criterion, criterion_group, criterion_main};
use hvsock::handshake::Preamble;
use hvsock::partitions::{PartitionKind, PartitionTable};
use hvsock::paths::Dirs;
use hvsock::registry::Registry;
use hvsock::{Context, Guid, HvAddr, ServiceId, VmId};
use std::hint::black_box;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::thread;

const GUID_TEXT: &str = "a42e7cda-d03f-480c-9cc2-a4de20abb878";
const SVC: ServiceId = ServiceId::from_vsock_port(5000);
const VM: VmId = VmId(Guid::from_u128(0xcccccccc_0000_4000_8000_00000000000c));

fn addressing(c: &mut Criterion) {
    c.bench_function("guid/parse", |b| {
        b.iter(|| black_box(GUID_TEXT).parse::<Guid>().unwrap())
    });
    let g: Guid = GUID_TEXT.parse().unwrap();
    c.bench_function("guid/display", |b| b.iter(|| black_box(g).to_string()));

    let mut registry = Registry::default();
    registry.add("echo", Some(SVC)).unwrap();
    let mut table = PartitionTable::default();
    table.add("myvm", Some(VM), PartitionKind::Local).unwrap();
    for (name, text) in [
        ("names", "myvm:echo"),
        ("wildcard_vsock", "parent:vsock:5000"),
        (
            "guids",
            "cccccccc-0000-4000-8000-00000000000c:00001388-facb-11e6-bd58-64006a7986d3",
        ),
    ] {
        c.bench_function(&format!("resolve_addr/{name}"), |b| {
            b.iter(|| hvsock::syntax::resolve_addr(black_box(text), &registry, &table).unwrap())
        });
    }

    let addr = HvAddr::new(VM, SVC);
    c.bench_function("sockaddr_hv/encode", |b| {
        b.iter(|| black_box(addr).to_sockaddr_hv())
    });
    let raw = addr.to_sockaddr_hv();
    c.bench_function("sockaddr_hv/decode", |b| {
        b.iter(|| HvAddr::from_sockaddr_hv(black_box(&raw)).unwrap())
    });

    let p = Preamble {
        caller: VM,
        service: SVC,
    };
    c.bench_function("preamble/encode", |b| b.iter(|| black_box(p).encode()));
    let bytes = p.encode();
    c.bench_function("preamble/decode", |b| {
        b.iter(|| Preamble::decode(black_box(&bytes)).unwrap())
    });
}

/// Accepts forever, answering each connection with one byte.
fn serve_hv(listener: hvsock::HvListener) {
    thread::spawn(move || {
        while let Ok((mut s, _)) = listener.accept() {
            let _ = s.write_all(b"!");
        }
    });
}

/// `connect_accept_byte/NAME`: `ctx` connects to service `SVC` of `vm` and reads the
/// one byte [`serve_hv`] sends.
fn bench_connect(c: &mut Criterion, name: &str, ctx: &Context, vm: VmId) {
    c.bench_function(&format!("connect_accept_byte/{name}"), |b| {
        b.iter(|| {
            let mut s = ctx.connect(HvAddr::new(vm, SVC)).unwrap();
            let mut x = [0u8; 1];
            s.read_exact(&mut x).unwrap();
        })
    });
}

fn connect_round_trip(c: &mut Criterion) {
    let tmp = tempfile::Builder::new()
        .prefix("hvb")
        .tempdir_in("/tmp")
        .unwrap();
    let dirs = Dirs::new(tmp.path().join("c"), tmp.path().join("r"));
    Registry::update(&dirs, |r| r.add("echo", Some(SVC))).unwrap();
    PartitionTable::update(&dirs, |t| t.add("a", None, PartitionKind::Local)).unwrap();
    let host = Context::host(dirs.clone());
    let child = Context::local(dirs.clone(), "a").unwrap();

    serve_hv(host.bind(HvAddr::new(VmId::LOOPBACK, SVC)).unwrap());
    bench_connect(c, "hvsock_loopback", &host, VmId::LOOPBACK);

    serve_hv(host.bind(HvAddr::new(VmId::CHILDREN, SVC)).unwrap());
    bench_connect(c, "hvsock_partition_to_host", &child, VmId::PARENT);

    let path = tmp.path().join("raw.sock");
    let raw = UnixListener::bind(&path).unwrap();
    thread::spawn(move || {
        while let Ok((mut s, _)) = raw.accept() {
            let _ = s.write_all(b"!");
        }
    });
    c.bench_function("connect_accept_byte/raw_unix", |b| {
        b.iter(|| {
            let mut s = UnixStream::connect(&path).unwrap();
            let mut x = [0u8; 1];
            s.read_exact(&mut x).unwrap();
        })
    });
}

criterion_group!(benches, addressing, connect_round_trip);
criterion_main!(benches);
