//! Resource arguments: `winrm/config/listener?Address=*+Transport=HTTP`, an alias or a full
//! resource URI, then `?` and `+`-separated selectors.

use std::fmt;

/// The aliases the Windows tool knows (`winrm help aliases`), first path segment → URI prefix.
pub const ALIASES: &[(&str, &str)] = &[
    ("wmi", "http://schemas.microsoft.com/wbem/wsman/1/wmi"),
    (
        "wmicimv2",
        "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2",
    ),
    ("cimv2", "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2"),
    ("winrm", "http://schemas.microsoft.com/wbem/wsman/1"),
    ("wsman", "http://schemas.microsoft.com/wbem/wsman/1"),
    (
        "shell",
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    ),
];

/// A resource URI with selectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRef {
    /// The full resource URI.
    pub uri: String,
    /// Selectors in the order given.
    pub selectors: Vec<(String, String)>,
}

/// Why a resource argument was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceError {
    /// Character index in the argument.
    pub at: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ResourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.at, self.reason)
    }
}

impl std::error::Error for ResourceError {}

impl ResourceRef {
    /// Parses `ALIAS/path[?K=V[+K=V]...]` or `scheme://...[?K=V...]`.
    pub fn parse(arg: &str) -> Result<Self, ResourceError> {
        let (path, query) = match arg.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (arg, None),
        };
        if path.is_empty() {
            return Err(ResourceError {
                at: 0,
                reason: "no resource URI (e.g. winrm/config)".into(),
            });
        }
        if let Some(c) = path.chars().position(char::is_whitespace) {
            return Err(ResourceError {
                at: c,
                reason: "a resource URI has no blanks".into(),
            });
        }
        let uri = if path.contains("://") {
            path.to_owned()
        } else {
            let (first, rest) = match path.split_once('/') {
                Some((f, r)) => (f, Some(r)),
                None => (path, None),
            };
            let Some((_, prefix)) = ALIASES.iter().find(|(a, _)| a.eq_ignore_ascii_case(first))
            else {
                let known: Vec<_> = ALIASES.iter().map(|(a, _)| *a).collect();
                return Err(ResourceError {
                    at: 0,
                    reason: format!(
                        "{first:?} is neither an alias ({}) nor a URI with a scheme",
                        known.join(", ")
                    ),
                });
            };
            match rest {
                Some(r) if !r.is_empty() => format!("{prefix}/{}", r.trim_end_matches('/')),
                _ => (*prefix).to_owned(),
            }
        };
        let mut selectors = Vec::new();
        if let Some(q) = query {
            let mut at = path.chars().count() + 1;
            for part in q.split('+') {
                let Some((k, v)) = part.split_once('=') else {
                    return Err(ResourceError {
                        at,
                        reason: format!("selector {part:?} is not NAME=VALUE"),
                    });
                };
                if k.is_empty() {
                    return Err(ResourceError {
                        at,
                        reason: "a selector needs a name before \"=\"".into(),
                    });
                }
                if selectors
                    .iter()
                    .any(|(n, _): &(String, String)| n.eq_ignore_ascii_case(k))
                {
                    return Err(ResourceError {
                        at,
                        reason: format!("selector {k} is given twice"),
                    });
                }
                selectors.push((k.to_owned(), v.to_owned()));
                at += part.chars().count() + 1;
            }
        }
        Ok(Self { uri, selectors })
    }

    /// The selector pairs as borrowed strings, for request builders.
    pub fn selector_pairs(&self) -> Vec<(&str, &str)> {
        self.selectors
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// The last path segment of the URI: the element name of the resource's representation
    /// (`Listener`, `Client`, `Win32_Service`).
    pub fn class_name(&self) -> &str {
        self.uri
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&self.uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_expand_and_selectors_split() {
        let r = ResourceRef::parse("winrm/config/Listener?Address=*+Transport=HTTP").unwrap();
        assert_eq!(
            r.uri,
            "http://schemas.microsoft.com/wbem/wsman/1/config/Listener"
        );
        assert_eq!(
            r.selector_pairs(),
            [("Address", "*"), ("Transport", "HTTP")]
        );
        assert_eq!(r.class_name(), "Listener");
        let r = ResourceRef::parse("wmicimv2/Win32_Service?Name=WinRM").unwrap();
        assert_eq!(
            r.uri,
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service"
        );
        let r = ResourceRef::parse("winrm/config").unwrap();
        assert_eq!(r.uri, "http://schemas.microsoft.com/wbem/wsman/1/config");
        assert_eq!(r.class_name(), "config");
        let full = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Fan";
        assert_eq!(ResourceRef::parse(full).unwrap().uri, full);
    }

    #[test]
    fn bad_arguments_say_where() {
        let e = ResourceRef::parse("foo/bar").unwrap_err();
        assert!(e.reason.contains("neither an alias"), "{e}");
        let e = ResourceRef::parse("winrm/config/listener?Address=*+Transport").unwrap_err();
        assert_eq!(e.at, 32, "{e}");
        assert!(e.reason.contains("NAME=VALUE"));
        let e = ResourceRef::parse("winrm/config/listener?A=1+a=2").unwrap_err();
        assert!(e.reason.contains("twice"), "{e}");
        assert!(ResourceRef::parse("?A=1").is_err());
    }
}
