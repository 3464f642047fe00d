//! Reading the values document both subcommands filter: stdin, or a FILE that may not exist
//! yet. The README's pipe names the cumulative file (`secret-gen values.yaml | ...`), which on
//! a first run does not exist; refusing it there would let the rest of the pipe write values
//! without a single pinned secret, so a missing FILE is an empty document, said once.

use std::path::Path;

use airflow_kit_core::{Document, Error, Input};

/// The document read, and the note to print on stderr when FILE did not exist yet.
#[derive(Debug)]
pub struct Read {
    pub document: Document,
    pub note: Option<String>,
}

/// The input named on the command line: `-` or nothing is stdin, anything else a file.
pub fn input_from_arg(arg: Option<&str>) -> Input {
    arg.map(Input::from_arg).unwrap_or(Input::Stdin)
}

/// Reads `input` as a values document. A path that names nothing at all (not even a dangling
/// symlink) is an empty document with a note, provided its directory exists: a missing
/// directory is far more likely a typo than a first run, and values-merge could not write the
/// cumulative file there either.
pub fn read_values(input: &Input) -> Result<Read, Error> {
    let Input::Path(path) = input else {
        return Ok(Read { document: Document::read(input)?, note: None });
    };
    if !names_nothing(path) {
        return Ok(Read { document: Document::read(input)?, note: None });
    }
    let parent = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(Error::bad_input(format!(
            "cannot read `{}`: neither it nor its directory `{}` exists",
            path.display(),
            parent.display()
        ))
        .with_hint(
            "check the path; a values file that does not exist yet is read as empty, but its directory must exist",
        ));
    }
    Ok(Read {
        document: Document::parse("", &input.name())?,
        note: Some(format!("{} does not exist yet; starting from an empty document", path.display())),
    })
}

/// True when nothing is at `path`: no file, no directory, no symlink (a dangling symlink is
/// read, and so refused with its own error, rather than taken for a first run).
fn names_nothing(path: &Path) -> bool {
    matches!(std::fs::symlink_metadata(path), Err(error) if error.kind() == std::io::ErrorKind::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &Path) -> Result<(String, Option<String>), Error> {
        read_values(&Input::Path(path.to_path_buf())).map(|read| (read.document.to_yaml(), read.note))
    }

    #[test]
    fn a_missing_file_is_an_empty_document_with_a_note() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("values.yaml");
        let (yaml, note) = check(&missing).expect("reads");
        assert_eq!(yaml, "{}\n");
        assert_eq!(
            note.as_deref(),
            Some(format!("{} does not exist yet; starting from an empty document", missing.display()).as_str())
        );
    }

    #[test]
    fn an_existing_file_is_read_without_a_note() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("values.yaml");
        std::fs::write(&file, "a: 1\n").expect("write");
        assert_eq!(check(&file).expect("reads"), ("a: 1\n".to_string(), None));
    }

    #[test]
    fn a_missing_directory_or_a_dangling_symlink_is_bad_input() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = check(&dir.path().join("nope/values.yaml")).expect_err("no directory");
        assert_eq!(error.code.code(), 2);
        assert!(error.message.contains("neither it nor its directory"), "{}", error.message);
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(dir.path().join("gone.yaml"), &link).expect("symlink");
        let error = check(&link).expect_err("dangling symlink");
        assert!(error.message.contains("cannot read"), "{}", error.message);
    }

    #[test]
    fn dash_and_nothing_are_stdin() {
        assert_eq!(input_from_arg(None), Input::Stdin);
        assert_eq!(input_from_arg(Some("-")), Input::Stdin);
        assert_eq!(input_from_arg(Some("v.yaml")), Input::Path("v.yaml".into()));
    }
}
