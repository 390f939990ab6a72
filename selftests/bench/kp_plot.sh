#!/usr/bin/env bash
# make bench-plot: docs/bench-kp.png from build/bench-kp.json (kp_bench.sh's results).
#   kp_plot.sh [JSON] [PNG]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
JSON=${1:-$ROOT/build/bench-kp.json}
PNG=${2:-$ROOT/docs/bench-kp.png}
command -v gnuplot >/dev/null || {
	echo "kp_plot: gnuplot is missing (make deps installs gnuplot-nox)" >&2
	exit 1
}
[ -f "$JSON" ] || {
	echo "kp_plot: no $JSON; run make bench (or selftests/bench/kp_bench.sh) first" >&2
	exit 1
}
DIR=$(mktemp -d /tmp/bpflet-kpplot-$$.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
python3 "$HERE/kp_report.py" plotdata "$JSON" "$DIR"
gnuplot -e "dir='$DIR'; out='$PNG'" "$HERE/kp_plot.gp"
echo "plot written to $PNG"
