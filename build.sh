#!/bin/sh
# Cepheus on a fresh Debian 12 machine: installs `make` when it is missing,
# then runs the Makefile target given (demo, test, bench, ...), which installs
# the other Debian packages the build needs. Run as root, or with sudo at hand.
#
#   ./build.sh demo    build and run the fraud-detection demo
#   ./build.sh test    build and run the whole test suite
set -e
cd "$(dirname "$0")"
if ! command -v make >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "Installing make"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends make
fi
exec make "$@"
