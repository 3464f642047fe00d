//! The values go to helm through a file only we can read: mode 0600 inside a private 0700
//! directory, removed when dropped (on success, on error, and after Ctrl-C, SIGTERM or
//! SIGHUP), never argv. The directory is made in `--work-dir` when the caller names one (the
//! install's 0700 state directory), else in the system temp directory.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use airflow_kit_core::{Document, Error, fs};

/// Where the private directory is made: `--work-dir DIR`, checked (and made 0700 when it is
/// missing), or the system temp directory `temp_dir` as the environment gives it.
pub fn base_dir(work_dir: Option<&Path>, temp_dir: &Path) -> Result<PathBuf, Error> {
    match work_dir {
        Some(dir) => {
            check_work_dir(dir, current_uid())?;
            Ok(dir.to_path_buf())
        }
        None => Ok(temp_dir.to_path_buf()),
    }
}

/// The effective user id: whose directories we trust.
pub fn current_uid() -> u32 {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// A work directory must be `uid`'s and writable by no one else: whoever can write into it
/// can swap our private directory for one of theirs between its creation and helm's read. A
/// missing one is made with mode 0700 at once (its parent must exist), not chmod-ed after.
pub fn check_work_dir(dir: &Path, uid: u32) -> Result<(), Error> {
    let shown = dir.display();
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => {
            return Err(Error::bad_input(format!(
                "cannot create `--work-dir {shown}`: {}",
                fs::plain_io_error(&error)
            ))
            .with_hint("pass an existing directory of your own, or one whose parent exists"));
        }
    }
    let metadata = std::fs::metadata(dir).map_err(|error| {
        Error::bad_input(format!("cannot read `--work-dir {shown}`: {}", fs::plain_io_error(&error)))
            .with_hint("pass a directory of your own")
    })?;
    if !metadata.is_dir() {
        return Err(Error::bad_input(format!("`--work-dir {shown}` is not a directory"))
            .with_hint("pass a directory of your own, e.g. `mkdir -m 700 ~/.airflow-kit-work`"));
    }
    if metadata.uid() != uid {
        return Err(Error::refused(format!(
            "`--work-dir {shown}` belongs to another user (uid {}): helm-run keeps every secret of the values there",
            metadata.uid()
        ))
        .with_hint("pass a directory of your own, e.g. `mkdir -m 700 ~/.airflow-kit-work`"));
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Error::refused(format!(
            "`--work-dir {shown}` is writable by others (mode {mode:04o}): another user could replace helm-run's \
             private directory in it"
        ))
        .with_hint(format!("`chmod 700 {shown}`, or pass a directory only you can write")));
    }
    Ok(())
}

/// A private temp copy of the values document, deleted with its directory on drop.
#[derive(Debug)]
pub struct ValuesFile {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl ValuesFile {
    /// Writes the document's text (exactly as given, so helm reads what the user wrote)
    /// into a fresh private directory under `temp_base`.
    pub fn write(document: &Document, temp_base: &Path) -> Result<ValuesFile, Error> {
        let dir = tempfile::Builder::new().prefix("helm-run-").tempdir_in(temp_base).map_err(|error| {
            Error::bad_input(format!(
                "cannot create a private directory in `{}`: {}",
                temp_base.display(),
                fs::plain_io_error(&error)
            ))
            .with_hint("set TMPDIR to a writable directory")
        })?;
        fs::create_private_dir(dir.path(), 0o700)?;
        let path = dir.path().join("values.yaml");
        fs::write_new(&path, document.text.as_bytes(), 0o600)?;
        Ok(ValuesFile { dir, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file now (drop would too), reporting nothing: there is nothing to do
    /// about a temp directory that is already gone.
    pub fn remove(self) {
        let _ = self.dir.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_dir_must_be_ours_and_closed_to_others() {
        let base = tempfile::tempdir().expect("temp dir");
        let uid = current_uid();
        // Missing: made 0700 (whatever the umask), then fine.
        let fresh = base.path().join("fresh");
        check_work_dir(&fresh, uid).expect("made");
        assert_eq!(fs::mode_of(&fresh), Some(0o700));
        check_work_dir(&fresh, uid).expect("again");
        // Another user's directory, as if `uid` were someone else.
        let error = check_work_dir(&fresh, uid.wrapping_add(1)).expect_err("not ours");
        assert_eq!(error.code, airflow_kit_core::ExitCode::Refused);
        assert!(error.message.contains("belongs to another user"), "{}", error.message);
        // Group-writable.
        std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o770)).expect("chmod");
        let error = check_work_dir(&fresh, uid).expect_err("group-writable");
        assert_eq!(error.code, airflow_kit_core::ExitCode::Refused);
        assert!(error.hint.as_deref().is_some_and(|hint| hint.contains("chmod 700")), "{error:?}");
        // A parent that does not exist, and a file.
        let error = check_work_dir(&base.path().join("no/such"), uid).expect_err("no parent");
        assert_eq!(error.code, airflow_kit_core::ExitCode::BadInput);
        let file = base.path().join("file");
        std::fs::write(&file, "").expect("write");
        let error = check_work_dir(&file, uid).expect_err("a file");
        assert!(error.message.contains("not a directory"), "{}", error.message);
        assert_eq!(base_dir(None, base.path()).expect("temp"), base.path());
    }

    #[test]
    fn private_file_gone_after_drop() {
        let base = tempfile::tempdir().expect("temp dir");
        let document = Document::parse("a: 1\n", "<test>").expect("parse");
        let file = ValuesFile::write(&document, base.path()).expect("write");
        let path = file.path().to_path_buf();
        assert_eq!(fs::mode_of(&path), Some(0o600));
        assert_eq!(fs::mode_of(path.parent().expect("dir")), Some(0o700));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "a: 1\n");
        drop(file);
        assert!(!path.exists());
        assert!(!path.parent().expect("dir").exists());
    }
}
