# Sourced by the verdict and report checks: run_stopped HARNESS ARGS... runs the harness with ARGS in
# the background, stops it (SIGSTOP) 0.3 s into its first case (once the case's agent exists) for 2 s,
# and returns its exit status. A case whose next line is due within that time, such as
# tests/verdicts/late_injection.tc's SYN at 1.5 s, then meets a harness that is late: an ERROR. Only
# the first try is stopped; a retry runs undisturbed.
run_stopped() {
	"$@" &
	local pid=$! started=false
	for _ in $(seq 500); do
		if [ -n "$(pgrep -P "$pid")" ]; then
			started=true
			break
		fi
		sleep 0.01
	done
	if $started; then
		sleep 0.3
		kill -STOP "$pid"
		sleep 2
		kill -CONT "$pid"
	else
		echo "run_stopped: the harness never started a case" >&2
	fi
	wait "$pid"
}
