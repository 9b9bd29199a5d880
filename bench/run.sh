#!/bin/bash
# run.sh -- benchmark spin-impute against Beagle 5.4 and Minimac4 (accuracy, time, memory).
#
#   bench/run.sh [options]
#
#   -t N       threads given to every tool                              [2]
#   -r N       timing repeats on the real-data and density tasks (medians reported)  [3]
#   -R N       timing repeats on the scaling and cohort tasks            [1]
#   -k LIST    tasks or groups, comma-separated                          [all]
#              groups: main (eur_lct,sim_ooa3,all_chr1), densities (<panel>_d1k, _d10k,
#              _d20k of the three main panels), scaling (constant-N panels p1000..p16000),
#              cohort (the 5 Mb cohort task `cohort` and the panel series `ooa_panels`, run
#              as a whole), all (those four);
#              opt-in: cohort_targets (cohort_t500, _t2000, _t5000), ooa_p64k
#   -X         add the opt-in cohort runs (= -k ...,cohort_targets,ooa_p64k); the panel
#              series is then drawn from a 64k-haplotype simulation
#   -T LIST    tools: spin,spin_bcf,spin_prep,spin_trained,beagle,minimac4 [spin,spin_bcf,spin_prep,beagle,minimac4]
#              (spin_bcf = spin-impute reading the panel as BCF; spin_prep = from a prepared panel,
#              `spin-impute prepare` timed as prep like Minimac4's msav: the cohort tasks only)
#   -d DIR     shared data directory                                     [../shared/data]
#   -w DIR     work directory (tasks, outputs, logs, cached simulations) [bench/work]
#   -o FILE    results page (plots go to plots/ beside it)               [bench/RESULTS.md]
#
# Environment: SPIN (spin-impute binary used to impute and to score; default: the
# first of $top/spin-impute, spin-impute on PATH), SPIN_SCORE (binary for `score` if
# different), SPIN_IMPUTE_ARGS (extra impute options), SPIN_TRAIN_ARGS (extra train
# options), BEAGLE_JAVA_OPTS (JVM options for Beagle, default -Xmx8g).
# Cohort sizes (for smoke runs; the defaults are the measured ones): COHORT_TARGETS [500],
# COHORT_PANEL [9000 haplotypes], COHORT_LEN [5000000], COHORT_SIM [haplotypes simulated for the
# cohort task: panel + 2 x targets], COHORT_SERIES_TARGETS ["500 2000 5000"],
# PANEL_SERIES ["2000 8000 32000", "... 64000" with -X], PANEL_TARGETS [100], PANEL_LEN [1000000].
# Needs bcftools, beagle, minimac4, scrm, gnuplot, /usr/bin/time. Not part of make check.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$bench")
threads=2 repeats=3 srepeats=1 optin=0
tasks=all
tools=spin,spin_bcf,spin_prep,beagle,minimac4
data=$top/../shared/data
work=$bench/work
results=$bench/RESULTS.md
usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit "$1"; }
while getopts t:r:R:k:XT:d:w:o:h o; do
    case $o in
    t) threads=$OPTARG ;; r) repeats=$OPTARG ;; R) srepeats=$OPTARG ;; k) tasks=$OPTARG ;; X) optin=1 ;;
    T) tools=$OPTARG ;; d) data=$OPTARG ;; w) work=$OPTARG ;; o) results=$OPTARG ;;
    h) usage 0 ;; *) usage 2 ;;
    esac
done
data=$(cd "$data" && pwd)
mkdir -p "$work" "$(dirname "$results")"
results=$(cd "$(dirname "$results")" && pwd)/$(basename "$results")
plots=$(dirname "$results")/plots # beside the results page
mkdir -p "$plots"
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
# name|panel|map|targets|make_task.sh options|description
# The density tasks: one typed SNP per 1 kb (panel MAF >= 1%), 10 kb and 20 kb (MAF >= 5%),
# each with its own seed; the main tasks are the 5 kb density (seed 11).
task_table() {
    local eur=$data/1kgp3_eur_chr2_lct/example.vcf.gz eurmap=$data/genetic_maps_b37/chr2.b37.gmap.gz
    local sim=$data/sim_ooa3_chr20_1mb/sim.vcf.gz simmap=$data/sim_ooa3_chr20_1mb/sim.map
    local all=$data/1kgp3_all_chr1_140kb/example.vcf.gz allmap=$data/genetic_maps_b37/chr1.b37.gmap.gz
    cat <<EOF
eur_lct|$eur|$eurmap|100||1000G EUR chr2:134.5-137.0 Mb (LCT), main
sim_ooa3|$sim|$simmap|100||scrm Out-of-Africa, 3 populations, 1 Mb
all_chr1|$all|$allmap|200||1000G all populations chr1 140 kb (small, secondary)
eur_lct_d1k|$eur|$eurmap|100|-s 1401 -d 1000 -f 0.01|eur_lct panel, 1 SNP per 1 kb (MAF >= 1%)
eur_lct_d10k|$eur|$eurmap|100|-s 1402 -d 10000|eur_lct panel, 1 SNP per 10 kb
eur_lct_d20k|$eur|$eurmap|100|-s 1403 -d 20000|eur_lct panel, 1 SNP per 20 kb
sim_ooa3_d1k|$sim|$simmap|100|-s 1411 -d 1000 -f 0.01|sim_ooa3 panel, 1 SNP per 1 kb (MAF >= 1%)
sim_ooa3_d10k|$sim|$simmap|100|-s 1412 -d 10000|sim_ooa3 panel, 1 SNP per 10 kb
sim_ooa3_d20k|$sim|$simmap|100|-s 1413 -d 20000|sim_ooa3 panel, 1 SNP per 20 kb
all_chr1_d1k|$all|$allmap|200|-s 1421 -d 1000 -f 0.01|all_chr1 panel, 1 SNP per 1 kb (MAF >= 1%)
all_chr1_d10k|$all|$allmap|200|-s 1422 -d 10000|all_chr1 panel, 1 SNP per 10 kb
all_chr1_d20k|$all|$allmap|200|-s 1423 -d 20000|all_chr1 panel, 1 SNP per 20 kb
EOF
}
DENSITY_TASKS=eur_lct_d1k,eur_lct_d10k,eur_lct_d20k,sim_ooa3_d1k,sim_ooa3_d10k,sim_ooa3_d20k,all_chr1_d1k,all_chr1_d10k,all_chr1_d20k
expand_tasks() { # task list with groups -> task list
    local t out= tl
    IFS=, read -r -a tl <<<"$1"
    for t in "${tl[@]}"; do
        case $t in
        all) out="$out,eur_lct,sim_ooa3,all_chr1,$DENSITY_TASKS,scaling,cohort,ooa_panels" ;;
        main) out="$out,eur_lct,sim_ooa3,all_chr1" ;;
        densities) out="$out,$DENSITY_TASKS" ;;
        cohort) out="$out,cohort,ooa_panels" ;;
        ooa_p64k) out="$out,ooa_panels,ooa_p64k" ;;
        *) out="$out,$t" ;;
        esac
    done
    echo "${out#,}"
}
tasks=$(expand_tasks "$tasks")
if [ $optin = 1 ]; then tasks="$tasks,cohort_targets,ooa_panels,ooa_p64k"; fi

build_task() { # name panel map ntgt make_task-options
    local d=$work/$1
    if [ -s "$d/task.txt" ] && [ "$d/task.txt" -nt "$bench/make_task.sh" ] && [ "$(cat "$d/args" 2>/dev/null)" = "$5" ]; then
        return 0
    fi
    log "building task $1"
    rm -rf "$d"
    # shellcheck disable=SC2086
    "$bench/make_task.sh" $5 -n "$4" -m "$3" "$2" "$d"
    printf '%s\n' "$5" >"$d/args"
}

# Cohort-scale tasks (bench/make_scale_task.sh): scrm Out-of-Africa simulations cached in
# $work/sims; a task is rebuilt when its options or the task scripts change.
COHORT_TARGETS=${COHORT_TARGETS:-500} COHORT_PANEL=${COHORT_PANEL:-9000} COHORT_LEN=${COHORT_LEN:-5000000}
COHORT_SERIES_TARGETS=${COHORT_SERIES_TARGETS:-500 2000 5000}
PANEL_TARGETS=${PANEL_TARGETS:-100} PANEL_LEN=${PANEL_LEN:-1000000}
if [ -z "${PANEL_SERIES:-}" ]; then
    PANEL_SERIES="2000 8000 32000"
    if has "$tasks" ooa_p64k; then PANEL_SERIES="$PANEL_SERIES 64000"; fi
fi
build_cohort() { # name dir make_scale_task-options...
    local name=$1 d=$2
    shift 2
    if [ -s "$d/task.txt" ] && [ "$(cat "$d/args" 2>/dev/null)" = "$*" ] && [ "$d/task.txt" -nt "$bench/make_scale_task.sh" ] \
        && [ "$d/task.txt" -nt "$bench/make_task.sh" ]; then
        return 0
    fi
    log "building cohort task $name: make_scale_task.sh $*"
    rm -rf "$d"
    "$bench/make_scale_task.sh" -c "$work/sims" -j "$threads" "$@" "$d"
    printf '%s\n' "$*" >"$d/args"
}
hname() { if [ $(($1 % 1000)) -eq 0 ]; then echo "$(($1 / 1000))k"; else echo "$1"; fi; }
maxof() { printf '%s\n' "$@" | sort -n | tail -n1; }

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
    spin_bcf)
        [ -s "$d/panel.bcf" ] || return 0 # only the cohort tasks have the panel as BCF
        for r in $(seq "$nrep"); do
            # shellcheck disable=SC2086
            timed spin_bcf "$task" impute "$r" "$d/log.spin_bcf" "$SPIN" "$d/panel.bcf" "$d/targets.vcf.gz" -o "$out" \
                --map "$d/map.plink" --threads "$threads" ${SPIN_IMPUTE_ARGS:-} \
                || { skip spin_bcf "$task" "$d/log.spin_bcf"; return; }
        done ;;
    spin_prep)
        [ -s "$d/panel.bcf" ] || return 0
        for r in $(seq "$nrep"); do
            timed spin_prep "$task" prep "$r" "$d/log.spin_prep.prep" "$SPIN" prepare -t "$threads" -o "$d/panel.spanel" \
                "$d/panel.bcf" || { skip spin_prep "$task" "$d/log.spin_prep.prep"; return; }
            # shellcheck disable=SC2086
            timed spin_prep "$task" impute "$r" "$d/log.spin_prep" "$SPIN" "$d/panel.spanel" "$d/targets.vcf.gz" -o "$out" \
                --map "$d/map.plink" --threads "$threads" ${SPIN_IMPUTE_ARGS:-} \
                || { skip spin_prep "$task" "$d/log.spin_prep"; return; }
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
taskdir_of() { awk -F'\t' -v t="$1" '$1 == t { d = $2 } END { print d }' "$work/taskdirs.tsv"; }

skip() { # tool task logfile
    local msg
    msg=$( (grep -v '^[[:space:]]*$' "$3" 2>/dev/null || true) | tail -n 2 | tr '\n' ' ' | cut -c1-200)
    [ -n "$msg" ] || msg="exit status non-zero, no message"
    log "SKIPPED $1 on $2: failed (see $3): $msg"
    printf -- '- %s on %s: skipped, the run failed (`%s`: %s)\n' "$1" "$2" "${3#"$work"/}" "$msg" >>"$notes"
    rm -f "$(taskdir_of "$2")/out.$1.vcf.gz"
}

# ---- run ---------------------------------------------------------------------------------
: >"$work/scored.txt"
: >"$work/tasks.run"
: >"$work/taskdirs.tsv" # task name -> directory, for report.sh
start=$(date +%s)
IFS=, read -r -a tool_list <<<"$tools"
run_all_tools() { # task dir repeats [cost: a cost-only task, no spin_trained]
    local tool
    for tool in "${tool_list[@]}"; do
        if [ "${4:-}" = cost ] && [ "$tool" = spin_trained ]; then continue; fi
        if { [ "$tool" = spin_bcf ] || [ "$tool" = spin_prep ]; } && [ ! -s "$2/panel.bcf" ]; then continue; fi
        log "$tool on $1 ($3 repeats)"
        run_tool "$tool" "$1" "$2" "$3"
    done
}
while IFS='|' read -r name panel map ntgt args desc; do
    has "$tasks" "$name" || continue
    build_task "$name" "$panel" "$map" "$ntgt" "$args"
    echo "$name|$desc" >>"$work/tasks.run"
    printf '%s\t%s\n' "$name" "$work/$name" >>"$work/taskdirs.tsv"
    run_all_tools "$name" "$work/$name" "$repeats"
done < <(task_table)
if has "$tasks" scaling; then
    build_scaling
    for n in $SCAL_SIZES; do
        printf '%s\t%s\n' "p$n" "$work/scaling/p$n" >>"$work/taskdirs.tsv"
        run_all_tools "p$n" "$work/scaling/p$n" "$srepeats" cost
    done
fi
if has "$tasks" cohort; then
    build_cohort cohort "$work/cohort" -n "$COHORT_TARGETS" -p "$COHORT_PANEL" -H "${COHORT_SIM:-$((COHORT_PANEL + 2 * COHORT_TARGETS))}" \
        -L "$COHORT_LEN" -b
    echo "cohort|cohort scale: scrm OOA $COHORT_LEN bp, $COHORT_PANEL panel haplotypes, $COHORT_TARGETS targets" >>"$work/tasks.run"
    printf '%s\t%s\n' cohort "$work/cohort" >>"$work/taskdirs.tsv"
    run_all_tools cohort "$work/cohort" "$srepeats" cost
fi
if has "$tasks" cohort_targets; then
    # one simulation of panel + 2 x the largest target count: the same panel, nested targets
    # shellcheck disable=SC2086
    h=$((COHORT_PANEL + 2 * $(maxof $COHORT_SERIES_TARGETS)))
    for n in $COHORT_SERIES_TARGETS; do
        build_cohort "cohort_t$n" "$work/cohort_h$h/t$n" -n "$n" -p "$COHORT_PANEL" -H "$h" -L "$COHORT_LEN"
        echo "cohort_t$n|targets series: scrm OOA $COHORT_LEN bp ($h haplotypes simulated), $COHORT_PANEL panel haplotypes, $n targets" >>"$work/tasks.run"
        printf '%s\t%s\n' "cohort_t$n" "$work/cohort_h$h/t$n" >>"$work/taskdirs.tsv"
        run_all_tools "cohort_t$n" "$work/cohort_h$h/t$n" "$srepeats" cost
    done
fi
if has "$tasks" ooa_panels; then
    # one simulation of the largest panel + 2 x targets: nested panels, the same targets and
    # the largest panel's typed set throughout
    # shellcheck disable=SC2086
    pmax=$(maxof $PANEL_SERIES)
    h=$((pmax + 2 * PANEL_TARGETS))
    big=$work/ooa_h$h/p$pmax
    # shellcheck disable=SC2086
    for p in $(printf '%s\n' $PANEL_SERIES | sort -rn); do
        nm=ooa_p$(hname "$p")
        if [ "$p" = "$pmax" ]; then
            build_cohort "$nm" "$big" -n "$PANEL_TARGETS" -p "$p" -H "$h" -L "$PANEL_LEN"
        else
            build_cohort "$nm" "$work/ooa_h$h/p$p" -n "$PANEL_TARGETS" -p "$p" -H "$h" -L "$PANEL_LEN" -y "$big/typed.tsv"
        fi
    done
    for p in $PANEL_SERIES; do
        nm=ooa_p$(hname "$p")
        echo "$nm|panel series: scrm OOA $PANEL_LEN bp ($h haplotypes simulated), $p panel haplotypes, $PANEL_TARGETS targets" >>"$work/tasks.run"
        printf '%s\t%s\n' "$nm" "$work/ooa_h$h/p$p" >>"$work/taskdirs.tsv"
        run_all_tools "$nm" "$work/ooa_h$h/p$p" "$srepeats" cost
    done
fi
elapsed=$(($(date +%s) - start))

# ---- report ------------------------------------------------------------------------------
SPIN=$SPIN SPIN_SCORE=$SPIN_SCORE "$bench/report.sh" "$work" "$results" "$plots" "$threads" "$repeats" "$srepeats" \
    "$elapsed" "$SCRM_ARGS" "$SCAL_SIZES"
log "done in ${elapsed}s: $results"
