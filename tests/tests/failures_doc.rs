//! The failure table, docs/failures.md, is the one definition of the codes F1-F21: every code
//! that any message, report, doc or test in the repository names has its entry there (anchor
//! `#fN`, with symptom, cause, what airflow-kit does, and the fix), and README.md links each
//! code it names to that entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use airflow_kit_tests::bins::workspace_root;

/// The highest code the table defines.
const LAST: u32 = 21;

/// The four parts of every entry, in order.
const PARTS: [&str; 4] = ["**Symptom.**", "**Cause.**", "**What airflow-kit does.**", "**Fix.**"];

fn failures_md() -> String {
    let path = workspace_root().join("docs/failures.md");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read `{}`: {error}", path.display()))
}

/// Each `F<number>` standing as a word in `text` (`F4`, `(F13)`, `F1-F3`), with its byte offset.
fn codes_in(text: &str) -> Vec<(usize, u32)> {
    let bytes = text.as_bytes();
    let word = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    let mut found = Vec::new();
    for (at, _) in text.match_indices('F') {
        if at > 0 && word(bytes[at - 1]) {
            continue;
        }
        let digits = bytes[at + 1..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        let end = at + 1 + digits;
        if digits == 0 || (end < bytes.len() && word(bytes[end])) {
            continue;
        }
        if let Ok(number) = text[at + 1..end].parse() {
            found.push((at, number));
        }
    }
    found
}

/// Every text file of the repository that people or programs read: sources, docs, fixtures,
/// snapshots, scripts; not build output or git's own files.
fn repository_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                repository_files(&path, files);
            }
        } else if ["rs", "md", "yaml", "yml", "toml", "sh", "snap", "json", "txt"]
            .iter()
            .any(|ext| path.extension().is_some_and(|e| e == *ext))
        {
            files.push(path);
        }
    }
}

#[test]
fn every_code_the_repository_names_has_an_entry_in_the_failure_table() {
    let table = failures_md();
    let root = workspace_root();
    let mut files = Vec::new();
    repository_files(&root, &mut files);
    let mut missing: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut named = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        for (at, code) in codes_in(&text) {
            named += 1;
            if !table.contains(&format!("<a id=\"f{code}\"></a>\n## F{code}: ")) {
                let line = text[..at].lines().count().max(1);
                let relative = path.strip_prefix(&root).unwrap_or(path).display().to_string();
                missing.entry(code).or_default().push(format!("{relative}:{line}"));
            }
        }
    }
    // The scan found the codes the tools really use (pod-inspect's rules, helm-run's notes).
    assert!(named > 50, "only {named} codes found: the scan is broken");
    assert!(missing.is_empty(), "codes named in the repository without an entry in docs/failures.md: {missing:#?}");
}

#[test]
fn the_table_has_one_complete_entry_per_code_in_order() {
    let table = failures_md();
    let mut previous = 0;
    for code in 1..=LAST {
        let anchor = format!("<a id=\"f{code}\"></a>\n## F{code}: ");
        assert_eq!(table.matches(&anchor).count(), 1, "F{code}: one anchor `#f{code}` and heading");
        let start = table.find(&anchor).expect("anchor");
        assert!(start > previous, "F{code} is out of order");
        previous = start;
        let end = table[start + anchor.len()..].find("<a id=").map_or(table.len(), |at| start + anchor.len() + at);
        let entry = &table[start..end];
        let mut from = 0;
        for part in PARTS {
            let at = entry[from..].find(part).unwrap_or_else(|| panic!("F{code} lacks {part} (in order)\n{entry}"));
            from += at + part.len();
        }
    }
    assert!(!table.contains(&format!("<a id=\"f{}\"", LAST + 1)), "a code past F{LAST}: update LAST and the man page");
}

#[test]
fn the_readme_links_each_code_it_names_to_its_entry() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    assert!(readme.contains("[docs/failures.md](docs/failures.md)"), "README does not link docs/failures.md");
    let mut in_code = false;
    let mut unlinked = Vec::new();
    for (number, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        // Sample output in a code block is what a tool prints, not a reference to follow.
        if in_code {
            continue;
        }
        for (at, code) in codes_in(line) {
            let link = format!("[F{code}](docs/failures.md#f{code})");
            if !line[at.saturating_sub(1)..].starts_with(&link) {
                unlinked.push(format!("README.md:{}: F{code}", number + 1));
            }
        }
    }
    assert!(unlinked.is_empty(), "codes not linked to docs/failures.md#fN:\n{}", unlinked.join("\n"));
}

#[test]
fn codes_are_found_as_words_only() {
    let found: Vec<u32> =
        codes_in("F1, (F13), F1-F3, F20's; not SHA256:ab+F9x or xF4 or F2b or F_").iter().map(|c| c.1).collect();
    assert_eq!(found, [1, 13, 1, 3, 20]);
}

/// What a user reads (messages in string literals, the READMEs) sends them to the table in the
/// repository, never to the shared test-data folder beside a developer's checkout, which a
/// user does not have. Developer comments may still cite the reference they came from.
#[test]
fn no_message_or_readme_sends_the_user_to_the_shared_folder_for_the_table() {
    let root = workspace_root();
    let mut files = Vec::new();
    repository_files(&root, &mut files);
    let mut offenders = Vec::new();
    for path in &files {
        let relative = path.strip_prefix(&root).unwrap_or(path).to_path_buf();
        // The harness's own tests name the folder on purpose.
        if relative.starts_with("tests") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let is_rust = path.extension().is_some_and(|ext| ext == "rs");
        for (number, line) in text.lines().enumerate() {
            let comment = is_rust && line.trim_start().starts_with("//");
            if line.contains("reference/failures.md") && !comment {
                offenders.push(format!("{}:{}: {}", relative.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "these send the user to shared/reference/failures.md, which is not in the repository; name \
         docs/failures.md#fN (or airflow-kit-failures(7)) instead:\n{}",
        offenders.join("\n")
    );
}
