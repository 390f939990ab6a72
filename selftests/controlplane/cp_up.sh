# One way to start bpflet-controlplane for the control-plane tests and benches.
#   cp_up LOG DATA [ARGS...]
# starts "$CP" (the binary; the sourcing script sets it) with data dir DATA on a random
# loopback port (BL_CP_PORT_LO/BL_CP_PORT_SPAN), its output appended to LOG, and waits
# for /readyz up to CP_UP_WAIT tenths of a second (default 100); a port already taken
# gets another try, five in all. Sets CP_PORT and CP_PID (empty when it never answered,
# returning 1 then).
cp_up() {
	local log=$1 data=$2 tries i
	shift 2
	for tries in 1 2 3 4 5; do
		CP_PORT=$((${BL_CP_PORT_LO:-20000} + RANDOM % ${BL_CP_PORT_SPAN:-40000}))
		"$CP" --data-dir "$data" --listen "127.0.0.1:$CP_PORT" "$@" >>"$log" 2>&1 &
		CP_PID=$!
		for i in $(seq "${CP_UP_WAIT:-100}"); do
			curl -sk -m 1 "https://127.0.0.1:$CP_PORT/readyz" >/dev/null 2>&1 && return 0
			kill -0 "$CP_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$CP_PID" 2>/dev/null
		wait "$CP_PID" 2>/dev/null
		CP_PID=
	done
	return 1
}
