# benchmarks/server.sh, sourced by the benchmark scripts that start a server
# (loadsim mock, benchmarks/mock/hello) in the background on loopback.

# server_tmp makes $tmp, a temporary directory, sets $pid to "" (set it to
# the server's PID once started) and, on exit, stops that server and
# removes $tmp.
server_tmp() {
	tmp="$(mktemp -d)"
	pid=""
	trap server_cleanup EXIT
}

server_cleanup() {
	if [[ -n "$pid" ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}

# listening_url OUT ERR NAME: prints the base URL once OUT's first line is
# `listening on http://HOST:PORT`; after 10 s fails with NAME and the
# server's stderr (file ERR).
listening_url() {
	local out="$1" err="$2" name="$3" line
	for _ in $(seq 100); do
		if line="$(head -n1 "$out" 2>/dev/null)" && [[ "$line" == "listening on http://"* ]]; then
			echo "${line#listening on }"
			return 0
		fi
		sleep 0.1
	done
	echo "$name did not start: $(cat "$err")" >&2
	return 1
}
