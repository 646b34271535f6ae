//! Value grammars of WinRM settings (MS-WSMV 2.2.4.6, 2.2.4.36; the seed document): each
//! validator returns the canonical form or says where and why the value is wrong.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A grammar error: character offset in the value and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrammarError {
    /// Character offset.
    pub at: usize,
    /// What was expected.
    pub reason: String,
}

fn err(at: usize, reason: impl Into<String>) -> GrammarError {
    GrammarError {
        at,
        reason: reason.into(),
    }
}

/// `true`/`false` in any letter case (the CLI shows `True`); canonical lower case, as on the wire.
pub fn boolean(v: &str) -> Result<String, GrammarError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Ok("true".into()),
        "false" => Ok("false".into()),
        _ => Err(err(0, "expected true or false")),
    }
}

/// A whole number in `min..=max`.
pub fn number(v: &str, min: u64, max: u64) -> Result<String, GrammarError> {
    let t = v.trim();
    if let Some(i) = t.find(|c: char| !c.is_ascii_digit()) {
        return Err(err(i, "expected a whole number"));
    }
    let n: u64 = t.parse().map_err(|_| err(0, "expected a whole number"))?;
    if n < min || n > max {
        return Err(err(0, format!("{n} is outside {min}..={max}")));
    }
    Ok(n.to_string())
}

/// URLPrefix: letters, digits, `_` and `/`, not starting or ending with `/`.
pub fn url_prefix(v: &str) -> Result<String, GrammarError> {
    if v.is_empty() {
        return Err(err(0, "the URL prefix is empty"));
    }
    if let Some((i, c)) = v
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '/'))
    {
        return Err(err(
            i,
            format!("{c:?} is not allowed (only A-Z a-z 0-9 _ /)"),
        ));
    }
    if v.starts_with('/') {
        return Err(err(0, "must not start with '/'"));
    }
    if v.ends_with('/') {
        return Err(err(v.len() - 1, "must not end with '/'"));
    }
    Ok(v.to_owned())
}

/// CertificateThumbprint: the SHA-1 of the certificate, 40 hexadecimal digits (spaces, as
/// copied from the certificate dialog, are removed); canonical upper case.
pub fn thumbprint(v: &str) -> Result<String, GrammarError> {
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some((i, c)) = compact.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(err(i, format!("{c:?} is not a hexadecimal digit")));
    }
    if compact.len() != 40 {
        return Err(err(
            0,
            format!(
                "a SHA-1 thumbprint has 40 hexadecimal digits, found {}",
                compact.len()
            ),
        ));
    }
    Ok(compact.to_ascii_uppercase())
}

/// Splits a comma-separated list, keeping each item's start offset; spaces around items are
/// allowed (Windows' own example writes `a-b, c-d`).
fn items(v: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for part in v.split(',') {
        let lead = part.len() - part.trim_start().len();
        out.push((start + lead, part.trim()));
        start += part.len() + 1;
    }
    out
}

/// TrustedHosts: blank, `*`, or a list of host names, `*suffix`, `prefix*`, `<local>`, IPv4
/// literals and bracketed IPv6 literals.
pub fn trusted_hosts(v: &str) -> Result<String, GrammarError> {
    let t = v.trim();
    if t.is_empty() || t == "*" {
        return Ok(t.to_owned());
    }
    for (at, item) in items(t) {
        if item.is_empty() {
            return Err(err(at, "empty entry in the list"));
        }
        if item.eq_ignore_ascii_case("<local>") {
            continue;
        }
        if let Some(inner) = item.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| err(at, "an IPv6 literal must end with ']'"))?;
            inner
                .parse::<Ipv6Addr>()
                .map_err(|_| err(at + 1, format!("{inner:?} is not an IPv6 address")))?;
            continue;
        }
        if item.contains(':') {
            return Err(err(
                at,
                "IPv6 addresses must be enclosed in square brackets, e.g. [::1]",
            ));
        }
        let pattern = item
            .strip_prefix('*')
            .or_else(|| item.strip_suffix('*'))
            .unwrap_or(item);
        if pattern.len() < item.len() && pattern.is_empty() {
            return Err(err(
                at,
                "a wildcard entry needs at least one character besides '*'",
            ));
        }
        if let Some((i, c)) = pattern
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || "-._".contains(*c)))
        {
            let offset = at + i + usize::from(item.starts_with('*'));
            return Err(err(offset, format!("{c:?} is not allowed in a host name")));
        }
        if pattern.len() == item.len()
            && pattern.chars().all(|c| c.is_ascii_digit() || c == '.')
            && pattern.parse::<Ipv4Addr>().is_err()
        {
            return Err(err(at, format!("{pattern:?} is not an IPv4 address")));
        }
    }
    Ok(t.to_owned())
}

/// IPv4Filter / IPv6Filter: blank, `*`, or comma-separated `low-high` ranges with low ≤ high.
pub fn ip_filter(v: &str, v6: bool) -> Result<String, GrammarError> {
    let t = v.trim();
    if t.is_empty() || t == "*" {
        return Ok(t.to_owned());
    }
    for (at, item) in items(t) {
        let (low, high) = item
            .split_once('-')
            .ok_or_else(|| err(at, "expected a range low-high, e.g. 2.0.0.1-2.0.0.20"))?;
        let parse = |s: &str, off: usize| -> Result<u128, GrammarError> {
            let s = s.trim();
            let s = s
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(s);
            if v6 {
                s.parse::<Ipv6Addr>()
                    .map(u128::from)
                    .map_err(|_| err(off, format!("{s:?} is not an IPv6 address")))
            } else {
                s.parse::<Ipv4Addr>()
                    .map(|a| u128::from(u32::from(a)))
                    .map_err(|_| err(off, format!("{s:?} is not an IPv4 address")))
            }
        };
        let lo = parse(low, at)?;
        let hi = parse(high, at + low.len() + 1)?;
        if lo > hi {
            return Err(err(at, "the low end of the range is above the high end"));
        }
    }
    Ok(t.to_owned())
}

/// True when a valid IPv4Filter/IPv6Filter value admits `ip` (blank: none, `*`: all, else any
/// of the ranges; `*` among ranges wins, as the Windows error text says).
pub fn filter_allows(filter: &str, ip: std::net::IpAddr) -> bool {
    let t = filter.trim();
    if t.is_empty() {
        return false;
    }
    if t.split(',').any(|i| i.trim() == "*") {
        return true;
    }
    let value = |s: &str| -> Option<u128> {
        let s = s.trim();
        let s = s
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(s);
        match (s.parse::<std::net::IpAddr>().ok()?, ip) {
            (std::net::IpAddr::V4(a), std::net::IpAddr::V4(_)) => Some(u128::from(u32::from(a))),
            (std::net::IpAddr::V6(a), std::net::IpAddr::V6(_)) => Some(u128::from(a)),
            _ => None,
        }
    };
    let me = match ip {
        std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
        std::net::IpAddr::V6(a) => u128::from(a),
    };
    t.split(',').any(|item| match item.split_once('-') {
        Some((lo, hi)) => {
            matches!((value(lo), value(hi)), (Some(l), Some(h)) if l <= me && me <= h)
        }
        None => false,
    })
}

/// An SDDL string (MS-DTYP 2.5.1), checked for structure: owner/group/DACL/SACL components,
/// balanced ACEs of six `;`-separated fields.
pub fn sddl(v: &str) -> Result<String, GrammarError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(err(0, "the security descriptor is empty"));
    }
    let b = t.as_bytes();
    // A component starts wherever O:, G:, D: or S: stands outside an ACE (SIDs hold no ':').
    let starts_component = |i: usize| b"OGDS".contains(&b[i]) && b.get(i + 1) == Some(&b':');
    if !starts_component(0) {
        return Err(err(0, "expected O:, G:, D: or S:"));
    }
    let mut i = 0;
    while i < b.len() {
        let value_start = i + 2;
        i = value_start;
        while i < b.len() && !starts_component(i) {
            if b[i] == b'(' {
                let close = t[i..]
                    .find(')')
                    .ok_or_else(|| err(i, "an ACE is not closed with ')'"))?;
                let ace = &t[i + 1..i + close];
                if ace.contains('(') || ace.split(';').count() != 6 {
                    return Err(err(
                        i,
                        format!("ACE ({ace}) needs six ';'-separated fields"),
                    ));
                }
                i += close + 1;
            } else if b[i] == b')' {
                return Err(err(i, "')' without an ACE"));
            } else {
                i += 1;
            }
        }
        if i == value_start {
            return Err(err(value_start, "a component has no value"));
        }
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_hosts_follow_the_documented_forms() {
        for ok in [
            "",
            "*",
            "server1",
            "*.fabrikam.com",
            "web*",
            "<local>",
            "10.0.0.1, [0:0:0:0:0:0:0:0], [::1],host-2",
        ] {
            assert!(trusted_hosts(ok).is_ok(), "{ok}");
        }
        assert!(
            trusted_hosts("::1")
                .unwrap_err()
                .reason
                .contains("square brackets")
        );
        assert!(trusted_hosts("[::1").unwrap_err().reason.contains("']'"));
        assert_eq!(trusted_hosts("a,,b").unwrap_err().at, 2);
        assert!(trusted_hosts("*").is_ok() && trusted_hosts("*,").is_err());
        assert_eq!(trusted_hosts("good, b@d").unwrap_err().at, 7);
        assert!(trusted_hosts("999.1.1.1").is_err());
    }

    #[test]
    fn filters_admit_addresses_in_their_ranges() {
        let v4 = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(filter_allows("*", v4("127.0.0.1")));
        assert!(!filter_allows("", v4("127.0.0.1")));
        assert!(filter_allows(
            "10.0.0.1-10.0.0.9, 127.0.0.1-127.0.0.1",
            v4("127.0.0.1")
        ));
        assert!(!filter_allows("10.0.0.1-10.0.0.9", v4("127.0.0.1")));
        assert!(filter_allows("::1-::1", v4("::1")));
        assert!(!filter_allows("::2-::ffff", v4("::1")));
    }

    #[test]
    fn filters_need_ordered_ranges() {
        assert!(ip_filter("*", false).is_ok());
        assert!(ip_filter("2.0.0.1-2.0.0.20, 24.0.0.1-24.0.0.22", false).is_ok());
        assert!(ip_filter("::1-::ffff", true).is_ok());
        assert!(
            ip_filter("1.2.3.4", false)
                .unwrap_err()
                .reason
                .contains("low-high")
        );
        let e = ip_filter("1.2.3.4-1.2.3", false).unwrap_err();
        assert_eq!(e.at, 8);
        assert!(
            ip_filter("9.0.0.0-1.0.0.0", false)
                .unwrap_err()
                .reason
                .contains("above")
        );
        assert!(ip_filter("1.2.3.4-1.2.3.5", true).is_err());
    }

    #[test]
    fn prefixes_thumbprints_numbers_and_sddl() {
        assert!(url_prefix("wsman").is_ok() && url_prefix("a/b_c").is_ok());
        assert_eq!(url_prefix("/wsman").unwrap_err().at, 0);
        assert_eq!(url_prefix("wsman/").unwrap_err().at, 5);
        assert_eq!(url_prefix("ws-man").unwrap_err().at, 2);
        assert_eq!(
            thumbprint("ab cd".repeat(10).as_str()).unwrap(),
            "ABCD".repeat(10)
        );
        assert!(thumbprint("AB").unwrap_err().reason.contains("40"));
        assert!(thumbprint(&"G".repeat(40)).is_err());
        assert_eq!(number("1039440", 32, 1_039_440).unwrap(), "1039440");
        assert!(
            number("1039441", 32, 1_039_440)
                .unwrap_err()
                .reason
                .contains("outside")
        );
        assert_eq!(number("12x", 0, 99).unwrap_err().at, 2);
        assert_eq!(boolean("True").unwrap(), "true");
        assert!(
            sddl("O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;ER)S:P(AU;FA;GA;;;WD)(AU;SA;GWGX;;;WD)").is_ok()
        );
        assert!(
            sddl("O:NSG:BAD:P(A;;GA;;;BA")
                .unwrap_err()
                .reason
                .contains("not closed")
        );
        assert!(sddl("X:1").is_err());
        assert!(sddl("D:P(A;GA)").unwrap_err().reason.contains("six"));
    }
}
