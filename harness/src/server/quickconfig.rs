//! Custom actions on the configuration resources: `Restore` on `winrm/config` (back to the
//! profile's defaults, as `winrm invoke Restore winrm/config @{}`), and `Analyze` /
//! `EnableRemoting` on `winrm/config/service`, the pair `winrm quickconfig` and
//! `Set-WSManQuickConfig` call: Analyze says whether remoting is set up and returns an
//! `EnableRemoting_INPUT` that the client sends back unchanged to make the change. (Element names
//! and the `succeeded` status follow PowerShell's Set-WSManQuickConfig, which reads them; the
//! content of EnableRemoting_INPUT is the service's own, ours carries the listener to create.)

use super::ServerCertificate;
use crate::config::{CONFIG_URI, Config, Listener, validate_listener};
use crate::xml::{Element, QName};

/// The namespace of `winrm/config/service` and of its method bodies.
pub const SERVICE_URI: &str = "http://schemas.microsoft.com/wbem/wsman/1/config/service";

/// A method the configuration resources answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `winrm/config` Restore.
    Restore,
    /// `winrm/config/service` Analyze.
    Analyze,
    /// `winrm/config/service` EnableRemoting.
    EnableRemoting,
}

impl Method {
    /// The method an Action names on a configuration section (`""` = `winrm/config`).
    pub fn of(section: &str, action: &str) -> Option<Self> {
        let lower = action.to_ascii_lowercase();
        let (base, name) = lower.rsplit_once('/')?;
        match (section.to_ascii_lowercase().as_str(), name) {
            ("", "restore") if base == CONFIG_URI => Some(Method::Restore),
            ("service", "analyze") if base == SERVICE_URI => Some(Method::Analyze),
            ("service", "enableremoting") if base == SERVICE_URI => Some(Method::EnableRemoting),
            _ => None,
        }
    }

    /// The response Action (`RESOURCE/METHODResponse`).
    pub fn response_action(self) -> String {
        match self {
            Method::Restore => format!("{CONFIG_URI}/RestoreResponse"),
            Method::Analyze => format!("{SERVICE_URI}/AnalyzeResponse"),
            Method::EnableRemoting => format!("{SERVICE_URI}/EnableRemotingResponse"),
        }
    }
}

fn element(ns: &str, local: &str) -> Element {
    let mut e = Element::new(QName::owned(ns, local));
    e.prefix = Some("cfg".into());
    e.ns_decls.push(("cfg".into(), ns.into()));
    e
}

fn field(ns: &str, local: &str, value: &str) -> Element {
    Element::with_text(QName::owned(ns, local), value)
}

fn child_text(e: Option<&Element>, local: &str) -> Option<String> {
    e?.elements()
        .find(|c| c.name.local.eq_ignore_ascii_case(local))
        .map(|c| c.text().trim().to_owned())
}

/// `HTTP` or `HTTPS` from a body's `Transport` (HTTP when absent); anything else is refused.
fn transport(input: Option<&Element>) -> Result<String, String> {
    let t = child_text(input, "Transport").unwrap_or_else(|| "http".into());
    match t.to_ascii_uppercase().as_str() {
        "HTTP" => Ok("HTTP".into()),
        "HTTPS" => Ok("HTTPS".into()),
        _ => Err(format!("Transport {t:?} is neither HTTP nor HTTPS")),
    }
}

/// The listener quickconfig makes for a transport: any address, the service's default port.
fn planned(model: &Config, transport: &str, cert: Option<&ServerCertificate>) -> Listener {
    let https = transport == "HTTPS";
    let mut l = Listener::new("*", transport, model.default_port(https));
    if let Some(c) = cert.filter(|_| https) {
        l.hostname = c.hostname.clone();
        l.certificate_thumbprint = c.thumbprint.clone();
    }
    l
}

fn no_certificate() -> String {
    "Cannot create an HTTPS listener: this service has no server certificate (start it with \
     --https-listen, optionally with --cert and --key)."
        .into()
}

/// Analyze: `Analyze_OUTPUT` with RemotingEnabled, Results and the EnableRemoting_INPUT to send
/// back. Refusals are `invalid-parameter` messages.
pub fn analyze(
    model: &Config,
    input: Option<&Element>,
    cert: Option<&ServerCertificate>,
) -> Result<Element, String> {
    let transport = transport(input)?;
    if transport == "HTTPS" && cert.is_none() {
        return Err(no_certificate());
    }
    let exists = model
        .listeners
        .iter()
        .any(|l| l.address == "*" && l.transport.eq_ignore_ascii_case(&transport) && l.enabled);
    let mut out = element(SERVICE_URI, "Analyze_OUTPUT");
    let plan = planned(model, &transport, cert);
    let results = if exists {
        format!("WinRM already accepts {transport} requests on every address; nothing to change.")
    } else {
        format!(
            "A WinRM listener will be created on {transport}://* (port {}) to accept WS-Man \
             requests to any IP on this machine.",
            plan.port
        )
    };
    out = out
        .child(field(SERVICE_URI, "RemotingEnabled", &exists.to_string()))
        .child(field(SERVICE_URI, "Results", &results));
    if !exists {
        let mut input = Element::new(QName::owned(SERVICE_URI, "EnableRemoting_INPUT"))
            .child(field(SERVICE_URI, "Transport", &transport));
        if transport == "HTTPS" {
            input = input
                .child(field(SERVICE_URI, "Hostname", &plan.hostname))
                .child(field(
                    SERVICE_URI,
                    "CertificateThumbprint",
                    &plan.certificate_thumbprint,
                ));
        }
        out = out.child(input);
    }
    Ok(out)
}

/// EnableRemoting: the changed model (a listener added unless one is there) and
/// `EnableRemoting_OUTPUT`.
pub fn enable(
    model: &Config,
    input: Option<&Element>,
    cert: Option<&ServerCertificate>,
) -> Result<(Config, Element), String> {
    let transport = transport(input)?;
    if transport == "HTTPS" && cert.is_none() {
        return Err(no_certificate());
    }
    let mut next = model.clone();
    let mut listener = planned(model, &transport, cert);
    if let Some(h) = child_text(input, "Hostname") {
        listener.hostname = h;
    }
    if let Some(t) = child_text(input, "CertificateThumbprint") {
        listener.certificate_thumbprint = t;
    }
    validate_listener(&listener).map_err(|e| e.to_string())?;
    let exists = next
        .listeners
        .iter()
        .any(|l| l.address == "*" && l.transport.eq_ignore_ascii_case(&transport));
    let results = if exists {
        format!("WinRM already accepts {transport} requests on every address; nothing changed.")
    } else {
        let scheme = transport.to_ascii_lowercase();
        next.listeners.push(listener);
        format!(
            "Created a WinRM listener on {scheme}://* to accept WS-Man requests to any IP on \
             this machine."
        )
    };
    let out = element(SERVICE_URI, "EnableRemoting_OUTPUT")
        .child(field(SERVICE_URI, "Status", "succeeded"))
        .child(field(SERVICE_URI, "Results", &results));
    Ok((next, out))
}

/// Restore: every setting back to the profile's default; listeners stay (they describe
/// sockets the service holds). Returns the new model and `Restore_OUTPUT`.
pub fn restore(model: &Config) -> (Config, Element) {
    let mut next = Config::new(model.profile);
    next.listeners = model.listeners.clone();
    (next, element(CONFIG_URI, "Restore_OUTPUT"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Profile;

    #[test]
    fn methods_are_named_by_section_and_action() {
        assert_eq!(
            Method::of("", &format!("{CONFIG_URI}/Restore")),
            Some(Method::Restore)
        );
        assert_eq!(
            Method::of("Service", &format!("{SERVICE_URI}/Analyze")),
            Some(Method::Analyze)
        );
        assert_eq!(
            Method::of("Client", &format!("{SERVICE_URI}/Analyze")),
            None
        );
        assert_eq!(
            Method::of("", "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"),
            None
        );
    }

    #[test]
    fn analyze_then_enable_creates_the_listener_once() {
        let model = Config::new(Profile::Seed);
        let out = analyze(&model, None, None).unwrap();
        assert_eq!(child_text(Some(&out), "RemotingEnabled").unwrap(), "false");
        let plan = out
            .elements()
            .find(|e| e.name.local == "EnableRemoting_INPUT")
            .cloned();
        let (next, done) = enable(&model, plan.as_ref(), None).unwrap();
        assert_eq!(child_text(Some(&done), "Status").unwrap(), "succeeded");
        assert_eq!(next.listeners.len(), 1);
        assert_eq!(next.listeners[0].port, 5985);
        let again = analyze(&next, None, None).unwrap();
        assert_eq!(child_text(Some(&again), "RemotingEnabled").unwrap(), "true");
        let https = field(SERVICE_URI, "Transport", "https");
        let input = Element::new(QName::owned(SERVICE_URI, "Analyze_INPUT")).child(https);
        assert!(
            analyze(&next, Some(&input), None)
                .unwrap_err()
                .contains("certificate")
        );
        let cert = ServerCertificate {
            thumbprint: "A".repeat(40),
            hostname: "localhost".into(),
        };
        let out = analyze(&next, Some(&input), Some(&cert)).unwrap();
        let plan = out
            .elements()
            .find(|e| e.name.local == "EnableRemoting_INPUT")
            .cloned();
        let (next, _) = enable(&next, plan.as_ref(), Some(&cert)).unwrap();
        let l = &next.listeners[1];
        assert_eq!((l.transport.as_str(), l.port), ("HTTPS", 5986));
        assert_eq!(l.certificate_thumbprint, "A".repeat(40));
    }

    #[test]
    fn restore_resets_settings_and_keeps_listeners() {
        let mut model = Config::new(Profile::Seed);
        model.set("Client/TrustedHosts", "a.example").unwrap();
        model.listeners.push(planned(&model, "HTTP", None));
        let (next, _) = restore(&model);
        assert_eq!(next.get("Client/TrustedHosts"), Some(""));
        assert_eq!(next.listeners, model.listeners);
    }
}
