#!/usr/bin/env bash
# make bench, north-south: an external client → node1's NodePort → a backend on
# node2, through (a) xdp_uplink (DNAT+SNAT and XDP_TX, native XDP by default) and
# (b) the same forwarding done by iptables DNAT + MASQUERADE rules in node1,
# alternating in one run; medians of REPS.
#   pps: trafgen (netsniff-ng) floods 60-byte UDP frames at the NodePort from the
#        external client on every CPU; the backend counts what arrives with a raw-table
#        DROP rule in its own namespace (counted, then freed at once)
#   rr:  TCP request/response rate of one connection (tcp_rr)
# With NS_PERF=1 and perf installed, one extra run of each path is sampled and the
# CPU time per packet split by where it goes (node1's forwarding vs the rest). The
# whole path of a flooded packet (sender, veths, bridge, both nodes, the backend) runs
# in trafgen's context, softirqs included, so only its samples count: the machine's
# other load does not blur the split.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MN_TAG=ns$$
. "$HERE/../../scripts/multinode_lib.sh"
cleanup() {
	[ -n "${NS_KEEP_PERF:-}" ] && cp "$BL_WORK"/*.perf "$NS_KEEP_PERF"/ 2>/dev/null
	ip netns exec "${MN_TAG}n1-node" iptables -t nat -F 2>/dev/null
	mn_teardown
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
REPS=${REPS:-5}
SECS=${SECS:-2}
MODE=${BL_XDP_MODE:-native}
OUT=${NS_OUT:-$BL_ROOT/build/bench-northsouth.json}
N1=$(mn_ip 1)
N2=$(mn_ip 2)
NODE1=${MN_TAG}n1-node
POD=${MN_TAG}n2-b

if ! command -v trafgen >/dev/null; then
	echo "northsouth: trafgen (Debian netsniff-ng) is missing: make deps" >&2
	exit 1
fi
mn_up_uplink 2 "$MODE" || exit 1
mn_use 2
B=$(bl_pod_add b) || exit 1
bl_bg b "$BL_BIN/tcp_rr" -s 7000
bl_wait_port b 7000
ip netns exec "$POD" iptables -t raw -A PREROUTING -p udp --dport 5201 -j DROP
mn_nodeport ns 10.96.6.1 "$B" node2 rr/TCP/7000/7000/30090 pu/UDP/5201/5201/30091
for i in 1 2; do ip netns exec "${MN_TAG}n$i-node" ping -c1 -W1 "$MN_EXT_IP" >/dev/null 2>&1; done
ip netns exec "$NODE1" ping -c1 -W1 "$N2" >/dev/null 2>&1
for _ in $(seq 50); do
	mn_ext "$BL_BIN/tcp_rr" -c "$N1:30090" -t 0.3 -m rr 2>/dev/null | grep -q transactions && break
	sleep 0.1
done

# UDP frames to node1's NodePort from 64 source ports (64 flows, each seen again every
# 64 frames: steady state, no flow churn), as trafgen's config (UDP checksum 0: none)
mac() { ip -n "$1" -j link show "$2" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['address'])"; }
hexmac() { echo "$1" | sed 's/^/0x/; s/:/, 0x/g'; }
hexip() { echo "$1" | awk -F. '{printf "%d, %d, %d, %d", $1, $2, $3, $4}'; }
CFG=$BL_WORK/udp.cfg
cat >"$CFG" <<CFG
{
  $(hexmac "$(mac "$NODE1" uplink0)"), $(hexmac "$(mac "$MN_EXT" eth0)"), 0x08, 0x00,
  0x45, 0x00, const16(46), const16(0), 0x40, 0x00, 64, 17, csumip(14, 33),
  $(hexip "$MN_EXT_IP"), $(hexip "$N1"),
  0x9c, dinc(0x40, 0x7f), const16(30091), const16(26), const16(0),
  fill(0x61, 18),
}
CFG

rr() { mn_ext "$BL_BIN/tcp_rr" -c "$N1:30090" -t "$SECS" -m rr | awk '/transactions_per_second/ {print $2}'; }
arrived() { ip netns exec "$POD" iptables -t raw -nvxL PREROUTING | awk '/DROP/ {print $1; exit}'; }
# pps [perf.data]: the backend's arrivals per second over SECS, the flood running
# 0.5 s before and after (so neither its ramp nor its end is measured)
pps() {
	local gen a b t0 t1 prf=
	mn_ext timeout $((SECS + 2)) trafgen -i "$CFG" -o eth0 -t 0 --no-sock-mem --notouch-irq \
		--no-cpu-stats >/dev/null 2>&1 &
	gen=$!
	sleep 0.5
	a=$(arrived)
	t0=$(date +%s.%N)
	if [ -n "${1:-}" ]; then
		perf record -a -q -o "$1" -- sleep "$SECS" >/dev/null 2>&1 &
		prf=$!
	fi
	sleep "$SECS"
	b=$(arrived)
	t1=$(date +%s.%N)
	[ -n "$prf" ] && wait "$prf"
	wait "$gen"
	python3 -c "print(int(($b - $a) / ($t1 - $t0)))"
}

# iptables: what kube-proxy's rules do for this NodePort, done by the kernel
iptables_on() {
	mn_agent_stop 1
	"$BL_BIN/bpflet" --instance "${MN_TAG}n1" --netns "/var/run/netns/$NODE1" --cleanup >/dev/null 2>&1
	ip -n "$NODE1" route replace 10.244.2.0/24 via "$N2"
	for p in "tcp 30090 7000" "udp 30091 5201"; do
		set -- $p
		ip netns exec "$NODE1" iptables -t nat -A PREROUTING -d "$N1" -p "$1" --dport "$2" \
			-j DNAT --to-destination "$B:$3"
	done
	ip netns exec "$NODE1" iptables -t nat -A POSTROUTING -d "$B" -j MASQUERADE
}
iptables_off() {
	ip netns exec "$NODE1" iptables -t nat -F
	ip netns exec "$NODE1" conntrack -F >/dev/null 2>&1
	mn_agent_start 1 --uplink uplink0 --xdp-mode "$MODE" >/dev/null || exit 1
	sleep 0.5
}

: >"$BL_WORK/ns.txt"
for r in $(seq "$REPS"); do
	echo "rr xdp $(rr)" >>"$BL_WORK/ns.txt"
	echo "pps xdp $(pps)" >>"$BL_WORK/ns.txt"
	iptables_on
	echo "rr iptables $(rr)" >>"$BL_WORK/ns.txt"
	echo "pps iptables $(pps)" >>"$BL_WORK/ns.txt"
	iptables_off
done
PERF_FILES=()
if [ "${NS_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
	echo "perfpps xdp $(pps "$BL_WORK/xdp.perf")" >>"$BL_WORK/ns.txt"
	iptables_on
	echo "perfpps iptables $(pps "$BL_WORK/ipt.perf")" >>"$BL_WORK/ns.txt"
	PERF_FILES=("$BL_WORK/xdp.perf" "$BL_WORK/ipt.perf")
fi

python3 - "$BL_WORK/ns.txt" "$OUT" "$MODE" "$SECS" "${PERF_FILES[@]}" <<'PY'
import json, statistics, subprocess, sys
runs = {}
for line in open(sys.argv[1]):
    f, path, v = line.split()
    runs.setdefault((f, path), []).append(float(v or 0))
res = {"xdp_mode": sys.argv[3]}
print(f"{'north-south (NodePort → other node), XDP ' + sys.argv[3]:<48} {'median':>12} {'min..max':>22} {'ratio':>8}")
for f, label in (("rr", "TCP request/response (trans/s)"), ("pps", "UDP 60 B frames/s at the backend")):
    x, i = runs[(f, "xdp")], runs[(f, "iptables")]
    mx, mi = statistics.median(x), statistics.median(i)
    res[f] = {"xdp": x, "iptables": i, "ratio_xdp_to_iptables": mx / mi if mi else 0}
    print(f"{label + ' iptables DNAT+MASQ':<48} {mi:>12.0f} {min(i):>10.0f}..{max(i):<10.0f} {'1.000':>8}")
    print(f"{label + ' bpflet XDP':<48} {mx:>12.0f} {min(x):>10.0f}..{max(x):<10.0f} {mx/mi if mi else 0:>8.3f}")

# where the CPU goes: perf samples by kernel symbol, grouped by the stage they belong to
GROUPS = [
    ("node1 XDP program + XDP_TX", ("bpf_prog_", "xdp_", "bpf_xdp", "veth_xdp", "bpf_fib", "fib_table_lookup", "__xdp", "bq_")),
    ("netfilter (conntrack, NAT)", ("nf_", "nft_", "ipt_", "ipv4_conntrack", "__nf", "hash_conntrack", "iptable_", "ipt_do_table")),
    ("IP receive/forward/route", ("ip_", "__ip", "ip_route", "fib_", "ipv4_", "dst_", "neigh_", "ip_finish")),
    ("bridge", ("br_", "__br")),
    ("veth and skb handling", ("veth_", "__netif", "netif_", "napi_", "skb_", "__skb", "kfree_skb", "kmem_cache", "__alloc_skb", "build_skb", "dev_", "__dev", "consume_skb", "page_pool", "eth_type_trans", "__napi", "process_backlog", "net_rx_action", "gro_")),
    ("packet socket TX (trafgen)", ("tpacket", "packet_", "__packet")),
]
def split(perf_file):
    out = subprocess.run(["perf", "report", "-i", perf_file, "--stdio", "--no-children",
                          "--comms", "trafgen", "--percentage", "absolute", "--sort", "sym", "-q", "--percent-limit", "0"],
                         capture_output=True, text=True).stdout
    shares = {g: 0.0 for g, _ in GROUPS}
    shares["other (trafgen itself, locks, ...)"] = 0.0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or not parts[0].endswith("%"):
            continue
        pct, sym = float(parts[0][:-1]), parts[-1]
        for g, pre in GROUPS:
            if parts[1] == "[k]" and sym.startswith(pre):
                shares[g] += pct
                break
        else:
            shares["other (trafgen itself, locks, ...)"] += pct
    return shares
if len(sys.argv) > 5:
    secs, ncpu = float(sys.argv[4]), __import__("os").cpu_count()
    res["cpu_split_percent"] = {}
    print(f"\nCPU time in trafgen's context by stage (perf, % of {ncpu} CPUs x {secs:.0f} s), ns per packet at the backend:")
    for path, pf in (("xdp", sys.argv[5]), ("iptables", sys.argv[6])):
        sh = split(pf)
        p = runs[("perfpps", path)][0] or 1
        res["cpu_split_percent"][path] = sh
        print(f"  {path} ({p:.0f} pps):")
        for g, v in sh.items():
            print(f"    {g:<54} {v:6.1f} %  {v / 100 * ncpu * 1e9 / p:8.0f} ns/pkt")
        dp = sum(sh.values()) / 100 * ncpu * 1e9 / p
        res["cpu_split_percent"][path + "_datapath_ns_per_packet"] = dp
        print(f"    {'the whole data path (all of the above)':<54} {sum(sh.values()):6.1f} %  {dp:8.0f} ns/pkt")
    x, i = (res["cpu_split_percent"][k + "_datapath_ns_per_packet"] for k in ("xdp", "iptables"))
    res["datapath_cpu_ratio_iptables_to_xdp"] = i / x if x else 0
    print(f"  data-path CPU per packet, iptables / XDP: {i / x if x else 0:.2f}")
json.dump(res, open(sys.argv[2], "w"), indent=2)
print(f"results written to {sys.argv[2]}")
PY
