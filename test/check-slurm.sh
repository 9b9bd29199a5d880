#!/bin/sh
# check-slurm.sh -- runs workflow/Snakefile for real on a single-node SLURM
# cluster on localhost, through the profile workflow/profiles/slurm.
#
# Starts its own munged, slurmctld and slurmd (generated slurm.conf: this
# machine's CPUs and RealMemory from `slurmd -C`, free ports, no accounting, no
# cgroups, all state/spool/log/pid files in a temporary directory), waits until
# the node is idle, runs the two-contig workflow (test-data contigs 20 and 22)
# so that every chunk and every per-chromosome step is an sbatch job, and checks
#   - the number of batch jobs SLURM ran equals the planned jobs, all COMPLETED,
#     and no step other than `all`/`summary` ran on the submitting host;
#   - each chromosome's records are byte-identical to a local `--cores 2` run
#     and to one whole-contig `spin-impute impute` run;
#   - a job that fails on bad input surfaces the tool's error message in the
#     Snakemake log;
#   - a run killed midway (SIGKILL) and rerun through the profile does not
#     redo finished chunks;
#   - the profile's status script reports running, cancelled and completed jobs.
# Stops the daemons it started (by pid) and removes its state on exit.
# Skips (77) only when the daemons cannot be started: not root, binaries
# missing, or they do not come up.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SPIN:=$top_srcdir/spin-impute}"
T=$top_srcdir/test-data
skip() { echo "SKIP: check-slurm: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to run slurmd/slurmctld/munged (CI runs as root)"
for b in munged slurmctld slurmd sbatch scontrol sinfo squeue scancel snakemake bcftools python3; do
    command -v "$b" >/dev/null 2>&1 || skip "$b not installed (apt-get install slurm-wlm munge snakemake bcftools)"
done
[ -r /etc/munge/munge.key ] || skip "no /etc/munge/munge.key (Debian's munge package installs one)"
. "$top_srcdir/test/find-model.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-slurm.XXXXXX")
chmod 755 "$tmp"
PIDS=""
cleanup() {
    rc=$?
    if [ -n "$PIDS" ]; then
        scancel --quiet --full $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
        for p in $PIDS; do kill "$p" 2>/dev/null || true; done
        for p in $PIDS; do # bounded wait for each daemon to exit
            i=0
            while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
            kill -9 "$p" 2>/dev/null || true
        done
    fi
    [ -n "${KEEP_SLURM_TMP:-}" ] || rm -rf "$tmp"
    exit $rc
}
[ -n "${KEEP_SLURM_TMP:-}" ] && echo "tmp: $tmp" >&2
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "FAIL: check-slurm: $*" >&2; [ -f "$tmp/sm.log" ] && tail -40 "$tmp/sm.log" >&2; exit 1; }
daemon_fail() { # could not start the cluster: a skip, with the daemon's log
    echo "check-slurm: $1 did not start; its log:" >&2
    [ -f "$2" ] && tail -20 "$2" >&2
    skip "$1 could not be started on this machine"
}

# ---- munged on a private socket ----
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool"
chown munge:munge "$tmp/munge" 2>/dev/null || true
chmod 700 "$tmp/munge"
sock=$tmp/munge/munge.socket
# --force: we run munged as root, while Debian's key belongs to the munge user
munged -F --force --socket="$sock" --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munge/munged.log" \
    --seed-file="$tmp/munge/munged.seed" --key-file=/etc/munge/munge.key > "$tmp/munge/stderr" 2>&1 &
PIDS="$!"
i=0
while [ ! -S "$sock" ]; do
    kill -0 "$!" 2>/dev/null || daemon_fail munged "$tmp/munge/stderr"
    [ $i -lt 100 ] || daemon_fail munged "$tmp/munge/munged.log"
    sleep 0.1; i=$((i + 1))
done

# ---- slurm.conf: this node as `slurmd -C` sees it, two free ports ----
node=$(hostname -s)
hw=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
ports=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))') || skip "no free TCP ports"
set -- $ports
cat > "$tmp/slurm.conf" <<EOF
ClusterName=spintest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=3600
SlurmdTimeout=60
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=spintest Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
SLURM_CONF=$tmp/slurm.conf
export SLURM_CONF

slurmctld -D -i -f "$SLURM_CONF" > "$tmp/slurmctld.stderr" 2>&1 &
PIDS="$! $PIDS"
ctld=$!
i=0
until scontrol ping 2>/dev/null | grep -q UP; do
    kill -0 "$ctld" 2>/dev/null || daemon_fail slurmctld "$tmp/slurmctld.log"
    [ $i -lt 100 ] || daemon_fail slurmctld "$tmp/slurmctld.log"
    sleep 0.2; i=$((i + 1))
done
slurmd -D -N "$node" -f "$SLURM_CONF" > "$tmp/slurmd.stderr" 2>&1 &
PIDS="$! $PIDS"
sd=$!
# wait (at most 30 s) until the node is idle
i=0
while :; do
    st=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [ "$st" = idle ] && break
    kill -0 "$sd" 2>/dev/null || daemon_fail slurmd "$tmp/slurmd.log"
    if [ $i -ge 150 ]; then
        echo "check-slurm: node $node still '$st' after 30 s:" >&2
        scontrol show node "$node" >&2 || true
        daemon_fail slurmd "$tmp/slurmd.log"
    fi
    sleep 0.2; i=$((i + 1))
done
echo "check-slurm: single-node cluster up: $node, $hw, ports $1/$2"

# ---- the workflow: contigs 20 and 22, genome-wide file too ----
config() { # $1 = dir, $2 = panel for contig 20
    mkdir -p "$1"
    cat > "$1/config.yaml" <<EOC
panels:
  "20": $2
  "22": $T/ref22.bcf
target: $T/target_20_22.vcf.gz
target_phased: true
maps:
  "20": $T/map.txt
model: $MODEL
chunk_size: 100k
buffer: 250000
threads: 1
impute_extra: "--no-version"
spin_impute: $SPIN
genome_vcf: true
outdir: results
EOC
}
PROFILE=$top_srcdir/workflow/profiles/slurm
# CI=true: Snakemake 7's cluster executor then polls job status every 1 s instead of 10 s
config "$tmp/slurm" "$T/ref.bcf"
CI=true timeout 300 snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/slurm" --configfile "$tmp/slurm/config.yaml" \
    --profile "$PROFILE" --latency-wait 5 > "$tmp/sm.log" 2>&1 || fail "snakemake through the SLURM profile failed (or took > 300 s)"
out=$tmp/slurm/results

# every chunk and per-chromosome step was a batch job, all completed
scontrol show job -o > "$tmp/jobs.txt"
njobs=$(grep -c '^JobId=' "$tmp/jobs.txt" || true)
nchunks=$(cat "$out"/chunks/20.tsv "$out"/chunks/22.tsv | grep -vc '^#')
[ "$nchunks" -ge 4 ] || fail "expected >= 4 chunks over two contigs, got $nchunks"
want=$((nchunks + 3 * 2 + 1)) # chunks + (chunk, concat, collect_stats) per contig + genome-wide concat
[ "$njobs" -eq "$want" ] || fail "SLURM ran $njobs jobs, expected $want ($nchunks chunks)"
ndone=$(grep -c 'JobState=COMPLETED' "$tmp/jobs.txt" || true)
[ "$ndone" -eq "$njobs" ] || fail "only $ndone of $njobs batch jobs COMPLETED: $(grep -v COMPLETED "$tmp/jobs.txt")"
[ "$(grep -c 'JobName=smk-impute-' "$tmp/jobs.txt")" -eq "$nchunks" ] || fail "not one batch job per chunk"
for r in chunk concat collect_stats; do
    [ "$(grep -c "JobName=smk-$r-" "$tmp/jobs.txt")" -eq 2 ] || fail "not one $r batch job per chromosome"
done
grep -q 'JobName=smk-genome-' "$tmp/jobs.txt" || fail "no batch job for the genome-wide concatenation"
loc=$(sed -n 's/^localrule \([a-z_]*\):.*/\1/p' "$tmp/sm.log" | sort -u | tr '\n' ' ')
[ "$loc" = "all summary " ] || fail "steps ran on the submitting host: $loc"

# records: SLURM run = local --cores 2 run = one whole-contig spin-impute run
config "$tmp/local" "$T/ref.bcf"
snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/local" --configfile "$tmp/local/config.yaml" \
    --cores 2 > "$tmp/local.log" 2>&1 || { cp "$tmp/local.log" "$tmp/sm.log"; fail "local --cores 2 run failed"; }
"$SPIN" impute -q --no-version --map "$T/map.txt" -o "$tmp/whole20.vcf.gz" "$T/ref.bcf" "$T/target_20_22.vcf.gz"
"$SPIN" impute -q --no-version -o "$tmp/whole22.vcf.gz" "$T/ref22.bcf" "$T/target_20_22.vcf.gz"
for c in 20 22; do
    bcftools view -H "$out/imputed/$c.vcf.gz" > "$tmp/s$c"
    bcftools view -H "$tmp/local/results/imputed/$c.vcf.gz" > "$tmp/l$c"
    bcftools view -H "$tmp/whole$c.vcf.gz" > "$tmp/w$c"
    [ -s "$tmp/w$c" ] || fail "whole-contig run of $c has no records"
    cmp -s "$tmp/s$c" "$tmp/l$c" || fail "contig $c: SLURM run records differ from the local --cores 2 run"
    cmp -s "$tmp/s$c" "$tmp/w$c" || fail "contig $c: SLURM run records differ from a whole-contig spin-impute run"
done
cat "$tmp/s20" "$tmp/s22" > "$tmp/s20_22"
bcftools view -H "$out/imputed/genome.vcf.gz" | cmp -s - "$tmp/s20_22" || fail "genome.vcf.gz is not contig 20 followed by contig 22"

# a failing job (truncated panel) surfaces spin-impute's message in the Snakemake log
config "$tmp/bad" "$T/truncated.vcf.gz"
if CI=true timeout 120 snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/bad" --configfile "$tmp/bad/config.yaml" \
    --profile "$PROFILE" --latency-wait 5 --restart-times 0 > "$tmp/sm.log" 2>&1; then
    fail "a run on a truncated panel succeeded"
fi
grep -q 'truncated.vcf.gz' "$tmp/sm.log" && grep -Eq '^\[E::' "$tmp/sm.log" ||
    fail "the failed job's spin-impute error message is not in the Snakemake log"
echo "check-slurm: failed job's message in the Snakemake log: $(grep -E '^\[E::' "$tmp/sm.log" | head -n 1)"

# killed midway (Snakemake SIGKILLed with its process group, as when a login
# session dies), rerun through the profile: finished chunks are not redone
mkdir -p "$tmp/kill"
sed 's/^chunk_size: .*/chunk_size: 30k/; s/^genome_vcf: .*/genome_vcf: false/' "$tmp/slurm/config.yaml" > "$tmp/kill/config.yaml"
before_jobs=$(scontrol show job -o | grep -c '^JobId=')
CI=true setsid snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/kill" --configfile "$tmp/kill/config.yaml" \
    --profile "$PROFILE" --latency-wait 5 > "$tmp/kill.log" 2>&1 &
spid=$!
i=0
while [ "$(ls "$tmp"/kill/results/chunks/2?/chunk*.vcf.gz 2>/dev/null | wc -l)" -lt 3 ]; do
    kill -0 $spid 2>/dev/null || { cp "$tmp/kill.log" "$tmp/sm.log"; fail "the run to be killed ended before 3 chunks were done"; }
    [ $i -lt 600 ] || { /bin/kill -s KILL -- -$spid; fail "no 3 chunks after 120 s"; }
    sleep 0.2; i=$((i + 1))
done
/bin/kill -s KILL -- -$spid
wait $spid 2>/dev/null || true
# the dead Snakemake's queued and running jobs would run on (and a rerun would submit
# them a second time): cancel them, as workflow/README.md tells users to
q=$(squeue -h -o %i)
[ -z "$q" ] || scancel $q
i=0
while [ -n "$(squeue -h -o %i)" ]; do
    [ $i -lt 150 ] || fail "cancelled jobs still in the queue after 30 s"
    sleep 0.2; i=$((i + 1))
done
# the chunks on disk once no job of the killed run is left: a job still running at the
# kill may finish its chunk before scancel reaches it (outputs are renamed into place
# complete, so whatever is listed here is a finished chunk)
ls "$tmp"/kill/results/chunks/2?/chunk*.vcf.gz | while read -r f; do echo "$f $(stat -c %.9Y "$f")"; done > "$tmp/before"
snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/kill" --configfile "$tmp/kill/config.yaml" \
    --unlock > "$tmp/sm.log" 2>&1 || fail "--unlock after the kill"
CI=true timeout 300 snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/kill" --configfile "$tmp/kill/config.yaml" \
    --profile "$PROFILE" --latency-wait 5 > "$tmp/sm.log" 2>&1 || fail "rerun through the profile after the kill"
# chunk tables counted after the rerun: at the kill a contig's chunk checkpoint may
# not have run yet (its table missing, not empty)
ktotal=$(cat "$tmp"/kill/results/chunks/2?.tsv | grep -vc '^#')
[ "$(wc -l < "$tmp/before")" -lt "$ktotal" ] || fail "all chunks finished before the kill"
# a chunk that finished in the last second before the kill, unseen by the killed
# Snakemake, is still marked incomplete and redone: at most the 2 running at once
redone=0
while read -r f t; do
    [ "$(stat -c %.9Y "$f")" = "$t" ] || redone=$((redone + 1))
done < "$tmp/before"
[ $redone -le 2 ] || fail "$redone finished chunks were imputed again after the kill"
for c in 20 22; do
    bcftools view -H "$tmp/kill/results/imputed/$c.vcf.gz" | cmp -s - "$tmp/w$c" || fail "resumed SLURM run: contig $c differs"
done
kimp=$(scontrol show job -o | sed -n "$((before_jobs + 1)),\$p" | grep -c 'JobName=smk-impute-')
rimp=$(grep -c '^rule impute:' "$tmp/sm.log" || true)
nb=$(wc -l < "$tmp/before")
[ "$rimp" -eq $((ktotal - nb + redone)) ] || fail "rerun submitted $rimp impute jobs; $ktotal chunks, $nb done, $redone redone"
echo "check-slurm: killed after $nb of $ktotal chunks; the rerun submitted $rimp impute jobs ($kimp in both runs)"

# the profile's status script: a running job is "running", one SLURM cancels "failed"
j=$(sbatch --parsable -o /dev/null --wrap 'sleep 60') || fail "sbatch of a plain job"
i=0
until [ "$("$PROFILE/status.sh" "$j")" = running ] && squeue -h -j "$j" -o %T | grep -q RUNNING; do
    [ $i -lt 100 ] || fail "job $j did not start in 20 s"
    sleep 0.2; i=$((i + 1))
done
scancel "$j"
i=0
until [ "$("$PROFILE/status.sh" "$j")" = failed ]; do
    [ $i -lt 100 ] || fail "status.sh does not report the cancelled job $j as failed"
    sleep 0.2; i=$((i + 1))
done
[ "$("$PROFILE/status.sh" "$(sed -n 's/^JobId=\([0-9]*\).*JobName=smk-genome-.*/\1/p' "$tmp/jobs.txt")")" = success ] ||
    fail "status.sh does not report a completed job as success"

echo "check-slurm: $nchunks chunks on 2 contigs"
echo "$njobs batch jobs"
echo "identical"
