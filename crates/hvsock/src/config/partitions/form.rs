//! [`ConnectForm`]: how a hybrid VM's VMM names a service that is not a vsock port.
//!
//! Every hybrid VMM takes `CONNECT <port>` and connects a guest's connection to host
//! port P to the host's `PATH_P`. OpenVMM also takes `CONNECT <guid>` for any Hyper-V
//! service id, and connects a guest's connection to a service that is no vsock port
//! template to `PATH_<guid>` (the GUID as lowercase text, no braces). Which of the
//! two a VM's VMM speaks is recorded per VM, as its `connect_form` in the table.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the VMM of a hybrid VM names a service whose id is not a vsock port template
/// (`xxxxxxxx-facb-11e6-bd58-64006a7986d3`); template services are always their port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectForm {
    /// By the service id's `Data1` as a port (`CONNECT <port>`, `PATH_<port>`):
    /// Firecracker, Cloud Hypervisor, vhost-device-vsock. The default.
    #[default]
    Port,
    /// By the service id itself (`CONNECT <guid>`, `PATH_<guid>`): OpenVMM.
    Guid,
}

impl ConnectForm {
    /// `"port"` or `"guid"`, as in the table and the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectForm::Port => "port",
            ConnectForm::Guid => "guid",
        }
    }

    /// Whether this is the default (left out of the table file).
    pub fn is_port(&self) -> bool {
        *self == ConnectForm::Port
    }
}

impl fmt::Display for ConnectForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConnectForm {
    type Err = String;
    /// `port` or `guid`; `openvmm` is taken for `guid` (the VMM that speaks it).
    fn from_str(s: &str) -> Result<ConnectForm, String> {
        match s {
            "port" => Ok(ConnectForm::Port),
            "guid" | "openvmm" => Ok(ConnectForm::Guid),
            _ => Err(format!(
                "{s:?} is not a connect form: expected port (Firecracker, Cloud Hypervisor, vhost-device-vsock) or guid (OpenVMM)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_read_and_show() {
        assert_eq!("port".parse(), Ok(ConnectForm::Port));
        assert_eq!("guid".parse(), Ok(ConnectForm::Guid));
        assert_eq!("openvmm".parse(), Ok(ConnectForm::Guid));
        assert!(
            "GUID"
                .parse::<ConnectForm>()
                .unwrap_err()
                .contains("OpenVMM")
        );
        assert_eq!(ConnectForm::Guid.to_string(), "guid");
        assert_eq!(ConnectForm::default(), ConnectForm::Port);
    }
}
