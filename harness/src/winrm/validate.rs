//! Checks `@{...}` values against the configuration model before anything is sent: unknown
//! settings, read-only ones, and values outside a setting's grammar are refused locally, with
//! the position inside the argument. Resources the model does not describe pass unchecked.

use super::hash::Hash;
use super::resource::ResourceRef;
use crate::config::{self, ConfigErrorKind, GrammarError, Listener};
use crate::server::listeners::LISTENER_URI;

/// A refused value: where in the `@{...}` argument, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Character index in the argument.
    pub at: usize,
    /// The reason.
    pub reason: String,
}

/// Checks the pairs meant for `resource` (a `set` or `create`).
pub fn check(resource: &ResourceRef, hash: &Hash) -> Result<(), Refused> {
    if let Some(section) = config::resource_path(&resource.uri) {
        return check_config(&section, hash);
    }
    if resource.uri.eq_ignore_ascii_case(LISTENER_URI) {
        return check_listener(hash);
    }
    Ok(())
}

fn check_config(section: &str, hash: &Hash) -> Result<(), Refused> {
    for p in &hash.pairs {
        let path = if section.is_empty() {
            p.key.clone()
        } else {
            format!("{section}/{}", p.key)
        };
        let Some(s) = config::setting(&path) else {
            let is_section = config::settings().iter().any(|s| {
                s.path
                    .to_ascii_lowercase()
                    .starts_with(&format!("{}/", path.to_ascii_lowercase()))
            });
            let reason = if is_section {
                format!(
                    "{} is a section, not a setting; set its values on winrm/config/{}",
                    p.key,
                    path.to_ascii_lowercase()
                )
            } else {
                let err = config::ConfigError {
                    path: path.clone(),
                    kind: ConfigErrorKind::Unknown,
                };
                format!("{err} in winrm/config{}", suffix(section))
            };
            return Err(Refused {
                at: p.key_at,
                reason,
            });
        };
        if s.deprecated || s.read_only {
            let what = if s.deprecated {
                "deprecated and read-only"
            } else {
                "read-only"
            };
            return Err(Refused {
                at: p.key_at,
                reason: format!("{} is {what}: the service refuses to change it", s.path),
            });
        }
        config::validate(s, &p.value).map_err(|e| Refused {
            at: p.value_at + e.at,
            reason: format!("{}: invalid value {:?}: {}", s.path, p.value, e.reason),
        })?;
    }
    Ok(())
}

fn suffix(section: &str) -> String {
    if section.is_empty() {
        String::new()
    } else {
        format!("/{}", section.to_ascii_lowercase())
    }
}

/// Listener fields: the selectors and ListeningOn are not properties one sets.
fn check_listener(hash: &Hash) -> Result<(), Refused> {
    let mut probe = Listener::new("*", "HTTP", 5985);
    for p in &hash.pairs {
        let refuse = |at: usize, reason: String| Refused { at, reason };
        let grammar = |e: GrammarError| {
            refuse(
                p.value_at + e.at,
                format!(
                    "Listener/{}: invalid value {:?}: {}",
                    p.key, p.value, e.reason
                ),
            )
        };
        match p.key.to_ascii_lowercase().as_str() {
            "port" => {
                probe.port = p
                    .value
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        refuse(p.value_at, format!("Port {:?} is not 1..=65535", p.value))
                    })?;
            }
            "enabled" => {
                probe.enabled = config::parse_bool(&p.value).map_err(grammar)?;
            }
            "urlprefix" => probe.url_prefix = p.value.clone(),
            "certificatethumbprint" => {
                probe.certificate_thumbprint = p.value.clone();
                if !p.value.is_empty() {
                    probe.transport = "HTTPS".into();
                }
            }
            "hostname" => probe.hostname = p.value.clone(),
            "address" | "transport" => {
                return Err(refuse(
                    p.key_at,
                    format!(
                        "{} is a selector: give it in the resource (…/listener?Address=*+Transport=HTTP)",
                        p.key
                    ),
                ));
            }
            "listeningon" => {
                return Err(refuse(
                    p.key_at,
                    "ListeningOn is computed by the service and read-only".into(),
                ));
            }
            _ => {
                return Err(refuse(
                    p.key_at,
                    format!(
                        "a listener has no property {}; it has Port, Hostname, Enabled, URLPrefix and CertificateThumbprint",
                        p.key
                    ),
                ));
            }
        }
    }
    config::validate_listener(&probe).map_err(|e| {
        let field = e.path.rsplit('/').next().unwrap_or_default().to_owned();
        let at = hash.get(&field).map_or(0, |p| p.value_at);
        Refused {
            at,
            reason: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::winrm::hash::parse;

    fn refused(resource: &str, hash: &str) -> Option<Refused> {
        check(
            &ResourceRef::parse(resource).unwrap(),
            &parse(hash).unwrap(),
        )
        .err()
    }

    #[test]
    fn config_values_are_checked_with_positions() {
        assert!(
            refused(
                "winrm/config/client",
                r#"@{TrustedHosts="[0:0:0:0:0:0:0:0],*.fabrikam.com"}"#
            )
            .is_none()
        );
        let r = refused("winrm/config/client", r#"@{TrustedHosts="[::1"}"#).unwrap();
        assert!(r.reason.contains("TrustedHosts"), "{r:?}");
        assert!(r.at >= 16, "{r:?}");
        let r = refused("winrm/config", r#"@{MaxEnvelopeSizekb="1039441"}"#).unwrap();
        assert!(r.reason.contains("1039440"), "{r:?}");
        let r = refused("winrm/config/winrs", r#"@{MaxShellRunTime="1"}"#).unwrap();
        assert!(r.reason.contains("read-only"), "{r:?}");
        let r = refused("winrm/config/client", r#"@{Auth="x"}"#).unwrap();
        assert!(r.reason.contains("winrm/config/client/auth"), "{r:?}");
        let r = refused("winrm/config/service", r#"@{MaxEnvelopeSizekb="500"}"#).unwrap();
        assert!(r.reason.contains("did you mean MaxEnvelopeSizekb"), "{r:?}");
        assert!(refused("winrm/config/service/auth", r#"@{Basic="TRUE"}"#).is_none());
        let r = refused("winrm/config/service/auth", r#"@{Basic="yes"}"#).unwrap();
        assert_eq!(r.at, 9);
    }

    #[test]
    fn listener_fields_are_checked() {
        let l = "winrm/config/listener?Address=*+Transport=HTTPS";
        assert!(refused(l, r#"@{Hostname="h";CertificateThumbprint="0123456789abcdef0123456789abcdef01234567"}"#).is_none());
        assert!(
            refused(l, r#"@{Port="0"}"#)
                .unwrap()
                .reason
                .contains("1..=65535")
        );
        assert!(
            refused(l, r#"@{Transport="HTTP"}"#)
                .unwrap()
                .reason
                .contains("selector")
        );
        assert!(refused(l, r#"@{CertificateThumbprint="abc"}"#).is_some());
        assert!(refused(l, r#"@{URLPrefix="/x"}"#).is_some());
        assert!(
            refused(l, r#"@{Colour="red"}"#)
                .unwrap()
                .reason
                .contains("no property")
        );
        assert!(refused("wmicimv2/Win32_Service?Name=x", r#"@{Anything="1"}"#).is_none());
    }
}
