//! helm-run: helm for the Airflow chart, with every check that can run before the cluster is
//! touched run first. One plain function per subcommand, each taking its `Config`; reports
//! are the typed structs of `report`, which `main` prints as YAML. Nothing here reads argv
//! or env, or prints.

pub mod cli;
pub mod failure;
pub mod helm;
pub mod host_keys;
pub mod invoke;
pub mod notes;
pub mod release;
pub mod report;
pub mod values_diff;
pub mod values_file;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use airflow_kit_core::process::{self, Command};
use airflow_kit_core::{Document, Error};

use release::{HelmRelease, RepoListEntry};
use report::{PreflightReport, RepoChange, RepoEntry, RepoReport, StatusReport, UpgradeReport, ValuesDiffReport};

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
    /// `--microk8s`: `microk8s helm3` even when `helm` is on PATH (`--helm` still wins).
    pub microk8s: bool,
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
    /// The file the values were read from (`-f FILE`), None when they came on stdin: what
    /// the printed `would_run` hands helm, since helm-run's own copy is gone by then.
    pub values_file: Option<PathBuf>,
    /// `--work-dir`: where the private values directory is made; None: the system temp dir.
    pub work_dir: Option<PathBuf>,
    /// `--allow-no-known-hosts`: preflight and upgrade go on (with a warning) although the
    /// values turn git-sync's host key checking off.
    pub allow_no_known_hosts: bool,
}

/// `helm-run upgrade`.
#[derive(Debug, Clone)]
pub struct UpgradeConfig {
    pub release: ReleaseConfig,
    /// Helm's `--timeout` (passed on in Go's spelling, `10m0s`).
    pub timeout: Duration,
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
    pub report: Option<Box<UpgradeReport>>,
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

/// `helm-run status`.
#[derive(Debug, Clone)]
pub struct StatusConfig {
    pub reference: ReleaseRef,
    /// `--ignore-not-found`: a release that is not installed is a report, not an error.
    pub ignore_not_found: bool,
}

impl From<&cli::HelmArgs> for HelmConfig {
    fn from(args: &cli::HelmArgs) -> HelmConfig {
        HelmConfig {
            helm: args.helm.clone(),
            microk8s: args.cluster.microk8s,
            cluster: ClusterFlags {
                kubeconfig: args.cluster.kubeconfig.clone(),
                kube_context: args.cluster.kube_context.clone(),
            },
        }
    }
}

impl From<&cli::HelmArgs> for ReleaseRef {
    fn from(args: &cli::HelmArgs) -> ReleaseRef {
        ReleaseRef {
            helm: HelmConfig::from(args),
            release: args.cluster.release.clone(),
            namespace: args.cluster.namespace.clone(),
        }
    }
}

impl From<&cli::RepoArgs> for RepoConfig {
    fn from(args: &cli::RepoArgs) -> RepoConfig {
        RepoConfig { helm: HelmConfig::from(&args.helm), name: args.repo_name.clone(), url: args.repo_url.clone() }
    }
}

impl ReleaseConfig {
    /// The config of `args`, with the values document read from where `args.values` says.
    pub fn from_args(args: &cli::ReleaseArgs, values: Document) -> ReleaseConfig {
        ReleaseConfig {
            helm: HelmConfig::from(&args.helm),
            release: args.helm.cluster.release.clone(),
            namespace: args.helm.cluster.namespace.clone(),
            chart: args.chart.clone(),
            chart_version: args.version.clone(),
            values,
            values_file: args.values.clone().filter(|path| path.as_os_str() != "-"),
            work_dir: None,
            allow_no_known_hosts: false,
        }
    }
}

impl UpgradeConfig {
    pub fn from_args(args: &cli::UpgradeArgs, release: ReleaseConfig) -> UpgradeConfig {
        UpgradeConfig {
            release,
            timeout: args.timeout,
            wait: args.wait,
            dry_run: args.dry_run,
            allow_removal: args.allow_removal.clone(),
            allow_removals: args.allow_removals,
        }
    }
}

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

/// True when the values turn the migration job into a plain Job (`useHelmHooks: false`).
pub fn migrations_without_hooks(values: &Document) -> bool {
    values.root.get_path(&["migrateDatabaseJob", "useHelmHooks"]).and_then(|node| node.as_bool()) == Some(false)
}

// ---------------------------------------------------------------------------------------
// repo

/// Adds the chart repository when it is missing or points elsewhere, then updates it.
pub fn repo(config: &RepoConfig, ctx: &Context) -> Result<RepoReport, Error> {
    let mut commands = Vec::new();
    let (helm, version) = find_helm(&config.helm, &mut commands, ctx)?;
    let list = helm.command(["repo", "list", "-o", "json"]);
    commands.push(list.display());
    let output = process::run(&list)?;
    // An empty repository list is an error in some helm versions ("no repositories to show").
    let existing: Vec<RepoListEntry> =
        if output.success() { serde_json::from_slice(&output.stdout).unwrap_or_default() } else { Vec::new() };
    let current_url =
        existing.iter().find(|repo| repo.name == config.name).map(|repo| repo.url.trim_end_matches('/').to_string());
    let change = match current_url {
        Some(url) if url == config.url.trim_end_matches('/') => RepoChange::Unchanged,
        Some(_) => RepoChange::Replaced,
        None => RepoChange::Added,
    };
    if change != RepoChange::Unchanged {
        let mut add = helm.command(["repo", "add", &config.name, &config.url]);
        if change == RepoChange::Replaced {
            add = add.arg("--force-update");
        }
        commands.push(add.display());
        let verb = if change == RepoChange::Added { "added" } else { "replaced" };
        (ctx.say)(&format!("{verb} chart repository `{}` ({})", config.name, config.url));
        run_classified(&add)?;
    }
    ctx.interrupts.check()?;
    let update = helm.command(["repo", "update", &config.name]);
    commands.push(update.display());
    run_classified(&update)?;
    Ok(RepoReport {
        action: "repo".to_string(),
        helm: helm.used(version),
        repo: RepoEntry { name: config.name.clone(), url: config.url.clone(), change },
        commands,
    })
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

impl Preflight {
    /// The reports' `status`: the release's, `not-installed` when there is none, None when
    /// the cluster was not asked (`--dry-run`).
    fn status_field(&self) -> Option<String> {
        self.cluster_checked.then(|| self.release_status.clone().unwrap_or_else(|| "not-installed".to_string()))
    }

    fn kubeconfig_field(&self) -> Vec<String> {
        self.kubeconfigs.iter().map(|path| path.display().to_string()).collect()
    }
}

/// `helm-run preflight`: every check, in the order that touches the cluster last.
pub fn preflight(config: &ReleaseConfig, ctx: &Context) -> Result<PreflightReport, Error> {
    // A signal while the values were still coming on stdin (a dropped session): they may be
    // cut short, so nothing is run with them.
    ctx.interrupts.check()?;
    config.validate()?;
    let host_key_warning = check_host_key_checking(config, ctx)?;
    let values = write_values(config, ctx)?;
    let found = run_preflight(config, ctx, &values, true);
    let values_path = values.path().display().to_string();
    values.remove();
    let mut found = found?;
    found.warnings.extend(host_key_warning);
    Ok(PreflightReport {
        action: "preflight".to_string(),
        dry_run: false,
        helm: found.helm.used(found.version),
        release: config.release.clone(),
        namespace: config.namespace.clone(),
        chart: config.chart.clone(),
        chart_version: found.chart_version.clone(),
        app_version: found.app_version.clone(),
        revision: found.release_revision,
        status: found.status_field(),
        kubeconfig: found.kubeconfig_field(),
        values_file: Some(values_path),
        commands: found.commands,
        warnings: found.warnings,
        notes_warnings: Vec::new(),
    })
}

/// Refuses values that make the chart turn git-sync's host key checking off (an SSH
/// repository, an empty knownHosts), before anything is written or run; with
/// `--allow-no-known-hosts` says so on stderr and returns the warning for the report.
fn check_host_key_checking(config: &ReleaseConfig, ctx: &Context) -> Result<Option<String>, Error> {
    match host_keys::host_key_checking(&config.values)? {
        host_keys::HostKeyChecking::Fine => Ok(None),
        host_keys::HostKeyChecking::Off(why) if config.allow_no_known_hosts => {
            let warning = host_keys::acknowledged_warning(&why);
            (ctx.say)(&format!("warning: {warning}"));
            Ok(Some(warning))
        }
        host_keys::HostKeyChecking::Off(why) => Err(host_keys::refusal(&why)),
    }
}

/// The private copy of the values, in `--work-dir` (checked first) or the system temp dir.
fn write_values(config: &ReleaseConfig, ctx: &Context) -> Result<ValuesFile, Error> {
    let base = values_file::base_dir(config.work_dir.as_deref(), &ctx.env.temp_dir)?;
    ValuesFile::write(&config.values, &base)
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
    if kubeconfigs.is_empty() && !helm.is_microk8s() {
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
        let release = HelmRelease::parse(&output.stdout).unwrap_or_default();
        let state = release.status().to_string();
        if state.starts_with("pending-") {
            return Err(Error::refused(format!(
                "release `{}` in namespace `{}` is `{state}`: an earlier operation did not finish",
                config.release, config.namespace
            ))
            .with_hint(
                failure::PENDING_HINT.replace("RELEASE", &config.release).replace("NAMESPACE", &config.namespace),
            ));
        }
        found.release_revision = release.version;
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
pub fn upgrade(config: &UpgradeConfig, ctx: &Context) -> Result<UpgradeReport, Stopped> {
    ctx.interrupts.check()?;
    config.validate()?;
    let host_key_warning = check_host_key_checking(&config.release, ctx)?;
    let values = write_values(&config.release, ctx)?;
    // The file goes on every path out of here: `values` is dropped on return and on `?`.
    let result = upgrade_with_values(config, ctx, &values, host_key_warning);
    values.remove();
    result
}

fn upgrade_with_values(
    config: &UpgradeConfig,
    ctx: &Context,
    values: &ValuesFile,
    host_key_warning: Option<String>,
) -> Result<UpgradeReport, Stopped> {
    let release = &config.release;
    let mut found = run_preflight(release, ctx, values, !config.dry_run)?;
    found.warnings.extend(host_key_warning);
    if config.dry_run {
        let would_run = printable_upgrade_command(config, &found.helm).display();
        if release.values_file.is_none() {
            (ctx.say)(
                "note: the values came on stdin, so `would_run` reads them from stdin too (`-f -`): \
                 run it with the same document on its stdin, e.g. `... < values.yaml`",
            );
        }
        (ctx.say)(&format!("note: {DRY_RUN_SKIPS_DIFF}"));
        let mut report = upgrade_report(release, &found, values.path(), None);
        report.dry_run = true;
        report.would_run = Some(would_run);
        report.values_diff = ValuesDiffReport::skipped(DRY_RUN_SKIPS_DIFF);
        return Ok(report);
    }
    let checked = compare_with_deployed(config, ctx, &mut found)?;
    if let Some(error) = checked.refusal {
        let mut report = upgrade_report(release, &found, values.path(), None);
        report.values_diff = checked.field;
        return Err(Stopped { error: Box::new(error), report: Some(Box::new(report)) });
    }
    ctx.interrupts.check()?;
    let command = upgrade_command(config, &found.helm, values.path());
    found.commands.push(command.display());
    (ctx.say)(&format!("running: {}", command.display()));
    let on_line = |line: &str| (ctx.say)(&format!("helm: {line}"));
    let output = airflow_kit_core::stream::run_teeing_stderr(&command, |pids| ctx.interrupts.started(pids), &on_line);
    ctx.interrupts.finished();
    if let Some(signal) = ctx.interrupts.received() {
        return Err(interrupted_error(signal).into());
    }
    let output = output?;
    if !output.success() {
        return Err(with_kubeconfig_note(failure::classify(&command, &output), &found.kubeconfigs).into());
    }
    let installed = match HelmRelease::parse(&output.stdout) {
        Some(installed) => installed,
        None => {
            // Not JSON (an unusual helm): ask for the release as helm stored it.
            let status = status_command(&found.helm, &release.helm.cluster, &release.release, &release.namespace);
            found.commands.push(status.display());
            HelmRelease::parse(&run_classified(&status)?.stdout).unwrap_or_default()
        }
    };
    let mut report = upgrade_report(release, &found, values.path(), Some(&installed));
    report.values_diff = checked.field;
    say_release(ctx, &installed);
    Ok(report)
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
    field: ValuesDiffReport,
    refusal: Option<Error>,
}

/// Compares the new values with the deployed release's user values (`helm get values -o
/// json`), so that a setting missing from the new values never silently falls back to the
/// chart default. A release that is not installed has nothing to compare with.
fn compare_with_deployed(config: &UpgradeConfig, ctx: &Context, found: &mut Preflight) -> Result<DropCheck, Error> {
    let release = &config.release;
    let not_installed = || DropCheck {
        field: ValuesDiffReport::skipped(&format!(
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

/// The exact upgrade command helm-run runs: values only through its private file,
/// `--create-namespace`, never `--reuse-values`, `--wait` only when allowed (validated), JSON
/// out for the report.
pub fn upgrade_command(config: &UpgradeConfig, helm: &Helm, values_path: &Path) -> Command {
    let mut args = upgrade_args(config, values_path.as_os_str());
    args.extend(["-o", "json"].map(OsString::from));
    // Helm gets its --timeout to fail and mark the release failed itself; ours is the backstop.
    helm.cluster_command(args, &config.release.helm.cluster).timeout(config.timeout + Duration::from_secs(120))
}

/// The upgrade as `--dry-run` prints it, for a person to paste: the same flags, but `-f` names
/// the values file helm-run was given (`-` when they came on stdin, which helm reads from its
/// own stdin), since helm-run's private copy is removed before the report is read; and no
/// `-o json`, which would print the release with every secret and the deploy key.
pub fn printable_upgrade_command(config: &UpgradeConfig, helm: &Helm) -> Command {
    let values = match &config.release.values_file {
        Some(path) => path.as_os_str(),
        None => std::ffi::OsStr::new("-"),
    };
    helm.cluster_command(upgrade_args(config, values), &config.release.helm.cluster)
}

/// `upgrade --install RELEASE CHART [--version V] --namespace NS --create-namespace -f VALUES
/// --timeout T [--wait]`.
fn upgrade_args(config: &UpgradeConfig, values: &std::ffi::OsStr) -> Vec<OsString> {
    let release = &config.release;
    let mut args: Vec<OsString> =
        ["upgrade", "--install", &release.release, &release.chart].iter().map(OsString::from).collect();
    if let Some(version) = &release.chart_version {
        args.extend([OsString::from("--version"), OsString::from(version)]);
    }
    args.extend(["--namespace", &release.namespace, "--create-namespace", "-f"].map(OsString::from));
    args.push(values.to_os_string());
    args.extend([OsString::from("--timeout"), OsString::from(airflow_kit_core::duration::format(config.timeout))]);
    if config.wait {
        args.push("--wait".into());
    }
    args
}

// ---------------------------------------------------------------------------------------
// template, status, get-values

/// `helm-run template`: the rendered manifests, with schema and template errors classified.
pub fn template(config: &ReleaseConfig, ctx: &Context) -> Result<String, Error> {
    ctx.interrupts.check()?;
    config.validate()?;
    let values = write_values(config, ctx)?;
    let mut commands = Vec::new();
    let result = find_helm(&config.helm, &mut commands, ctx)
        .and_then(|(helm, _)| run_classified(&template_command(config, &helm, values.path())));
    values.remove();
    Ok(result?.stdout_text())
}

/// `helm-run status`: the release as helm stored it, as a report. A release helm does not
/// know is an error, or with `--ignore-not-found` a report that says so.
pub fn status(config: &StatusConfig, ctx: &Context) -> Result<StatusReport, Error> {
    let reference = &config.reference;
    let mut commands = Vec::new();
    let (helm, version) = find_helm(&reference.helm, &mut commands, ctx)?;
    let command = status_command(&helm, &reference.helm.cluster, &reference.release, &reference.namespace);
    commands.push(command.display());
    let output = process::run(&command)?;
    let mut report = StatusReport {
        action: "status".to_string(),
        helm: helm.used(version),
        release: reference.release.clone(),
        namespace: reference.namespace.clone(),
        installed: false,
        chart_name: None,
        chart_version: None,
        app_version: None,
        revision: None,
        status: "not-installed".to_string(),
        description: None,
        commands,
        notes_warnings: Vec::new(),
    };
    if !output.success() {
        if failure::is_release_not_found(&output) {
            if config.ignore_not_found {
                return Ok(report);
            }
            return Err(Error::external(format!(
                "release `{}` is not installed in namespace `{}`",
                reference.release, reference.namespace
            ))
            .with_hint("install it with `helm-run upgrade < values.yaml`, or name another `--release`/`--namespace`"));
        }
        return Err(failure::classify(&command, &output));
    }
    let installed = HelmRelease::parse(&output.stdout).unwrap_or_default();
    let state = installed.status();
    if state.starts_with("pending-") {
        (ctx.say)(&format!("warning: the release is `{state}`"));
        for line in failure::PENDING_HINT.lines() {
            (ctx.say)(line);
        }
    }
    report.installed = true;
    report.status = state.to_string();
    report.chart_name = installed.chart.metadata.name.clone();
    report.chart_version = installed.chart.metadata.version.clone();
    report.app_version = installed.chart.metadata.app_version.clone();
    report.revision = installed.version;
    report.description = installed.info.description.clone();
    report.notes_warnings = installed.notes_warnings();
    Ok(report)
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
    let helm = helm::locate(config.helm.as_deref(), config.microk8s, ctx.env)?;
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
    if helm.is_microk8s() {
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

/// The report of `upgrade` (and of the refusal and `--dry-run`, which the caller completes):
/// what helm said of the installed release when there is one, else what preflight found.
fn upgrade_report(
    config: &ReleaseConfig,
    found: &Preflight,
    values_path: &Path,
    installed: Option<&HelmRelease>,
) -> UpgradeReport {
    let metadata = installed.map(|installed| &installed.chart.metadata);
    UpgradeReport {
        action: "upgrade".to_string(),
        dry_run: false,
        helm: found.helm.used(found.version),
        release: config.release.clone(),
        namespace: config.namespace.clone(),
        chart: config.chart.clone(),
        chart_version: metadata.and_then(|m| m.version.clone()).or_else(|| found.chart_version.clone()),
        app_version: metadata.and_then(|m| m.app_version.clone()).or_else(|| found.app_version.clone()),
        revision: match installed {
            Some(installed) => installed.version,
            None => found.release_revision,
        },
        status: match installed {
            Some(installed) => Some(installed.status().to_string()),
            None => found.status_field(),
        },
        description: installed.and_then(|installed| installed.info.description.clone()),
        kubeconfig: found.kubeconfig_field(),
        values_file: Some(values_path.display().to_string()),
        commands: found.commands.clone(),
        would_run: None,
        values_diff: ValuesDiffReport::skipped("the upgrade stopped before the values were compared"),
        warnings: found.warnings.clone(),
        notes_warnings: installed.map(HelmRelease::notes_warnings).unwrap_or_default(),
    }
}

fn say_release(ctx: &Context, installed: &HelmRelease) {
    let revision = installed.version.map(|revision| revision.to_string()).unwrap_or_else(|| "?".to_string());
    (ctx.say)(&format!(
        "release `{}` revision {revision} is {}",
        installed.name.as_deref().unwrap_or("?"),
        installed.status()
    ));
    for warning in installed.notes_warnings() {
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
    use airflow_kit_core::defaults;

    fn release_config(values: &str, chart: &str) -> ReleaseConfig {
        ReleaseConfig {
            helm: HelmConfig::default(),
            release: "airflow".into(),
            namespace: "airflow".into(),
            chart: chart.into(),
            chart_version: None,
            values: Document::parse(values, "<test>").expect("parse"),
            values_file: None,
            work_dir: None,
            allow_no_known_hosts: false,
        }
    }

    fn upgrade_config(values: &str, wait: bool) -> UpgradeConfig {
        UpgradeConfig {
            release: release_config(values, defaults::CHART),
            timeout: Duration::from_secs(600),
            wait,
            dry_run: false,
            allow_removal: Vec::new(),
            allow_removals: false,
        }
    }

    #[test]
    fn wait_is_refused_with_hook_migrations() {
        let error = upgrade_config("{}", true).validate().expect_err("deadlock refused");
        assert!(error.message.contains("--wait"));
        assert!(upgrade_config("migrateDatabaseJob:\n  useHelmHooks: false\n", true).validate().is_ok());
        assert!(upgrade_config("{}", false).validate().is_ok());
    }

    #[test]
    fn bad_names_and_missing_local_charts() {
        assert!(release_config("{}", defaults::CHART).validate().is_ok());
        assert_eq!(release_config("{}", "./no-such-chart").validate().expect_err("missing").code.code(), 2);
        assert_eq!(release_config("{}", "/no/such/chart.tgz").validate().expect_err("missing").code.code(), 2);
        let mut config = release_config("{}", defaults::CHART);
        config.release = "Airflow_1".into();
        assert_eq!(config.validate().expect_err("bad name").code.code(), 2);
    }

    #[test]
    fn upgrade_command_never_reuses_values_and_carries_the_file() {
        let config = upgrade_config("webserverSecretKey: hunter2\n", false);
        let helm = Helm { program: "helm".into(), prefix: Vec::new(), source: "PATH" };
        let shown = upgrade_command(&config, &helm, Path::new("/tmp/x/values.yaml")).display();
        assert_eq!(
            shown,
            "helm upgrade --install airflow apache-airflow/airflow --namespace airflow --create-namespace -f /tmp/x/values.yaml --timeout 10m0s -o json"
        );
    }

    #[test]
    fn the_printed_upgrade_names_the_users_file_or_stdin_and_prints_no_release() {
        let mut config = upgrade_config("webserverSecretKey: hunter2\n", true);
        config.release.values.root =
            Document::parse("migrateDatabaseJob: {useHelmHooks: false}\n", "t").expect("parse").root;
        config.release.chart_version = Some("1.20.0".into());
        config.release.helm.cluster =
            ClusterFlags { kubeconfig: Some(PathBuf::from("/home/me/kube config")), kube_context: Some("prod".into()) };
        config.timeout = Duration::from_secs(5400);
        let helm = Helm { program: "/snap/bin/microk8s".into(), prefix: vec!["helm3".into()], source: "--microk8s" };
        assert_eq!(
            printable_upgrade_command(&config, &helm).display(),
            "/snap/bin/microk8s helm3 upgrade --install airflow apache-airflow/airflow --version 1.20.0 --namespace airflow \
             --create-namespace -f - --timeout 1h30m0s --wait --kubeconfig '/home/me/kube config' --kube-context prod"
        );
        config.release.values_file = Some(PathBuf::from("my values.yaml"));
        let shown = printable_upgrade_command(&config, &helm).display();
        assert!(shown.contains(" -f 'my values.yaml' --timeout "), "{shown}");
        assert!(!shown.contains("-o json") && !shown.contains("hunter2"), "{shown}");
    }
}
