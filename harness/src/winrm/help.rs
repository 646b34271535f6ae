//! Help topics of `wsman-harness winrm help [TOPIC]`, in our own words. `help config` is made
//! from the configuration model, so it lists exactly the settings the reference server has.

use crate::config::{Kind, settings};

/// The fields of a listener (the seed document's Listener section), with our explanation.
const LISTENER_FIELDS: &[(&str, &str, &str)] = &[
    (
        "Address",
        "selector",
        "Which addresses the listener serves: * for all, IP:<address> for one address, MAC:<address> for the addresses of one network adapter.",
    ),
    (
        "Transport",
        "selector, HTTP",
        "HTTP or HTTPS; together with Address it names the listener.",
    ),
    (
        "Port",
        "5985 (HTTP), 5986 (HTTPS)",
        "TCP port; any port may be used (WinRM 2.0 and later default to 5985 and 5986).",
    ),
    (
        "Hostname",
        "(empty)",
        "Name the service answers to; for HTTPS it must match the certificate's subject.",
    ),
    ("Enabled", "true", "Whether the listener accepts requests."),
    (
        "URLPrefix",
        "wsman",
        "First path segment of the endpoint URL (http://host:5985/wsman); letters, digits, _ and / inside only.",
    ),
    (
        "CertificateThumbprint",
        "(empty)",
        "SHA-1 thumbprint (40 hex digits) of the server certificate of an HTTPS listener.",
    ),
    (
        "ListeningOn",
        "computed",
        "The addresses the listener actually binds, after IPv4Filter and IPv6Filter; read-only.",
    ),
];

/// The text of a topic, or `None` for an unknown one.
pub fn topic(name: &str) -> Option<String> {
    Some(match name.to_ascii_lowercase().as_str() {
        "" => usage(),
        "config" => config(),
        "aliases" | "uris" => aliases(),
        "switches" => switches(),
        "input" => input(),
        "get" | "g" | "set" | "s" | "enumerate" | "e" | "create" | "c" | "delete" | "d"
        | "identify" | "id" | "invoke" | "i" | "quickconfig" | "qc" => usage(),
        _ => return None,
    })
}

/// The topic names, for errors.
pub const TOPICS: &str = "config, aliases, switches, input";

fn usage() -> String {
    "\
Usage: wsman-harness winrm VERB [RESOURCE_URI] [-SWITCH:VALUE ...] [@{KEY=\"VALUE\";...}]

Verbs (the Windows `winrm` tool's, for any WS-Management service):
  get RESOURCE_URI                 read a resource (WS-Transfer Get)
  set RESOURCE_URI @{K=\"V\"}        change properties: Get, change, Put; prints the result
  enumerate (e) RESOURCE_URI       list a collection (Enumerate, then Pull to the end)
  create (c) RESOURCE_URI @{...}   make a resource, e.g. a listener
  delete (d) RESOURCE_URI          remove a resource
  identify (id)                    ask the service who it is (-a:none: without credentials)
  invoke (i) ACTION RESOURCE_URI @{...}
                                   run a method, e.g. `invoke Restore winrm/config @{}`
  quickconfig (qc)                 set up a listener for remote management
                                   (-transport:https for HTTPS, -force to skip the question)
  help [config|aliases|switches|input]

Examples:
  wsman-harness winrm get winrm/config -r:http://127.0.0.1:5985/wsman -u:admin
  wsman-harness winrm set winrm/config/client '@{TrustedHosts=\"[0:0:0:0:0:0:0:0]\"}' -r:...
  wsman-harness winrm e winrm/config/listener -r:... --json

Exit codes: 0 done, 1 the service refused or faulted, 2 wrong command line or value,
3 target unreachable or credentials refused.
"
    .to_owned()
}

fn aliases() -> String {
    let mut s = String::from(
        "Resource URIs are given in full (http://schemas.../Resource) or start with an alias:\n\n",
    );
    for (a, uri) in super::resource::ALIASES {
        s.push_str(&format!("  {a:<10} = {uri}\n"));
    }
    s.push_str(
        "\nSelectors follow a ?, joined with +: winrm/config/listener?Address=*+Transport=HTTP\n\
         Configuration resources: winrm/config, winrm/config/client, winrm/config/client/auth,\n\
         winrm/config/client/defaultports, winrm/config/service, winrm/config/service/auth,\n\
         winrm/config/service/defaultports, winrm/config/winrs, winrm/config/listener.\n",
    );
    s
}

fn switches() -> String {
    "\
Switches take their value after a colon and ignore letter case.

  -r:URL | -remote:URL        target: http[s]://host[:port][/prefix], or host[:port]
                              (default http://localhost:5985/wsman; https and 5986 with -usessl)
  -u:USER | -username:USER    account, user or DOMAIN\\user
  -p:PASSWORD | -password:    password; without it $WSMAN_PASSWORD is used (safer: the
                              command line is visible to other local users)
  -a:basic|negotiate|kerberos|none
                              authentication (default negotiate; none only for identify)
  -unencrypted                send bodies plain over HTTP (needed for Basic over HTTP)
  -usessl                     use HTTPS when -r gives no scheme
  -skipCAcheck                accept a certificate no trusted authority signed
  -skipCNcheck                accept a certificate issued for another host name
  -cacert:FILE                PEM file of trusted certificates (there is no system store here)
  -format:text|#pretty|xml    output layout (default text)
  --json                      output as JSON: {\"verb\", \"resource\", \"items\": [...]}
  -timeout:MS                 OperationTimeout and time limit per exchange, milliseconds
  -file:FILE                  XML input for set, create and invoke instead of @{...}
  -transport:http|https       quickconfig: which listener to create
  -force | -quiet             quickconfig: do not ask before changing
"
    .to_owned()
}

fn input() -> String {
    "\
Values are given as @{KEY=\"VALUE\";KEY2=\"VALUE2\"}. Blanks around keys, = and ; are allowed;
a quoted value may hold ; } and = ; an unquoted one ends at ; or }. Keys ignore letter case and
may appear once. In a Unix shell, put the whole argument in single quotes:

  wsman-harness winrm set winrm/config/client '@{TrustedHosts=\"[0:0:0:0:0:0:0:0],*.fabrikam.com\"}'

On configuration resources every value is checked against the setting's rules before anything
is sent; read-only settings are refused. -file:FILE gives the whole XML body instead.
"
    .to_owned()
}

fn config() -> String {
    let mut s = String::from(
        "WinRM configuration (winrm/config). Defaults are the seed document's; `windows` shows\n\
         what a current Windows reports where it differs.\n",
    );
    let mut section = None;
    for st in settings() {
        let (dir, name) = match st.path.rsplit_once('/') {
            Some((d, n)) => (format!("winrm/config/{}", d.to_ascii_lowercase()), n),
            None => ("winrm/config".to_owned(), st.path.as_str()),
        };
        if section.as_deref() != Some(dir.as_str()) {
            s.push_str(&format!("\n{dir}\n"));
            section = Some(dir);
        }
        let default = if st.seed.is_empty() {
            "(empty)".to_owned()
        } else {
            st.seed.clone()
        };
        let unit = if st.unit.is_empty() || matches!(st.kind, Kind::Bool) {
            String::new()
        } else {
            format!(" {}", st.unit)
        };
        s.push_str(&format!("  {name} = {default}{unit}"));
        if st.windows != st.seed {
            s.push_str(&format!("; windows: {}", st.windows));
        }
        if st.read_only || st.deprecated {
            s.push_str(if st.deprecated {
                " [deprecated, read-only]"
            } else {
                " [read-only]"
            });
        }
        s.push('\n');
        s.push_str(&format!("      {}\n", st.meaning));
        if let Some(w) = &st.winrm2 {
            s.push_str(&format!("      WinRM 2.0: {w}\n"));
        }
        if matches!(st.kind, Kind::Number)
            && let (Some(min), Some(max)) = (st.min, st.max)
        {
            s.push_str(&format!("      Range: {min}..={max}\n"));
        }
        if matches!(st.kind, Kind::Enum) {
            s.push_str(&format!("      One of: {}\n", st.values.join(", ")));
        }
    }
    s.push_str("\nwinrm/config/listener?Address=ADDRESS+Transport=HTTP|HTTPS\n");
    for (name, default, meaning) in LISTENER_FIELDS {
        s.push_str(&format!("  {name} = {default}\n      {meaning}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lists_every_setting_with_its_default() {
        let text = topic("config").unwrap();
        for st in settings() {
            let name = st.path.rsplit('/').next().unwrap();
            assert!(text.contains(&format!("  {name} = ")), "{}", st.path);
            assert!(text.contains(&st.meaning), "{}", st.path);
        }
        assert!(text.contains("  MaxEnvelopeSizekb = 150 KB; windows: 500"));
        assert!(text.contains("WinRM 2.0: 25"), "MaxConnections' 2.0 value");
        for (f, ..) in LISTENER_FIELDS {
            assert!(text.contains(&format!("  {f} = ")), "{f}");
        }
        assert!(topic("nonsense").is_none());
    }
}
