#!/bin/sh
# with_keyring.sh COMMAND...: runs COMMAND with a private, unlocked GNOME keyring answering as the
# Secret Service, on a private D-Bus session bus. Run it under dbus-run-session (gui.keychain):
# the keychain path of remembered passwords is tested for real, and never touches the user's own
# keyring (HOME is a temporary folder).
set -eu
home=$(mktemp -d)
cleanup() {
  [ -n "${GNOME_KEYRING_PID:-}" ] && kill "$GNOME_KEYRING_PID" 2>/dev/null
  rm -rf "$home"
}
trap cleanup EXIT
export HOME="$home" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# --unlock reads the new login keyring's password from stdin and makes it the default collection.
eval "$(printf 'smtpc-test-keyring' | gnome-keyring-daemon --daemonize --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL GNOME_KEYRING_PID
SMTPC_TEST_KEYCHAIN=1 "$@"
