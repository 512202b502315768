#!/bin/sh
# Makes (once) a Python virtualenv under /tmp with the clients a test talks to Finch with, and
# prints its python. These are test tools, never dependencies of Finch itself.
#   scripts/client-venv.sh NAME PACKAGE==VERSION ...   ->  /tmp/finch-NAME-venv/bin/python
set -e
name=$1; shift
venv=/tmp/finch-$name-venv
stamp="$venv/.finch-packages"
# Tests that run at the same time ask for the same virtualenv: one makes it, the others wait.
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$*" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    echo "$*" > "$stamp"
fi
echo "$venv/bin/python"
