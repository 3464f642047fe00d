//! `adopt`: take over an Airflow installed by hand. Rebuild the cumulative values file from the
//! release's own user values, pin every chart-generated secret to the value the cluster holds
//! now (so the first managed upgrade rotates nothing), keep the existing deploy key and
//! knownHosts, and check both for real, reporting each problem with its fix.

use std::path::{Path, PathBuf};

use airflow_kit_core::cluster::ClusterArgs;
use airflow_kit_core::process;
use airflow_kit_core::{Document, Error, Node, defaults, kube_secret};
use base64::Engine;

use crate::access::{self, Failure, GitAuth};
use crate::config::Settings;
use crate::invoke;
use crate::run::{prepare_state_dir, say};
use crate::tools::{QUICK, Tools};

/// `cargo xtask adopt` flags.
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Where the cumulative values.yaml and the deploy key go [default: ./.airflow-kit].
    #[arg(long, value_name = "DIR", default_value = ".airflow-kit")]
    pub state_dir: PathBuf,
    /// The helm binary to use.
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// A host key fingerprint to trust for a self-hosted Git server (repeatable).
    #[arg(long, value_name = "SHA256:...")]
    pub expect_fingerprint: Vec<String>,
}

/// What adopt needs, from its own flags or from an install that meets an unmanaged release.
#[derive(Debug, Clone, PartialEq)]
pub struct AdoptSettings {
    pub cluster: ClusterArgs,
    pub helm: Option<PathBuf>,
    pub state_dir: PathBuf,
    pub expect_fingerprints: Vec<String>,
}

impl AdoptSettings {
    pub fn from_args(args: &AdoptArgs) -> AdoptSettings {
        AdoptSettings {
            cluster: args.cluster.clone(),
            helm: args.helm.clone(),
            state_dir: args.state_dir.clone(),
            expect_fingerprints: args.expect_fingerprint.clone(),
        }
    }

    pub fn from_install(settings: &Settings) -> AdoptSettings {
        let expect_fingerprints = match &settings.access {
            crate::config::Access::Ssh { expect_fingerprints, .. } => expect_fingerprints.clone(),
            _ => Vec::new(),
        };
        AdoptSettings {
            cluster: settings.cluster.clone(),
            helm: settings.helm.clone(),
            state_dir: settings.state_dir.clone(),
            expect_fingerprints,
        }
    }

    fn values_file(&self) -> PathBuf {
        self.state_dir.join("values.yaml")
    }
}

/// What an adoption found: each problem with its fix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Adopted {
    pub problems: Vec<String>,
}

const STEPS: usize = 5;

fn progress(step: usize, what: &str) {
    eprintln!("==> [{step}/{STEPS}] {what}");
}

/// The adoption. `work` is the run's private directory inside the state directory.
pub fn adopt(settings: &AdoptSettings, tools: &Tools, work: &Path) -> Result<Adopted, Error> {
    let state_values = settings.values_file();
    let keys = settings.state_dir.join("keys");
    let mut problems = Vec::new();
    prepare_state_dir(&settings.state_dir)?;

    progress(1, "the release's user values (helm-run get-values)");
    let user_values = tools.run("helm-run", invoke::helm_get_values(settings), None, QUICK)?;

    progress(2, "pin the secrets the chart generated, as the cluster holds them (secret-gen --from-cluster)");
    let from_cluster = invoke::secret_gen_from_cluster(&settings.cluster);
    let mut document = tools.run("secret-gen", from_cluster, Some(&user_values), QUICK)?;

    progress(3, "keep the existing deploy key");
    let parsed = Document::parse(&document, "values")?;
    let secret_name =
        parsed.root.get_path(&["dags", "gitSync", "sshKeySecret"]).and_then(Node::as_str).map(str::to_string);
    match &secret_name {
        None => say("no dags.gitSync.sshKeySecret: git-sync does not use a deploy key; nothing to keep"),
        Some(name) => {
            let in_values = key_in_values(&parsed.root, name);
            let key = match in_values.clone() {
                Some(key) => Some(key),
                None => key_in_cluster(settings, name)?,
            };
            match key {
                None => problems.push(format!(
                    "the Secret `{name}` named by dags.gitSync.sshKeySecret was not found; fix: run `cargo xtask install` to create a deploy key"
                )),
                Some(bytes) => {
                    let brought = work.join("brought_key");
                    airflow_kit_core::fs::write_atomic(&brought, &bytes, 0o600)?;
                    // A key that lives in its own Secret stays out of the values, as it was.
                    let args = invoke::deploy_key(&invoke::DeployKey {
                        keys: keys.clone(),
                        secret_name: name.clone(),
                        as_manifest: in_values.is_none().then(|| work.join("kept-secret.yaml")),
                        key: Some(brought),
                        ..invoke::DeployKey::default()
                    });
                    document = tools.run("secret-gen", args, Some(&document), QUICK)?;
                }
            }
        }
    }

    progress(4, "write the cumulative values file (values-merge --in-place)");
    tools.run("values-merge", invoke::write_in_place(&state_values, &[]), Some(&document), QUICK)?;

    progress(5, "check knownHosts and repository access as they are deployed");
    let text = std::fs::read_to_string(&state_values)
        .map_err(|error| Error::external(format!("cannot read `{}`: {error}", state_values.display())))?;
    let adopted = Document::parse(&text, &state_values.display().to_string())?;
    let git_sync =
        |key: &str| adopted.root.get_path(&["dags", "gitSync", key]).and_then(Node::as_str).map(str::to_string);
    let (repo, known_hosts) = (git_sync("repo"), git_sync("knownHosts"));
    let branch = git_sync("ref").or_else(|| git_sync("branch")).unwrap_or_else(|| "main".into());
    let Some(repo) = repo else { return Ok(Adopted { problems }) };
    let Some(known_hosts) = known_hosts else {
        let https = airflow_kit_core::git_url::GitUrl::parse(&repo).is_ok_and(|url| !url.transport.has_host_key());
        if !https {
            problems.push(
                "dags.gitSync.knownHosts is empty: the chart then turns host checking off (F1); fix: `cargo xtask install` pins it with `known-hosts`"
                    .to_string(),
            );
        }
        return Ok(Adopted { problems });
    };
    let verify = invoke::known_hosts_verify(&state_values, &repo, &settings.expect_fingerprints);
    if let Err(failed) = tools.run("known-hosts", verify, None, QUICK) {
        problems.push(format!(
            "knownHosts has lines that are not verified ({}); fix: `known-hosts < values.yaml` re-pins them from the published keys",
            failed.message
        ));
    }
    let key = keys.join(defaults::DEPLOY_KEY_NAME);
    if key.exists() {
        match access::ls_remote(&repo, &branch, &GitAuth::Ssh { key: key.clone(), known_hosts }, work) {
            Ok(head) => say(&format!("the live deploy key reads `{repo}`; `{branch}` is at {head}")),
            Err(Failure::KeyNotRegistered) => problems.push(format!(
                "the live deploy key cannot read `{repo}` (Permission denied (publickey), F4); fix: add {}.pub as a read-only deploy key of that repository",
                key.display()
            )),
            Err(other) => problems.push(other.into_error(&repo, &branch).message),
        }
    }
    Ok(Adopted { problems })
}

/// The private key in `extraSecrets.<name>.data` (`gitSshKey: '<base64>'`), decoded.
fn key_in_values(root: &Node, secret_name: &str) -> Option<Vec<u8>> {
    let data = root.get_path(&["extraSecrets", secret_name, "data"]).and_then(Node::as_str)?;
    let inner = Document::parse(data, "extraSecrets data").ok()?;
    let encoded = inner.root.get_path(&["gitSshKey"]).and_then(Node::as_str)?;
    base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()
}

/// The private key in the live Secret `<name>` (its `gitSshKey`); None when there is none.
fn key_in_cluster(settings: &AdoptSettings, name: &str) -> Result<Option<Vec<u8>>, Error> {
    let program = process::find_kubectl(settings.cluster.microk8s, process::find_on_path)?;
    let command = process::kubectl_command(
        &program,
        settings.cluster.kubeconfig.as_deref(),
        settings.cluster.kube_context.as_deref(),
        &settings.cluster.namespace,
    )
    .args(["get", "secret", name, "-o", "json"])
    .timeout(QUICK);
    let output = process::run(&command)?;
    if !output.success() {
        let stderr = output.stderr_text();
        if stderr.contains("NotFound") || stderr.contains("not found") {
            return Ok(None);
        }
        return Err(process::failed(&command, &output));
    }
    let secrets = kube_secret::parse_secrets(&output.stdout, &command.display())?;
    Ok(secrets.into_iter().next().and_then(|mut secret| secret.data.remove("gitSshKey")))
}
