//! `cargo xtask dist`: man pages and shell completions for every tool, rendered from the same
//! clap definitions the binaries parse with (each tool library's `cli::command()`).

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
        clap_mangen::generate_to(command.clone(), &man_dir)
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
    eprintln!("dist: wrote {} and {}", man_dir.display(), out.join("completions").display());
    Ok(())
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))
}
