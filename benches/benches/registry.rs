//! Big registries: loading `services.toml` of N services, importing a `.reg` file of N
//! services, and looking one up by name and by id in a registry of N. All three grow
//! linearly (load, import) or not at all (lookup) with N.
//!
//! `cargo bench -p hvsock-benches --bench registry` measures; `cargo test` runs each once.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hvsock::registry::Registry;
use hvsock::{Guid, ServiceId, regfile};
use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;

const SIZES: [u32; 3] = [1_000, 10_000, 100_000];

fn id(i: u32) -> ServiceId {
    ServiceId(Guid::from_u128(
        ((0x10000 + i as u128) << 96) | 0x1234_4567_89ab_0000_0000_0000 | i as u128,
    ))
}

fn registry(n: u32) -> Registry {
    let mut r = Registry::new();
    for i in 0..n {
        r.add(&format!("service number {i}"), Some(id(i))).unwrap();
    }
    r
}

fn reg_file(n: u32) -> Vec<u8> {
    let key = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices";
    let mut t = String::from("Windows Registry Editor Version 5.00\r\n\r\n");
    for i in 0..n {
        let g = id(i).to_string().to_uppercase();
        write!(
            t,
            "[{key}\\{{{g}}}]\r\n\"ElementName\"=\"service number {i}\"\r\n\r\n"
        )
        .unwrap();
    }
    t.into_bytes()
}

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry_load");
    g.sample_size(10);
    for n in SIZES {
        let text = registry(n).to_toml();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| Registry::from_toml(Path::new("services.toml"), black_box(text)).unwrap())
        });
    }
    g.finish();
}

fn import(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry_import_reg");
    g.sample_size(10);
    for n in SIZES {
        let bytes = reg_file(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
            b.iter(|| {
                let parsed = regfile::parse_reg(black_box(bytes)).unwrap();
                let mut r = Registry::new();
                let report = r.import(&parsed.services);
                assert_eq!(report.added.len(), n as usize);
                r
            })
        });
    }
    g.finish();
}

fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry_lookup");
    for n in SIZES {
        let r = registry(n);
        let name = format!("service number {}", n - 1);
        let last = id(n - 1);
        g.bench_with_input(BenchmarkId::new("by_name", n), &name, |b, name| {
            b.iter(|| r.find(black_box(name)).unwrap().id)
        });
        g.bench_with_input(BenchmarkId::new("is_enabled", n), &last, |b, last| {
            b.iter(|| r.is_enabled(black_box(*last)))
        });
    }
    g.finish();
}

criterion_group!(benches, load, import, lookup);
criterion_main!(benches);
