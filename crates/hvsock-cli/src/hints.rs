//! What to run about a library error: the library's messages describe the situation
//! ([`hvsock::HvError`]); the commands that fix it are this tool's, so they are added
//! here, where the error is shown.

use hvsock::HvError;
use std::io;

/// The text to append to `e`'s message (it starts with its own separator), if the
/// error is one that an `hvsock` command resolves.
pub(crate) fn hint(e: &io::Error) -> Option<String> {
    match HvError::of(e)? {
        HvError::NotRegistered { service } => Some(format!(
            "; register it with `hvsock service add NAME --id {service}`"
        )),
        HvError::Disabled { service, .. } => Some(format!(
            "; enable it with `hvsock service enable {service}`"
        )),
        HvError::UnknownPartition { .. } => Some(" (see `hvsock vm list`)".to_string()),
        _ => None,
    }
}

/// `e`'s message with its hint, for the places that fold an error into a longer line
/// (`connect ADDR: ...`) before it reaches `main`.
pub(crate) fn full(e: &(dyn std::error::Error + 'static)) -> String {
    let hint = e.downcast_ref::<io::Error>().and_then(hint);
    format!("{e}{}", hint.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hvsock::{ServiceId, VmId};

    fn with_hint(e: HvError) -> String {
        full(&io::Error::from(e))
    }

    #[test]
    fn hints_name_the_command_that_fixes_it() {
        let svc = ServiceId::from_vsock_port(6000);
        assert_eq!(
            with_hint(HvError::NotRegistered { service: svc }),
            format!(
                "service {svc} is not registered on the host; register it with `hvsock service add NAME --id {svc}`"
            )
        );
        assert_eq!(
            with_hint(HvError::Disabled {
                service: svc,
                name: "echo".into()
            }),
            format!(
                "service \"echo\" ({svc}) is disabled on the host; enable it with `hvsock service enable {svc}`"
            )
        );
        assert_eq!(
            with_hint(HvError::UnknownPartition {
                shown: "\"nosuch\"".into()
            }),
            "no partition \"nosuch\" in the partition table (see `hvsock vm list`)"
        );
        let other = io::Error::from(HvError::TimedOut {
            what: "connect to a".into(),
            during: "",
        });
        assert_eq!(hint(&other), None);
        assert_eq!(hint(&io::Error::other("plain")), None);
        let _ = VmId::ZERO;
    }
}
