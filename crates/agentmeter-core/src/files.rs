//! The small files a user names (price tables, scenarios, baselines, reports to reconcile):
//! read whole, so only regular files, and only up to a bound. A FIFO, a device such as
//! `/dev/zero`, or a runaway file is a clear error instead of a hang or a blow-up.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest such file read: far more than any price table, scenario or baseline needs.
pub const MAX_SMALL_FILE: u64 = 256 << 20;

/// Read a small text file whole: a regular file of at most [`MAX_SMALL_FILE`] bytes.
pub fn read_small(path: &Path) -> Result<String> {
    read_text(path, MAX_SMALL_FILE, "such a file")
}

/// Read a text file whole: a regular file (checked before it is opened: opening a FIFO would
/// wait for a writer) of at most `max` bytes; `what` names it in the error ("a scenario").
pub fn read_text(path: &Path, max: u64, what: &str) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::new(format!(
            "{}: not a regular file (a directory, FIFO, device or socket)",
            path.display()
        )));
    }
    let too_big = || {
        Error::new(format!(
            "{}: more than the {max} bytes {what} may have",
            path.display()
        ))
    };
    if meta.len() > max {
        return Err(too_big());
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Bounded again while reading: the file may grow after the check.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        Error::new(format!("{}:{line}: invalid UTF-8", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_of_a_bounded_size() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("t.toml");
        std::fs::write(&ok, "schema = 1\n").unwrap();
        assert_eq!(read_small(&ok).unwrap(), "schema = 1\n");
        let e = read_small(dir.path()).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{}", e.message);
        #[cfg(unix)]
        {
            let e = read_small(Path::new("/dev/zero")).unwrap_err();
            assert!(e.message.contains("not a regular file"), "{}", e.message);
        }
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, b"a = 1\nb = \"\xff\"\n").unwrap();
        assert!(read_small(&bad)
            .unwrap_err()
            .message
            .ends_with("bad.toml:2: invalid UTF-8"));
    }
}
