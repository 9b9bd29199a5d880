#!/bin/bash
# report.sh -- turn a bench/run.sh work directory into RESULTS.md and PNG plots.
#   report.sh WORK RESULTS.md PLOTDIR THREADS REPEATS SCALING_REPEATS ELAPSED_S SCRM_ARGS SIZES
# Reads WORK/times.tsv (tool task phase rep wall cpu rss_kb status), WORK/scored.txt,
# WORK/taskdirs.tsv (task name -> directory), WORK/tasks.run (name|description, run order),
# <taskdir>/score.<tool>.tsv (from `spin-impute score --tsv`), task.txt files and the
# spin-impute logs (stage lines parsed by bench/stages.awk).
set -euo pipefail
work=$1 results=$2 plots=$3 threads=$4 repeats=$5 srepeats=$6 elapsed=$7 scrm_args=$8 sizes=$9
mkdir -p "$plots"
bench=$(cd "$(dirname "$0")" && pwd)
taskdir() {
    local d=
    [ -f "$work/taskdirs.tsv" ] && d=$(awk -F'\t' -v t="$1" '$1 == t { d = $2 } END { print d }' "$work/taskdirs.tsv")
    if [ -n "$d" ]; then echo "$d"; else case $1 in p[0-9]*) echo "$work/scaling/$1" ;; *) echo "$work/$1" ;; esac; fi
}
runorder() { [ -f "$work/tasks.run" ] && awk -F'|' '!seen[$1]++ { print $1 }' "$work/tasks.run"; }
kv() { sed -n "s/^$2=//p" "$1"; }
sn() { awk -F'\t' -v k="$2" '$1 == "SN" && $2 == k { print $3 }' "$1"; }

# medians per tool/task/phase over successful repeats: tool task phase wall cpu rss_mb n
awk -F'\t' '$8 == "ok" { k = $1 "\t" $2 "\t" $3; n[k]++; w[k, n[k]] = $5; c[k, n[k]] = $6; m[k, n[k]] = $7 }
    function med(a, k, nn,   i, j, t, v) {
        for (i = 1; i <= nn; i++) v[i] = a[k, i]
        for (i = 2; i <= nn; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
        return nn % 2 ? v[(nn + 1) / 2] : (v[nn / 2] + v[nn / 2 + 1]) / 2 }
    END { for (k in n) printf "%s\t%.2f\t%.2f\t%.1f\t%d\n", k, med(w, k, n[k]), med(c, k, n[k]), med(m, k, n[k]) / 1024, n[k] }' \
    "$work/times.tsv" | sort >"$work/medians.tsv"
med() { awk -F'\t' -v t="$1" -v k="$2" -v p="$3" -v c="$4" '$1 == t && $2 == k && $3 == p { print $c }' "$work/medians.tsv"; }

# one row per scored tool/task
rows=$work/rows.tsv
: >"$rows"
while read -r tool task; do
    d=$(taskdir "$task")
    s=$d/score.$tool.tsv
    bins=$(awk -F'\t' '$1 == "BIN" { printf "%s%s/%s", (n++ ? "\t" : ""), $6, $7 }' "$s")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$task" \
        "$(($(kv "$d/task.txt" panel_samples) * 2))" "$(med "$tool" "$task" impute 4)" "$(med "$tool" "$task" impute 5)" \
        "$(med "$tool" "$task" impute 6)" "$(med "$tool" "$task" prep 4)" "$(sn "$s" pooled_r2)" "$(sn "$s" mean_r2)" \
        "$(sn "$s" concordance)" "$(sn "$s" nonref_concordance)" "$(sn "$s" dr2_calibration_r)" \
        "$(sn "$s" sites_scored)" "$(sn "$s" sites_missing_from_imputed)" "$(sn "$s" genotypes_scored)" "$bins" >>"$rows"
done <"$work/scored.txt"
# per task: task targets masked typed density_bp min_maf panel_haps
tinfo=$work/tinfo.tsv
: >"$tinfo"
for task in $(awk '{ print $2 }' "$work/scored.txt" | sort -u); do
    t=$(taskdir "$task")/task.txt
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$task" "$(kv "$t" target_samples)" "$(wc -l <"$(taskdir "$task")/masked.tsv")" \
        "$(kv "$t" typed)" "$(kv "$t" density_bp)" "$(kv "$t" min_maf)" "$(($(kv "$t" panel_samples) * 2))" >>"$tinfo"
done
# columns: 1 tool 2 task 3 haps 4 wall 5 cpu 6 rss 7 prep 8 pooled 9 mean 10 conc 11 nrc 12 calib
#          13 sites 14 missing 15 genotypes 16.. bins (mean/agg)

first_score=$(awk '{ print $2 }' "$work/scored.txt" | head -n1)
bin_hdr=""
if [ -n "$first_score" ]; then
    bin_hdr=$(awk -F'\t' '$1 == "BIN" { printf " (%s,%s] |", $2, $3 }' "$(taskdir "$first_score")/score.$(head -n1 "$work/scored.txt" | cut -d' ' -f1).tsv")
fi
nbin=$(echo "$bin_hdr" | tr -cd '|' | wc -c)

table() { # task filter (awk regex on task) -> markdown rows with ratios to Beagle
    awk -F'\t' -v re="$1" -v nbin="$nbin" '
        function ratio(a, b) { return (b + 0 > 0 && a != "" && a != "NA") ? sprintf("%.2f", a / b) : "-" }
        $2 ~ re { r[++n] = $0; if ($1 == "beagle") { bw[$2] = $4; bm[$2] = $6; br[$2] = $8 } }
        END { for (i = 1; i <= n; i++) { split(r[i], f, "\t")
            line = sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", f[1], f[2], f[3], f[4], f[5], f[6], \
                f[7] == "" ? "-" : f[7], f[8], f[9])
            for (b = 0; b < nbin; b++) line = line " " (f[16 + b] == "" ? "-" : f[16 + b]) " |"
            line = line sprintf(" %s | %s | %s | %s | %s | %s |", f[10], f[11], f[12], \
                ratio(f[4], bw[f[2]]), ratio(f[6], bm[f[2]]), ratio(f[8], br[f[2]]))
            print line } }' "$rows"
}

summary() { # density summary: tasks of each main panel ordered by density, one row per tool
    local p d task
    for p in eur_lct sim_ooa3 all_chr1; do
        for d in 1k "" 10k 20k; do
            task=$p${d:+_d$d}
            awk -F'\t' -v t="$task" '$2 == t' "$rows" | grep -q . || continue
            awk -F'\t' -v t="$task" '
                function dl(a, b) { return (a != "" && b != "" && a != "NA" && b != "NA") ? sprintf("%+.4f", a - b) : "-" }
                NR == FNR { if ($1 == t) { dens = $5; maf = $6; typed = $4 } next }
                $2 == t { r[++n] = $0; if ($1 == "beagle") { bp = $8; bm = $9; bc = $12 } }
                END { for (i = 1; i <= n; i++) { split(r[i], f, "\t")
                    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, \
                        (dens >= 1000 ? (dens / 1000) " kb" : dens " bp"), maf, typed, f[1], f[9], dl(f[9], bm), \
                        f[8], dl(f[8], bp), f[12], dl(f[12], bc) } }' "$tinfo" "$rows"
        done
    done
}
cohort_table() { # regex on task -> cohort rows: genotypes/s, ratios to Beagle and Minimac4
    awk -F'\t' -v re="$1" '
        function ratio(a, b) { return (b + 0 > 0 && a != "" && a != "NA") ? sprintf("%.2f", a / b) : "-" }
        NR == FNR { tg[$1] = $2; ms[$1] = $3; next }
        $2 ~ re { r[++n] = $0; if ($1 == "beagle") { bw[$2] = $4; bm[$2] = $6 } if ($1 == "minimac4") mw[$2] = $4 }
        END { for (i = 1; i <= n; i++) { split(r[i], f, "\t"); t = f[2]
            gps = f[4] + 0 > 0 ? sprintf("%.2f", tg[t] * ms[t] / f[4] / 1e6) : "-"
            pt = tg[t] + 0 > 0 && f[4] != "" ? sprintf("%.4f", f[4] / tg[t]) : "-"
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, f[1], f[3], \
                tg[t], ms[t], f[4], f[5], f[6], f[7] == "" ? "-" : f[7], gps, ratio(f[4], bw[t]), ratio(f[4], mw[t]), \
                ratio(f[6], bm[t]), pt, f[8], f[9], f[12] } }' "$tinfo" "$rows"
}

# ---- plots ------------------------------------------------------------------------------------
gp_common='set terminal pngcairo size 800,500 noenhanced font ",10"; set datafile missing "NA"; set key right bottom; set grid'
noplots=0
if ! command -v gnuplot >/dev/null; then
    # the tables do not need it (run.sh insists on it; test/check-bench-task.sh does not)
    echo "report.sh: gnuplot not found: no plots" >&2
    noplots=1
    gnuplot() { :; }
fi
gp_term=pngcairo
[ $noplots = 1 ] || gnuplot -e 'set terminal pngcairo' 2>/dev/null || gp_term=png
gp_common=${gp_common/pngcairo/$gp_term}
plot_list=""
for task in $(awk '{ print $2 }' "$work/scored.txt" | sort -u); do
    case $task in p[0-9]* | cohort* | ooa_p*) continue ;; esac
    d=$(taskdir "$task")
    dat=$work/r2maf.$task.dat
    tl=$(awk -v t="$task" '$2 == t { print $1 }' "$work/scored.txt")
    # bin label + one mean-r2 column per tool
    awk -F'\t' '$1 == "BIN" { print "(" $2 "," $3 "]" }' "$d/score.$(echo "$tl" | head -n1).tsv" >"$dat.lab"
    cols=("$dat.lab")
    for tool in $tl; do
        awk -F'\t' '$1 == "BIN" { print $6 }' "$d/score.$tool.tsv" >"$dat.$tool"
        cols+=("$dat.$tool")
    done
    { printf 'bin'; for tool in $tl; do printf '\t%s' "$tool"; done; printf '\n'; paste "${cols[@]}"; } >"$dat"
    ncol=$(($(echo "$tl" | wc -w) + 1))
    gnuplot -e "$gp_common; set output '$plots/r2_maf_$task.png'; set title 'mean per-variant r2 by MAF bin: $task'; \
        set xlabel 'MAF bin'; set ylabel 'mean r2'; set yrange [0:1]; \
        plot for [i=2:$ncol] '$dat' using i:xtic(1) with linespoints lw 2 title columnheader(i)"
    plot_list="$plot_list r2_maf_$task.png"
done
if grep -q ' p[0-9]' "$work/scored.txt" 2>/dev/null || awk '$2 ~ /^p[0-9]/' "$work/medians.tsv" | grep -q .; then
    for metric in wall rss; do
        col=4; yl='wall-clock seconds'
        [ $metric = rss ] && { col=6; yl='peak RSS (MB)'; }
        dat=$work/scaling.$metric.dat
        tl=$(awk -F'\t' '$2 ~ /^p[0-9]/ && $3 == "impute" { print $1 }' "$work/medians.tsv" | sort -u)
        # tools with a one-off preparation also get a line "TOOL+prep" (wall: sum; RSS: max)
        tp=$(awk -F'\t' '$2 ~ /^p[0-9]/ && $3 == "prep" { print $1 }' "$work/medians.tsv" | sort -u)
        {
            printf 'haplotypes'
            for tool in $tl; do printf '\t%s' "$tool"; done
            for tool in $tp; do printf '\t%s+prep' "$tool"; done
            printf '\n'
            for n in $sizes; do
                printf '%d' $((n * 2))
                for tool in $tl; do
                    v=$(med "$tool" "p$n" impute $col)
                    printf '\t%s' "${v:-NA}"
                done
                for tool in $tp; do
                    a=$(med "$tool" "p$n" impute $col) b=$(med "$tool" "p$n" prep $col)
                    if [ -n "$a" ] && [ -n "$b" ]; then
                        awk -v a="$a" -v b="$b" -v m=$metric 'BEGIN { printf "\t%.2f", m == "rss" ? (a > b ? a : b) : a + b }'
                    else printf '\tNA'; fi
                done
                printf '\n'
            done
        } >"$dat"
        ncol=$(($(echo "$tl $tp" | wc -w) + 1))
        gnuplot -e "$gp_common; set output '$plots/scaling_$metric.png'; set title 'cost vs panel size (scrm, 100 targets, $threads threads)'; \
            set logscale xy; set xlabel 'panel haplotypes'; set ylabel '$yl'; \
            plot for [i=2:$ncol] '$dat' using 1:i with linespoints lw 2 title columnheader(i)"
        plot_list="$plot_list scaling_$metric.png"
    done
fi

# cohort series: wall s per target sample against panel haplotypes (fixed targets) and wall s
# against targets (fixed panel), one line per tool
series_plot() { # regex-on-task x-column(3 = panel haps, T = targets) y(wall|pertarget) file title xlabel ylabel
    local dat=$work/series.$4.dat
    awk -F'\t' -v re="$1" -v xc="$2" -v y="$3" '
        NR == FNR { tg[$1] = $2; next }
        $2 ~ re && $4 != "" { x = xc == "T" ? tg[$2] : $xc; if (!(x in seenx)) { seenx[x] = 1; xs[++nx] = x }
            if (!($1 in seent)) { seent[$1] = 1; ts[++nt] = $1 }
            v[x, $1] = y == "pertarget" ? $4 / tg[$2] : $4 }
        END { if (nx < 2) exit
            for (i = 2; i <= nx; i++) { t = xs[i]; for (j = i - 1; j >= 1 && xs[j] + 0 > t + 0; j--) xs[j + 1] = xs[j]; xs[j + 1] = t }
            printf "x"; for (j = 1; j <= nt; j++) printf "\t%s", ts[j]; printf "\n"
            for (i = 1; i <= nx; i++) { printf "%s", xs[i]
                for (j = 1; j <= nt; j++) printf "\t%s", ((xs[i], ts[j]) in v) ? v[xs[i], ts[j]] : "NA"; printf "\n" } }' \
        "$tinfo" "$rows" >"$dat"
    [ -s "$dat" ] || return 0
    local ncol
    ncol=$(head -n1 "$dat" | awk -F'\t' '{ print NF }')
    gnuplot -e "$gp_common; set output '$plots/$4.png'; set title '$5'; set logscale xy; set xlabel '$6'; set ylabel '$7'; \
        plot for [i=2:$ncol] '$dat' using 1:i with linespoints lw 2 title columnheader(i)"
    plot_list="$plot_list $4.png"
}
series_plot '^ooa_p' 3 pertarget cohort_panels "OOA panel series: wall s per target sample ($threads threads)" 'panel haplotypes' 'wall s per target'
series_plot '^cohort_t[0-9]+$' T wall cohort_targets "cohort targets series: wall s ($threads threads)" 'target samples' 'wall s'

# ---- RESULTS.md --------------------------------------------------------------------------------
ver_beagle=$(beagle 2>&1 | grep -m1 'version' || true)
ver_mm=$(minimac4 --version 2>&1 | head -n1 || true)
ver_spin=$("${SPIN:-false}" --version 2>/dev/null | head -n1 || echo "not available")
ver_bcf=$(bcftools --version | head -n1)
ver_java=$(java -version 2>&1 | grep -v '^Picked' | head -n1 || true)
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
rel_plots=$(python3 -c "import os,sys; print(os.path.relpath(sys.argv[1], os.path.dirname(sys.argv[2])))" "$plots" "$results" 2>/dev/null || echo plots)
hdr="| tool | task | panel haps | wall s | CPU s | peak RSS MB | prep s | pooled R² | mean r² |$bin_hdr conc. | NR conc. | DR2 calib. r | wall ×Beagle | RSS ×Beagle | R² ×Beagle |"
sep=$(echo "$hdr" | sed 's/[^|]/-/g; s/--*/---/g')
{
    cat <<EOF
# Benchmark: spin-impute vs Beagle 5.4 vs Minimac4

Generated by \`bench/run.sh\` on $(date -u +%Y-%m-%d) (whole run ${elapsed} s). Do not edit by hand:
rerun \`bench/run.sh\` (or \`make bench\`). How the model's settings were chosen (ablations
measured on these tasks): [ablations.md](ablations.md).

## Setup

- Machine: ${cpu:-unknown CPU}, $(nproc) cores; every tool ran with **$threads threads**.
- Versions: $ver_beagle; $ver_mm; spin-impute: $ver_spin; $ver_bcf; $ver_java.
- Timing: \`/usr/bin/time -v\`; medians of $repeats runs (real-data tasks) and $srepeats (scaling task).
  *wall s*, *CPU s* (user+system) and *peak RSS* are the imputation step; *prep s* is the one-off
  reference preparation (Minimac4 \`--compress-reference\`; spin-impute training for *spin_trained*),
  not included in *wall s*. Beagle's RSS is a JVM heap size effect (\`JAVA_TOOL_OPTIONS=${JAVA_TOOL_OPTIONS:-}\`).
- Tasks (\`bench/make_task.sh\`): biallelic SNPs, one record per position; samples split into
  panel and targets; panel keeps sites polymorphic in the panel; targets keep an array-like typed set
  (main tasks, seed 11: one random SNP with panel MAF ≥ 5% per 5 kb; density tasks: per 1 kb with
  MAF ≥ 1%, per 10 kb and per 20 kb, own seeds; cohort tasks: \`bench/make_scale_task.sh\`);
  truth = the targets at every panel site.
- Scoring (\`spin-impute score --sites masked.tsv --af-from panel.vcf.gz\`): every tool is scored on
  exactly the same sites (the panel sites that are not typed), MAF bins from the panel. Pooled R² =
  squared Pearson correlation over all genotype dosages (as in the SPIN paper); mean r² over sites
  polymorphic in the truth; bins show *mean per-variant r² / aggregate r²*; concordance of hard
  calls (GT); NR = non-reference concordance; DR2 calib. = Pearson r between the tool's DR2/R2 and
  the true per-variant r².

Commands (per task directory \`D\`):

\`\`\`
beagle gt=D/targets.vcf.gz ref=D/panel.vcf.gz map=D/map.plink out=D/out.beagle nthreads=$threads
minimac4 --compress-reference D/panel.vcf.gz > D/panel.msav
minimac4 -t $threads -m D/map.plink -f GT,DS -O vcf.gz -o D/out.minimac4.vcf.gz D/panel.msav D/targets.vcf.gz
spin-impute D/panel.vcf.gz D/targets.vcf.gz -o D/out.spin.vcf.gz --map D/map.plink --threads $threads
spin-impute D/panel.bcf D/targets.vcf.gz -o D/out.spin_bcf.vcf.gz --map D/map.plink --threads $threads   # spin_bcf (cohort)
spin-impute prepare -t $threads -o D/panel.spanel D/panel.bcf                                           # spin_prep (cohort): prep s
spin-impute D/panel.spanel D/targets.vcf.gz -o D/out.spin_prep.vcf.gz --map D/map.plink --threads $threads   # spin_prep
spin-impute score -t D/truth.vcf.gz -s D/masked.tsv -a D/panel.vcf.gz --tsv D/score.TOOL.tsv D/out.TOOL.vcf.gz
\`\`\`

## Tasks

| task | description | panel samples | target samples | sites | typed | typed per Mb | scored (masked) |
|---|---|---|---|---|---|---|---|
EOF
    if [ -f "$work/tasks.run" ]; then
        awk -F'|' '!seen[$1]++' "$work/tasks.run" | while IFS='|' read -r name desc; do
            t=$(taskdir "$name")/task.txt
            [ -f "$t" ] || continue
            perm=$(awk -v a="$(kv "$t" first_pos)" -v b="$(kv "$t" last_pos)" -v n="$(kv "$t" typed)" \
                'BEGIN { printf "%.0f", (b > a ? n / ((b - a) / 1e6) : 0) }')
            echo "| $name | $desc | $(kv "$t" panel_samples) | $(kv "$t" target_samples) | $(kv "$t" sites) | $(kv "$t" typed) | $perm | $(kv "$t" masked) |"
        done
        # few typed sites: the task still runs, but its numbers say little about a real array
        # (notes printed after the table, which the scaling rows below still extend)
        awk -F'|' '!seen[$1]++ { print $1 }' "$work/tasks.run" | while read -r name; do
            t=$(taskdir "$name")/task.txt
            [ -f "$t" ] || continue
            ty=$(kv "$t" typed)
            if [ "$ty" -lt 20 ]; then
                kb=$(( ($(kv "$t" last_pos) - $(kv "$t" first_pos)) / 1000 ))
                printf '\n**%s is degenerate**: only %s typed sites over %s kb (%s scored sites, about %s per typed site): it is kept for completeness, but its accuracy is dominated by the sites far from any typed marker; read it as indicative only.\n' \
                    "$name" "$ty" "$kb" "$(kv "$t" masked)" "$(( $(kv "$t" masked) / (ty > 0 ? ty : 1) ))"
            fi
        done >"$work/degenerate.md"
    fi
    for n in $sizes; do
        t=$work/scaling/p$n/task.txt
        [ -f "$t" ] || continue
        nm=$(wc -l <"$work/scaling/p$n/masked.tsv")
        perm=$(awk -v a="$(kv "$t" first_pos)" -v b="$(kv "$t" last_pos)" -v n="$(kv "$t" typed)" \
            'BEGIN { printf "%.0f", (b > a ? n / ((b - a) / 1e6) : 0) }')
        echo "| p$n | scaling: first $n panel samples of the scrm panel | $n | $(kv "$t" target_samples) | $((nm + $(kv "$t" typed))) | $(kv "$t" typed) | $perm | $nm |"
    done
    [ ! -s "$work/degenerate.md" ] || cat "$work/degenerate.md"
    if awk -F'\t' '$2 ~ /^(eur_lct|sim_ooa3|all_chr1)$/' "$rows" | grep -q .; then
        printf '\n## Results: real-data and simulated tasks\n\n%s\n%s\n' "$hdr" "$sep"
        table '^(eur_lct|sim_ooa3|all_chr1)$'
    fi
    if awk -F'\t' '$2 ~ /_d[0-9]+k$/' "$rows" | grep -q .; then
        printf '\n## Results: array densities\n\n'
        printf 'The main panels with typed sets of one SNP per 1 kb (panel MAF ≥ 1%%), 10 kb and 20 kb (MAF ≥ 5%%),\n'
        printf 'each drawn with its own seed (`bench/run.sh` task table); the 5 kb rows are the main tasks above.\n'
        printf 'Summary (Δ = tool − Beagle on the same task; DR2 calib. r = Pearson r of DR2 with the true r²):\n\n'
        printf '| task | SNP per | min MAF | typed | tool | mean r² | Δ Beagle | pooled R² | Δ Beagle | DR2 calib. r | Δ Beagle |\n'
        printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
        summary
        printf '\nEvery MAF bin (*mean per-variant r² / aggregate r²*), time and memory:\n\n%s\n%s\n' "$hdr" "$sep"
        table '_d[0-9]+k$'
    fi
    if awk '$2 ~ /^p[0-9]/' "$rows" | grep -q .; then
        printf '\n## Results: scaling (scrm panels, fixed 100 targets)\n\nscrm command: `scrm %s` (2 Mb, converted by `bench/scrm2vcf.py`), uniform map 1 cM/Mb.\n\n%s\n%s\n' \
            "$scrm_args" "$hdr" "$sep"
        table '^p[0-9]+$'
    fi
    if awk -F'\t' '$2 ~ /^(cohort|ooa_p)/' "$rows" | grep -q .; then
        printf '\n## Results: cohort scale (scrm Out-of-Africa)\n\n'
        printf 'Made by `bench/make_scale_task.sh` (the sim_ooa3 model scaled to the region; simulation cached in\n'
        printf '`bench/work/sims`; 1 SNP per 5 kb with panel MAF ≥ 5%% typed; uniform map 1 cM/Mb). scrm commands:\n\n'
        for task in $(runorder); do
            case $task in cohort* | ooa_p*) ;; *) continue ;; esac
            t=$(taskdir "$task")/task.txt
            [ -f "$t" ] || continue
            printf -- '- %s: `%s`\n' "$task" "$(kv "$t" scrm_cmd | sed 's/ -transpose-segsites$//; s/ -I 3 .* -SC / ... -SC /')"
        done | sort -u -t: -k1,1
        printf '\n(The demographic options, elided as `...`, are those of `../shared/data/sim_ooa3_chr20_1mb/scrm.cmd`.)\n'
        printf '*genotypes/s* = target samples × imputed (masked) sites / wall s. *spin_bcf* = spin-impute reading the\n'
        printf 'same panel as BCF instead of VCF.gz; *spin_prep* from the panel prepared by `spin-impute prepare`\n'
        printf '(its time is *prep s*). *×Minimac4* compares with its imputation step; its\n'
        printf '`--compress-reference` is *prep s*, not included.\n\n'
        printf '| task | tool | panel haps | targets | imputed sites | wall s | CPU s | peak RSS MB | prep s | M genotypes/s | wall ×Beagle | wall ×Minimac4 | RSS ×Beagle | wall s per target | pooled R² | mean r² | DR2 calib. r |\n'
        printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
        cohort_table '^(cohort|ooa_p)'
        printf '\nEvery MAF bin:\n\n%s\n%s\n' "$hdr" "$sep"
        table '^(cohort|ooa_p)'
    fi
    # per-stage time of spin-impute on the cohort tasks: every timing clause its log has
    stages=$(for task in $(runorder); do
        case $task in cohort* | ooa_p*) ;; *) continue ;; esac
        for tool in spin spin_bcf spin_prep; do
            lg=$(taskdir "$task")/log.$tool
            [ -s "$lg" ] || continue
            grep -qx "$tool $task" "$work/scored.txt" || continue
            haps=$(($(kv "$(taskdir "$task")/task.txt" target_samples) * 2))
            awk -v haps="$haps" -f "$bench/stages.awk" "$lg" | awk -F'\t' -v t="$task" -v tool="$tool" \
                '{ printf "| %s | %s | %s | %s | %s |\n", t, tool, $1, $2, $3 }'
        done
    done)
    if [ -n "$stages" ]; then
        printf '\n## spin-impute time per stage (cohort tasks)\n\n'
        printf 'Every timing or memory figure in spin-impute'"'"'s log of the last run (`bench/stages.awk`); rates are\n'
        printf 'turned into totals with the logged window count and the target haplotypes (engine figures are\n'
        printf 'thread-seconds; *CPU outside the engine* is reading, matching, formatting and compressing: the engine\n'
        printf 'figures are per-thread wall time, so this difference is only meaningful on a quiet machine).\n\n'
        printf '| task | tool | stage | as logged | total s |\n|---|---|---|---|---|\n'
        printf '%s\n' "$stages"
    fi
    # spin-impute's own cost accounting (the last impute run's log line, thread-seconds)
    costs=$(for task in $(runorder) $(for n in $sizes; do echo "p$n"; done); do
        lg=$(taskdir "$task")/log.spin
        [ -f "$lg" ] || continue
        t=$(taskdir "$task")/task.txt
        awk -v task="$task" -v haps=$(($(kv "$t" panel_samples) * 2)) '/engine: panel encoding/ {
            for (i = 1; i <= NF; i++) {
                if ($i == "encoding") enc = $(i + 1)
                if ($i == "search") nbr = $(i + 1)
                if ($i == "prediction") pred = $(i + 1)
                if ($i ~ /^\(/ && $(i + 1) ~ /^windows/) win = substr($i, 2)
            }
            line = sprintf("| %s | %d | %s | %s | %s | %s |", task, haps, win, enc, nbr, pred)
        } END { if (line != "") print line }' "$lg"
    done)
    if [ -n "$costs" ]; then
        printf '\n## spin-impute cost per window and per target haplotype\n\n'
        printf 'From the `engine:` line spin-impute logs (thread-seconds, so independent of the thread count).\n'
        printf 'Panel encoding is capped at the model'"'"'s enc_rows strided rows per window; prediction per target\n'
        printf 'haplotype does not depend on the panel; the neighbour search is bit-parallel (panel/64 words per typed site).\n\n'
        printf '| task | panel haps | windows | encoding ms/window | neighbour search us/target hap/window | prediction us/target hap/window |\n'
        printf '|---|---|---|---|---|---|\n'
        printf '%s\n' "$costs"
    fi
    if [ -s "$work/notes.txt" ]; then
        printf '\n## Runs that failed or were skipped\n\n'
        cat "$work/notes.txt"
    fi
    printf '\n## Plots\n\n'
    [ $noplots = 0 ] || printf 'None: gnuplot was not installed.\n'
    [ $noplots = 1 ] || for p in $plot_list; do printf '![%s](%s/%s)\n\n' "$p" "$rel_plots" "$p"; done
} >"$results"
