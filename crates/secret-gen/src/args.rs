//! The argv builders: each clap args struct of `cli` written back as the argv that parses to
//! it, so the install builds secret-gen's command lines from typed values and a renamed flag
//! breaks the build or the round-trip test below, never a user's run.

use std::ffi::OsString;

use crate::cli::{AirflowArg, Cli, Command, DeployKeyArgs, SecretsArgs, TypeArg};

impl Cli {
    /// The whole command line after the program name.
    pub fn to_args(&self) -> Vec<OsString> {
        match &self.command {
            Some(Command::DeployKey(args)) => args.to_args(),
            None => self.secrets.to_args(),
        }
    }
}

impl SecretsArgs {
    /// The filter's flags (it is the top-level command, so no subcommand name). The cluster
    /// flags are written only with `--from-cluster`/`--from-secrets`, the only time secret-gen
    /// accepts them, and the kubectl ones (`--kubeconfig`, `--kube-context`, `--microk8s`) only
    /// when kubectl runs, i.e. without `--from-secrets`.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(airflow) = self.airflow {
            let major = match airflow {
                AirflowArg::Two => "2",
                AirflowArg::Three => "3",
            };
            args.extend(["--airflow", major].map(OsString::from));
        }
        if self.credentials {
            args.push("--credentials".into());
        }
        for name in &self.rotate {
            args.extend([OsString::from("--rotate"), OsString::from(name)]);
        }
        if self.from_cluster {
            args.push("--from-cluster".into());
        }
        if let Some(file) = &self.from_secrets {
            args.extend([OsString::from("--from-secrets"), file.clone().into_os_string()]);
        }
        if self.from_cluster || self.from_secrets.is_some() {
            if self.from_secrets.is_none() {
                args.extend(self.cluster.to_args());
            } else {
                let cluster = &self.cluster;
                args.extend(["--namespace", &cluster.namespace, "--release", &cluster.release].map(OsString::from));
            }
        }
        if self.fill {
            args.push("--fill".into());
        }
        push_input(&mut args, self.input.as_deref());
        args
    }
}

impl DeployKeyArgs {
    /// `deploy-key` and every flag (those with defaults too, so nothing is left to them).
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["deploy-key".into(), "--dir".into(), self.dir.clone().into_os_string()];
        args.extend(
            ["--name", &self.name, "--comment", &self.comment, "--secret-name", &self.secret_name].map(OsString::from),
        );
        if let Some(key_type) = self.key_type {
            let name = match key_type {
                TypeArg::Ed25519 => "ed25519",
                TypeArg::Rsa => "rsa",
            };
            args.extend(["--type", name].map(OsString::from));
        }
        if let Some(bits) = self.bits {
            args.extend([OsString::from("--bits"), OsString::from(bits.to_string())]);
        }
        for (flag, value) in [("--repo", &self.repo), ("--branch", &self.branch), ("--sub-path", &self.sub_path)] {
            if let Some(value) = value {
                args.extend([OsString::from(flag), OsString::from(value)]);
            }
        }
        if let Some(manifest) = &self.as_manifest {
            args.extend([OsString::from("--as-manifest"), manifest.clone().into_os_string()]);
        }
        if let Some(namespace) = &self.namespace {
            args.extend([OsString::from("--namespace"), OsString::from(namespace)]);
        }
        if let Some(key) = &self.key {
            args.extend([OsString::from("--key"), key.clone().into_os_string()]);
        }
        if self.rotate {
            args.push("--rotate".into());
        }
        push_input(&mut args, self.input.as_deref());
        args
    }
}

/// FILE last. After `--` when clap would otherwise take it for a flag (`-x`, but not `-`,
/// which is stdin) or for the subcommand (a file named `deploy-key` or `help`).
fn push_input(args: &mut Vec<OsString>, input: Option<&str>) {
    let Some(input) = input else { return };
    if (input.starts_with('-') && input != "-") || input == "deploy-key" || input == "help" {
        args.push("--".into());
    }
    args.push(input.into());
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use airflow_kit_core::cluster::ClusterArgs;
    use clap::Parser;

    use super::*;

    fn check(cli: Cli) {
        let argv = std::iter::once(OsString::from("secret-gen")).chain(cli.to_args());
        let parsed =
            Cli::try_parse_from(argv).unwrap_or_else(|error| panic!("{:?} does not parse: {error}", cli.to_args()));
        assert_eq!(parsed, cli, "argv: {:?}", cli.to_args());
    }

    fn filter(secrets: SecretsArgs) -> Cli {
        Cli { command: None, secrets }
    }

    fn full_cluster() -> ClusterArgs {
        ClusterArgs {
            kubeconfig: Some(PathBuf::from("/a dir/kubeconfig")),
            kube_context: Some("prod".into()),
            microk8s: true,
            namespace: "data".into(),
            release: "af".into(),
        }
    }

    #[test]
    fn the_filter_round_trips_with_every_flag() {
        check(filter(SecretsArgs {
            input: Some("values.yaml".into()),
            airflow: Some(AirflowArg::Three),
            credentials: true,
            rotate: vec!["fernetKey".into(), "createUserJob.defaultUser.password".into()],
            from_cluster: true,
            from_secrets: None,
            cluster: full_cluster(),
            fill: true,
        }));
        check(filter(SecretsArgs {
            input: Some("-".into()),
            airflow: Some(AirflowArg::Two),
            from_secrets: Some(PathBuf::from("live secrets.json")),
            cluster: ClusterArgs { namespace: "data".into(), release: "af".into(), ..ClusterArgs::default() },
            fill: true,
            ..SecretsArgs::default()
        }));
        check(filter(SecretsArgs::default()));
    }

    #[test]
    fn deploy_key_round_trips_with_every_flag() {
        let full = DeployKeyArgs {
            input: Some("values.yaml".into()),
            dir: PathBuf::from("/state dir/keys"),
            name: "my_key".into(),
            key_type: Some(TypeArg::Rsa),
            bits: Some(3072),
            comment: "me@example.com".into(),
            secret_name: "my-ssh-secret".into(),
            repo: Some("ssh://git@ssh.github.com:443/me/dags.git".into()),
            branch: Some("main".into()),
            sub_path: Some("dags/prod".into()),
            as_manifest: Some(PathBuf::from("secret.yaml")),
            namespace: Some("airflow".into()),
            key: Some(PathBuf::from("/keys/id_rsa")),
            rotate: true,
        };
        check(Cli { command: Some(Command::DeployKey(full.clone())), secrets: SecretsArgs::default() });
        check(Cli {
            command: Some(Command::DeployKey(DeployKeyArgs { key_type: Some(TypeArg::Ed25519), ..full })),
            secrets: SecretsArgs::default(),
        });
    }

    #[test]
    fn a_file_that_looks_like_a_flag_or_the_subcommand_stays_a_file() {
        for input in ["-odd.yaml", "deploy-key", "help"] {
            check(filter(SecretsArgs { input: Some(input.into()), ..SecretsArgs::default() }));
        }
        let args = filter(SecretsArgs { input: Some("values.yaml".into()), ..SecretsArgs::default() }).to_args();
        assert_eq!(args, [OsString::from("values.yaml")], "a plain FILE needs no `--`");
    }

    #[test]
    fn cluster_flags_are_refused_without_a_source_of_live_secrets() {
        let refused = |args: &[&str]| {
            let argv = std::iter::once("secret-gen").chain(args.iter().copied());
            assert!(Cli::try_parse_from(argv).is_err(), "{args:?} must be refused");
        };
        refused(&["--release", "af"]);
        refused(&["-n", "data"]);
        refused(&["--microk8s"]);
        refused(&["--from-secrets", "x.json", "--kubeconfig", "k"]);
        refused(&["deploy-key", "--dir", "k", "--release", "af"]);
        let parsed =
            Cli::try_parse_from(["secret-gen", "--from-cluster", "--context", "prod", "--microk8s"]).expect("parses");
        assert_eq!(parsed.secrets.cluster.kube_context.as_deref(), Some("prod"));
        assert!(parsed.secrets.cluster.microk8s);
        let parsed = Cli::try_parse_from(["secret-gen", "deploy-key", "--dir", "k", "-n", "ns", "--as-manifest", "-"])
            .expect("deploy-key keeps its own -n");
        let Some(Command::DeployKey(args)) = parsed.command else { panic!("deploy-key") };
        assert_eq!(args.namespace.as_deref(), Some("ns"));
        assert_eq!(parsed.secrets.cluster, ClusterArgs::default());
    }
}
