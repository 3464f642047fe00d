//! The few fields of kubectl's `-o json` output that pod-inspect reads. Every struct defaults
//! every field and ignores the rest, so a newer Kubernetes (or a field we never need) cannot
//! break parsing.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What `kubectl get <kind> -o json` prints: a `List` (kubectl's own kind, not `PodList`)
/// holding the items.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct List<T> {
    pub items: Vec<T>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub creation_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
    pub status: PodStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    pub node_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodStatus {
    pub phase: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub conditions: Vec<Condition>,
    pub container_statuses: Vec<ContainerStatus>,
    pub init_container_statuses: Vec<ContainerStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: String,
    pub ready: bool,
    pub restart_count: i64,
    pub image: String,
    pub state: ContainerState,
    pub last_state: ContainerState,
}

/// Exactly one of the three is set by the kubelet; an empty state means "not reported yet".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContainerState {
    pub waiting: Option<StateDetail>,
    pub running: Option<serde::de::IgnoredAny>,
    pub terminated: Option<StateDetail>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StateDetail {
    pub reason: Option<String>,
    pub message: Option<String>,
    pub exit_code: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Job {
    pub metadata: ObjectMeta,
    pub spec: JobSpec,
    pub status: JobStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JobSpec {
    pub template: PodTemplate,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PodTemplate {
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JobStatus {
    pub active: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    pub involved_object: ObjectReference,
    pub reason: String,
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub count: Option<i64>,
    pub last_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ObjectReference {
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    pub metadata: ObjectMeta,
    pub spec: ServiceSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub ports: Vec<ServicePort>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: i64,
    pub node_port: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Node {
    pub metadata: ObjectMeta,
    pub status: NodeStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NodeStatus {
    pub addresses: Vec<NodeAddress>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
}

/// A Secret or a ConfigMap: `data` holds base64 for a Secret and plain text for a ConfigMap.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DataObject {
    pub metadata: ObjectMeta,
    pub data: BTreeMap<String, String>,
}

impl ContainerState {
    /// `waiting`, `running`, `terminated`, or `unknown` when the kubelet reported nothing yet.
    pub fn name(&self) -> &'static str {
        if self.waiting.is_some() {
            "waiting"
        } else if self.running.is_some() {
            "running"
        } else if self.terminated.is_some() {
            "terminated"
        } else {
            "unknown"
        }
    }

    /// The waiting or terminated reason (`CrashLoopBackOff`, `Completed`, `Error`, ...).
    pub fn detail(&self) -> Option<&StateDetail> {
        self.waiting.as_ref().or(self.terminated.as_ref())
    }
}

impl Job {
    /// True when the Job controller has given up (`Failed` condition, e.g. BackoffLimitExceeded).
    pub fn has_failed(&self) -> bool {
        self.status.conditions.iter().any(|c| c.kind == "Failed" && c.status == "True")
    }

    pub fn is_complete(&self) -> bool {
        self.status.conditions.iter().any(|c| c.kind == "Complete" && c.status == "True")
            || (self.status.succeeded > 0 && self.status.active == 0)
    }
}
