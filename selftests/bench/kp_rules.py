#!/usr/bin/env python3
"""kp_rules: kube-proxy's rule sets for the benchmark's Services, in the shape kube-proxy
writes them, so `make bench` can measure kube-proxy's dataplanes without running it.

  kp_rules.py iptables|nftables full   --services N [--endpoints K] [...]
  kp_rules.py iptables|nftables change --services N --drop-last   (or without: back to K)
  kp_rules.py bpflet               full   --services N ...          (manifests for the agent)

Service i (0-based) is bench/svc-i, ClusterIP 10.97.0.0 + i + 1, port "p" 80/TCP to
targetPort 7000. The LAST Service is the measured one: its endpoints are the real backend
pods (--target-eps) and it also has port "u" 53/UDP; the others point at never-contacted
addresses in 10.240.0.0/16. kube-proxy writes KUBE-SERVICES in Go map order (random);
we put the measured Service last, the worst place for a linear chain.

iptables: the iptables-restore input of kube-proxy's iptables proxier (KUBE-SERVICES ->
KUBE-SVC-<hash> -> KUBE-SEP-<hash>, statistic random probabilities, DNAT, KUBE-MARK-MASQ,
KUBE-POSTROUTING); "full" is a full sync, "change" is its partial sync after one
endpoint change (KUBE-SERVICES rewritten, only the changed Service's chains written,
the stale endpoint chain deleted), both for `iptables-restore --noflush`.
nftables: the `nft -f` transaction of kube-proxy's nftables proxier (table ip kube-proxy,
service-ips verdict map, service-/endpoint- chains, numgen random vmap, dnat, masquerade
mark); "full" re-adds and flushes every chain and map, "change" flushes and rewrites the
changed Service's chain, adds/deletes its endpoint chains.
"""
import argparse
import base64
import hashlib
import ipaddress
import sys

NS = "bench"
CLUSTER_CIDR = "10.240.0.0/12"  # holds the node's pod CIDR 10.244.0.0/24 too
MASQ = "0x4000"


def vip(i):
    return str(ipaddress.IPv4Address("10.97.0.0") + i + 1)


def b32sha(s):
    return base64.b32encode(hashlib.sha256(s.encode()).digest()).decode()


class Port:
    """One service port of one Service: name "ns/svc:port", proto, vip, port, endpoints."""

    def __init__(self, svc, pname, proto, port, tport, eps):
        self.svc, self.pname, self.proto, self.port, self.tport = svc, pname, proto, port, tport
        self.eps = eps  # list of endpoint IPs

    @property
    def spn(self):  # proxy.ServicePortName.String()
        return f"{NS}/{self.svc}:{self.pname}"

    # iptables proxier: base32(sha256(name + protocol))[:16]
    def ipt_svc(self):
        return "KUBE-SVC-" + b32sha(self.spn + self.proto)[:16]

    def ipt_sep(self, ep):
        return "KUBE-SEP-" + b32sha(self.spn + self.proto + f"{ep}:{self.tport}")[:16]

    # nftables proxier: hashAndTruncate("ns/name/proto/port")
    def _base(self):
        return f"{NS}/{self.svc}/{self.proto}/{self.pname}"

    @staticmethod
    def _hat(name):
        name = b32sha(name)[:8] + "-" + name
        return name if len(name) <= 200 else name[:197] + "..."

    def nft_svc(self):
        return "service-" + self._hat(self._base())

    def nft_ep(self, ep):
        return "endpoint-" + self._hat(f"{self._base()}__{ep}/{self.tport}")


def ports(args, drop_last=False):
    """Every service port, the measured Service's last."""
    out = []
    k = args.endpoints
    for i in range(args.services - 1):
        eps = [str(ipaddress.IPv4Address("10.240.0.0") + i * k + j + 1) for j in range(k)]
        out.append(Port(f"svc-{i}", "p", "tcp", 80, 7000, eps))
    t = args.services - 1
    eps = args.target_eps.split(",") if args.target_eps else [
        str(ipaddress.IPv4Address("10.240.0.0") + t * k + j + 1) for j in range(k)]
    if drop_last:
        eps = eps[:-1]
    out.append(Port(f"svc-{t}", "p", "tcp", 80, 7000, eps))
    out.append(Port(f"svc-{t}", "u", "udp", 53, 7000, eps))
    return out, t


# ---------------------------------------------------------------- iptables
def ipt_base():
    """The jumps kube-proxy installs once with `iptables -I` (not part of each restore)."""
    return "\n".join([
        "*filter",
        ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":KUBE-SERVICES - [0:0]", ":KUBE-FORWARD - [0:0]", ":KUBE-EXTERNAL-SERVICES - [0:0]",
        ":KUBE-NODEPORTS - [0:0]", ":KUBE-PROXY-FIREWALL - [0:0]",
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        "COMMIT",
        "*nat",
        ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
        ":KUBE-SERVICES - [0:0]", ":KUBE-POSTROUTING - [0:0]",
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "COMMIT", ""])


def ipt_filter():
    return [
        "*filter",
        ":KUBE-NODEPORTS - [0:0]", ":KUBE-SERVICES - [0:0]", ":KUBE-EXTERNAL-SERVICES - [0:0]",
        ":KUBE-FIREWALL - [0:0]", ":KUBE-FORWARD - [0:0]", ":KUBE-PROXY-FIREWALL - [0:0]",
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        "COMMIT"]


def ipt_svc_rules(p):
    """The KUBE-SVC chain and its KUBE-SEP chains for one service port."""
    svc, out = p.ipt_svc(), []
    c = f'-m comment --comment "{p.spn} cluster IP"'
    out.append(f"-A {svc} {c} -m {p.proto} -p {p.proto} -d {vip_of(p)}/32 --dport {p.port} "
               f"! -s {CLUSTER_CIDR} -j KUBE-MARK-MASQ")
    n = len(p.eps)
    for i, ep in enumerate(p.eps):
        rule = f'-A {svc} -m comment --comment "{p.spn} -> {ep}:{p.tport}"'
        if i < n - 1:
            rule += f" -m statistic --mode random --probability {1.0 / (n - i):0.10f}"
        out.append(rule + f" -j {p.ipt_sep(ep)}")
    for ep in p.eps:
        sep = p.ipt_sep(ep)
        out.append(f"-A {sep} -m comment --comment {p.spn} -s {ep}/32 -j KUBE-MARK-MASQ")
        out.append(f"-A {sep} -m comment --comment {p.spn} -m {p.proto} -p {p.proto} "
                   f"-j DNAT --to-destination {ep}:{p.tport}")
    return out


VIPS = {}


def vip_of(p):
    return VIPS[p.svc]


def ipt_nat(all_ports, written, stale_seps):
    """A nat table restore: KUBE-SERVICES in full, chains of `written` ports only."""
    decl = [":KUBE-SERVICES - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-POSTROUTING - [0:0]",
            ":KUBE-MARK-MASQ - [0:0]"]
    rules = [
        f"-A KUBE-POSTROUTING -m mark ! --mark {MASQ}/{MASQ} -j RETURN",
        f"-A KUBE-POSTROUTING -j MARK --xor-mark {MASQ}",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" '
        "-j MASQUERADE --random-fully",
        f"-A KUBE-MARK-MASQ -j MARK --or-mark {MASQ}"]
    for p in all_ports:
        rules.append(f'-A KUBE-SERVICES -m comment --comment "{p.spn} cluster IP" -m {p.proto} '
                     f"-p {p.proto} -d {vip_of(p)}/32 --dport {p.port} -j {p.ipt_svc()}")
    rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: '
                 'this must be the last rule in this chain" -m addrtype --dst-type LOCAL '
                 "-j KUBE-NODEPORTS")
    for p in written:
        decl.append(f":{p.ipt_svc()} - [0:0]")
        decl.extend(f":{p.ipt_sep(ep)} - [0:0]" for ep in p.eps)
        rules.extend(ipt_svc_rules(p))
    decl.extend(f":{s} - [0:0]" for s in stale_seps)
    rules.extend(f"-X {s}" for s in stale_seps)
    return ["*nat"] + decl + rules + ["COMMIT"]


# ---------------------------------------------------------------- nftables
T = "ip kube-proxy"


def nft_skeleton():
    return [
        f'add table {T} {{ comment "rules for kube-proxy" ; }}',
        f"add chain {T} mark-for-masquerade", f"flush chain {T} mark-for-masquerade",
        f"add rule {T} mark-for-masquerade mark set mark or {MASQ}",
        f"add chain {T} masquerading", f"flush chain {T} masquerading",
        f"add rule {T} masquerading mark and {MASQ} == 0 return",
        f"add rule {T} masquerading mark set mark xor {MASQ}",
        f"add rule {T} masquerading masquerade fully-random",
        f"add chain {T} services", f"flush chain {T} services",
        f"add chain {T} nat-prerouting {{ type nat hook prerouting priority -100 ; }}",
        f"flush chain {T} nat-prerouting",
        f"add rule {T} nat-prerouting jump services",
        f"add chain {T} nat-output {{ type nat hook output priority -100 ; }}",
        f"flush chain {T} nat-output",
        f"add rule {T} nat-output jump services",
        f"add chain {T} nat-postrouting {{ type nat hook postrouting priority 100 ; }}",
        f"flush chain {T} nat-postrouting",
        f"add rule {T} nat-postrouting jump masquerading",
        f"add chain {T} filter-forward {{ type filter hook forward priority -110 ; }}",
        f"flush chain {T} filter-forward",
        f"add chain {T} service-endpoints-check", f"flush chain {T} service-endpoints-check",
        f"add rule {T} filter-forward ct state new jump service-endpoints-check",
        f'add set {T} cluster-ips {{ type ipv4_addr ; comment "Active ClusterIPs" ; }}',
        f"flush set {T} cluster-ips",
        f"add map {T} service-ips {{ type ipv4_addr . inet_proto . inet_service : verdict ; "
        f'comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }}',
        f"flush map {T} service-ips",
        f"add map {T} service-nodeports {{ type inet_proto . inet_service : verdict ; "
        f'comment "NodePort traffic" ; }}',
        f"flush map {T} service-nodeports",
        f"add map {T} no-endpoint-services {{ type ipv4_addr . inet_proto . inet_service : "
        f'verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }}',
        f"flush map {T} no-endpoint-services",
        f"add rule {T} service-endpoints-check ip daddr . meta l4proto . th dport "
        f"vmap @no-endpoint-services",
        f"add rule {T} services ip daddr . meta l4proto . th dport vmap @service-ips",
        f"add rule {T} services fib daddr type local ip daddr != 127.0.0.0/8 "
        f"meta l4proto . th dport vmap @service-nodeports"]


def nft_svc(p):
    """Chain and endpoint chains of one service port (flushed first: idempotent)."""
    svc, out = p.nft_svc(), []
    for ep in p.eps:
        c = p.nft_ep(ep)
        out += [f"add chain {T} {c}", f"flush chain {T} {c}",
                f"add rule {T} {c} ip saddr {ep} jump mark-for-masquerade",
                f"add rule {T} {c} meta l4proto {p.proto} dnat to {ep}:{p.tport}"]
    out += [f"add chain {T} {svc}", f"flush chain {T} {svc}",
            f"add rule {T} {svc} ip daddr {vip_of(p)} {p.proto} dport {p.port} "
            f"ip saddr != {CLUSTER_CIDR} jump mark-for-masquerade"]
    vm = ", ".join(f"{i} : goto {p.nft_ep(ep)}" for i, ep in enumerate(p.eps))
    out.append(f"add rule {T} {svc} numgen random mod {len(p.eps)} vmap {{ {vm} }}")
    return out


def nft_elements(p):
    return [f"add element {T} service-ips {{ {vip_of(p)} . {p.proto} . {p.port} : "
            f"goto {p.nft_svc()} }}",
            f"add element {T} cluster-ips {{ {vip_of(p)} }}"]


# ---------------------------------------------------------------- bpflet manifests
def manifests(all_ports):
    """Services and EndpointSlices as the agent's --manifests YAML, one document each."""
    by_svc = {}
    for p in all_ports:
        by_svc.setdefault(p.svc, []).append(p)
    out = []
    for svc, ps in by_svc.items():
        pl = ", ".join(f"{{name: {p.pname}, port: {p.port}, protocol: {p.proto.upper()}, "
                       f"targetPort: {p.tport}}}" for p in ps)
        out += ["---", "apiVersion: v1", "kind: Service",
                f"metadata: {{name: {svc}, namespace: {NS}}}",
                f"spec: {{clusterIP: {vip_of(ps[0])}, ports: [{pl}]}}", "---",
                "apiVersion: discovery.k8s.io/v1", "kind: EndpointSlice",
                f"metadata: {{name: {svc}-1, namespace: {NS}, "
                f"labels: {{kubernetes.io/service-name: {svc}}}}}",
                "addressType: IPv4",
                "ports: [" + ", ".join(f"{{name: {p.pname}, port: {p.tport}, "
                                       f"protocol: {p.proto.upper()}}}" for p in ps) + "]",
                "endpoints:"]
        out += [f"  - {{addresses: [\"{ep}\"], conditions: {{ready: true}}}}" for ep in ps[0].eps]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["iptables", "nftables", "bpflet", "iptables-base"])
    ap.add_argument("what", choices=["full", "change", "target", "rest"], nargs="?",
                    default="full")
    ap.add_argument("--services", type=int, required=True)
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--target-eps", default="", help="comma-separated real backend IPs")
    ap.add_argument("--drop-last", action="store_true",
                    help="the measured Service without its last endpoint")
    args = ap.parse_args()
    if args.services < 1 or args.endpoints < 1:
        sys.exit("kp_rules: --services and --endpoints must be >= 1")
    for i in range(args.services):
        VIPS[f"svc-{i}"] = vip(i)
    all_ports, t = ports(args, args.drop_last)
    target = [p for p in all_ports if p.svc == f"svc-{t}"]
    if args.mode == "iptables-base":
        sys.stdout.write(ipt_base())
        return
    if args.mode == "bpflet":
        # "target": only the measured Service's file; "rest": every other Service
        sel = {"full": all_ports, "target": target,
               "rest": [p for p in all_ports if p.svc != f"svc-{t}"]}.get(args.what)
        if sel is None:
            sys.exit("kp_rules: bpflet takes full, target or rest")
        print("\n".join(manifests(sel)))
        return
    # a change toggles the measured Service's last endpoint: stale chains are those of
    # the endpoint the change removes (with --drop-last), none when it comes back
    before, _ = ports(args, not args.drop_last)
    gone = {(p.proto, ep) for p in before if p.svc == f"svc-{t}" for ep in p.eps} - \
        {(p.proto, ep) for p in target for ep in p.eps}
    stale = [q for q in before if q.svc == f"svc-{t}"]
    if args.mode == "iptables":
        if args.what == "full":
            lines = ipt_filter() + ipt_nat(all_ports, all_ports, [])
        elif args.what == "change":
            seps = [q.ipt_sep(ep) for q in stale for ep in q.eps if (q.proto, ep) in gone]
            lines = ipt_filter() + ipt_nat(all_ports, target, seps)
        else:
            sys.exit("kp_rules: iptables takes full or change")
    else:
        if args.what == "full":
            lines = nft_skeleton()
            for p in all_ports:
                lines += nft_svc(p) + nft_elements(p)
        elif args.what == "change":
            lines = []
            for p in target:
                lines += nft_svc(p)
            lines += [f"delete chain {T} {q.nft_ep(ep)}" for q in stale for ep in q.eps
                      if (q.proto, ep) in gone]
        else:
            sys.exit("kp_rules: nftables takes full or change")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
