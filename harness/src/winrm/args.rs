//! The Windows tool's command line: `VERB [RESOURCE] [ACTION] [-switch[:value]]... [@{...}]`.
//!
//! Switches start with `-` (or `--` for the harness's own `--json`), take their value after a
//! colon (`-r:http://host:5985/wsman`), and are matched without letter case by their long name or
//! short alias. Windows' `/switch` form is not read: on Unix it cannot be told from a path.

use std::fmt;
use std::path::PathBuf;

use super::hash::{self, Hash};
use super::resource::ResourceRef;

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// WS-Transfer Get.
    Get,
    /// Get, change the named properties, Put.
    Set,
    /// WS-Enumeration Enumerate and Pull until the end.
    Enumerate,
    /// WS-Transfer Create.
    Create,
    /// WS-Transfer Delete.
    Delete,
    /// WS-Management Identify.
    Identify,
    /// A custom action (`RESOURCE/ACTION`).
    Invoke,
    /// Set up remote management (a listener) through the service's Analyze/EnableRemoting.
    QuickConfig,
    /// Help topics.
    Help,
}

impl Verb {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "get" | "g" => Verb::Get,
            "set" | "s" => Verb::Set,
            "enumerate" | "e" => Verb::Enumerate,
            "create" | "c" => Verb::Create,
            "delete" | "d" => Verb::Delete,
            "identify" | "id" => Verb::Identify,
            "invoke" | "i" => Verb::Invoke,
            "quickconfig" | "qc" => Verb::QuickConfig,
            "help" | "-?" | "-h" | "--help" => Verb::Help,
            _ => return None,
        })
    }

    /// The verb's name, for output.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Set => "set",
            Verb::Enumerate => "enumerate",
            Verb::Create => "create",
            Verb::Delete => "delete",
            Verb::Identify => "identify",
            Verb::Invoke => "invoke",
            Verb::QuickConfig => "quickconfig",
            Verb::Help => "help",
        }
    }
}

/// `-a:` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No credentials (`identify` only, with `WSMANIDENTIFY: unauthenticated`).
    None,
    /// Basic.
    Basic,
    /// Negotiate (NTLM inside SPNEGO's HTTP scheme).
    Negotiate,
    /// Kerberos.
    Kerberos,
}

/// `-format:` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// The Windows tool's indented `Key = Value` layout.
    #[default]
    Text,
    /// Indented XML of the body.
    Pretty,
    /// The body's XML as received.
    Xml,
}

/// A parsed command line.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    /// The verb (`None` only when nothing was given).
    pub verb: Option<Verb>,
    /// `invoke`'s action name.
    pub action: Option<String>,
    /// The resource.
    pub resource: Option<ResourceRef>,
    /// The `@{...}` argument and its text (for carets in later errors).
    pub hash: Option<(Hash, String)>,
    /// Positional words of `help` (topics).
    pub topics: Vec<String>,
    /// `-r:`.
    pub remote: Option<String>,
    /// `-u:`.
    pub user: Option<String>,
    /// `-p:` (never shown by `Debug`).
    pub password: Option<crate::client::Secret>,
    /// `-a:`.
    pub auth: Option<Auth>,
    /// `-unencrypted`.
    pub unencrypted: bool,
    /// `-usessl`.
    pub use_ssl: bool,
    /// `-skipCAcheck`.
    pub skip_ca: bool,
    /// `-skipCNcheck`.
    pub skip_cn: bool,
    /// `-cacert:FILE` (the harness's addition: there is no machine certificate store).
    pub ca: Option<PathBuf>,
    /// `-format:`.
    pub format: Format,
    /// `--json`.
    pub json: bool,
    /// `-timeout:` in milliseconds.
    pub timeout_ms: Option<u64>,
    /// `-file:`.
    pub file: Option<PathBuf>,
    /// `-transport:` of quickconfig.
    pub transport_https: bool,
    /// `-force` / `-quiet`: quickconfig does not ask.
    pub force: bool,
}

/// Why the command line was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgError {
    /// Index of the argument (0 = the verb).
    pub arg: usize,
    /// The argument's text.
    pub text: String,
    /// Character index inside it, when the problem is there.
    pub at: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "argument {} {:?}: {}",
            self.arg + 1,
            self.text,
            self.reason
        )?;
        if let Some(at) = self.at {
            write!(f, "\n{}", hash::caret(&self.text, at))?;
        }
        Ok(())
    }
}

impl std::error::Error for ArgError {}

/// Switches the Windows tool has that this command does not implement; named so that the
/// error says "not supported" rather than "unknown".
const UNSUPPORTED: &[&str] = &[
    "dialect",
    "filter",
    "fragment",
    "options",
    "returntype",
    "shallow",
    "basepropertiesonly",
    "associations",
    "encoding",
    "spnport",
    "defaultcreds",
    "skiprevocationcheck",
    "certificate",
    "proxyaccess",
    "proxyauth",
    "proxyusername",
    "proxypassword",
    "locale",
    "datalocale",
];

/// Parses the arguments after `winrm`.
pub fn parse(args: &[String]) -> Result<Invocation, ArgError> {
    let mut inv = Invocation::default();
    let mut positional: Vec<(usize, &str)> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let err = |at: Option<usize>, reason: String| ArgError {
            arg: i,
            text: a.clone(),
            at,
            reason,
        };
        if i == 0 {
            inv.verb = Some(Verb::parse(a).ok_or_else(|| {
                err(
                    None,
                    "unknown verb; expected get, set, enumerate (e), create, delete, identify \
                     (id), invoke, quickconfig (qc) or help"
                        .into(),
                )
            })?);
            continue;
        }
        if hash::looks_like_hash(a) {
            if inv.hash.is_some() {
                return Err(err(None, "a second @{...} argument".into()));
            }
            let h = hash::parse(a).map_err(|e| {
                err(
                    Some(e.at),
                    format!("expected {}, found {}", e.expected, e.found),
                )
            })?;
            inv.hash = Some((h, a.clone()));
            continue;
        }
        let Some(switch) = a.strip_prefix('-').filter(|s| !s.is_empty()) else {
            positional.push((i, a));
            continue;
        };
        let switch = switch.strip_prefix('-').unwrap_or(switch);
        let (name, value) = match switch.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (switch, None),
        };
        let lower = name.to_ascii_lowercase();
        let value_at = a.chars().count() - value.map_or(0, |v| v.chars().count());
        let need = |v: Option<&str>| -> Result<String, ArgError> {
            match v {
                Some(v) if !v.is_empty() => Ok(v.to_owned()),
                _ => Err(err(
                    None,
                    format!("switch -{name} needs a value: -{name}:VALUE"),
                )),
            }
        };
        let flag = |v: Option<&str>| -> Result<bool, ArgError> {
            match v.map(str::to_ascii_lowercase).as_deref() {
                None | Some("true") => Ok(true),
                Some("false") => Ok(false),
                Some(_) => Err(err(
                    Some(value_at),
                    format!("switch -{name} takes no value (or true/false)"),
                )),
            }
        };
        match lower.as_str() {
            "remote" | "r" => inv.remote = Some(need(value)?),
            "username" | "u" => inv.user = Some(need(value)?),
            "password" | "p" => inv.password = Some(crate::client::Secret(need(value)?)),
            "authentication" | "auth" | "a" => {
                let v = need(value)?;
                inv.auth = Some(match v.to_ascii_lowercase().as_str() {
                    "none" => Auth::None,
                    "basic" => Auth::Basic,
                    "negotiate" | "ntlm" => Auth::Negotiate,
                    "kerberos" => Auth::Kerberos,
                    "digest" | "certificate" | "credssp" => {
                        return Err(err(
                            Some(value_at),
                            format!("{v} authentication is not supported; use basic or negotiate"),
                        ));
                    }
                    _ => {
                        return Err(err(
                            Some(value_at),
                            "expected none, basic, negotiate or kerberos".into(),
                        ));
                    }
                });
            }
            "unencrypted" => inv.unencrypted = flag(value)?,
            "usessl" => inv.use_ssl = flag(value)?,
            "skipcacheck" => inv.skip_ca = flag(value)?,
            "skipcncheck" => inv.skip_cn = flag(value)?,
            "cacert" => inv.ca = Some(PathBuf::from(need(value)?)),
            "format" | "f" => {
                let v = need(value)?;
                inv.format = match v.to_ascii_lowercase().as_str() {
                    "text" => Format::Text,
                    "#pretty" | "pretty" => Format::Pretty,
                    "xml" => Format::Xml,
                    _ => {
                        return Err(err(Some(value_at), "expected text, #pretty or xml".into()));
                    }
                };
            }
            "json" => inv.json = flag(value)?,
            "timeout" => {
                let v = need(value)?;
                let ms = v.parse::<u64>().ok().filter(|ms| *ms > 0).ok_or_else(|| {
                    err(
                        Some(value_at),
                        "expected a whole number of milliseconds above 0".into(),
                    )
                })?;
                inv.timeout_ms = Some(ms);
            }
            "file" => inv.file = Some(PathBuf::from(need(value)?)),
            "transport" => {
                let v = need(value)?;
                inv.transport_https = match v.to_ascii_lowercase().as_str() {
                    "http" => false,
                    "https" => true,
                    _ => return Err(err(Some(value_at), "expected http or https".into())),
                };
            }
            "force" | "quiet" | "q" => inv.force = flag(value)?,
            "?" | "h" | "help" => {
                inv.topics
                    .insert(0, inv.verb.map_or("", Verb::name).to_owned());
                inv.verb = Some(Verb::Help);
            }
            other if UNSUPPORTED.contains(&other) => {
                return Err(err(
                    None,
                    format!("switch -{name} is not supported by this winrm command"),
                ));
            }
            _ => {
                return Err(err(
                    None,
                    format!(
                        "unknown switch -{name}; `wsman-harness winrm help switches` lists them"
                    ),
                ));
            }
        }
    }
    let verb = inv.verb;
    match verb {
        None | Some(Verb::Help) => {
            inv.topics
                .extend(positional.iter().map(|(_, p)| (*p).to_owned()));
            inv.topics.retain(|t| !t.is_empty());
        }
        Some(Verb::Identify | Verb::QuickConfig) => {
            if let Some((i, p)) = positional.first() {
                return Err(ArgError {
                    arg: *i,
                    text: (*p).to_owned(),
                    at: None,
                    reason: format!("{} takes no resource", verb.map_or("", Verb::name)),
                });
            }
        }
        Some(v) => {
            let mut words = positional.into_iter();
            if v == Verb::Invoke {
                let Some((_, action)) = words.next() else {
                    return Err(missing(args, "invoke needs an ACTION and a RESOURCE_URI"));
                };
                inv.action = Some(action.to_owned());
            }
            let Some((i, r)) = words.next() else {
                return Err(missing(
                    args,
                    &format!("{} needs a RESOURCE_URI (e.g. winrm/config)", v.name()),
                ));
            };
            inv.resource = Some(ResourceRef::parse(r).map_err(|e| ArgError {
                arg: i,
                text: r.to_owned(),
                at: Some(e.at),
                reason: e.reason,
            })?);
            if let Some((i, extra)) = words.next() {
                return Err(ArgError {
                    arg: i,
                    text: extra.to_owned(),
                    at: None,
                    reason: "unexpected argument (values go in @{Key=\"Value\"})".into(),
                });
            }
            let takes_input = matches!(v, Verb::Set | Verb::Create | Verb::Invoke);
            if !takes_input && (inv.hash.is_some() || inv.file.is_some()) {
                return Err(missing(
                    args,
                    &format!("{} takes no @{{...}} or -file", v.name()),
                ));
            }
            if v == Verb::Set && inv.hash.is_none() && inv.file.is_none() {
                return Err(missing(args, "set needs @{Key=\"Value\"} or -file:FILE"));
            }
            if inv.hash.is_some() && inv.file.is_some() {
                return Err(missing(args, "give either @{...} or -file, not both"));
            }
        }
    }
    Ok(inv)
}

fn missing(args: &[String], reason: &str) -> ArgError {
    ArgError {
        arg: 0,
        text: args.first().cloned().unwrap_or_default(),
        at: None,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &[&str]) -> Result<Invocation, ArgError> {
        parse(&line.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn windows_syntax_reads() {
        let inv = p(&[
            "set",
            "winrm/config/client",
            "@{TrustedHosts=\"[::1]\"}",
            "-r:http://127.0.0.1:5985/wsman",
            "-u:admin",
            "-a:Basic",
            "-unencrypted",
            "-format:#pretty",
        ])
        .unwrap();
        assert_eq!(inv.verb, Some(Verb::Set));
        assert_eq!(
            inv.resource.unwrap().uri,
            "http://schemas.microsoft.com/wbem/wsman/1/config/client"
        );
        assert_eq!(inv.hash.unwrap().0.pairs[0].value, "[::1]");
        assert_eq!(inv.remote.as_deref(), Some("http://127.0.0.1:5985/wsman"));
        assert_eq!(inv.auth, Some(Auth::Basic));
        assert!(inv.unencrypted);
        assert_eq!(inv.format, Format::Pretty);
        let inv = p(&["invoke", "Restore", "winrm/config", "@{}"]).unwrap();
        assert_eq!(inv.action.as_deref(), Some("Restore"));
        let inv = p(&["qc", "-transport:https", "-force"]).unwrap();
        assert!(inv.transport_https && inv.force);
        let inv = p(&["help", "config"]).unwrap();
        assert_eq!(inv.topics, ["config"]);
        let inv = p(&["e", "winrm/config/listener", "--json"]).unwrap();
        assert!(inv.json);
        let inv = p(&["get", "winrm/config", "-p:hunter2"]).unwrap();
        assert!(
            !format!("{inv:?}").contains("hunter2"),
            "the password never prints"
        );
    }

    #[test]
    fn mistakes_are_explained() {
        let cases: &[(&[&str], &str)] = &[
            (&["fetch"], "unknown verb"),
            (&["get"], "needs a RESOURCE_URI"),
            (&["get", "winrm/config", "-r"], "needs a value"),
            (&["get", "winrm/config", "-a:digest"], "not supported"),
            (&["get", "winrm/config", "-a:foo"], "expected none, basic"),
            (
                &["get", "winrm/config", "-format:json"],
                "text, #pretty or xml",
            ),
            (&["get", "winrm/config", "-bogus"], "unknown switch -bogus"),
            (&["get", "winrm/config", "-filter:x"], "not supported"),
            (&["get", "winrm/config", "@{A=1}"], "takes no @{...}"),
            (&["set", "winrm/config"], "needs @{Key"),
            (&["set", "winrm/config", "@{A=1", "-x"], "expected"),
            (&["get", "winrm/config", "extra"], "unexpected argument"),
            (&["id", "winrm/config"], "takes no resource"),
            (&["invoke"], "ACTION and a RESOURCE_URI"),
            (&["get", "nope/x"], "neither an alias"),
            (&["get", "winrm/config", "-timeout:0"], "above 0"),
            (
                &["get", "winrm/config", "-unencrypted:maybe"],
                "takes no value",
            ),
        ];
        for (line, want) in cases {
            let e = p(line).unwrap_err();
            assert!(e.to_string().contains(want), "{line:?}: {e}");
        }
        let e = p(&["set", "winrm/config/client", "@{TrustedHosts=\"x\""]).unwrap_err();
        assert_eq!(e.arg, 2);
        assert_eq!(e.at, Some(18));
        assert!(e.to_string().ends_with("^"), "{e}");
    }
}
