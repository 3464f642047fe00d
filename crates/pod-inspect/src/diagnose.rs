//! `diagnose`: events, container states and the logs of git-sync and the migration job,
//! matched against the known failures (docs/failures.md). Each finding carries
//! its evidence (the line a person would have had to find), its cause and its fix.

use airflow_kit_core::Error;
use serde::{Deserialize, Serialize};

use crate::kubectl::Kubectl;
use crate::model::{ContainerStatus, Event, List, Pod};
use crate::redact;
use crate::status::{self, Problem, Snapshot, Status};

/// A known failure, recognised by a phrase of a log line.
pub struct Rule {
    pub id: &'static str,
    pub patterns: &'static [&'static str],
    pub title: &'static str,
    pub cause: &'static str,
    pub fix: &'static str,
}

/// Log-line rules, most specific first (several git errors end with the same
/// `Could not read from remote repository` line, so that line alone proves nothing).
pub const LOG_RULES: &[Rule] = &[
    Rule {
        id: "F3",
        patterns: &["REMOTE HOST IDENTIFICATION HAS CHANGED"],
        title: "the Git host's key changed since it was pinned",
        cause: "`dags.gitSync.knownHosts` holds a host key the server no longer uses (GitHub rotated its RSA key on 2023-03-24, Bitbucket on 2023-06-20)",
        fix: "re-pin the host key: `known-hosts < values.yaml | values-merge --in-place values.yaml -`, then `helm-run upgrade < values.yaml`",
    },
    Rule {
        id: "F1",
        patterns: &["Host key verification failed"],
        title: "git-sync does not trust the Git host's key",
        cause: "`dags.gitSync.knownHosts` lacks a valid key for the exact host git-sync connects to (old key, wrong alias, `[ssh.github.com]:443` vs `github.com`, or a corrupted paste)",
        fix: "scan and verify the host key with `known-hosts < values.yaml | values-merge --in-place values.yaml -`, then `helm-run upgrade < values.yaml`; never turn host checking off",
    },
    Rule {
        id: "F2",
        patterns: &["The authenticity of host", "No ED25519 host key is known", "No RSA host key is known"],
        title: "git-sync has no known_hosts entry for the Git host",
        cause: "strict host checking with no `dags.gitSync.knownHosts` entry for this host",
        fix: "add the verified host key with `known-hosts`, then upgrade; never suggest `StrictHostKeyChecking=no`",
    },
    Rule {
        id: "F6",
        patterns: &["invalid format", "error in libcrypto"],
        title: "the SSH private key in the Secret cannot be loaded",
        cause: "the key lost its trailing newline, has CRLF endings, is base64-encoded twice, or is the public key pasted in place of the private one",
        fix: "re-encode the exact key file on one line with `secret-gen deploy-key` (it decodes its output back as a self-test), upgrade, then `pod-inspect fix`",
    },
    Rule {
        id: "F4",
        patterns: &["Permission denied (publickey)"],
        title: "the Git host refuses the deploy key",
        cause: "the deploy key is not added to THIS repository (deploy keys are per repository), the key was mangled, the Secret's key is not `gitSshKey`, or the mounted key is unreadable",
        fix: "add the public key (`secret-gen deploy-key` prints it and where to paste it) under the repository's Settings > Deploy keys, check `dags.gitSync.sshKeySecret` names a Secret with key `gitSshKey`, then delete the crash-looping pods (`pod-inspect fix`)",
    },
    Rule {
        id: "F15",
        patterns: &["Could not resolve hostname", "Temporary failure in name resolution"],
        title: "pods cannot resolve the Git host's name",
        cause: "cluster DNS is off (MicroK8s: the `dns` addon is not enabled)",
        fix: "`microk8s enable dns` (or fix CoreDNS), then `pod-inspect fix` to restart the failing pods",
    },
    Rule {
        id: "F7",
        patterns: &["setting --ref from deprecated --branch", "couldn't find remote ref"],
        title: "git-sync v4 is running with v3-era settings",
        cause: "git-sync v4 renamed `--branch`/`--rev` to `--ref` (and `GIT_SYNC_*` to `GITSYNC_*`); the chart sends both, and `ref` defaults to `v2-2-stable`, so DAGs may come from the wrong ref or stop syncing",
        fix: "set both `dags.gitSync.branch` and `dags.gitSync.ref` to your branch (`secret-gen deploy-key --branch ...` does), then upgrade",
    },
    Rule {
        id: "F11",
        patterns: &["There are still unapplied migrations"],
        title: "pods gave up waiting for the database migrations",
        cause: "the migration job failed or is slow, or its image does not match the pods' image",
        fix: "read the migration job's state and logs below (`pod-inspect status`); for a slow database raise `images.migrationsWaitTimeout`",
    },
];

const F10: (&str, &str, &str) = (
    "pods wait for migrations that never ran",
    "the migration job is a post-install/post-upgrade Helm hook, and `helm --wait` waits for pods that wait for the hook, so the hook never starts",
    "do not combine `--wait` with hook migrations (`helm-run upgrade` never does), or set `migrateDatabaseJob.useHelmHooks: false`; then upgrade again",
);
const F12: (&str, &str, &str) = (
    "the database migration job failed",
    "the migration job ran and failed (bad config, database unreachable, image mismatch); a failed Job blocks the next upgrade (`field is immutable`)",
    "read the job's log line below and fix its cause in values.yaml, run `pod-inspect fix --yes` to delete the failed job and its pods, then upgrade again",
);
const F14: (&str, &str, &str) = (
    "a volume claim cannot be bound",
    "no default StorageClass can provision the PersistentVolumeClaim (MicroK8s: the `hostpath-storage` addon is not enabled)",
    "`microk8s enable hostpath-storage` (or create a default StorageClass); the pending pod then starts by itself",
);

/// One finding: which failure, where, the line that proves it, why, what to do, and the last
/// lines of the failing container it was first seen in. Reported as it is (field names are the
/// stable ones of README.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `F1`...`F16` of docs/failures.md, or `unknown`.
    pub id: String,
    pub title: String,
    /// `pod/<name> (<container>)`, `pod/<name>` or `job/<name>`.
    pub seen_in: Vec<String>,
    /// The log line or message that proves it (passwords masked).
    pub evidence: String,
    pub cause: String,
    pub fix: String,
    /// The last log lines (at most [`LOG_LINES`], passwords masked) of the failed or
    /// crash-looping container the finding was first seen in; empty when none logged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
}

/// The report of `diagnose`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisReport {
    pub release: String,
    pub namespace: String,
    pub healthy: bool,
    pub findings: Vec<Finding>,
}

/// The last lines one container logged (passwords already masked).
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerLog {
    pub pod: String,
    pub container: String,
    /// Read with `--previous`: the last run of a container that restarted.
    pub previous: bool,
    /// The container failed or is crash-looping, so its lines are evidence.
    pub failing: bool,
    pub lines: Vec<String>,
}

/// One log to read: which container, whether from its previous run, whether it is failing.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRequest {
    pub pod: String,
    pub container: String,
    pub previous: bool,
    pub failing: bool,
}

#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub status: Status,
    pub findings: Vec<Finding>,
}

/// How many log lines to read per container: enough to hold the error and its context.
pub const LOG_LINES: usize = 20;
/// An upper bound on log reads, so a large broken release still answers quickly.
const MAX_LOG_READS: usize = 12;

/// Collects events and the relevant logs, then matches them.
pub fn diagnose(kubectl: &Kubectl, snapshot: &Snapshot) -> Result<Diagnosis, Error> {
    let status = status::evaluate(snapshot);
    let events: List<Event> = kubectl.get_json(&["get", "events"])?;
    let mut logs = Vec::new();
    for request in logs_to_read(snapshot, &status).into_iter().take(MAX_LOG_READS) {
        logs.push(read_log(kubectl, &request)?);
    }
    let findings = match_findings(snapshot, &status, &events.items, &logs);
    Ok(Diagnosis { status, findings })
}

/// The `kubectl logs` arguments (after the global flags) for one request.
pub fn log_args(request: &LogRequest) -> Vec<String> {
    let mut args = vec![
        "logs".to_string(),
        request.pod.clone(),
        "-c".into(),
        request.container.clone(),
        format!("--tail={LOG_LINES}"),
    ];
    if request.previous {
        args.push("--previous".into());
    }
    args
}

/// A container's last lines, passwords masked; a container that never started has none
/// (kubectl exits 1 with `waiting to start`), which is not an error of ours. A `--previous`
/// read that finds no previous run falls back to the current one.
pub fn read_log(kubectl: &Kubectl, request: &LogRequest) -> Result<ContainerLog, Error> {
    let mut output = kubectl.run(&log_args(request))?;
    let mut previous = request.previous;
    if !output.success() && previous {
        output = kubectl.run(&log_args(&LogRequest { previous: false, ..request.clone() }))?;
        previous = false;
    }
    let lines = if output.success() {
        output.stdout_text().lines().filter(|line| !line.trim().is_empty()).map(redact::mask_passwords).collect()
    } else {
        Vec::new()
    };
    Ok(ContainerLog {
        pod: request.pod.clone(),
        container: request.container.clone(),
        previous,
        failing: request.failing,
        lines,
    })
}

/// True when a container failed (exited non-zero) or is crash-looping: its last lines are
/// evidence whether or not a rule knows the failure.
pub fn is_failing(status: &ContainerStatus) -> bool {
    let exited_with_error = |state: &crate::model::ContainerState| {
        state.terminated.as_ref().is_some_and(|terminated| terminated.exit_code.unwrap_or(0) != 0)
    };
    let crash_looping = status.state.waiting.as_ref().and_then(|w| w.reason.as_deref()) == Some("CrashLoopBackOff");
    crash_looping
        || exited_with_error(&status.state)
        || (status.state.waiting.is_some() && exited_with_error(&status.last_state))
}

/// Which container logs hold the answer: every failed or crash-looping container (the
/// migration job's first, since the other pods usually only wait for it), every other
/// container with a problem, git-sync and migration waiters that restarted, the migration
/// job, and one healthy git-sync (for F7). A container that restarted is read from its last
/// run (`--previous`).
pub fn logs_to_read(snapshot: &Snapshot, status: &Status) -> Vec<LogRequest> {
    let mut wanted: Vec<LogRequest> = Vec::new();
    let push = |wanted: &mut Vec<LogRequest>, pod: &str, container: &str, restarted: bool, failing: bool| {
        if let Some(existing) = wanted.iter_mut().find(|r| r.pod == pod && r.container == container) {
            existing.failing |= failing;
            return;
        }
        wanted.push(LogRequest { pod: pod.into(), container: container.into(), previous: restarted, failing });
    };
    let is_migration = |pod: &&Pod| status::component(&pod.metadata.labels) == "migrations";
    let migrations_first =
        snapshot.pods.iter().filter(is_migration).chain(snapshot.pods.iter().filter(|p| !is_migration(p)));
    for pod in migrations_first {
        for container in pod.status.init_container_statuses.iter().chain(&pod.status.container_statuses) {
            if is_failing(container) {
                push(&mut wanted, &pod.metadata.name, &container.name, container.restart_count > 0, true);
            }
        }
    }
    let restarted = |pod: &str, container: &str| {
        snapshot
            .pods
            .iter()
            .find(|p| p.metadata.name == pod)
            .into_iter()
            .flat_map(|p| p.status.init_container_statuses.iter().chain(&p.status.container_statuses))
            .any(|c| c.name == container && c.restart_count > 0)
    };
    for problem in &status.problems {
        if let (Some(pod), Some(container)) = (problem.object.strip_prefix("pod/"), &problem.container) {
            push(&mut wanted, pod, container, restarted(pod, container), false);
        }
    }
    for pod in &snapshot.pods {
        let statuses = pod.status.init_container_statuses.iter().chain(&pod.status.container_statuses);
        for container in statuses {
            if container.restart_count > 0
                && (is_git_sync(&container.name) || container.name == "wait-for-airflow-migrations")
            {
                push(&mut wanted, &pod.metadata.name, &container.name, true, false);
            }
        }
        if is_migration(&pod) && pod.status.phase != "Succeeded" {
            let name = &pod.metadata.name;
            push(&mut wanted, name, "run-airflow-migrations", restarted(name, "run-airflow-migrations"), false);
        }
    }
    let has_git_sync_log = wanted.iter().any(|request| is_git_sync(&request.container));
    let runs_git_sync =
        |pod: &&Pod| pod.status.container_statuses.iter().any(|c| c.name == "git-sync" && c.state.running.is_some());
    // Prefer the pods `dags` looks into, so both commands talk about the same git-sync.
    let healthy_git_sync = ["worker", "dag-processor", "scheduler", "triggerer"].iter().find_map(|component| {
        snapshot.pods.iter().filter(|pod| status::component(&pod.metadata.labels) == *component).find(runs_git_sync)
    });
    if !has_git_sync_log && let Some(pod) = healthy_git_sync {
        push(&mut wanted, &pod.metadata.name, "git-sync", false, false);
    }
    wanted
}

pub fn is_git_sync(container: &str) -> bool {
    container == "git-sync" || container == "git-sync-init"
}

/// The matching itself, without kubectl: tests feed it fixtures directly.
pub fn match_findings(snapshot: &Snapshot, status: &Status, events: &[Event], logs: &[ContainerLog]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut explained: Vec<String> = Vec::new();
    for log in logs {
        let seen = format!("pod/{} ({})", log.pod, log.container);
        let mut matched = false;
        for rule in LOG_RULES {
            let hit = log
                .lines
                .iter()
                .rev()
                .find_map(|line| rule.patterns.iter().find(|p| line.contains(*p)).map(|p| (line, *p)));
            if let Some((line, pattern)) = hit {
                let evidence = evidence_fragment(line, pattern);
                add(&mut findings, known((rule.title, rule.cause, rule.fix), rule.id, seen.clone(), evidence));
                matched = true;
                // One git error explains the container; a later generic rule would only repeat it.
                break;
            }
        }
        if matched {
            explained.push(format!("pod/{}#{}", log.pod, log.container));
        }
    }

    // F12: a failed migration job, with the error line from its pod's log.
    for job in &snapshot.jobs {
        if status::component(&job.metadata.labels) != "migrations" || !job.has_failed() {
            continue;
        }
        let condition = job.status.conditions.iter().find(|c| c.kind == "Failed");
        let job_log_line = logs
            .iter()
            .filter(|log| log.container == "run-airflow-migrations")
            .filter(|log| pod_of_job(snapshot, &log.pod, &job.metadata.name))
            .find_map(|log| last_error_line(&log.lines));
        let evidence = match (job_log_line, condition.and_then(|c| c.message.clone())) {
            (Some(line), _) => evidence_text(&line),
            (None, Some(message)) => message,
            (None, None) => format!("job {} failed {} times", job.metadata.name, job.status.failed),
        };
        add(&mut findings, known(F12, "F12", format!("job/{}", job.metadata.name), evidence));
        explained.push(format!("job/{}", job.metadata.name));
        for pod in snapshot.pods.iter().filter(|pod| pod_of_job(snapshot, &pod.metadata.name, &job.metadata.name)) {
            explained.push(format!("pod/{}", pod.metadata.name));
        }
    }

    // F10: pods wait for migrations while no migration job exists at all.
    let migration_job_exists = snapshot.jobs.iter().any(|job| status::component(&job.metadata.labels) == "migrations");
    if !migration_job_exists {
        for pod in &snapshot.pods {
            let waiting = pod
                .status
                .init_container_statuses
                .iter()
                .any(|c| c.name == "wait-for-airflow-migrations" && c.state.terminated.is_none());
            if waiting {
                let evidence = format!(
                    "{} is {}: init container `wait-for-airflow-migrations` is still waiting, and no migration job exists",
                    pod.metadata.name,
                    status::display_status(pod),
                );
                add(&mut findings, known(F10, "F10", format!("pod/{}", pod.metadata.name), evidence));
            }
        }
    }

    for problem in &status.problems {
        if let Some(finding) = state_finding(snapshot, problem, events) {
            add(&mut findings, finding);
            explained.push(problem.object.clone());
        }
    }

    // Anything still unexplained is shown with its evidence, so nothing fails silently.
    for problem in &status.problems {
        let key = match &problem.container {
            Some(container) => format!("{}#{}", problem.object, container),
            None => problem.object.clone(),
        };
        if explained.contains(&key) || explained.contains(&problem.object) {
            continue;
        }
        let pod = problem.object.strip_prefix("pod/");
        // The problem's container, or for a failed pod (no container of its own) the first
        // container in it that failed and logged something.
        let log = pod.and_then(|pod| {
            logs.iter().filter(|log| log.pod == pod && !log.lines.is_empty()).find(|log| match &problem.container {
                Some(container) => &log.container == container,
                None => log.failing,
            })
        });
        let container = problem.container.clone().or_else(|| log.map(|log| log.container.clone()));
        let event = latest_warning(events, problem.object.split('/').nth(1).unwrap_or_default());
        let evidence = log
            .and_then(|log| last_error_line(&log.lines))
            .or_else(|| problem.message.clone())
            .or_else(|| event.map(|e| format!("{}: {}", e.reason, e.message)))
            .map(|text| evidence_text(&text))
            .unwrap_or_else(|| problem.reason.clone());
        let seen = match &container {
            Some(container) => format!("{} ({container})", problem.object),
            None => problem.object.clone(),
        };
        let title = match &container {
            Some(container) => format!("container `{container}` is {}", problem.reason),
            None => format!("`{}` is {}", problem.object, problem.reason),
        };
        let fix = unknown_fix(&snapshot.namespace, &problem.object, log);
        add(
            &mut findings,
            Finding {
                id: "unknown".into(),
                title,
                seen_in: vec![seen],
                evidence,
                cause: "not one of the known failures (docs/failures.md)".into(),
                fix,
                log: log.map(|log| report_lines(&log.lines)).unwrap_or_default(),
            },
        );
    }
    attach_logs(&mut findings, snapshot, logs);
    findings
}

/// What to look at for a failure no rule knows: the whole log of the container (the report
/// shows its last lines) and the object's events, then the way back.
fn unknown_fix(namespace: &str, object: &str, log: Option<&ContainerLog>) -> String {
    let then = "fix the cause in values.yaml and upgrade; `pod-inspect fix` then deletes the failed pods and jobs";
    let (kind, name) = object.split_once('/').unwrap_or(("pod", object));
    let describe = format!("`kubectl describe {kind} {name} --namespace {namespace}`");
    match log {
        Some(log) => format!(
            "read the log lines below (all of them: `kubectl logs {} -c {} --namespace {namespace}{}`) and the pod's events ({describe}); {then}",
            log.pod,
            log.container,
            if log.previous { " --previous" } else { "" },
        ),
        None => format!("read the evidence and the events of {describe}; {then}"),
    }
}

/// Gives each finding without log lines those of the first failing container it was seen in
/// (for `job/<name>`, a failing container of one of the job's pods).
fn attach_logs(findings: &mut [Finding], snapshot: &Snapshot, logs: &[ContainerLog]) {
    let failing_log = |seen: &str| -> Option<&ContainerLog> {
        let mut candidates = logs.iter().filter(|log| log.failing && !log.lines.is_empty());
        if let Some(job) = seen.strip_prefix("job/") {
            return candidates.find(|log| pod_of_job(snapshot, &log.pod, job));
        }
        let (pod, container) = seen.strip_prefix("pod/")?.split_once(" (")?;
        let container = container.strip_suffix(')')?;
        candidates.find(|log| log.pod == pod && log.container == container)
    };
    for finding in findings.iter_mut().filter(|finding| finding.log.is_empty()) {
        if let Some(log) = finding.seen_in.iter().find_map(|seen| failing_log(seen)) {
            finding.log = report_lines(&log.lines);
        }
    }
}

/// Log lines as a report shows them: the last [`LOG_LINES`], each cut at a readable length.
fn report_lines(lines: &[String]) -> Vec<String> {
    let start = lines.len().saturating_sub(LOG_LINES);
    lines[start..].iter().map(|line| cut(line)).collect()
}

/// Adds a finding, or, when the same failure was already found elsewhere, adds where.
fn add(findings: &mut Vec<Finding>, finding: Finding) {
    // Unknown failures are only the same when their evidence is.
    let same = |f: &&mut Finding| f.id == finding.id && (f.id != "unknown" || f.evidence == finding.evidence);
    if let Some(existing) = findings.iter_mut().find(same) {
        for seen in finding.seen_in {
            if !existing.seen_in.contains(&seen) {
                existing.seen_in.push(seen);
            }
        }
        return;
    }
    findings.push(finding);
}

fn known(failure: (&str, &str, &str), id: &str, seen: String, evidence: String) -> Finding {
    Finding {
        id: id.into(),
        title: failure.0.into(),
        seen_in: vec![seen],
        evidence,
        cause: failure.1.into(),
        fix: failure.2.into(),
        log: Vec::new(),
    }
}

/// Findings that the state of a container or pod (and its events) proves: pull errors (F16)
/// and unbound volume claims (F14).
fn state_finding(snapshot: &Snapshot, problem: &Problem, events: &[Event]) -> Option<Finding> {
    let name = problem.object.strip_prefix("pod/")?;
    let seen = match &problem.container {
        Some(container) => format!("{} ({container})", problem.object),
        None => problem.object.clone(),
    };
    if matches!(problem.reason.as_str(), "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName") {
        let pod = snapshot.pods.iter().find(|pod| pod.metadata.name == name)?;
        let image = problem
            .container
            .as_ref()
            .and_then(|c| pod.spec.containers.iter().chain(&pod.spec.init_containers).find(|spec| &spec.name == c))
            .map(|spec| spec.image.clone())
            .unwrap_or_default();
        let pull_event = events
            .iter()
            .rev()
            .find(|e| e.involved_object.name == name && e.reason == "Failed" && e.message.contains("pull"));
        let evidence = pull_event
            .map(|e| e.message.clone())
            .or_else(|| problem.message.clone())
            .unwrap_or_else(|| format!("{}: {image}", problem.reason));
        let (cause, fix) = if image.contains("bitnami/") {
            (
                format!("the image `{image}` no longer exists: Bitnami withdrew its free images in 2025 and older charts still point at them"),
                "override the repository in values.yaml (`postgresql.image.repository: bitnamilegacy/postgresql`, as chart 1.20 does) or use an external database (`postgresql.enabled: false` plus `data.metadataConnection`), then upgrade".to_string(),
            )
        } else {
            (
                format!("the node cannot pull `{image}` (wrong tag, private registry without `imagePullSecrets`, or no network)"),
                "fix the image's repository/tag in values.yaml (`images.*`), or set `registry.secretName` for a private registry, then upgrade".to_string(),
            )
        };
        return Some(Finding {
            id: "F16".into(),
            title: "an image cannot be pulled".into(),
            seen_in: vec![seen],
            evidence,
            cause,
            fix,
            log: Vec::new(),
        });
    }
    let unbound = "unbound immediate PersistentVolumeClaims";
    let from_event = events.iter().rev().find(|e| e.involved_object.name == name && e.message.contains(unbound));
    let evidence = from_event
        .map(|e| e.message.clone())
        .or_else(|| problem.message.clone().filter(|message| message.contains(unbound)))?;
    Some(Finding {
        id: "F14".into(),
        title: F14.0.into(),
        seen_in: vec![seen],
        evidence,
        cause: F14.1.into(),
        fix: F14.2.into(),
        log: Vec::new(),
    })
}

fn pod_of_job(snapshot: &Snapshot, pod: &str, job: &str) -> bool {
    snapshot.pods.iter().any(|candidate: &Pod| {
        candidate.metadata.name == pod
            && (candidate.metadata.labels.get("job-name").map(String::as_str) == Some(job)
                || candidate.metadata.labels.get("batch.kubernetes.io/job-name").map(String::as_str) == Some(job))
    })
}

fn latest_warning<'a>(events: &'a [Event], name: &str) -> Option<&'a Event> {
    events.iter().rev().find(|e| e.involved_object.name == name && e.kind == "Warning")
}

/// The last line that states an error (`...Error: ...`, `FATAL`, `fatal:`), else the last
/// line that mentions one, else the last line.
fn last_error_line(lines: &[String]) -> Option<String> {
    let strong = ["Error:", "Exception:", "FATAL", "fatal:", "error:"];
    let weak = ["error", "Error", "ERROR", "Traceback", "failed"];
    let find = |markers: &[&str]| lines.iter().rev().find(|line| markers.iter().any(|m| line.contains(m))).cloned();
    find(&strong).or_else(|| find(&weak)).or_else(|| lines.last().cloned())
}

/// The part of a log line that says what went wrong. git-sync v4 logs JSON whose `error`
/// field holds git's stderr with escaped line breaks; the user needs git's own line
/// (`git@github.com: Permission denied (publickey).`), not the JSON around it.
pub fn evidence_fragment(line: &str, pattern: &str) -> String {
    let unescaped = line
        .replace("\\\\r", "\n")
        .replace("\\\\n", "\n")
        .replace("\\r", "\n")
        .replace("\\n", "\n")
        .replace('\r', "\n");
    let Some(piece) = unescaped.lines().find(|piece| piece.contains(pattern)) else {
        return evidence_text(line);
    };
    // git's stderr inside git-sync's error, else git-sync's own message, else the line.
    let piece = match (piece.rsplit_once("stderr: "), piece.split_once("\"msg\":\"")) {
        (Some((_, tail)), _) => tail,
        (None, Some((_, message))) if message.contains(pattern) => message.split('"').next().unwrap_or(message),
        _ => piece,
    };
    let piece = piece.replace("\\\"", "\"").replace("\\\"", "\"");
    evidence_text(piece.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\\' || c == '}' || c == '{'))
}

/// A log line or message as evidence: passwords masked, trimmed, and cut at a length a
/// person can still read.
fn evidence_text(line: &str) -> String {
    cut(redact::mask_passwords(line).trim())
}

/// `text` cut at a length a person can still read.
fn cut(text: &str) -> String {
    const MAX: usize = 600;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}...")
}

/// The report of `diagnose`.
pub fn report(snapshot: &Snapshot, diagnosis: &Diagnosis) -> DiagnosisReport {
    DiagnosisReport {
        release: snapshot.release.clone(),
        namespace: snapshot.namespace.clone(),
        healthy: diagnosis.status.healthy,
        findings: diagnosis.findings.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(log_line: &str, expected_id: &str) {
        let logs = vec![ContainerLog {
            pod: "airflow-worker-0".into(),
            container: "git-sync-init".into(),
            previous: false,
            failing: false,
            lines: vec![log_line.into()],
        }];
        let snapshot = Snapshot::default();
        let status = status::evaluate(&snapshot);
        let findings = match_findings(&snapshot, &status, &[], &logs);
        assert_eq!(findings.len(), 1, "{log_line}");
        assert_eq!(findings[0].id, expected_id, "{log_line}");
        assert!(log_line.contains(&findings[0].evidence), "{log_line}: {}", findings[0].evidence);
    }

    #[test]
    fn evidence_is_git_s_own_line_out_of_git_sync_json() {
        let line = r#"{"msg":"too many failures, aborting","error":"Run(git ls-remote -q git@github.com:example/dags.git main main^{}): exit status 128: { stdout: \"\", stderr: \"git@github.com: Permission denied (publickey).\\r\\nfatal: Could not read from remote repository.\\n\" }","failCount":1}"#;
        assert_eq!(evidence_fragment(line, "Permission denied"), "git@github.com: Permission denied (publickey).");
        let line = r#"Load key \"/etc/git-secret/ssh\": invalid format"#;
        assert_eq!(evidence_fragment(line, "invalid format"), r#"Load key "/etc/git-secret/ssh": invalid format"#);
        let line = r#"{"logger":"","ts":"2026-11-20 09:13:02.401234","level":0,"msg":"setting --ref from deprecated --branch"}"#;
        assert_eq!(evidence_fragment(line, "deprecated --branch"), "setting --ref from deprecated --branch");
    }

    #[test]
    fn log_rules() {
        check("Host key verification failed.", "F1");
        check("git@github.com: Permission denied (publickey).", "F4");
        check(r#"Load key "/etc/git-secret/ssh": invalid format"#, "F6");
        check("ssh: Could not resolve hostname github.com: Temporary failure in name resolution", "F15");
        check("setting --ref from deprecated --branch", "F7");
        check("TimeoutError: There are still unapplied migrations after 60 seconds", "F11");
        check("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @", "F3");
    }

    fn migration_pods() -> Snapshot {
        let pods: Vec<Pod> = serde_json::from_value(serde_json::json!([
            {"metadata": {"name": "mig-a", "labels": {"component": "run-airflow-migrations", "job-name": "mig"}},
             "status": {"phase": "Failed", "containerStatuses": [{"name": "run-airflow-migrations",
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}},
            {"metadata": {"name": "worker-0", "labels": {"component": "worker"}},
             "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "git-sync-init", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 128}}},
                {"name": "other", "state": {"waiting": {"reason": "CreateContainerConfigError"}}}]}}
        ]))
        .expect("pods json");
        Snapshot { release: "airflow".into(), namespace: "airflow".into(), pods, jobs: Vec::new() }
    }

    #[test]
    fn failing_containers_are_read_first_and_a_restarted_one_from_its_last_run() {
        let snapshot = migration_pods();
        let wanted = logs_to_read(&snapshot, &status::evaluate(&snapshot));
        let request = |pod: &str, container: &str, previous, failing| LogRequest {
            pod: pod.into(),
            container: container.into(),
            previous,
            failing,
        };
        assert_eq!(
            wanted,
            [
                request("mig-a", "run-airflow-migrations", false, true),
                request("worker-0", "git-sync-init", true, true),
                request("worker-0", "other", false, false),
            ]
        );
        assert_eq!(log_args(&wanted[1]), ["logs", "worker-0", "-c", "git-sync-init", "--tail=20", "--previous"]);
    }

    #[test]
    fn an_unknown_failed_pod_shows_its_failed_container_s_log() {
        let snapshot = migration_pods();
        let status = status::evaluate(&snapshot);
        let lines: Vec<String> = (0..30)
            .map(|n| format!("line {n}"))
            .chain([
                "Connecting to postgresql://postgres:Xk9v@db:5432/postgres".to_string(),
                r#"FATAL:  password authentication failed for user "postgres""#.to_string(),
            ])
            .map(|line| redact::mask_passwords(&line))
            .collect();
        let log = ContainerLog {
            pod: "mig-a".into(),
            container: "run-airflow-migrations".into(),
            previous: false,
            failing: true,
            lines,
        };
        let findings = match_findings(&snapshot, &status, &[], &[log]);
        let unknown = findings.iter().find(|f| f.seen_in == ["pod/mig-a (run-airflow-migrations)"]).expect("finding");
        assert_eq!(unknown.id, "unknown");
        assert_eq!(unknown.evidence, r#"FATAL:  password authentication failed for user "postgres""#);
        assert_eq!(unknown.log.len(), LOG_LINES);
        assert_eq!(unknown.log[LOG_LINES - 2], "Connecting to postgresql://postgres:***@db:5432/postgres");
        assert!(
            unknown.fix.contains("kubectl logs mig-a -c run-airflow-migrations --namespace airflow"),
            "{}",
            unknown.fix
        );
    }
}
