#!/bin/sh
# make_task.sh -- build an imputation task from one phased panel VCF/BCF.
#
#   bench/make_task.sh [options] PANEL.vcf.gz OUTDIR
#
#   -s SEED     random seed for the sample split and the typed set      [11]
#   -n N        number of target samples (the rest is the panel)        [100]
#   -d BP       typed density: one SNP per BP bases                     [5000]
#   -f MAF      minimum panel MAF of a typed SNP                        [0.05]
#   -m MAP      genetic map: SHAPEIT (pos chr cM, header), HapMap (chr pos rate cM,
#               header) or PLINK (chr id cM bp); written as PLINK to OUTDIR/map.plink
#   -r REGION   restrict to CHROM:BEG-END (panel must be indexed)
#   -A          keep every record type (indels, symbolic, multi-allelic; only exact
#               duplicates dropped); the typed set is still biallelic SNPs only
#   -T FILE     target samples: the samples named in FILE (one a line) instead of a
#               seeded draw of -n samples (-n is then ignored)
#   -y FILE     typed set: the sites of FILE (CHROM POS REF ALT) that are panel sites,
#               instead of a seeded draw (-d and -f are then ignored); lets nested panels
#               share one array
#   -b          also write the panel as BCF (panel.bcf, indexed)
#   -j N        compression threads given to bcftools                  [1]
#
# Input: biallelic SNPs are kept (multi-allelic, indels and all but the first record
# at a duplicated position are dropped) unless -A. The panel keeps sites whose minor allele
# occurs in the panel samples. Writes to OUTDIR:
#   panel.vcf.gz   panel samples, all kept sites (INFO AC/AN filled)
#   truth.vcf.gz   target samples at the same sites
#   targets.vcf.gz target samples at the typed sites only (the "array")
#   typed.tsv      typed sites   CHROM POS REF ALT
#   masked.tsv     sites to score (kept sites that are not typed), same columns
#   panel.samples, targets.samples, map.plink (with -m), task.txt (counts, key=value),
#   panel.bcf (with -b)
# Deterministic for a given SEED (mawk/gawk rand() seeded with srand(SEED)).
set -eu

seed=11 ntgt=100 dens=5000 minmaf=0.05 map= region= tfile= yfile= bcf=0 nthr=1 allrec=
usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit "$1"; }
while getopts s:n:d:f:m:r:T:y:bj:Ah o; do
    case $o in
    s) seed=$OPTARG ;; n) ntgt=$OPTARG ;; d) dens=$OPTARG ;; f) minmaf=$OPTARG ;;
    m) map=$OPTARG ;; r) region=$OPTARG ;; T) tfile=$OPTARG ;; y) yfile=$OPTARG ;;
    b) bcf=1 ;; j) nthr=$OPTARG ;; A) allrec=1 ;; h) usage 0 ;; *) usage 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage 2
in=$1 out=$2
[ -r "$in" ] || { echo "make_task.sh: cannot read panel '$in'" >&2; exit 1; }
[ -z "$map" ] || [ -r "$map" ] || { echo "make_task.sh: cannot read map '$map'" >&2; exit 1; }
[ -z "$tfile" ] || [ -r "$tfile" ] || { echo "make_task.sh: cannot read target list '$tfile'" >&2; exit 1; }
[ -z "$yfile" ] || [ -r "$yfile" ] || { echo "make_task.sh: cannot read typed set '$yfile'" >&2; exit 1; }
thr="--threads $nthr"
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/make_task.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. biallelic SNPs, one record per position (-A: every record, exact repeats dropped)
if [ -n "$region" ]; then set -- -r "$region"; else set --; fi
if [ -n "$allrec" ]; then dedup=exact; else set -- "$@" -m2 -M2 -v snps; dedup=all; fi
bcftools view "$@" -Ou "$in" | bcftools norm -d $dedup -Ob -o "$tmp/base.bcf" 2>"$tmp/norm.log" \
    || { cat "$tmp/norm.log" >&2; exit 1; }
bcftools index "$tmp/base.bcf"

# 2. sample split: a seeded shuffle picks the targets; both lists keep file order
bcftools query -l "$tmp/base.bcf" >"$tmp/all.samples"
nall=$(wc -l <"$tmp/all.samples")
if [ -n "$tfile" ]; then
    # the named targets; every name must be a sample of the panel file
    awk 'NF { print $1 }' "$tfile" | sort -u >"$tmp/want"
    ntgt=$(wc -l <"$tmp/want")
    awk -F'\t' 'NR == FNR { w[$1] = 1; next } { print (($1 in w) ? "T" : "P") "\t" FNR "\t" $1 }' \
        "$tmp/want" "$tmp/all.samples" >"$tmp/split"
    nfound=$(awk -F'\t' '$1 == "T"' "$tmp/split" | wc -l)
    [ "$nfound" -eq "$ntgt" ] \
        || { echo "make_task.sh: $((ntgt - nfound)) of the $ntgt samples of $tfile are not in $in" >&2; exit 1; }
fi
[ "$ntgt" -gt 0 ] && [ "$ntgt" -lt "$nall" ] \
    || { echo "make_task.sh: -n $ntgt must be between 1 and $((nall - 1)) ($nall samples)" >&2; exit 1; }
if [ -z "$tfile" ]; then
    awk -v seed="$seed" 'BEGIN { srand(seed) } { printf "%.17f\t%d\t%s\n", rand(), NR, $0 }' "$tmp/all.samples" \
        | sort -k1,1g -k2,2n | awk -v n="$ntgt" -F'\t' '{ print (NR <= n ? "T" : "P") "\t" $2 "\t" $3 }' \
        | sort -k2,2n >"$tmp/split"
fi
awk -F'\t' '$1 == "T" { print $3 }' "$tmp/split" >"$out/targets.samples"
awk -F'\t' '$1 == "P" { print $3 }' "$tmp/split" >"$out/panel.samples"

# 3. panel: sites polymorphic among the panel samples; AC/AN for MAF lookups
bcftools view -S "$out/panel.samples" -Ou "$tmp/base.bcf" | bcftools view -c 1:minor -Ou \
    | bcftools +fill-tags $thr -Oz -o "$out/panel.vcf.gz" -- -t AC,AN
bcftools index $thr -f "$out/panel.vcf.gz"
if [ $bcf = 1 ]; then
    bcftools view $thr -Ob -o "$out/panel.bcf" "$out/panel.vcf.gz"
    bcftools index $thr -f "$out/panel.bcf"
fi
bcftools query -f '%CHROM\t%POS\t%REF\t%ALT\t%AC\t%AN\n' "$out/panel.vcf.gz" >"$tmp/sites"

# 4. typed set: per DENS-bp bin, one random biallelic SNP with panel MAF >= MINMAF (reservoir draw),
#    or the given sites that are panel sites
if [ -n "$yfile" ]; then
    awk -F'\t' 'NR == FNR { y[$1 "\t" $2 "\t" $3 "\t" $4] = 1; next }
        ($1 "\t" $2 "\t" $3 "\t" $4) in y { print $1 "\t" $2 "\t" $3 "\t" $4 }' "$yfile" "$tmp/sites" >"$out/typed.tsv"
else
awk -v seed="$seed" -v d="$dens" -v f="$minmaf" -F'\t' '
    BEGIN { srand(seed + 1) }
    $3 !~ /^[ACGT]$/ || $4 !~ /^[ACGT]$/ { next }
    { af = $6 > 0 ? $5 / $6 : 0; maf = af > 0.5 ? 1 - af : af
      if (maf < f) next
      b = int(($2 - 1) / d); c[b]++
      if (rand() * c[b] < 1) pick[b] = $1 "\t" $2 "\t" $3 "\t" $4 }
    END { for (b in pick) print pick[b] }' "$tmp/sites" | sort -k2,2n >"$out/typed.tsv"
fi
[ -s "$out/typed.tsv" ] || { echo "make_task.sh: no site has MAF >= $minmaf" >&2; exit 1; }
awk -F'\t' 'NR == FNR { t[$1 "\t" $2] = 1; next } !(($1 "\t" $2) in t) { print $1 "\t" $2 "\t" $3 "\t" $4 }' \
    "$out/typed.tsv" "$tmp/sites" >"$out/masked.tsv"
cut -f1,2 "$tmp/sites" >"$tmp/sites.pos"
cut -f1,2 "$out/typed.tsv" >"$tmp/typed.pos"

# 5. truth (all panel sites) and targets (typed sites) for the target samples
bcftools view -S "$out/targets.samples" -T "$tmp/sites.pos" -Ou "$tmp/base.bcf" \
    | bcftools annotate $thr -x INFO -Oz -o "$out/truth.vcf.gz"
bcftools index $thr -f "$out/truth.vcf.gz"
bcftools view $thr -T "$tmp/typed.pos" -Oz -o "$out/targets.vcf.gz" "$out/truth.vcf.gz"
bcftools index $thr -f "$out/targets.vcf.gz"

# 6. genetic map as PLINK (chrom id cM bp) with the panel's contig name
chrom=$(head -n1 "$tmp/sites" | cut -f1)
if [ -n "$map" ]; then
    case $map in *.gz) cat_map="gzip -dc" ;; *) cat_map="cat" ;; esac
    $cat_map "$map" | awk -v chrom="$chrom" '
        function norm(c) { sub(/^chr/, "", c); return c }
        NR == 1 && $1 == "pos" && $2 == "chr" { fmt = "shapeit"; next }
        NR == 1 && $2 ~ /^Position/ { fmt = "hapmap"; next }
        NR == 1 && NF == 4 { fmt = "plink" }
        fmt == "shapeit" && norm($2) == norm(chrom) { print chrom "\t.\t" $3 "\t" $1 }
        fmt == "hapmap" && norm($1) == norm(chrom) { print chrom "\t.\t" $4 "\t" $2 }
        fmt == "plink" && norm($1) == norm(chrom) { print chrom "\t.\t" $3 "\t" $4 }' >"$out/map.plink"
    [ -s "$out/map.plink" ] || { echo "make_task.sh: no line of $map for chromosome $chrom" >&2; exit 1; }
fi

n_sites=$(wc -l <"$tmp/sites")
n_typed=$(wc -l <"$out/typed.tsv")
first=$(head -n1 "$tmp/sites" | cut -f2)
last=$(tail -n1 "$tmp/sites" | cut -f2)
cat >"$out/task.txt" <<EOF
source=$in
region=${region:-all}
seed=$seed
chrom=$chrom
first_pos=$first
last_pos=$last
panel_samples=$(wc -l <"$out/panel.samples")
target_samples=$(wc -l <"$out/targets.samples")
sites=$n_sites
typed=$n_typed
masked=$(wc -l <"$out/masked.tsv")
density_bp=$([ -n "$yfile" ] && echo given || echo "$dens")
min_maf=$([ -n "$yfile" ] && echo given || echo "$minmaf")
targets_from=${tfile:-seed}
typed_from=${yfile:-seed}
EOF
echo "make_task.sh: $out: $(wc -l <"$out/panel.samples") panel + $ntgt target samples, $n_sites sites, $n_typed typed" >&2
