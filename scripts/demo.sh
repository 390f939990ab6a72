#!/usr/bin/env bash
# make demo: one node, three pods wired by bpflet-cni, the bpflet agent, and a
# ClusterIP Service of two backends answered through the eBPF dataplane.
# Everything lives in network namespaces made here and is removed on exit or Ctrl-C.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=demo$$
. "$HERE/netns_lib.sh"
trap 'trap "" PIPE; echo; echo "== cleaning up"; bl_teardown; echo "done."' EXIT
trap 'exit 130' INT TERM HUP PIPE

say() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root (network namespaces and BPF)." >&2
	exit 1
fi

say "node namespace $BL_NODE, agent instance $BL_INSTANCE"
bl_node_up
bl_agent_start || exit 1
echo "agent running (pid $BL_AGENT_PID), pins under /sys/fs/bpf/bpflet/$BL_INSTANCE"

say "three pods through bpflet-cni (pod CIDR $BL_POD_CIDR)"
A=$(bl_pod_add web-a) && B=$(bl_pod_add web-b) && C=$(bl_pod_add client) || exit 1
printf '  web-a  %s\n  web-b  %s\n  client %s\n' "$A" "$B" "$C"
bl_serve_echo web-a 8080
bl_serve_echo web-b 8080
bl_wait_port web-a 8080 && bl_wait_port web-b 8080

say "Service default/web: ClusterIP 10.96.0.10:80 -> targetPort 8080 on web-a, web-b"
bl_service web 10.96.0.10 80 TCP 8080 "$A" "$B"
bl_wait_backends web 2 || exit 1
cat "$BL_MANIFESTS/web.yaml" | sed 's/^/  | /'

say "10 requests from the client pod to http://10.96.0.10:80 (backends answer '<pod> <client address>')"
for i in $(seq 10); do
	out=$(bl_in client timeout 3 socat -T2 - TCP:10.96.0.10:80,connect-timeout=2 </dev/null 2>&1)
	printf '  request %2d -> %s\n' "$i" "$out"
done

say "bpfletctl service list"
"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" service list
say "bpfletctl conntrack list (first lines)"
"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" conntrack list | head -8
say "bpfletctl counters"
"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" counters
say "the maps are plain BTF-typed BPF maps: bpftool map dump pinned .../bl_fe_v1"
bpftool map dump pinned "/sys/fs/bpf/bpflet/$BL_INSTANCE/bl_fe_v1" | head -30

if [ -t 0 ] && [ -z "${CI:-}" ]; then
	say "press Enter to clean up (or Ctrl-C)"
	read -r _
fi
