//! Unit and property tests of the key formats and transcripts.

use super::authorized::parse_authorized_keys;
use super::keys::{KeyPair, PublicKey, fingerprint};
use super::pins::{PinFile, PinMode, PinOutcome, parse_pins, pin_line};
use super::*;
use proptest::prelude::*;

fn pair(seed: u8) -> KeyPair {
    KeyPair::from_seed([seed; 32], "me@host")
}

#[test]
fn public_line_round_trips() {
    let k = pair(1).public();
    let line = k.to_line();
    assert!(
        line.starts_with("hvsock-ed25519 ") && line.ends_with(" me@host"),
        "{line}"
    );
    assert_eq!(PublicKey::parse_line(&line, 1).unwrap(), k);
    assert!(fingerprint(&k.key).starts_with("SHA256:"));
    // Wrong type, short key, bad base64, control characters.
    assert!(PublicKey::parse_line("ssh-ed25519 AAAA x", 1).is_err());
    assert!(PublicKey::parse_line("hvsock-ed25519 AAAA", 1).is_err());
    assert!(PublicKey::parse_line("hvsock-ed25519 !!!!", 1).is_err());
    assert!(PublicKey::parse_line(&format!("{line}\u{1b}[2J"), 1).is_err());
}

#[test]
fn private_file_round_trips_and_refuses_junk() {
    let k = pair(2);
    let text = k.to_file();
    let back = KeyPair::parse_file(&text).unwrap();
    assert_eq!(back.public(), k.public());
    assert!(KeyPair::parse_file("# nothing\n").is_err());
    let two = format!("{text}{}", text.lines().last().unwrap());
    assert_eq!(KeyPair::parse_file(&two).unwrap_err().line, 4);
    assert!(KeyPair::parse_file(&k.public().to_line()).is_err());
}

#[test]
fn authorized_keys_options() {
    let (a, b) = (pair(3).public(), pair(4).public());
    let text = format!(
        "# comment\n\n{}\nuser=builder,ci {}\n",
        a.to_line(),
        b.to_line()
    );
    let keys = parse_authorized_keys(&text).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].line, 3);
    assert!(keys[0].authorizes("root", "root"));
    assert!(!keys[0].authorizes("builder", "root"));
    assert!(keys[1].authorizes("ci", "root"));
    assert!(!keys[1].authorizes("root", "root"));
    let bad = format!("from=x {}\n", a.to_line());
    assert_eq!(parse_authorized_keys(&bad).unwrap_err().line, 1);
    assert!(parse_authorized_keys(&format!("user= {}", a.to_line())).is_err());
    assert!(parse_authorized_keys(&format!("user=a/b {}", a.to_line())).is_err());
}

#[test]
fn pins_record_match_and_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let vm: hvsock::VmId = "3f2504e0-4f89-11d3-9a0c-0305e82c3301".parse().unwrap();
    let file = PinFile {
        path: dir.path().join("agent_keys"),
        mode: PinMode::Tofu,
        vm,
        service: crate::SERVICE_ID,
    };
    let (k1, k2) = (pair(5).public_bytes(), pair(6).public_bytes());
    assert_eq!(file.check(&k1), Ok(PinOutcome::Recorded));
    assert_eq!(file.check(&k1), Ok(PinOutcome::Matched));
    let e = file.check(&k2).unwrap_err();
    assert!(
        e.contains(&fingerprint(&k1)) && e.contains(&fingerprint(&k2)),
        "{e}"
    );
    assert!(e.contains("line 1") && e.contains("agent_keys"), "{e}");
    let text = std::fs::read_to_string(&file.path).unwrap();
    assert_eq!(text, format!("{}\n", pin_line(vm, crate::SERVICE_ID, &k1)));
    let strict = PinFile {
        vm: hvsock::VmId::PARENT,
        mode: PinMode::Strict,
        ..file.clone()
    };
    assert!(strict.check(&k1).unwrap_err().contains("no pinned key"));
    let off = PinFile {
        mode: PinMode::Off,
        ..file
    };
    assert_eq!(off.check(&k2), Ok(PinOutcome::Unchecked));
}

#[test]
fn transcripts_bind_every_field() {
    let k = pair(7);
    let (cn, an, ak) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let msg = user_transcript(&cn, &an, &ak, "u", &k.public_bytes());
    let sig = k.sign(&msg);
    assert!(verify(&k.public_bytes(), &msg, &sig));
    for other in [
        user_transcript(&[9; 32], &an, &ak, "u", &k.public_bytes()),
        user_transcript(&cn, &[9; 32], &ak, "u", &k.public_bytes()),
        user_transcript(&cn, &an, &[9; 32], "u", &k.public_bytes()),
        user_transcript(&cn, &an, &ak, "root", &k.public_bytes()),
        agent_transcript(1, &cn, &an, &ak),
    ] {
        assert!(!verify(&k.public_bytes(), &other, &sig));
    }
}

#[test]
fn the_agent_transcript_covers_the_methods() {
    let k = pair(8);
    let (cn, an, ak) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let sig = k.sign(&agent_transcript(1, &cn, &an, &ak));
    assert!(verify(
        &k.public_bytes(),
        &agent_transcript(1, &cn, &an, &ak),
        &sig
    ));
    // A path that turns "key" into "password" breaks the signature.
    assert!(!verify(
        &k.public_bytes(),
        &agent_transcript(2, &cn, &an, &ak),
        &sig
    ));
}

proptest! {
    #[test]
    fn parsers_never_panic(text in "\\PC{0,300}") {
        let _ = parse_authorized_keys(&text);
        let _ = parse_pins(&text);
        let _ = KeyPair::parse_file(&text);
        let _ = PublicKey::parse_line(&text, 1);
    }

    #[test]
    fn public_lines_round_trip(seed in any::<[u8; 32]>(), comment in "[a-zA-Z0-9@._ -]{0,40}") {
        let k = KeyPair::from_seed(seed, comment.trim());
        let p = k.public();
        prop_assert_eq!(PublicKey::parse_line(&p.to_line(), 1).unwrap(), p.clone());
        prop_assert_eq!(KeyPair::parse_file(&k.to_file()).unwrap().public(), p.clone());
        let ak = parse_authorized_keys(&format!("user=a,b {}\n", p.to_line())).unwrap();
        prop_assert_eq!(&ak[0].key, &p);
        let vm: hvsock::VmId = hvsock::VmId::from(hvsock::Guid::from_bytes_le(seed[..16].try_into().unwrap()));
        let pins = parse_pins(&pin_line(vm, crate::SERVICE_ID, &p.key)).unwrap();
        prop_assert_eq!(pins[0].vm, vm);
        prop_assert_eq!(pins[0].key, p.key);
    }

    #[test]
    fn signatures_verify_only_unaltered(seed in any::<[u8; 32]>(), user in "[a-z]{0,8}", flip in 0usize..64) {
        let k = KeyPair::from_seed(seed, "");
        let msg = user_transcript(&[1; 32], &[2; 32], &[3; 32], &user, &k.public_bytes());
        let mut sig = k.sign(&msg);
        prop_assert!(verify(&k.public_bytes(), &msg, &sig));
        sig[flip] ^= 1;
        prop_assert!(!verify(&k.public_bytes(), &msg, &sig));
    }
}
