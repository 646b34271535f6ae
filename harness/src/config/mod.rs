//! The WinRM configuration model: every setting of the seed document with its documented
//! default, the WinRM 2.0 differences and what a current Windows reports, as data
//! (`data/winrm-config.toml`), plus validation with positions, the wire form of
//! `winrm get/put winrm/config/...`, and atomic persistence.

mod grammar;
mod store;
mod wire;

use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

pub use grammar::{GrammarError, filter_allows};
pub use store::{load, save};
pub use wire::{CONFIG_URI, apply_put, resource_path, section_element, section_uri, to_element};

const DATA: &str = include_str!("../../data/winrm-config.toml");

/// Which defaults a configuration starts from.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// The seed document's values.
    #[default]
    Seed,
    /// What Windows Server 2012 R2 and later report on the wire.
    Windows,
    /// The seed document's values with its "WinRM 2.0:" differences applied (MaxConnections
    /// 25; the settings it calls deprecated or read-only are so in every profile).
    Winrm2,
}

/// The kind of value a setting holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// true/false.
    Bool,
    /// A whole number in a range.
    Number,
    /// Free text.
    Text,
    /// One of listed words.
    Enum,
    /// A security descriptor.
    Sddl,
    /// IPv4Filter/IPv6Filter.
    Ipfilter,
    /// TrustedHosts.
    Trustedhosts,
    /// URLPrefix.
    Urlprefix,
    /// CertificateThumbprint.
    Thumbprint,
}

/// One setting's definition.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// Path below `winrm/config`, e.g. `Service/Auth/Basic`.
    pub path: String,
    /// Value kind.
    pub kind: Kind,
    /// Unit, for help text.
    #[serde(default)]
    pub unit: String,
    /// Lowest number.
    pub min: Option<u64>,
    /// Highest number.
    pub max: Option<u64>,
    /// Accepted words for enums.
    #[serde(default)]
    pub values: Vec<String>,
    /// The seed document's default.
    pub seed: String,
    /// A current Windows' value.
    pub windows: String,
    /// What the document says changed in WinRM 2.0.
    pub winrm2: Option<String>,
    /// Put refused.
    #[serde(default)]
    pub read_only: bool,
    /// Put refused as deprecated.
    #[serde(default)]
    pub deprecated: bool,
    /// Meaning, in our words.
    pub meaning: String,
    /// Where the facts come from.
    pub source: String,
}

impl Setting {
    /// The WinRM 2.0 default, when the document's note names one (`"25"`, `"180000, minimum
    /// 60000"`); notes without a value (`"deprecated and read-only"`) give none.
    pub fn winrm2_value(&self) -> Option<String> {
        let note = self.winrm2.as_deref()?;
        let first = note.split([',', ';', ' ']).next()?;
        first.parse::<u64>().is_ok().then(|| first.to_owned())
    }
}

#[derive(Deserialize)]
struct File {
    setting: Vec<Setting>,
}

/// All setting definitions, in wire order.
pub fn settings() -> &'static [Setting] {
    static S: OnceLock<Vec<Setting>> = OnceLock::new();
    S.get_or_init(|| {
        toml::from_str::<File>(DATA)
            .unwrap_or_else(|e| panic!("embedded winrm-config.toml: {e}"))
            .setting
    })
}

/// The definition for a path (case-insensitive; `winrm/config/` prefix and `\` allowed).
pub fn setting(path: &str) -> Option<&'static Setting> {
    let p = normalize(path);
    settings().iter().find(|s| s.path.eq_ignore_ascii_case(&p))
}

fn normalize(path: &str) -> String {
    let p = path.trim().replace('\\', "/");
    let lower = p.to_ascii_lowercase();
    let cut = [
        "winrm/config/",
        "http://schemas.microsoft.com/wbem/wsman/1/config/",
    ]
    .iter()
    .find(|pre| lower.starts_with(*pre))
    .map_or(0, |pre| pre.len());
    p[cut..].trim_matches('/').to_owned()
}

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting path.
    pub path: String,
    /// What was wrong.
    pub kind: ConfigErrorKind,
}

/// The kinds of configuration errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// No such setting.
    Unknown,
    /// The setting cannot be changed.
    ReadOnly,
    /// The setting is deprecated and cannot be changed (WSManFault 2150859182).
    Deprecated,
    /// The value does not fit the grammar.
    Invalid {
        /// The value.
        value: String,
        /// Where in it.
        at: usize,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ConfigErrorKind::Unknown => {
                write!(f, "{}: no such setting", self.path)?;
                if let Some(s) = closest(&self.path) {
                    write!(f, " (did you mean {s}?)")?;
                }
                Ok(())
            }
            ConfigErrorKind::ReadOnly => write!(f, "{}: the setting is read-only", self.path),
            ConfigErrorKind::Deprecated => {
                write!(f, "{}: the setting is deprecated and read-only", self.path)
            }
            ConfigErrorKind::Invalid { value, at, reason } => {
                write!(
                    f,
                    "{}: invalid value {value:?} at character {at}: {reason}",
                    self.path
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// The setting whose path ends like `path` does, for "did you mean".
fn closest(path: &str) -> Option<&'static str> {
    let last = normalize(path).rsplit('/').next()?.to_ascii_lowercase();
    settings()
        .iter()
        .find(|s| {
            s.path
                .rsplit('/')
                .next()
                .is_some_and(|l| l.eq_ignore_ascii_case(&last))
        })
        .map(|s| s.path.as_str())
}

/// A listener (`winrm/config/listener`, selectors Address and Transport).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Listener {
    /// `*`, `IP:<address>` or `MAC:<address>`.
    pub address: String,
    /// `HTTP` or `HTTPS`.
    pub transport: String,
    /// TCP port.
    pub port: u16,
    /// Host name (HTTPS).
    pub hostname: String,
    /// Enabled.
    pub enabled: bool,
    /// URL prefix.
    pub url_prefix: String,
    /// SHA-1 thumbprint of the certificate (HTTPS).
    pub certificate_thumbprint: String,
}

impl Listener {
    /// A listener with the defaults `winrm create` and quickconfig use: enabled, URL prefix
    /// `wsman`, no host name or certificate.
    pub fn new(address: &str, transport: &str, port: u16) -> Self {
        Self {
            address: address.to_owned(),
            transport: transport.to_owned(),
            port,
            hostname: String::new(),
            enabled: true,
            url_prefix: "wsman".into(),
            certificate_thumbprint: String::new(),
        }
    }
}

/// A configuration: one value per setting, plus listeners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The profile the defaults came from.
    pub profile: Profile,
    values: Vec<String>,
    /// Listeners (none until quickconfig, as on Windows).
    pub listeners: Vec<Listener>,
}

impl Config {
    /// Defaults of a profile.
    pub fn new(profile: Profile) -> Self {
        let values = settings()
            .iter()
            .map(|s| match profile {
                Profile::Seed => s.seed.clone(),
                Profile::Windows => s.windows.clone(),
                Profile::Winrm2 => s.winrm2_value().unwrap_or_else(|| s.seed.clone()),
            })
            .collect();
        Self {
            profile,
            values,
            listeners: Vec::new(),
        }
    }

    fn index(path: &str) -> Result<usize, ConfigError> {
        // The service asks for settings by their canonical paths many times per request:
        // those are found by hash, without normalising (which allocates).
        static CANONICAL: OnceLock<std::collections::HashMap<&'static str, usize>> =
            OnceLock::new();
        let canonical = CANONICAL.get_or_init(|| {
            settings()
                .iter()
                .enumerate()
                .map(|(i, s)| (s.path.as_str(), i))
                .collect()
        });
        if let Some(&i) = canonical.get(path) {
            return Ok(i);
        }
        let p = normalize(path);
        settings()
            .iter()
            .position(|s| s.path.eq_ignore_ascii_case(&p))
            .ok_or(ConfigError {
                path: p,
                kind: ConfigErrorKind::Unknown,
            })
    }

    /// A value by path.
    pub fn get(&self, path: &str) -> Option<&str> {
        Self::index(path).ok().map(|i| self.values[i].as_str())
    }

    /// A number setting's value (0 when absent or not a number).
    pub fn number(&self, path: &str) -> u64 {
        self.get(path).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// `Service/DefaultPorts/HTTP` or `…/HTTPS`: the port of a new listener.
    pub fn default_port(&self, https: bool) -> u16 {
        let path = if https {
            "Service/DefaultPorts/HTTPS"
        } else {
            "Service/DefaultPorts/HTTP"
        };
        u16::try_from(self.number(path)).unwrap_or(if https { 5986 } else { 5985 })
    }

    /// A bool setting's value.
    pub fn flag(&self, path: &str) -> bool {
        self.get(path) == Some("true")
    }

    /// Sets a value after validating it; read-only and deprecated settings are refused.
    pub fn set(&mut self, path: &str, value: &str) -> Result<(), ConfigError> {
        let i = Self::index(path)?;
        let s = &settings()[i];
        let fail = |kind| ConfigError {
            path: s.path.clone(),
            kind,
        };
        if s.deprecated {
            return Err(fail(ConfigErrorKind::Deprecated));
        }
        if s.read_only {
            return Err(fail(ConfigErrorKind::ReadOnly));
        }
        self.values[i] = validate(s, value).map_err(|e| {
            fail(ConfigErrorKind::Invalid {
                value: value.to_owned(),
                at: e.at,
                reason: e.reason,
            })
        })?;
        Ok(())
    }

    /// Every `(path, value)` in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        settings()
            .iter()
            .map(|s| s.path.as_str())
            .zip(self.values.iter().map(String::as_str))
    }
}

/// Parses a boolean setting value (`true`/`false` in any letter case).
pub fn parse_bool(v: &str) -> Result<bool, GrammarError> {
    grammar::boolean(v).map(|b| b == "true")
}

/// Checks a value against its setting's grammar; returns the canonical form.
pub fn validate(s: &Setting, value: &str) -> Result<String, GrammarError> {
    match s.kind {
        Kind::Bool => grammar::boolean(value),
        Kind::Number => grammar::number(value, s.min.unwrap_or(0), s.max.unwrap_or(u64::MAX)),
        Kind::Text => Ok(value.to_owned()),
        Kind::Enum => s
            .values
            .iter()
            .find(|v| v.eq_ignore_ascii_case(value.trim()))
            .cloned()
            .ok_or_else(|| GrammarError {
                at: 0,
                reason: format!("expected one of {}", s.values.join(", ")),
            }),
        Kind::Sddl => grammar::sddl(value),
        Kind::Ipfilter => grammar::ip_filter(value, s.path.ends_with("IPv6Filter")),
        Kind::Trustedhosts => grammar::trusted_hosts(value),
        Kind::Urlprefix => grammar::url_prefix(value),
        Kind::Thumbprint => grammar::thumbprint(value),
    }
}

/// Validates a listener's fields (MS-WSMV 2.2.4.19; the seed document's Listener section).
pub fn validate_listener(l: &Listener) -> Result<(), ConfigError> {
    let fail = |field: &str, value: &str, e: GrammarError| ConfigError {
        path: format!("Listener/{field}"),
        kind: ConfigErrorKind::Invalid {
            value: value.to_owned(),
            at: e.at,
            reason: e.reason,
        },
    };
    let address_ok = l.address == "*"
        || l.address
            .strip_prefix("IP:")
            .is_some_and(|a| a.parse::<std::net::IpAddr>().is_ok())
        || l.address.strip_prefix("MAC:").is_some_and(|m| {
            let parts: Vec<_> = m.split('-').collect();
            (parts.len() == 6 || parts.len() == 8)
                && parts
                    .iter()
                    .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
        });
    if !address_ok {
        let e = GrammarError {
            at: 0,
            reason: "expected *, IP:<address> or MAC:xx-xx-xx-xx-xx-xx".into(),
        };
        return Err(fail("Address", &l.address, e));
    }
    if l.transport != "HTTP" && l.transport != "HTTPS" {
        let e = GrammarError {
            at: 0,
            reason: "expected HTTP or HTTPS".into(),
        };
        return Err(fail("Transport", &l.transport, e));
    }
    if l.port == 0 {
        let e = GrammarError {
            at: 0,
            reason: "a port is 1..=65535".into(),
        };
        return Err(fail("Port", "0", e));
    }
    grammar::url_prefix(&l.url_prefix).map_err(|e| fail("URLPrefix", &l.url_prefix, e))?;
    if l.transport == "HTTPS" {
        grammar::thumbprint(&l.certificate_thumbprint)
            .map_err(|e| fail("CertificateThumbprint", &l.certificate_thumbprint, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_setting_exists_with_its_documented_default() {
        let c = Config::new(Profile::Seed);
        for (path, value) in [
            ("MaxEnvelopeSizekb", "150"),
            ("MaxTimeoutms", "60000"),
            ("MaxBatchItems", "32000"),
            ("MaxProviderRequests", "25"),
            ("Client/NetworkDelayms", "5000"),
            ("Client/URLPrefix", "wsman"),
            ("Client/AllowUnencrypted", "false"),
            ("Client/Auth/Basic", "true"),
            ("Client/Auth/Digest", "true"),
            ("Client/Auth/Certificate", "true"),
            ("Client/Auth/Kerberos", "true"),
            ("Client/Auth/Negotiate", "true"),
            ("Client/Auth/CredSSP", "false"),
            ("Client/DefaultPorts/HTTP", "5985"),
            ("Client/DefaultPorts/HTTPS", "5986"),
            ("Client/TrustedHosts", ""),
            (
                "Service/RootSDDL",
                "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;ER)S:P(AU;FA;GA;;;WD)(AU;SA;GWGX;;;WD)",
            ),
            ("Service/MaxConcurrentOperations", "100"),
            ("Service/MaxConcurrentOperationsPerUser", "1500"),
            ("Service/EnumerationTimeoutms", "60000"),
            ("Service/MaxConnections", "300"),
            ("Service/MaxPacketRetrievalTimeSeconds", "120"),
            ("Service/AllowUnencrypted", "false"),
            ("Service/Auth/Basic", "false"),
            ("Service/Auth/Certificate", "false"),
            ("Service/Auth/Kerberos", "true"),
            ("Service/Auth/Negotiate", "true"),
            ("Service/Auth/CredSSP", "false"),
            ("Service/Auth/CbtHardeningLevel", "Relaxed"),
            ("Service/DefaultPorts/HTTP", "5985"),
            ("Service/DefaultPorts/HTTPS", "5986"),
            ("Service/IPv4Filter", "*"),
            ("Service/IPv6Filter", "*"),
            ("Service/EnableCompatibilityHttpListener", "false"),
            ("Service/EnableCompatibilityHttpsListener", "false"),
            ("Winrs/AllowRemoteShellAccess", "true"),
            ("Winrs/IdleTimeout", "180000"),
            ("Winrs/MaxConcurrentUsers", "5"),
            ("Winrs/MaxShellRunTime", "28800000"),
            ("Winrs/MaxProcessesPerShell", "15"),
            ("Winrs/MaxMemoryPerShellMB", "150"),
            ("Winrs/MaxShellsPerUser", "5"),
        ] {
            assert_eq!(c.get(path), Some(value), "{path}");
            assert!(
                settings()
                    .iter()
                    .all(|s| validate(s, &s.seed).is_ok() && validate(s, &s.windows).is_ok()),
                "defaults are valid"
            );
        }
        assert_eq!(settings().len(), 42);
        for s in settings() {
            assert!(!s.meaning.is_empty() && !s.source.is_empty(), "{}", s.path);
        }
    }

    #[test]
    fn winrm2_differences_and_windows_profile_are_recorded() {
        let maxconn = setting("Service/MaxConnections").unwrap();
        assert_eq!(maxconn.winrm2.as_deref(), Some("25"));
        assert!(
            setting("winrm/config/MaxProviderRequests")
                .unwrap()
                .deprecated
        );
        assert!(setting("Winrs\\MaxShellRunTime").unwrap().read_only);
        let w = Config::new(Profile::Windows);
        assert_eq!(w.get("MaxEnvelopeSizekb"), Some("500"));
        assert_eq!(w.get("Service/EnumerationTimeoutms"), Some("240000"));
        // WinRM 2.0: the seed values with the document's value differences.
        let two = Config::new(Profile::Winrm2);
        let seed = Config::new(Profile::Seed);
        assert_eq!(two.get("Service/MaxConnections"), Some("25"));
        assert_eq!(seed.get("Service/MaxConnections"), Some("300"));
        assert_eq!(two.get("Winrs/IdleTimeout"), Some("180000"));
        assert_eq!(
            two.get("MaxProviderRequests"),
            seed.get("MaxProviderRequests")
        );
        let differ: Vec<&str> = settings()
            .iter()
            .filter(|s| two.get(&s.path) != seed.get(&s.path))
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(differ, ["Service/MaxConnections"]);
    }

    #[test]
    fn set_validates_and_refuses_read_only_settings() {
        let mut c = Config::new(Profile::Seed);
        c.set("service/AllowUnencrypted", "True").unwrap();
        assert!(c.flag("Service/AllowUnencrypted"));
        c.set(
            "winrm/config/client/TrustedHosts",
            "[0:0:0:0:0:0:0:0], *.fabrikam.com",
        )
        .unwrap();
        let e = c.set("MaxEnvelopeSizekb", "1039441").unwrap_err();
        assert!(e.to_string().contains("outside 32..=1039440"), "{e}");
        assert!(c.set("Winrs/IdleTimeout", "59999").is_err());
        assert_eq!(
            c.set("Winrs/MaxShellRunTime", "1").unwrap_err().kind,
            ConfigErrorKind::ReadOnly
        );
        assert_eq!(
            c.set("Service/MaxConcurrentOperations", "1")
                .unwrap_err()
                .kind,
            ConfigErrorKind::Deprecated
        );
        assert!(c.set("Service/Auth/CbtHardeningLevel", "strict").is_ok());
        assert_eq!(c.get("Service/Auth/CbtHardeningLevel"), Some("Strict"));
        let e = c.set("Service/MaxEnvelopeSizekb", "1").unwrap_err();
        assert!(
            e.to_string().contains("did you mean MaxEnvelopeSizekb"),
            "{e}"
        );
        assert!(
            c.set("Client/URLPrefix", "/wsman")
                .unwrap_err()
                .to_string()
                .contains("character 0")
        );
    }

    #[test]
    fn listeners_are_validated() {
        let mut l = Listener::new("*", "HTTP", 5985);
        assert!(validate_listener(&l).is_ok());
        l.transport = "HTTPS".into();
        assert!(
            validate_listener(&l)
                .unwrap_err()
                .path
                .ends_with("CertificateThumbprint")
        );
        l.certificate_thumbprint = "a".repeat(40);
        assert!(validate_listener(&l).is_ok());
        l.address = "IP:111.222.333.444".into();
        assert!(
            validate_listener(&l).is_err(),
            "the seed document's example address is not an IPv4 address"
        );
        l.address = "MAC:00-11-22-33-44-55".into();
        assert!(validate_listener(&l).is_ok());
    }
}
