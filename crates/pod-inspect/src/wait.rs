//! `wait`: poll the release until it is healthy, and stop early when waiting cannot help.

use std::time::{Duration, Instant};

use airflow_kit_core::{Error, ExitCode};
use serde::{Deserialize, Serialize};

use crate::diagnose::{self, Diagnosis, Finding};
use crate::kubectl::Kubectl;
use crate::status::{self, Problem, Snapshot, Status, StatusReport};

#[derive(Debug, Clone)]
pub struct WaitConfig {
    pub release: String,
    pub timeout: Duration,
    pub interval: Duration,
}

/// What one poll saw, for the progress display.
#[derive(Debug, Clone)]
pub struct Progress {
    pub elapsed: Duration,
    pub ready_pods: usize,
    pub total_pods: usize,
    /// The first thing still being waited for (`pod/airflow-worker-0 (Init:0/2)`).
    pub waiting_for: Option<String>,
}

/// How waiting ended.
#[derive(Debug)]
pub enum Outcome {
    Healthy(Snapshot, Status),
    /// A failure that waiting cannot heal, with the diagnosis that says so.
    Failed(Snapshot, Diagnosis),
    /// The timeout passed; the diagnosis of the last state.
    TimedOut(Snapshot, Diagnosis),
}

/// Why `wait` stopped without a healthy release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A failure that waiting cannot heal (`failed`).
    Failed,
    /// The timeout passed (`timed_out`).
    TimedOut,
}

/// The report of `wait` when it stops: `diagnose`'s fields, then why, then `status`'s problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppedReport {
    pub release: String,
    pub namespace: String,
    pub healthy: bool,
    pub findings: Vec<Finding>,
    pub outcome: StopReason,
    pub problems: Vec<Problem>,
}

/// Everything `wait` prints: why it stopped, or (healthy) the same report as `status`. Read it
/// back with core's `report::from_yaml::<WaitReport>`; the two shapes differ by `outcome`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WaitReport {
    Stopped(StoppedReport),
    Healthy(StatusReport),
}

/// The report of a wait that stopped without a healthy release.
pub fn stopped_report(snapshot: &Snapshot, diagnosis: &Diagnosis, outcome: StopReason) -> StoppedReport {
    StoppedReport {
        release: snapshot.release.clone(),
        namespace: snapshot.namespace.clone(),
        healthy: diagnosis.status.healthy,
        findings: diagnosis.findings.clone(),
        outcome,
        problems: diagnosis.status.problems.clone(),
    }
}

/// Git errors that no amount of restarting fixes (host key, deploy key, key format).
const AUTH_FAILURES: &[&str] = &["F1", "F2", "F3", "F4", "F6"];

pub fn wait(kubectl: &Kubectl, config: &WaitConfig, progress: &mut dyn FnMut(&Progress)) -> Result<Outcome, Error> {
    let started = Instant::now();
    loop {
        let snapshot = match status::fetch(kubectl, &config.release) {
            Ok(snapshot) => Some(snapshot),
            // Right after `helm install` the pods may not exist yet: keep waiting.
            Err(error) if error.code == ExitCode::No => None,
            Err(error) => return Err(error),
        };
        if let Some(snapshot) = snapshot {
            let status = status::evaluate(&snapshot);
            if status.healthy {
                return Ok(Outcome::Healthy(snapshot, status));
            }
            if status.problems.iter().any(|p| p.terminal) {
                let diagnosis = diagnose::diagnose(kubectl, &snapshot)?;
                return Ok(Outcome::Failed(snapshot, diagnosis));
            }
            let git_sync_crashing = status
                .problems
                .iter()
                .any(|p| p.reason == "CrashLoopBackOff" && p.container.as_deref().is_some_and(diagnose::is_git_sync));
            if git_sync_crashing {
                let diagnosis = diagnose::diagnose(kubectl, &snapshot)?;
                if diagnosis.findings.iter().any(|f| AUTH_FAILURES.contains(&f.id.as_str())) {
                    return Ok(Outcome::Failed(snapshot, diagnosis));
                }
            }
            if started.elapsed() >= config.timeout {
                let diagnosis = diagnose::diagnose(kubectl, &snapshot)?;
                return Ok(Outcome::TimedOut(snapshot, diagnosis));
            }
            progress(&describe(&snapshot, &status, started.elapsed()));
        } else {
            if started.elapsed() >= config.timeout {
                return Err(Error::no(format!(
                    "no pods of release `{}` appeared in namespace `{}` within {}s",
                    config.release,
                    kubectl.namespace,
                    config.timeout.as_secs()
                ))
                .with_hint("check that `helm upgrade --install` ran for this release and namespace (`helm list -A`)"));
            }
            progress(&Progress {
                elapsed: started.elapsed(),
                ready_pods: 0,
                total_pods: 0,
                waiting_for: Some(format!("the first pods of release `{}`", config.release)),
            });
        }
        std::thread::sleep(config.interval);
    }
}

fn describe(snapshot: &Snapshot, status: &Status, elapsed: Duration) -> Progress {
    let not_ready = status.not_ready.len() + status.problems.len();
    let total = snapshot.pods.len();
    let waiting_for = status
        .problems
        .first()
        .map(|p| format!("{} ({})", p.object, p.reason))
        .or_else(|| status.not_ready.first().map(|name| describe_pod(snapshot, name)));
    Progress { elapsed, ready_pods: total.saturating_sub(not_ready.min(total)), total_pods: total, waiting_for }
}

fn describe_pod(snapshot: &Snapshot, name: &str) -> String {
    match snapshot.pods.iter().find(|pod| pod.metadata.name == name) {
        Some(pod) => format!("pod/{name} ({})", status::display_status(pod)),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use airflow_kit_core::report::{from_yaml, to_yaml};

    use super::*;

    /// Both shapes of `wait`'s report read back as what was written.
    #[test]
    fn wait_reports_read_back_into_their_shape() {
        let finding = Finding {
            id: "F4".into(),
            title: "the Git host refuses the deploy key".into(),
            seen_in: vec!["pod/airflow-worker-0 (git-sync-init)".into()],
            evidence: "git@github.com: Permission denied (publickey).".into(),
            cause: "c".into(),
            fix: "f".into(),
            log: vec!["line".into()],
        };
        let problem = Problem {
            object: "pod/airflow-worker-0".into(),
            container: Some("git-sync-init".into()),
            reason: "CrashLoopBackOff".into(),
            message: None,
            terminal: false,
        };
        let stopped = WaitReport::Stopped(StoppedReport {
            release: "airflow".into(),
            namespace: "airflow".into(),
            healthy: false,
            findings: vec![finding],
            outcome: StopReason::TimedOut,
            problems: vec![problem],
        });
        let text = to_yaml(&stopped).expect("writes");
        assert!(text.contains("\noutcome: timed_out\n"), "{text}");
        assert_eq!(from_yaml::<WaitReport>(&text, "pod-inspect wait").expect("reads"), stopped);
        let healthy = WaitReport::Healthy(StatusReport {
            release: "airflow".into(),
            namespace: "airflow".into(),
            healthy: true,
            pods: Vec::new(),
            jobs: Vec::new(),
            problems: Vec::new(),
            not_ready: Vec::new(),
        });
        let text = to_yaml(&healthy).expect("writes");
        assert_eq!(from_yaml::<WaitReport>(&text, "pod-inspect wait").expect("reads"), healthy);
    }
}
