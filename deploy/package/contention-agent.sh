#!/bin/sh
# Runs contention-agent on the Node runtime shipped beside this script, never on a system one.
# Found through symlinks too (/usr/bin/contention-agent in the Debian package).
here=$(dirname "$(readlink -f "$0")")
exec "$here/node/bin/node" "$here/dist/agent/cli.js" "$@"
