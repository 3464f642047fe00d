#!/usr/bin/env bash
# A real Kubernetes API for the tests, on 127.0.0.1 only: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (which fakes the kubelets of three Nodes:
# Pods become Running, Job pods Succeeded). Nothing runs a container and nothing has a pod
# network: the service range is virtual and no component is given a non-loopback address.
#
#   scripts/test-cluster.sh build   build (once, cached by version) the Go binaries
#   scripts/test-cluster.sh up      build if needed, start the cluster, wait for /readyz
#   scripts/test-cluster.sh down    stop exactly the processes `up` started, remove the state
#   scripts/test-cluster.sh env     print `export KUBECONFIG=...` for a running cluster
#   scripts/test-cluster.sh status  exit 0 when the cluster `up` started answers /readyz
#
# Binaries are cached under target/test-tools/cluster/<name>-<version>/, the Go module and
# build caches under target/test-tools/go, so a second build (and CI on the same machine)
# reuses them; a fresh machine builds them unattended from the Go module proxy.
# The cluster's state (PKI, etcd data, kubeconfig, pids, logs) is under target/test-cluster.
# Component logs go only to files in target/test-cluster/logs: they may carry Secrets.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="${AIRFLOW_KIT_TOOLS_DIR:-$root/target/test-tools}"
state="${AIRFLOW_KIT_TEST_CLUSTER_DIR:-$root/target/test-cluster}"

KUBE_VERSION="${AIRFLOW_KIT_KUBE_VERSION:-v1.34.4}"
KWOK_VERSION="${AIRFLOW_KIT_KWOK_VERSION:-v0.7.0}"
# git-sync v4's go.mod declares `module k8s.io/git-sync` (no /v4 suffix), so its v4 tags are
# only reachable as +incompatible versions of that path.
GIT_SYNC_MODULE="k8s.io/git-sync"
GIT_SYNC_VERSION="${AIRFLOW_KIT_GIT_SYNC_VERSION:-v4.4.0+incompatible}"
ETCD_VERSION="${AIRFLOW_KIT_ETCD_VERSION:-v3.6.16}"
NODES=3

log() { printf 'test-cluster: %s\n' "$*" >&2; }
die() {
    printf 'test-cluster: error: %s\n' "$1" >&2
    [ $# -lt 2 ] || printf 'hint: %s\n' "$2" >&2
    exit 1
}

kube_dir="$tools/cluster/kubernetes-$KUBE_VERSION"
kwok_dir="$tools/cluster/kwok-$KWOK_VERSION"
etcd_dir="$tools/cluster/etcd-$ETCD_VERSION"
git_sync_dir="$tools/cluster/git-sync-${GIT_SYNC_VERSION%+incompatible}"

go_env() {
    command -v go >/dev/null || die "go is not installed" "install Go 1.24 or newer (the polyglot machine has it)"
    export GOPATH="$tools/go"
    export GOMODCACHE="$tools/go/pkg/mod"
    export GOCACHE="$tools/go/cache"
    # -modcacherw: the module cache stays removable with a plain `rm -rf`.
    export GOFLAGS="-mod=mod -modcacherw"
    # The module proxy only: never fall back to fetching a repository directly.
    local proxy
    proxy=$(go env GOPROXY)
    proxy=$(printf '%s' "$proxy" | tr ',|' '\n\n' | grep -v -x -e direct -e off | paste -sd, -)
    [ -n "$proxy" ] || die "GOPROXY ($(go env GOPROXY)) names no module proxy" "set GOPROXY to the module proxy's URL"
    export GOPROXY="$proxy"
    export CGO_ENABLED=0
    mkdir -p "$GOMODCACHE" "$GOCACHE"
}

seconds() { date +%s; }

# kube-apiserver, kube-controller-manager, kube-scheduler from a module of our own: k8s.io/kubernetes
# replaces its staging modules with ./staging/src/..., which only resolve inside its own tree,
# so this module replaces each with the published v0.X.Y of the same name.
build_kubernetes() {
    if [ -x "$kube_dir/kube-apiserver" ] && [ -x "$kube_dir/kube-controller-manager" ] && [ -x "$kube_dir/kube-scheduler" ]; then
        return
    fi
    local start mod staging_version gomod
    start=$(seconds)
    staging_version="v0.${KUBE_VERSION#v1.}"
    mod="$tools/cluster/build/kubernetes-$KUBE_VERSION"
    rm -rf "$mod" && mkdir -p "$mod"
    log "building kube-apiserver, kube-controller-manager, kube-scheduler $KUBE_VERSION (cold: tens of minutes)"
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("GoMod") or sys.exit(d.get("Error", "no GoMod")))')
    (
        cd "$mod"
        go mod init airflow-kit-test-cluster >/dev/null 2>&1
        go mod edit -require "k8s.io/kubernetes@$KUBE_VERSION"
        # The replace list is k8s.io/kubernetes's own: every module it points into ./staging.
        go mod edit -json "$gomod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"):
        print(r["Old"]["Path"])
' | while read -r module; do
            go mod edit -replace "$module=$module@$staging_version"
        done
        # The version the API server reports: charts compare it (bitnami's common chart fails
        # on the untagged default `v0.0.0-master+$Format:%H$`).
        local minor=${KUBE_VERSION#v1.} v=k8s.io/component-base/version
        minor=${minor%%.*}
        go build -trimpath -o "$mod/out/" \
            -ldflags="-s -w -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
            k8s.io/kubernetes/cmd/kube-apiserver \
            k8s.io/kubernetes/cmd/kube-controller-manager \
            k8s.io/kubernetes/cmd/kube-scheduler
    )
    mkdir -p "$kube_dir"
    for name in kube-apiserver kube-controller-manager kube-scheduler; do
        mv "$mod/out/$name" "$kube_dir/$name"
    done
    rm -rf "$mod"
    log "kubernetes $KUBE_VERSION built in $(($(seconds) - start)) s"
}

# `go install` builds a module's command at a version as long as its go.mod has no replace.
go_install() {
    local dir=$1 name=$2 package=$3 version=$4 start
    [ -x "$dir/$name" ] && return
    start=$(seconds)
    log "building $name $version"
    mkdir -p "$dir"
    if ! GOBIN="$dir" go install -trimpath -ldflags='-s -w' "$package@$version"; then
        rmdir "$dir" 2>/dev/null || true
        return 1
    fi
    log "$name $version built in $(($(seconds) - start)) s"
}

# etcd from its Go module, through a main of our own (etcd's own main module replaces its
# sibling modules with relative paths, so it cannot be `go install`ed): Debian's etcd-server
# 3.4.23 predates the watch-progress support the 1.34 API server asks etcd for.
build_etcd() {
    [ -x "$etcd_dir/etcd" ] && return
    local start mod
    start=$(seconds)
    mod="$tools/cluster/build/etcd-$ETCD_VERSION"
    rm -rf "$mod" && mkdir -p "$mod"
    log "building etcd $ETCD_VERSION"
    (
        cd "$mod"
        go mod init airflow-kit-test-etcd >/dev/null 2>&1
        go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
        printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >main.go
        go build -trimpath -ldflags='-s -w' -o "$mod/etcd" .
    ) || return 1
    mkdir -p "$etcd_dir"
    mv "$mod/etcd" "$etcd_dir/etcd"
    rm -rf "$mod"
    log "etcd $ETCD_VERSION built in $(($(seconds) - start)) s"
}

etcd_bin() { printf '%s\n' "${AIRFLOW_KIT_ETCD:-$etcd_dir/etcd}"; }

built() {
    [ -x "$(etcd_bin)" ] && [ -x "$kube_dir/kube-apiserver" ] && [ -x "$kube_dir/kube-controller-manager" ] &&
        [ -x "$kube_dir/kube-scheduler" ] && [ -x "$kwok_dir/kwok" ]
}

build() {
    local start
    start=$(seconds)
    go_env
    [ -n "${AIRFLOW_KIT_ETCD:-}" ] || build_etcd
    build_kubernetes
    go_install "$kwok_dir" kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
    # Not fatal for the cluster itself: the tests that run git-sync say it is missing. (Here the
    # module proxy answers 403 "not available" for every version of k8s.io/git-sync.)
    local git_sync_log="$tools/cluster/git-sync-build.log"
    if ! go_install "$git_sync_dir" git-sync "$GIT_SYNC_MODULE" "$GIT_SYNC_VERSION" 2>"$git_sync_log"; then
        log "git-sync $GIT_SYNC_VERSION not built (the cluster does not need it): $(grep -v '^go: downloading' "$git_sync_log" | tail -n 2 | tr '\n\t' '  ')"
    fi
    log "build done in $(($(seconds) - start)) s"
}

# ---------------------------------------------------------------------------------------------
# The running cluster.

kubeconfig="$state/kubeconfig"
pki="$state/pki"
logs="$state/logs"
pids="$state/pids"

kubectl_bin() {
    if [ -n "${AIRFLOW_KIT_KUBECTL:-}" ]; then
        printf '%s\n' "$AIRFLOW_KIT_KUBECTL"
    elif [ -x "$tools/bin/kubectl" ]; then
        printf '%s\n' "$tools/bin/kubectl"
    else
        command -v kubectl || die "kubectl not found" "run scripts/install-test-tools.sh"
    fi
}
kc() { "$(kubectl_bin)" --kubeconfig "$kubeconfig" --request-timeout=10s "$@"; }

# Answers when the API server of the kubeconfig `up` wrote is ready (a cluster started by an
# earlier `up` is reused by the harness this way).
ready() {
    [ -f "$kubeconfig" ] && kc get --raw /readyz >/dev/null 2>&1
}

# N free TCP ports on 127.0.0.1, distinct (bound together, then released).
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# A certificate signed by the cluster's CA: name, subject, extensions (SANs, usage).
sign() {
    local name=$1 subject=$2 ext=$3
    openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -subj "$subject" \
        -out "$pki/$name.csr" 2>/dev/null
    printf '%s\n' "$ext" >"$pki/$name.ext"
    openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 30 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
    rm -f "$pki/$name.csr" "$pki/$name.ext"
    chmod 600 "$pki/$name.key"
}

make_pki() {
    mkdir -p "$pki" && chmod 700 "$pki"
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -subj "/CN=airflow-kit-test-ca" \
        -days 30 -sha256 -out "$pki/ca.crt" 2>/dev/null
    chmod 600 "$pki/ca.key"
    local client='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'
    # Only loopback names and addresses: nothing runs inside a pod here, so no client ever names
    # the service range's first address.
    sign apiserver "/CN=kube-apiserver" 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local'
    sign kubelet "/CN=kwok-kubelet" 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost'
    sign admin "/O=system:masters/CN=airflow-kit-admin" "$client"
    sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
    sign controller-manager "/CN=system:kube-controller-manager" "$client"
    sign scheduler "/CN=system:kube-scheduler" "$client"
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
    chmod 600 "$pki/sa.key"
}

# A kubeconfig (0600) for one client certificate, with the CA embedded: TLS is verified.
write_kubeconfig() {
    local file=$1 cert=$2 server=$3
    local tmp="$file.tmp"
    rm -f "$tmp"
    (
        umask 077
        "$(kubectl_bin)" config --kubeconfig "$tmp" set-cluster test-cluster --server="$server" \
            --certificate-authority="$pki/ca.crt" --embed-certs=true >/dev/null
        "$(kubectl_bin)" config --kubeconfig "$tmp" set-credentials "$cert" --client-certificate="$pki/$cert.crt" \
            --client-key="$pki/$cert.key" --embed-certs=true >/dev/null
        "$(kubectl_bin)" config --kubeconfig "$tmp" set-context test-cluster --cluster=test-cluster --user="$cert" >/dev/null
        "$(kubectl_bin)" config --kubeconfig "$tmp" use-context test-cluster >/dev/null
    )
    chmod 600 "$tmp"
    mv "$tmp" "$file"
}

# Starts a component in its own session (so a test process ending does not take it down),
# logging to its own file, and records its pid for `down`.
start() {
    local name=$1
    shift
    setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
    printf '%s\n' "$!" >"$pids/$name.pid"
    # The program the pid must still be running for `down` to signal it.
    readlink -f "$(command -v "$1")" >"$pids/$name.exe"
}

# Waits until `check` succeeds or the component has died (then its log's tail is NOT shown:
# it may carry Secrets; its path is).
wait_for() {
    local name=$1 seconds=$2
    shift 2
    local deadline=$(($(seconds) + seconds))
    until "$@" >/dev/null 2>&1; do
        if ! kill -0 "$(cat "$pids/$name.pid")" 2>/dev/null; then
            die "$name exited during start-up" "its log is $logs/$name.log"
        fi
        if [ "$(seconds)" -ge "$deadline" ]; then
            die "$name was not ready after ${seconds} s" "its log is $logs/$name.log"
        fi
        sleep 0.3
    done
}

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$1/health" | grep -q '"health":"true"'; }

# The default StorageClass (no provisioner) and three kwok Nodes at 127.0.0.1.
apply_base_objects() {
    kc apply -f - >/dev/null <<'YAML'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: kwok-local
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
reclaimPolicy: Delete
YAML
    local i
    for i in $(seq 0 $((NODES - 1))); do
        kc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "500", ephemeral-storage: 1Ti}
  capacity: {cpu: "32", memory: 256Gi, pods: "500", ephemeral-storage: 1Ti}
YAML
    done
}

nodes_ready() {
    [ "$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -eq "$NODES" ]
}

default_service_account() { kc -n default get serviceaccount default; }

up() {
    if ready; then
        log "already up: $kubeconfig"
        return
    fi
    if [ -d "$pids" ]; then
        log "a previous cluster does not answer; stopping what is left of it"
        down
    fi
    if [ -n "${AIRFLOW_KIT_TEST_CLUSTER_NO_BUILD:-}" ]; then
        # The harness outside CI: a cold build takes tens of minutes, so it is never started
        # from inside a test run.
        built || die "the test cluster's binaries are not built" "run scripts/test-cluster.sh build (tens of minutes cold)"
        go_env
    else
        build
    fi
    local start
    start=$(seconds)
    rm -rf "$state"
    mkdir -p "$state" "$logs" "$pids"
    chmod 700 "$state"
    make_pki
    local etcd_port etcd_peer_port api_port kcm_port sched_port kubelet_port kwok_metrics_port
    read -r etcd_port etcd_peer_port api_port kcm_port sched_port kubelet_port kwok_metrics_port < <(free_ports 7)
    printf 'api=%s\netcd=%s\nkubelet=%s\n' "$api_port" "$etcd_port" "$kubelet_port" >"$state/ports"

    start etcd "$(etcd_bin)" --name test-cluster --data-dir "$state/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-cluster "test-cluster=http://127.0.0.1:$etcd_peer_port" \
        --quota-backend-bytes=2147483648 --log-level=warn
    wait_for etcd 30 etcd_healthy "$etcd_port"

    # Every address the API server itself dials: etcd on 127.0.0.1, the kubelets (kwok) at the
    # InternalIP only (never a hostname lookup) which kwok sets to 127.0.0.1.
    start kube-apiserver "$kube_dir/kube-apiserver" \
        --etcd-servers="http://127.0.0.1:$etcd_port" \
        --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
        --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
        --client-ca-file="$pki/ca.crt" \
        --service-cluster-ip-range=10.0.0.0/16 \
        --service-node-port-range=30000-32767 \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
        --authorization-mode=RBAC --allow-privileged=true \
        --kubelet-preferred-address-types=InternalIP \
        --kubelet-certificate-authority="$pki/ca.crt" \
        --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
        --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
        --endpoint-reconciler-type=none \
        --profiling=false
    write_kubeconfig "$kubeconfig" admin "https://127.0.0.1:$api_port"
    wait_for kube-apiserver 120 ready

    write_kubeconfig "$state/controller-manager.kubeconfig" controller-manager "https://127.0.0.1:$api_port"
    write_kubeconfig "$state/scheduler.kubeconfig" scheduler "https://127.0.0.1:$api_port"
    # No cloud provider, no node IPAM or routes: nothing here allocates or reaches a network.
    start kube-controller-manager "$kube_dir/kube-controller-manager" \
        --kubeconfig="$state/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$state/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$state/controller-manager.kubeconfig" \
        --bind-address=127.0.0.1 --secure-port="$kcm_port" --cert-dir="$state/kcm-certs" \
        --leader-elect=false --use-service-account-credentials=true \
        --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
        --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
        --controllers='*,-node-ipam-controller,-node-route-controller,-service-lb-controller,-cloud-node-lifecycle-controller' \
        --profiling=false
    start kube-scheduler "$kube_dir/kube-scheduler" \
        --kubeconfig="$state/scheduler.kubeconfig" \
        --authentication-kubeconfig="$state/scheduler.kubeconfig" \
        --authorization-kubeconfig="$state/scheduler.kubeconfig" \
        --bind-address=127.0.0.1 --secure-port="$sched_port" --cert-dir="$state/scheduler-certs" \
        --leader-elect=false --profiling=false
    start_kwok "$kubelet_port" "$kwok_metrics_port"
    start pv-binder bash "$root/scripts/test-cluster.sh" pv-binder-loop
    apply_base_objects
    wait_for kwok 60 nodes_ready
    wait_for kube-controller-manager 60 default_service_account
    printf '%s\n' "$(($(seconds) - start))" >"$state/startup-seconds"
    log "up in $(($(seconds) - start)) s; $(memory)"
    log "kubeconfig: $kubeconfig"
}

start_kwok() {
    local kubelet_port=$1 metrics_port=$2
    # The kwok CRDs (Stage, ClusterExec, ClusterLogs, ...) from its own module, so tests can
    # add stages and exec/logs mappings as objects.
    local crds="$GOMODCACHE/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/crd/bases"
    [ -d "$crds" ] || go mod download "sigs.k8s.io/kwok@$KWOK_VERSION"
    kc apply --server-side -f "$crds" >/dev/null
    kc wait --for condition=established --timeout=60s crd --all >/dev/null
    # With Stage served from CRDs kwok has no built-in stages: apply kwok's own "fast" set (Nodes
    # Ready with leases; Pods Running and Ready at once, Job pods then Succeeded).
    local stages="$GOMODCACHE/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage" dir
    for dir in node/fast node/heartbeat-with-lease pod/fast; do
        find "$stages/$dir" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml -exec \
            "$(kubectl_bin)" --kubeconfig "$kubeconfig" apply -f {} \; >/dev/null
    done
    write_exec_shims
    # kwok runs a mapped `kubectl exec` as a local command found on its own PATH: the shims
    # first on it serve pod paths from a directory a test names (see write_exec_shims).
    # --cidr is the range of pod IPs kwok writes into pod status: virtual, like the service
    # range; no process here dials a pod IP (logs and exec go to the node, at 127.0.0.1).
    PATH="$state/exec-shims:$PATH" start kwok "$kwok_dir/kwok" \
        --kubeconfig="$kubeconfig" \
        --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
        --node-ip=127.0.0.1 --node-port="$kubelet_port" \
        --node-lease-duration-seconds=40 \
        --server-address="127.0.0.1:$kubelet_port" \
        --tls-cert-file="$pki/kubelet.crt" --tls-private-key-file="$pki/kubelet.key" \
        --cidr=10.244.0.1/16 \
        --enable-crds=Stage,Attach,ClusterAttach,Exec,ClusterExec,Logs,ClusterLogs,PortForward,ClusterPortForward,ResourceUsage,ClusterResourceUsage,Metric
}

# `kubectl exec` into a kwok pod runs, on this machine, the command a kwok Exec (or ClusterExec)
# object maps for that pod and container, with the environment it names. A test that sets
# AIRFLOW_KIT_POD_ROOT=<dir> there gets these shims: every absolute path argument is read under
# <dir> (so `readlink /opt/airflow/dags/repo` reads <dir>/opt/airflow/dags/repo), and <dir> is
# cut from the start of each line they print, so answers read as they would inside the pod.
# Without the variable a shim is the real program.
write_exec_shims() {
    local shims="$state/exec-shims" name
    mkdir -p "$shims"
    cat >"$shims/pod-root-shim" <<'SHIM'
#!/usr/bin/env bash
name=${0##*/}
shims=$(cd "$(dirname "$0")" && pwd)
real_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -x -F "$shims" | paste -sd: -)
real=$(PATH=$real_path command -v "$name") || { echo "$name: not found" >&2; exit 127; }
root=${AIRFLOW_KIT_POD_ROOT:-}
[ -n "$root" ] || exec "$real" "$@"
root=${root%/}
args=()
for arg in "$@"; do
    case "$arg" in
        /*) args+=("$root$arg") ;;
        *) args+=("$arg") ;;
    esac
done
"$real" "${args[@]}" | sed "s|^$root/|/|"
exit "${PIPESTATUS[0]}"
SHIM
    chmod 755 "$shims/pod-root-shim"
    for name in readlink find ls cat test stat; do
        ln -sf pod-root-shim "$shims/$name"
    done
}

# The claims the chart makes (worker logs, triggerer, redis, postgresql) have no provisioner
# here: this loop watches the claims and, for each pending one, creates a PersistentVolume bound
# to it in advance (claimRef, named after the claim's uid); when the claim is deleted, so is its
# volume. Event-driven (a kubectl watch), so an idle cluster costs nothing here.
pv_binder_loop() {
    local kubectl
    kubectl=$(kubectl_bin)
    while true; do
        "$kubectl" --kubeconfig "$kubeconfig" get pvc -A --watch --output-watch-events -o json 2>/dev/null |
            python3 -u -c '
import json, subprocess, sys
kubectl = sys.argv[1:]
def run(args, stdin=None):
    subprocess.run(kubectl + args, input=stdin, text=True, capture_output=True)
decoder, buffer = json.JSONDecoder(), ""
for line in sys.stdin:
    buffer += line
    while True:
        buffer = buffer.lstrip()
        try:
            event, end = decoder.raw_decode(buffer)
        except ValueError:
            break
        buffer = buffer[end:]
        claim = event.get("object") or {}
        meta, spec = claim.get("metadata") or {}, claim.get("spec") or {}
        if "uid" not in meta:
            continue
        pv = "pv-" + meta["uid"]
        if event.get("type") == "DELETED":
            run(["delete", "pv", pv, "--ignore-not-found", "--wait=false"])
        elif (claim.get("status") or {}).get("phase") == "Pending" and not spec.get("volumeName"):
            run(["create", "-f", "-"], json.dumps({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": pv, "labels": {"airflow-kit.test/bound-by": "test-cluster"}},
                "spec": {
                    "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")},
                    "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": spec.get("storageClassName") or "",
                    "volumeMode": spec.get("volumeMode") or "Filesystem",
                    "hostPath": {"path": "/nonexistent/kwok/" + pv},
                    "claimRef": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
                },
            }))
' "$kubectl" --kubeconfig "$kubeconfig" --request-timeout=30s
        sleep 1
    done
}

memory() {
    local total=0 name pid rss
    for file in "$pids"/*.pid; do
        [ -f "$file" ] || continue
        pid=$(cat "$file")
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${rss:-0}))
    done
    printf 'memory (RSS of the components): %s MiB' "$((total / 1024))"
}

# Stops exactly the processes `up` recorded: by pid, and only while the pid still runs the
# program that was started (a pid reused by another process is left alone).
down() {
    if [ -d "$pids" ]; then
        local name pid stopping=()
        # The component is its own process group (setsid): its children go with it. All are
        # asked at once, then whatever is left after 10 s is killed.
        for name in pv-binder kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
            [ -f "$pids/$name.pid" ] || continue
            pid=$(cat "$pids/$name.pid")
            if [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$(cat "$pids/$name.exe" 2>/dev/null)" ]; then
                kill -TERM -- "-$pid" 2>/dev/null || true
                stopping+=("$pid")
            fi
        done
        for _ in $(seq 1 100); do
            local alive=0
            for pid in "${stopping[@]}"; do
                kill -0 "$pid" 2>/dev/null && alive=1
            done
            [ "$alive" = 1 ] || break
            sleep 0.1
        done
        for pid in "${stopping[@]}"; do
            kill -KILL -- "-$pid" 2>/dev/null || true
        done
    fi
    rm -rf "$state"
    log "down"
}

env_cmd() {
    ready || die "no test cluster is running at $kubeconfig" "run scripts/test-cluster.sh up"
    printf 'export KUBECONFIG=%s\n' "$kubeconfig"
}

case "${1:-}" in
    build) build ;;
    up) up ;;
    down) down ;;
    env) env_cmd ;;
    status) if ready; then log "up: $kubeconfig; $(memory)"; else log "not running"; exit 1; fi ;;
    pv-binder-loop) pv_binder_loop ;;
    *) die "usage: $0 build|up|down|env|status" ;;
esac
