//! File input and output every command shares: reads that never load more than a bound, and
//! atomic replacement (temporary file in the same directory, flushed, renamed over the target),
//! so that a crash leaves the old file or the new one, never a torn one.

use std::io::{Read, Write};
use std::path::Path;

/// Reads at most `limit + 1` bytes, so that a caller can tell an oversized file from one of
/// exactly `limit` bytes without loading it.
pub fn read_limited(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1) as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// A UTF-8 text file of at most `limit` bytes; the error says which bound was hit.
pub fn read_text(path: &Path, limit: usize) -> Result<String, String> {
    let bytes = read_limited(path, limit).map_err(|e| e.to_string())?;
    if bytes.len() > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()))
}

/// Replaces `path` with `bytes` atomically, creating the directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_dir(dir);
    }
    result
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_and_bounded_reads_refuse_large_files() {
        let dir = std::env::temp_dir().join(format!("wsman-files-{}", std::process::id()));
        let p = dir.join("sub").join("f.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two!").unwrap();
        assert_eq!(read_text(&p, 4).unwrap(), "two!");
        assert!(read_text(&p, 3).unwrap_err().contains("larger than 3"));
        assert_eq!(read_limited(&p, 2).unwrap().len(), 3);
        write_atomic(&p, &[0x61, 0xff]).unwrap();
        assert!(read_text(&p, 10).unwrap_err().contains("byte 1"));
        let leftovers = std::fs::read_dir(p.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
