//! `wait`: poll the release until it is healthy, and stop early when waiting cannot help.

use std::time::{Duration, Instant};

use airflow_kit_core::{Error, ExitCode};

use crate::diagnose::{self, Diagnosis};
use crate::kubectl::Kubectl;
use crate::status::{self, Snapshot, Status};

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
