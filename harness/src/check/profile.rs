//! What a target is expected to do: the seed document's defaults, a current Windows, or plain
//! DSP0226 for non-Windows stacks. `auto` picks one from Identify.

use serde::Serialize;

use crate::config::{Config, Profile as ConfigProfile};

/// A profile as the user names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    /// The seed document's defaults (WinRM as the installation guide describes it).
    Seed,
    /// What a current Windows reports.
    Windows,
    /// WinRM 2.0 as the seed document describes it (the seed values with its 2.0 differences).
    Winrm2,
    /// Plain DSP0226 (openwsman, OMI, AMT, iDRAC): no WinRM configuration, shells or quotas.
    Dmtf,
    /// From Identify: Microsoft's stack gets `windows`, anything else `dmtf`.
    Auto,
}

impl ProfileName {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileName::Seed => "seed",
            ProfileName::Windows => "windows",
            ProfileName::Winrm2 => "winrm2",
            ProfileName::Dmtf => "dmtf",
            ProfileName::Auto => "auto",
        }
    }
}

/// The expectations of a resolved profile.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Which (never `Auto`).
    pub name: ProfileName,
    /// WinRM's configuration defaults, for the WinRM profiles.
    pub defaults: Option<Config>,
}

impl Profile {
    /// A resolved profile (`Auto` must be resolved by the runner first).
    pub fn new(name: ProfileName) -> Self {
        let defaults = match name {
            ProfileName::Seed => Some(Config::new(ConfigProfile::Seed)),
            ProfileName::Windows => Some(Config::new(ConfigProfile::Windows)),
            ProfileName::Winrm2 => Some(Config::new(ConfigProfile::Winrm2)),
            ProfileName::Dmtf | ProfileName::Auto => None,
        };
        Self { name, defaults }
    }

    /// Picks `windows` or `dmtf` from an Identify response's ProductVendor.
    pub fn from_vendor(vendor: Option<&str>) -> Self {
        let windows = vendor.is_some_and(|v| v.to_ascii_lowercase().contains("microsoft"));
        Self::new(if windows {
            ProfileName::Windows
        } else {
            ProfileName::Dmtf
        })
    }

    /// The target is a WinRM service (configuration, shells, quotas, Windows fault codes).
    pub fn winrm(&self) -> bool {
        self.defaults.is_some()
    }

    /// A WinRM default by setting path.
    pub fn default_of(&self, path: &str) -> Option<&str> {
        self.defaults.as_ref()?.get(path)
    }

    /// A numeric WinRM default.
    pub fn number(&self, path: &str) -> Option<u64> {
        self.default_of(path)?.parse().ok()
    }

    /// A boolean WinRM default.
    pub fn flag(&self, path: &str) -> Option<bool> {
        crate::config::parse_bool(self.default_of(path)?).ok()
    }

    /// MaxEnvelopeSizekb in bytes: the profile's, or DSP0226's common 150 KiB for `dmtf`.
    pub fn max_envelope_bytes(&self) -> usize {
        self.number("MaxEnvelopeSizekb").unwrap_or(150) as usize * 1024
    }
}
