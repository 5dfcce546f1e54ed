//! Temporary paths ([`Temp`]): removed on every exit path, by `Drop` on errors and panics, by
//! [`remove_temps_on_signals`] on SIGINT/SIGTERM, and, after a SIGKILL, by the next run that
//! writes beside them ([`sweep`]). The meter spills into them; the binary's `Output` stages
//! every user file in one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The list of live temporary paths, locked. Held across a step that must not be interrupted
/// halfway (a directory swap): a signal's cleanup waits for it.
pub fn registry() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic elsewhere while holding it leaves the list as good as before.
    TEMPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A temporary file or directory, removed when dropped and on SIGINT/SIGTERM. Its name is
/// `{prefix}{pid}-{n}{suffix}`, so [`sweep`] can tell a dead process's leftovers.
pub struct Temp {
    path: PathBuf,
}

impl Temp {
    /// Make a temporary path in `parent` with `make` (which must fail if it exists). Done under
    /// the registry's lock, so no signal falls between making it and registering it.
    pub fn create(
        parent: &Path,
        prefix: &str,
        suffix: &str,
        mut make: impl FnMut(&Path) -> std::io::Result<()>,
    ) -> std::io::Result<Temp> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let mut temps = registry();
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!("{prefix}{}-{n}{suffix}", std::process::id()));
            match make(&path) {
                Ok(()) => {
                    temps.push(path.clone());
                    return Ok(Temp { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub fn new_dir(parent: &Path, prefix: &str, suffix: &str) -> std::io::Result<Temp> {
        Temp::create(parent, prefix, suffix, |p| std::fs::create_dir(p))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// It was renamed to a final path: nothing to remove.
    pub fn forget(self) {
        registry().retain(|t| t != &self.path);
        std::mem::forget(self);
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        remove(&self.path);
        registry().retain(|t| t != &self.path);
    }
}

fn remove(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            // Files may still be appearing in it (spilling threads): try again.
            for _ in 0..5 {
                if std::fs::remove_dir_all(p).is_ok() {
                    break;
                }
            }
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// On SIGINT or SIGTERM: remove every registered temporary path, then exit with 128 + the
/// signal's number (130 for Ctrl-C). Call once, early.
#[cfg(unix)]
pub fn remove_temps_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            // Held until exit: nothing registers (or swaps a directory) after the cleanup.
            let temps = registry();
            for p in temps.iter() {
                remove(p);
            }
            crate::say!("error: interrupted");
            std::process::exit(128 + sig);
        }
    });
}

/// Elsewhere (Windows): no POSIX signals; errors and panics still clean up.
#[cfg(not(unix))]
pub fn remove_temps_on_signals() {}

/// Remove the leftovers of dead agentmeter processes in `dir` (a SIGKILL runs no cleanup):
/// entries named `{prefix}{pid}-...` whose process is gone. Only where `/proc` tells. An
/// `.old` one is a replaced `target` set aside: put back if it was never replaced.
pub fn sweep(dir: &Path, prefix: &str, target: Option<&Path>) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        match target {
            Some(t) if rest.ends_with(".old") && std::fs::symlink_metadata(t).is_err() => {
                let _ = std::fs::rename(e.path(), t);
            }
            _ => remove(&e.path()),
        }
    }
}
