#!/bin/sh
# memory.sh -- peak RSS of spin-impute and Beagle 5.4 on a cohort task and on the
# same task tiled N times along one longer contig (issue 10 item 3: memory bounded
# by chunks of windows, not by the chromosome).
#
#   bench/memory.sh [options] TASKDIR WORKDIR
#
#   TASKDIR   a bench/make_scale_task.sh task: panel.bcf, targets.vcf.gz, map.plink
#             (only read)
#   WORKDIR   tiled inputs, outputs, /usr/bin/time logs and memory.tsv go here
#   -n N      copies in the tiled task                                  [10]
#   -L BP     bp each copy is shifted by (>= the task's last position)  [5000000]
#   -t N      spin-impute --threads and Beagle nthreads                 [2]
#   -B        skip Beagle
#   -x ARGS   extra spin-impute options (e.g. "--max-panel-mb 0")       []
#   -S FILE   spin-impute binary                          [the build next to bench/]
#   -R        only rewrite memory.md from WORKDIR/memory.tsv
#
# Tiling: copy k (0-based) of every panel and target record is shifted by k*L bp;
# the ##contig length becomes N*L; the PLINK map's lines are shifted by k*L bp and
# k*(cM at L) cM (the first line of copies after the first is dropped when it
# repeats the previous copy's last position). The tiled inputs are made once and
# reused (also as VCF.gz for Beagle). Runs: spin-impute with the BCF panel and with the prepared panel
# (`spin-impute prepare`), 1x and Nx; Beagle 5.4 (java -Xmx20g, nthreads) 1x and Nx.
# Peak RSS comes from /usr/bin/time -v (exact); wall and CPU times are indicative
# only on a shared machine. memory.tsv: run, copies, panel, peak RSS MB, wall s,
# user+sys CPU s; memory.md: the same as a Markdown table with RSS ratios (Nx / 1x,
# / Beagle's on the same input). -R redoes the table from memory.tsv without running.
set -eu

bench=$(cd "$(dirname "$0")" && pwd)
spin=$bench/../spin-impute
copies=10 shift=5000000 nthr=2 beagle=1 extra= report_only=0
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit "$1"; }
while getopts n:L:t:Bx:S:Rh o; do
    case $o in
    n) copies=$OPTARG ;; L) shift=$OPTARG ;; t) nthr=$OPTARG ;; B) beagle=0 ;; x) extra=$OPTARG ;;
    S) spin=$OPTARG ;; R) report_only=1 ;; h) usage 0 ;; *) usage 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage 2
task=$1 work=$2
for f in panel.bcf targets.vcf.gz map.plink; do
    [ "$report_only" = 1 ] || [ -f "$task/$f" ] || { echo "memory.sh: $task/$f missing" >&2; exit 1; }
done
mkdir -p "$work"
tsv=$work/memory.tsv

# memory.md: the table with RSS ratios (Nx / 1x of the same run; / Beagle's on the same input)
report() {
    awk -F'\t' -v n="$copies" '
        NR > 1 {
            r[$1, $2] = $4; w[$1, $2] = $5; c[$1, $2] = $6; p[$1, $2] = $3
            if (!($1 in seen)) { seen[$1] = 1; o[++k] = $1 }
        }
        END {
            print "| run | copies | panel | peak RSS MB | RSS / 1x | RSS / Beagle | wall s | CPU s |"
            print "|---|---|---|---|---|---|---|---|"
            for (j = 1; j <= k; j++)
                for (m = 1; m <= 2; m++) {
                    x = m == 1 ? 1 : n
                    if (!((o[j], x) in r)) continue
                    b = (("beagle", x) in r) ? sprintf("%.2f", r[o[j], x] / r["beagle", x]) : "-"
                    printf "| %s | %d | %s | %.1f | %.2f | %s | %.1f | %.1f |\n", o[j], x, p[o[j], x], r[o[j], x],
                        r[o[j], x] / r[o[j], 1], b, w[o[j], x], c[o[j], x]
                }
        }' "$tsv" > "$work/memory.md"
    cat "$work/memory.md"
}
[ "$report_only" = 1 ] && { report; exit 0; }

# tile FILE OUT.(bcf|vcf.gz) N: the records of FILE repeated N times, shifted
tile() {
    in=$1 out=$2 nc=$3
    [ -s "$out" ] && return 0
    len=$((nc * shift))
    {
        bcftools view -h "$in" | sed "s/^\(##contig=<ID=[^,>]*\),length=[0-9]*/\1,length=$len/"
        k=0
        while [ $k -lt "$nc" ]; do
            bcftools view -H "$in" | awk -v OFS='\t' -v d=$((k * shift)) '{ $2 += d; print }'
            k=$((k + 1))
        done
    } | case $out in
        *.bcf) bcftools view --threads "$nthr" -Ob -o "$out.tmp" ;;
        *) bgzip -@ "$nthr" -c > "$out.tmp" ;;
    esac
    mv "$out.tmp" "$out"
    case $out in
    *.bcf) bcftools index -f "$out" ;;
    *) bcftools index -f -t "$out" ;;
    esac
}

for n in 1 "$copies"; do
    tile "$task/panel.bcf" "$work/panel.x$n.bcf" "$n"
    tile "$task/targets.vcf.gz" "$work/targets.x$n.vcf.gz" "$n"
    # Beagle reads VCF, not BCF
    [ "$beagle" = 0 ] || tile "$task/panel.bcf" "$work/panel.x$n.vcf.gz" "$n"
done
if [ ! -s "$work/map.x$copies.plink" ]; then
    # cM per copy: the map's cM at bp L, by linear interpolation (or its last line's rate)
    awk -v n="$copies" -v L="$shift" '
        { bp[NR] = $4; cm[NR] = $3; line[NR] = $0; c = $1 }
        END {
            span = cm[NR] + (L - bp[NR]) * (NR > 1 ? (cm[NR] - cm[1]) / (bp[NR] - bp[1]) : 1e-6)
            last = -1
            for (k = 0; k < n; k++)
                for (i = 1; i <= NR; i++) {
                    p = bp[i] + k * L
                    if (p <= last) continue
                    printf "%s\t.\t%.6f\t%d\n", c, cm[i] + k * span, p
                    last = p
                }
        }' "$task/map.plink" > "$work/map.x$copies.plink"
fi
cp -f "$task/map.plink" "$work/map.x1.plink"
for n in 1 "$copies"; do
    [ -s "$work/panel.x$n.spanel" ] || "$spin" prepare -q -t "$nthr" -o "$work/panel.x$n.spanel" "$work/panel.x$n.bcf"
done

# measure NAME COPIES PANEL CMD...: one /usr/bin/time -v run, appended to memory.tsv
measure() {
    name=$1 n=$2 panel=$3
    shift 3
    log=$work/time.$name.x$n
    if ! /usr/bin/time -v -o "$log" "$@" > "$work/log.$name.x$n" 2>&1; then
        echo "memory.sh: $name x$n failed, see $work/log.$name.x$n" >&2
        return 1
    fi
    awk -F': ' -v run="$name" -v n="$n" -v panel="$panel" '
        /Maximum resident set size/ { rss = $2 / 1024 }
        /User time/ { cpu += $2 } /System time/ { cpu += $2 }
        /Elapsed \(wall clock\)/ { k = split($2, t, ":"); w = 0; for (i = 1; i <= k; i++) w = w * 60 + t[i] }
        END { printf "%s\t%d\t%s\t%.1f\t%.1f\t%.1f\n", run, n, panel, rss, w, cpu }' "$log" >> "$tsv"
}

printf 'run\tcopies\tpanel\tpeak_rss_mb\twall_s\tcpu_s\n' > "$tsv"
for n in 1 "$copies"; do
    for kind in bcf spanel; do
        # shellcheck disable=SC2086 # $extra is a list of options
        measure "spin_$kind" "$n" "panel.x$n.$kind" "$spin" impute -t "$nthr" --no-version $extra \
            --map "$work/map.x$n.plink" -o "$work/out.spin_$kind.x$n.vcf.gz" \
            "$work/panel.x$n.$kind" "$work/targets.x$n.vcf.gz"
    done
    if [ "$beagle" = 1 ]; then
        measure beagle "$n" "panel.x$n.vcf.gz" java -Xmx20g -jar /usr/share/beagle/beagle.jar \
            ref="$work/panel.x$n.vcf.gz" gt="$work/targets.x$n.vcf.gz" map="$work/map.x$n.plink" \
            out="$work/out.beagle.x$n" nthreads="$nthr"
    fi
done
column -t "$tsv"
report
