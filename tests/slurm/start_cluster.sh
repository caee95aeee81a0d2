#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine (Debian/Ubuntu, root): slurmctld + slurmd with
# two fake GPUs, munge for authentication. Idempotent: daemons already running are left alone.
# Everything it starts is recorded under $STATE (default /run/radonc-slurm) for stop_cluster.sh.
# Used by tests/test_slurm.py; see README "Running on a SLURM cluster".
set -euo pipefail
STATE=${RADONC_SLURM_STATE:-/run/radonc-slurm}
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p "$STATE"

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# munge: a key, then munged as the munge user
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! running /run/munge/munged.pid; then
  su -s /bin/sh munge -c "munged --pid-file=/run/munge/munged.pid"
  cp /run/munge/munged.pid "$STATE/munged.pid"
fi

# two fake GPUs: character devices (a count alone leaves the node INVAL)
for i in 0 1; do [ -e "$STATE/fakegpu$i" ] || mknod "$STATE/fakegpu$i" c 195 "$i"; done

# the config must be at /etc/slurm/slurm.conf: the jobstep plugin drops SLURM_CONF before srun
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=radonc-test
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.txt
MinJobAge=86400
ReturnToService=2
GresTypes=gpu
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:2 State=UNKNOWN
PartitionName=radonc Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
cat > /etc/slurm/gres.conf <<CONF
AutoDetect=off
Name=gpu File=$STATE/fakegpu[0-1]
CONF

if ! running "$STATE/slurmctld.pid"; then slurmctld -c; fi
if ! running "$STATE/slurmd.pid"; then slurmd; fi
for _ in $(seq 30); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  case "$state" in
    idle*|mixed*|alloc*) echo "SLURM node $HOST is $state"; exit 0 ;;
    drain*|down*|inval*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
echo "SLURM node $HOST did not become idle (state: ${state:-none}); see /var/log/slurm/" >&2
exit 1
