//! File writes that never leave a half-written file behind: temp file + fsync + rename.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Replaces `path` with `contents` atomically and sets `mode`: a reader sees the old file or the
/// new one, never a mix, and a crash mid-write leaves the old file untouched.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), Error> {
    let temp = temp_path_beside(path);
    let result = write_temp_then_rename(&temp, path, contents, mode);
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|error| write_error(path, &error))
}

/// Writes a file that must not exist yet (a private key, say). Fails with `AlreadyExists`
/// rather than replacing anything; the content appears whole or not at all.
pub fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), Error> {
    if path.exists() {
        return Err(Error::refused(format!("`{}` already exists; not overwriting it", path.display()))
            .with_hint("move the existing file away first if it is really to be replaced"));
    }
    let temp = temp_path_beside(path);
    let result = (|| -> io::Result<()> {
        write_temp(&temp, contents, mode)?;
        // A hard link fails when the target exists, so two writers cannot both win.
        fs::hard_link(&temp, path)?;
        fs::remove_file(&temp)?;
        sync_parent(path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|error| write_error(path, &error))
}

/// Creates `dir` (its parents as usual) with `mode` from the start, so there is no moment in
/// which another user could open it; an existing one must be the caller's own (see
/// [`check_trusted`]) and is then set to `mode`, so keys and state stay private.
pub fn create_private_dir(dir: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.exists() && !dir.is_dir() {
        return Err(Error::bad_input(format!("`{}` exists and is not a directory", dir.display()))
            .with_hint("choose another directory, or move the file out of the way"));
    }
    if !dir.exists() {
        if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|error| write_error(parent, &error))?;
        }
        match fs::DirBuilder::new().mode(mode).create(dir) {
            Ok(()) => {}
            // Made in between by someone else: it must pass the same check as any existing one.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(write_error(dir, &error)),
        }
    }
    check_trusted(dir, false)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(|error| write_error(dir, &error))
}

/// Refuses (exit 4) a path another user could have planted or can change: one not owned by the
/// caller, or writable by group or others; with `private` (a key, the cumulative values), also
/// one they can read. A path that does not exist passes: there is nothing to trust yet.
pub fn check_trusted(path: &Path, private: bool) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(Error::refused(format!("cannot check `{}`: {}", path.display(), plain_io_error(&error)))
                .with_hint("check the path and its permissions"));
        }
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if metadata.uid() != me {
        return Err(Error::refused(format!(
            "`{}` belongs to another user (uid {}), so it is not used: anyone who planted it could control what is deployed",
            path.display(),
            metadata.uid()
        ))
        .with_hint("if you did not make it, move it away and run again; if it is yours, `chown` it to yourself"));
    }
    let mode = metadata.permissions().mode() & 0o777;
    let open = if private { mode & 0o077 } else { mode & 0o022 };
    if open != 0 {
        let (what, fix) = match (metadata.is_dir(), private) {
            (true, _) => ("writable by other users", "chmod 700"),
            (false, true) => ("readable or writable by other users", "chmod 600"),
            (false, false) => ("writable by other users", "chmod 644"),
        };
        return Err(Error::refused(format!("`{}` is {what} (mode {mode:o}), so it is not used", path.display()))
            .with_hint(format!("check that nobody changed it, then `{fix} {}`", path.display())));
    }
    Ok(())
}

/// The permission bits of a file (`0o600`), or None when it cannot be read.
pub fn mode_of(path: &Path) -> Option<u32> {
    fs::metadata(path).ok().map(|metadata| metadata.permissions().mode() & 0o7777)
}

fn write_error(path: &Path, error: &io::Error) -> Error {
    let hint = match error.kind() {
        io::ErrorKind::PermissionDenied => "check that the directory is writable by you",
        io::ErrorKind::NotFound => "create the directory first",
        io::ErrorKind::AlreadyExists => "move the existing file away, or pass `--rotate` to replace it",
        _ => "check the path and the free disk space",
    };
    let code =
        if error.kind() == io::ErrorKind::AlreadyExists { crate::ExitCode::Refused } else { crate::ExitCode::BadInput };
    Error::new(code, format!("cannot write `{}`: {}", path.display(), plain_io_error(error))).with_hint(hint)
}

/// An io::Error's text without the "(os error N)" suffix, lowercase as our messages are.
pub fn plain_io_error(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match text.find(" (os error") {
        Some(end) => text[..end].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

fn temp_path_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let unique = format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
    );
    path.with_file_name(unique)
}

fn write_temp(temp: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let mut file: File = OpenOptions::new().write(true).create_new(true).mode(mode).open(temp)?;
    // The umask may have narrowed the mode at creation; set it exactly.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(contents)?;
    file.sync_all()
}

fn write_temp_then_rename(temp: &Path, path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_temp(temp, contents, mode)?;
    fs::rename(temp, path)?;
    sync_parent(path)
}

fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_callers_own_private_paths_are_trusted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path().join("state");
        create_private_dir(&state, 0o700).expect("created");
        assert_eq!(mode_of(&state), Some(0o700));
        let values = state.join("values.yaml");
        assert!(check_trusted(&values, true).is_ok(), "a missing file has nothing to trust");
        write_atomic(&values, b"a: 1\n", 0o600).expect("written");
        assert!(check_trusted(&values, true).is_ok());
        fs::set_permissions(&values, fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = check_trusted(&values, true).expect_err("readable by others");
        assert_eq!(error.code, crate::ExitCode::Refused);
        assert!(error.hint.expect("hint").contains("chmod 600"));
        assert!(check_trusted(&values, false).is_ok(), "a public file may be readable");
        fs::set_permissions(&state, fs::Permissions::from_mode(0o777)).expect("chmod");
        let error = create_private_dir(&state, 0o700).expect_err("a world-writable state directory");
        assert!(error.message.contains("writable by other users"), "{}", error.message);
    }

    #[test]
    fn write_atomic_replaces_and_sets_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("values.yaml");
        fs::write(&path, "old\n").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        write_atomic(&path, b"new\n", 0o600).expect("atomic write");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new\n");
        assert_eq!(mode_of(&path), Some(0o600));
        let leftovers: Vec<_> = fs::read_dir(dir.path()).expect("list").collect();
        assert_eq!(leftovers.len(), 1, "no temp file may be left behind");
    }

    #[test]
    fn write_new_refuses_an_existing_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("id_ed25519");
        write_new(&path, b"one", 0o600).expect("first write");
        let error = write_new(&path, b"two", 0o600).expect_err("second write must fail");
        assert_eq!(error.code, crate::ExitCode::Refused);
        assert_eq!(fs::read(&path).expect("read"), b"one");
    }

    #[test]
    fn write_atomic_into_missing_dir_fails_cleanly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = write_atomic(&dir.path().join("nope/values.yaml"), b"x", 0o600).expect_err("must fail");
        assert_eq!(error.code, crate::ExitCode::BadInput);
        assert!(error.message.starts_with("cannot write"), "{}", error.message);
    }
}
