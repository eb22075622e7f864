#!/bin/sh
# Install every build, test and sample dependency of flashsize from Debian.
# Idempotent: packages already present are skipped, so `make demo`/`make test`
# can call it on every run at the cost of one dpkg query.
set -eu

PKGS="make gcc libc6-dev pkg-config binutils \
  libelf-dev libcapstone-dev libsqlite3-dev libmicrohttpd-dev \
  libjansson-dev libyajl-dev libinih-dev zlib1g-dev libcurl4-openssl-dev libssl-dev libcmocka-dev \
  gcc-xtensa-lx106 binutils-xtensa-lx106 \
  gcc-arm-none-eabi binutils-arm-none-eabi \
  gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf \
  jq sqlite3 clang libclang-rt-14-dev wrk hyperfine time valgrind \
  curl chromium fonts-dejavu-core nodejs"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
