//! helm-run: helm for the Airflow chart, with every check that can run before the cluster is
//! touched run first. One plain function per subcommand, each taking its `Config`; reports
//! are JSON values that `main` prints as YAML. Nothing here reads argv or env, or prints.

pub mod cli;
pub mod failure;
pub mod helm;
pub mod notes;
pub mod stream;
pub mod values_diff;
pub mod values_file;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use airflow_kit_core::process::{self, Command};
use airflow_kit_core::{Document, Error};
use serde_json::{Value, json};

pub use airflow_kit_core::interrupt::Interrupts;
pub use helm::{ClusterFlags, Helm, Version};
use values_file::ValuesFile;

/// What the process environment says, resolved once by `main`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// PATH, to find `helm` or `microk8s`.
    pub path: Option<OsString>,
    /// KUBECONFIG, a colon-separated list, as helm reads it.
    pub kubeconfig: Option<OsString>,
    pub home: Option<PathBuf>,
    /// Where the private values directory is made (TMPDIR).
    pub temp_dir: PathBuf,
}

/// What every run needs besides its config: the environment, the caught signals, and where
/// progress lines go (stderr, prefixed, in `main`).
pub struct Context<'a> {
    pub env: &'a Environment,
    pub interrupts: &'a Interrupts,
    pub say: &'a (dyn Fn(&str) + Sync),
}

/// Which helm, and how it reaches the cluster.
#[derive(Debug, Clone, Default)]
pub struct HelmConfig {
    /// `--helm PATH`; None: `helm` on PATH, else `microk8s helm3`.
    pub helm: Option<PathBuf>,
    pub cluster: ClusterFlags,
}

/// A release of a chart with a values document: what preflight, template and upgrade share.
#[derive(Debug, Clone)]
pub struct ReleaseConfig {
    pub helm: HelmConfig,
    pub release: String,
    pub namespace: String,
    /// `apache-airflow/airflow`, a chart directory, or a .tgz.
    pub chart: String,
    /// `--version`: the chart version to use (repository charts).
    pub chart_version: Option<String>,
    pub values: Document,
}

/// `helm-run upgrade`.
#[derive(Debug, Clone)]
pub struct UpgradeConfig {
    pub release: ReleaseConfig,
    /// Helm's `--timeout`, as given (`10m`), and as a duration.
    pub timeout: String,
    pub timeout_duration: Duration,
    /// `--wait`: only allowed when the migration job is not a Helm hook (F10).
    pub wait: bool,
    /// Print the report with the command that would run; touch no cluster.
    pub dry_run: bool,
    /// `--allow-removal PATH`: deployed values the new values may drop (each covers itself
    /// and everything under it), spelled as the report spells paths.
    pub allow_removal: Vec<String>,
    /// `--allow-removals`: the new values may drop any deployed value.
    pub allow_removals: bool,
}

/// How an upgrade stopped: the error, and the report when the run got far enough to have one
/// (a refused drop of deployed values: the report lists them).
#[derive(Debug)]
pub struct Stopped {
    /// Boxed, as the report: a `Result` with a large error slows every `?` on the way out.
    pub error: Box<Error>,
    pub report: Option<Box<Value>>,
}

impl From<Error> for Stopped {
    fn from(error: Error) -> Stopped {
        Stopped { error: Box::new(error), report: None }
    }
}

/// `helm-run repo`.
#[derive(Debug, Clone)]
pub struct RepoConfig {
    pub helm: HelmConfig,
    pub name: String,
    pub url: String,
}

/// `helm-run status` and `helm-run get-values`.
#[derive(Debug, Clone)]
pub struct ReleaseRef {
    pub helm: HelmConfig,
    pub release: String,
    pub namespace: String,
}

pub const DEFAULT_RELEASE: &str = "airflow";
pub const DEFAULT_NAMESPACE: &str = "airflow";
pub const DEFAULT_CHART: &str = "apache-airflow/airflow";
pub const DEFAULT_REPO_NAME: &str = "apache-airflow";
pub const DEFAULT_REPO_URL: &str = "https://airflow.apache.org";
pub const DEFAULT_TIMEOUT: &str = "10m";

/// How long a read-only cluster call (`helm status`) may take: an unreachable API must fail
/// fast, not after the default 30s dial timeouts pile up.
pub const CLUSTER_CHECK_TIMEOUT: Duration = Duration::from_secs(30);

impl ReleaseConfig {
    /// Checks what can be checked without running anything.
    pub fn validate(&self) -> Result<(), Error> {
        check_name("release", &self.release, 53)?;
        check_name("namespace", &self.namespace, 63)?;
        if looks_local(&self.chart) && !Path::new(&self.chart).exists() {
            return Err(Error::bad_input(format!("chart `{}` does not exist", self.chart)).with_hint(
                "pass `--chart` an existing chart directory or .tgz, or a repository chart like `apache-airflow/airflow`",
            ));
        }
        if let Some(path) = &self.helm.cluster.kubeconfig
            && !path.is_file()
        {
            return Err(Error::bad_input(format!("kubeconfig `{}` does not exist", path.display()))
                .with_hint("with MicroK8s: `microk8s config > ~/.kube/config && chmod 600 ~/.kube/config`"));
        }
        Ok(())
    }
}

impl UpgradeConfig {
    pub fn validate(&self) -> Result<(), Error> {
        self.release.validate()?;
        for path in &self.allow_removal {
            values_diff::parse_path(path)?;
        }
        if self.wait && !migrations_without_hooks(&self.release.values) {
            return Err(Error::bad_input(
                "`--wait` would deadlock: the migration job is a Helm hook (the chart's default)",
            )
            .with_hint(
                "helm waits for pods that wait for the migration hook, which runs only after the wait (F10);\n\
                     drop `--wait` (then `pod-inspect wait`), or set `migrateDatabaseJob.useHelmHooks: false`",
            ));
        }
        Ok(())
    }
}

/// Parses a Go duration as helm's `--timeout` takes it: `10m`, `300s`, `1h30m`, `90s`.
pub fn parse_timeout(text: &str) -> Result<Duration, Error> {
    let bad = || {
        Error::bad_input(format!("`--timeout {text}` is not a duration"))
            .with_hint("write it as helm does: `10m`, `600s`, `1h30m`")
    };
    let mut total = 0f64;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let unit = match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                0.001
            }
            ('h', _) => 3600.0,
            ('m', _) => 60.0,
            ('s', _) => 1.0,
            _ => return Err(bad()),
        };
        let value: f64 = number.parse().map_err(|_| bad())?;
        total += value * unit;
        number.clear();
        any = true;
    }
    if !number.is_empty() || !any || total <= 0.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

/// True when the values turn the migration job into a plain Job (`useHelmHooks: false`).
pub fn migrations_without_hooks(values: &Document) -> bool {
    values.root.get_path(&["migrateDatabaseJob", "useHelmHooks"]).and_then(|node| node.as_bool()) == Some(false)
}

// ---------------------------------------------------------------------------------------
// repo

/// Adds the chart repository when it is missing or points elsewhere, then updates it.
pub fn repo(config: &RepoConfig, ctx: &Context) -> Result<Value, Error> {
    let mut commands = Vec::new();
    let (helm, version) = find_helm(&config.helm, &mut commands, ctx)?;
    let list = helm.command(["repo", "list", "-o", "json"]);
    commands.push(list.display());
    let output = process::run(&list)?;
    // An empty repository list is an error in some helm versions ("no repositories to show").
    let existing: Vec<Value> =
        if output.success() { serde_json::from_slice(&output.stdout).unwrap_or_default() } else { Vec::new() };
    let current = existing.iter().find(|repo| repo["name"] == config.name.as_str());
    let current_url = current.and_then(|repo| repo["url"].as_str()).map(|url| url.trim_end_matches('/').to_string());
    let change = match current_url {
        Some(url) if url == config.url.trim_end_matches('/') => "unchanged",
        Some(_) => "replaced",
        None => "added",
    };
    if change != "unchanged" {
        let mut add = helm.command(["repo", "add", &config.name, &config.url]);
        if change == "replaced" {
            add = add.arg("--force-update");
        }
        commands.push(add.display());
        (ctx.say)(&format!("{change} chart repository `{}` ({})", config.name, config.url));
        run_classified(&add)?;
    }
    ctx.interrupts.check()?;
    let update = helm.command(["repo", "update", &config.name]);
    commands.push(update.display());
    run_classified(&update)?;
    Ok(json!({
        "action": "repo",
        "helm": helm_json(&helm, version),
        "repo": { "name": config.name, "url": config.url, "change": change },
        "commands": commands,
    }))
}

// ---------------------------------------------------------------------------------------
// preflight

/// What preflight found, for the report and for `upgrade`.
#[derive(Debug, Clone)]
pub struct Preflight {
    pub helm: Helm,
    pub version: Version,
    pub commands: Vec<String>,
    pub warnings: Vec<String>,
    pub kubeconfigs: Vec<PathBuf>,
    pub chart_version: Option<String>,
    pub app_version: Option<String>,
    /// The release's status before we run, None when it is not installed (or not asked).
    pub release_status: Option<String>,
    pub release_revision: Option<u64>,
    pub cluster_checked: bool,
}

/// `helm-run preflight`: every check, in the order that touches the cluster last.
pub fn preflight(config: &ReleaseConfig, ctx: &Context) -> Result<Value, Error> {
    config.validate()?;
    let values = ValuesFile::write(&config.values, &ctx.env.temp_dir)?;
    let found = run_preflight(config, ctx, &values, true)?;
    let report = release_report("preflight", config, &found, Some(values.path()), None, &found.commands);
    values.remove();
    Ok(report)
}

/// The checks behind `preflight` and `upgrade`. `cluster` false skips the one call that
/// reaches the API (`--dry-run`).
pub fn run_preflight(
    config: &ReleaseConfig,
    ctx: &Context,
    values: &ValuesFile,
    cluster: bool,
) -> Result<Preflight, Error> {
    let mut commands = Vec::new();
    let (helm, version) = find_helm(&config.helm, &mut commands, ctx)?;
    let mut warnings = Vec::new();
    let kubeconfigs = kubeconfig_files(config, &helm, ctx.env);
    for path in &kubeconfigs {
        if let Some(mode) = airflow_kit_core::fs::mode_of(path)
            && mode & 0o077 != 0
        {
            let warning = format!(
                "kubeconfig `{}` is group- or world-readable (mode {mode:04o}); fix: `chmod 600 {}`",
                path.display(),
                path.display()
            );
            (ctx.say)(&format!("warning: {warning}"));
            warnings.push(warning);
        }
    }
    if kubeconfigs.is_empty() && helm.source != "microk8s" {
        let warning = "no kubeconfig found (`--kubeconfig`, KUBECONFIG, ~/.kube/config); with MicroK8s: \
                       `microk8s config > ~/.kube/config && chmod 600 ~/.kube/config`"
            .to_string();
        (ctx.say)(&format!("warning: {warning}"));
        warnings.push(warning);
    }

    // Everything up to here and the render below is local: a bad value stops us before the
    // cluster is touched.
    let template = template_command(config, &helm, values.path());
    commands.push(template.display());
    run_classified(&template)?;
    ctx.interrupts.check()?;

    let mut show = helm.command(["show", "chart", &config.chart]);
    if let Some(version) = &config.chart_version {
        show = show.arg("--version").arg(version);
    }
    commands.push(show.display());
    let metadata = run_classified(&show)?;
    let metadata = Document::parse(&metadata.stdout_text(), "Chart.yaml").ok();
    let field = |name: &str| {
        metadata
            .as_ref()
            .and_then(|doc| doc.root.get_path(&[name]))
            .and_then(|node| node.as_scalar())
            .map(|s| s.text.clone())
    };
    let (chart_version, app_version) = (field("version"), field("appVersion"));

    let mut found = Preflight {
        helm,
        version,
        commands,
        warnings,
        kubeconfigs,
        chart_version,
        app_version,
        release_status: None,
        release_revision: None,
        cluster_checked: false,
    };
    if !cluster {
        return Ok(found);
    }
    let status = status_command(&found.helm, &config.helm.cluster, &config.release, &config.namespace);
    found.commands.push(status.display());
    let output = process::run(&status).map_err(|error| unreachable_on_timeout(error, &found.kubeconfigs))?;
    found.cluster_checked = true;
    ctx.interrupts.check()?;
    if output.success() {
        let release = serde_json::from_slice::<Value>(&output.stdout).unwrap_or(Value::Null);
        let state = release["info"]["status"].as_str().unwrap_or("unknown").to_string();
        if state.starts_with("pending-") {
            return Err(Error::refused(format!(
                "release `{}` in namespace `{}` is `{state}`: an earlier operation did not finish",
                config.release, config.namespace
            ))
            .with_hint(
                failure::PENDING_HINT.replace("RELEASE", &config.release).replace("NAMESPACE", &config.namespace),
            ));
        }
        found.release_revision = release["version"].as_u64();
        found.release_status = Some(state);
    } else if !failure::is_release_not_found(&output) {
        return Err(with_kubeconfig_note(failure::classify(&status, &output), &found.kubeconfigs));
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------
// upgrade

/// `helm-run upgrade`: preflight, then the new values against the deployed ones (a dropped
/// value stops it unless acknowledged), then `helm upgrade --install` with the values in a
/// 0600 temp file, never `--reuse-values`, Ctrl-C forwarded to helm.
pub fn upgrade(config: &UpgradeConfig, ctx: &Context) -> Result<Value, Stopped> {
    config.validate()?;
    let values = ValuesFile::write(&config.release.values, &ctx.env.temp_dir)?;
    // The file goes on every path out of here: `values` is dropped on return and on `?`.
    let result = upgrade_with_values(config, ctx, &values);
    values.remove();
    result
}

fn upgrade_with_values(config: &UpgradeConfig, ctx: &Context, values: &ValuesFile) -> Result<Value, Stopped> {
    let release = &config.release;
    let mut found = run_preflight(release, ctx, values, !config.dry_run)?;
    let command = upgrade_command(config, &found.helm, values.path());
    if config.dry_run {
        let mut commands = found.commands.clone();
        commands.push(command.display());
        let mut report = release_report("upgrade", release, &found, Some(values.path()), None, &commands);
        report["dry_run"] = json!(true);
        report["would_run"] = json!(command.display());
        report["values_diff"] = values_diff::skipped_report(DRY_RUN_SKIPS_DIFF);
        (ctx.say)(&format!("note: {DRY_RUN_SKIPS_DIFF}"));
        return Ok(order(report));
    }
    let checked = compare_with_deployed(config, ctx, &mut found)?;
    if let Some(error) = checked.refusal {
        let mut report = release_report("upgrade", release, &found, Some(values.path()), None, &found.commands);
        report["values_diff"] = checked.field;
        return Err(Stopped { error: Box::new(error), report: Some(Box::new(order(report))) });
    }
    ctx.interrupts.check()?;
    found.commands.push(command.display());
    (ctx.say)(&format!("running: {}", command.display()));
    let on_line = |line: &str| (ctx.say)(&format!("helm: {line}"));
    let output = stream::run_teeing_stderr(&command, |pids| ctx.interrupts.started(pids), &on_line);
    ctx.interrupts.finished();
    if let Some(signal) = ctx.interrupts.received() {
        return Err(interrupted_error(signal).into());
    }
    let output = output?;
    if !output.success() {
        return Err(with_kubeconfig_note(failure::classify(&command, &output), &found.kubeconfigs).into());
    }
    let mut installed = serde_json::from_slice::<Value>(&output.stdout).unwrap_or(Value::Null);
    if installed["info"].is_null() {
        // Not JSON (an unusual helm): ask for the release as helm stored it.
        let status = status_command(&found.helm, &release.helm.cluster, &release.release, &release.namespace);
        found.commands.push(status.display());
        installed = serde_json::from_slice(&run_classified(&status)?.stdout).unwrap_or(Value::Null);
    }
    let mut report = release_report("upgrade", release, &found, Some(values.path()), Some(&installed), &found.commands);
    report["values_diff"] = checked.field;
    say_release(ctx, &installed);
    Ok(order(report))
}

/// The error shown after Ctrl-C or SIGTERM reached helm (the exit code is 128 + signal, set
/// by main).
pub fn interrupted_error(signal: i32) -> Error {
    airflow_kit_core::interrupt::interrupted_error(signal, "helm")
        .with_hint("run `helm-run status` to see the release; a release left `pending-*` needs `helm rollback`")
}

/// Why `--dry-run` has no values diff: it never asks the cluster.
pub const DRY_RUN_SKIPS_DIFF: &str =
    "the values were not compared with the deployed release: `--dry-run` does not ask the cluster";

/// The no-silent-drop check's outcome: the report's `values_diff` field, and the refusal when
/// a deployed value would be dropped without being acknowledged.
struct DropCheck {
    field: Value,
    refusal: Option<Error>,
}

/// Compares the new values with the deployed release's user values (`helm get values -o
/// json`), so that a setting missing from the new values never silently falls back to the
/// chart default. A release that is not installed has nothing to compare with.
fn compare_with_deployed(config: &UpgradeConfig, ctx: &Context, found: &mut Preflight) -> Result<DropCheck, Error> {
    let release = &config.release;
    let not_installed = || DropCheck {
        field: values_diff::skipped_report(&format!(
            "release `{}` is not installed in namespace `{}`: nothing to compare with",
            release.release, release.namespace
        )),
        refusal: None,
    };
    if found.release_status.is_none() {
        return Ok(not_installed());
    }
    let command = found
        .helm
        .cluster_command(
            ["get", "values", &release.release, "--namespace", &release.namespace, "-o", "json"],
            &release.helm.cluster,
        )
        .timeout(CLUSTER_CHECK_TIMEOUT);
    found.commands.push(command.display());
    let output = process::run(&command).map_err(|error| unreachable_on_timeout(error, &found.kubeconfigs))?;
    ctx.interrupts.check()?;
    if !output.success() {
        if failure::is_release_not_found(&output) {
            return Ok(not_installed());
        }
        return Err(with_kubeconfig_note(failure::classify(&command, &output), &found.kubeconfigs));
    }
    let deployed = values_diff::parse_deployed(&output.stdout_text())?;
    let diff = values_diff::compare(&deployed, &release.values.root);

    let allowed: Vec<Vec<String>> =
        config.allow_removal.iter().map(|path| values_diff::parse_path(path)).collect::<Result<_, _>>()?;
    let open = diff.unacknowledged(config.allow_removals, &allowed);
    let acknowledged: Vec<&values_diff::Removed> =
        diff.removed.iter().filter(|removed| !open.iter().any(|o| o.path == removed.path)).collect();
    for (text, keys) in config.allow_removal.iter().zip(&allowed) {
        if !diff.removed.iter().any(|removed| removed.keys.starts_with(keys)) {
            (ctx.say)(&format!("warning: `--allow-removal {text}` matches no value the new values drop"));
        }
    }
    say_diff(ctx, release, found.release_revision, &diff, &open);
    let field = diff.report(found.release_revision, &acknowledged, &open);
    if open.is_empty() {
        return Ok(DropCheck { field, refusal: None });
    }
    let revision = found.release_revision.map(|r| format!("revision {r} of ")).unwrap_or_default();
    let listed: Vec<String> = open.iter().map(|removed| format!("- {}", removed.path)).collect();
    let error = Error::refused(format!(
        "the new values drop {} value{} that {revision}release `{}` has: helm would silently fall back to the chart \
         defaults for them",
        open.len(),
        if open.len() == 1 { "" } else { "s" },
        release.release
    ))
    .with_detail(listed.join("\n"))
    .with_hint(format!(
        "if they were left out by mistake, restore them into your cumulative values file and upgrade with it:\n\
         `helm-run get-values --release {r} -n {ns} | values-merge --in-place values.yaml -`\n\
         (the deployed values win where both set a key: re-apply this upgrade's changes after);\n\
         if dropping them is intended: `--allow-removal PATH` for each (a path covers everything under it,\n\
         e.g. `--allow-removal {first}`), or `--allow-removals` for all",
        r = release.release,
        ns = release.namespace,
        first = common_parent(&open),
    ));
    Ok(DropCheck { field, refusal: Some(error) })
}

/// The one path that covers every removed value, when they share a parent (`dags.gitSync`),
/// else the first one: the example the refusal's hint gives.
fn common_parent(open: &[&values_diff::Removed]) -> String {
    let first = &open[0].keys;
    let shared =
        (0..first.len()).take_while(|&depth| open.iter().all(|r| r.keys.get(depth) == first.get(depth))).count();
    let keys = if shared == 0 { &first[..] } else { &first[..shared] };
    airflow_kit_core::yaml::dotted(&keys.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The diff's short view on stderr: counts, then each removed path (the report has the rest).
fn say_diff(
    ctx: &Context,
    release: &ReleaseConfig,
    revision: Option<u64>,
    diff: &values_diff::ValuesDiff,
    open: &[&values_diff::Removed],
) {
    let against = match revision {
        Some(revision) => format!("revision {revision} of `{}`", release.release),
        None => format!("`{}`", release.release),
    };
    if diff.is_empty() {
        (ctx.say)(&format!("values: the same as {against}"));
        return;
    }
    (ctx.say)(&format!(
        "values against {against}: {} removed, {} changed, {} added",
        diff.removed.len(),
        diff.changed.len(),
        diff.added.len()
    ));
    // The unacknowledged ones are listed by the refusal itself.
    for removed in diff.removed.iter().filter(|removed| !open.iter().any(|o| o.path == removed.path)) {
        (ctx.say)(&format!("  removed (acknowledged): {}", removed.path));
    }
}

/// The exact upgrade command: values only through the file, `--create-namespace`, never
/// `--reuse-values`, `--wait` only when allowed (validated), JSON out for the report.
pub fn upgrade_command(config: &UpgradeConfig, helm: &Helm, values_path: &Path) -> Command {
    let release = &config.release;
    let mut args: Vec<OsString> =
        ["upgrade", "--install", &release.release, &release.chart, "--namespace", &release.namespace]
            .iter()
            .map(OsString::from)
            .collect();
    args.push("--create-namespace".into());
    args.push("-f".into());
    args.push(values_path.into());
    if let Some(version) = &release.chart_version {
        args.push("--version".into());
        args.push(version.into());
    }
    args.push("--timeout".into());
    args.push(config.timeout.clone().into());
    if config.wait {
        args.push("--wait".into());
    }
    args.push("-o".into());
    args.push("json".into());
    // Helm gets its --timeout to fail and mark the release failed itself; ours is the backstop.
    helm.cluster_command(args, &release.helm.cluster).timeout(config.timeout_duration + Duration::from_secs(120))
}

// ---------------------------------------------------------------------------------------
// template, status, get-values

/// `helm-run template`: the rendered manifests, with schema and template errors classified.
pub fn template(config: &ReleaseConfig, ctx: &Context) -> Result<String, Error> {
    config.validate()?;
    let values = ValuesFile::write(&config.values, &ctx.env.temp_dir)?;
    let mut commands = Vec::new();
    let result = find_helm(&config.helm, &mut commands, ctx)
        .and_then(|(helm, _)| run_classified(&template_command(config, &helm, values.path())));
    values.remove();
    Ok(result?.stdout_text())
}

/// `helm-run status`: the release as helm stored it, as a report.
pub fn status(config: &ReleaseRef, ctx: &Context) -> Result<Value, Error> {
    let mut commands = Vec::new();
    let (helm, version) = find_helm(&config.helm, &mut commands, ctx)?;
    let command = status_command(&helm, &config.helm.cluster, &config.release, &config.namespace);
    commands.push(command.display());
    let output = process::run(&command)?;
    if !output.success() {
        if failure::is_release_not_found(&output) {
            return Err(Error::external(format!(
                "release `{}` is not installed in namespace `{}`",
                config.release, config.namespace
            ))
            .with_hint("install it with `helm-run upgrade < values.yaml`, or name another `--release`/`--namespace`"));
        }
        return Err(failure::classify(&command, &output));
    }
    let installed: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let state = installed["info"]["status"].as_str().unwrap_or("unknown");
    if state.starts_with("pending-") {
        (ctx.say)(&format!("warning: the release is `{state}`"));
        for line in failure::PENDING_HINT.lines() {
            (ctx.say)(line);
        }
    }
    let mut report = release_json(&installed);
    report["action"] = json!("status");
    report["helm"] = helm_json(&helm, version);
    report["commands"] = json!(commands);
    Ok(order(report))
}

/// `helm-run get-values`: the user-supplied values of the release, a values document ready
/// for values-merge (the way to rebuild a lost cumulative file).
pub fn get_values(config: &ReleaseRef, ctx: &Context) -> Result<String, Error> {
    let mut commands = Vec::new();
    let (helm, _) = find_helm(&config.helm, &mut commands, ctx)?;
    let command = helm.cluster_command(
        ["get", "values", &config.release, "--namespace", &config.namespace, "-o", "yaml"],
        &config.helm.cluster,
    );
    let output = process::run(&command)?;
    if !output.success() {
        return Err(failure::classify(&command, &output));
    }
    let text = output.stdout_text();
    // A release installed without values has `null` here; a values document is a mapping.
    if text.trim() == "null" || text.trim().is_empty() {
        return Ok("{}\n".to_string());
    }
    Document::parse(&text, "helm get values").map_err(|error| {
        Error::external(format!("helm printed values that do not parse: {error}"))
            .with_hint("run the command by hand to see them: `helm get values RELEASE -o yaml`")
    })?;
    Ok(text)
}

// ---------------------------------------------------------------------------------------
// helpers

fn find_helm(config: &HelmConfig, commands: &mut Vec<String>, ctx: &Context) -> Result<(Helm, Version), Error> {
    let helm = helm::locate(config.helm.as_deref(), ctx.env)?;
    let (command, version) = helm::version(&helm)?;
    commands.push(command.display());
    helm::check_version(&helm, version)?;
    Ok((helm, version))
}

fn template_command(config: &ReleaseConfig, helm: &Helm, values_path: &Path) -> Command {
    let mut command = helm
        .command(["template", &config.release, &config.chart, "--namespace", &config.namespace])
        .arg("-f")
        .arg(values_path);
    if let Some(version) = &config.chart_version {
        command = command.arg("--version").arg(version);
    }
    command
}

fn status_command(helm: &Helm, flags: &ClusterFlags, release: &str, namespace: &str) -> Command {
    helm.cluster_command(["status", release, "--namespace", namespace, "-o", "json"], flags)
        .timeout(CLUSTER_CHECK_TIMEOUT)
}

/// Runs a captured helm call; a failure is classified from helm's stderr.
fn run_classified(command: &Command) -> Result<process::Output, Error> {
    let output = process::run(command)?;
    if output.success() { Ok(output) } else { Err(failure::classify(command, &output)) }
}

/// The kubeconfig files helm will read: `--kubeconfig`, else KUBECONFIG's list, else
/// ~/.kube/config. MicroK8s' helm brings its own, so nothing is checked for it.
fn kubeconfig_files(config: &ReleaseConfig, helm: &Helm, env: &Environment) -> Vec<PathBuf> {
    if let Some(path) = &config.helm.cluster.kubeconfig {
        return vec![path.clone()];
    }
    if helm.source == "microk8s" {
        return Vec::new();
    }
    if let Some(list) = &env.kubeconfig
        && !list.is_empty()
    {
        return std::env::split_paths(list).filter(|path| path.is_file()).collect();
    }
    env.home.iter().map(|home| home.join(".kube/config")).filter(|path| path.is_file()).collect()
}

fn unreachable_on_timeout(error: Error, kubeconfigs: &[PathBuf]) -> Error {
    if error.message.contains("did not finish") {
        let error =
            Error::external(format!("the Kubernetes API did not answer within {}s", CLUSTER_CHECK_TIMEOUT.as_secs()))
                .with_hint(failure::UNREACHABLE_HINT);
        return with_kubeconfig_note(error, kubeconfigs);
    }
    error
}

fn with_kubeconfig_note(mut error: Error, kubeconfigs: &[PathBuf]) -> Error {
    if error.hint.as_deref() == Some(failure::UNREACHABLE_HINT) {
        let used = match kubeconfigs {
            [] => "no kubeconfig file was found".to_string(),
            files => format!(
                "kubeconfig used: {}",
                files.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
            ),
        };
        error.hint = Some(format!("{used}\n{}", failure::UNREACHABLE_HINT));
    }
    error
}

fn helm_json(helm: &Helm, version: Version) -> Value {
    json!({ "command": helm.shown(), "version": version.to_string(), "found_by": helm.source })
}

/// The report of `preflight` and `upgrade`: field names are stable (README.md).
fn release_report(
    action: &str,
    config: &ReleaseConfig,
    found: &Preflight,
    values_path: Option<&Path>,
    installed: Option<&Value>,
    commands: &[String],
) -> Value {
    let mut report = match installed {
        Some(installed) => release_json(installed),
        None => json!({
            "release": config.release,
            "namespace": config.namespace,
            "chart_version": found.chart_version,
            "app_version": found.app_version,
            "revision": found.release_revision,
            "status": if found.cluster_checked { json!(found.release_status.clone().unwrap_or_else(|| "not-installed".into())) } else { Value::Null },
            "notes_warnings": [],
        }),
    };
    report["action"] = json!(action);
    report["dry_run"] = json!(false);
    report["chart"] = json!(config.chart);
    if report["chart_version"].is_null() {
        report["chart_version"] = json!(found.chart_version);
    }
    if report["app_version"].is_null() {
        report["app_version"] = json!(found.app_version);
    }
    report["helm"] = helm_json(&found.helm, found.version);
    report["kubeconfig"] = json!(found.kubeconfigs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>());
    report["values_file"] = json!(values_path.map(|p| p.display().to_string()));
    report["commands"] = json!(commands);
    report["warnings"] = json!(found.warnings);
    order(report)
}

/// The fields of a release as `helm status -o json` / `upgrade -o json` give it (Helm 3 and
/// 4 share this shape). The NOTES are classified, never copied (they show passwords).
fn release_json(installed: &Value) -> Value {
    let notes = installed["info"]["notes"].as_str().unwrap_or("");
    let warnings: Vec<Value> = notes::classify(notes)
        .into_iter()
        .map(|w| json!({ "kind": w.kind, "failure": w.failure, "text": w.text }))
        .collect();
    json!({
        "release": installed["name"],
        "namespace": installed["namespace"],
        "chart_version": installed["chart"]["metadata"]["version"],
        "app_version": installed["chart"]["metadata"]["appVersion"],
        "revision": installed["version"],
        "status": installed["info"]["status"],
        "description": installed["info"]["description"],
        "notes_warnings": warnings,
    })
}

/// The report's keys in their documented order, whatever order they were set in.
fn order(report: Value) -> Value {
    const KEYS: [&str; 18] = [
        "action",
        "dry_run",
        "helm",
        "release",
        "namespace",
        "chart",
        "chart_version",
        "app_version",
        "revision",
        "status",
        "description",
        "kubeconfig",
        "values_file",
        "commands",
        "would_run",
        "values_diff",
        "warnings",
        "notes_warnings",
    ];
    let Value::Object(mut object) = report else { return report };
    let mut ordered = serde_json::Map::new();
    for key in KEYS {
        if let Some(value) = object.remove(key) {
            ordered.insert(key.to_string(), value);
        }
    }
    ordered.extend(object);
    Value::Object(ordered)
}

fn say_release(ctx: &Context, installed: &Value) {
    (ctx.say)(&format!(
        "release `{}` revision {} is {}",
        installed["name"].as_str().unwrap_or("?"),
        installed["version"],
        installed["info"]["status"].as_str().unwrap_or("unknown")
    ));
    let notes = installed["info"]["notes"].as_str().unwrap_or("");
    for warning in notes::classify(notes) {
        (ctx.say)(&format!("chart warning: {}", warning.text));
    }
}

fn check_name(what: &str, name: &str, max: usize) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= max
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        return Ok(());
    }
    Err(Error::bad_input(format!("{what} name `{name}` is not valid"))
        .with_hint(format!("use lowercase letters, digits and `-`, at most {max} characters")))
}

/// A chart argument helm will read from disk rather than from a repository.
fn looks_local(chart: &str) -> bool {
    if chart.contains("://") {
        return false;
    }
    chart.starts_with('/')
        || chart.starts_with("./")
        || chart.starts_with("../")
        || chart == "."
        || chart.ends_with(".tgz")
        || chart.matches('/').count() != 1
        || Path::new(chart).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_as_helm_writes_them() {
        let check = |text: &str, seconds: f64| assert_eq!(parse_timeout(text).expect(text).as_secs_f64(), seconds);
        check("10m", 600.0);
        check("300s", 300.0);
        check("1h30m", 5400.0);
        check("1m30s", 90.0);
        check("1500ms", 1.5);
        for bad in ["10", "", "ten", "10x", "0s"] {
            assert_eq!(parse_timeout(bad).expect_err(bad).code.code(), 2, "{bad}");
        }
    }

    fn release_config(values: &str, chart: &str) -> ReleaseConfig {
        ReleaseConfig {
            helm: HelmConfig::default(),
            release: "airflow".into(),
            namespace: "airflow".into(),
            chart: chart.into(),
            chart_version: None,
            values: Document::parse(values, "<test>").expect("parse"),
        }
    }

    #[test]
    fn wait_is_refused_with_hook_migrations() {
        let upgrade = |values: &str, wait: bool| UpgradeConfig {
            release: release_config(values, DEFAULT_CHART),
            timeout: "10m".into(),
            timeout_duration: Duration::from_secs(600),
            wait,
            dry_run: false,
            allow_removal: Vec::new(),
            allow_removals: false,
        };
        let error = upgrade("{}", true).validate().expect_err("deadlock refused");
        assert!(error.message.contains("--wait"));
        assert!(upgrade("migrateDatabaseJob:\n  useHelmHooks: false\n", true).validate().is_ok());
        assert!(upgrade("{}", false).validate().is_ok());
    }

    #[test]
    fn bad_names_and_missing_local_charts() {
        assert!(release_config("{}", DEFAULT_CHART).validate().is_ok());
        assert_eq!(release_config("{}", "./no-such-chart").validate().expect_err("missing").code.code(), 2);
        assert_eq!(release_config("{}", "/no/such/chart.tgz").validate().expect_err("missing").code.code(), 2);
        let mut config = release_config("{}", DEFAULT_CHART);
        config.release = "Airflow_1".into();
        assert_eq!(config.validate().expect_err("bad name").code.code(), 2);
    }

    #[test]
    fn upgrade_command_never_reuses_values_and_carries_the_file() {
        let config = UpgradeConfig {
            release: release_config("webserverSecretKey: hunter2\n", DEFAULT_CHART),
            timeout: "10m".into(),
            timeout_duration: Duration::from_secs(600),
            wait: false,
            dry_run: false,
            allow_removal: Vec::new(),
            allow_removals: false,
        };
        let helm = Helm { program: "helm".into(), prefix: Vec::new(), source: "PATH" };
        let shown = upgrade_command(&config, &helm, Path::new("/tmp/x/values.yaml")).display();
        assert_eq!(
            shown,
            "helm upgrade --install airflow apache-airflow/airflow --namespace airflow --create-namespace -f /tmp/x/values.yaml --timeout 10m -o json"
        );
    }

    #[test]
    fn release_fields_from_helms_json() {
        let installed = json!({
            "name": "airflow", "namespace": "airflow", "version": 3,
            "info": { "status": "deployed", "description": "Upgrade complete",
                      "notes": "#  WARNING: You should set a static API secret key  #\n" },
            "chart": { "metadata": { "version": "1.20.0", "appVersion": "3.1.8" } }
        });
        let report = release_json(&installed);
        assert_eq!(report["revision"], 3);
        assert_eq!(report["chart_version"], "1.20.0");
        assert_eq!(report["notes_warnings"][0]["kind"], "static-secret-key");
        assert_eq!(report["notes_warnings"][0]["failure"], "F9");
    }
}
