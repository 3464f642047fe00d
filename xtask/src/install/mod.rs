//! `cargo xtask install`: the manual procedure in one idempotent command. Each step is one of
//! our binaries, built once; the values document is piped from one to the next; every step
//! prints one progress line; a failing step stops the run with its tool's exit code.

pub mod config;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use airflow_kit_core::{Document, Node};
use anyhow::Context;
pub use config::InstallArgs;
use config::Settings;

/// Where a failed step leaves the run: the exit code to return and what to say.
#[derive(Debug)]
pub struct Stop {
    pub code: i32,
    pub message: String,
}

pub type Step<T> = Result<T, Stop>;

pub fn stop(code: i32, message: impl Into<String>) -> Stop {
    Stop { code, message: message.into() }
}

const TOOLS: [&str; 5] = ["values-merge", "secret-gen", "known-hosts", "helm-run", "pod-inspect"];
use crate::adopt::KEY_NAME;
const STEPS: usize = 9;

/// Runs the install; returns the process exit code.
pub fn run(shell: &xshell::Shell, args: &InstallArgs) -> anyhow::Result<i32> {
    let settings = config::resolve(args)?;
    let tools = tools(shell, args.bin_dir.as_deref())?;
    let install = Install { settings, tools, work: tempfile::tempdir().context("temp dir")? };
    match install.run() {
        Ok(()) => Ok(0),
        Err(stopped) => {
            eprintln!("\ninstall: stopped: {}", stopped.message);
            eprintln!("install: fix the problem above and run the same command again; finished steps are kept");
            Ok(stopped.code)
        }
    }
}

struct Install {
    settings: Settings,
    tools: Tools,
    /// Per-run scratch (known_hosts for the access check, a Secret manifest): never kept.
    work: tempfile::TempDir,
}

impl Install {
    fn run(&self) -> Step<()> {
        let s = &self.settings;
        let state_values = s.state_dir.join("values.yaml");
        let mut fresh = !state_values.exists();

        progress(1, "preflight");
        prepare_state_dir(&s.state_dir)?;
        if s.chart_version.is_none() && s.local_chart().is_none() {
            say(
                "warning: the chart version is not pinned; every run may install a newer chart (pin it with --chart-version)",
            );
        }
        if s.dry_run {
            skipped(
                "cluster checks (helm-run preflight, MicroK8s addons, StorageClass)",
                "--dry-run does not touch the cluster",
            );
        } else {
            let current = if fresh { String::new() } else { read(&state_values)? };
            self.tool("helm-run", &self.helm_args("preflight"), Some(&current))?;
            self.cluster_checks()?;
            if fresh && self.release_exists() {
                // A release made by hand: take its values and live secrets over first, so
                // this install rotates nothing and drops nothing.
                say(&format!("release `{}` exists but is not managed here yet: adopting it first", s.release));
                let problems = crate::adopt::adopt(&self.tools, &self.adopt_args(), self.work.path())?;
                for problem in problems {
                    say(&format!("adopted with a problem: {problem}"));
                }
                fresh = false;
            }
        }
        let current = if fresh { String::new() } else { read(&state_values)? };

        progress(2, "pin the chart's random secrets (secret-gen)");
        let mut secret_args = Vec::new();
        if let Some(major) = self.airflow_major() {
            secret_args.extend(["--airflow".to_string(), major.to_string()]);
        }
        if fresh {
            // New default passwords only on a fresh install: an existing database keeps its own.
            secret_args.push("--credentials".to_string());
        }
        let document = self.tool("secret-gen", &secret_args, Some(&current))?;

        progress(3, "deploy key (secret-gen deploy-key)");
        let keys = s.state_dir.join("keys");
        let mut key_args = crate::adopt::deploy_key_args(&keys);
        key_args.extend([
            "--repo".into(),
            s.repo.clone(),
            "--branch".into(),
            s.branch.clone(),
            "--sub-path".into(),
            s.sub_path.clone(),
        ]);
        if !keys.join(KEY_NAME).exists() {
            key_args.extend(["--type".into(), s.key_type.clone()]);
        }
        let manifest = self.work.path().join("ssh-secret.yaml");
        if s.key_as_manifest {
            key_args.extend(["--as-manifest".into(), manifest.display().to_string(), "-n".into(), s.namespace.clone()]);
        }
        let document = self.tool("secret-gen", &key_args, Some(&document))?;

        progress(4, "pin the Git host's key (known-hosts)");
        let mut host_args = Vec::new();
        for fingerprint in &s.expect_fingerprints {
            host_args.extend(["--expect-fingerprint".to_string(), fingerprint.clone()]);
        }
        let document = self.tool("known-hosts", &host_args, Some(&document))?;

        progress(5, "merge into the cumulative values file (values-merge)");
        let mut merge_args = vec!["--in-place".to_string(), state_values.display().to_string(), "-".into()];
        merge_args.extend(s.values.iter().map(|p| p.display().to_string()));
        merge_args.extend(self.exposure_sets());
        // Checked in the same run, before the write: values the chart would refuse never
        // reach the cumulative file (which keeps every key it is ever given).
        match self.chart_schema() {
            Some(schema) => merge_args.extend(["--schema".to_string(), schema.display().to_string()]),
            None => {
                skipped("schema check here", "the chart is not available locally; helm-run checks it before upgrading")
            }
        }
        self.tool("values-merge", &merge_args, Some(&document))?;

        progress(6, "check repository access with the deploy key (git ls-remote)");
        let head = self.access_check(&state_values, &keys)?;

        if s.dry_run {
            progress(7, "render (helm-run template) and show the upgrade");
            let values = read(&state_values)?;
            if s.local_chart().is_some() {
                let rendered = self.tool("helm-run", &self.helm_args("template"), Some(&values))?;
                let count = rendered.lines().filter(|l| l.starts_with("kind: ")).count();
                say(&format!("rendered the chart with these values: {count} manifest(s)"));
            } else {
                skipped("helm-run template", "the chart is not available locally");
            }
            let mut upgrade = self.helm_args("upgrade");
            upgrade.push("--dry-run".into());
            let report = self.tool("helm-run", &upgrade, Some(&values))?;
            if let Some(line) = report.lines().find(|l| l.trim_start().starts_with("would_run:")) {
                say(&format!("would run: {}", line.trim_start().trim_start_matches("would_run:").trim()));
            }
            skipped("steps 8-9 (pod-inspect wait and dags)", "--dry-run does not touch the cluster");
            self.summary(&head, None);
            return Ok(());
        }

        progress(7, "helm upgrade --install (helm-run)");
        if s.local_chart().is_none() {
            let args = ["repo".to_string(), "--repo-url".into(), s.chart_repo_url.clone()];
            self.tool("helm-run", &self.with_helm_flags(args.to_vec()), None)?;
        }
        if s.key_as_manifest {
            self.apply_manifest(&manifest)?;
        }
        let values = read(&state_values)?;
        self.tool("helm-run", &self.helm_args("upgrade"), Some(&values))?;

        progress(8, "wait for the pods, then check the DAGs arrived (pod-inspect)");
        self.tool("pod-inspect", &self.kube_args(&["wait", "--timeout", &s.timeout]), None)?;
        let dags = self.tool("pod-inspect", &self.kube_args(&["dags"]), None)?;
        let synced = Document::parse(&dags, "pod-inspect dags")
            .ok()
            .and_then(|d| d.root.get_path(&["commit"]).and_then(|n| n.as_scalar()).map(|s| s.text.clone()));
        if synced.as_deref() != Some(head.as_str()) {
            return Err(stop(
                1,
                format!(
                    "git-sync has commit {} but `{}` is at {head}; run `pod-inspect diagnose`",
                    synced.unwrap_or_else(|| "none".into()),
                    s.branch
                ),
            ));
        }
        self.summary(&head, Some(&dags));
        Ok(())
    }

    /// True when helm knows the release (`helm-run status` succeeds).
    fn release_exists(&self) -> bool {
        let s = &self.settings;
        let mut args =
            vec!["status".to_string(), "--release".into(), s.release.clone(), "-n".into(), s.namespace.clone()];
        args = self.with_helm_flags(args);
        Command::new(self.tools.bin.join("helm-run"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    fn adopt_args(&self) -> crate::adopt::AdoptArgs {
        let s = &self.settings;
        crate::adopt::AdoptArgs {
            release: s.release.clone(),
            namespace: s.namespace.clone(),
            state_dir: s.state_dir.clone(),
            cluster: s.cluster.clone(),
            expect_fingerprint: s.expect_fingerprints.clone(),
            bin_dir: None,
        }
    }

    /// MicroK8s' dns and hostpath-storage addons, and a default StorageClass (F14, F15).
    fn cluster_checks(&self) -> Step<()> {
        let s = &self.settings;
        if s.cluster.microk8s {
            let output = Command::new("microk8s")
                .arg("status")
                .output()
                .map_err(|e| stop(3, format!("`microk8s status`: {e}")))?;
            let text = String::from_utf8_lossy(&output.stdout);
            let enabled = text.split("disabled:").next().unwrap_or("");
            for addon in ["dns", "hostpath-storage"] {
                if !enabled.lines().any(|l| l.split_whitespace().next() == Some(addon)) {
                    return Err(stop(
                        2,
                        format!("the MicroK8s addon `{addon}` is not enabled; run `microk8s enable {addon}`"),
                    ));
                }
            }
        }
        let output = s
            .cluster
            .kubectl()
            .args(["get", "storageclass", "-o", "json"])
            .output()
            .map_err(|e| stop(3, format!("`kubectl get storageclass`: {e}")))?;
        let classes: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        let has_default = classes["items"].as_array().is_some_and(|items| {
            items.iter().any(|class| {
                class
                    .pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                    .and_then(|v| v.as_str())
                    == Some("true")
            })
        });
        if !output.status.success() || !has_default {
            return Err(stop(
                2,
                "no default StorageClass: the database's volume would stay Pending (F14); on MicroK8s run `microk8s enable hostpath-storage`",
            ));
        }
        Ok(())
    }

    /// A real `git ls-remote` with exactly the key and known_hosts that go into the cluster.
    /// Returns the branch's head commit. A key not registered yet: the public key and where
    /// to paste it, then (on a terminal) a wait for Enter and another try.
    fn access_check(&self, state_values: &Path, keys: &Path) -> Step<String> {
        let s = &self.settings;
        let document = Document::parse(&read(state_values)?, &state_values.display().to_string())
            .map_err(|e| stop(2, e.render("install")))?;
        let known_hosts =
            document.root.get_path(&["dags", "gitSync", "knownHosts"]).and_then(Node::as_str).unwrap_or("");
        let key = keys.join(KEY_NAME);
        loop {
            match ls_remote(&s.repo, &s.branch, known_hosts, &key, self.work.path()) {
                Ok(head) => {
                    say(&format!("repository reachable with the deploy key; `{}` is at {head}", s.branch));
                    return Ok(head);
                }
                Err(Access::Denied) => {}
                Err(other) => return Err(other.into_stop(&s.repo, &s.branch)),
            }
            let public = std::fs::read_to_string(key.with_extension("pub")).unwrap_or_default();
            eprintln!(
                "\nThe deploy key is not registered with the repository yet (F4). Add this public key, read-only:\n"
            );
            eprintln!("  {}\n", public.trim());
            eprintln!("  where: {}\n", where_to_paste(&s.repo));
            if s.yes || !std::io::stdin().is_terminal() {
                return Err(stop(
                    1,
                    "the deploy key cannot read the repository yet; add the key above, then run again",
                ));
            }
            eprint!("Press Enter once the key is added (Ctrl-C to stop)... ");
            std::io::stderr().flush().ok();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| stop(1, e.to_string()))?;
        }
    }

    /// A separate Secret for the key (`--key-as manifest`), applied before the upgrade.
    fn apply_manifest(&self, manifest: &Path) -> Step<()> {
        let s = &self.settings;
        let namespace = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n", s.namespace);
        for (what, input) in [("namespace", Some(namespace)), ("deploy key Secret", None)] {
            let mut command = s.cluster.kubectl();
            command.arg("apply").arg("-f");
            match &input {
                Some(_) => command.arg("-"),
                None => command.arg(manifest),
            };
            command.stdin(Stdio::piped()).stdout(Stdio::null());
            let mut child = command.spawn().map_err(|e| stop(3, format!("cannot run kubectl: {e}")))?;
            if let (Some(text), Some(mut pipe)) = (input, child.stdin.take()) {
                let _ = pipe.write_all(text.as_bytes());
            }
            let status = child.wait().map_err(|e| stop(3, e.to_string()))?;
            if !status.success() {
                return Err(stop(3, format!("`kubectl apply` of the {what} failed")));
            }
        }
        Ok(())
    }

    /// The NodePort service settings for the UI, when asked for.
    fn exposure_sets(&self) -> Vec<String> {
        let Some(port) = self.settings.node_port else { return Vec::new() };
        let (section, name, port_ref) = if self.airflow_major() != Some(2) {
            ("apiServer", "api-server", "{{ .Values.ports.apiServer }}")
        } else {
            ("webserver", "airflow-ui", "{{ .Values.ports.airflowUI }}")
        };
        vec![
            "--set".into(),
            format!("{section}.service.type=NodePort"),
            "--set-json".into(),
            format!(r#"{section}.service.ports=[{{"name":"{name}","port":"{port_ref}","nodePort":{port}}}]"#),
        ]
    }

    /// Chart 1.18 and later default to Airflow 3 (api-server); earlier ones to Airflow 2.
    /// Unknown (an unpinned chart from the repository): None.
    fn airflow_major(&self) -> Option<u8> {
        let version = self.settings.chart_version.clone().or_else(|| {
            let chart = self.settings.local_chart()?;
            let text = std::fs::read_to_string(chart.join("Chart.yaml")).ok()?;
            let line = text.lines().find(|l| l.starts_with("version:"))?;
            Some(line.trim_start_matches("version:").trim().trim_matches('"').to_string())
        });
        let minor = version.as_deref().and_then(|v| v.split('.').nth(1)).and_then(|m| m.parse::<u32>().ok());
        minor.map(|minor| if minor >= 18 { 3 } else { 2 })
    }

    /// The chart's values.schema.json: from a local chart, or from the chart pulled into the
    /// state directory's cache (`helm pull`, once per version; not under --dry-run, which
    /// uses only what is already cached).
    fn chart_schema(&self) -> Option<PathBuf> {
        let s = &self.settings;
        if let Some(chart) = s.local_chart() {
            let schema = chart.join("values.schema.json");
            return schema.exists().then_some(schema);
        }
        let version = s.chart_version.as_ref()?;
        let name = s.chart.rsplit('/').next().unwrap_or("airflow");
        let cache = s.state_dir.join("cache").join(format!("{name}-{version}"));
        let schema = cache.join(name).join("values.schema.json");
        if schema.exists() || s.dry_run {
            return schema.exists().then_some(schema);
        }
        let repo = self.with_helm_flags(vec!["repo".to_string(), "--repo-url".into(), s.chart_repo_url.clone()]);
        if self.tool("helm-run", &repo, None).is_err() {
            return None;
        }
        let pulled = s
            .cluster
            .helm()
            .args(["pull", &s.chart, "--version", version, "--untar", "--untardir"])
            .arg(&cache)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        (pulled && schema.exists()).then_some(schema)
    }

    fn summary(&self, head: &str, dags: Option<&str>) {
        let s = &self.settings;
        eprintln!("\n==> summary");
        eprintln!(
            "  release `{}` in namespace `{}`, DAGs from {} ({} at {head})",
            s.release, s.namespace, s.repo, s.branch
        );
        if let Some(dags) = dags {
            let count = dags.lines().find(|l| l.starts_with("count:")).unwrap_or("count: ?");
            eprintln!("  git-sync has the same commit; DAG files: {}", count.trim_start_matches("count:").trim());
        }
        match s.node_port {
            Some(port) => eprintln!("  the UI: http://<node-ip>:{port} (`pod-inspect ui` prints the exact URL)"),
            None => eprintln!(
                "  the UI: `{}/pod-inspect ui -n {} --release {}` (port-forward on 127.0.0.1:8080)",
                self.tools.bin.display(),
                s.namespace,
                s.release
            ),
        }
        eprintln!(
            "  secrets, admin and database passwords: in {} (mode 0600; never printed)",
            s.state_dir.join("values.yaml").display()
        );
        eprintln!("  deploy key: {}", s.state_dir.join("keys").join(KEY_NAME).display());
        eprintln!("  when something fails: `pod-inspect diagnose`, then `pod-inspect fix`");
        if s.dry_run {
            eprintln!("  (dry run: nothing was sent to the cluster)");
        }
    }

    fn helm_args(&self, subcommand: &str) -> Vec<String> {
        let s = &self.settings;
        let mut args =
            vec![subcommand.to_string(), "--release".into(), s.release.clone(), "-n".into(), s.namespace.clone()];
        args.extend(["--chart".into(), s.chart.clone()]);
        if let Some(version) = &s.chart_version
            && s.local_chart().is_none()
        {
            args.extend(["--version".into(), version.clone()]);
        }
        if subcommand == "upgrade" {
            args.extend(["--timeout".into(), "10m".into()]);
        }
        self.with_helm_flags(args)
    }

    fn with_helm_flags(&self, mut args: Vec<String>) -> Vec<String> {
        let s = &self.settings;
        args.extend(s.cluster.helm_run_flags());
        args
    }

    fn kube_args(&self, args: &[&str]) -> Vec<String> {
        let s = &self.settings;
        let mut out: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        out.extend(["-n".into(), s.namespace.clone(), "--release".into(), s.release.clone()]);
        out.extend(s.cluster.kubectl_flags());
        out
    }

    fn tool(&self, name: &str, args: &[String], stdin: Option<&str>) -> Step<String> {
        self.tools.run(name, args, stdin)
    }
}

/// Why `git ls-remote` failed.
pub enum Access {
    /// `Permission denied (publickey)`: the deploy key is not registered (F4).
    Denied,
    /// `Host key verification failed`: knownHosts does not match the host (F1).
    HostKey(String),
    /// The branch does not exist.
    NoBranch,
    Other(String),
}

impl Access {
    pub fn into_stop(self, repo: &str, branch: &str) -> Stop {
        match self {
            Access::Denied => stop(1, "the deploy key cannot read the repository (Permission denied (publickey))"),
            Access::HostKey(stderr) => {
                stop(3, format!("the Git host's key does not match the pinned knownHosts:\n{stderr}"))
            }
            Access::NoBranch => stop(1, format!("the repository has no branch `{branch}`")),
            Access::Other(stderr) => stop(3, format!("`git ls-remote {repo}` failed:\n{stderr}")),
        }
    }
}

/// `git ls-remote REPO refs/heads/BRANCH` exactly as git-sync connects: only this key, only
/// this known_hosts, strict host checking, never a prompt. Returns the head commit.
pub fn ls_remote(repo: &str, branch: &str, known_hosts: &str, key: &Path, work: &Path) -> Result<String, Access> {
    let known_hosts_file = work.join("known_hosts");
    airflow_kit_core::fs::write_atomic(&known_hosts_file, known_hosts.as_bytes(), 0o600)
        .map_err(|e| Access::Other(e.render("install")))?;
    let ssh = format!(
        "ssh -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o BatchMode=yes -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=15 -F /dev/null",
        key.display(),
        known_hosts_file.display()
    );
    let output = Command::new("git")
        .args(["ls-remote", repo, &format!("refs/heads/{branch}")])
        .env("GIT_SSH_COMMAND", ssh)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Access::Other(format!("cannot run `git`: {e}")))?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        return stdout.split_whitespace().next().map(str::to_string).ok_or(Access::NoBranch);
    }
    if stderr.contains("Host key verification failed") {
        Err(Access::HostKey(stderr))
    } else if stderr.contains("Permission denied") {
        Err(Access::Denied)
    } else {
        Err(Access::Other(stderr))
    }
}

/// Our binaries, run with the values document piped through.
pub struct Tools {
    pub bin: PathBuf,
}

impl Tools {
    /// Runs one of our tools: `stdin` piped in, stderr passed through as it comes, stdout
    /// returned. A failure stops the run with the tool's own exit code.
    pub fn run(&self, name: &str, args: &[String], stdin: Option<&str>) -> Step<String> {
        let path = self.bin.join(name);
        let mut command = Command::new(&path);
        command.args(args.iter().map(OsString::from)).stderr(Stdio::inherit()).stdout(Stdio::piped());
        command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = command.spawn().map_err(|e| stop(3, format!("cannot run `{}`: {e}", path.display())))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let text = text.to_string();
            // Fed from a thread: a tool may write its output before reading all its input.
            std::thread::spawn(move || {
                let _ = pipe.write_all(text.as_bytes());
            });
        }
        let output = child.wait_with_output().map_err(|e| stop(3, e.to_string()))?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let code = output.status.code().unwrap_or(1);
        let what = args.first().map(String::as_str).unwrap_or("");
        Err(stop(code, format!("`{name} {what}` failed with exit code {code}")))
    }
}

/// Builds our tools once in release, unless `bin_dir` names already built ones.
pub fn tools(shell: &xshell::Shell, bin_dir: Option<&Path>) -> anyhow::Result<Tools> {
    if let Some(dir) = bin_dir {
        return Ok(Tools { bin: dir.to_path_buf() });
    }
    progress(0, "build the tools (release)");
    let packages: Vec<String> = TOOLS.iter().flat_map(|t| ["-p".to_string(), t.to_string()]).collect();
    xshell::cmd!(shell, "cargo build --release --quiet {packages...}").run()?;
    Ok(Tools { bin: crate::project_root().join("target/release") })
}

/// The state directory: 0700, and ignored by git when it sits inside a work tree.
pub fn prepare_state_dir(dir: &Path) -> Step<()> {
    airflow_kit_core::fs::create_private_dir(dir, 0o700).map_err(|e| stop(2, e.render("install")))?;
    let absolute = dir.canonicalize().map_err(|e| stop(2, format!("cannot resolve `{}`: {e}", dir.display())))?;
    let parent = absolute.parent().unwrap_or(&absolute);
    let top = Command::new("git").arg("-C").arg(parent).args(["rev-parse", "--show-toplevel"]).output();
    let Some(top) =
        top.ok().filter(|o| o.status.success()).map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
    else {
        say(&format!(
            "warning: `{}` is not inside a git work tree; keep it out of any repository or shared backup: it holds the deploy key and secrets",
            dir.display()
        ));
        return Ok(());
    };
    let ignored = Command::new("git").arg("-C").arg(&top).args(["check-ignore", "-q"]).arg(&absolute).status();
    if ignored.is_ok_and(|s| s.success()) {
        return Ok(());
    }
    let relative = absolute.strip_prefix(&top).unwrap_or(&absolute).display().to_string();
    let gitignore = top.join(".gitignore");
    let mut text = std::fs::read_to_string(&gitignore).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("/{relative}/\n"));
    std::fs::write(&gitignore, text).map_err(|e| stop(2, format!("cannot update `{}`: {e}", gitignore.display())))?;
    say(&format!("added `/{relative}/` to {} (it holds the deploy key and secrets)", gitignore.display()));
    Ok(())
}

pub fn read(path: &Path) -> Step<String> {
    std::fs::read_to_string(path).map_err(|e| stop(2, format!("cannot read `{}`: {e}", path.display())))
}

/// Where a provider lets you add a read-only deploy key.
pub fn where_to_paste(repo: &str) -> String {
    let path = repo.rsplit_once(':').map(|(_, p)| p).unwrap_or(repo).trim_end_matches(".git").trim_start_matches('/');
    if repo.contains("github.com") {
        format!(
            "https://github.com/{path}/settings/keys (Settings > Deploy keys > Add deploy key; leave write access off)"
        )
    } else if repo.contains("gitlab.com") {
        format!("https://gitlab.com/{path}/-/settings/repository (Deploy keys; read-only)")
    } else if repo.contains("bitbucket.org") {
        format!("https://bitbucket.org/{path}/admin/access-keys/ (Access keys; read-only)")
    } else {
        "your Git server's deploy keys (or the git user's authorized_keys), read-only".to_string()
    }
}

pub fn progress(step: usize, what: &str) {
    if step == 0 {
        eprintln!("==> {what}");
    } else {
        eprintln!("==> [{step}/{STEPS}] {what}");
    }
}

pub fn say(message: &str) {
    eprintln!("install: {message}");
}

pub fn skipped(what: &str, why: &str) {
    eprintln!("install: skipped {what}: {why}");
}
