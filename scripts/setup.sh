#!/usr/bin/env bash
# Installs what Keyward needs on Debian/Ubuntu and is missing: apt packages, a Rust toolchain new
# enough for Tauri 2, and (with --test) the tools the test suite drives. Safe to run again: it only
# installs what is not there yet. Sourced by scripts/run and scripts/test.
set -euo pipefail

KEYWARD_MIN_RUST="1.90"

# What the app needs to build and run (Tauri 2 on Linux: WebKitGTK 4.1 and friends).
KEYWARD_APP_PACKAGES=(
  build-essential pkg-config file curl ca-certificates
  libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
)
# What the test suite needs on top: a headless X server, WebKitWebDriver, a real Secret Service in
# a private D-Bus session, a clipboard reader, and Node.js for the UI's logic tests (`node --test`)
# and the vendor-SDK tests (which need Node >= 20.9, as @clerk/backend 3 does).
KEYWARD_TEST_PACKAGES=(
  xvfb xauth webkit2gtk-driver gnome-keyring dbus dbus-x11 libsecret-tools xclip nodejs
  # scripts/test-package: lintian for the .deb, xwininfo and xwd to see the installed app's window.
  lintian x11-utils x11-apps
)

keyward_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

keyward_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt-get install only the packages that are not installed yet (no apt-get update when none is).
keyward_apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  keyward_log "Installing system packages: ${missing[*]}"
  keyward_sudo apt-get update -qq
  keyward_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

keyward_version_ge() { # $1 >= $2, dotted versions
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# A Rust toolchain >= KEYWARD_MIN_RUST: the one on PATH if new enough, else rustup's stable.
keyward_ensure_rust() {
  export PATH="$HOME/.cargo/bin:$PATH"
  local have=""
  if command -v cargo >/dev/null 2>&1; then
    have=$(cargo --version | awk '{print $2}')
  fi
  if [ -n "$have" ] && keyward_version_ge "$have" "$KEYWARD_MIN_RUST"; then
    return 0
  fi
  keyward_log "Rust ${have:-not found}; Keyward needs >= $KEYWARD_MIN_RUST: installing the stable toolchain with rustup"
  if ! command -v rustup >/dev/null 2>&1; then
    # Debian 13+ and Ubuntu 24.04+ package rustup; older releases use the official installer.
    keyward_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustup >/dev/null 2>&1 ||
      curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  fi
  rustup toolchain install stable --profile minimal --component rustfmt,clippy
  rustup default stable
}

keyward_ensure_tauri_driver() {
  if ! command -v tauri-driver >/dev/null 2>&1; then
    keyward_log "Installing tauri-driver (WebDriver bridge for the end-to-end tests)"
    cargo install tauri-driver --version "^2" --locked
  fi
}

keyward_setup_app() {
  keyward_apt_install "${KEYWARD_APP_PACKAGES[@]}"
  keyward_ensure_rust
}

keyward_setup_tests() {
  keyward_setup_app
  keyward_apt_install "${KEYWARD_TEST_PACKAGES[@]}"
  # npm, for the vendor-SDK tests (tests/sdk). NodeSource's nodejs bundles it (and conflicts with
  # Debian's npm package); Debian's own nodejs does not.
  command -v npm >/dev/null 2>&1 || keyward_apt_install npm
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
  keyward_ensure_tauri_driver
}
