//! `cargo xtask dist`: man pages and shell completions for every tool, rendered from the same
//! clap definitions the binaries parse with (each tool library's `cli::command()`), and the
//! failure table (docs/failures.md) as the page `airflow-kit-failures(7)` that every tool's
//! page points at: an installed man page can only point at another installed page.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap_complete::Shell;

#[derive(clap::Args)]
pub struct DistArgs {
    /// Where to write `man/` and `completions/` [default: target/dist in the project root].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Every tool, by the function that builds its command line.
const TOOLS: &[fn() -> clap::Command] = &[
    values_merge::cli::command,
    secret_gen::cli::command,
    known_hosts::cli::command,
    helm_run::cli::command,
    pod_inspect::cli::command,
];

/// The shells we write completions for, each into `completions/<shell>/`.
const SHELLS: &[Shell] = &[Shell::Bash, Shell::Zsh, Shell::Fish];

pub fn run(args: &DistArgs) -> anyhow::Result<()> {
    // A relative `--out` is the user's, relative to where they ran the command; only the
    // default is anchored to the project root.
    let out = args.out.clone().unwrap_or_else(|| crate::project_root().join("target/dist"));
    let man_dir = out.join("man");
    create_dir(&man_dir)?;
    for command in TOOLS {
        let command = command();
        let name = command.get_name().to_string();
        // One page for the tool and one per subcommand (`helm-run-upgrade.1`), as man(1)
        // users expect from git-style tools; clap_mangen names them that way itself.
        write_tool_pages(command.clone(), &man_dir)
            .with_context(|| format!("cannot write the man pages of `{name}` to `{}`", man_dir.display()))?;
        for &shell in SHELLS {
            let dir = out.join("completions").join(shell.to_string());
            create_dir(&dir)?;
            let mut command = command.clone();
            clap_complete::generate_to(shell, &mut command, &name, &dir)
                .with_context(|| format!("cannot write the {shell} completions of `{name}` to `{}`", dir.display()))?;
        }
        eprintln!("dist: {name}: man page and bash, zsh and fish completions");
    }
    let failures = man_dir.join(format!("{FAILURES_PAGE}.7"));
    let tools: Vec<String> = TOOLS.iter().map(|command| command().get_name().to_string()).collect();
    std::fs::write(&failures, failures_page(FAILURES_MARKDOWN, &tools))
        .with_context(|| format!("cannot write `{}`", failures.display()))?;
    eprintln!("dist: {FAILURES_PAGE}(7): the failure table F1-F21");
    eprintln!("dist: wrote {} and {}", man_dir.display(), out.join("completions").display());
    Ok(())
}

/// The page of the failure table, and the file it is rendered from.
const FAILURES_PAGE: &str = "airflow-kit-failures";
const FAILURES_MARKDOWN: &str = include_str!("../../docs/failures.md");

/// The SEE ALSO section every tool page ends with: the failure codes its messages name.
const SEE_ALSO: &str = ".SH \"SEE ALSO\"\n.BR airflow\\-kit\\-failures (7):\n\
every failure code (F1\\-F21) named in the messages and reports of airflow\\-kit's tools, \
with what you see, the cause, what the tools do about it, and the fix.\n";

/// Writes the page of `command` and of each of its subcommands, as `clap_mangen::generate_to`
/// does, each followed by [`SEE_ALSO`].
fn write_tool_pages(command: clap::Command, dir: &Path) -> anyhow::Result<()> {
    fn write(command: clap::Command, dir: &Path) -> anyhow::Result<()> {
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()).cloned() {
            write(sub, dir)?;
        }
        let man = clap_mangen::Man::new(command);
        let path = dir.join(man.get_filename());
        let mut page = Vec::new();
        man.render(&mut page)?;
        page.extend_from_slice(SEE_ALSO.as_bytes());
        std::fs::write(&path, page).with_context(|| format!("cannot write `{}`", path.display()))
    }
    // As clap_mangen does: no page for clap's own `help` subcommand, and the command built so
    // subcommand pages get their full names (`helm-run-upgrade`).
    let mut command = command.disable_help_subcommand(true);
    command.build();
    write(command, dir)
}

/// docs/failures.md as a section-7 man page. The file is written for this: a `#` title, an
/// introduction, then one `##` heading per failure, paragraphs, `**bold**`, `` `code` `` and
/// `[text](#anchor)` links (rendered as their text); `<a id>` anchors are for the web only.
fn failures_page(markdown: &str, tools: &[String]) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut page = format!(".TH {FAILURES_PAGE} 7 \"\" \"airflow\\-kit {version}\" \"airflow-kit\"\n");
    let mut paragraph: Vec<&str> = Vec::new();
    let mut in_failures = false;
    let flush = |paragraph: &mut Vec<&str>, page: &mut String| {
        if !paragraph.is_empty() {
            page.push_str(".PP\n");
            page.push_str(&roff_text(&paragraph.join(" ")));
            page.push('\n');
            paragraph.clear();
        }
    };
    for line in markdown.lines() {
        let line = line.trim_end();
        if let Some(title) = line.strip_prefix("# ") {
            flush(&mut paragraph, &mut page);
            page.push_str(&format!(".SH NAME\n{FAILURES_PAGE} \\- {}\n.SH DESCRIPTION\n", roff_text(title)));
        } else if let Some(heading) = line.strip_prefix("## ") {
            flush(&mut paragraph, &mut page);
            if !in_failures {
                page.push_str(".SH FAILURES\n");
                in_failures = true;
            }
            page.push_str(&format!(".SS \"{}\"\n", roff_text(heading).replace('"', "\\(dq")));
        } else if line.is_empty() || (line.starts_with("<a id=") && line.ends_with("</a>")) {
            flush(&mut paragraph, &mut page);
        } else {
            paragraph.push(line.trim());
        }
    }
    flush(&mut paragraph, &mut page);
    page.push_str(&format!(
        ".SH \"SEE ALSO\"\n{}\n",
        roff_text(&tools.iter().map(|tool| format!("{tool}(1)")).collect::<Vec<_>>().join(", "))
    ));
    page
}

/// One line of markdown text as roff: escapes first (`\`, `-`, a leading `.` or `'`), then
/// `**bold**` and `` `code` `` in bold, links as their text.
fn roff_text(markdown: &str) -> String {
    let mut text = String::new();
    let mut rest = markdown;
    // Links: `[text](target)` keeps its text.
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|at| open + at) else { break };
        let Some(end) = rest[close..].find(')').map(|at| close + at) else { break };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    let mut out = String::new();
    let mut bold = false;
    let mut chars = escaped.chars().peekable();
    while let Some(c) = chars.next() {
        let marker = match c {
            '`' => true,
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                true
            }
            _ => false,
        };
        if marker {
            out.push_str(if bold { "\\fR" } else { "\\fB" });
            bold = !bold;
        } else {
            out.push(c);
        }
    }
    if bold {
        out.push_str("\\fR");
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::{failures_page, roff_text};

    #[test]
    fn markdown_text_becomes_roff() {
        for (markdown, roff) in [
            ("plain words", "plain words"),
            ("**Fix.** run `known-hosts --from f`", "\\fBFix.\\fR run \\fBknown\\-hosts \\-\\-from f\\fR"),
            ("as for [F1](#f1): a `GIT_SYNC_*` name", "as for F1: a \\fBGIT_SYNC_*\\fR name"),
            (".starts with a dot", "\\&.starts with a dot"),
            ("a \\ backslash", "a \\e backslash"),
            ("`unclosed", "\\fBunclosed\\fR"),
        ] {
            assert_eq!(roff_text(markdown), roff, "{markdown}");
        }
    }

    #[test]
    fn the_failure_table_has_a_subsection_per_heading_and_no_anchor_markup() {
        let page = failures_page(
            "# Title\n\nIntro line one\nline two.\n\n<a id=\"f1\"></a>\n## F1: \"quoted\" thing\n\n**Symptom.** x\n",
            &["values-merge".to_string()],
        );
        assert!(page.starts_with(".TH airflow-kit-failures 7 "), "{page}");
        assert!(
            page.contains(
                ".SH NAME\nairflow-kit-failures \\- Title\n.SH DESCRIPTION\n.PP\nIntro line one line two.\n.SH FAILURES\n\
                 .SS \"F1: \\(dqquoted\\(dq thing\"\n.PP\n\\fBSymptom.\\fR x\n"
            ),
            "{page}"
        );
        assert!(page.ends_with(".SH \"SEE ALSO\"\nvalues\\-merge(1)\n"), "{page}");
        assert!(!page.contains("<a"), "{page}");
    }
}
