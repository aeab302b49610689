//! criterion benchmarks of hvsock's hot library paths; the benchmarks are in
//! `benches/hot_paths.rs`. Run them with `cargo bench -p hvsock-benches`
//! (`cargo test` runs each once, quickly, as a check).
