#!/usr/bin/env bash
# Installs every Debian 12 package dstream needs to build, test and benchmark.
# Idempotent: when everything is present it only checks (no apt-get update), so it
# costs well under a second on a machine that already has it all. Run as root or
# with sudo available.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  llvm-19-dev clang-19 libclang-rt-19-dev lld-19   # code generation, bitcode builtins, fuzzing, sanitizers
  re2c bison                                       # lexer and parser generators
  libuv1-dev libcurl4-openssl-dev zlib1g-dev libzstd-dev
  check                                            # unit tests
  python3 time procps curl                         # test fixtures and benchmark figures
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && { echo "setup: all ${#packages[@]} packages present"; exit 0; }

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
