#!/usr/bin/env bash
# The whole install on a real MicroK8s host, then the DAG check, exactly as a user runs it.
# Needs: MicroK8s running (this script enables dns and hostpath-storage), network access to the
# chart repository, and a private DAG repository whose deploy key you can add when asked.
#
#   scripts/e2e-microk8s.sh git@github.com:me/dags.git main dags [chart-version]
#
# The same run is what `AIRFLOW_KIT_E2E_KUBECONFIG=... cargo test -p airflow-kit-tests --test
# install_cluster` does from the test suite.
set -euo pipefail
repo=${1:?usage: e2e-microk8s.sh REPO BRANCH SUBPATH [CHART_VERSION]}
branch=${2:?branch}
sub_path=${3:?sub-path}
chart_version=${4:-1.20.0}
cd "$(dirname "$0")/.."

microk8s status --wait-ready >/dev/null
microk8s enable dns hostpath-storage >/dev/null
kubeconfig=$(mktemp)
trap 'rm -f "$kubeconfig"' EXIT
microk8s config >"$kubeconfig"
chmod 600 "$kubeconfig"

cargo xtask install --microk8s --kubeconfig "$kubeconfig" \
  --repo "$repo" --branch "$branch" --sub-path "$sub_path" --chart-version "$chart_version"

# The install already compared the synced commit with the branch head; show it once more.
cargo build --release --quiet -p pod-inspect
target/release/pod-inspect dags --kubeconfig "$kubeconfig"
