//! Namespace URIs, action URIs and resource URIs of WS-Management as WinRM speaks it.
//!
//! Sources: MS-WSMV 2.2.1 (namespaces), 3.1.4.x (actions); DSP0226 via MS-WSMV. The identify
//! namespace is spelled `identity` on the wire although MS-WSMV 2.2.1 writes `identify`; both are
//! listed so that the harness can flag the spelling rather than fail to read it.

use std::borrow::Cow;

/// SOAP 1.2 envelope (WinRM speaks no SOAP 1.1).
pub const SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
/// SOAP 1.1 envelope, recognised only to answer `s:VersionMismatch`.
pub const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// WS-Addressing, the 2004/08 member submission (not W3C 2005/08).
pub const ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// DMTF WS-Management.
pub const WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
/// Microsoft WS-Management extensions (SessionId, OperationID, DataLocale, ...).
pub const WSMAN_MS: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd";
/// Windows `WSManFault` detail element.
pub const WSMAN_FAULT: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault";
/// WS-Transfer.
pub const TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
/// WS-Enumeration.
pub const ENUMERATION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
/// WS-Eventing.
pub const EVENTING: &str = "http://schemas.xmlsoap.org/ws/2004/08/eventing";
/// Windows remote shell.
pub const SHELL: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell";
/// WinRM configuration.
pub const CONFIG: &str = "http://schemas.microsoft.com/wbem/wsman/1/config";
/// Identify, as every implementation writes it on the wire.
pub const IDENTITY: &str = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
/// Identify, as MS-WSMV 2.2.1 spells it (a typo no server emits).
pub const IDENTIFY_SPEC_TYPO: &str =
    "http://schemas.dmtf.org/wbem/wsman/identify/1/wsmanidentity.xsd";
/// CIM binding.
pub const CIM_BINDING: &str = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd";
/// WS-CIM common.
pub const CIM_COMMON: &str = "http://schemas.dmtf.org/wbem/wscim/1/common";
/// XML Schema instance.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The `xml:` prefix's fixed namespace.
pub const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// The anonymous reply address that Windows requires in ReplyTo and uses in response `To`.
pub const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
/// Prefix of the `wsman:FaultDetail` URIs.
pub const FAULT_DETAIL: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/";
/// The cmd shell resource URI.
pub const CMD_SHELL_URI: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";

/// Action URIs (MS-WSMV 3.1.4).
pub mod action {
    /// WS-Transfer Get.
    pub const GET: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
    /// WS-Transfer GetResponse.
    pub const GET_RESPONSE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse";
    /// WS-Transfer Put.
    pub const PUT: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put";
    /// WS-Transfer PutResponse.
    pub const PUT_RESPONSE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/PutResponse";
    /// WS-Transfer Create.
    pub const CREATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create";
    /// WS-Transfer CreateResponse.
    pub const CREATE_RESPONSE: &str =
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse";
    /// WS-Transfer Delete.
    pub const DELETE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete";
    /// WS-Transfer DeleteResponse.
    pub const DELETE_RESPONSE: &str =
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse";
    /// WS-Enumeration Enumerate.
    pub const ENUMERATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate";
    /// WS-Enumeration EnumerateResponse.
    pub const ENUMERATE_RESPONSE: &str =
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse";
    /// WS-Enumeration Pull.
    pub const PULL: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull";
    /// WS-Enumeration PullResponse.
    pub const PULL_RESPONSE: &str =
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse";
    /// WS-Enumeration Release.
    pub const RELEASE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release";
    /// WS-Enumeration ReleaseResponse.
    pub const RELEASE_RESPONSE: &str =
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse";
    /// Shell Command.
    pub const COMMAND: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command";
    /// Shell CommandResponse.
    pub const COMMAND_RESPONSE: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse";
    /// Shell Send.
    pub const SEND: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send";
    /// Shell SendResponse.
    pub const SEND_RESPONSE: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse";
    /// Shell Receive.
    pub const RECEIVE: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive";
    /// Shell ReceiveResponse.
    pub const RECEIVE_RESPONSE: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse";
    /// Shell Signal.
    pub const SIGNAL: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal";
    /// Shell SignalResponse.
    pub const SIGNAL_RESPONSE: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse";
    /// Fault action for wsman:* subcodes.
    pub const FAULT_WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";
    /// Fault action for wsa:* subcodes and s:MustUnderstand.
    pub const FAULT_ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault";
    /// Fault action for wsen:* subcodes.
    pub const FAULT_ENUMERATION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault";
    /// Fault action for wxf:* subcodes.
    pub const FAULT_TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/fault";
    /// Fault action for wse:* subcodes.
    pub const FAULT_EVENTING: &str = "http://schemas.xmlsoap.org/ws/2004/08/eventing/fault";
}

/// Signal codes (MS-WSMV 2.2.5.6); servers compare them case-insensitively.
pub mod signal {
    /// Terminate the command.
    pub const TERMINATE: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate";
    /// Ctrl+C.
    pub const CTRL_C: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c";
    /// Ctrl+Break.
    pub const CTRL_BREAK: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_break";
}

/// CommandState URIs (MS-WSMV 2.2.5.4).
pub mod command_state {
    /// The command finished; `rsp:ExitCode` accompanies it.
    pub const DONE: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done";
    /// The command waits for input.
    pub const PENDING: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Pending";
    /// The command runs.
    pub const RUNNING: &str =
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running";
}

/// The prefixes Windows writes, in the order it declares them on a response envelope.
pub const WINDOWS_PREFIXES: &[(&str, &str)] = &[
    ("s", SOAP),
    ("a", ADDRESSING),
    ("x", TRANSFER),
    ("e", EVENTING),
    ("n", ENUMERATION),
    ("w", WSMAN),
    ("rsp", SHELL),
    ("p", WSMAN_MS),
];

/// Prefixes for namespaces Windows declares where they are first used.
const OTHER_PREFIXES: &[(&str, &str)] = &[
    ("f", WSMAN_FAULT),
    ("cfg", CONFIG),
    ("wsmid", IDENTITY),
    ("b", CIM_BINDING),
    ("cim", CIM_COMMON),
    ("xsi", XSI),
    ("xml", XML),
];

/// The prefix Windows uses for a namespace, if it has a conventional one.
pub fn windows_prefix(uri: &str) -> Option<&'static str> {
    WINDOWS_PREFIXES
        .iter()
        .chain(OTHER_PREFIXES)
        .find(|(_, u)| *u == uri)
        .map(|(p, _)| *p)
}

/// Returns a `'static` string for the well-known namespaces, avoiding an allocation per element.
pub fn intern(uri: &str) -> Cow<'static, str> {
    match known(uri) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(uri.to_owned()),
    }
}

/// The `'static` copy of a well-known namespace URI.
pub fn known(uri: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        SOAP,
        ADDRESSING,
        WSMAN,
        WSMAN_MS,
        WSMAN_FAULT,
        TRANSFER,
        ENUMERATION,
        EVENTING,
        SHELL,
        CONFIG,
        IDENTITY,
        IDENTIFY_SPEC_TYPO,
        CIM_BINDING,
        CIM_COMMON,
        XSI,
        XML,
        SOAP11,
        "",
    ];
    KNOWN.iter().find(|k| **k == uri).copied()
}

/// True for either spelling of the identify namespace.
pub fn is_identify_ns(uri: &str) -> bool {
    uri == IDENTITY || uri == IDENTIFY_SPEC_TYPO
}
