#!/usr/bin/env python3
"""kp_report: kp_bench.sh's results as a table of ratios and JSON, and the plot's data.

  kp_report.py summarize RESULTS.txt OUT.json [--endpoints K ...]
      RESULTS.txt lines are "N figure path value..." as kp_bench.sh records them.
      Prints the table (median, min..max over the repetitions, ratio to the direct
      path's median), checks that every path delivered to its backends and was the only
      translation on its node, writes OUT.json; exits 1 if a check failed.
  kp_report.py plotdata OUT.json DIR
      One whitespace table per figure in DIR (N, then each dataplane's median) for
      kp_plot.gp.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

PATHS = ["direct", "bpflet", "iptables", "nftables"]
TRAFFIC = [  # figure, label, unit, higher is better
    ("rr", "TCP request/response", "trans/s", True),
    ("crr", "new connections (connect+RR+close)", "conn/s", True),
    ("connect_p50_us", "connect() latency p50", "us", False),
    ("connect_p99_us", "connect() latency p99", "us", False),
    ("udp", "UDP request/response", "trans/s", True),
]
CONTROL = [  # figure, label, the dataplanes' rows
    ("change_ms", "one endpoint change applied",
     ["bpflet", "bpflet-agent-sync", "iptables", "nftables"]),
    ("full_sync_ms", "full sync",
     ["bpflet", "bpflet-agent-sync", "iptables", "nftables", "iptables-nft"]),
]
ROW_NAMES = {
    "bpflet": "bpflet (edit -> map)", "bpflet-agent-sync": "bpflet agent sync only",
    "bpflet-start": "bpflet (agent start -> map)",
    "iptables": "iptables-legacy-restore", "nftables": "nft -f",
    "iptables-nft": "iptables-nft-restore",
}


def stats(v):
    return {"samples": v, "median": statistics.median(v), "min": min(v), "max": max(v)}


def si(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e4:
        return f"{x / 1e3:.1f}k"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def load(path):
    """{N: {figure: {path: [values]}}}, verify rows, isolation rows."""
    data, verify, iso, extra = {}, {}, {}, {}
    for line in open(path):
        f = line.split()
        if len(f) < 4:
            continue
        n, fig, p = int(f[0]), f[1], f[2]
        if fig == "verify":
            verify.setdefault(n, {}).setdefault(p, []).append([int(x) for x in f[3:6]])
        elif fig == "isolation":
            iso.setdefault(n, {})[p] = [int(x) for x in f[3:6]]
        elif fig == "ipt_dnat_rules_hit":
            extra.setdefault(n, {})[fig] = int(f[3])
        else:
            try:
                data.setdefault(n, {}).setdefault(fig, {}).setdefault(p, []).append(float(f[3]))
            except ValueError:
                data.setdefault(n, {}).setdefault(fig, {}).setdefault(p, [])
    return data, verify, iso, extra


def checks_for(n, data, verify, iso, extra, eps):
    """(name, ok) pairs: each path delivered to its backends, and alone on its node."""
    out = []
    figs = data.get(n, {})
    for p in PATHS:
        rows = verify.get(n, {}).get(p, [])
        tcp = [r[1] for r in rows]
        udp = [r[2] for r in rows]
        crr = sum(figs.get("crr_total", {}).get(p, []))
        udps = sum(figs.get("udp_total", {}).get(p, []))
        got = [v for v in figs.get("crr", {}).get(p, []) if v > 0]
        out.append((f"N={n} {p}: every traffic run got answers",
                     all(len([v for v in figs.get(m, {}).get(p, []) if v > 0]) ==
                         len(figs.get(m, {}).get(p, [])) > 0 for m in ("rr", "crr", "udp"))
                     and bool(got)))
        out.append((f"N={n} {p}: the backends accepted >= the {int(crr)} connections made",
                     len(rows) == eps and sum(tcp) >= crr > 0))
        out.append((f"N={n} {p}: the backends received >= the {int(udps)} UDP requests answered",
                     sum(udp) >= udps > 0))
        want = 1 if p == "direct" else eps
        out.append((f"N={n} {p}: {want} of {eps} backends got connections",
                    len([t for t in tcp if t > 0]) == want))
        i = iso.get(n, {}).get(p)
        if i is None:
            out.append((f"N={n} {p}: isolation recorded", False))
            continue
        progs, ipt, nft = i
        alone = {"direct": (progs, ipt, nft) == (0, 0, 0),
                 "bpflet": progs > 0 and (ipt, nft) == (0, 0),
                 "iptables": progs == 0 and ipt > 0 and nft == 0,
                 "nftables": (progs, ipt, nft) == (0, 0, 1)}[p]
        out.append((f"N={n} {p}: the only translation on its node "
                    f"(tc_pod programs {progs}, iptables-legacy tables {ipt}, nft tables {nft})",
                    alone))
    hit = extra.get(n, {}).get("ipt_dnat_rules_hit", -1)
    out.append((f"N={n} iptables: {hit} of {eps} DNAT rules of the measured Service counted packets",
                hit == eps))
    return out


def summarize(a):
    data, verify, iso, extra = load(a.results)
    ns = sorted(data)
    res = {"date": a.date or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": machine(), "settings": {
               "services": ns, "endpoints": a.endpoints, "reps": a.reps, "secs": a.secs,
               "slice_ms": a.slice_ms,
               "changes": a.changes, "sync_reps": a.sync_reps, "sync_reps_10k": a.sync_reps_big,
               "iptables": "iptables-legacy (iptables-nft-restore full sync timed up to 1k)",
               "run_seconds": a.seconds},
           "n": {}}
    checks = []
    for n in ns:
        figs = data[n]
        r = res["n"][str(n)] = {"traffic": {}, "control": {}, "verify": verify.get(n, {}),
                                 "isolation": iso.get(n, {}), **extra.get(n, {})}
        for fig, _, _, _ in TRAFFIC:
            d = figs.get(fig, {}).get("direct") or [0]
            r["traffic"][fig] = {}
            for p in PATHS:
                v = figs.get(fig, {}).get(p) or [0]
                s = stats(v)
                # the paths of one round ran in the same seconds: their ratio is paired
                q = [x / y if y else 0 for x, y in zip(v, d)] or [0]
                s.update(ratio=statistics.median(q), ratio_min=min(q), ratio_max=max(q),
                         ratio_samples=q)
                r["traffic"][fig][p] = s
        for fig, _, rows in CONTROL:
            r["control"][fig] = {p: stats(figs[fig][p]) for p in rows if figs.get(fig, {}).get(p)}
        checks += checks_for(n, data, verify, iso, extra, a.endpoints)
    res["checks"] = [{"check": c, "ok": ok} for c, ok in checks]
    print_table(res, ns)
    bad = [c for c, ok in checks if not ok]
    print(f"\nchecks: {len(checks) - len(bad)} of {len(checks)} hold")
    for c in bad:
        print(f"CHECK FAILED: {c}")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    json.dump(res, open(a.out, "w"), indent=1)
    print(f"results written to {a.out}")
    return 1 if bad else 0


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:  # the 15-minute figure spans most of a run
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = []
    return {"cpus": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "loadavg_1_5_15_at_end": load,
            "note": "VM shared with other jobs running at the same time"}


def print_table(res, ns):
    s = res["settings"]
    w = 30
    print(f"\nkube-proxy side by side, {s['endpoints']} endpoints per Service, {s['reps']} rounds "
          f"of {s['secs']} s per path and figure (a round's rate: the\nmedian of its "
          f"{s['slice_ms']} ms slices). Cells: the median over the rounds, and the ratio to "
          f"direct [min..max] over the rounds\n(direct's cell: [min..max] of its own values)")
    m = res["machine"]
    print(f"{res['date']}: {m['cpus']} CPUs ({m['cpu']}), kernel {m['kernel']}, shared with "
          f"other jobs (load average 1/5/15 min at the end: "
          f"{' '.join(m['loadavg_1_5_15_at_end'])}); {s['run_seconds']} s")
    print(f"{'figure / path':<34}" + "".join(f"{'N=' + str(n):>{w}}" for n in ns))
    for fig, label, unit, _ in TRAFFIC:
        print(f"{label} ({unit})")
        for p in PATHS:
            cells = []
            for n in ns:
                c = res["n"][str(n)]["traffic"][fig][p]
                if p == "direct":
                    cells.append(f"{si(c['median'])} [{si(c['min'])}..{si(c['max'])}]")
                else:
                    cells.append(f"{si(c['median'])} {c['ratio']:.2f} "
                                 f"[{c['ratio_min']:.2f}..{c['ratio_max']:.2f}]")
            print(f"  {p:<32}" + "".join(f"{x:>{w}}" for x in cells))
    print(f"control plane (ms; median [min..max] over {s['changes']} changes, "
          f"{s['sync_reps']} full syncs below 10k, {s['sync_reps_10k']} at 10k)")
    for fig, label, rows in CONTROL:
        print(f"{label} (ms)")
        for p in rows:
            cells = []
            for n in ns:
                c = res["n"][str(n)]["control"][fig].get(p)
                cells.append(f"{si(c['median'])} [{si(c['min'])}..{si(c['max'])}]"
                             if c else "-")
            name = ROW_NAMES["bpflet-start" if (fig, p) == ("full_sync_ms", "bpflet") else p]
            print(f"  {name:<32}" + "".join(f"{x:>{w}}" for x in cells))


def plotdata(a):
    res = json.load(open(a.json))
    ns = sorted(int(n) for n in res["n"])
    os.makedirs(a.dir, exist_ok=True)
    for fig, _, _, _ in TRAFFIC:
        for suffix, key in (("", "median"), ("_ratio", "ratio")):
            with open(os.path.join(a.dir, fig + suffix + ".dat"), "w") as f:
                f.write("# N " + " ".join(PATHS) + "\n")
                for n in ns:
                    t = res["n"][str(n)]["traffic"][fig]
                    f.write(f"{n} " + " ".join(str(t[p][key]) for p in PATHS) + "\n")
    for fig, _, rows in CONTROL:
        with open(os.path.join(a.dir, fig + ".dat"), "w") as f:
            f.write("# N " + " ".join(rows) + "\n")
            for n in ns:
                c = res["n"][str(n)]["control"][fig]
                f.write(f"{n} " + " ".join(str(c[p]["median"]) if p in c else "NaN"
                                           for p in rows) + "\n")
    with open(os.path.join(a.dir, "title.txt"), "w") as f:
        m = res["machine"]
        load = m.get("loadavg_1_5_15_at_end") or ["?"] * 3
        f.write(f"{res['date']}, {m['cpus']} vCPU VM shared with other jobs (load {load[2]}), "
                f"kernel {m['kernel']}, "
                f"{res['settings']['endpoints']} endpoints per Service\n")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("results")
    s.add_argument("out")
    for opt in ("endpoints", "reps", "changes", "sync-reps", "sync-reps-big", "seconds",
                "slice-ms"):
        s.add_argument("--" + opt, type=int, default=0)
    s.add_argument("--secs", type=float, default=0)
    s.add_argument("--date", default="", help="when the run started")
    p = sub.add_parser("plotdata")
    p.add_argument("json")
    p.add_argument("dir")
    a = ap.parse_args()
    sys.exit(summarize(a) if a.cmd == "summarize" else plotdata(a))


if __name__ == "__main__":
    main()
