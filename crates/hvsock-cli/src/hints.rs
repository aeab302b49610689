//! What to run about a library error: the library's messages describe the situation
//! ([`hvsock::HvError`], [`PartitionError`], [`RegistryError`], [`AddrSyntaxError`]);
//! the commands that fix it are this tool's, so they are added here, where the error is
//! shown.

use hvsock::HvError;
use hvsock::partitions::PartitionError;
use hvsock::registry::RegistryError;
use hvsock::syntax::AddrSyntaxError;
use std::error::Error;
use std::io;

/// For a VM name that is not in the partition table.
const SEE_VM_LIST: &str = " (see `hvsock vm list`)";
/// For a VM id or name that a `vm` command did not find.
const SEE_OR_ADD_VM: &str = " (see `hvsock vm list`, or add it with `hvsock vm add`)";
/// For a service id or name that is not in the registry.
const SEE_OR_ADD_SERVICE: &str =
    " (see `hvsock service list`, or register it with `hvsock service add`)";

/// The text to append to `e`'s message (it starts with its own separator), if the
/// error is one that an `hvsock` command resolves. Looks inside an [`io::Error`] (at
/// the typed error it carries, if any).
pub(crate) fn hint(e: &(dyn Error + 'static)) -> Option<String> {
    if let Some(io) = e.downcast_ref::<io::Error>() {
        let inner: &(dyn Error + 'static) = io.get_ref()?;
        return hint(inner);
    }
    if let Some(e) = e.downcast_ref::<HvError>() {
        return hv_hint(e);
    }
    if let Some(e) = e.downcast_ref::<AddrSyntaxError>() {
        return match e {
            AddrSyntaxError::UnknownVm { .. } | AddrSyntaxError::UnknownComputeSystem { .. } => {
                Some(SEE_VM_LIST.to_string())
            }
            AddrSyntaxError::UnknownService { .. } => Some(SEE_OR_ADD_SERVICE.to_string()),
            AddrSyntaxError::Registry(r) => hint(r),
            AddrSyntaxError::Partitions(p) => hint(p),
            _ => None,
        };
    }
    if let Some(RegistryError::NotFound(_)) = e.downcast_ref::<RegistryError>() {
        return Some(SEE_OR_ADD_SERVICE.to_string());
    }
    if let Some(PartitionError::NotFound(_)) = e.downcast_ref::<PartitionError>() {
        return Some(SEE_OR_ADD_VM.to_string());
    }
    None
}

fn hv_hint(e: &HvError) -> Option<String> {
    match e {
        HvError::NotRegistered { service } => Some(format!(
            "; register it with `hvsock service add NAME --id {service}`"
        )),
        HvError::Disabled { service, .. } => Some(format!(
            "; enable it with `hvsock service enable {service}`"
        )),
        HvError::UnknownPartition { .. } => Some(SEE_VM_LIST.to_string()),
        // Windows (WSAEACCES): the host's registry decides, and changing it is an
        // administrator's job.
        HvError::AccessDenied { service, .. } => Some(format!(
            "; on the host, register it from an elevated prompt: `hvsock service add NAME --id {service}`"
        )),
        _ => None,
    }
}

/// `e`'s message with its hint: what `main` prints, and what the places that fold an
/// error into a longer line (`connect ADDR: ...`) put there.
pub(crate) fn full(e: &(dyn Error + 'static)) -> String {
    format!("{e}{}", hint(e).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hvsock::ServiceId;
    use hvsock::partitions::PartitionTable;
    use hvsock::registry::Registry;
    use hvsock::syntax::resolve_addr;

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
        // A bare HvError (not in an io::Error) gets its hint too.
        assert_eq!(
            full(&HvError::NotRegistered { service: svc }),
            with_hint(HvError::NotRegistered { service: svc })
        );
        let other = io::Error::from(HvError::TimedOut {
            what: "connect to a".into(),
            during: "",
        });
        assert_eq!(hint(&other), None);
        assert_eq!(hint(&io::Error::other("plain")), None);
        assert_eq!(hint(&io::Error::from(io::ErrorKind::NotFound)), None);
    }

    #[test]
    fn access_denied_says_to_register_as_administrator() {
        let svc = ServiceId::from_vsock_port(6000);
        let e = with_hint(HvError::AccessDenied {
            target: "connect to x".into(),
            service: svc,
        });
        assert!(
            e.ends_with(&format!(
                "; on the host, register it from an elevated prompt: `hvsock service add NAME --id {svc}`"
            )),
            "{e}"
        );
        // A registry change refused for want of rights says how to get them (the
        // library's text), and gets no hint of ours on top.
        let e = RegistryError::AdminRequired {
            key: "HKLM\\x".into(),
        };
        assert!(full(&e).contains("run hvsock as administrator"), "{e}");
        assert_eq!(hint(&e), None);
    }

    #[test]
    fn unknown_vm_in_an_address() {
        let e =
            resolve_addr("nosuch:vsock:1", &Registry::new(), &PartitionTable::new()).unwrap_err();
        let want = "unknown VM \"nosuch\": not a GUID, a wildcard (any, children, loopback, \
                    parent, broadcast, silohost) or a VM in the partition table \
                    (see `hvsock vm list`)";
        assert_eq!(full(&e), want);
        // The same once it travels in an io::Error, as `Config::resolve` returns it.
        assert_eq!(full(&io::Error::new(io::ErrorKind::InvalidInput, e)), want);
    }

    #[test]
    fn unknown_service_in_an_address() {
        let e =
            resolve_addr("parent:nosuch", &Registry::new(), &PartitionTable::new()).unwrap_err();
        let want = "unknown service \"nosuch\": not a GUID, vsock:PORT or a registered name \
                    (see `hvsock service list`, or register it with `hvsock service add`)";
        assert_eq!(full(&e), want);
        assert_eq!(full(&io::Error::new(io::ErrorKind::InvalidInput, e)), want);
    }

    #[test]
    fn service_not_in_the_registry() {
        let e = Registry::new().remove("nope").unwrap_err();
        let want = "no service \"nope\" in the registry \
                    (see `hvsock service list`, or register it with `hvsock service add`)";
        assert_eq!(full(&e), want);
        // As `main` gets it: boxed by `?`.
        let boxed: Box<dyn Error> = Box::new(Registry::new().remove("nope").unwrap_err());
        assert_eq!(full(boxed.as_ref()), want);
        // Other registry errors have none.
        let dup = {
            let mut r = Registry::new();
            r.add("a", None).unwrap();
            r.add("a", None).unwrap_err()
        };
        assert_eq!(hint(&dup), None);
    }

    #[test]
    fn vm_not_in_the_partition_table() {
        let e = PartitionTable::new().remove("nope").unwrap_err();
        let want = "no VM \"nope\" in the partition table \
                    (see `hvsock vm list`, or add it with `hvsock vm add`)";
        assert_eq!(full(&e), want);
        let boxed: Box<dyn Error> = Box::new(PartitionTable::new().remove("nope").unwrap_err());
        assert_eq!(full(boxed.as_ref()), want);
        assert_eq!(hint(&PartitionError::ReservedCid(2)), None);
    }

    #[test]
    fn nested_in_an_address_error() {
        let e = AddrSyntaxError::from(RegistryError::NotFound("x".into()));
        assert_eq!(hint(&e).as_deref(), Some(SEE_OR_ADD_SERVICE));
        let e = AddrSyntaxError::from(PartitionError::NotFound("x".into()));
        assert_eq!(hint(&e).as_deref(), Some(SEE_OR_ADD_VM));
        let e = resolve_addr("parent", &Registry::new(), &PartitionTable::new()).unwrap_err();
        assert_eq!(hint(&e), None);
    }
}
