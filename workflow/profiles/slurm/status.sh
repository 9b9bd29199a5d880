#!/bin/sh
# status.sh JOBID -- Snakemake 7 --cluster-status for SLURM: prints running,
# success or failed. Asks the controller (scontrol; no accounting needed), then
# sacct for jobs the controller has already forgotten (MinJobAge).
# A job killed by SLURM (out of memory, time limit, scancel, node failure) is
# "failed" here, so Snakemake reports it instead of waiting forever.
id=${1%%;*} # sbatch --parsable prints JOBID or JOBID;CLUSTER
if out=$(scontrol show job -o "$id" 2>&1); then
    st=$(printf '%s\n' "$out" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1)
else
    case $out in
    *"Invalid job id"*) st=$(sacct -n -X -P -o State -j "$id" 2>/dev/null | head -n 1 | cut -d' ' -f1) ;;
    *) echo running; exit 0 ;; # controller busy or unreachable: ask again at the next poll
    esac
fi
case $st in
COMPLETED) echo success ;;
PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | REQUEUED | REQUEUE_HOLD | REQUEUE_FED | RESIZING | \
    SIGNALING | STAGE_OUT | STOPPED | RESV_DEL_HOLD) echo running ;;
"")
    echo "status.sh: SLURM knows no job $id (neither scontrol nor sacct)" >&2
    echo failed ;;
*) echo failed ;; # FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, BOOT_FAIL, DEADLINE, PREEMPTED
esac
