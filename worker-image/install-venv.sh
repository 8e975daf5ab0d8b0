#!/usr/bin/env bash
# Installs the worker (the `worker` extra) into a fresh venv, then drops what the worker never imports: the
# image's other half of "only what a merge needs". The Dockerfile then imports every module the worker uses
# and creates its S3 clients, so a trim that went too far fails the build, not a merge.
# Usage: install-venv.sh SRC VENV   (SRC: pyproject.toml, README.md, the contract and the worker's package)
set -euo pipefail
src="$1" venv="$2"
python3 -m venv "$venv"
site="$(echo "$venv"/lib/python3*/site-packages)"

# setuptools wants every package the project declares; those the image does not carry (API, operator, CLI,
# …) are empty stand-ins for the install and are removed again after it, with their console scripts.
mapfile -t others < <(python3 - "$src/pyproject.toml" <<'PY'
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    package_dirs = tomllib.load(f)["tool"]["setuptools"]["package-dir"]
for name, folder in package_dirs.items():
    if name not in ("videomerge_contract", "videomerge_worker"):
        print(name, folder)
PY
)
for entry in "${others[@]}"; do
  read -r name folder <<<"$entry"
  mkdir -p "$src/$folder" && touch "$src/$folder/__init__.py"
done
"$venv/bin/pip" install --no-cache-dir --disable-pip-version-check "$src[worker]"
for entry in "${others[@]}"; do read -r name _ <<<"$entry"; rm -rf "${site:?}/$name"; done
find "$venv/bin" -maxdepth 1 -type f -name '*videomerge*' ! -name videomerge-worker -delete

# The Kubernetes client's asyncio half (kubernetes.aio) and the aiohttp stack only it uses, about 80 MB: the
# worker talks to the API server through the synchronous client.
"$venv/bin/python" -m pip uninstall -y -q aiohttp aiohttp-retry aiohappyeyeballs aiosignal frozenlist \
  multidict propcache yarl attrs
rm -rf "$site/kubernetes/aio"

# botocore ships the models of every AWS service (about 27 MB); the worker is an S3 client whose
# credentials may come from STS (web identity, assumed roles), SSO or a sign-in session.
find "$site/botocore/data" -mindepth 1 -maxdepth 1 -type d \
  ! -name s3 ! -name sts ! -name sso ! -name sso-oidc ! -name signin -exec rm -rf {} +
find "$site/boto3/data" -mindepth 1 -maxdepth 1 -type d ! -name s3 -exec rm -rf {} +

"$venv/bin/python" -m pip uninstall -y -q pip setuptools
