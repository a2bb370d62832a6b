//! Processes a cluster leaves behind: pid files, whether their process lives and is PostgreSQL.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The pid and data directory recorded in a `postmaster.pid` or socket lock file.
pub(super) fn read_pid_file(path: &Path) -> Option<(i32, PathBuf)> {
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    let dir = PathBuf::from(lines.next().unwrap_or_default().trim());
    Some((pid, dir))
}

/// Whether `pid` is a running process. A zombie (dead, not yet reaped by its parent; a killed
/// postmaster reparented to an init that reaps slowly) counts as gone.
pub(super) fn is_alive(pid: i32) -> bool {
    let signalable = match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(errno) => errno == nix::errno::Errno::EPERM,
    };
    let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false);
    signalable && !zombie
}

/// Whether `pid` is a running PostgreSQL server process (and not a reused pid).
pub(super) fn is_postgres_process(pid: i32) -> bool {
    if pid <= 0 || !is_alive(pid) {
        return false;
    }
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).or_else(|_| {
        Command::new("ps")
            .args(["-p", &pid.to_string(), "-o", "comm="])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    });
    comm.map(|c| {
        c.trim()
            .rsplit('/')
            .next()
            .unwrap_or("")
            .starts_with("postgres")
    })
    .unwrap_or(false)
}

pub(super) fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

pub(super) fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pid_file_that_names_a_live_process_which_is_not_postgres_is_stale() {
        assert!(!is_postgres_process(std::process::id() as i32));
        assert!(!is_postgres_process(i32::MAX));
    }
}
