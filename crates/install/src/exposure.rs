//! The UI's service keys, which the install owns both ways: `--expose nodeport` sets the UI
//! service's type and ports, `--expose port-forward` removes exactly those keys again, so the
//! deployed service always matches what the summary says.

use crate::config::Expose;

/// What the merge must do to the values for the chosen exposure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureChange {
    /// `--set-json PATH=JSON` pairs.
    pub set_json: Vec<(String, String)>,
    /// Paths to remove (`--unset`), which the upgrade must also be allowed to drop.
    pub unset: Vec<String>,
}

/// The UI service's values section: `apiServer` on Airflow 3, `webserver` on Airflow 2.
pub fn ui_section(airflow_major: u8) -> &'static str {
    if airflow_major >= 3 { "apiServer" } else { "webserver" }
}

/// The keys for `expose` on a release of `airflow_major`. `current` says which of the owned
/// paths the cumulative values hold now, so port-forward removes only what is there.
pub fn change(expose: Expose, airflow_major: u8, current: impl Fn(&str) -> bool) -> ExposureChange {
    let section = ui_section(airflow_major);
    let type_path = format!("{section}.service.type");
    let ports_path = format!("{section}.service.ports");
    match expose {
        Expose::NodePort(port) => {
            // The port names and the templated target port are the chart's own defaults
            // for this section, so only the nodePort is ours.
            let (name, port_ref) = if airflow_major >= 3 {
                ("api-server", "{{ .Values.ports.apiServer }}")
            } else {
                ("airflow-ui", "{{ .Values.ports.airflowUI }}")
            };
            let ports = serde_json::json!([{ "name": name, "port": port_ref, "nodePort": port }]);
            ExposureChange {
                set_json: vec![(type_path, "\"NodePort\"".into()), (ports_path, ports.to_string())],
                unset: Vec::new(),
            }
        }
        Expose::PortForward => {
            let unset = [type_path, ports_path].into_iter().filter(|path| current(path)).collect();
            ExposureChange { set_json: Vec::new(), unset }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodeport_sets_the_right_section() {
        let airflow3 = change(Expose::NodePort(30080), 3, |_| false);
        assert_eq!(airflow3.set_json[0], ("apiServer.service.type".into(), "\"NodePort\"".into()));
        assert_eq!(
            airflow3.set_json[1].1,
            r#"[{"name":"api-server","port":"{{ .Values.ports.apiServer }}","nodePort":30080}]"#
        );
        let airflow2 = change(Expose::NodePort(30080), 2, |_| false);
        assert_eq!(airflow2.set_json[0].0, "webserver.service.type");
        assert!(airflow2.set_json[1].1.contains("airflow-ui"));
        assert!(airflow2.unset.is_empty());
    }

    #[test]
    fn port_forward_removes_what_nodeport_set_and_nothing_else() {
        let back = change(Expose::PortForward, 3, |path| {
            path == "apiServer.service.type" || path == "apiServer.service.ports"
        });
        assert_eq!(back.unset, ["apiServer.service.type", "apiServer.service.ports"]);
        assert!(back.set_json.is_empty());
        assert!(change(Expose::PortForward, 3, |_| false).unset.is_empty());
    }
}
