//! Tests of the `.reg` and `.ps1` export and the `.reg` parser.

use super::parse::decode;
use super::*;
use crate::addr::guid::Guid;
use proptest::prelude::*;

fn svc(id: &str, name: &str, enabled: bool) -> Service {
    Service {
        id: id.parse().unwrap(),
        name: name.into(),
        enabled,
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    let mut v = vec![0xff, 0xfe];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

#[test]
fn export_is_regedit_format() {
    let b = export_reg(&[
        svc(
            "999e53d4-3d5c-4c3e-8779-bed06ec056e1",
            "VM Session Service",
            true,
        ),
        svc("00001388-facb-11e6-bd58-64006a7986d3", r#"a "q" \ b"#, true),
    ]);
    assert_eq!(&b[..4], &[0xff, 0xfe, b'W', 0]);
    let text = decode(&b).unwrap();
    let want = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\999E53D4-3D5C-4C3E-8779-BED06EC056E1]\r\n\
\"ElementName\"=\"VM Session Service\"\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00001388-FACB-11E6-BD58-64006A7986D3]\r\n\
\"ElementName\"=\"a \\\"q\\\" \\\\ b\"\r\n\r\n";
    assert_eq!(text, want);
    assert!(!text.replace("\r\n", "").contains('\n'), "only CRLF");
}

#[test]
fn disabled_services_become_comments() {
    let services = [
        svc("999e53d4-3d5c-4c3e-8779-bed06ec056e1", "on", true),
        svc("00001388-facb-11e6-bd58-64006a7986d3", "off", false),
    ];
    let text = export_reg_text(&services);
    assert!(text.contains(
        "; disabled in hvsock, not exported: 00001388-FACB-11E6-BD58-64006A7986D3 \"off\""
    ));
    let back = parse_reg(&export_reg(&services)).unwrap();
    assert_eq!(back.services.len(), 1);
    assert_eq!(back.services[0].1, "on");
    let ps = export_ps1(&services);
    assert!(
        ps.contains("# disabled in hvsock, not exported: 00001388-FACB-11E6-BD58-64006A7986D3 off")
    );
    assert_eq!(ps.matches("New-ItemProperty").count(), 1);
}

#[test]
fn ps1_script() {
    let ps = export_ps1(&[
        svc(
            "999e53d4-3d5c-4c3e-8779-bed06ec056e1",
            "VM Session Service",
            true,
        ),
        svc("00001388-facb-11e6-bd58-64006a7986d3", "it's café", true),
    ]);
    assert!(ps.is_ascii());
    assert!(ps.ends_with("\r\n"));
    assert!(!ps.replace("\r\n", "").contains('\n'));
    assert!(ps.contains(&format!("$base = '{GCS_PS_PATH}'")));
    assert!(ps.contains("$key = Join-Path $base '999E53D4-3D5C-4C3E-8779-BED06EC056E1'"));
    assert!(ps.contains(
        "if (-not (Test-Path -LiteralPath $key)) { $null = New-Item -Path $base -Name '999E53D4-3D5C-4C3E-8779-BED06EC056E1' }"
    ));
    assert!(
        ps.contains("-Name 'ElementName' -PropertyType String -Value 'VM Session Service' -Force")
    );
    assert!(
        ps.contains("-Value (-join @('it''s caf', [char]0x00E9)) -Force"),
        "{ps}"
    );
}

#[test]
fn ps_literals() {
    assert_eq!(ps_literal(""), "''");
    assert_eq!(ps_literal("a'b"), "'a''b'");
    assert_eq!(ps_literal("é"), "[char]0x00E9");
    assert_eq!(ps_literal("\u{2019}x"), "(-join @([char]0x2019, 'x'))");
    assert_eq!(ps_literal("😀"), "(-join @([char]0xD83D, [char]0xDE00))");
}

const REGEDIT_SAMPLE: &str = "Windows Registry Editor Version 5.00\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices]\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\999E53D4-3D5C-4C3E-8779-BED06EC056E1]\r\n\
\"ElementName\"=\"VM Session Service\"\r\n\
\"Description\"=\"something else\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\{0000ABCD-FACB-11E6-BD58-64006A7986D3}]\r\n\
@=\"default\"\r\n\
\"ElementName\"=\"With \\\"quotes\\\" and C:\\\\path\"\r\n\
\"Flags\"=dword:00000001\r\n\
\"Blob\"=hex:01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,17,\\\r\n\
  18,19,1a\r\n\
\r\n\
; a comment\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\999E53D4-3D5C-4C3E-8779-BED06EC056E1\\Sub]\r\n\
\"ElementName\"=\"nested\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\not-a-guid]\r\n\
\"ElementName\"=\"bad\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00002222-FACB-11E6-BD58-64006A7986D3]\r\n\
\"ElementName\"=hex(2):41,00,00,00\r\n\
\r\n\
[HKEY_CURRENT_USER\\Software\\Other]\r\n\
\"ElementName\"=\"unrelated\"\r\n\
\r\n\
[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00003333-FACB-11E6-BD58-64006A7986D3]\r\n\
\r\n";

#[test]
fn imports_regedit_utf16le_with_unrelated_keys() {
    let r = parse_reg(&utf16le(REGEDIT_SAMPLE)).unwrap();
    assert_eq!(
        r.services,
        vec![
            (
                "999e53d4-3d5c-4c3e-8779-bed06ec056e1".parse().unwrap(),
                "VM Session Service".to_string()
            ),
            (
                ServiceId::from_vsock_port(0xabcd),
                r#"With "quotes" and C:\path"#.to_string()
            ),
        ]
    );
    let sk = r.skipped.join("\n");
    for want in [
        "line 7: value \"Description\"",
        "line 10: value @ (default)",
        "line 12: value \"Flags\"",
        "line 13: value \"Blob\"",
        "line 17: key [",
        "below a service key",
        "not-a-guid",
        "not a service GUID",
        "ElementName of 00002222-facb-11e6-bd58-64006a7986d3 is a hex(2) value",
        "line 23: key of 00002222-facb-11e6-bd58-64006a7986d3 has no ElementName",
        "[HKEY_CURRENT_USER\\Software\\Other] is outside GuestCommunicationServices",
        "deletion of key",
    ] {
        assert!(sk.contains(want), "missing {want:?} in:\n{sk}");
    }
    assert_eq!(r.skipped.len(), 10, "{sk}");
    // Same content as LF-only UTF-8 with a BOM, and as UTF-16BE.
    let lf = REGEDIT_SAMPLE.replace("\r\n", "\n");
    let mut u8bom = vec![0xef, 0xbb, 0xbf];
    u8bom.extend_from_slice(lf.as_bytes());
    assert_eq!(parse_reg(&u8bom).unwrap(), r);
    let mut be = vec![0xfe, 0xff];
    for u in REGEDIT_SAMPLE.encode_utf16() {
        be.extend_from_slice(&u.to_be_bytes());
    }
    assert_eq!(parse_reg(&be).unwrap(), r);
    // BOM-less UTF-16LE.
    assert_eq!(parse_reg(&utf16le(REGEDIT_SAMPLE)[2..]).unwrap(), r);
}

#[test]
fn imports_regedit4_ascii() {
    let text = b"REGEDIT4\n\n[HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00001388-facb-11e6-bd58-64006a7986d3]\n\"ElementName\"=\"Caf\xe9 \x80\"\n";
    let r = parse_reg(text).unwrap();
    assert_eq!(
        r.services,
        vec![(ServiceId::from_vsock_port(5000), "Café €".to_string())]
    );
    assert!(r.skipped.is_empty());
}

#[test]
fn last_element_name_wins() {
    let k = format!("[{GCS_KEY}\\00001388-FACB-11E6-BD58-64006A7986D3]");
    let text = format!("REGEDIT4\n{k}\n\"ElementName\"=\"a\"\n{k}\n\"elementname\"=\"b\"\n");
    let r = parse_reg(text.as_bytes()).unwrap();
    assert_eq!(
        r.services,
        vec![(ServiceId::from_vsock_port(5000), "b".into())]
    );
}

#[test]
fn errors_carry_line_numbers() {
    for (text, line, want) in [
        ("", 1, "empty"),
        ("hello\n", 1, "not a .reg file"),
        ("\n\nREGEDIT5\n", 3, "not a .reg file"),
        ("REGEDIT4\n\n[abc\n", 3, "']'"),
        ("REGEDIT4\n[x]\n\"a\"=\"unterminated\n", 3, "unterminated"),
        ("REGEDIT4\n[x]\n\"a\" \"b\"\n", 3, "'='"),
        ("REGEDIT4\n[x]\njunk\n", 3, "expected [KEY]"),
        (
            "REGEDIT4\n[x]\n\"a\"=\"b\" c\n",
            3,
            "after the closing quote",
        ),
        ("REGEDIT4\n[x]\n\"a\"=what\n", 3, "unrecognised"),
    ] {
        let e = parse_reg(text.as_bytes()).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(want), "{text:?}: {e}");
    }
    let e = parse_reg(&[0xff, 0xfe, b'R', 0, b'E']).unwrap_err();
    assert!(e.message.contains("odd"), "{e}");
}

proptest! {
    #[test]
    fn export_parse_round_trip(
        names in proptest::collection::vec("[^\\p{Cc}]{1,16}|[\"\\\\a-z ]{1,8}", 0..6),
        ids in proptest::collection::hash_set(any::<u128>(), 6),
    ) {
        let services: Vec<Service> = names.iter().zip(&ids).map(|(n, id)| Service {
            id: ServiceId(Guid::from_u128(*id)),
            name: n.clone(),
            enabled: true,
        }).collect();
        let r = parse_reg(&export_reg(&services)).unwrap();
        let want: Vec<(ServiceId, String)> = services.iter().map(|s| (s.id, s.name.clone())).collect();
        prop_assert_eq!(r.services, want);
        prop_assert!(r.skipped.is_empty());
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_reg(&bytes);
    }

    #[test]
    fn parse_never_panics_on_near_reg_text(
        body in proptest::collection::vec(
            prop_oneof![
                Just("[".to_string()), Just("]".to_string()), Just("\"".to_string()),
                Just("\\".to_string()), Just("=".to_string()), Just("\r\n".to_string()),
                Just("\n".to_string()), Just("@".to_string()), Just("-".to_string()),
                Just(";".to_string()), Just("hex:".to_string()), Just("ElementName".to_string()),
                Just(GCS_KEY.to_string()), Just("\\999E53D4-3D5C-4C3E-8779-BED06EC056E1".to_string()),
                "[a-zé ]{0,3}",
            ],
            0..40,
        ),
        utf16 in any::<bool>(),
    ) {
        let text = format!("{REGEDIT5_HEADER}\r\n{}", body.concat());
        let bytes = if utf16 { utf16le(&text) } else { text.into_bytes() };
        let _ = parse_reg(&bytes);
    }
}
