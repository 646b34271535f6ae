//! `'static` strings for the names WS-Man messages repeat in every exchange.
//!
//! The reader keeps names as `Cow<'static, str>`: a name found here costs no allocation, which
//! matters because a request's tree is built and dropped per exchange. A name missing from these
//! lists is only slower, never wrong.

use std::borrow::Cow;

/// A local name: borrowed when it is part of the WS-Man, WinRM shell, enumeration, fault,
/// identify or `winrm/config` vocabulary.
pub fn local(name: &str) -> Cow<'static, str> {
    match known_local(name) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(name.to_owned()),
    }
}

/// A prefix: borrowed for the prefixes Windows, pywinrm, openwsman and OMI write.
pub fn prefix(p: &str) -> Cow<'static, str> {
    let known = match p {
        "s" => "s",
        "a" => "a",
        "w" => "w",
        "p" => "p",
        "n" => "n",
        "x" => "x",
        "b" => "b",
        "e" => "e",
        "f" => "f",
        "t" => "t",
        "m" => "m",
        "rsp" => "rsp",
        "cfg" => "cfg",
        "env" => "env",
        "xml" => "xml",
        "xsi" => "xsi",
        "xsd" => "xsd",
        "cim" => "cim",
        "wsa" => "wsa",
        "wsen" => "wsen",
        "wsman" => "wsman",
        "wsmid" => "wsmid",
        "wsmv" => "wsmv",
        "wsmb" => "wsmb",
        "wxf" => "wxf",
        "soap" => "soap",
        "SOAP-ENV" => "SOAP-ENV",
        _ => return Cow::Owned(p.to_owned()),
    };
    Cow::Borrowed(known)
}

fn known_local(name: &str) -> Option<&'static str> {
    Some(match name {
        // SOAP
        "Envelope" => "Envelope",
        "Header" => "Header",
        "Body" => "Body",
        "Fault" => "Fault",
        "Code" => "Code",
        "Value" => "Value",
        "Subcode" => "Subcode",
        "Reason" => "Reason",
        "Text" => "Text",
        "Detail" => "Detail",
        "Role" => "Role",
        "Node" => "Node",
        "mustUnderstand" => "mustUnderstand",
        "lang" => "lang",
        "type" => "type",
        "nil" => "nil",
        // WS-Addressing and WS-Man headers
        "To" => "To",
        "Action" => "Action",
        "MessageID" => "MessageID",
        "RelatesTo" => "RelatesTo",
        "ReplyTo" => "ReplyTo",
        "FaultTo" => "FaultTo",
        "Address" => "Address",
        "ReferenceParameters" => "ReferenceParameters",
        "ResourceURI" => "ResourceURI",
        "SelectorSet" => "SelectorSet",
        "Selector" => "Selector",
        "OptionSet" => "OptionSet",
        "Option" => "Option",
        "Name" => "Name",
        "MustComply" => "MustComply",
        "MaxEnvelopeSize" => "MaxEnvelopeSize",
        "OperationTimeout" => "OperationTimeout",
        "Locale" => "Locale",
        "DataLocale" => "DataLocale",
        "FragmentTransfer" => "FragmentTransfer",
        "SessionId" => "SessionId",
        "OperationID" => "OperationID",
        "SequenceId" => "SequenceId",
        "ActivityId" => "ActivityId",
        "CompressionType" => "CompressionType",
        "ResourceCreated" => "ResourceCreated",
        "EndpointReference" => "EndpointReference",
        // Identify
        "Identify" => "Identify",
        "IdentifyResponse" => "IdentifyResponse",
        "ProtocolVersion" => "ProtocolVersion",
        "ProductVendor" => "ProductVendor",
        "ProductVersion" => "ProductVersion",
        "SecurityProfiles" => "SecurityProfiles",
        "SecurityProfileName" => "SecurityProfileName",
        // Enumeration
        "Enumerate" => "Enumerate",
        "EnumerateResponse" => "EnumerateResponse",
        "Pull" => "Pull",
        "PullResponse" => "PullResponse",
        "Release" => "Release",
        "Items" => "Items",
        "Item" => "Item",
        "EnumerationContext" => "EnumerationContext",
        "EndOfSequence" => "EndOfSequence",
        "MaxElements" => "MaxElements",
        "MaxTime" => "MaxTime",
        "MaxCharacters" => "MaxCharacters",
        "OptimizeEnumeration" => "OptimizeEnumeration",
        "EnumerationMode" => "EnumerationMode",
        "Expires" => "Expires",
        "Filter" => "Filter",
        "Dialect" => "Dialect",
        // Shell
        "Shell" => "Shell",
        "ShellId" => "ShellId",
        "CommandLine" => "CommandLine",
        "Command" => "Command",
        "CommandId" => "CommandId",
        "CommandResponse" => "CommandResponse",
        "Arguments" => "Arguments",
        "Send" => "Send",
        "SendResponse" => "SendResponse",
        "Receive" => "Receive",
        "ReceiveResponse" => "ReceiveResponse",
        "DesiredStream" => "DesiredStream",
        "Stream" => "Stream",
        "CommandState" => "CommandState",
        "State" => "State",
        "ExitCode" => "ExitCode",
        "Signal" => "Signal",
        "SignalResponse" => "SignalResponse",
        "InputStreams" => "InputStreams",
        "OutputStreams" => "OutputStreams",
        "WorkingDirectory" => "WorkingDirectory",
        "Environment" => "Environment",
        "Variable" => "Variable",
        "Lifetime" => "Lifetime",
        "IdleTimeOut" => "IdleTimeOut",
        "ShellRunTime" => "ShellRunTime",
        "ShellInactivity" => "ShellInactivity",
        "Owner" => "Owner",
        "ClientIP" => "ClientIP",
        "ProcessId" => "ProcessId",
        "End" => "End",
        "Unit" => "Unit",
        // Faults
        "WSManFault" => "WSManFault",
        "Message" => "Message",
        "Machine" => "Machine",
        "FaultDetail" => "FaultDetail",
        "ProviderFault" => "ProviderFault",
        // winrm/config
        "Config" => "Config",
        "Listener" => "Listener",
        "Client" => "Client",
        "Service" => "Service",
        "Winrs" => "Winrs",
        "Auth" => "Auth",
        "DefaultPorts" => "DefaultPorts",
        "HTTP" => "HTTP",
        "HTTPS" => "HTTPS",
        "Transport" => "Transport",
        "Port" => "Port",
        "Hostname" => "Hostname",
        "Enabled" => "Enabled",
        "URLPrefix" => "URLPrefix",
        "CertificateThumbprint" => "CertificateThumbprint",
        "ListeningOn" => "ListeningOn",
        "Source" => "Source",
        "MaxEnvelopeSizekb" => "MaxEnvelopeSizekb",
        "MaxTimeoutms" => "MaxTimeoutms",
        "MaxBatchItems" => "MaxBatchItems",
        "MaxProviderRequests" => "MaxProviderRequests",
        "NetworkDelayms" => "NetworkDelayms",
        "AllowUnencrypted" => "AllowUnencrypted",
        "Basic" => "Basic",
        "Digest" => "Digest",
        "Kerberos" => "Kerberos",
        "Negotiate" => "Negotiate",
        "Certificate" => "Certificate",
        "CredSSP" => "CredSSP",
        "CbtHardeningLevel" => "CbtHardeningLevel",
        "TrustedHosts" => "TrustedHosts",
        "RootSDDL" => "RootSDDL",
        "MaxConcurrentOperations" => "MaxConcurrentOperations",
        "MaxConcurrentOperationsPerUser" => "MaxConcurrentOperationsPerUser",
        "EnumerationTimeoutms" => "EnumerationTimeoutms",
        "MaxConnections" => "MaxConnections",
        "MaxPacketRetrievalTimeSeconds" => "MaxPacketRetrievalTimeSeconds",
        "IPv4Filter" => "IPv4Filter",
        "IPv6Filter" => "IPv6Filter",
        "EnableCompatibilityHttpListener" => "EnableCompatibilityHttpListener",
        "EnableCompatibilityHttpsListener" => "EnableCompatibilityHttpsListener",
        "AllowRemoteShellAccess" => "AllowRemoteShellAccess",
        "IdleTimeout" => "IdleTimeout",
        "MaxConcurrentUsers" => "MaxConcurrentUsers",
        "MaxShellRunTime" => "MaxShellRunTime",
        "MaxProcessesPerShell" => "MaxProcessesPerShell",
        "MaxMemoryPerShellMB" => "MaxMemoryPerShellMB",
        "MaxShellsPerUser" => "MaxShellsPerUser",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_are_borrowed_and_others_kept_exactly() {
        assert!(matches!(local("MessageID"), Cow::Borrowed("MessageID")));
        assert!(matches!(local("MaxShellsPerUser"), Cow::Borrowed(_)));
        assert!(matches!(prefix("rsp"), Cow::Borrowed("rsp")));
        // Case matters in XML names: a near miss is kept as written.
        assert!(matches!(local("messageid"), Cow::Owned(ref s) if s == "messageid"));
        assert!(matches!(prefix("S"), Cow::Owned(ref s) if s == "S"));
        assert_eq!(local(""), "");
    }
}
