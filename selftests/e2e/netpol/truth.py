#!/usr/bin/env python3
"""NetworkPolicy truth tables: three namespaces x three pods, TCP/UDP 80/81 servers,
every pod probing every other pod by pod IP and by ClusterIP (and the node probing
every pod), compared with the expected matrix of each scenario.

argv[1]: JSON {"node_ns", "manifests", "ctl", "instance", "pod_ns_prefix",
"pods": {key: {"ns", "name", "ip"}}, optional "kubectl": [argv...]}. Without
"kubectl" the objects are files in the agent's manifests directory; with it they are
created, relabelled and deleted through the Kubernetes API with kubectl apply, label
and delete, and the agent (on --kubeconfig) matches its pods' CNI registrations to the
API's Pod objects. Prints one "ok   - ..." or "FAIL - ..." line per check (the shell
test counts them).
"""
import json
import os
import subprocess
import sys
import time

CFG = json.load(open(sys.argv[1]))
PODS = CFG["pods"]  # "xa" -> {"ns": "x", "name": "a", "ip": ...}
KEYS = sorted(PODS)
for i, k in enumerate(KEYS):
    PODS[k]["vip"] = "10.96.1.%d" % (i + 1)
PORTS = [(80, "tcp"), (81, "tcp"), (80, "udp"), (81, "udp")]
AB_VIP = "10.96.1.100"
MAN = CFG["manifests"]
TIMEOUT = 0.6
SPORT_BASE = 20000
sport_next = {}  # per source: its own probes never reuse a source port


def say(ok, text):
    print(("ok   - " if ok else "FAIL - ") + text, flush=True)
    return ok


KUBECTL = CFG.get("kubectl")


def write(name, obj):
    path = os.path.join(MAN, name)
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.rename(path + ".tmp", path)


def kubectl(*args, stdin=None):
    out = subprocess.run(KUBECTL + list(args), input=stdin, capture_output=True, text=True,
                         timeout=60)
    if out.returncode:
        raise RuntimeError("kubectl %s: %s" % (" ".join(args), out.stderr.strip()))
    return out.stdout


def ctl(*args):
    out = subprocess.run([CFG["ctl"], "--instance", CFG["instance"], "-o", "json", *args],
                         capture_output=True, text=True, timeout=20)
    if out.returncode:
        raise RuntimeError("bpfletctl %s: %s" % (" ".join(args), out.stderr.strip()))
    return json.loads(out.stdout)


# ---- the cluster: namespaces, pods (labels, named ports), one Service per pod ----

NS_LABELS = {"x": {"ns": "x"}, "y": {"ns": "y"}, "z": {"ns": "z"}}
POD_LABELS = {k: {"pod": PODS[k]["name"]} for k in KEYS}


DELETED = set()  # pods whose Pod object is gone (the pod itself keeps running)


def base_objects():
    items = []
    for ns, labels in NS_LABELS.items():
        items.append({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": ns, "labels": labels}})
    for k in KEYS:
        p = PODS[k]
        ports = [{"name": "serve-%d-%s" % (port, proto), "containerPort": port,
                  "protocol": proto.upper()} for port, proto in PORTS]
        if k not in DELETED:
            items.append({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": p["name"], "namespace": p["ns"],
                                       "labels": POD_LABELS[k]},
                          "spec": {"nodeName": "node", "containers": [
                              {"name": "c", "image": "none", "ports": ports}]}})
        sports = [{"name": "%s-%d" % (proto, port), "port": port, "targetPort": port,
                   "protocol": proto.upper()} for port, proto in PORTS]
        items.append({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": "s-" + p["name"], "namespace": p["ns"]},
                      "spec": {"clusterIP": p["vip"], "ports": sports}})
        items.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"name": "s-%s-1" % p["name"], "namespace": p["ns"],
                                   "labels": {"kubernetes.io/service-name": "s-" + p["name"]}},
                      "addressType": "IPv4",
                      "ports": [{"name": s["name"], "port": s["port"],
                                 "protocol": s["protocol"]} for s in sports],
                      "endpoints": [{"addresses": [p["ip"]], "conditions": {"ready": True}}]})
    # one Service in front of x/a and x/b, for policy trace through a ClusterIP
    items.append({"apiVersion": "v1", "kind": "Service",
                  "metadata": {"name": "s-ab", "namespace": "x"},
                  "spec": {"clusterIP": AB_VIP, "ports": [{"name": "tcp-80", "port": 80,
                                                            "protocol": "TCP"}]}})
    items.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                  "metadata": {"name": "s-ab-1", "namespace": "x",
                               "labels": {"kubernetes.io/service-name": "s-ab"}},
                  "addressType": "IPv4",
                  "ports": [{"name": "tcp-80", "port": 80, "protocol": "TCP"}],
                  "endpoints": [{"addresses": [PODS[k]["ip"]], "conditions": {"ready": True}}
                                for k in ("xa", "xb")]})
    return {"apiVersion": "v1", "kind": "List", "items": items}


APPLIED = {"ns": {}, "pods": {}, "deleted": set(), "pols": set()}  # what the API holds


def write_base():
    """The cluster's objects as NS_LABELS, POD_LABELS and DELETED say: one file, or
    through the API only what changed (kubectl label / delete / apply)."""
    if not KUBECTL:
        write("base.json", base_objects())
        return
    if not APPLIED["ns"] or APPLIED["deleted"] - DELETED:
        kubectl("apply", "--validate=false", "-f", "-", stdin=json.dumps(base_objects()))
        APPLIED["ns"] = json.loads(json.dumps(NS_LABELS))
        APPLIED["pods"] = json.loads(json.dumps(POD_LABELS))
        APPLIED["deleted"] = set(DELETED)
    for kind, have, want, name_of in (
            ("namespace", APPLIED["ns"], NS_LABELS, lambda n: (None, n)),
            ("pod", APPLIED["pods"], POD_LABELS, lambda k: (PODS[k]["ns"], PODS[k]["name"]))):
        for key, labels in want.items():
            if kind == "pod" and key in DELETED:
                continue
            old = have.get(key, {})
            args = ["%s=%s" % (l, v) for l, v in sorted(labels.items()) if old.get(l) != v]
            args += ["%s-" % l for l in sorted(old) if l not in labels]
            if not args:
                continue
            ns, name = name_of(key)
            kubectl("label", "--overwrite", kind, name, *(["-n", ns] if ns else []), *args)
            have[key] = dict(labels)
    for k in sorted(DELETED - APPLIED["deleted"]):
        # no kubelet here to finish a graceful deletion: the object goes at once
        kubectl("delete", "pod", "-n", PODS[k]["ns"], PODS[k]["name"], "--grace-period=0",
                "--force")
        APPLIED["deleted"].add(k)


# ---- policies ----

def np(ns, name, sel, ingress=None, egress=None, types=None):
    spec = {"podSelector": sel}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    if types is not None:
        spec["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def lbl(**kv):
    return {"matchLabels": kv}


def ip_of(k):
    return PODS[k]["ip"]


ALL = {}


def write_policies(pols):
    """Exactly these NetworkPolicies: one file, or kubectl apply (new and changed ones)
    and kubectl delete (the rest)."""
    if not KUBECTL:
        write("policies.json", {"apiVersion": "v1", "kind": "List", "items": pols})
        return
    want = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pols}
    if pols:
        kubectl("apply", "--validate=false", "-f", "-",
                stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": pols}))
    by_ns = {}
    for ns, name in APPLIED["pols"] - want:
        by_ns.setdefault(ns, []).append(name)
    for ns, names in sorted(by_ns.items()):
        kubectl("delete", "networkpolicy", "-n", ns, *sorted(names))
    APPLIED["pols"] = want


# ---- probing ----

def probe_round():
    """{(src, dst, port, proto, via): answered correctly?}; src "node" for the node."""
    jobs, want = {}, {}
    for src in KEYS + ["node"]:
        probes = []
        sport = sport_next.get(src, SPORT_BASE)
        for dst in KEYS:
            if dst == src:
                continue  # a pod's traffic to itself never leaves it
            for port, proto in PORTS:
                for via in (["ip", "vip"] if src != "node" else ["ip"]):
                    pid = "%s|%s|%d|%s|%s" % (src, dst, port, proto, via)
                    addr = PODS[dst]["ip"] if via == "ip" else PODS[dst]["vip"]
                    probes.append({"id": pid, "ip": addr, "port": port, "proto": proto,
                                   "sport": sport})
                    sport += 1
                    want[pid] = PODS[dst]["name"]
        ns = CFG["node_ns"] if src == "node" else CFG["pod_ns_prefix"] + src
        here = os.path.dirname(os.path.abspath(__file__))
        jobs[src] = subprocess.Popen(["ip", "netns", "exec", ns, "python3",
                                      os.path.join(here, "probe.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        jobs[src].stdin.write(json.dumps({"timeout": TIMEOUT, "probes": probes}))
        jobs[src].stdin.close()
        sport_next[src] = sport
        if sport > 65000:
            raise RuntimeError("out of unique source ports")
    got = {}
    for src, j in jobs.items():
        out = j.stdout.read()
        j.wait(timeout=30)
        for pid, name in json.loads(out or "{}").items():
            got[tuple(pid.split("|"))] = name == want[pid]
    return got


def mismatches(expect):
    got = probe_round()
    bad = []
    for (src, dst, port, proto, via), ok in sorted(got.items()):
        exp = True if src == "node" else bool(expect(src, dst, int(port), proto))
        if ok != exp:
            bad.append("%s->%s %s/%s via %s: %s, expected %s" % (
                src, dst, port, proto, via, "allowed" if ok else "denied",
                "allowed" if exp else "denied"))
    return bad, len(got)


def policy_state():
    """What the maps say, counters left out: the isolated endpoints with their rules."""
    lst = ctl("policy", "list")
    eps = [ctl("policy", "get", e["ip"]) for e in lst["endpoints"]]
    return json.dumps([[r["rule"] for r in lst["rules"]], eps], sort_keys=True)


def settle(before, changes):
    """Wait until the agent has rewritten the policy maps (when a change is expected)."""
    for _ in range(60):
        if not changes or policy_state() != before:
            return True
        time.sleep(0.05)
    return False


def run_step(title, expect, changes=True, before=None):
    if not settle(before, changes):
        return say(False, "%s: the policy maps never changed" % title)
    for attempt in range(4):
        bad, n = mismatches(expect)
        if not bad:
            return say(True, "%s: %d probes match the expected matrix" % (title, n))
        time.sleep(0.5)  # a second inotify pass may still be on its way
    for b in bad[:12]:
        print("#   " + b)
    return say(False, "%s: %d of %d probes differ from the expected matrix" % (title, len(bad), n))


def reset():
    write_policies([])
    changed = NS_LABELS != BASE_NS or POD_LABELS != BASE_PODS or bool(DELETED)
    for d, base in ((NS_LABELS, BASE_NS), (POD_LABELS, BASE_PODS)):
        d.clear()
        d.update(json.loads(json.dumps(base)))
    DELETED.clear()
    if changed:
        write_base()
    for _ in range(60):
        st = ctl("policy", "list")
        if not st["endpoints"]:
            return True
        time.sleep(0.05)
    return False


BASE_NS = json.loads(json.dumps(NS_LABELS))
BASE_PODS = json.loads(json.dumps(POD_LABELS))


# ---- scenarios: (name, [(policies, label changes fn or None, expect fn), ...]) ----

def ns(k):
    return k[0]


def pod(k):
    return k[1]


ANY = {}
XA = lbl(pod="a")
S = []


def scen(name, *steps):
    S.append((name, steps))


scen("default deny ingress in x",
     ([np("x", "deny", ANY, ingress=[], types=["Ingress"])], None,
      lambda s, d, p, t: ns(d) != "x"))
scen("default deny egress in x",
     ([np("x", "deny", ANY, egress=[], types=["Egress"])], None,
      lambda s, d, p, t: ns(s) != "x"))
scen("default deny both directions in x",
     ([np("x", "deny", ANY, types=["Ingress", "Egress"])], None,
      lambda s, d, p, t: ns(s) != "x" and ns(d) != "x"))
scen("policyTypes defaults to Ingress without egress rules",
     ([np("x", "deny", ANY)], None, lambda s, d, p, t: ns(d) != "x"))
scen("allow ingress within namespace x",
     ([np("x", "same-ns", ANY, ingress=[{"from": [{"podSelector": {}}]}])], None,
      lambda s, d, p, t: ns(d) != "x" or ns(s) == "x"))
scen("allow ingress to x/a from x/b only",
     ([np("x", "from-b", XA, ingress=[{"from": [{"podSelector": lbl(pod="b")}]}])], None,
      lambda s, d, p, t: d != "xa" or s == "xb"))
scen("allow ingress to x/a from namespace y",
     ([np("x", "from-y", XA, ingress=[{"from": [{"namespaceSelector": lbl(ns="y")}]}])], None,
      lambda s, d, p, t: d != "xa" or ns(s) == "y"))
scen("namespaceSelector and podSelector in one peer (AND)",
     ([np("x", "and", XA, ingress=[{"from": [{"namespaceSelector": lbl(ns="y"),
                                               "podSelector": lbl(pod="b")}]}])], None,
      lambda s, d, p, t: d != "xa" or s == "yb"))
scen("namespaceSelector and podSelector as two peers (OR)",
     ([np("x", "or", XA, ingress=[{"from": [{"namespaceSelector": lbl(ns="y")},
                                              {"podSelector": lbl(pod="b")}]}])], None,
      lambda s, d, p, t: d != "xa" or ns(s) == "y" or s == "xb"))
scen("namespace matched by kubernetes.io/metadata.name",
     ([np("x", "by-name", XA, ingress=[{"from": [{"namespaceSelector": {
         "matchLabels": {"kubernetes.io/metadata.name": "z"}}}]}])], None,
      lambda s, d, p, t: d != "xa" or ns(s) == "z"))
scen("empty namespaceSelector with podSelector: pod c of every namespace",
     ([np("x", "all-c", XA, ingress=[{"from": [{"namespaceSelector": {},
                                                 "podSelector": lbl(pod="c")}]}])], None,
      lambda s, d, p, t: d != "xa" or pod(s) == "c"))
scen("matchExpressions In on the namespace",
     ([np("x", "expr", XA, ingress=[{"from": [{"namespaceSelector": {"matchExpressions": [
         {"key": "ns", "operator": "In", "values": ["y", "z"]}]}}]}])], None,
      lambda s, d, p, t: d != "xa" or ns(s) in "yz"))
scen("ingress: [{}] allows everything",
     ([np("x", "all", XA, ingress=[{}])], None, lambda s, d, p, t: True))
scen("ingress: [] on one pod denies only it",
     ([np("x", "none", XA, ingress=[])], None, lambda s, d, p, t: d != "xa"))
scen("ingress on TCP port 80 only",
     ([np("x", "tcp80", XA, ingress=[{"ports": [{"port": 80, "protocol": "TCP"}]}])], None,
      lambda s, d, p, t: d != "xa" or (p, t) == (80, "tcp")))
scen("ingress on UDP port 81 only",
     ([np("x", "udp81", XA, ingress=[{"ports": [{"port": 81, "protocol": "UDP"}]}])], None,
      lambda s, d, p, t: d != "xa" or (p, t) == (81, "udp")))
scen("ports without protocol default to TCP",
     ([np("x", "p81", XA, ingress=[{"ports": [{"port": 81}]}])], None,
      lambda s, d, p, t: d != "xa" or (p, t) == (81, "tcp")))
scen("named port serve-81-tcp",
     ([np("x", "named", XA, ingress=[{"ports": [{"port": "serve-81-tcp"}]}])], None,
      lambda s, d, p, t: d != "xa" or (p, t) == (81, "tcp")))
scen("named port serve-80-udp with protocol UDP",
     ([np("x", "named-udp", XA, ingress=[{"ports": [{"port": "serve-80-udp",
                                                     "protocol": "UDP"}]}])], None,
      lambda s, d, p, t: d != "xa" or (p, t) == (80, "udp")))
scen("endPort range 80-81 TCP",
     ([np("x", "range", XA, ingress=[{"ports": [{"port": 80, "endPort": 81,
                                                 "protocol": "TCP"}]}])], None,
      lambda s, d, p, t: d != "xa" or t == "tcp"))
scen("endPort range 81-90 UDP",
     ([np("x", "range-udp", XA, ingress=[{"ports": [{"port": 81, "endPort": 90,
                                                     "protocol": "UDP"}]}])], None,
      lambda s, d, p, t: d != "xa" or (p, t) == (81, "udp")))
scen("ipBlock of one pod's /32",
     ([np("x", "ipblock", XA, ingress=[{"from": [{"ipBlock": {
         "cidr": ip_of("yb") + "/32"}}]}])], None,
      lambda s, d, p, t: d != "xa" or s == "yb"))
scen("ipBlock with except",
     ([np("x", "except", XA, ingress=[{"from": [{"ipBlock": {
         "cidr": "10.244.0.0/24", "except": [ip_of("xb") + "/32", ip_of("zc") + "/32"]}}]}])],
      None, lambda s, d, p, t: d != "xa" or s not in ("xb", "zc")))
scen("egress only: x/a may reach pod c of every namespace",
     ([np("x", "eg-c", XA, egress=[{"to": [{"namespaceSelector": {},
                                             "podSelector": lbl(pod="c")}]}],
          types=["Egress"])], None,
      lambda s, d, p, t: s != "xa" or pod(d) == "c"))
scen("egress ipBlock podIP/32 also allows that pod's ClusterIP",
     ([np("x", "eg-ip", XA, egress=[{"to": [{"ipBlock": {"cidr": ip_of("zc") + "/32"}}]}],
          types=["Egress"])],
      None, lambda s, d, p, t: s != "xa" or d == "zc"))
scen("egress on TCP 81 only",
     ([np("x", "eg-81", XA, egress=[{"ports": [{"port": 81, "protocol": "TCP"}]}],
          types=["Egress"])], None,
      lambda s, d, p, t: s != "xa" or (p, t) == (81, "tcp")))
scen("egress named port resolved on each destination pod",
     ([np("x", "eg-named", XA, egress=[{"ports": [{"port": "serve-80-udp",
                                                   "protocol": "UDP"}]}],
          types=["Egress"])], None,
      lambda s, d, p, t: s != "xa" or (p, t) == (80, "udp")))
scen("two policies on one pod: union of their rules",
     ([np("x", "from-y", XA, ingress=[{"from": [{"namespaceSelector": lbl(ns="y")}]}]),
       np("x", "from-zb", XA, ingress=[{"from": [{"namespaceSelector": lbl(ns="z"),
                                                  "podSelector": lbl(pod="b")}]}])], None,
      lambda s, d, p, t: d != "xa" or ns(s) == "y" or s == "zb"))
scen("both ends must allow: y egress to x only, x ingress from y/a only",
     ([np("y", "eg-x", ANY, egress=[{"to": [{"namespaceSelector": lbl(ns="x")}]}],
          types=["Egress"]),
       np("x", "in-ya", ANY, ingress=[{"from": [{"namespaceSelector": lbl(ns="y"),
                                                 "podSelector": lbl(pod="a")}]}])], None,
      lambda s, d, p, t: (ns(s) != "y" or ns(d) == "x") and (ns(d) != "x" or s == "ya")))
scen("ingress and egress on x/a limited to x/b; replies pass",
     ([np("x", "pair", XA, ingress=[{"from": [{"podSelector": lbl(pod="b")}]}],
          egress=[{"to": [{"podSelector": lbl(pod="b")}]}])], None,
      lambda s, d, p, t: (d != "xa" or s == "xb") and (s != "xa" or d == "xb")))
scen("egress rules without policyTypes isolate ingress too (upstream default)",
     ([np("x", "eg-only", XA, egress=[{"to": [{"podSelector": lbl(pod="b")}]}])], None,
      lambda s, d, p, t: d != "xa" and (s != "xa" or d == "xb")))
scen("egress: [] in z with Egress type",
     ([np("z", "no-eg", ANY, egress=[], types=["Egress"])], None,
      lambda s, d, p, t: ns(s) != "z"))
scen("policy update: from y, then from z",
     ([np("x", "upd", XA, ingress=[{"from": [{"namespaceSelector": lbl(ns="y")}]}])], None,
      lambda s, d, p, t: d != "xa" or ns(s) == "y"),
     ([np("x", "upd", XA, ingress=[{"from": [{"namespaceSelector": lbl(ns="z")}]}])], None,
      lambda s, d, p, t: d != "xa" or ns(s) == "z"))
scen("policy deletion restores default allow",
     ([np("x", "deny", ANY, ingress=[])], None, lambda s, d, p, t: ns(d) != "x"),
     ([], None, lambda s, d, p, t: True))


def label_pod(k, **kv):
    def f():
        POD_LABELS[k].update(kv)
    return f


def label_ns(n, **kv):
    def f():
        NS_LABELS[n].update(kv)
    return f


scen("pod label change: y/a gains role=client",
     ([np("x", "clients", XA, ingress=[{"from": [{"namespaceSelector": {},
                                                  "podSelector": lbl(role="client")}]}])],
      None, lambda s, d, p, t: d != "xa"),
     (None, label_pod("ya", role="client"), lambda s, d, p, t: d != "xa" or s == "ya"))
scen("namespace label change: z gains team=blue",
     ([np("x", "blue", XA, ingress=[{"from": [{"namespaceSelector": lbl(team="blue")}]}])],
      None, lambda s, d, p, t: d != "xa"),
     (None, label_ns("z", team="blue"), lambda s, d, p, t: d != "xa" or ns(s) == "z"))
scen("selected pod loses its label: x/a no longer isolated",
     ([np("x", "only-a", XA, ingress=[])], None, lambda s, d, p, t: d != "xa"),
     (None, label_pod("xa", pod="renamed"), lambda s, d, p, t: True))


def delete_pod(k):
    def f():
        DELETED.add(k)
    return f


scen("Pod object deleted: the pod keeps its address, not its labels",
     ([np("x", "from-b", XA, ingress=[{"from": [{"podSelector": lbl(pod="b")}]}])], None,
      lambda s, d, p, t: d != "xa" or s == "xb"),
     (None, delete_pod("xb"), lambda s, d, p, t: d != "xa"))
scen("Pod object of a selected pod deleted: no longer isolated",
     ([np("x", "only-a", XA, ingress=[])], None, lambda s, d, p, t: d != "xa"),
     (None, delete_pod("xa"), lambda s, d, p, t: True))


def trace_checks():
    """policy trace/get/list against a known state, read as JSON."""
    ok = True
    write_policies([np("x", "from-b", XA, ingress=[{"from": [{"podSelector": lbl(pod="b")}],
                                                     "ports": [{"port": 80}]}])])
    settle(policy_state(), True)
    time.sleep(0.3)
    tr = ctl("policy", "trace", "--from", "x/b", "--to", "x/a:80/tcp")
    ok &= say(tr["verdict"] == "allow" and tr["ingress"]["reason"] == "x/from-b ingress[0]"
              and tr["egress"]["reason"] == "not isolated",
              "policy trace x/b -> x/a:80/tcp: allow by x/from-b ingress[0]")
    tr = ctl("policy", "trace", "--from", "y/b", "--to", "x/a:80/tcp")
    ok &= say(tr["verdict"] == "deny" and tr["ingress"]["reason"] == "default deny",
              "policy trace y/b -> x/a:80/tcp: default deny")
    tr = ctl("policy", "trace", "--from", ip_of("xb"), "--to", ip_of("xa") + ":81/tcp")
    ok &= say(tr["verdict"] == "deny", "policy trace by address, port 81 not allowed: deny")
    tr = ctl("policy", "trace", "--from", "x/a", "--to", "y/c:80/udp")
    ok &= say(tr["verdict"] == "allow" and tr["ingress"]["reason"] == "not isolated",
              "policy trace to a pod no policy selects: not isolated")
    # through a ClusterIP: translated to the Service's backends, one answer each
    vip = PODS["xa"]["vip"]
    tr = ctl("policy", "trace", "--from", "x/b", "--to", vip + ":80/tcp")
    b = tr.get("backends", [{}])
    ok &= say(tr["verdict"] == "allow" and tr["service"]["name"] == "x/s-a:tcp-80"
              and len(b) == 1 and b[0]["backend"] == ip_of("xa") + ":80"
              and b[0].get("pod") == "x/a" and b[0]["ingress"]["reason"] == "x/from-b ingress[0]",
              "policy trace x/b -> ClusterIP %s:80: backend x/a, allowed by x/from-b ingress[0]"
              % vip)
    tr = ctl("policy", "trace", "--from", "y/b", "--to", vip + ":80")
    ok &= say(tr["verdict"] == "deny" and tr["ingress"]["reason"] == "default deny",
              "policy trace y/b -> ClusterIP of x/a: default deny at its backend")
    tr = ctl("policy", "trace", "--from", "x/c", "--to", AB_VIP + ":80/tcp")
    per = {x.get("pod"): (x["verdict"], x["ingress"]["reason"]) for x in tr.get("backends", [])}
    ok &= say(tr["verdict"] == "mixed" and per == {
        "x/a": ("deny", "default deny"), "x/b": ("allow", "not isolated")},
        "policy trace x/c -> a two-backend ClusterIP: x/a denies, x/b allows (got %s)"
        % json.dumps(per))
    tr = ctl("policy", "trace", "--from", "x/c", "--to", AB_VIP + ":80/tcp", "--backend", "x/b")
    ok &= say(tr["verdict"] == "allow" and [x["pod"] for x in tr["backends"]] == ["x/b"],
              "policy trace --backend x/b answers for that backend only")
    try:
        ctl("policy", "trace", "--from", "x/c", "--to", AB_VIP + ":80/tcp", "--backend", "y/a")
        ok &= say(False, "policy trace --backend y/a (not a backend) was answered")
    except RuntimeError as e:
        ok &= say("not a backend" in str(e), "policy trace --backend of another pod: %s" % e)
    g = ctl("policy", "get", "x/a")
    allow = g["ingress"]["allow"]
    ok &= say(g["ingress"]["isolated"] and not g["egress"]["isolated"] and len(allow) == 1
              and allow[0]["ports"] == "TCP/80" and allow[0]["peer"] == ["x/b"],
              "policy get x/a: ingress isolated, one rule TCP/80 from x/b (got %s)"
              % json.dumps(allow))
    bad, _ = mismatches(lambda s, d, p, t: d != "xa" or (s == "xb" and (p, t) == (80, "tcp")))
    ok &= say(not bad, "traffic matches the traced policy")
    lst = ctl("policy", "list")
    rule = [r for r in lst["rules"] if r["rule"] == "x/from-b ingress[0]"]
    ok &= say(len(rule) == 1 and rule[0]["packets"] >= 4 and rule[0]["bytes"] > 0,
              "policy list: rule counters saw the allowed connections (%s)" % json.dumps(rule))
    eps = [e for e in lst["endpoints"] if e["pod"] == "x/a"]
    ok &= say(len(lst["endpoints"]) == 1 and eps and eps[0]["ingress_isolated"],
              "policy list: x/a is the only isolated endpoint")
    return ok


def main():
    write_base()
    write_policies([])
    # every Service programmed before the first matrix
    for _ in range(100):
        svcs = ctl("service", "list")
        if sum(1 for s in svcs if s["backends"]) >= 4 * len(KEYS):
            break
        time.sleep(0.05)
    run_step("netpol: no policy, every pod reaches every pod", lambda s, d, p, t: True,
             changes=False)
    only = os.environ.get("NETPOL_ONLY", "")
    for name, steps in S:
        if only not in name:
            continue
        if not reset():
            say(False, "netpol %s: the previous policies were not removed" % name)
            continue
        for i, (pols, change, expect) in enumerate(steps):
            before = policy_state()
            if change:
                change()
                write_base()
            if pols is not None:
                write_policies(pols)
            title = "netpol %s%s" % (name, " (step %d)" % (i + 1) if len(steps) > 1 else "")
            # a step that only removes policies or only relabels may leave the same maps
            run_step(title, expect, changes=True, before=before)
    reset()
    trace_checks()
    reset()
    print("# scenarios: %d" % len(S))


main()
