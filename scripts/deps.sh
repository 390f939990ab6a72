#!/usr/bin/env bash
# Installs every Debian package that bpflet's build, tests, demo and benchmarks need.
# libbpf 1.4 / bpftool 7.5 come from bookworm-backports (bookworm's libbpf 1.1 lacks tcx).
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: run as root (it calls apt-get)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

# Add the backports suite from the same Debian archive the machine already uses.
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	mirror=$({ grep -rhoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list \
		/etc/apt/sources.list.d/ 2>/dev/null || true; } | grep -v security | head -n1 | tr -d ' ')
	mirror=${mirror:-http://deb.debian.org/debian}
	echo "deb ${mirror%/} ${codename}-backports main" >/etc/apt/sources.list.d/bpflet-backports.list
fi

# Third-party lists on the machine may be unreachable; Debian's own must work.
apt-get update || true

apt-get install -y --no-install-recommends \
	make gcc pkg-config clang-19 llvm-19 \
	libelf-dev zlib1g-dev libjansson-dev libyaml-dev libnl-3-dev libnl-route-3-dev \
	libcurl4-openssl-dev libnghttp2-dev libssl-dev libevent-dev libsqlite3-dev \
	libcriterion-dev libxdp-dev uthash-dev libpcap-dev \
	iproute2 iputils-ping ethtool socat curl iperf3 procps psmisc python3 tcpdump \
	etcd-server iptables nftables gnuplot-nox hping3 netsniff-ng

apt-get install -y --no-install-recommends -t "${codename}-backports" \
	libbpf-dev libbpf1 bpftool

# bpftool's package installs it under /usr/sbin; make sure it answers.
bpftool version >/dev/null
