#!/bin/sh
# Runs contention-agent on the Node runtime shipped beside this script, never on a system one.
# Found through symlinks too (/usr/bin/contention-agent in the Debian package).
here=$(dirname "$(readlink -f "$0")")
# A 1 MiB young generation: the agent allocates little per sample and keeps little, and V8's default
# lets the young generation grow to 48 MiB of resident memory it seldom needs. The daemon (run, the
# default command) also goes without V8's optimizing compiler and its helper threads: its code runs
# once every few seconds, so optimizing it cost more CPU on those threads than it saved, and its
# code and compiler memory 12 MB of peak RSS (docs/performance.md). --expose-gc lets it ask for a full
# collection once a minute, which keeps its peak 5 MB lower than V8's own schedule does.
case "${1:-run}" in
  run | -*)
    exec "$here/node/bin/node" --max-semi-space-size=1 --no-opt --single-threaded-gc --expose-gc "$here/dist/agent/cli.js" "$@"
    ;;
esac
# One-off commands (analyze a day of PerfMon data, capture, doctor) keep the optimizing compiler.
exec "$here/node/bin/node" --max-semi-space-size=1 "$here/dist/agent/cli.js" "$@"
