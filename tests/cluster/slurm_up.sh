#!/usr/bin/env bash
# Starts a private single-node Slurm (munged, slurmctld, slurmd) on localhost, for the cluster
# tests and for trying `--executor slurm` on one machine. Everything lives under DIR: the
# configuration, state, logs and sockets; nothing under /etc is changed. Needs root (slurmd runs
# jobs as their owner) and Debian's slurm-wlm and munge.
#
#   bash tests/cluster/slurm_up.sh DIR [CPUS]   # prints "export SLURM_CONF=DIR/slurm.conf"
#   bash tests/cluster/slurm_up.sh --down DIR   # stops the daemons started here
set -euo pipefail
if [ "${1:-}" = "--down" ]; then
  for f in "$2"/slurmd.pid "$2"/slurmctld.pid "$2"/munged.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  exit 0
fi
DIR=$(realpath -m "$1"); CPUS=${2:-2}
for b in munged slurmctld slurmd sbatch scontrol; do
  command -v "$b" >/dev/null || { echo "slurm: $b not found (apt-get install slurm-wlm munge)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "slurm: the private Slurm needs root (slurmd runs jobs as their owner)" >&2; exit 2; }
mkdir -p "$DIR"/{state,spool,log}
HOST=$(hostname -s)
MEM=$(awk '/MemTotal/ {print int($2/1024*0.8)}' /proc/meminfo)
KEY="$DIR/munge.key"
[ -f "$KEY" ] || { head -c 1024 /dev/urandom > "$KEY"; chmod 600 "$KEY"; }
munged --force --socket="$DIR/munge.sock" --key-file="$KEY" --pid-file="$DIR/munged.pid" \
  --log-file="$DIR/log/munged.log" --seed-file="$DIR/munged.seed"
PORT0=$((6900 + RANDOM % 1000))
cat > "$DIR/slurm.conf" <<CONF
ClusterName=cgvsni-ci
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT0
SlurmdPort=$((PORT0 + 1))
AuthType=auth/munge
AuthInfo=socket=$DIR/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
KillWait=30
SchedulerParameters=defer_batch
MpiDefault=none
NodeName=$HOST NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$DIR/slurm.conf"
slurmctld -i -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 60); do
  if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "slurm: the node did not come up; see $DIR/log/" >&2
sinfo >&2 || true
exit 1
