//! Everything a command writes for its user goes through [`Output`]: stdout, a file, or a
//! directory. The rules, in one place:
//!
//! - Only a regular file, or a directory agentmeter wrote, is ever replaced, and only with
//!   `--force`. A symlink (dangling or not), FIFO, socket or device is refused, with or
//!   without it: stdout is `-o -` or no `-o` at all.
//! - A file is written whole: an unnamed file (`O_TMPFILE`) or a unique temporary name beside
//!   it, synced, then linked or renamed in. A directory is written into a fresh one beside it,
//!   then swapped in, so no file of an older run survives and a failed run leaves the old one.
//! - A directory holding anything agentmeter did not write is refused even with `--force`
//!   (unless empty): reports, simulations and fitted data carry a manifest ([`MANIFEST`]),
//!   exports are directories of Parquet files only.
//! - Temporary paths are `agentmeter_core::temp::Temp`s, removed on every exit path
//!   (signals and, after a SIGKILL, the next run included).

use crate::error::{Error, Result};
use crate::temp::{registry, sweep, Temp};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file in a directory agentmeter wrote that lists every file it wrote there.
pub const MANIFEST: &str = ".agentmeter";

/// What a directory output is, and how agentmeter knows it wrote one.
pub struct DirKind {
    /// "an export", "a report", ...: for messages.
    pub what: &'static str,
    /// Exports hold Parquet files only, and no manifest: query engines read every file of a
    /// directory (polars hides no file by default).
    pub parquet_only: bool,
}

pub const EXPORT: DirKind = DirKind {
    what: "an export",
    parquet_only: true,
};
pub const REPORT: DirKind = DirKind {
    what: "a report",
    parquet_only: false,
};
pub const SIMULATION: DirKind = DirKind {
    what: "a simulation",
    parquet_only: false,
};
pub const FIT_DATA: DirKind = DirKind {
    what: "fitted data",
    parquet_only: false,
};

/// Where a command writes: stdout, or a path replaced only with `force`.
pub struct Output {
    path: Option<PathBuf>,
    force: bool,
}

impl Output {
    /// `None` or `-` is stdout.
    pub fn new(path: Option<&Path>, force: bool) -> Self {
        Output {
            path: path.filter(|p| p.as_os_str() != "-").map(Path::to_path_buf),
            force,
        }
    }

    /// A command's `-o FILE` and `--report DIR`, both checked now (before a long run): the
    /// file's output.
    pub fn with_report(file: Option<&Path>, report: Option<&Path>, force: bool) -> Result<Self> {
        let out = Output::new(file, force);
        out.check()?;
        if let Some(dir) = report {
            Output::new(Some(dir), force).check_dir(&REPORT)?;
        }
        Ok(out)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Refuse now what the write would refuse (before a long run).
    pub fn check(&self) -> Result<()> {
        self.path
            .as_deref()
            .map_or(Ok(()), |p| check_file(p, self.force))
    }

    pub fn check_dir(&self, kind: &DirKind) -> Result<()> {
        check_dir(self.dir()?, kind, self.force)
    }

    pub fn write(&self, text: &str) -> Result<()> {
        self.write_with(|w| w.write_all(text.as_bytes()))
    }

    /// Output written piece by piece (a fleet's JSON need not fit in memory).
    pub fn write_with(
        &self,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let Some(p) = &self.path else {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            return match write(&mut out).and_then(|_| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::new(format!("writing to stdout: {e}")))
                }
                _ => Ok(()),
            };
        };
        let (parent, name) = beside(p)?;
        sweep(&parent, &format!(".{name}.agentmeter-"), Some(p));
        check_file(p, self.force)?;
        let mut file = Staged::create(&parent, &name).map_err(|e| {
            let missing = e.kind() == std::io::ErrorKind::NotFound;
            let err = Error::io(p, e);
            if missing {
                err.with_hint(format!(
                    "{} does not exist: create it first",
                    parent.display()
                ))
            } else {
                err
            }
        })?;
        let written = {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut file.file);
            write(&mut w).and_then(|_| w.flush())
        };
        written
            .and_then(|_| file.file.sync_all())
            .map_err(|e| Error::io(p, e))?;
        // Checked again: the target may have appeared (or changed kind) while we wrote.
        check_file(p, self.force)?;
        file.publish(p, self.force)?;
        sync_dir(&parent);
        Ok(())
    }

    /// Write a directory: `write` fills a fresh directory, which then replaces the target
    /// whole. Returns what `write` returns.
    pub fn write_dir<T>(
        &self,
        kind: &DirKind,
        write: impl FnOnce(&Path) -> Result<T>,
    ) -> Result<T> {
        let dir = self.dir()?;
        let (parent, name) = beside(dir)?;
        sweep(&parent, &format!(".{name}.agentmeter-"), Some(dir));
        check_dir(dir, kind, self.force)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let fresh = Temp::new_dir(&parent, &format!(".{name}.agentmeter-"), ".tmp")
            .map_err(|e| Error::io(&parent, e))?;
        let out = write(fresh.path())?;
        if !kind.parquet_only {
            write_manifest(fresh.path(), kind)?;
        }
        check_dir(dir, kind, self.force)?;
        // Under the registry's lock: a signal's cleanup sees the old directory or the new one
        // in place, never neither.
        let mut temps = registry();
        let old = std::fs::symlink_metadata(dir).is_ok();
        let aside = fresh.path().with_extension("old");
        if old {
            std::fs::rename(dir, &aside).map_err(|e| Error::io(dir, e))?;
        }
        if let Err(e) = std::fs::rename(fresh.path(), dir) {
            if old {
                let _ = std::fs::rename(&aside, dir);
            }
            return Err(Error::io(dir, e));
        }
        temps.retain(|t| t != fresh.path());
        if old {
            temps.push(aside.clone());
        }
        drop(temps);
        std::mem::forget(fresh);
        sync_dir(&parent);
        if old {
            if let Err(e) = std::fs::remove_dir_all(&aside) {
                crate::say!(
                    "warning: {}: the replaced directory could not be removed: {e}",
                    aside.display()
                );
            }
            registry().retain(|t| t != &aside);
        }
        Ok(out)
    }

    fn dir(&self) -> Result<&Path> {
        self.path.as_deref().ok_or_else(|| {
            Error::new("a directory cannot be written to stdout")
                .with_hint("give a directory, e.g. -o out/")
        })
    }
}

/// What `path` is, for messages about the things agentmeter does not replace.
fn kind_of(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_symlink() {
        return Some("a symbolic link");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_socket() {
            return Some("a socket");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
    }
    (!t.is_file() && !t.is_dir()).then_some("not a regular file")
}

fn refuse_special(path: &Path, what: &str) -> Error {
    Error::new(format!(
        "{} is {what}: agentmeter replaces only regular files",
        path.display()
    ))
    .with_hint(
        "give the path of a new or regular file; to write to stdout, leave out -o or pass -o -",
    )
}

fn check_file(path: &Path, force: bool) -> Result<()> {
    // symlink_metadata: a link (even a dangling one) is what would be replaced.
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    if let Some(what) = kind_of(&meta) {
        return Err(refuse_special(path, what));
    }
    if meta.is_dir() {
        return Err(Error::new(format!("{} is a directory", path.display()))
            .with_hint("give a file name, e.g. -o out.json"));
    }
    if !force {
        return Err(Error::new(format!("{} already exists", path.display()))
            .with_hint("pass --force to overwrite it"));
    }
    Ok(())
}

fn check_dir(dir: &Path, kind: &DirKind, force: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    if let Some(what) = kind_of(&meta) {
        return Err(Error::new(format!(
            "{} is {what}: agentmeter writes {} only into a directory of its own",
            dir.display(),
            kind.what
        ))
        .with_hint("give a new or empty directory"));
    }
    if !meta.is_dir() {
        return Err(Error::new(format!(
            "{} is a file, not {}",
            dir.display(),
            kind.what
        ))
        .with_hint("give a new or empty directory; agentmeter does not replace a file with a directory"));
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    if entries.next().is_none() {
        return Ok(());
    }
    if let Some(other) = not_ours(dir, kind) {
        let why = if kind.parquet_only {
            "which is not a Parquet file"
        } else {
            "which agentmeter did not write"
        };
        return Err(Error::new(format!(
            "{} is not {}: it holds {}, {why}",
            dir.display(),
            kind.what,
            other.display()
        ))
        .with_hint(format!(
            "give a new or empty directory; --force replaces only {} agentmeter wrote",
            kind.what
        )));
    }
    if !force {
        return Err(Error::new(format!("{} already exists", dir.display()))
            .with_hint("pass --force to replace it (a directory is replaced whole)"));
    }
    Ok(())
}

/// The first entry under `dir` that agentmeter did not write there.
fn not_ours(dir: &Path, kind: &DirKind) -> Option<PathBuf> {
    let mut files = Vec::new();
    if let Err(p) = list_files(dir, Path::new(""), &mut files) {
        return Some(p);
    }
    if kind.parquet_only {
        return files
            .into_iter()
            .find(|f| f.extension().is_none_or(|x| x != "parquet"))
            .map(|f| dir.join(f));
    }
    let listed = read_manifest(dir, kind);
    files
        .into_iter()
        .find(|f| f != Path::new(MANIFEST) && !listed.contains(f))
        .map(|f| dir.join(f))
}

/// Every regular file under `dir`, relative to it; `Err` with the first entry that is neither
/// a file nor a directory (a link, a FIFO, ...) or cannot be read.
fn list_files(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> std::result::Result<(), PathBuf> {
    let here = dir.join(rel);
    let entries = std::fs::read_dir(&here).map_err(|_| here.clone())?;
    for e in entries {
        let e = e.map_err(|_| here.clone())?;
        let r = rel.join(e.file_name());
        match e.file_type() {
            Ok(t) if t.is_dir() => list_files(dir, &r, out)?,
            Ok(t) if t.is_file() => out.push(r),
            _ => return Err(dir.join(r)),
        }
    }
    Ok(())
}

fn manifest_header(kind: &DirKind) -> String {
    format!(
        "# written by agentmeter: {}; the files it wrote:",
        kind.what
    )
}

fn write_manifest(dir: &Path, kind: &DirKind) -> Result<()> {
    let mut files = Vec::new();
    list_files(dir, Path::new(""), &mut files)
        .map_err(|p| Error::new(format!("{}: cannot be listed", p.display())))?;
    files.sort();
    let mut text = manifest_header(kind) + "\n";
    for f in files {
        text.push_str(&f.to_string_lossy());
        text.push('\n');
    }
    let p = dir.join(MANIFEST);
    std::fs::write(&p, text).map_err(|e| Error::io(&p, e))
}

/// The files a manifest lists; none when there is no manifest of this kind.
fn read_manifest(dir: &Path, kind: &DirKind) -> HashSet<PathBuf> {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).unwrap_or_default();
    let mut lines = text.lines();
    if lines.next() != Some(manifest_header(kind).as_str()) {
        return HashSet::new();
    }
    lines.map(PathBuf::from).collect()
}

/// The directory a path is in (`.` for a bare name) and its file name.
fn beside(p: &Path) -> Result<(PathBuf, String)> {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::new(format!("{}: not a file or directory name", p.display()))
                .with_hint("give a path that ends in a name, e.g. -o out/report")
        })?;
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok((parent, name))
}

/// Best effort: the rename itself survives a power cut once its directory is synced.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A file being written, not yet at its final path: an unnamed `O_TMPFILE` where the file
/// system has them (a SIGKILL then leaves nothing), else a registered temporary name.
struct Staged {
    file: std::fs::File,
    named: Option<Temp>,
}

impl Staged {
    fn create(parent: &Path, name: &str) -> std::io::Result<Staged> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            if Path::new("/proc/self/fd").is_dir() {
                let unnamed = std::fs::OpenOptions::new()
                    .write(true)
                    .mode(0o666)
                    .custom_flags(libc::O_TMPFILE)
                    .open(parent);
                if let Ok(file) = unnamed {
                    return Ok(Staged { file, named: None });
                }
            }
        }
        let mut file = None;
        let named = Temp::create(parent, &format!(".{name}.agentmeter-"), ".tmp", |p| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(p)
                .map(|f| file = Some(f))
        })?;
        Ok(Staged {
            file: file.expect("created"),
            named: Some(named),
        })
    }

    /// Put the written file at `p`: without `force` by a link that fails if `p` exists (so
    /// nothing that appeared meanwhile is replaced), with it by a rename over `p`.
    fn publish(self, p: &Path, force: bool) -> Result<()> {
        let exists = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::new(format!("{} already exists", p.display()))
                    .with_hint("pass --force to overwrite it")
            } else {
                Error::io(p, e)
            }
        };
        let named = match self.named {
            Some(t) => t,
            None => {
                #[cfg(target_os = "linux")]
                {
                    if !force {
                        return link_unnamed(&self.file, p).map_err(exists);
                    }
                    let (parent, name) = beside(p)?;
                    let file = &self.file;
                    Temp::create(&parent, &format!(".{name}.agentmeter-"), ".tmp", |t| {
                        link_unnamed(file, t)
                    })
                    .map_err(|e| Error::io(p, e))?
                }
                #[cfg(not(target_os = "linux"))]
                unreachable!("unnamed files are made on Linux only")
            }
        };
        if !force {
            match std::fs::hard_link(named.path(), p) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists(e)),
                // A file system without hard links: checked just before, renamed now.
                Err(_) => {}
            }
        }
        std::fs::rename(named.path(), p).map_err(|e| Error::io(p, e))?;
        named.forget();
        Ok(())
    }
}

/// Give an `O_TMPFILE` file a name (fails if `to` exists).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // linkat with AT_SYMLINK_FOLLOW: std::fs::hard_link cannot follow /proc/self/fd.
fn link_unnamed(file: &std::fs::File, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::AsRawFd;
    let from = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    let to = std::ffi::CString::new(to.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; linkat does not keep them.
    let r = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
