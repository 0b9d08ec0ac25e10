#!/bin/sh
# The container's entrypoint: the agent never runs as root.
#
# Started as a non-root user (the image's USER) it runs the agent as it is, with no capabilities.
# Started as root with CAP_SETUID and CAP_SETGID (compose and the Kubernetes DaemonSet do this,
# because runtimes give added capabilities to root only), it keeps those of the agent's four
# capabilities the runtime granted (docs/deploy.md says what each is for), drops every other one,
# SETUID and SETGID included, and becomes the agent's user with the kept ones as ambient
# capabilities and no way to gain more (no_new_privs).
set -eu

agent=${CONTENTION_AGENT_LAUNCHER:-/opt/contention-agent/contention-agent}
uid=${CONTENTION_AGENT_UID:-10001}

[ "$(id -u)" -ne 0 ] && exec "$agent" "$@"

capability_bits() { sed -n "s/^$1:[[:space:]]*//p" /proc/self/status; }
has() { [ $(((0x$1 >> $2) & 1)) -eq 1 ]; }
bounding=$(capability_bits CapBnd)
effective=$(capability_bits CapEff)

# CAP_SETGID is 6, CAP_SETUID 7.
if ! has "$effective" 6 || ! has "$effective" 7; then
	echo "contention-agent-entrypoint: started as root without CAP_SETUID and CAP_SETGID, so it cannot become uid $uid; start as a non-root user, or add SETUID and SETGID (docs/deploy.md)" >&2
	exit 1
fi

keep=""
for cap in dac_read_search:2 kill:5 sys_ptrace:19 sys_nice:23; do
	has "$bounding" "${cap##*:}" && keep="$keep,+${cap%%:*}"
done

# Narrowing the bounding set needs CAP_SETPCAP (8), which runtimes do not grant by default. Without
# it SETUID and SETGID stay in the bounding set, but a non-root process with no_new_privs holds
# neither and can never regain them: no setuid binary or file capability takes effect for it.
bounding_arg=""
has "$effective" 8 && bounding_arg="--bounding-set=-all$keep"

if [ -z "$keep" ]; then
	exec setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all $bounding_arg --no-new-privs -- "$agent" "$@"
fi
exec setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps="-all$keep" --ambient-caps="-all$keep" $bounding_arg --no-new-privs -- "$agent" "$@"
