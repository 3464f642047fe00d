//! The values go to helm through a file only we can read: mode 0600 inside a private 0700
//! directory, removed when dropped (on success, on error, and after Ctrl-C), never argv.

use std::path::{Path, PathBuf};

use airflow_kit_core::{Document, Error, fs};

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
