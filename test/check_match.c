/* check_match.c -- site-matching rules, pure and through spin_targets_read. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match.h"
#include "stats.h"
#include "util.h"
#include "vcfin.h"

START_TEST(test_rules)
{
    /* panel A/G (non-palindromic) */
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'A', 'G'), SPIN_MATCH_EXACT);
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'G', 'A'), SPIN_MATCH_SWAP);
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'T', 'C'), SPIN_MATCH_FLIP);
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'C', 'T'), SPIN_MATCH_FLIP_SWAP);
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'A', 'C'), SPIN_MATCH_MISMATCH);
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'A', 'T'), SPIN_MATCH_MISMATCH);
    ck_assert_int_eq(spin_match_alleles('a', 'g', 'A', 'G'), SPIN_MATCH_EXACT); /* case-insensitive */
    /* palindromic A/T and C/G: exact only */
    ck_assert_int_eq(spin_match_alleles('A', 'T', 'A', 'T'), SPIN_MATCH_EXACT);
    ck_assert_int_eq(spin_match_alleles('A', 'T', 'T', 'A'), SPIN_MATCH_AMBIGUOUS);
    ck_assert_int_eq(spin_match_alleles('C', 'G', 'C', 'G'), SPIN_MATCH_EXACT);
    ck_assert_int_eq(spin_match_alleles('C', 'G', 'G', 'C'), SPIN_MATCH_AMBIGUOUS);
    ck_assert_int_eq(spin_match_alleles('C', 'G', 'C', 'A'), SPIN_MATCH_MISMATCH);
    /* target palindromic, panel not: complement of A/T is T/A, never G */
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'T', 'A'), SPIN_MATCH_MISMATCH);
    /* monomorphic target record (REF only) */
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'A', '.'), SPIN_MATCH_EXACT);
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'G', 0), SPIN_MATCH_SWAP);
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'T', 0), SPIN_MATCH_MISMATCH);
    ck_assert_int_eq(spin_match_alleles('A', 'T', 'T', 0), SPIN_MATCH_AMBIGUOUS);
    /* junk */
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'N', 'G'), SPIN_MATCH_MISMATCH);
    ck_assert_int_eq(spin_match_alleles('A', 'G', 'A', 'A'), SPIN_MATCH_MISMATCH);
    ck_assert_int_eq(spin_match_alleles('A', 'A', 'A', 'A'), SPIN_MATCH_MISMATCH);
    ck_assert(spin_match_kept(SPIN_MATCH_FLIP_SWAP) && !spin_match_kept(SPIN_MATCH_AMBIGUOUS));
    ck_assert(spin_match_swaps(SPIN_MATCH_SWAP) && spin_match_swaps(SPIN_MATCH_FLIP_SWAP));
    ck_assert(!spin_match_swaps(SPIN_MATCH_FLIP) && !spin_match_swaps(SPIN_MATCH_EXACT));
}
END_TEST

START_TEST(test_chrom_names)
{
    ck_assert(spin_chrom_equal("chr20", "20"));
    ck_assert(spin_chrom_equal("20", "CHR20"));
    ck_assert(spin_chrom_equal("chrX", "X"));
    ck_assert(!spin_chrom_equal("chr2", "20"));
    ck_assert(!spin_chrom_equal("20", "2"));
    ck_assert_str_eq(spin_chrom_strip("chr"), "chr"); /* a bare "chr" is a name, not a prefix */
    int64_t pos[] = {10, 20, 20, 30};
    ck_assert_int_eq(spin_pos_lower_bound(pos, 4, 5), 0);
    ck_assert_int_eq(spin_pos_lower_bound(pos, 4, 20), 1);
    ck_assert_int_eq(spin_pos_lower_bound(pos, 4, 21), 3);
    ck_assert_int_eq(spin_pos_lower_bound(pos, 4, 31), 4);
}
END_TEST

/* ---- through the reader, on small hand-written files ---- */

static char tmpdir[64];

static char *write_tmp(const char *name, const char *text)
{
    static char fn[8][128];
    static int k;
    char *f = fn[k++ & 7];
    snprintf(f, 128, "%s/%s", tmpdir, name);
    FILE *fp = fopen(f, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fputs(text, fp) >= 0, 1);
    ck_assert_int_eq(fclose(fp), 0);
    return f;
}

#define HDR "##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"

/* sites 0..13; sites 6 and 7 share position 700 (two SNP records); 8 an
 * indel, 9 and 10 the two ALTs of the multi-allelic record at 760, 11 a
 * symbolic deletion, 12 an indel, 13 a SNP */
static const char *panel_vcf = HDR "##contig=<ID=20,length=63025520>\n"
                                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\tP2\n"
                                   "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\t1|1\n"
                                   "20\t200\t.\tC\tT\t.\t.\t.\tGT\t0|0\t0|1\n"
                                   "20\t300\t.\tA\tT\t.\t.\t.\tGT\t0|1\t0|0\n"
                                   "20\t400\t.\tC\tG\t.\t.\t.\tGT\t1|0\t0|0\n"
                                   "20\t500\t.\tG\tA\t.\t.\t.\tGT\t0|1\t0|1\n"
                                   "20\t600\t.\tT\tC\t.\t.\t.\tGT\t0|0\t1|1\n"
                                   "20\t700\t.\tA\tC\t.\t.\t.\tGT\t0|1\t0|0\n"
                                   "20\t700\t.\tA\tG\t.\t.\t.\tGT\t0|0\t0|1\n"
                                   "20\t750\t.\tAT\tA\t.\t.\t.\tGT\t0|1\t0|0\n"
                                   "20\t760\t.\tA\tC,G\t.\t.\t.\tGT\t0|2\t1|0\n"
                                   "20\t770\t.\tA\t<DEL>\t.\t.\t.\tGT\t1|0\t0|0\n"
                                   "20\t780\t.\tATT\tA\t.\t.\t.\tGT\t0|0\t1|0\n"
                                   "20\t800\t.\tG\tT\t.\t.\t.\tGT\t0|0\t0|1\n";

static const char *target_vcf = HDR "##contig=<ID=chr20,length=63025520>\n"
                                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\tT2\n"
                                    "chr20\t100\t.\tA\tG\t.\t.\t.\tGT\t1|0\t.|.\n"  /* exact */
                                    "chr20\t200\t.\tT\tC\t.\t.\t.\tGT\t1|0\t0/0\n"  /* swap */
                                    "chr20\t300\t.\tT\tA\t.\t.\t.\tGT\t0|1\t0|0\n"  /* palindromic, not exact */
                                    "chr20\t400\t.\tC\tG\t.\t.\t.\tGT\t0|1\t0|0\n"  /* palindromic exact */
                                    "chr20\t500\t.\tC\tT\t.\t.\t.\tGT\t0|1\t0|0\n"  /* flip */
                                    "chr20\t600\t.\tG\tA\t.\t.\t.\tGT\t1|0\t0|0\n"  /* flip + swap */
                                    "chr20\t650\t.\tA\tC\t.\t.\t.\tGT\t0|1\t0|0\n"  /* target-only */
                                    "chr20\t700\t.\tA\tG\t.\t.\t.\tGT\t0|1\t0|0\n"  /* 2nd panel record */
                                    "chr20\t700\t.\tA\tG\t.\t.\t.\tGT\t1|1\t1|1\n"  /* duplicate */
                                    "chr20\t750\t.\tAT\tA\t.\t.\t.\tGT\t0|1\t0|0\n" /* indel, exact */
                                    "chr20\t760\t.\tA\tC,G\t.\t.\t.\tGT\t1|2\t0|1\n" /* multi-allelic, exact */
                                    "chr20\t770\t.\tA\t<DEL>\t.\t.\t.\tGT\t0|1\t.|.\n" /* symbolic, exact */
                                    "chr20\t780\t.\tA\tATT\t.\t.\t.\tGT\t0|1\t0|0\n" /* indel swapped: mismatch */
                                    "chr20\t800\t.\tG\tC\t.\t.\t.\tGT\t0|1\t0|0\n"  /* allele mismatch */
                                    "chr20\t950\t.\tA\tG\t.\t.\t.\tGT\t0|1\t0|0\n"; /* outside panel */

static int count_reason(const spin_match_stats_t *st, spin_note_t r, int64_t pos)
{
    int n = 0;
    for (int i = 0; i < st->n_note; ++i)
        if (st->note[i].reason == r && st->note[i].pos == pos) ++n;
    return n;
}

START_TEST(test_targets_rules)
{
    spin_panel_t *p = spin_panel_read(write_tmp("p.vcf", panel_vcf), NULL, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->n_site, 14);
    ck_assert_int_eq(p->n_rec_snp, 9);
    ck_assert_int_eq(p->n_rec_indel, 2);
    ck_assert_int_eq(p->n_rec_other, 1);
    ck_assert_int_eq(p->n_rec_multi, 1);
    spin_match_stats_t *st = spin_match_stats_init();
    spin_targets_t *t = spin_targets_read_matched(write_tmp("t.vcf", target_vcf), p, NULL, NULL, 1, NULL, SPIN_MIN_MATCH_FRAC, st);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(st->chr_renamed, 1);
    ck_assert_int_eq(st->n_records, 15);
    ck_assert_int_eq(st->n_matched, 9);
    ck_assert_int_eq(st->n_exact, 6);
    ck_assert_int_eq(st->n_swapped, 1);
    ck_assert_int_eq(st->n_flipped, 1);
    ck_assert_int_eq(st->n_flip_swapped, 1);
    ck_assert_int_eq(st->n_palindromic, 1);
    ck_assert_int_eq(st->n_allele_mismatch, 2);
    ck_assert_int_eq(st->n_target_only, 2);
    ck_assert_int_eq(st->n_outside, 1);
    ck_assert_int_eq(st->n_duplicate, 1);
    ck_assert_int_eq(st->n_rec_snp, 11);
    ck_assert_int_eq(st->n_rec_indel, 2);
    ck_assert_int_eq(st->n_rec_other, 1);
    ck_assert_int_eq(st->n_rec_multi, 1);
    ck_assert_int_eq(st->n_match_snp, 6);
    ck_assert_int_eq(st->n_match_indel, 1);
    ck_assert_int_eq(st->n_match_other, 1);
    ck_assert_int_eq(st->n_match_multi, 1);
    ck_assert_int_eq(st->n_missing_gt, 4);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_SWAPPED, 200), 1);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_PALINDROMIC, 300), 1);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_FLIPPED, 500), 1);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_FLIP_SWAPPED, 600), 1);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_TARGET_ONLY, 650), 1);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_TARGET_ONLY, 950), 1);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_DUPLICATE, 700), 1);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_ALLELE_MISMATCH, 780), 1);
    ck_assert_int_eq(count_reason(st, SPIN_NOTE_ALLELE_MISMATCH, 800), 1);
    ck_assert_int_eq(st->n_note, 9);

    /* typed sites in panel order, alleles in panel coding */
    ck_assert_int_eq(t->n_typed, 10);
    ck_assert_int_eq(t->n_hap, 4);
    static const int site[10] = {0, 1, 3, 4, 5, 7, 8, 9, 10, 11};
    static const int8_t al[10][4] = {
        {1, 0, -1, -1}, /* exact; T2 missing */
        {0, 1, 1, 1},   /* swapped: 1|0 -> 0|1, 0/0 (homozygous, no phase needed) -> 1|1 */
        {0, 1, 0, 0},   /* palindromic exact */
        {0, 1, 0, 0},   /* flipped, coding kept */
        {0, 1, 1, 1},   /* flip + swap: recoded */
        {0, 1, 0, 0},   /* first record at 700 wins over the duplicate 1|1 */
        {0, 1, 0, 0},   /* indel */
        {1, 0, 0, 1},   /* multi-allelic 1|2 0|1: ALT C */
        {0, 1, 0, 0},   /*                        ALT G */
        {0, 1, -1, -1}, /* <DEL>; T2 missing */
    };
    for (int i = 0; i < 10; ++i) {
        ck_assert_int_eq(t->site[i], site[i]);
        for (int h = 0; h < 4; ++h) ck_assert_int_eq(t->allele[i * 4 + h], al[i][h]);
    }

    /* the TSV: counts then the site list */
    char fn[128];
    snprintf(fn, sizeof(fn), "%s/stats.tsv", tmpdir);
    ck_assert_int_eq(spin_stats_write_tsv(st, fn), 0);
    FILE *fp = fopen(fn, "r");
    ck_assert_ptr_nonnull(fp);
    char line[256];
    int saw_count = 0, saw_site = 0, n_line = 0;
    while (fgets(line, sizeof(line), fp)) {
        ++n_line;
        if (strcmp(line, "flip_swapped\t1\n") == 0) saw_count = 1;
        if (strcmp(line, "chr20\t650\tA\tC\ttarget_only\n") == 0) saw_site = 1;
    }
    fclose(fp);
    ck_assert(saw_count && saw_site);
    ck_assert_int_eq(n_line, 1 + 21 + 1 + 9);
    ck_assert_int_lt(spin_stats_write_tsv(st, "-"), 0);

    spin_targets_destroy(t);
    spin_match_stats_destroy(st);
    /* 9 of 13 eligible records match (69%): refused when 70% are required */
    st = spin_match_stats_init();
    ck_assert_ptr_null(spin_targets_read_matched(write_tmp("t.vcf", target_vcf), p, NULL, NULL, 1, NULL, 0.7, st));
    spin_match_stats_destroy(st);
    t = spin_targets_read(write_tmp("t.vcf", target_vcf), p, NULL, 1, 0.6);
    ck_assert_ptr_nonnull(t);
    spin_targets_destroy(t);
    /* non-SNP records: REF and ALT list exactly, never swapped or reordered;
     * a biallelic SNP does not match one ALT of a multi-allelic record */
    {
        uint8_t none[16] = {0};
        int k;
        spin_match_t how;
        const char *multi[3] = {"A", "C", "G"}, *rev[3] = {"A", "G", "C"}, *one[2] = {"A", "C"};
        const char *ind[2] = {"AT", "A"}, *inds[2] = {"A", "AT"}, *sym[2] = {"A", "<DEL>"};
        ck_assert_int_eq(spin_match_record(p, 760, multi, 3, none, &k, &how), SPIN_NOTE_N);
        ck_assert_int_eq(k, 9);
        ck_assert_int_eq(how, SPIN_MATCH_EXACT);
        ck_assert_int_eq(spin_match_record(p, 760, rev, 3, none, &k, &how), SPIN_NOTE_ALLELE_MISMATCH);
        ck_assert_int_eq(spin_match_record(p, 760, one, 2, none, &k, &how), SPIN_NOTE_ALLELE_MISMATCH);
        ck_assert_int_eq(spin_match_record(p, 750, ind, 2, none, &k, &how), SPIN_NOTE_N);
        ck_assert_int_eq(k, 8);
        ck_assert_int_eq(spin_match_record(p, 750, inds, 2, none, &k, &how), SPIN_NOTE_ALLELE_MISMATCH);
        ck_assert_int_eq(spin_match_record(p, 770, sym, 2, none, &k, &how), SPIN_NOTE_N);
        ck_assert_int_eq(k, 11);
        ck_assert_int_eq(spin_match_record(p, 770, one, 2, none, &k, &how), SPIN_NOTE_ALLELE_MISMATCH);
    }
    /* region restricts the targets: 400..600 holds 3 typed sites */
    t = spin_targets_read(write_tmp("t.vcf", target_vcf), p, "chr20:400-600", 1, SPIN_MIN_MATCH_FRAC);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->n_typed, 3);
    ck_assert_int_eq(t->site[0], 3);
    spin_targets_destroy(t);
    spin_panel_destroy(p);
}
END_TEST

START_TEST(test_targets_refused)
{
    spin_panel_t *p = spin_panel_read(write_tmp("p.vcf", panel_vcf), NULL, 1);
    ck_assert_ptr_nonnull(p);
    /* an unphased heterozygote is no longer refused: kept and flagged (phase.c phases it) */
    const char *unph = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
                           "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\n"
                           "20\t200\t.\tC\tT\t.\t.\t.\tGT\t0/1\n";
    spin_targets_t *tu = spin_targets_read(write_tmp("u.vcf", unph), p, NULL, 1, SPIN_MIN_MATCH_FRAC);
    ck_assert_ptr_nonnull(tu);
    ck_assert_int_eq(tu->n_unphased, 1);
    ck_assert_int_eq(tu->phased[0], 1);
    ck_assert_int_eq(tu->phased[1], 0);
    ck_assert_int_eq(tu->gt[1], 1);
    spin_targets_destroy(tu);
    /* haploid (both slots, ploidy 1, phased) next to diploid; a lone "." is a missing genotype
     * whose ploidy comes from the flanks (T2: haploid on both sides); triploid refused */
    const char *hap = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\tT2\n"
                          "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\t1\n"
                          "20\t200\t.\tC\tT\t.\t.\t.\tGT\t.\t.\n"
                          "20\t500\t.\tG\tA\t.\t.\t.\tGT\t1|1\t0\n";
    spin_targets_t *th = spin_targets_read(write_tmp("h.vcf", hap), p, NULL, 1, SPIN_MIN_MATCH_FRAC);
    ck_assert_ptr_nonnull(th);
    ck_assert_ptr_nonnull(th->ploidy);
    ck_assert_int_eq(th->n_typed, 3);
    ck_assert_int_eq(th->allele[2], 1);
    ck_assert_int_eq(th->allele[3], 1); /* T2 "1": both slots */
    ck_assert_int_eq(th->ploidy[0], 2);
    ck_assert_int_eq(th->ploidy[1], 1);
    ck_assert_int_eq(th->phased[1], 1);
    ck_assert_int_eq(th->n_unphased, 0);
    for (int h = 0; h < 4; h++) ck_assert_int_eq(th->allele[4 + h], -1); /* "." missing in both slots */
    ck_assert_int_eq(th->ploidy[2], 2);
    ck_assert_int_eq(th->ploidy[3], 1); /* from the flanks */
    ck_assert_int_eq(th->allele[10], 0);
    ck_assert_int_eq(th->allele[11], 0);
    spin_targets_destroy(th);
    const char *tri = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
                          "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1|1\n";
    ck_assert_ptr_null(spin_targets_read(write_tmp("tri.vcf", tri), p, NULL, 1, SPIN_MIN_MATCH_FRAC));
    /* different contig length (build) */
    const char *b38 = HDR "##contig=<ID=20,length=64444167>\n"
                          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
                          "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\n";
    ck_assert_ptr_null(spin_targets_read(write_tmp("b38.vcf", b38), p, NULL, 1, SPIN_MIN_MATCH_FRAC));
    /* other contig only */
    const char *other = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
                            "21\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\n";
    ck_assert_ptr_null(spin_targets_read(write_tmp("o.vcf", other), p, NULL, 1, SPIN_MIN_MATCH_FRAC));
    /* all target-only */
    const char *none = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
                           "20\t101\t.\tA\tG\t.\t.\t.\tGT\t0|1\n";
    ck_assert_ptr_null(spin_targets_read(write_tmp("n.vcf", none), p, NULL, 1, SPIN_MIN_MATCH_FRAC));
    /* unsorted */
    const char *uns = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
                          "20\t200\t.\tC\tT\t.\t.\t.\tGT\t0|1\n"
                          "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\n";
    ck_assert_ptr_null(spin_targets_read(write_tmp("s.vcf", uns), p, NULL, 1, SPIN_MIN_MATCH_FRAC));
    /* but a homozygous unphased call and a missing "./." are accepted */
    const char *hom = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
                          "20\t100\t.\tA\tG\t.\t.\t.\tGT\t1/1\n"
                          "20\t200\t.\tC\tT\t.\t.\t.\tGT\t./.\n";
    spin_targets_t *t = spin_targets_read(write_tmp("hom.vcf", hom), p, NULL, 1, SPIN_MIN_MATCH_FRAC);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->n_typed, 2);
    ck_assert_int_eq(t->allele[0], 1);
    ck_assert_int_eq(t->allele[1], 1);
    ck_assert_int_eq(t->allele[2], -1);
    ck_assert_int_eq(t->allele[3], -1);
    spin_targets_destroy(t);
    spin_panel_destroy(p);
}
END_TEST

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_match.XXXXXX");
    if (!mkdtemp(tmpdir)) return EXIT_FAILURE;
    Suite *s = suite_create("match");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_chrom_names);
    tcase_add_test(tc, test_targets_rules);
    tcase_add_test(tc, test_targets_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) return EXIT_FAILURE;
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
