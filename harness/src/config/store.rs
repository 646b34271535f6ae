//! Persistence: the configuration as a TOML file, replaced atomically (write a temporary file in
//! the same directory, flush it to disk, rename over the old one), so that a crash at any moment
//! leaves the old file or the new one, never a torn one.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Config, Listener, Profile, setting, validate_listener};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    profile: Profile,
    #[serde(default)]
    settings: BTreeMap<String, String>,
    #[serde(default)]
    listener: Vec<Listener>,
}

/// Writes the configuration atomically.
pub fn save(path: &Path, config: &Config) -> std::io::Result<()> {
    let defaults = Config::new(config.profile);
    let settings = config
        .iter()
        .zip(defaults.iter())
        .filter(|((_, v), (_, d))| v != d)
        .map(|((p, v), _)| (p.to_owned(), v.to_owned()))
        .collect();
    let file = File {
        profile: config.profile,
        settings,
        listener: config.listeners.clone(),
    };
    let text = toml::to_string(&file).map_err(std::io::Error::other)?;
    let body =
        format!("# wsman-harness reference server configuration (only changed settings)\n{text}");
    crate::files::write_atomic(path, body.as_bytes())
}

/// Reads a configuration file; errors name the line and column, or the setting.
pub fn load(path: &Path) -> Result<Config, String> {
    // A configuration file is a few kilobytes; anything near this bound is not one.
    let text =
        crate::files::read_text(path, 1 << 20).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                let col = s.start - text[..s.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{line}:{col}: ")
            })
            .unwrap_or_default();
        format!("{}:{at}{}", path.display(), e.message())
    })?;
    let mut config = Config::new(file.profile);
    for (p, v) in &file.settings {
        let s = setting(p).ok_or_else(|| format!("{}: unknown setting {p:?}", path.display()))?;
        // Files may hold read-only values (written by another profile); validate, do not refuse.
        let value =
            super::validate(s, v).map_err(|e| format!("{}: {p}: {}", path.display(), e.reason))?;
        let i = super::settings()
            .iter()
            .position(|x| std::ptr::eq(x, s))
            .unwrap_or(0);
        config.values[i] = value;
    }
    for l in &file.listener {
        validate_listener(l).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    config.listeners = file.listener;
    Ok(config)
}
