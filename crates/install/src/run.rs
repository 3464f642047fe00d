//! `install`: the manual procedure in one idempotent run. The new values document is computed
//! in memory, step by step through the tools, then proven (the chart's schema, a real git
//! access check with what the cluster will get, a render) and only then written to the
//! cumulative file, so a failed run leaves the file exactly as it was.

use std::path::{Path, PathBuf};

use airflow_kit_core::process::{self, Command};
use airflow_kit_core::{Document, Error, Node, cli, defaults};

use crate::access::{self, Failure, GitAuth};
use crate::chart::LocalChart;
use crate::config::{Access, Chart, Expose, KeyAs, KeyType, Settings};
use crate::exposure;
use crate::invoke;
use crate::plan::{Step, plan};
use crate::tools::{QUICK, Tools};

/// What the person at the terminal is asked, and whether anyone is there. Tests answer
/// without a terminal.
pub trait Prompt {
    /// True when a person can act and press Enter (a terminal, and not `--yes`).
    fn interactive(&self) -> bool;
    /// Waits for Enter after `message`.
    fn wait_for_enter(&mut self, message: &str) -> Result<(), Error>;
}

/// What a finished install did, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The branch head the access check saw (and git-sync has, when verified).
    pub head: String,
    /// How many DAG files git-sync's checkout holds (None under --dry-run).
    pub dag_files: Option<usize>,
}

pub const TOOL: &str = "install";

/// Runs the install. Every error carries its exit code from core's table.
pub fn install(settings: &Settings, tools: &Tools, prompt: &mut dyn Prompt) -> Result<Outcome, Error> {
    tools.check()?;
    for note in &settings.notes {
        say(note);
    }
    let steps = plan(settings);
    let mut progress = Progress { steps: &steps, dry_run: settings.dry_run };
    let state_values = settings.values_file();

    progress.at(Step::Preflight)?;
    prepare_state_dir(&settings.state_dir)?;
    // One run at a time on a state directory, for the whole run; another one is named.
    let _lock = lock_state(&settings.state_dir)?;
    sweep_stale_scratch(&settings.state_dir);
    check_state_trusted(settings)?;
    check_key_type(settings)?;
    // The run's private scratch (known_hosts for the check, the credentials file, an
    // unpacked chart, Secret manifests) lives inside the 0700 state directory and is removed
    // when the run ends, however it ends.
    let work = tempfile::Builder::new().prefix(".run-").tempdir_in(&settings.state_dir).map_err(|error| {
        Error::external(format!("cannot make a private directory in `{}`: {error}", settings.state_dir.display()))
            .with_hint("check that the state directory is yours and writable, and that the disk is not full")
    })?;
    let chart = obtain_chart(settings, tools, work.path())?;
    let mut current = read_optional(&state_values)?;
    let mut fresh = current.is_none();
    if settings.dry_run {
        skipped(
            "cluster checks (helm-run preflight, MicroK8s addons, StorageClass)",
            "--dry-run does not touch the cluster",
        );
    } else {
        tools.run(
            "helm-run",
            invoke::helm_preflight(settings, &chart, work.path()),
            Some(current.as_deref().unwrap_or("")),
            QUICK,
        )?;
        cluster_checks(settings)?;
        if fresh && release_exists(settings, tools)? {
            // A release made by hand: take its values and live secrets over first, so this
            // install rotates nothing and drops nothing.
            say(&format!(
                "release `{}` exists but is not managed here yet: adopting it first",
                settings.cluster.release
            ));
            let adopted =
                crate::adopt::adopt(&crate::adopt::AdoptSettings::from_install(settings), tools, work.path())?;
            for problem in adopted.problems {
                say(&format!("adopted with a problem: {problem}"));
            }
            current = read_optional(&state_values)?;
            fresh = false;
        }
    }
    let current_text = current.clone().unwrap_or_default();
    let current_doc = Document::parse(&current_text, &state_values.display().to_string())?;
    let airflow_major = chart.airflow_major(&current_doc.root)?;
    say(&format!(
        "chart {} {} (Airflow {airflow_major}, appVersion {})",
        chart.reference, chart.chart_version, chart.app_version
    ));

    progress.at(Step::Secrets)?;
    // New default passwords only on a fresh install: an existing database keeps its own.
    let document = tools.run("secret-gen", invoke::secret_gen(airflow_major, fresh), Some(&current_text), QUICK)?;

    let mut manifests = Vec::new();
    let mut allow_removals = Vec::new();
    let (document, auth) = match &settings.access {
        Access::Ssh { key_type, key_as, expect_fingerprints } => {
            progress.at(Step::DeployKey)?;
            let manifest = work.path().join("ssh-secret.yaml");
            let as_manifest = (*key_as == KeyAs::Manifest).then(|| manifest.clone());
            let new_key_type = (!settings.key_file().exists()).then_some(*key_type);
            let args = invoke::install_deploy_key(settings, new_key_type, as_manifest.as_deref());
            let document = tools.run("secret-gen", args, Some(&document), QUICK)?;
            if as_manifest.is_some() {
                manifests.push(("the deploy key Secret", manifest));
            }
            progress.at(Step::KnownHosts)?;
            let document =
                tools.run("known-hosts", invoke::known_hosts(expect_fingerprints), Some(&document), QUICK)?;
            // The known_hosts the check uses is read from the merged document below: a later
            // values layer could have replaced what known-hosts pinned here.
            (document, GitAuth::Ssh { key: settings.key_file(), known_hosts: String::new() })
        }
        Access::Public => {
            progress.at(Step::GitSync)?;
            say("a public HTTPS repository: no deploy key, no knownHosts, no credentials");
            (document, GitAuth::Anonymous)
        }
        Access::Token { user, token_file } => {
            progress.at(Step::GitSync)?;
            check_token_file(token_file)?;
            let manifest = work.path().join("git-credentials-secret.yaml");
            write_credentials_manifest(&manifest, &settings.cluster.namespace, user, token_file)?;
            manifests.push(("the Git credentials Secret", manifest));
            say(&format!(
                "the token goes into the Secret `{}` (dags.gitSync.credentialsSecret), never into the values",
                defaults::CREDENTIALS_SECRET_NAME
            ));
            (document, GitAuth::Token { user: user.clone(), token_file: token_file.clone() })
        }
    };

    progress.at(Step::Merge)?;
    let owned = |path: &str| {
        let keys = airflow_kit_core::values_path::parse("--unset", path).unwrap_or_default();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        !keys.is_empty() && current_doc.root.get_path(&keys).is_some()
    };
    let exposure = exposure::change(settings.expose, airflow_major, owned);
    allow_removals.extend(exposure.unset.iter().cloned());
    let mut set_string = Vec::new();
    let mut set_json = exposure.set_json.clone();
    if !matches!(settings.access, Access::Ssh { .. }) {
        set_json.push(("dags.gitSync.enabled".into(), "true".into()));
        set_string.extend(git_sync_https(settings));
    }
    let merge = invoke::Merge {
        files: settings.values.clone(),
        set_json,
        set_string,
        unset: exposure.unset.clone(),
        schema: chart.schema(),
    };
    let merged = tools.run("values-merge", invoke::merge(&merge), Some(&document), QUICK)?;
    if chart.schema().is_none() {
        skipped("the schema check", "the chart has no values.schema.json");
    }

    let auth = match (auth, &settings.access) {
        (GitAuth::Ssh { key, .. }, Access::Ssh { expect_fingerprints, .. }) => {
            // What was verified is what is deployed: the merged document's knownHosts, every
            // line verified again, is what the access check and the cluster get.
            say("checking the merged document's knownHosts (known-hosts verify)");
            tools.run(
                "known-hosts",
                invoke::known_hosts_verify_stdin(&settings.repo, expect_fingerprints),
                Some(&merged),
                QUICK,
            )?;
            let known_hosts = Document::parse(&merged, "values-merge")?
                .root
                .get_path(&["dags", "gitSync", "knownHosts"])
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_string();
            GitAuth::Ssh { key, known_hosts }
        }
        (auth, _) => auth,
    };

    progress.at(Step::Access)?;
    let head = access_check(settings, &auth, work.path(), prompt)?;

    progress.at(Step::Render)?;
    let rendered = tools.run("helm-run", invoke::helm_template(settings, &chart, work.path()), Some(&merged), QUICK)?;
    let manifests_rendered = rendered.lines().filter(|line| line.starts_with("kind: ")).count();
    say(&format!("the chart renders with the new values: {manifests_rendered} manifest(s)"));

    progress.at(Step::Write)?;
    let changes = describe_changes(tools, &state_values, &merged, fresh)?;
    if settings.dry_run {
        say(&format!("would {changes}; --dry-run writes nothing"));
    } else {
        tools.run("values-merge", invoke::write_in_place(&state_values, &exposure.unset), Some(&merged), QUICK)?;
        say(&changes);
    }

    progress.at(Step::Upgrade)?;
    if settings.dry_run {
        let command = invoke::printable_upgrade(settings, &chart, &state_values);
        say(&format!("would run: {command}"));
        if fresh {
            say("(the file it names does not exist yet: the same command without --dry-run writes it first)");
        }
        if !manifests.is_empty() {
            say("and before it, `kubectl apply -f -` of the Secrets kept out of the values");
        }
        return Ok(Outcome { head, dag_files: None });
    }
    for (what, manifest) in &manifests {
        apply_manifest(settings, what, manifest)?;
    }
    let upgrade_timeout = settings.timeout + QUICK;
    tools.run(
        "helm-run",
        invoke::helm_upgrade(settings, &chart, &state_values, &allow_removals, work.path()),
        None,
        upgrade_timeout,
    )?;

    progress.at(Step::Verify)?;
    tools.run("pod-inspect", invoke::pod_wait(settings), None, settings.timeout + QUICK)?;
    let dags = tools.run("pod-inspect", invoke::pod_dags(settings), None, QUICK)?;
    let report = invoke::read_dags(&dags)?;
    if report.commit.as_deref() != Some(head.as_str()) {
        return Err(Error::no(format!(
            "git-sync has commit {} but `{}` is at {head}",
            report.commit.as_deref().unwrap_or("none"),
            settings.branch
        ))
        .with_hint("run `pod-inspect diagnose` to see why git-sync is behind (docs/failures.md)"));
    }
    Ok(Outcome { head, dag_files: report.count })
}

/// The chart as local files: a directory as it is, a .tgz unpacked into the run directory,
/// a repository chart pulled once per version into `state/cache/` (the repository added
/// first when helm does not know it, so a fresh machine needs no `helm repo add`).
fn obtain_chart(settings: &Settings, tools: &Tools, work: &Path) -> Result<LocalChart, Error> {
    match &settings.chart {
        Chart::Local(path) if path.is_dir() => LocalChart::open(path, path.display().to_string()),
        Chart::Local(archive) => {
            let dir = work.join("chart");
            std::fs::create_dir_all(&dir).map_err(|error| {
                Error::external(format!("cannot unpack the chart: {error}"))
                    .with_hint("check that the state directory is writable and the disk is not full")
            })?;
            let untar = Command::new("tar").arg("-xzf").arg(archive).arg("-C").arg(&dir).timeout(QUICK);
            process::run_checked(&untar).map_err(|error| {
                error.with_hint(format!(
                    "`{}` must be a chart archive as `helm package` or `helm pull` make",
                    archive.display()
                ))
            })?;
            let inner = single_dir(&dir)?;
            LocalChart::open(&inner, archive.display().to_string())
        }
        Chart::Repository { name, version, repo_url } => {
            // The repository first, so a fresh machine needs no `helm repo add`.
            tools.run("helm-run", invoke::helm_repo(settings, repo_url), None, QUICK)?;
            let chart_name = name.rsplit('/').next().unwrap_or("airflow");
            let cache = settings.state_dir.join("cache");
            let dir = match version {
                Some(version) => {
                    let dir = cache.join(format!("{chart_name}-{version}"));
                    if !dir.join(chart_name).join("Chart.yaml").is_file() {
                        pull(settings, name, Some(version), &dir)?;
                    }
                    dir
                }
                None => {
                    // Unpinned: the newest, cached under the version it turns out to be.
                    let latest = work.join("latest");
                    pull(settings, name, None, &latest)?;
                    let found = LocalChart::open(&latest.join(chart_name), String::new())?.chart_version;
                    say(&format!(
                        "warning: the chart version is not pinned; this run uses the newest, {found} (pin it with `--chart-version {found}`)"
                    ));
                    let dir = cache.join(format!("{chart_name}-{found}"));
                    if !dir.join(chart_name).join("Chart.yaml").is_file() {
                        let _ = std::fs::remove_dir_all(&dir);
                        std::fs::rename(&latest, &dir).map_err(|error| {
                            Error::external(format!("cannot move the pulled chart into `{}`: {error}", dir.display()))
                                .with_hint("remove the state directory's `cache/` and run again")
                        })?;
                    }
                    dir
                }
            };
            // helm renders and installs this very directory: what was checked is what runs,
            // whatever the repository serves later under the same name.
            let chart_dir = dir.join(chart_name);
            LocalChart::open(&chart_dir, chart_dir.display().to_string())
        }
    }
}

/// `helm pull CHART --version V --untar` into `dir` (through a temporary sibling, renamed
/// into place, so a half-pulled chart is never taken for a cached one).
fn pull(settings: &Settings, name: &str, version: Option<&str>, dir: &Path) -> Result<(), Error> {
    let partial = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    let mut command = invoke::helm_command(settings).args(["pull", name, "--untar", "--untardir"]).arg(&partial);
    if let Some(version) = version {
        command = command.args(["--version", version]);
    }
    process::run_checked(&command.timeout(QUICK)).map_err(|error| {
        error.with_hint("check `--chart-version` (`helm search repo apache-airflow/airflow --versions` lists them) and that the chart repository is reachable; offline, pass `--chart ./airflow-X.tgz`")
    })?;
    if let Some(parent) = dir.parent() {
        airflow_kit_core::fs::create_private_dir(parent, 0o700)?;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&partial, dir).map_err(|error| {
        Error::external(format!("cannot move the pulled chart into `{}`: {error}", dir.display()))
            .with_hint("remove the state directory's `cache/` and run again")
    })
}

fn single_dir(dir: &Path) -> Result<PathBuf, Error> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|error| Error::external(format!("cannot read `{}`: {error}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("Chart.yaml").is_file())
        .collect();
    match entries.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(Error::bad_input("the chart archive does not hold one chart directory with a Chart.yaml")
            .with_hint("make it with `helm pull apache-airflow/airflow --version V` or `helm package DIR`")),
    }
}

/// `dags.gitSync` for an HTTPS repository, as strings taken literally (`enabled` is set as
/// JSON by the caller): git-sync clones the URL as it is, with the token's Secret for a
/// private one.
fn git_sync_https(settings: &Settings) -> Vec<(String, String)> {
    let mut sets = vec![
        ("dags.gitSync.repo".to_string(), settings.repo.clone()),
        ("dags.gitSync.branch".into(), settings.branch.clone()),
        ("dags.gitSync.ref".into(), settings.branch.clone()),
        ("dags.gitSync.subPath".into(), settings.sub_path.clone()),
    ];
    if matches!(settings.access, Access::Token { .. }) {
        sets.push(("dags.gitSync.credentialsSecret".into(), defaults::CREDENTIALS_SECRET_NAME.into()));
    }
    sets
}

/// The access check, waiting on a terminal for a person to register a new deploy key.
fn access_check(settings: &Settings, auth: &GitAuth, work: &Path, prompt: &mut dyn Prompt) -> Result<String, Error> {
    loop {
        let head = match access::ls_remote(&settings.repo, &settings.branch, auth, work) {
            Ok(head) => head,
            Err(Failure::KeyNotRegistered) => {
                let public = std::fs::read_to_string(settings.key_file().with_extension("pub")).unwrap_or_default();
                eprintln!(
                    "\nThe deploy key is not registered with the repository yet (F4). Add this public key, read-only:\n"
                );
                eprintln!("  {}\n", public.trim());
                eprintln!("  where: {}\n", where_to_paste(settings));
                if !prompt.interactive() {
                    return Err(Failure::KeyNotRegistered.into_error(&settings.repo, &settings.branch));
                }
                prompt.wait_for_enter("Press Enter once the key is added (Ctrl-C to stop)... ")?;
                continue;
            }
            Err(other) => return Err(other.into_error(&settings.repo, &settings.branch)),
        };
        say(&format!("`{}` reachable as git-sync will reach it; `{}` is at {head}", settings.repo, settings.branch));
        match access::sub_path_exists(&settings.repo, &settings.branch, &settings.sub_path, auth, work) {
            Ok(Ok(())) => say(&format!("the DAG folder `{}` exists at {}", settings.sub_path, short(&head))),
            Ok(Err(top)) => {
                return Err(Error::bad_input(format!(
                    "the branch `{}` has no folder `{}`",
                    settings.branch, settings.sub_path
                ))
                .with_hint(format!(
                    "check `--sub-path`; the folders at the top of the branch are: {}",
                    if top.is_empty() { "none".to_string() } else { top.join(", ") }
                )));
            }
            Err(failure) => return Err(failure.into_error(&settings.repo, &settings.branch)),
        }
        return Ok(head);
    }
}

/// Where to register the deploy key: the provider's page, or a general instruction.
pub fn where_to_paste(settings: &Settings) -> String {
    match settings.url.deploy_keys_page() {
        Some(page) => format!("{page} (Add deploy key; leave write access off)"),
        None => "your Git server's deploy keys (or the git user's authorized_keys), read-only".to_string(),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// What writing `merged` would change in the cumulative file, in words (secrets masked by
/// values-merge's `--diff`).
fn describe_changes(tools: &Tools, state_values: &Path, merged: &str, fresh: bool) -> Result<String, Error> {
    if fresh {
        return Ok(format!("create `{}` (mode 0600)", state_values.display()));
    }
    let diff = tools.run("values-merge", invoke::diff_against(state_values), Some(merged), QUICK)?;
    let report = invoke::read_diff(&diff)?;
    if report.added.is_empty() && report.changed.is_empty() && report.removed.is_empty() {
        return Ok(format!("leave `{}` unchanged", state_values.display()));
    }
    eprintln!("{}", diff.trim_end());
    Ok(format!("change `{}` as shown above", state_values.display()))
}

/// MicroK8s' dns and hostpath-storage addons, and a default StorageClass (F14, F15).
fn cluster_checks(settings: &Settings) -> Result<(), Error> {
    if settings.cluster.microk8s {
        let status = process::run_checked(&Command::new("microk8s").arg("status").timeout(QUICK))?;
        let text = status.stdout_text();
        let enabled = text.split("disabled:").next().unwrap_or("");
        for addon in ["dns", "hostpath-storage"] {
            if !enabled.lines().any(|line| line.split_whitespace().next() == Some(addon)) {
                return Err(Error::bad_input(format!("the MicroK8s addon `{addon}` is not enabled"))
                    .with_hint(format!("run `microk8s enable {addon}`")));
            }
        }
    }
    let command = invoke::kubectl(settings)?.args(["get", "storageclass", "-o", "json"]).timeout(QUICK);
    let output = process::run_checked(&command)?;
    if !invoke::has_default_storage_class(&output.stdout)? {
        return Err(Error::bad_input(
            "the cluster has no default StorageClass: the database's volume would stay Pending (F14)",
        )
        .with_hint(
            "on MicroK8s run `microk8s enable hostpath-storage`; elsewhere mark one StorageClass as the default",
        ));
    }
    Ok(())
}

/// True when helm knows the release (`helm-run status --ignore-not-found` says so).
fn release_exists(settings: &Settings, tools: &Tools) -> Result<bool, Error> {
    let report = tools.run("helm-run", invoke::helm_status(settings), None, QUICK)?;
    Ok(invoke::read_status(&report)?.installed)
}

/// A Secret kept out of the values (`--key-as manifest`, the HTTPS token), applied from
/// stdin so its data is never in argv; the namespace first, since the upgrade has not made it.
fn apply_manifest(settings: &Settings, what: &str, manifest: &Path) -> Result<(), Error> {
    let namespace = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n", settings.cluster.namespace);
    let text = std::fs::read(manifest).map_err(|error| Error::external(format!("cannot read the {what}: {error}")))?;
    for input in [namespace.into_bytes(), text] {
        let command = invoke::kubectl(settings)?.args(["apply", "-f", "-"]).stdin(input).timeout(QUICK);
        process::run_checked(&command)
            .map_err(|error| Error { message: format!("`kubectl apply` of {what} failed"), ..error })?;
    }
    Ok(())
}

/// A token file must be readable by its owner only, like a private key.
fn check_token_file(path: &Path) -> Result<(), Error> {
    let mode = airflow_kit_core::fs::mode_of(path).ok_or_else(|| {
        Error::bad_input(format!("the token file `{}` does not exist", path.display()))
            .with_hint("write the token into a file only you can read: `umask 077; cat > token`")
    })?;
    if mode & 0o077 != 0 {
        return Err(Error::refused(format!(
            "the token file `{}` can be read by others (mode {mode:o})",
            path.display()
        ))
        .with_hint(format!("`chmod 600 {}`", path.display())));
    }
    Ok(())
}

/// The Secret git-sync reads for HTTPS (both git-sync v3's and v4's variable names), as a
/// 0600 manifest in the run directory, for `kubectl apply -f -`.
fn write_credentials_manifest(path: &Path, namespace: &str, user: &str, token_file: &Path) -> Result<(), Error> {
    use base64::Engine;
    let token = std::fs::read_to_string(token_file)
        .map_err(|error| Error::bad_input(format!("cannot read the token file `{}`: {error}", token_file.display())))?;
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let (user, token) = (encode(user), encode(token.trim()));
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {}\n  namespace: {namespace}\ntype: Opaque\ndata:\n  GIT_SYNC_USERNAME: {user}\n  GIT_SYNC_PASSWORD: {token}\n  GITSYNC_USERNAME: {user}\n  GITSYNC_PASSWORD: {token}\n",
        defaults::CREDENTIALS_SECRET_NAME
    );
    airflow_kit_core::fs::write_atomic(path, text.as_bytes(), 0o600)
}

/// The state directory's lock (`.lock` inside it), held until the run ends however it ends.
/// A second run refuses (exit 4) and names the process that holds it.
pub fn lock_state(state_dir: &Path) -> Result<airflow_kit_core::lock::Guard, Error> {
    airflow_kit_core::lock::exclusive(&state_dir.join(".lock"), false).map_err(|error| {
        let hint = "another `cargo xtask install`, `adopt` or `rotate` is using this state directory; let it finish (or stop it), then run again";
        Error { hint: Some(hint.into()), ..error }
    })
}

/// What a run killed with SIGKILL may have left (its private directory, a half-written temp
/// file of an atomic write): ours by name, and nobody else's, since the caller holds the lock.
pub fn sweep_stale_scratch(state_dir: &Path) {
    for dir in [state_dir.to_path_buf(), state_dir.join("keys")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let ours = name.starts_with(".run-") || (name.starts_with('.') && name.contains(".tmp-"));
            if !ours {
                continue;
            }
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            if removed.is_ok() {
                say(&format!("removed `{}`, left by an earlier run that was killed", path.display()));
            }
        }
    }
}

/// Everything the run will read from the state directory is the caller's own and private,
/// before any of it is read: another user's planted key or values are never reused.
fn check_state_trusted(settings: &Settings) -> Result<(), Error> {
    use airflow_kit_core::fs::check_trusted;
    check_trusted(&settings.keys_dir(), false)?;
    check_trusted(&settings.key_file(), true)?;
    check_trusted(&settings.key_file().with_extension("pub"), false)?;
    check_trusted(&settings.values_file(), true)?;
    check_trusted(&settings.state_dir.join("cache"), false)
}

/// Asking for `--key-type rsa` while an Ed25519 key exists (or the other way) would silently
/// keep the old key: say so instead.
fn check_key_type(settings: &Settings) -> Result<(), Error> {
    let Access::Ssh { key_type, .. } = settings.access else { return Ok(()) };
    let Ok(public) = std::fs::read_to_string(settings.key_file().with_extension("pub")) else { return Ok(()) };
    let existing = match public.split_whitespace().next() {
        Some("ssh-ed25519") => KeyType::Ed25519,
        Some("ssh-rsa") => KeyType::Rsa,
        _ => return Ok(()),
    };
    if existing == key_type {
        return Ok(());
    }
    Err(Error::bad_input(format!(
        "the deploy key `{}` is {}, but {} was asked for",
        settings.key_file().display(),
        existing.name(),
        key_type.name()
    ))
    .with_hint(format!(
        "keep the existing key (drop `--key-type`, or set it to `{}`); to change the type, move the key pair away, run again, and register the new public key",
        existing.name()
    )))
}

/// The state directory: 0700, and ignored by git when it sits inside a work tree.
pub fn prepare_state_dir(dir: &Path) -> Result<(), Error> {
    airflow_kit_core::fs::create_private_dir(dir, 0o700)?;
    let absolute =
        dir.canonicalize().map_err(|error| Error::external(format!("cannot resolve `{}`: {error}", dir.display())))?;
    let parent = absolute.parent().unwrap_or(&absolute);
    let top =
        process::run(&Command::new("git").arg("-C").arg(parent).args(["rev-parse", "--show-toplevel"]).timeout(QUICK))?;
    if !top.success() {
        say(&format!(
            "warning: `{}` is not inside a git work tree; keep it out of any repository or shared backup: it holds the deploy key and secrets",
            dir.display()
        ));
        return Ok(());
    }
    let top = PathBuf::from(top.stdout_text().trim());
    let ignored = process::run(
        &Command::new("git").arg("-C").arg(&top).args(["check-ignore", "-q"]).arg(&absolute).timeout(QUICK),
    )?;
    if ignored.success() {
        return Ok(());
    }
    let relative = absolute.strip_prefix(&top).unwrap_or(&absolute).display().to_string();
    let gitignore = top.join(".gitignore");
    let mut text = std::fs::read_to_string(&gitignore).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("/{relative}/\n"));
    airflow_kit_core::fs::write_atomic(&gitignore, text.as_bytes(), 0o644)?;
    say(&format!("added `/{relative}/` to {} (it holds the deploy key and secrets)", gitignore.display()));
    Ok(())
}

fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::bad_input(format!(
            "cannot read `{}`: {}",
            path.display(),
            airflow_kit_core::fs::plain_io_error(&error)
        ))),
    }
}

struct Progress<'a> {
    steps: &'a [Step],
    dry_run: bool,
}

impl Progress<'_> {
    /// Announces the next step; after a Ctrl-C (caught while a child ran) the run stops here.
    fn at(&mut self, step: Step) -> Result<(), Error> {
        crate::interrupt::check()?;
        let index = self.steps.iter().position(|s| *s == step).map(|i| i + 1).unwrap_or(0);
        eprintln!("==> [{index}/{}] {}", self.steps.len(), step.title(self.dry_run));
        Ok(())
    }
}

pub fn say(message: &str) {
    cli::say(TOOL, message);
}

pub fn skipped(what: &str, why: &str) {
    say(&format!("skipped {what}: {why}"));
}

/// The summary after a run.
pub fn summary(settings: &Settings, outcome: &Outcome, tools: &Tools) {
    eprintln!("\n==> summary");
    let cluster = &settings.cluster;
    eprintln!(
        "  release `{}` in namespace `{}`, DAGs from {} ({} at {})",
        cluster.release, cluster.namespace, settings.repo, settings.branch, outcome.head
    );
    if let Some(count) = outcome.dag_files {
        eprintln!("  git-sync has the same commit; DAG files: {count}");
    }
    match settings.expose {
        Expose::NodePort(port) => {
            eprintln!("  the UI: http://<node-ip>:{port} (`pod-inspect ui` prints the exact URL)")
        }
        Expose::PortForward => eprintln!(
            "  the UI: `{} ui -n {} --release {}` (port-forward on 127.0.0.1:8080)",
            tools.path("pod-inspect").display(),
            cluster.namespace,
            cluster.release
        ),
    }
    let secrets_are = if settings.dry_run && !settings.values_file().exists() { "would be" } else { "are" };
    eprintln!(
        "  secrets, admin and database passwords {secrets_are} in {} (mode 0600; never printed)",
        settings.values_file().display()
    );
    if matches!(settings.access, Access::Ssh { .. }) {
        eprintln!("  deploy key: {}", settings.key_file().display());
    }
    eprintln!("  when something fails: `pod-inspect diagnose`, then `pod-inspect fix` (docs/failures.md)");
    if settings.dry_run {
        eprintln!("  (dry run: nothing was sent to the cluster and the cumulative file was not written)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{InstallArgs, resolve};
    use airflow_kit_core::ExitCode;

    fn settings(flags: &[&str]) -> Settings {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: InstallArgs,
        }
        let mut all = vec!["install", "--branch", "main", "--sub-path", "dags"];
        all.extend_from_slice(flags);
        resolve(&Cli::try_parse_from(all).expect("flags").args, None).expect("resolves")
    }

    #[test]
    fn where_to_paste_the_key_for_each_form_of_url() {
        for (repo, page) in [
            ("git@github.com:me/dags.git", "https://github.com/me/dags/settings/keys"),
            ("ssh://git@ssh.github.com:443/me/dags.git", "https://github.com/me/dags/settings/keys"),
            ("git@gitlab.com:group/sub/dags.git", "https://gitlab.com/group/sub/dags/-/settings/repository"),
        ] {
            let shown = where_to_paste(&settings(&["--repo", repo]));
            assert!(shown.starts_with(page), "{repo}: {shown}");
        }
        let own = where_to_paste(&settings(&["--repo", "ssh://git@git.example.com:2222/dags.git"]));
        assert!(own.contains("authorized_keys"), "{own}");
    }

    #[test]
    fn a_key_type_other_than_the_existing_keys_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path().join("state");
        std::fs::create_dir_all(state.join("keys")).expect("keys");
        std::fs::write(state.join("keys/airflow_deploy_key.pub"), "ssh-ed25519 AAAAC3Nza test\n").expect("pub");
        let state_flag = state.display().to_string();
        let same = settings(&["--repo", "git@github.com:me/d.git", "--state-dir", &state_flag]);
        assert!(check_key_type(&same).is_ok());
        let rsa = settings(&["--repo", "git@github.com:me/d.git", "--state-dir", &state_flag, "--key-type", "rsa"]);
        let error = check_key_type(&rsa).expect_err("refused");
        assert_eq!(error.code, ExitCode::BadInput);
        assert!(error.message.contains("is ed25519, but rsa was asked for"), "{}", error.message);
        assert!(error.hint.expect("hint").contains("keep the existing key"));
    }
}
