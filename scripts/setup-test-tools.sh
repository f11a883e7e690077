#!/usr/bin/env bash
# What the test suite needs beyond `npm ci`: Debian packages (Chromium for pictures, tmux for
# the shell, Jupyter's nbconvert and ipykernel for the notebook, python3 and R with jsonlite for
# command tasks, redis-server and postgresql for shared stores and distributed runs: the tests
# start private servers of their own, see test/servers.ts), the tslab kernel in .tools/, and its
# kernelspec in .tools/jupyter/ (tests point JUPYTER_PATH there, so the user's own Jupyter setup is neither read nor changed). `npm test`
# runs it first, as its pretest. Each step checks before it acts, so a run with everything
# present takes about 30 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

TSLAB_VERSION=1.0.22
PACKAGES=(chromium tmux jupyter-nbconvert python3-ipykernel python3 redis-server postgresql)
# R for the tests of rTask, without the packages R recommends: with them apt brings some 600
# packages (compilers, fonts, a hundred R libraries) where these two need about 100.
R_PACKAGES=(r-base-core r-cran-jsonlite)

if ! command -v dpkg-query >/dev/null; then
  echo "setup-test-tools: this script installs with apt (Debian, Ubuntu). Elsewhere, install the equivalents of: ${PACKAGES[*]} ${R_PACKAGES[*]}." >&2
  exit 1
fi
# One dpkg-query for every package: each call costs about 15 ms.
installed=$'\n'$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" "${R_PACKAGES[@]}" 2>/dev/null || true)$'\n'
missing=()
missing_r=()
for package in "${PACKAGES[@]}"; do
  [[ $installed == *$'\n'"$package installed"$'\n'* ]] || missing+=("$package")
done
for package in "${R_PACKAGES[@]}"; do
  [[ $installed == *$'\n'"$package installed"$'\n'* ]] || missing_r+=("$package")
done
if [ $((${#missing[@]} + ${#missing_r[@]})) -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-test-tools: the tests need these Debian packages: ${missing[*]} ${missing_r[*]}. Install them, then run npm test again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]} ${missing_r[*]}" >&2
    exit 1
  fi
  echo "setup-test-tools: installing ${missing[*]} ${missing_r[*]}" >&2
  apt-get update
  if [ ${#missing[@]} -gt 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; fi
  if [ ${#missing_r[@]} -gt 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_r[@]}"; fi
fi

# tslab stays out of the project's node_modules: it brings its own TypeScript, whose tsc would
# replace the project's. It is installed as `npm install -g` would, under a prefix of its own,
# because that is the layout it expects (it falls back on its own @types/node, in its own
# node_modules). Its install script is skipped: zeromq ships prebuilt binaries.
tslab_prefix=.tools/tslab
tslab_package="$PWD/$tslab_prefix/lib/node_modules/tslab"
if ! grep -qs "\"version\": \"$TSLAB_VERSION\"" "$tslab_package/package.json"; then
  echo "setup-test-tools: installing tslab@$TSLAB_VERSION into $tslab_prefix" >&2
  npm install --global --prefix "$tslab_prefix" --ignore-scripts --no-audit --no-fund --loglevel=error "tslab@$TSLAB_VERSION" >&2
fi

# The kernelspec tslab's own `tslab install` writes (python/install.py), with the node that runs
# the tests named in full so the kernel runs on the same Node.
node_bin=${npm_node_execpath:-$(command -v node)}
kernel_dir=.tools/jupyter/kernels/tslab
kernel_json="{\"argv\": [\"$node_bin\", \"$tslab_package/bin/tslab\", \"kernel\", \"--config-path\", \"{connection_file}\"], \"display_name\": \"TypeScript\", \"language\": \"typescript\"}"
if [ "$(cat "$kernel_dir/kernel.json" 2>/dev/null)" != "$kernel_json" ]; then
  mkdir -p "$kernel_dir"
  printf '%s' "$kernel_json" >"$kernel_dir/kernel.json"
fi
