//! The argv builder: each parsed command line of `cli` written back as the argv that parses to
//! it, so the install runs `pod-inspect` from typed values (a renamed flag breaks the build or
//! the round-trip test below, never a user's run).

use std::ffi::OsString;
use std::time::Duration;

use airflow_kit_core::cluster::ClusterArgs;
use airflow_kit_core::duration;

use crate::cli::{Cli, Command, DagsArgs, DiagnoseArgs, FernetKeyArgs, FixArgs, StatusArgs, UiArgs, WaitArgs};

/// `--request-timeout` when not given (the default of `cli`'s flag; a test checks they agree).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl Cli {
    /// A command line for `command` against `cluster`, with the default request timeout.
    pub fn new(command: Command, cluster: ClusterArgs) -> Cli {
        Cli { command, cluster, request_timeout: DEFAULT_REQUEST_TIMEOUT }
    }

    /// The argv (without the program name): the subcommand and its flags, then the cluster
    /// flags and the request timeout, every one written out.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = self.command.to_args();
        args.extend(self.cluster.to_args());
        args.extend([OsString::from("--request-timeout"), OsString::from(duration::format(self.request_timeout))]);
        args
    }
}

impl Command {
    /// The subcommand name first, then its own flags.
    pub fn to_args(&self) -> Vec<OsString> {
        match self {
            Command::Status(args) => args.to_args(),
            Command::Wait(args) => args.to_args(),
            Command::Dags(args) => args.to_args(),
            Command::Diagnose(args) => args.to_args(),
            Command::Fix(args) => args.to_args(),
            Command::FernetKey(args) => args.to_args(),
            Command::Ui(args) => args.to_args(),
        }
    }
}

impl StatusArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        vec![OsString::from("status")]
    }
}

impl Default for WaitArgs {
    /// The same as `cli`'s defaults (`15m`, `5s`; a test checks they agree).
    fn default() -> WaitArgs {
        WaitArgs { timeout: Duration::from_secs(15 * 60), interval: Duration::from_secs(5) }
    }
}

impl WaitArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        ["wait", "--timeout", &duration::format(self.timeout), "--interval", &duration::format(self.interval)]
            .map(OsString::from)
            .to_vec()
    }
}

impl DagsArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = vec![OsString::from("dags")];
        if let Some(pod) = &self.pod {
            args.extend([OsString::from("--pod"), OsString::from(pod)]);
        }
        if let Some(sub_path) = &self.sub_path {
            // `=` keeps a sub-path that starts with `-` a value, not a flag.
            args.push(OsString::from(format!("--sub-path={sub_path}")));
        }
        args
    }
}

impl DiagnoseArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        vec![OsString::from("diagnose")]
    }
}

impl FixArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = vec![OsString::from("fix")];
        if self.yes {
            args.push(OsString::from("--yes"));
        }
        args
    }
}

impl FernetKeyArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        vec![OsString::from("fernet-key")]
    }
}

impl Default for UiArgs {
    fn default() -> UiArgs {
        UiArgs { port: 8080, address: "127.0.0.1".into() }
    }
}

impl UiArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        ["ui".to_string(), "--port".into(), self.port.to_string(), format!("--address={}", self.address)]
            .map(OsString::from)
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::Parser;

    use super::*;

    fn parse(args: Vec<OsString>) -> Cli {
        let argv = std::iter::once(OsString::from("pod-inspect")).chain(args.clone());
        Cli::try_parse_from(argv).unwrap_or_else(|error| panic!("{args:?} does not parse: {error}"))
    }

    /// Every optional field set, and values that need care (spaces, a leading `-`).
    fn cluster() -> ClusterArgs {
        ClusterArgs {
            kubeconfig: Some(PathBuf::from("/tmp/a dir/kubeconfig")),
            kube_context: Some("prod".into()),
            microk8s: true,
            namespace: "data".into(),
            release: "airflow-prod".into(),
        }
    }

    #[test]
    fn every_command_line_round_trips() {
        let commands = [
            Command::Status(StatusArgs {}),
            Command::Wait(WaitArgs { timeout: Duration::from_secs(5400), interval: Duration::from_millis(250) }),
            Command::Dags(DagsArgs { pod: Some("airflow-worker-0".into()), sub_path: Some("-odd/dags".into()) }),
            Command::Diagnose(DiagnoseArgs {}),
            Command::Fix(FixArgs { yes: true }),
            Command::FernetKey(FernetKeyArgs {}),
            Command::Ui(UiArgs { port: 9090, address: "0.0.0.0".into() }),
        ];
        for command in commands {
            let cli = Cli { command, cluster: cluster(), request_timeout: Duration::from_secs(90) };
            assert_eq!(parse(cli.to_args()), cli);
        }
    }

    #[test]
    fn defaults_agree_with_the_flags_defaults() {
        let cases = [
            ("status", Command::Status(StatusArgs {})),
            ("wait", Command::Wait(WaitArgs::default())),
            ("dags", Command::Dags(DagsArgs::default())),
            ("fix", Command::Fix(FixArgs::default())),
            ("ui", Command::Ui(UiArgs::default())),
        ];
        for (name, command) in cases {
            let cli = Cli::new(command, ClusterArgs::default());
            assert_eq!(parse(vec![OsString::from(name)]), cli, "{name}");
            assert_eq!(parse(cli.to_args()), cli, "{name}");
        }
    }

    #[test]
    fn subcommand_name_comes_first() {
        let args = Cli::new(Command::Wait(WaitArgs::default()), ClusterArgs::default()).to_args();
        let words: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(
            words,
            [
                "wait",
                "--timeout",
                "15m0s",
                "--interval",
                "5s",
                "--namespace",
                "airflow",
                "--release",
                "airflow",
                "--request-timeout",
                "1m0s"
            ]
        );
    }
}
