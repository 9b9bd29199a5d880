#!/bin/sh
# check-workflow.sh -- runs workflow/Snakefile for real on test-data/ with
# `snakemake --cores 2`: phased targets (output records must equal a direct
# whole-contig run) and unphased targets (pre-phased by spin-impute, the default,
# or SHAPEIT4 with phaser: shapeit4); two
# contigs in one run with the genome-wide file; each chunk's declared memory
# covers its measured peak RSS; a run killed midway resumes without redoing
# completed chunks; a failed job shows the tool's error in the Snakemake log;
# the chr1-22 GRCh37/GRCh38 examples plan the expected chunks at 20 Mb.
# Skipped when snakemake is not installed (.ci/run installs it).
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SPIN:=$top_srcdir/spin-impute}"
T=$top_srcdir/test-data
command -v snakemake >/dev/null || { echo "SKIP: snakemake not installed" >&2; exit 77; }
command -v bcftools >/dev/null || { echo "SKIP: bcftools not installed" >&2; exit 77; }
. "$top_srcdir/test/find-model.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-workflow.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/sm.log" ] && tail -40 "$tmp/sm.log" >&2; exit 1; }

config() { # $1 = target file, $2 = dir
    mkdir -p "$2"
    cat > "$2/config.yaml" <<EOC
panels:
  "20": $T/ref.bcf
target: $1
target_phased: auto
maps:
  "20": $T/map.txt
model: $MODEL
chunk_size: 100k
buffer: 250000
threads: 2
impute_extra: "--no-version"
spin_impute: $SPIN
outdir: results
EOC
}
run() { # $1 = dir
    snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$1" --configfile "$1/config.yaml" \
        --cores 2 > "$tmp/sm.log" 2>&1 || fail "snakemake failed in $1"
}

# 1. phased targets: no SHAPEIT4 step, records equal one direct run
config "$T/target.vcf.gz" "$tmp/phased"
run "$tmp/phased"
out=$tmp/phased/results
[ -f "$out/imputed/20.vcf.gz.tbi" ] || fail "no index of the concatenated output"
[ ! -e "$out/phased" ] || fail "phased targets were phased again"
n=$(grep -vc '^#' "$out/chunks/20.tsv")
[ "$n" -ge 2 ] || fail "expected >= 2 chunks of 100 kb, got $n"
[ "$(ls "$out"/chunks/20/chunk*.vcf.gz | wc -l)" -eq "$n" ] || fail "not one output per chunk"
"$SPIN" impute -q --no-version --map "$T/map.txt" -o "$tmp/whole.vcf.gz" "$T/ref.bcf" "$T/target.vcf.gz"
bcftools view -H "$tmp/whole.vcf.gz" > "$tmp/a"
bcftools view -H "$out/imputed/20.vcf.gz" > "$tmp/b"
cmp "$tmp/a" "$tmp/b" || fail "workflow output differs from a whole-contig run"
[ "$(grep -c '^chunk' "$out/stats/20.stats.tsv")" -gt 0 ] || fail "stats not collected"
awk -F'\t' -v n="$n" '$1 == "20" { ok = ($2 == n && $3 == 2600 && $4 + $5 == 2600 && $5 == 60) } END { exit !ok }' \
    "$out/summary.tsv" || fail "summary.tsv wrong: $(cat "$out/summary.tsv")"

# 1b. every record type (indels, <DEL>, '*', multi-allelic with Number=A DR2): same records
# as a direct run, and summary.tsv reads per-ALT DR2 lists
config "$T/target_records.vcf.gz" "$tmp/rec"
sed -i "s|$T/ref.bcf|$T/ref_records.vcf.gz|" "$tmp/rec/config.yaml"
run "$tmp/rec"
"$SPIN" impute -q --no-version --map "$T/map.txt" -o "$tmp/rec.vcf.gz" "$T/ref_records.vcf.gz" "$T/target_records.vcf.gz"
bcftools view -H "$tmp/rec/results/imputed/20.vcf.gz" > "$tmp/rec.txt"
bcftools view -H "$tmp/rec.vcf.gz" | cmp -s - "$tmp/rec.txt" || fail "every-record workflow output differs from a direct run"
awk -F'\t' '$1 == "20" { ok = ($3 == 2443 && $5 == 57 && $6 != "nan") } END { exit !ok }' "$tmp/rec/results/summary.tsv" ||
    fail "every-record summary.tsv wrong: $(cat "$tmp/rec/results/summary.tsv")"

# 2. unphased targets: SHAPEIT4 pre-phasing (phaser: shapeit4), then the same pipeline
if command -v shapeit4 >/dev/null; then
    config "$T/target_unphased.vcf" "$tmp/unphased"
    echo "phaser: shapeit4" >> "$tmp/unphased/config.yaml"
    run "$tmp/unphased"
    out=$tmp/unphased/results
    [ -f "$out/phased/20.bcf" ] || fail "unphased targets were not phased"
    bcftools query -f '[%GT\n]' "$out/phased/20.bcf" | grep -q / && fail "SHAPEIT4 output is not phased"
    [ "$(bcftools view -H "$out/imputed/20.vcf.gz" | wc -l)" -eq 2600 ] || fail "unphased run: wrong record count"
    [ "$(bcftools query -l "$out/imputed/20.vcf.gz" | wc -l)" -eq 20 ] || fail "unphased run: wrong sample count"
else
    echo "note: shapeit4 not installed, pre-phasing path not tested" >&2
fi

# 2b. unphased targets phased by spin-impute itself (the default phaser): once per
# chromosome, so the chunked run equals phase-only on the whole contig + one impute
config "$T/target_unphased_all.vcf.gz" "$tmp/sphase"
run "$tmp/sphase"
out=$tmp/sphase/results
[ -f "$out/phased/20.bcf.csi" ] || fail "phaser spin-impute: no indexed phased/20.bcf"
bcftools query -f '[%GT\n]' "$out/phased/20.bcf" | grep -q / && fail "phaser spin-impute: output is not phased"
bcftools view -Ob -o "$tmp/sphase.tgt.bcf" "$T/target_unphased_all.vcf.gz" && bcftools index -f "$tmp/sphase.tgt.bcf"
"$SPIN" impute -q --phase-only -t 2 -r 20 --map "$T/map.txt" -O b -W -o "$tmp/sphase.bcf" "$T/ref.bcf" "$tmp/sphase.tgt.bcf" \
    || fail "phase-only on the whole contig"
"$SPIN" impute -q --no-version --map "$T/map.txt" -o "$tmp/sphase.vcf.gz" "$T/ref.bcf" "$tmp/sphase.bcf" \
    || fail "impute of the phased targets"
bcftools view -H "$tmp/sphase.vcf.gz" > "$tmp/sphase.txt"
bcftools view -H "$out/imputed/20.vcf.gz" | cmp -s - "$tmp/sphase.txt" \
    || fail "phaser spin-impute: chunked workflow output differs from phase-only + one whole-contig run"

# 3. two contigs (20, 22) in one run, plus the genome-wide concatenation
mkdir -p "$tmp/two"
cat > "$tmp/two/config.yaml" <<EOC
panels:
  "20": $T/ref.bcf
  "22": $T/ref22.bcf
target: $T/target_20_22.vcf.gz
maps:
  "20": $T/map.txt
contig_lengths:
  "20": 63025520
  "22": 51304566
model: $MODEL
chunk_size: 60k
buffer: 250000
threads: 1
impute_extra: "--no-version"
spin_impute: $SPIN
genome_vcf: true
outdir: results
EOC
run "$tmp/two"
out=$tmp/two/results
"$SPIN" impute -q --no-version -o "$tmp/whole22.vcf.gz" "$T/ref22.bcf" "$T/target_20_22.vcf.gz"
bcftools view -H "$tmp/whole22.vcf.gz" > "$tmp/a22"
[ "$(wc -l < "$tmp/a22")" -eq 1601 ] || fail "whole contig-22 run: wrong record count"
bcftools view -H "$out/imputed/22.vcf.gz" | cmp -s - "$tmp/a22" || fail "contig 22 differs from a whole-contig run"
bcftools view -H "$out/imputed/20.vcf.gz" | cmp -s - "$tmp/a" || fail "contig 20 (two-contig run) differs from a whole-contig run"
cat "$tmp/a" "$tmp/a22" > "$tmp/a20_22"
bcftools view -H "$out/imputed/genome.vcf.gz" | cmp -s - "$tmp/a20_22" || fail "genome.vcf.gz is not contig 20 then 22"
[ -f "$out/imputed/genome.vcf.gz.tbi" ] || fail "genome.vcf.gz not indexed"
awk -F'\t' '$1 == "22" { ok = ($3 == 1601 && $5 == 40) } END { exit !ok }' "$out/summary.tsv" ||
    fail "summary.tsv lacks contig 22: $(cat "$out/summary.tsv")"
# the memory each impute job declared covers the peak RSS spin-impute measured for it
grep -A12 '^rule impute:' "$tmp/sm.log" | awk '
    /log: / { sub(/.*log: /, ""); sub(/ .*/, ""); lf = $0 }
    /resources: / && lf != "" { match($0, /mem_mb=[0-9]+/); mem[lf] = substr($0, RSTART + 7, RLENGTH - 7); lf = "" }
    END { for (l in mem) print l "\t" mem[l] }' > "$tmp/mem.tsv"
[ "$(wc -l < "$tmp/mem.tsv")" -eq "$(cat "$out"/chunks/2?.tsv | grep -vc '^#')" ] || fail "not one memory request per chunk"
while IFS='	' read -r l m; do
    rss=$(tail -n 1 "$tmp/two/$l" | sed -n 's/.*peak RSS \([0-9.]*\) MB.*/\1/p')
    [ -n "$rss" ] || fail "$l: no peak RSS in the last line"
    awk -v r="$rss" -v m="$m" 'BEGIN { exit !(r < m) }' || fail "$l: peak RSS $rss MB > declared mem_mb $m"
done < "$tmp/mem.tsv"

# 4. killed midway, rerun: completed chunks are not redone
cp "$tmp/two/config.yaml" "$tmp/kill.yaml"
mkdir -p "$tmp/kill"
sed 's/^chunk_size: .*/chunk_size: 30k/; s/^genome_vcf: .*/genome_vcf: false/' "$tmp/kill.yaml" > "$tmp/kill/config.yaml"
setsid snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/kill" --configfile "$tmp/kill/config.yaml" \
    --cores 1 > "$tmp/kill.log" 2>&1 &
spid=$!
i=0
while [ "$(ls "$tmp"/kill/results/chunks/2?/chunk*.vcf.gz 2>/dev/null | wc -l)" -lt 3 ]; do
    kill -0 $spid 2>/dev/null || fail "the run to be killed ended before 3 chunks were done"
    [ $i -lt 600 ] || { /bin/kill -s KILL -- -$spid; fail "no 3 chunks after 60 s"; }
    sleep 0.1; i=$((i + 1))
done
/bin/kill -s KILL -- -$spid # the whole process group, as a crash or a lost node would
wait $spid 2>/dev/null || true
sleep 1
done_chunks=$(ls "$tmp"/kill/results/chunks/2?/chunk*.vcf.gz)
ls -l --time-style=+%s.%N $done_chunks | awk '{print $6, $7}' > "$tmp/before"
# a killed Snakemake leaves its lock: --unlock, then the rerun: --rerun-incomplete redoes the job that was running when killed (its
# output may be partial), nothing else that had finished
snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/kill" --configfile "$tmp/kill/config.yaml" \
    --unlock > "$tmp/sm.log" 2>&1 || fail "--unlock after the kill"
snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/kill" --configfile "$tmp/kill/config.yaml" \
    --cores 2 --rerun-incomplete > "$tmp/sm.log" 2>&1 || fail "rerun after the kill failed"
# the chunk tables are counted after the rerun: at the kill, a contig's chunk
# checkpoint may not have run yet (its table is missing, not empty)
total=$(cat "$tmp"/kill/results/chunks/2?.tsv | grep -vc '^#' || true)
[ "$(echo "$done_chunks" | wc -l)" -lt "$total" ] || fail "all chunks finished before the kill"
redone=0
while read -r t f; do
    if [ "$(stat -c %.9Y "$f")" != "$t" ]; then
        # only a chunk that was still being written may be redone; it is named in the rerun log as incomplete
        redone=$((redone + 1))
    fi
done < "$tmp/before"
[ $redone -le 1 ] || fail "$redone completed chunks were imputed again after the kill"
nimp=$(grep -c '^rule impute:' "$tmp/sm.log" || true)
[ "$nimp" -eq $((total - $(wc -l < "$tmp/before") + redone)) ] ||
    fail "rerun imputed $nimp chunks; $total planned, $(wc -l < "$tmp/before") existed, $redone incomplete"
bcftools view -H "$tmp/kill/results/imputed/20.vcf.gz" | cmp -s - "$tmp/a" || fail "resumed run: contig 20 differs"
bcftools view -H "$tmp/kill/results/imputed/22.vcf.gz" | cmp -s - "$tmp/a22" || fail "resumed run: contig 22 differs"
echo "check-workflow: killed after $(wc -l < "$tmp/before") of $total chunks; rerun imputed $nimp"

# 5. a failing job: the tool's own error message is in the Snakemake log
mkdir -p "$tmp/bad"
sed "s|$T/ref22.bcf|$T/ref_multiallelic.vcf|; /contig_lengths/,/\"22\": 51304566/d" "$tmp/two/config.yaml" > "$tmp/bad/config.yaml"
cp "$T/truncated.vcf.gz" "$tmp/bad/trunc.vcf.gz"
sed -i "s|\"20\": $T/ref.bcf|\"20\": $tmp/bad/trunc.vcf.gz|" "$tmp/bad/config.yaml"
if snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/bad" --configfile "$tmp/bad/config.yaml" \
    --cores 2 > "$tmp/sm.log" 2>&1; then fail "a run on bad panels succeeded"; fi
grep -q "^\[E::.*trunc.vcf.gz" "$tmp/sm.log" || fail "spin-impute's error about trunc.vcf.gz is not in the Snakemake log"
grep -q '^error: chunk chrom=20 failed' "$tmp/sm.log" || fail "no failure line naming the job"

# 6. a panel of the wrong build is refused before any job runs
sed 's/"22": 51304566/"22": 50818468/' "$tmp/two/config.yaml" > "$tmp/b38.yaml"
if snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/two" --configfile "$tmp/b38.yaml" -n -F \
    > "$tmp/sm.log" 2>&1; then fail "contig length mismatch not detected"; fi
grep -q 'ref22.bcf: ##contig 22 has length 51304566, but contig_lengths says 50818468' "$tmp/sm.log" ||
    fail "contig length mismatch message"

# 7. genome-wide examples (chr1-22, GRCh37 and GRCh38) at 20 Mb: panels with a
# site every 20 kb from 1 to each contig's end stand in for real ones; after
# the chunk checkpoints the dry run plans round(length / 20 Mb) chunks per
# contig: 145 over chr1-22 for both builds
for b in GRCh37 GRCh38; do
    d=$tmp/genome-$b
    mkdir -p "$d/panels"
    python3 - "$top_srcdir/workflow/config-$b.yaml" "$d" "$MODEL" "$SPIN" <<'PY' || fail "$b: making stand-in panels"
import sys, yaml
src, d, model, spin = sys.argv[1:]
cfg = yaml.safe_load(open(src))
lens = {str(k): int(v) for k, v in cfg["contig_lengths"].items()}
assert list(lens) == [str(k) for k in cfg["panels"]] and len(lens) == 22, "22 panels with lengths"
contigs = "".join("##contig=<ID=%s,length=%d>\n" % (c, l) for c, l in lens.items())
fmt = '##fileformat=VCFv4.2\n%s##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n' % contigs
col = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
tgt = [fmt + col + "\t".join("T%d" % k for k in range(4)) + "\n"]
for c, l in lens.items():
    pos = list(range(1, l, 20000)) + [l]  # first and last site at the contig ends
    with open("%s/panels/%s.vcf" % (d, c), "w") as f:
        f.write(fmt + col + "\t".join("R%d" % k for k in range(8)) + "\n")
        for i, p in enumerate(pos):
            g = "\t".join("%d|%d" % ((i >> k) & 1, (i >> (k + 1)) & 1) for k in range(8))
            f.write("%s\t%d\t.\tA\tC\t.\tPASS\t.\tGT\t%s\n" % (c, p, g))
            if i % 10 == 5:
                tgt.append("%s\t%d\t.\tA\tC\t.\tPASS\t.\tGT\t%s\n" % (c, p, "\t".join(["0|1"] * 4)))
    cfg["panels"][c] = "%s/panels/%s.bcf" % (d, c)
open(d + "/target.vcf", "w").write("".join(tgt))
cfg.update(target=d + "/target.vcf.gz", target_phased=True, model=model, spin_impute=spin, outdir="results")
yaml.safe_dump(cfg, open(d + "/config.yaml", "w"), sort_keys=False)
PY
    for f in "$d"/panels/*.vcf; do bcftools view --no-version -Ob -o "${f%.vcf}.bcf" "$f" && bcftools index -f "${f%.vcf}.bcf"; done
    bgzip -f "$d/target.vcf" && tabix -f -p vcf "$d/target.vcf.gz"
    snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$d" --configfile "$d/config.yaml" --cores 2 \
        --until chunk > "$tmp/sm.log" 2>&1 || fail "$b: chunk checkpoints"
    snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$d" --configfile "$d/config.yaml" -n \
        > "$tmp/sm.log" 2>&1 || fail "$b: dry run"
    n=$(awk '$1 == "impute" { print $2 }' "$tmp/sm.log" | head -n 1)
    [ "$n" = 145 ] || fail "$b: the dry run plans ${n:-no} impute jobs, expected 145 at 20 Mb"
    [ "$(awk '$1 == "concat" { print $2 }' "$tmp/sm.log" | head -n 1)" = 22 ] || fail "$b: not 22 concat jobs"
    echo "check-workflow: $b chr1-22 dry run: $n chunks of 20 Mb"
done

# 8. the SLURM profile parses (dry run; nothing is submitted)
snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/phased" --configfile "$tmp/phased/config.yaml" \
    --profile "$top_srcdir/workflow/profiles/slurm" -n -F > "$tmp/sm.log" 2>&1 || fail "dry run with the SLURM profile"
echo "check-workflow: ok"
