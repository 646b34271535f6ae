//! Persistence: the configuration as a TOML file, replaced atomically (write a temporary file in
//! the same directory, flush it to disk, rename over the old one), so that a crash at any moment
//! leaves the old file or the new one, never a torn one.

use std::collections::BTreeMap;
use std::io::Write;
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
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("config.toml");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(b"# wsman-harness reference server configuration (only changed settings)\n")?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    sync_dir(dir);
    Ok(())
}

/// Makes the rename durable where the platform allows syncing a directory.
#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Windows makes renames durable without a directory handle.
#[cfg(not(unix))]
fn sync_dir(_: &Path) {}

/// Reads a configuration file; errors name the line and column, or the setting.
pub fn load(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
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
