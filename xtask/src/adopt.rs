//! `cargo xtask adopt`: take over an Airflow installed by hand. Rebuild the cumulative values
//! file from the release's own user values, pin every chart-generated secret to the value the
//! cluster holds now (so the first managed upgrade rotates nothing), keep the existing deploy
//! key and knownHosts, and check both for real, reporting each problem with its fix.

use std::path::{Path, PathBuf};

use airflow_kit_core::{Document, Node};
use anyhow::Context;
use base64::Engine;

use crate::cluster::Cluster;
use crate::install::{Access, Step, Tools, ls_remote, prepare_state_dir, progress, read, say, stop};

/// The name of the deploy key file in the state directory (the install uses the same).
pub const KEY_NAME: &str = "airflow_deploy_key";

#[derive(clap::Args, Debug, Default, Clone)]
pub struct AdoptArgs {
    /// Helm release name.
    #[arg(long, default_value = "airflow")]
    pub release: String,
    /// Kubernetes namespace.
    #[arg(short = 'n', long, default_value = "airflow")]
    pub namespace: String,
    /// Where the cumulative values.yaml and the deploy key go [default: ./.airflow-kit].
    #[arg(long, value_name = "DIR", default_value = ".airflow-kit")]
    pub state_dir: PathBuf,
    #[command(flatten)]
    pub cluster: Cluster,
    /// A host key fingerprint to trust for a self-hosted Git server (repeatable).
    #[arg(long, value_name = "SHA256:...")]
    pub expect_fingerprint: Vec<String>,
    /// Use already built tools from this directory instead of building them (tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub bin_dir: Option<PathBuf>,
}

/// `secret-gen deploy-key` on the state directory's key pair; callers add what they know.
pub fn deploy_key_args(keys: &Path) -> Vec<String> {
    vec!["deploy-key".into(), "--dir".into(), keys.display().to_string(), "--name".into(), KEY_NAME.into()]
}

/// Runs `adopt` on its own; returns the exit code (1 when problems were found and reported).
pub fn run(shell: &xshell::Shell, args: &AdoptArgs) -> anyhow::Result<i32> {
    let tools = crate::install::tools(shell, args.bin_dir.as_deref())?;
    let work = tempfile::tempdir().context("temp dir")?;
    match adopt(&tools, args, work.path()) {
        Ok(problems) if problems.is_empty() => {
            eprintln!(
                "\nadopt: `{}` is now managed from {}",
                args.release,
                args.state_dir.join("values.yaml").display()
            );
            Ok(0)
        }
        Ok(problems) => {
            eprintln!("\nadopt: the values are adopted, with {} problem(s) to fix:", problems.len());
            for problem in &problems {
                eprintln!("  - {problem}");
            }
            Ok(1)
        }
        Err(stopped) => {
            eprintln!("\nadopt: stopped: {}", stopped.message);
            Ok(stopped.code)
        }
    }
}

/// The adoption itself; returns the problems found (each with its fix), for the caller to
/// report. `cargo xtask install` runs this first when it meets a release it does not manage.
pub fn adopt(tools: &Tools, args: &AdoptArgs, work: &Path) -> Step<Vec<String>> {
    let state_values = args.state_dir.join("values.yaml");
    let keys = args.state_dir.join("keys");
    let mut problems = Vec::new();
    prepare_state_dir(&args.state_dir)?;

    progress(1, "the release's user values (helm-run get-values)");
    let user_values = tools.run("helm-run", &helm_args(args, "get-values"), None)?;

    progress(2, "pin the secrets the chart generated, as the cluster holds them (secret-gen --from-cluster)");
    let mut from_cluster = vec!["--from-cluster".to_string(), "--release".into(), args.release.clone()];
    from_cluster.extend(["-n".into(), args.namespace.clone()]);
    from_cluster.extend(args.cluster.kubectl_flags());
    if args.cluster.microk8s {
        from_cluster.push("--microk8s".into());
    }
    let mut document = tools.run("secret-gen", &from_cluster, Some(&user_values))?;

    progress(3, "keep the existing deploy key");
    let parsed = parse(&document)?;
    let secret_name =
        parsed.root.get_path(&["dags", "gitSync", "sshKeySecret"]).and_then(Node::as_str).map(str::to_string);
    match &secret_name {
        None => say("no dags.gitSync.sshKeySecret: git-sync does not use a deploy key; nothing to keep"),
        Some(name) => {
            let in_values = key_in_values(&parsed.root, name);
            let key = match in_values.clone() {
                Some(key) => Some(key),
                None => key_in_cluster(args, name)?,
            };
            match key {
                None => problems.push(format!(
                    "the Secret `{name}` named by dags.gitSync.sshKeySecret was not found; fix: run `cargo xtask install` to create a deploy key"
                )),
                Some(bytes) => {
                    let brought = work.join("brought_key");
                    airflow_kit_core::fs::write_atomic(&brought, &bytes, 0o600).map_err(|e| stop(2, e.render("adopt")))?;
                    let mut key_args = deploy_key_args(&keys);
                    key_args.extend([
                        "--secret-name".into(),
                        name.clone(),
                        "--key".into(),
                        brought.display().to_string(),
                    ]);
                    if in_values.is_none() {
                        // The key lives in its own Secret: keep it out of the values, as it was.
                        key_args.extend(["--as-manifest".into(), work.join("kept-secret.yaml").display().to_string()]);
                    }
                    document = tools.run("secret-gen", &key_args, Some(&document))?;
                }
            }
        }
    }

    progress(4, "write the cumulative values file (values-merge --in-place)");
    let merge_args = ["--in-place".to_string(), state_values.display().to_string(), "-".into()];
    tools.run("values-merge", &merge_args, Some(&document))?;

    progress(5, "check knownHosts and repository access as they are deployed");
    let adopted = parse(&read(&state_values)?)?;
    let git_sync =
        |key: &str| adopted.root.get_path(&["dags", "gitSync", key]).and_then(Node::as_str).map(str::to_string);
    let (repo, known_hosts) = (git_sync("repo"), git_sync("knownHosts"));
    let branch = git_sync("ref").or_else(|| git_sync("branch")).unwrap_or_else(|| "main".into());
    if let Some(repo) = &repo {
        match &known_hosts {
            None => problems.push(
                "dags.gitSync.knownHosts is empty: the chart then turns host checking off (F1); fix: pipe the values through `known-hosts`"
                    .to_string(),
            ),
            Some(_) => {
                let mut verify = vec!["verify".to_string(), state_values.display().to_string()];
                for fingerprint in &args.expect_fingerprint {
                    verify.extend(["--expect-fingerprint".into(), fingerprint.clone()]);
                }
                if let Err(failed) = tools.run("known-hosts", &verify, None) {
                    problems.push(format!(
                        "knownHosts has lines that are not verified ({}); fix: `known-hosts < values.yaml` re-pins them from the published keys",
                        failed.message
                    ));
                }
            }
        }
        let key = keys.join(KEY_NAME);
        if key.exists() && known_hosts.is_some() {
            match ls_remote(repo, &branch, known_hosts.as_deref().unwrap_or(""), &key, work) {
                Ok(head) => say(&format!("the live deploy key reads `{repo}`; `{branch}` is at {head}")),
                Err(Access::Denied) => problems.push(format!(
                    "the live deploy key cannot read `{repo}` (Permission denied (publickey), F4); fix: add {}.pub as a read-only deploy key of that repository",
                    key.display()
                )),
                Err(other) => problems.push(other.into_stop(repo, &branch).message),
            }
        }
    }
    Ok(problems)
}

fn helm_args(args: &AdoptArgs, subcommand: &str) -> Vec<String> {
    let mut out =
        vec![subcommand.to_string(), "--release".into(), args.release.clone(), "-n".into(), args.namespace.clone()];
    out.extend(args.cluster.helm_run_flags());
    out
}

fn parse(text: &str) -> Step<Document> {
    Document::parse(text, "values").map_err(|e| stop(2, e.render("adopt")))
}

/// The private key in `extraSecrets.<name>.data` (`gitSshKey: '<base64>'`), decoded.
fn key_in_values(root: &Node, secret_name: &str) -> Option<Vec<u8>> {
    let data = root.get_path(&["extraSecrets", secret_name, "data"]).and_then(Node::as_str)?;
    let inner = Document::parse(data, "extraSecrets data").ok()?;
    let encoded = inner.root.get_path(&["gitSshKey"]).and_then(Node::as_str)?;
    base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()
}

/// The private key in the live Secret `<name>` (its `gitSshKey`), decoded; None when absent.
fn key_in_cluster(args: &AdoptArgs, name: &str) -> Step<Option<Vec<u8>>> {
    let mut command = args.cluster.kubectl();
    command.args(["get", "secret", name, "--namespace", &args.namespace, "-o", "json"]);
    let output = command.output().map_err(|e| stop(3, format!("cannot run kubectl: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("NotFound") || stderr.contains("not found") {
            return Ok(None);
        }
        return Err(stop(3, format!("`kubectl get secret {name}` failed:\n{stderr}")));
    }
    let secret: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| stop(3, format!("kubectl printed no JSON: {e}")))?;
    let encoded = secret.pointer("/data/gitSshKey").and_then(|v| v.as_str());
    Ok(encoded.and_then(|e| base64::engine::general_purpose::STANDARD.decode(e).ok()))
}
