//! Configuration on disk: where it lives ([`paths`]), how files are read and replaced
//! safely ([`store`]), the service registry ([`registry`]) and partition table
//! ([`partitions`]) with their shared load-modify-store path, the listener settings
//! ([`settings`]), the `.reg`/`.ps1` import and export ([`regfile`]), and the cache that
//! rereads a file only when it changed (`snapshot`). [`compute_systems`] reads the Host
//! Compute Service's list of VMs and containers (Windows hosts).

pub mod compute_systems;
pub(crate) mod document;
pub mod partitions;
pub mod paths;
pub mod regfile;
pub mod registry;
pub mod settings;
pub(crate) mod snapshot;
pub mod store;
