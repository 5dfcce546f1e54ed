//! Helpers shared by the bench programs (`throughput`, `vs_ccusage`), each of which includes
//! this file with `mod common;`.

// Each bench compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::process::Command;
use std::time::Instant;

/// xorshift64: fast and deterministic. Generated inputs are reused while their marker files
/// exist, so the sequence drawn from a given seed must never change.
pub struct Rng(u64);

impl Rng {
    /// Seeded through splitmix64 (never 0), so that nearby seeds give unrelated sequences.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
    /// `state` as the xorshift state itself, unmixed (must not be 0).
    pub fn from_state(state: u64) -> Rng {
        Rng(state)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// `lo..=hi`
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    /// True `per_mille` times in 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// The variable `name` parsed, or `default` if it is unset or blank; exits (status 2) with a
/// message if it does not parse.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().unwrap_or_else(|_| {
            eprintln!(
                "{name}={v:?}: expected a value of type {}",
                std::any::type_name::<T>()
            );
            std::process::exit(2)
        }),
        _ => default,
    }
}

/// "AMD EPYC 7B13, 2 cores, 23.5 GiB RAM, Linux 6.1".
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, v)| v.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let kernel = kernel.trim().split('-').next().unwrap_or("");
    format!(
        "{cpu}, {cores} cores, {:.1} GiB RAM, Linux {kernel}",
        ram_kib / (1u64 << 20) as f64
    )
}

/// What `run_timed` measured of a child.
#[derive(Clone, Copy)]
pub struct Usage {
    /// Wall time from spawn to exit.
    pub secs: f64,
    /// User + system CPU time.
    pub cpu: f64,
    /// Peak RSS.
    pub rss_kib: i64,
}

/// Spawn `cmd` (its stdin, stdout and stderr as set by the caller) and wait for it with
/// `wait4`. Err if it cannot be spawned or does not exit with status 0.
pub fn run_timed(cmd: &mut Command) -> Result<Usage, String> {
    let start = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("{cmd:?}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid, and we wait4 on our own child with valid pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    // Reaped by wait4 above.
    std::mem::forget(child);
    if r != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("{cmd:?} failed (wait status {status})"));
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Usage {
        secs,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        rss_kib: usage.ru_maxrss,
    })
}
