#!/usr/bin/env bash
# Stop what start_cluster.sh started (by the PIDs it recorded, never by name).
set -uo pipefail
STATE=${RADONC_SLURM_STATE:-/run/radonc-slurm}
for daemon in slurmd slurmctld munged; do
  pidfile="$STATE/$daemon.pid"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 20); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$pidfile"
done
echo "stopped the test SLURM cluster"
