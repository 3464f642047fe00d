//! One writer at a time: an exclusive lock (`flock`) on a lock file, which names the process
//! holding it, so a second run can say whom it waits for or why it refuses.
//!
//! The lock is advisory and held by an open file: it goes when the [`Guard`] is dropped or
//! the process dies, however it dies, so a lock is never left stale. The lock file itself
//! stays (removing it would let a waiter hold a lock on a file nobody else opens), emptied
//! when its holder lets go, so a run that changes nothing leaves it as it was; only while it
//! is locked does what it says about its holder count.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The lock file guarding `file`: `<file>.lock` beside it (`values.yaml.lock`).
pub fn beside(file: &Path) -> PathBuf {
    let mut name = file.file_name().map(|name| name.to_os_string()).unwrap_or_default();
    name.push(".lock");
    file.with_file_name(name)
}

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct Guard {
    // The open file is the lock.
    file: File,
    path: PathBuf,
    waited_for: Option<Holder>,
}

impl Guard {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Who held the lock when this run had to wait for it (None: it was free).
    pub fn waited_for(&self) -> Option<&Holder> {
        self.waited_for.as_ref()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Still held here, so no other holder's note is erased; closing the file unlocks.
        let _ = self.file.set_len(0);
    }
}

/// The process a lock file names as its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    /// The holder's program name (`values-merge`, `xtask`).
    pub program: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.pid, &self.program) {
            (Some(pid), Some(program)) => write!(f, "process {pid} (`{program}`)"),
            (Some(pid), None) => write!(f, "process {pid}"),
            _ => write!(f, "another process"),
        }
    }
}

/// Takes the exclusive lock on the lock file `path` (created 0600 when missing). When another
/// process holds it: with `wait`, blocks until it is free; without, refuses (exit 4) naming
/// the holder. [`exclusive_or_wait`] is the same with word of the wait.
pub fn exclusive(path: &Path, wait: bool) -> Result<Guard, Error> {
    exclusive_or_wait(path, wait, &mut |_| {})
}

/// [`exclusive`], calling `on_wait` with the holder before it blocks, so a caller can say
/// whom it waits for while it waits, not after.
pub fn exclusive_or_wait(path: &Path, wait: bool, on_wait: &mut dyn FnMut(&Holder)) -> Result<Guard, Error> {
    let mut file = open(path)?;
    let mut waited_for = None;
    if let Err(error) = flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(lock_error(path, &error));
        }
        let holder = read_holder(&mut file);
        if !wait {
            return Err(Error::refused(format!("`{}` is locked by {holder}, which is writing it now", path.display()))
                .with_hint("wait for that run to finish and try again; the lock goes when it ends, however it ends"));
        }
        on_wait(&holder);
        flock(&file, libc::LOCK_EX).map_err(|error| lock_error(path, &error))?;
        waited_for = Some(holder);
    }
    // Best effort: the lock is what matters, the note only helps a waiter explain itself.
    let _ = write_holder(&mut file);
    Ok(Guard { file, path: path.to_path_buf(), waited_for })
}

fn open(path: &Path) -> Result<File, Error> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        // A lock file that is a symbolic link is not ours to follow.
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|error| {
            if error.raw_os_error() == Some(libc::ELOOP) {
                return Error::refused(format!(
                    "`{}` is a symbolic link; a lock file must be a plain file",
                    path.display()
                ))
                .with_hint("remove the link; the next run creates the lock file itself");
            }
            lock_error(path, &error)
        })
}

fn flock(file: &File, operation: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock on a file descriptor this `File` owns and keeps open.
        let result = unsafe { libc::flock(file.as_raw_fd(), operation) };
        if result == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        // A signal while blocked is not a reason to give up the wait.
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

fn lock_error(path: &Path, error: &io::Error) -> Error {
    Error::bad_input(format!("cannot lock `{}`: {}", path.display(), crate::fs::plain_io_error(error)))
        .with_hint("check that the directory is writable by you")
}

/// The holder as the lock file names it: `pid <n>` and `program <name>` lines. A pid that is
/// no longer running (the holder locked but had not yet written its own line) names nobody.
fn read_holder(file: &mut File) -> Holder {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.take(4096).read_to_string(&mut text));
    let field = |name: &str| {
        text.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' '))).map(str::trim)
    };
    let pid = field("pid").and_then(|pid| pid.parse::<u32>().ok()).filter(|&pid| is_running(pid));
    let program = pid.and(field("program")).map(str::to_string);
    Holder { pid, program }
}

fn write_holder(file: &mut File) -> io::Result<()> {
    let program = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name().map(|name| name.to_string_lossy().into_owned()))
        .unwrap_or_default();
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(format!("pid {}\nprogram {program}\n", std::process::id()).as_bytes())
}

fn is_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_lock_file_is_beside_and_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = beside(&dir.path().join("values.yaml"));
        assert_eq!(path, dir.path().join("values.yaml.lock"));
        let guard = exclusive(&path, false).expect("free");
        assert_eq!(guard.path(), path);
        assert!(guard.waited_for().is_none());
        let mode = std::fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with(&format!("pid {}\nprogram ", std::process::id())), "{text}");
        drop(guard);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "", "emptied when let go");
    }

    #[test]
    fn a_second_holder_is_refused_with_the_first_named_or_waits() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.lock");
        let first = exclusive(&path, false).expect("free");
        // flock conflicts between two open files even in one process, as between two runs.
        let refused = exclusive(&path, false).expect_err("held");
        assert_eq!(refused.code, crate::ExitCode::Refused);
        assert!(refused.message.contains(&format!("locked by process {}", std::process::id())), "{}", refused.message);

        // The waiter tells when it blocks; only then is the first lock let go, so the test
        // does not depend on how fast a loaded machine starts a thread.
        let (blocked, waiting) = std::sync::mpsc::channel();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                exclusive_or_wait(&path, true, &mut |holder| {
                    let _ = blocked.send(holder.clone());
                })
                .map(|guard| guard.waited_for().cloned())
            })
        };
        let told = waiting.recv().expect("the waiter blocked on the lock");
        assert_eq!(told.pid, Some(std::process::id()));
        drop(first);
        let waited_for = waiter.join().expect("waiter ran").expect("the lock once free");
        assert_eq!(waited_for, Some(told));
    }

    #[test]
    fn a_dead_pid_names_nobody_and_a_link_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("x.lock");
        std::fs::write(&path, "pid 4000000\nprogram ghost\n").expect("write");
        let mut file = std::fs::File::open(&path).expect("open");
        assert_eq!(read_holder(&mut file), Holder { pid: None, program: None });
        assert_eq!(Holder { pid: None, program: None }.to_string(), "another process");

        let link = dir.path().join("link.lock");
        std::os::unix::fs::symlink(&path, &link).expect("symlink");
        let error = exclusive(&link, false).expect_err("a link");
        assert_eq!(error.code, crate::ExitCode::Refused);
    }
}
