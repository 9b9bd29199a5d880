#!/bin/bash
# run.sh -- benchmark spin-impute against Beagle 5.4 and Minimac4 (accuracy, time, memory).
#
#   bench/run.sh [options]
#
#   -t N       threads given to every tool                              [2]
#   -r N       timing repeats on the real-data tasks (medians reported)  [3]
#   -R N       timing repeats on the scaling task                        [1]
#   -k LIST    tasks, comma-separated: eur_lct,sim_ooa3,all_chr1,scaling [all four]
#   -T LIST    tools: spin,spin_trained,beagle,minimac4                  [spin,beagle,minimac4]
#   -d DIR     shared data directory                                     [../shared/data]
#   -w DIR     work directory (tasks, outputs, logs)                     [bench/work]
#   -o FILE    results page                                              [bench/RESULTS.md]
#
# Environment: SPIN (spin-impute binary used to impute and to score; default: the
# first of $top/spin-impute, spin-impute on PATH), SPIN_SCORE (binary for `score` if
# different), SPIN_IMPUTE_ARGS (extra impute options), SPIN_TRAIN_ARGS (extra train
# options), BEAGLE_JAVA_OPTS (JVM options for Beagle, default -Xmx8g).
# Needs bcftools, beagle, minimac4, scrm, gnuplot, /usr/bin/time. Not part of make check.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$bench")
threads=2 repeats=3 srepeats=1
tasks=eur_lct,sim_ooa3,all_chr1,scaling
tools=spin,beagle,minimac4
data=$top/../shared/data
work=$bench/work
results=$bench/RESULTS.md
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "$1"; }
while getopts t:r:R:k:T:d:w:o:h o; do
    case $o in
    t) threads=$OPTARG ;; r) repeats=$OPTARG ;; R) srepeats=$OPTARG ;; k) tasks=$OPTARG ;;
    T) tools=$OPTARG ;; d) data=$OPTARG ;; w) work=$OPTARG ;; o) results=$OPTARG ;;
    h) usage 0 ;; *) usage 2 ;;
    esac
done
data=$(cd "$data" && pwd)
mkdir -p "$work" "$bench/plots"
work=$(cd "$work" && pwd)

if [ -z "${SPIN:-}" ]; then
    if [ -x "$top/spin-impute" ]; then SPIN=$top/spin-impute; else SPIN=$(command -v spin-impute || true); fi
fi
SPIN_SCORE=${SPIN_SCORE:-$SPIN}
[ -n "$SPIN_SCORE" ] && [ -x "$SPIN_SCORE" ] || { echo "run.sh: no spin-impute binary to score with: set SPIN=" >&2; exit 1; }
export JAVA_TOOL_OPTIONS=${BEAGLE_JAVA_OPTS:--Xmx8g}
for c in bcftools beagle minimac4 gnuplot /usr/bin/time; do
    command -v "$c" >/dev/null || { echo "run.sh: $c not found" >&2; exit 1; }
done
log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }
has() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }

times=$work/times.tsv   # tool task phase rep wall cpu rss_kb status
: >"$times"
notes=$work/notes.txt
: >"$notes"

# ---- tasks -------------------------------------------------------------------------
# name|panel|map|targets|description
task_table() {
    cat <<EOF
eur_lct|$data/1kgp3_eur_chr2_lct/example.vcf.gz|$data/genetic_maps_b37/chr2.b37.gmap.gz|100|1000G EUR chr2:134.5-137.0 Mb (LCT), main
sim_ooa3|$data/sim_ooa3_chr20_1mb/sim.vcf.gz|$data/sim_ooa3_chr20_1mb/sim.map|100|scrm Out-of-Africa, 3 populations, 1 Mb
all_chr1|$data/1kgp3_all_chr1_140kb/example.vcf.gz|$data/genetic_maps_b37/chr1.b37.gmap.gz|200|1000G all populations chr1 140 kb (small, secondary)
EOF
}

build_task() { # name panel map ntgt
    local d=$work/$1
    if [ -s "$d/task.txt" ] && [ "$d/task.txt" -nt "$bench/make_task.sh" ]; then return 0; fi
    log "building task $1"
    "$bench/make_task.sh" -n "$4" -m "$3" "$2" "$d"
}

# Scaling: one scrm sample of 32,000 panel + 200 target haplotypes over 2 Mb (constant
# N=10,000, mu 1.25e-8, r 1e-8 per bp); nested panels of the first 1,000/4,000/16,000
# panel samples; the same 100 targets and typed set throughout.
SCRM_ARGS="32200 1 -t 1000 -r 800 2000000 -l 100000 -transpose-segsites -seed 20240601"
SCAL_SIZES="1000 2000 4000 16000"
build_scaling() {
    local d=$work/scaling
    mkdir -p "$d"
    if [ ! -s "$d/sim.vcf.gz" ]; then
        command -v scrm >/dev/null || { echo "run.sh: scrm not found" >&2; exit 1; }
        log "simulating the scaling panel: scrm $SCRM_ARGS"
        # shellcheck disable=SC2086
        scrm $SCRM_ARGS | "$bench/scrm2vcf.py" 20 2000000 7 SIM | bgzip -c >"$d/sim.vcf.gz.tmp"
        mv "$d/sim.vcf.gz.tmp" "$d/sim.vcf.gz"
        bcftools index -f "$d/sim.vcf.gz"
        awk 'BEGIN { for (p = 0; p <= 2000000; p += 100000) printf "20\t.\t%.6f\t%d\n", p * 1e-6, p + 1 }' >"$d/sim.map"
    fi
    [ -s "$d/full/task.txt" ] || "$bench/make_task.sh" -n 100 -m "$d/sim.map" "$d/sim.vcf.gz" "$d/full"
    for n in $SCAL_SIZES; do
        local t=$d/p$n
        [ -s "$t/task.txt" ] && continue
        log "scaling panel of $n samples"
        mkdir -p "$t"
        head -n "$n" "$d/full/panel.samples" >"$t/panel.samples"
        bcftools view -S "$t/panel.samples" -Ou "$d/full/panel.vcf.gz" | bcftools view -c 1:minor -Ou \
            | bcftools +fill-tags -Oz -o "$t/panel.vcf.gz" -- -t AC,AN
        bcftools index -f "$t/panel.vcf.gz"
        for f in targets.vcf.gz targets.vcf.gz.csi truth.vcf.gz truth.vcf.gz.csi typed.tsv map.plink targets.samples; do
            ln -sf "$d/full/$f" "$t/$f"
        done
        bcftools query -f '%CHROM\t%POS\t%REF\t%ALT\n' "$t/panel.vcf.gz" \
            | awk -F'\t' 'NR == FNR { t[$1 "\t" $2] = 1; next } !(($1 "\t" $2) in t)' "$t/typed.tsv" - >"$t/masked.tsv"
        sed "s/^panel_samples=.*/panel_samples=$n/" "$d/full/task.txt" >"$t/task.txt"
    done
}

# ---- timing ----------------------------------------------------------------------------
# timed TOOL TASK PHASE REP LOG cmd... : runs cmd under /usr/bin/time -v, appends to times.tsv
timed() {
    local tool=$1 task=$2 phase=$3 rep=$4 lg=$5 st=ok
    shift 5
    if ! /usr/bin/time -v -o "$lg.time" "$@" >"$lg" 2>&1; then st=fail; fi
    awk -F': ' -v tool="$tool" -v task="$task" -v ph="$phase" -v rep="$rep" -v st="$st" '
        /Elapsed \(wall clock\)/ { n = split($2, a, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + a[i] }
        /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { m = $2 }
        END { printf "%s\t%s\t%s\t%s\t%.2f\t%.2f\t%d\t%s\n", tool, task, ph, rep, w, u + s, m, st }' \
        "$lg.time" >>"$times"
    [ $st = ok ]
}

run_tool() { # tool taskname dir nrep
    local tool=$1 task=$2 d=$3 nrep=$4 out=$3/out.$1.vcf.gz r
    case $tool in
    beagle)
        for r in $(seq "$nrep"); do
            timed beagle "$task" impute "$r" "$d/log.beagle" beagle gt="$d/targets.vcf.gz" ref="$d/panel.vcf.gz" \
                map="$d/map.plink" out="$d/out.beagle" nthreads="$threads" || { skip beagle "$task" "$d/log.beagle"; return; }
        done ;;
    minimac4)
        for r in $(seq "$nrep"); do
            timed minimac4 "$task" prep "$r" "$d/log.minimac4.prep" sh -c \
                "minimac4 --compress-reference '$d/panel.vcf.gz' > '$d/panel.msav'" \
                || { skip minimac4 "$task" "$d/log.minimac4.prep"; return; }
            timed minimac4 "$task" impute "$r" "$d/log.minimac4" minimac4 -t "$threads" -m "$d/map.plink" \
                -f GT,DS -O vcf.gz -o "$out" "$d/panel.msav" "$d/targets.vcf.gz" \
                || { skip minimac4 "$task" "$d/log.minimac4"; return; }
        done ;;
    spin)
        for r in $(seq "$nrep"); do
            # shellcheck disable=SC2086
            timed spin "$task" impute "$r" "$d/log.spin" "$SPIN" "$d/panel.vcf.gz" "$d/targets.vcf.gz" -o "$out" \
                --map "$d/map.plink" --threads "$threads" ${SPIN_IMPUTE_ARGS:-} \
                || { skip spin "$task" "$d/log.spin"; return; }
        done ;;
    spin_trained)
        # shellcheck disable=SC2086
        timed spin_trained "$task" prep 1 "$d/log.spin_trained.prep" "$SPIN" train --map "$d/map.plink" \
            --threads "$threads" -o "$d/panel.spin" ${SPIN_TRAIN_ARGS:-} "$d/panel.vcf.gz" \
            || { skip spin_trained "$task" "$d/log.spin_trained.prep"; return; }
        for r in $(seq "$nrep"); do
            # shellcheck disable=SC2086
            timed spin_trained "$task" impute "$r" "$d/log.spin_trained" "$SPIN" "$d/panel.vcf.gz" "$d/targets.vcf.gz" \
                -o "$out" --model "$d/panel.spin" --map "$d/map.plink" --threads "$threads" ${SPIN_IMPUTE_ARGS:-} \
                || { skip spin_trained "$task" "$d/log.spin_trained"; return; }
        done ;;
    esac
    "$SPIN_SCORE" score -q -t "$d/truth.vcf.gz" -s "$d/masked.tsv" -a "$d/panel.vcf.gz" --tsv "$d/score.$tool.tsv" "$out" \
        2>"$d/log.score.$tool" || { skip "$tool" "$task" "$d/log.score.$tool"; return; }
    echo "$tool $task" >>"$work/scored.txt"
}

skip() { # tool task logfile
    local msg
    msg=$( (grep -v '^[[:space:]]*$' "$3" 2>/dev/null || true) | tail -n 2 | tr '\n' ' ' | cut -c1-200)
    [ -n "$msg" ] || msg="exit status non-zero, no message"
    log "SKIPPED $1 on $2: failed (see $3): $msg"
    printf -- '- %s on %s: skipped, the run failed (`%s`: %s)\n' "$1" "$2" "${3#"$work"/}" "$msg" >>"$notes"
    rm -f "$work/$2/out.$1.vcf.gz" "$work/scaling/$2/out.$1.vcf.gz"
}

# ---- run ---------------------------------------------------------------------------------
: >"$work/scored.txt"
start=$(date +%s)
IFS=, read -r -a tool_list <<<"$tools"
while IFS='|' read -r name panel map ntgt desc; do
    has "$tasks" "$name" || continue
    build_task "$name" "$panel" "$map" "$ntgt"
    echo "$name|$desc" >>"$work/tasks.run"
    for tool in "${tool_list[@]}"; do
        log "$tool on $name ($repeats repeats)"
        run_tool "$tool" "$name" "$work/$name" "$repeats"
    done
done < <(task_table)
if has "$tasks" scaling; then
    build_scaling
    for n in $SCAL_SIZES; do
        for tool in "${tool_list[@]}"; do
            [ "$tool" = spin_trained ] && continue # the scaling task measures cost, not training
            log "$tool on scaling panel p$n"
            run_tool "$tool" "p$n" "$work/scaling/p$n" "$srepeats"
        done
    done
fi
elapsed=$(($(date +%s) - start))

# ---- report ------------------------------------------------------------------------------
SPIN=$SPIN SPIN_SCORE=$SPIN_SCORE "$bench/report.sh" "$work" "$results" "$bench/plots" "$threads" "$repeats" "$srepeats" \
    "$elapsed" "$SCRM_ARGS" "$SCAL_SIZES"
log "done in ${elapsed}s: $results"
