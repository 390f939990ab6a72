# kp_plot.gp: kp_bench.sh's cost versus the number of Services, one panel per figure,
# one line per dataplane. Run by kp_plot.sh: gnuplot -e "dir='...'; out='...'" kp_plot.gp
set terminal pngcairo size 1200,900 font "sans,10"
set output out
set multiplot layout 2,2 title system("cat " . dir . "/title.txt")
set logscale x
set xlabel "Services loaded"
set xrange [6:16000]
set xtics ("10" 10, "100" 100, "1k" 1000, "10k" 10000)
set grid
set style data linespoints

set title "connect() latency p50: the first packet's round trip"
set ylabel "microseconds"
set logscale y
set key top left
plot dir."/connect_p50_us.dat" u 1:2 t "direct", "" u 1:3 t "bpflet", \
     "" u 1:4 t "iptables", "" u 1:5 t "nftables"

# the machine's load drifts during a run: rates are shown against direct's, measured
# in the same rounds
set title "new connections per second (connect, 1-byte RR, close), relative to direct"
set ylabel "ratio to direct"
unset logscale y
set yrange [0:1.1]
set key bottom left
plot dir."/crr_ratio.dat" u 1:2 t "direct", "" u 1:3 t "bpflet", \
     "" u 1:4 t "iptables", "" u 1:5 t "nftables"

set logscale y
set yrange [*:*]
set format y "%g"
set key top left
set title "one endpoint change applied"
set ylabel "milliseconds"
plot dir."/change_ms.dat" u 1:2 t "bpflet: manifest edit -> map (50 ms debounce)", \
     "" u 1:3 t "bpflet: the agent's sync", "" u 1:4 t "iptables-legacy-restore --noflush", \
     "" u 1:5 t "nft -f"

set title "full sync"
set format y "%.0f"
plot dir."/full_sync_ms.dat" u 1:2 t "bpflet: agent start -> all frontends", \
     "" u 1:3 t "bpflet: the agent's sync", "" u 1:4 t "iptables-legacy-restore", \
     "" u 1:5 t "nft -f", "" u 1:6 t "iptables-nft-restore"
unset multiplot
