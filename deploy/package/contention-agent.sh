#!/bin/sh
# Runs contention-agent on the Node runtime shipped beside this script, never on a system one.
# Found through symlinks too (/usr/bin/contention-agent in the Debian package).
here=$(dirname "$(readlink -f "$0")")
# A 1 MiB young generation: the agent allocates little per sample and keeps little, and V8's default
# lets the young generation grow to 48 MiB of resident memory it seldom needs (docs/performance.md).
exec "$here/node/bin/node" --max-semi-space-size=1 "$here/dist/agent/cli.js" "$@"
