//! `ui`: reach the Airflow UI. Port-forward to the api-server (Airflow 3) or webserver
//! (Airflow 2) service, bound to 127.0.0.1 unless told otherwise; a NodePort service needs no
//! forward, only its URL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use airflow_kit_core::{Error, process};
use serde::{Deserialize, Serialize};

use crate::kubectl::Kubectl;
use crate::model::{Job, List, Node, Service};

#[derive(Debug, Clone)]
pub struct UiConfig {
    pub release: String,
    pub port: u16,
    pub address: String,
}

/// What `ui` found: the service, the URL to open, and whether a forward is needed.
#[derive(Debug, Clone)]
pub struct UiPlan {
    pub service: String,
    pub airflow: &'static str,
    pub url: String,
    /// The port-forward arguments (after the global flags); None for a NodePort service.
    pub forward: Option<Vec<String>>,
    pub warnings: Vec<String>,
}

pub fn plan(kubectl: &Kubectl, config: &UiConfig) -> Result<UiPlan, Error> {
    let selector = format!("release={}", config.release);
    let services: List<Service> = kubectl.get_json(&["get", "services", "-l", &selector])?;
    let api_server = format!("{}-api-server", config.release);
    let webserver = format!("{}-webserver", config.release);
    let (service, airflow) = match services.items.iter().find(|s| s.metadata.name == api_server) {
        Some(service) => (service, "3"),
        None => match services.items.iter().find(|s| s.metadata.name == webserver) {
            Some(service) => (service, "2"),
            None => {
                return Err(Error::no(format!(
                    "neither `svc/{api_server}` nor `svc/{webserver}` exists in namespace `{}`",
                    kubectl.namespace
                ))
                .with_hint("check `--release` and `-n/--namespace`; `kubectl get services` lists what is there"));
            }
        },
    };
    let port = service
        .spec
        .ports
        .iter()
        .find(|p| p.name.as_deref() == Some("airflow-ui") || p.name.as_deref() == Some("api-server"))
        .or(service.spec.ports.first());
    let Some(port) = port else {
        return Err(Error::no(format!("service `{}` has no ports", service.metadata.name))
            .with_hint("check the service with `kubectl describe service`"));
    };
    if service.spec.kind == "NodePort"
        && let Some(node_port) = port.node_port
    {
        let nodes: List<Node> = kubectl.get_json(&["get", "nodes"])?;
        let ip = node_ip(&nodes.items).unwrap_or_else(|| "<node-ip>".to_string());
        return Ok(UiPlan {
            service: service.metadata.name.clone(),
            airflow,
            url: format!("http://{ip}:{node_port}"),
            forward: None,
            warnings: Vec::new(),
        });
    }
    let mut warnings = Vec::new();
    if !is_loopback(&config.address) {
        warnings.push(format!(
            "WARNING: `--address {}` exposes the Airflow UI to every machine that can reach this one, not just you",
            config.address
        ));
        let jobs: List<Job> = kubectl.get_json(&["get", "jobs", "-l", &selector])?;
        match default_admin_password(&jobs.items) {
            Some(true) => warnings.push(
                "WARNING: the default admin/admin login is still active: anyone on the network can log in as Admin. \
                 Set a password (`secret-gen` does) and upgrade before exposing the UI"
                    .to_string(),
            ),
            Some(false) => {}
            None => warnings.push(
                "WARNING: cannot tell whether the default admin/admin login was changed; make sure it was".to_string(),
            ),
        }
    }
    let host = if config.address.contains(':') { format!("[{}]", config.address) } else { config.address.clone() };
    let shown_host = if config.address == "0.0.0.0" || config.address == "::" { "127.0.0.1".to_string() } else { host };
    Ok(UiPlan {
        service: service.metadata.name.clone(),
        airflow,
        url: format!("http://{shown_host}:{}", config.port),
        forward: Some(vec![
            "port-forward".into(),
            format!("svc/{}", service.metadata.name),
            format!("{}:{}", config.port, port.port),
            "--address".into(),
            config.address.clone(),
        ]),
        warnings,
    })
}

/// The report of `ui`: where the UI is, and for a port-forward how it is reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiReport {
    pub release: String,
    pub namespace: String,
    pub service: String,
    /// The Airflow major: `"2"` (webserver) or `"3"` (api-server).
    pub airflow: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The port-forward command line, as a person would type it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

pub fn plan_report(kubectl: &Kubectl, config: &UiConfig, plan: &UiPlan) -> UiReport {
    let forward = plan.forward.as_ref();
    UiReport {
        release: config.release.clone(),
        namespace: kubectl.namespace.clone(),
        service: plan.service.clone(),
        airflow: plan.airflow.to_string(),
        url: plan.url.clone(),
        address: forward.map(|_| config.address.clone()),
        port: forward.map(|_| config.port),
        command: forward.map(|args| kubectl.display(args)),
    }
}

/// Runs the port-forward until it ends or `stop` is set (Ctrl-C), then stops it cleanly:
/// SIGTERM to its process group, which kubectl handles by closing the forward.
pub fn forward(kubectl: &Kubectl, args: &[String], stop: Arc<AtomicBool>) -> Result<(), Error> {
    // A port-forward runs until stopped, so this call has no timeout of its own.
    let mut command = kubectl.command(args);
    command.timeout = None;
    let done = Arc::new(AtomicBool::new(false));
    let mut watcher = None;
    let output = process::run_streaming(&command, |pids| {
        let pids = pids.to_vec();
        let done = done.clone();
        let stop = stop.clone();
        watcher = Some(std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if stop.load(Ordering::Relaxed) {
                    for pid in &pids {
                        process::signal_group(*pid, libc::SIGTERM);
                    }
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }));
    });
    done.store(true, Ordering::Relaxed);
    if let Some(watcher) = watcher {
        let _ = watcher.join();
    }
    let output = output?;
    if output.success() || stop.load(Ordering::Relaxed) {
        return Ok(());
    }
    Err(process::failed(&command, &output)
        .with_hint("is the local port already in use? choose another with `--port`; kubectl's message is above"))
}

/// True for addresses only this machine can reach.
pub fn is_loopback(address: &str) -> bool {
    address == "localhost" || address == "::1" || address.starts_with("127.")
}

/// Whether the create-user job (if it is still there) sets the chart's default password.
fn default_admin_password(jobs: &[Job]) -> Option<bool> {
    let job =
        jobs.iter().find(|job| job.metadata.labels.get("component").map(String::as_str) == Some("create-user"))?;
    let args: Vec<&String> = job.spec.template.spec.containers.iter().flat_map(|c| c.args.iter()).collect();
    let position = args.iter().position(|arg| *arg == "-p" || *arg == "--password")?;
    args.get(position + 1).map(|password| password.as_str() == "admin")
}

fn node_ip(nodes: &[Node]) -> Option<String> {
    let addresses = nodes.iter().flat_map(|node| node.status.addresses.iter());
    let all: Vec<_> = addresses.collect();
    all.iter()
        .find(|a| a.kind == "ExternalIP")
        .or_else(|| all.iter().find(|a| a.kind == "InternalIP"))
        .map(|a| a.address.clone())
}
