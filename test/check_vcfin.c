/* check_vcfin.c -- panel/target readers and genetic map on test-data/. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <htslib/kstring.h>
#include <htslib/vcf.h>

#include "vcfin.h"

static char dd[1024];     /* test-data directory */
static char tmpdir[64];

static const char *td(const char *name)
{
    static char buf[8][1100];
    static int k;
    char *b = buf[k++ & 7];
    snprintf(b, 1100, "%s/%s", dd, name);
    return b;
}

static const char *tmpf(const char *name, const char *text)
{
    static char buf[8][128];
    static int k;
    char *b = buf[k++ & 7];
    snprintf(b, 128, "%s/%s", tmpdir, name);
    FILE *fp = fopen(b, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_ge(fputs(text, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
    return b;
}

/* Every allele of the panel against a direct htslib read of the same file. */
static void compare_with_htslib(const spin_panel_t *p, const char *fn)
{
    htsFile *fp = hts_open(fn, "r");
    ck_assert_ptr_nonnull(fp);
    bcf_hdr_t *h = bcf_hdr_read(fp);
    bcf1_t *rec = bcf_init();
    int32_t *gt = NULL, ngt = 0, s = 0;
    while (bcf_read(fp, h, rec) == 0) {
        ck_assert_int_lt(s, p->n_site);
        bcf_unpack(rec, BCF_UN_ALL);
        ck_assert_int_eq(p->pos[s], rec->pos + 1);
        ck_assert_str_eq(spin_panel_ref(p, s), rec->d.allele[0]);
        ck_assert_str_eq(spin_panel_alt(p, s), rec->d.allele[1]);
        ck_assert(spin_panel_is_snp(p, s));
        ck_assert_int_eq(bcf_get_genotypes(h, rec, &gt, &ngt), 2 * p->n_sample);
        int n_alt = 0;
        for (int j = 0; j < p->n_hap; ++j) {
            int a = bcf_gt_allele(gt[j]);
            ck_assert_int_eq(spin_panel_allele(p, s, j), a);
            n_alt += a;
        }
        ck_assert_float_eq_tol(p->af[s], (float)n_alt / (float)p->n_hap, 1e-6);
        ck_assert_double_eq_tol(p->cm[s], p->pos[s] * 1e-6, 1e-12);
        /* padding bits beyond n_hap stay zero */
        if (p->n_hap & 63) ck_assert_uint_eq(p->hap[(size_t)s * p->nw + p->nw - 1] >> (p->n_hap & 63), 0);
        ++s;
    }
    ck_assert_int_eq(s, p->n_site);
    free(gt);
    bcf_destroy(rec);
    bcf_hdr_destroy(h);
    hts_close(fp);
}

START_TEST(test_panel_vcfgz_bcf)
{
    spin_panel_t *p = spin_panel_read(td("ref.vcf.gz"), NULL, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->chrom, "20");
    ck_assert_int_eq(p->chrom_len, 63025520);
    ck_assert_int_eq(p->n_sample, 100);
    ck_assert_int_eq(p->n_hap, 200);
    ck_assert_int_eq(p->nw, 4);
    ck_assert_int_eq(p->n_site, 2600);
    ck_assert_str_eq(p->samples[0], "REF001");
    ck_assert_str_eq(p->samples[99], "REF100");
    ck_assert_str_eq(p->id[0], ".");
    ck_assert_int_eq(p->n_rec_snp, p->n_site);
    ck_assert_int_eq(p->n_rec_indel + p->n_rec_other + p->n_rec_multi + p->n_skip_mono, 0);
    for (int s = 1; s < p->n_site; ++s) ck_assert_int_gt(p->pos[s], p->pos[s - 1]);
    compare_with_htslib(p, td("ref.vcf.gz"));
    /* BCF gives the same panel, with 2 decompression threads */
    spin_panel_t *q = spin_panel_read(td("ref.bcf"), NULL, 2);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(q->n_site, p->n_site);
    ck_assert_int_eq(memcmp(q->pos, p->pos, (size_t)p->n_site * sizeof(int64_t)), 0);
    ck_assert_int_eq(memcmp(q->hap, p->hap, (size_t)p->n_site * p->nw * sizeof(uint64_t)), 0);
    spin_panel_destroy(q);
    spin_panel_destroy(p);
    spin_panel_destroy(NULL);
}
END_TEST

/* Two panels read from the same data hold the same sites, alleles, ids,
 * haplotypes and REF-only records. */
static void panel_equal(const spin_panel_t *p, const spin_panel_t *q)
{
    ck_assert_int_eq(q->n_site, p->n_site);
    ck_assert_int_eq(q->n_hap, p->n_hap);
    ck_assert_str_eq(q->chrom, p->chrom);
    ck_assert_int_eq(memcmp(q->pos, p->pos, (size_t)p->n_site * sizeof(int64_t)), 0);
    ck_assert_int_eq(memcmp(q->hap, p->hap, (size_t)p->n_site * p->nw * sizeof(uint64_t)), 0);
    ck_assert_int_eq(memcmp(q->af, p->af, (size_t)p->n_site * sizeof(float)), 0);
    for (int s = 0; s < p->n_site; ++s) {
        ck_assert_str_eq(q->id[s], p->id[s]);
        ck_assert_str_eq(spin_panel_ref(q, s), spin_panel_ref(p, s));
        ck_assert_str_eq(spin_panel_alt(q, s), spin_panel_alt(p, s));
        ck_assert_int_eq(q->ialt[s], p->ialt[s]);
        ck_assert_int_eq(q->nalt[s], p->nalt[s]);
    }
    ck_assert_int_eq(q->n_mono, p->n_mono);
    for (int i = 0; i < p->n_mono; ++i) {
        ck_assert_int_eq(q->mono_pos[i], p->mono_pos[i]);
        ck_assert_int_eq(q->mono_site[i], p->mono_site[i]);
        ck_assert_str_eq(q->mono_id[i], p->mono_id[i]);
    }
    ck_assert_int_eq(q->n_skip_mono, p->n_skip_mono);
    ck_assert_int_eq(q->n_rec_multi, p->n_rec_multi);
}

/* Text lines are parsed in blocks by several threads: the panel is the one
 * a single thread reads, for every file form, record type and region. */
START_TEST(test_panel_threads)
{
    const char *fns[] = {"ref.vcf.gz", "ref.bcf", "ref_records.vcf.gz", "ref_multiallelic.vcf"};
    for (int f = 0; f < 4; ++f) {
        spin_panel_t *p = spin_panel_read(td(fns[f]), NULL, 1);
        ck_assert_ptr_nonnull(p);
        for (int nt = 2; nt <= 5; nt += 3) {
            spin_panel_t *q = spin_panel_read(td(fns[f]), NULL, nt);
            ck_assert_ptr_nonnull(q);
            panel_equal(p, q);
            spin_panel_destroy(q);
        }
        spin_panel_destroy(p);
    }
    spin_panel_t *p = spin_panel_read(td("ref.vcf.gz"), "20:1,100,000-1,200,000", 1);
    spin_panel_t *q = spin_panel_read(td("ref.vcf.gz"), "20:1,100,000-1,200,000", 3);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    panel_equal(p, q);
    spin_panel_destroy(q);
    spin_panel_destroy(p);
}
END_TEST

/* Lines naming a contig, FILTER, INFO or FORMAT tag the header lacks make
 * HTSlib add it to the header: they are parsed one at a time, and the panel
 * is the same for every thread count. */
START_TEST(test_panel_threads_undeclared)
{
    kstring_t v = {0, 0, NULL}, w = {0, 0, NULL};
    const char *hdr = "##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
                      "##INFO=<ID=AC,Number=A,Type=Integer,Description=\"count\">\n";
    const char *cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\n";
    kputs(hdr, &v), kputs("##contig=<ID=1>\n", &v), kputs(cols, &v);
    kputs(hdr, &w), kputs(cols, &w); /* no ##contig: every line names an undeclared contig */
    for (int i = 1; i <= 700; ++i) {
        const char *info = i % 97 == 5 ? "AC=1;NEWTAG=3" : i % 89 == 7 ? "AC=1;;FLAGX" : "AC=1";
        const char *flt = i % 83 == 11 ? "q10;PASS" : i % 5 ? "PASS" : ".";
        const char *fmt = i % 101 == 13 ? "GT:YY" : "GT";
        const char *ys = fmt[2] ? ":7" : "";
        for (int j = 0; j < 2; ++j)
            ksprintf(j ? &w : &v, "1\t%d\trs%d\tA\t%s\t.\t%s\t%s\t%s\t%d|%d%s\t%d|1%s\n", 10 * i, i, i % 7 ? "G" : "C,T", flt,
                     info, fmt, i & 1, (i >> 1) & 1, ys, (i >> 2) & 1, ys);
    }
    const char *fv = tmpf("undecl.vcf", v.s), *fw = tmpf("nocontig.vcf", w.s);
    for (int f = 0; f < 2; ++f) {
        spin_panel_t *p = spin_panel_read(f ? fw : fv, NULL, 1);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(p->n_site, 700 + 100);
        for (int nt = 2; nt <= 4; ++nt) {
            spin_panel_t *q = spin_panel_read(f ? fw : fv, NULL, nt);
            ck_assert_ptr_nonnull(q);
            panel_equal(p, q);
            spin_panel_destroy(q);
        }
        spin_panel_destroy(p);
    }
    free(v.s), free(w.s);
}
END_TEST

START_TEST(test_panel_region)
{
    spin_panel_t *all = spin_panel_read(td("ref.vcf.gz"), NULL, 1);
    ck_assert_ptr_nonnull(all);
    int n_in = 0, first = -1;
    for (int s = 0; s < all->n_site; ++s)
        if (all->pos[s] >= 1100000 && all->pos[s] <= 1200000) n_in += 1, first = first < 0 ? s : first;
    const char *fns[2] = {"ref.vcf.gz", "ref.bcf"};
    for (int f = 0; f < 2; ++f) {
        spin_panel_t *p = spin_panel_read(td(fns[f]), "20:1,100,000-1,200,000", 1);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(p->n_site, n_in);
        ck_assert_int_eq(p->pos[0], all->pos[first]);
        ck_assert_int_eq(memcmp(p->hap, all->hap + (size_t)first * all->nw, (size_t)n_in * p->nw * 8), 0);
        spin_panel_destroy(p);
    }
    /* "chr20" names the same contig */
    spin_panel_t *p = spin_panel_read(td("ref.bcf"), "chr20:1100000-1200000", 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->n_site, n_in);
    spin_panel_destroy(p);
    /* region on an unindexed file, unknown contig, empty region: errors */
    ck_assert_ptr_null(spin_panel_read(td("ref_multiallelic.vcf"), "20:1-2000000", 1));
    ck_assert_ptr_null(spin_panel_read(td("ref.vcf.gz"), "21:1-2000000", 1));
    ck_assert_ptr_null(spin_panel_read(td("ref.vcf.gz"), "20:1-1000", 1));
    spin_panel_destroy(all);
}
END_TEST

START_TEST(test_panel_errors)
{
    /* a bgzip file cut mid-block must fail, not return a short panel */
    ck_assert_ptr_null(spin_panel_read(td("truncated.vcf.gz"), NULL, 1));
    ck_assert_ptr_null(spin_panel_read(td("no-such-file.vcf.gz"), NULL, 1));
    /* targets are a valid VCF but have an unphased genotype */
    ck_assert_ptr_null(spin_panel_read(td("target_unphased.vcf"), NULL, 1));
    ck_assert_ptr_null(spin_panel_read(td("map.txt"), NULL, 1));
#define H "##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n" \
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\n"
    ck_assert_ptr_null(spin_panel_read(tmpf("two.vcf", H "1\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\n"
                                                        "2\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\n"), NULL, 1));
    ck_assert_ptr_null(spin_panel_read(tmpf("uns.vcf", H "1\t20\t.\tA\tG\t.\t.\t.\tGT\t0|1\n"
                                                        "1\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\n"), NULL, 1));
    ck_assert_ptr_null(spin_panel_read(tmpf("mis.vcf", H "1\t20\t.\tA\tG\t.\t.\t.\tGT\t.|1\n"), NULL, 1));
    /* haploid: accepted (both slots, one haplotype in af); a lone "." is missing; triploid refused */
    spin_panel_t *ph = spin_panel_read(tmpf("hap.vcf", H "1\t20\t.\tA\tG\t.\t.\t.\tGT\t1\n"), NULL, 1);
    ck_assert_ptr_nonnull(ph);
    ck_assert_int_eq(spin_panel_allele(ph, 0, 0) + spin_panel_allele(ph, 0, 1), 2);
    ck_assert(ph->af[0] == 1.0f);
    spin_panel_destroy(ph);
    ck_assert_ptr_null(spin_panel_read(tmpf("hapm.vcf", H "1\t20\t.\tA\tG\t.\t.\t.\tGT\t.\n"), NULL, 1));
    ck_assert_ptr_null(spin_panel_read(tmpf("tri.vcf", H "1\t20\t.\tA\tG\t.\t.\t.\tGT\t0|1|1\n"), NULL, 1));
    ck_assert_ptr_null(spin_panel_read(tmpf("only.vcf", H "1\t20\t.\tAT\t.\t.\t.\t.\tGT\t0|0\n"), NULL, 1));
    /* every record with an ALT is kept (a multi-allelic one as one site per
     * ALT), counted by type; an exact repeat is dropped */
    spin_panel_t *p = spin_panel_read(tmpf("mix.vcf", H "1\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\n"
                                                       "1\t11\t.\tA\tAT\t.\t.\t.\tGT\t0|1\n"
                                                       "1\t12\t.\tA\t<DEL>\t.\t.\t.\tGT\t0|1\n"
                                                       "1\t12\trsM\tG\t.\t.\t.\t.\tGT\t0|0\n"
                                                       "1\t12\t.\tG\tG\t.\t.\t.\tGT\t0|1\n"
                                                       "1\t13\t.\tA\tC,G\t.\t.\t.\tGT\t0|2\n"
                                                       "1\t14\t.\tA\tC\t.\t.\t.\tGT\t1|1\n"
                                                       "1\t14\t.\tA\tG\t.\t.\t.\tGT\t0|0\n"
                                                       "1\t14\t.\tA\tG\t.\t.\t.\tGT\t1|1\n"),
                                      NULL, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->n_site, 7);
    ck_assert_int_eq(p->n_rec_snp, 3);
    ck_assert_int_eq(p->n_rec_indel, 1);
    ck_assert_int_eq(p->n_rec_other, 1);
    ck_assert_int_eq(p->n_rec_multi, 1);
    /* a REF-only record is kept aside, in panel order; ALT == REF is skipped */
    ck_assert_int_eq(p->n_mono, 1);
    ck_assert_int_eq(p->mono_pos[0], 12);
    ck_assert_int_eq(p->mono_site[0], 3);
    ck_assert_str_eq(p->mono_id[0], "rsM");
    ck_assert_str_eq(p->mono_ref[0], "G");
    ck_assert_int_eq(p->n_skip_mono, 1);
    ck_assert_str_eq(spin_panel_ref(p, 1), "A");
    ck_assert_str_eq(spin_panel_alt(p, 1), "AT");
    ck_assert_str_eq(spin_panel_alt(p, 2), "<DEL>");
    ck_assert(!spin_panel_is_snp(p, 1) && !spin_panel_is_snp(p, 2));
    /* A>C,G with 0|2: site 3 (ALT C) 0|0, site 4 (ALT G) 0|1 */
    ck_assert_int_eq(p->pos[3], 13);
    ck_assert_int_eq(p->pos[4], 13);
    ck_assert_str_eq(spin_panel_alt(p, 3), "C");
    ck_assert_str_eq(spin_panel_alt(p, 4), "G");
    ck_assert_int_eq(p->ialt[3], 1);
    ck_assert_int_eq(p->ialt[4], 2);
    ck_assert_int_eq(p->nalt[3], 2);
    ck_assert_int_eq(p->nalt[0], 1);
    ck_assert(!spin_panel_is_snp(p, 3));
    ck_assert_int_eq(spin_panel_allele(p, 3, 1), 0);
    ck_assert_int_eq(spin_panel_allele(p, 4, 1), 1);
    ck_assert_float_eq(p->af[4], 0.5f);
    ck_assert_str_eq(spin_panel_alt(p, 6), "G");
    ck_assert_int_eq(spin_panel_allele(p, 6, 0), 0);
    ck_assert_float_eq(p->af[5], 1.0f);
    ck_assert_int_eq(p->chrom_len, 0);
    spin_panel_destroy(p);
}
END_TEST

START_TEST(test_panel_multiallelic_fixture)
{
    spin_panel_t *p = spin_panel_read(td("ref_multiallelic.vcf"), NULL, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->n_site, 251);
    ck_assert_int_eq(p->n_rec_multi, 1);
    ck_assert_int_eq(p->n_rec_snp, 249);
    int n = 0;
    for (int s = 0; s < p->n_site; ++s)
        if (p->pos[s] == 1000968) {
            ck_assert_int_eq(p->nalt[s], 2);
            ck_assert_int_eq(p->ialt[s], ++n);
            ck_assert_str_eq(spin_panel_alt(p, s), n == 1 ? "A" : "C");
            ck_assert_int_eq(spin_panel_allele(p, s, 0), n == 2); /* REF001 2|2 */
        }
    ck_assert_int_eq(n, 2);
    spin_panel_destroy(p);
}
END_TEST

START_TEST(test_targets_files)
{
    spin_panel_t *p = spin_panel_read(td("ref.vcf.gz"), NULL, 1);
    ck_assert_ptr_nonnull(p);
    const char *fns[4] = {"target.vcf", "target.vcf.gz", "target.bcf", "target_chr.vcf.gz"};
    spin_targets_t *t0 = NULL;
    for (int f = 0; f < 4; ++f) {
        spin_match_stats_t *st = spin_match_stats_init();
        spin_targets_t *t = spin_targets_read_matched(td(fns[f]), p, NULL, NULL, 1, NULL, SPIN_MIN_MATCH_FRAC, st);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(t->n_sample, 20);
        ck_assert_int_eq(t->n_hap, 40);
        ck_assert_int_eq(t->n_typed, 60);
        ck_assert_int_eq(st->n_records, 60);
        ck_assert_int_eq(st->n_exact, 60);
        ck_assert_int_eq(st->chr_renamed, f == 3);
        ck_assert_int_eq(st->n_note, 0);
        for (int i = 1; i < t->n_typed; ++i) ck_assert_int_gt(t->site[i], t->site[i - 1]);
        if (!t0) t0 = t;
        else {
            ck_assert_int_eq(memcmp(t->site, t0->site, 60 * sizeof(int)), 0);
            ck_assert_int_eq(memcmp(t->allele, t0->allele, 60 * 40), 0);
            spin_targets_destroy(t);
        }
        spin_match_stats_destroy(st);
    }
    /* typed alleles against htslib */
    htsFile *fp = hts_open(td("target.vcf"), "r");
    bcf_hdr_t *h = bcf_hdr_read(fp);
    bcf1_t *rec = bcf_init();
    int32_t *gt = NULL, ngt = 0, i = 0;
    while (bcf_read(fp, h, rec) == 0) {
        ck_assert_int_eq(p->pos[t0->site[i]], rec->pos + 1);
        ck_assert_int_eq(bcf_get_genotypes(h, rec, &gt, &ngt), 40);
        for (int j = 0; j < 40; ++j) ck_assert_int_eq(t0->allele[i * 40 + j], bcf_gt_allele(gt[j]));
        ++i;
    }
    ck_assert_int_eq(i, 60);
    free(gt), bcf_destroy(rec), bcf_hdr_destroy(h), hts_close(fp);
    spin_targets_destroy(t0);

    /* region (indexed BCF, and plain VCF streamed) */
    spin_targets_t *t = spin_targets_read(td("target.bcf"), p, "20:1100001-1200000", 1, SPIN_MIN_MATCH_FRAC);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->n_typed, 20); /* one per 5 kb bin */
    spin_targets_destroy(t);
    t = spin_targets_read(td("target.vcf"), p, "20:1100001-1200000", 1, SPIN_MIN_MATCH_FRAC);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->n_typed, 20);
    spin_targets_destroy(t);

    /* missing alleles: 3 samples x 2 alleles at every 3rd of 60 sites */
    spin_match_stats_t *st = spin_match_stats_init();
    t = spin_targets_read_matched(td("target_missing.vcf.gz"), p, NULL, NULL, 1, NULL, SPIN_MIN_MATCH_FRAC, st);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(st->n_missing_gt, 120);
    ck_assert_int_eq(t->allele[0], -1);
    ck_assert_int_eq(t->allele[1], -1);
    spin_targets_destroy(t);
    spin_match_stats_destroy(st);

    /* an unphased heterozygote is kept and flagged (TGT03 at the 5th typed site);
     * genotypes are the ALT counts of the allele pairs */
    t = spin_targets_read(td("target_unphased.vcf"), p, NULL, 1, SPIN_MIN_MATCH_FRAC);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->n_unphased, 1);
    int tgt03 = -1;
    for (int i = 0; i < t->n_sample; i++)
        if (strcmp(t->samples[i], "TGT03") == 0) tgt03 = i;
    ck_assert_int_ge(tgt03, 0);
    for (int k = 0; k < t->n_typed; k++)
        for (int i = 0; i < t->n_sample; i++) {
            size_t g = (size_t)k * t->n_sample + i;
            const int8_t *a = t->allele + (size_t)k * t->n_hap + 2 * i;
            ck_assert_int_eq(t->phased[g], !(k == 4 && i == tgt03));
            ck_assert_int_eq(t->gt[g], a[0] + a[1]);
        }
    ck_assert_int_eq(t->gt[(size_t)4 * t->n_sample + tgt03], 1);
    spin_targets_destroy(t);

    /* refused */
    ck_assert_ptr_null(spin_targets_read(td("target_b38.vcf"), p, NULL, 1, SPIN_MIN_MATCH_FRAC));
    ck_assert_ptr_null(spin_targets_read(td("target_nooverlap.vcf"), p, NULL, 1, SPIN_MIN_MATCH_FRAC));
    ck_assert_ptr_null(spin_targets_read(td("truncated.vcf.gz"), p, NULL, 1, SPIN_MIN_MATCH_FRAC));
    spin_panel_destroy(p);
}
END_TEST

START_TEST(test_region_parse)
{
    char *c;
    int64_t a, b;
    ck_assert_int_eq(spin_region_parse("20:1,000-2,000", &c, &a, &b), 0);
    ck_assert_str_eq(c, "20");
    ck_assert_int_eq(a, 1000); ck_assert_int_eq(b, 2000);
    free(c);
    ck_assert_int_eq(spin_region_parse("chr20", &c, &a, &b), 0);
    ck_assert_str_eq(c, "chr20");
    ck_assert_int_eq(a, 1); ck_assert_int_eq(b, INT64_MAX);
    free(c);
    ck_assert_int_eq(spin_region_parse("20:500-", &c, &a, &b), 0);
    ck_assert_int_eq(a, 500); ck_assert_int_eq(b, INT64_MAX);
    free(c);
    ck_assert_int_eq(spin_region_parse("20:500", &c, &a, &b), 0);
    ck_assert_int_eq(a, 500); ck_assert_int_eq(b, 500);
    free(c);
    ck_assert_int_lt(spin_region_parse("20:2000-1000", &c, &a, &b), 0);
    ck_assert_int_lt(spin_region_parse("20:x-5", &c, &a, &b), 0);
    ck_assert_int_lt(spin_region_parse(":1-5", &c, &a, &b), 0);
    ck_assert_int_lt(spin_region_parse("20:0-5", &c, &a, &b), 0);
}
END_TEST

START_TEST(test_gmap)
{
    spin_gmap_t *m = spin_gmap_load(td("map.txt"), "20");
    ck_assert_ptr_nonnull(m);
    /* map.txt: 900000 -> 0, 910000 -> 0.005 (0.5 cM/Mb), 920000 -> 0.012 */
    ck_assert_double_eq_tol(spin_gmap_cm(m, 900000), 0.0, 1e-12);
    ck_assert_double_eq_tol(spin_gmap_cm(m, 905000), 0.0025, 1e-12);
    ck_assert_double_eq_tol(spin_gmap_cm(m, 915000), 0.0085, 1e-12);
    /* before the first line: the map's mean rate */
    double c0 = spin_gmap_cm(m, 900000), c1 = spin_gmap_cm(m, 1400000);
    double rate = (c1 - c0) / 500000.0;
    ck_assert_double_eq_tol(spin_gmap_cm(m, 800000), -100000 * rate, 1e-9);
    ck_assert_double_eq_tol(spin_gmap_cm(m, 1500000), c1 + 100000 * rate, 1e-9);
    /* set_map on the panel: cM non-decreasing and interpolated */
    spin_panel_t *p = spin_panel_read(td("ref.bcf"), NULL, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(spin_panel_set_map(p, m), 0);
    for (int s = 1; s < p->n_site; ++s) ck_assert(p->cm[s] >= p->cm[s - 1]);
    ck_assert_double_eq_tol(p->cm[7], spin_gmap_cm(m, p->pos[7]), 1e-12);
    ck_assert_int_eq(spin_panel_set_map(p, NULL), 0);
    ck_assert_double_eq_tol(p->cm[7], p->pos[7] * 1e-6, 1e-12);
    spin_panel_destroy(p);
    spin_gmap_destroy(m);
    spin_gmap_destroy(NULL);
    ck_assert_double_eq_tol(spin_gmap_cm(NULL, 2500000), 2.5, 1e-12);
    /* chr prefix ignored; other chromosome refused */
    m = spin_gmap_load(td("map.txt"), "chr20");
    ck_assert_ptr_nonnull(m);
    spin_gmap_destroy(m);
    ck_assert_ptr_null(spin_gmap_load(td("map.txt"), "21"));
    ck_assert_ptr_null(spin_gmap_load(td("no-such-map.txt"), "20"));
    /* bad lines */
    ck_assert_ptr_null(spin_gmap_load(tmpf("m1.txt", "20 a 0.1 100\n20 b x 200\n"), "20"));
    ck_assert_ptr_null(spin_gmap_load(tmpf("m2.txt", "20 a 0.1 200\n20 b 0.2 100\n"), "20"));
    ck_assert_ptr_null(spin_gmap_load(tmpf("m3.txt", "20 a 0.1 200\n20 b 0.05 300\n"), "20"));
    ck_assert_ptr_null(spin_gmap_load(tmpf("m4.txt", "20 a 0.1\n"), "20"));
    ck_assert_ptr_null(spin_gmap_load(tmpf("m5.txt", "20 a 0.1 12x\n"), "20"));
    /* gzipped map, other chromosomes' lines skipped */
    char gz[128];
    snprintf(gz, sizeof(gz), "%s/m.txt.gz", tmpdir);
    gzFile g = gzopen(gz, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_gt(gzputs(g, "19 z 5 10\n20 a 1.0 1000\n20 b 2.0 2000\n21 y 9 5\n"), 0);
    ck_assert_int_eq(gzclose(g), Z_OK);
    m = spin_gmap_load(gz, "20");
    ck_assert_ptr_nonnull(m);
    ck_assert_double_eq_tol(spin_gmap_cm(m, 1250), 1.25, 1e-12);
    ck_assert_double_eq_tol(spin_gmap_cm(m, 500), 0.5, 1e-12); /* 1 cM/kb mean rate */
    spin_gmap_destroy(m);
    /* SHAPEIT5-style map: header "pos chr cM", columns bp chrom cM */
    m = spin_gmap_load(tmpf("s.gmap", "pos\tchr\tcM\n100\t20\t0.5\n300\t20\t1.5\n"), "chr20");
    ck_assert_ptr_nonnull(m);
    ck_assert_double_eq_tol(spin_gmap_cm(m, 200), 1.0, 1e-12);
    spin_gmap_destroy(m);
    ck_assert_ptr_null(spin_gmap_load(tmpf("s2.gmap", "pos\tchr\tcM\n100\t20\t0.5\t9\n"), "20"));
}
END_TEST

int main(void)
{
    const char *top = getenv("top_srcdir");
    snprintf(dd, sizeof(dd), "%s/test-data", top ? top : ".");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_vcfin.XXXXXX");
    if (!mkdtemp(tmpdir)) return EXIT_FAILURE;
    Suite *s = suite_create("vcfin");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_panel_vcfgz_bcf);
    tcase_add_test(tc, test_panel_region);
    tcase_add_test(tc, test_panel_threads);
    tcase_add_test(tc, test_panel_threads_undeclared);
    tcase_add_test(tc, test_panel_errors);
    tcase_add_test(tc, test_panel_multiallelic_fixture);
    tcase_add_test(tc, test_targets_files);
    tcase_add_test(tc, test_region_parse);
    tcase_add_test(tc, test_gmap);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) return EXIT_FAILURE;
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
