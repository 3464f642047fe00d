//! `diagnose`: events, container states and the logs of git-sync and the migration job,
//! matched against the known failures (shared/reference/failures.md). Each finding carries
//! its evidence (the line a person would have had to find), its cause and its fix.

use airflow_kit_core::Error;
use serde_json::{Value, json};

use crate::kubectl::Kubectl;
use crate::model::{Event, List, Pod};
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

/// One finding: which failure, where, the line that proves it, why, and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: String,
    pub title: String,
    pub seen_in: Vec<String>,
    pub evidence: String,
    pub cause: String,
    pub fix: String,
}

/// The last lines one container logged.
#[derive(Debug, Clone)]
pub struct ContainerLog {
    pub pod: String,
    pub container: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub status: Status,
    pub findings: Vec<Finding>,
}

/// How many log lines to read per container: enough to hold the error and its context.
pub const LOG_TAIL: &str = "--tail=30";
/// An upper bound on log reads, so a large broken release still answers quickly.
const MAX_LOG_READS: usize = 12;

/// Collects events and the relevant logs, then matches them.
pub fn diagnose(kubectl: &Kubectl, snapshot: &Snapshot) -> Result<Diagnosis, Error> {
    let status = status::evaluate(snapshot);
    let events: List<Event> = kubectl.get_json(&["get", "events"])?;
    let mut logs = Vec::new();
    for (pod, container) in logs_to_read(snapshot, &status).into_iter().take(MAX_LOG_READS) {
        logs.push(read_log(kubectl, &pod, &container)?);
    }
    let findings = match_findings(snapshot, &status, &events.items, &logs);
    Ok(Diagnosis { status, findings })
}

/// A container's last lines; a container that never started has none (kubectl exits 1 with
/// `waiting to start`), which is not an error of ours.
pub fn read_log(kubectl: &Kubectl, pod: &str, container: &str) -> Result<ContainerLog, Error> {
    let output = kubectl.run(&["logs", pod, "-c", container, LOG_TAIL])?;
    let lines = if output.success() {
        output.stdout_text().lines().map(str::to_string).filter(|line| !line.trim().is_empty()).collect()
    } else {
        Vec::new()
    };
    Ok(ContainerLog { pod: pod.to_string(), container: container.to_string(), lines })
}

/// Which (pod, container) logs hold the answer: git-sync containers that fail or restart
/// (and one healthy git-sync, for F7), the migration job, the migration waiter, and any other
/// failing container.
pub fn logs_to_read(snapshot: &Snapshot, status: &Status) -> Vec<(String, String)> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    let push = |wanted: &mut Vec<(String, String)>, pod: &str, container: &str| {
        let pair = (pod.to_string(), container.to_string());
        if !wanted.contains(&pair) {
            wanted.push(pair);
        }
    };
    for problem in &status.problems {
        if let (Some(pod), Some(container)) = (problem.object.strip_prefix("pod/"), &problem.container) {
            push(&mut wanted, pod, container);
        }
    }
    for pod in &snapshot.pods {
        let statuses = pod.status.init_container_statuses.iter().chain(&pod.status.container_statuses);
        for container in statuses {
            if container.restart_count > 0
                && (is_git_sync(&container.name) || container.name == "wait-for-airflow-migrations")
            {
                push(&mut wanted, &pod.metadata.name, &container.name);
            }
        }
        if status::component(&pod.metadata.labels) == "migrations" && pod.status.phase != "Succeeded" {
            push(&mut wanted, &pod.metadata.name, "run-airflow-migrations");
        }
    }
    let has_git_sync_log = wanted.iter().any(|(_, container)| is_git_sync(container));
    let runs_git_sync =
        |pod: &&Pod| pod.status.container_statuses.iter().any(|c| c.name == "git-sync" && c.state.running.is_some());
    // Prefer the pods `dags` looks into, so both commands talk about the same git-sync.
    let healthy_git_sync = ["worker", "dag-processor", "scheduler", "triggerer"].iter().find_map(|component| {
        snapshot.pods.iter().filter(|pod| status::component(&pod.metadata.labels) == *component).find(runs_git_sync)
    });
    if !has_git_sync_log && let Some(pod) = healthy_git_sync {
        push(&mut wanted, &pod.metadata.name, "git-sync");
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
        let log_line = problem.container.as_ref().and_then(|container| {
            logs.iter()
                .find(|log| {
                    Some(log.pod.as_str()) == problem.object.strip_prefix("pod/") && &log.container == container
                })
                .and_then(|log| last_error_line(&log.lines))
        });
        let event = latest_warning(events, problem.object.split('/').nth(1).unwrap_or_default());
        let evidence = log_line
            .map(|line| evidence_text(&line))
            .or_else(|| problem.message.clone())
            .or_else(|| event.map(|e| format!("{}: {}", e.reason, e.message)))
            .unwrap_or_else(|| problem.reason.clone());
        let seen = match &problem.container {
            Some(container) => format!("{} ({container})", problem.object),
            None => problem.object.clone(),
        };
        add(&mut findings, Finding {
            id: "unknown".into(),
            title: format!("a container is {}", problem.reason),
            seen_in: vec![seen],
            evidence,
            cause: "not one of the known failures (shared/reference/failures.md)".into(),
            fix: "read the evidence above and `kubectl describe` the object; `pod-inspect fix` restarts crash-looping pods once the cause is fixed".into(),
        },
        );
    }
    findings
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

/// A log line as evidence: trimmed, and cut at a length a person can still read.
fn evidence_text(line: &str) -> String {
    const MAX: usize = 600;
    let line = line.trim();
    if line.chars().count() <= MAX {
        return line.to_string();
    }
    let cut: String = line.chars().take(MAX).collect();
    format!("{cut}...")
}

/// The YAML-ready report of `diagnose`.
pub fn diagnosis_report(snapshot: &Snapshot, diagnosis: &Diagnosis) -> Value {
    json!({
        "release": snapshot.release,
        "namespace": snapshot.namespace,
        "healthy": diagnosis.status.healthy,
        "findings": diagnosis.findings.iter().map(finding_report).collect::<Vec<_>>(),
    })
}

pub fn finding_report(finding: &Finding) -> Value {
    json!({
        "id": finding.id,
        "title": finding.title,
        "seen_in": finding.seen_in,
        "evidence": finding.evidence,
        "cause": finding.cause,
        "fix": finding.fix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(log_line: &str, expected_id: &str) {
        let logs = vec![ContainerLog {
            pod: "airflow-worker-0".into(),
            container: "git-sync-init".into(),
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
}
