//! The `/proc/PID/stat` reader the agent uses to find what is left of a session on a
//! hang-up (crates/hvsock-agent/src/sys.rs): any process picks its own command name.
#![no_main]
use hvsock_agent::sys::parse_proc_stat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((state, sid)) = parse_proc_stat(data) {
        // Only what follows the last ')' counts: another pid and name before it, or a
        // name holding the whole line, give the same fields.
        let close = data.iter().rposition(|&b| b == b')').unwrap();
        let mut other = b"1 (x".to_vec();
        other.extend_from_slice(&data[close..]);
        assert_eq!(parse_proc_stat(&other), Some((state, sid)));
        let mut wrapped = b"9 (".to_vec();
        wrapped.extend_from_slice(data);
        wrapped.extend_from_slice(&data[close..]);
        assert_eq!(parse_proc_stat(&wrapped), Some((state, sid)));
        assert!(state.is_ascii_graphic());
    }
});
