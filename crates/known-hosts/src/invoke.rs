//! The argv that parses back to a given `known-hosts` invocation: how the install calls the
//! filter and `verify`, so a renamed flag breaks the build or the round-trip test, never a run.

use std::ffi::OsString;

use airflow_kit_core::duration;

use crate::cli::{KindArg, PinArgs, VerifyArgs, VerifyCommand};

impl PinArgs {
    /// The filter's argv (no program name, no subcommand), every field written out.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(host) = &self.host {
            args.push(host.into());
        }
        if let Some(repo) = &self.repo {
            args.extend(["--repo".into(), repo.into()]);
        }
        if let Some(values) = &self.values {
            args.extend(["--values".into(), values.into()]);
        }
        if let Some(from) = &self.from {
            args.extend([OsString::from("--from"), from.clone().into_os_string()]);
        }
        for kind in &self.types {
            args.extend(["--type".into(), kind_name(*kind).into()]);
        }
        for fingerprint in &self.expect_fingerprint {
            args.extend(["--expect-fingerprint".into(), fingerprint.into()]);
        }
        args.extend(["--timeout".into(), duration::format(self.timeout).into()]);
        args.extend(["--ssh-keyscan".into(), (&self.ssh_keyscan).into()]);
        args
    }
}

impl VerifyArgs {
    /// `verify` and its flags.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["verify".into()];
        for fingerprint in &self.expect_fingerprint {
            args.extend(["--expect-fingerprint".into(), fingerprint.into()]);
        }
        if let Some(file) = &self.file {
            // After `--`, so a file named like a flag stays a file.
            args.extend(["--".into(), file.into()]);
        }
        args
    }
}

impl VerifyCommand {
    /// `verify`, `--repo` and the flags of `VerifyArgs`.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = self.args.to_args();
        if let Some(repo) = &self.repo {
            // Right after the subcommand, before any `--` that ends the flags.
            args.splice(1..1, [OsString::from("--repo"), repo.into()]);
        }
        args
    }
}

fn kind_name(kind: KindArg) -> &'static str {
    match kind {
        KindArg::Ed25519 => "ed25519",
        KindArg::Ecdsa => "ecdsa",
        KindArg::Rsa => "rsa",
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: Vec<OsString>) -> Cli {
        Cli::try_parse_from(std::iter::once(OsString::from("known-hosts")).chain(args))
            .unwrap_or_else(|error| panic!("{error}"))
    }

    fn pin_args() -> PinArgs {
        PinArgs {
            host: None,
            repo: Some("ssh://git@ssh.github.com:443/me/dags.git".into()),
            values: Some("/tmp/a dir/values.yaml".into()),
            from: Some(PathBuf::from("/tmp/a dir/known_hosts")),
            types: vec![KindArg::Ed25519, KindArg::Rsa, KindArg::Ecdsa],
            expect_fingerprint: vec![
                "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU".into(),
                "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s".into(),
            ],
            timeout: Duration::from_millis(1500),
            ssh_keyscan: "/opt/ssh/bin/ssh-keyscan".into(),
        }
    }

    #[test]
    fn the_filter_round_trips() {
        let with_repo = pin_args();
        let cli = parse(with_repo.to_args());
        assert_eq!((cli.command, cli.pin), (None, with_repo.clone()));
        // HOST conflicts with `--repo`, so it is its own fully populated value.
        let with_host = PinArgs { host: Some("[::1]:2222".into()), repo: None, ..with_repo };
        let cli = parse(with_host.to_args());
        assert_eq!((cli.command, cli.pin), (None, with_host));
    }

    #[test]
    fn verify_round_trips() {
        let verify = VerifyArgs {
            file: Some("--odd name.yaml".into()),
            expect_fingerprint: vec!["SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU".into()],
        };
        let args = verify.to_args();
        assert_eq!(args[0], "verify");
        let command = VerifyCommand { args: verify.clone(), repo: None };
        assert_eq!(parse(args).command, Some(Command::Verify(command)));
        let command = VerifyCommand { args: verify, repo: Some("ssh://git@ssh.github.com:443/me/dags.git".into()) };
        let args = command.to_args();
        assert_eq!(args[0], "verify");
        assert_eq!(parse(args).command, Some(Command::Verify(command)));
    }
}
