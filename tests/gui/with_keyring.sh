#!/bin/sh
# with_keyring.sh COMMAND...: runs COMMAND with a private, unlocked GNOME keyring answering as the
# Secret Service, on a private D-Bus session bus. Run it under dbus-run-session (gui.keychain):
# the keychain path of remembered passwords is tested for real, and never touches the user's own
# keyring (HOME is a temporary folder).
set -eu
home=$(mktemp -d)
keyring=
cleanup() {
  [ -n "$keyring" ] && kill "$keyring" 2>/dev/null
  rm -rf "$home"
}
trap cleanup EXIT
export HOME="$home" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# In the foreground, so it is ours to stop; --unlock reads the new login keyring's password from
# stdin and makes it the default collection. Ready once it owns the Secret Service's bus name.
printf 'smtpc-test-keyring' | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null &
keyring=$!
tries=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ]; then
    echo "with_keyring.sh: gnome-keyring-daemon did not start" >&2
    exit 1
  fi
  sleep 0.1
done
SMTPC_TEST_KEYCHAIN=1 "$@"
