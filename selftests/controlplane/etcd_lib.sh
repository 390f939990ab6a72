# A throwaway etcd on loopback for the control-plane tests: random free ports, its own
# data dir under $WORK, started and stopped by the sourcing script (ETCD_PID, ETCD_URL).
#   start_etcd      starts it (again, on the same data dir) and waits until it answers
#   stop_etcd [SIG] stops it (-KILL for a crash)

ETCD_PID=
ETCD_URL=
ETCD_DIR=

start_etcd() {
	local tries i cport pport
	ETCD_DIR=${ETCD_DIR:-$WORK/etcd}
	for tries in 1 2 3 4 5; do
		# a restart keeps the ports: the member's peer URL is in its data dir
		cport=${ETCD_CPORT:-$((${BL_CP_PORT_LO:-20000} + RANDOM % ${BL_CP_PORT_SPAN:-40000}))}
		pport=${ETCD_PPORT:-$((${BL_CP_PORT_LO:-20000} + RANDOM % ${BL_CP_PORT_SPAN:-40000}))}
		[ "$cport" = "$pport" ] && continue
		ETCD_URL=http://127.0.0.1:$cport
		etcd --name "bl-$$" --data-dir "$ETCD_DIR" \
			--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
			--listen-peer-urls "http://127.0.0.1:$pport" \
			--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
			--initial-cluster "bl-$$=http://127.0.0.1:$pport" \
			--log-level error >>"$WORK/etcd.log" 2>&1 &
		ETCD_PID=$!
		for i in $(seq 100); do
			if curl -s -m 1 -X POST -d '{"key":"AA=="}' "$ETCD_URL/v3/kv/range" 2>/dev/null | grep -q revision; then
				ETCD_CPORT=$cport ETCD_PPORT=$pport
				return 0
			fi
			kill -0 "$ETCD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$ETCD_PID" 2>/dev/null
		wait "$ETCD_PID" 2>/dev/null
		ETCD_PID=
	done
	return 1
}

stop_etcd() {
	[ -n "$ETCD_PID" ] || return 0
	kill "${1:--TERM}" "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=
}
