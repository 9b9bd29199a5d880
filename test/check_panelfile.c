/* check_panelfile.c -- the prepared panel loads as the same spin_panel_t as the
 * VCF it was made from (whole contig and regions, across block boundaries,
 * several contigs, every record kind), and damaged files are refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <htslib/bgzf.h>
#include <htslib/hts.h>
#include <htslib/kseq.h>
#include <htslib/tbx.h>

#include "check_util.h"
#include "panelfile.h"
#include "vcfin.h"

static char tmpdir[64];
static char vcf_fn[320], pan_fn[128];

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

#define N_SAMPLE 130 /* 260 haplotypes: the last bit word is partly used */

/* One record's genotypes: allele k with probability f[k] (f[0] the rest). */
static void put_gt(FILE *fp, int n_alt, double af)
{
    for (int i = 0; i < N_SAMPLE; ++i) {
        int a[2];
        for (int j = 0; j < 2; ++j) {
            double u = (double)(rnd() % 1000000) / 1e6;
            a[j] = u < af ? 1 + (int)(rnd() % (unsigned)n_alt) : 0;
        }
        fprintf(fp, "\t%d|%d", a[0], a[1]);
    }
    fputc('\n', fp);
}

/* A bgzipped, indexed panel: contig 20 with ~5,200 sites (3 blocks) of every
 * kind, REF-only records, ALT==REF and repeated records; contig chr22 small. */
static void make_panel(void)
{
    FILE *fp = fopen(vcf_fn, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "##fileformat=VCFv4.2\n##contig=<ID=20,length=63025520>\n##contig=<ID=chr22,length=51304566>\n"
                "##contig=<ID=21,length=48129895>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n"
                "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT");
    for (int i = 0; i < N_SAMPLE; ++i) fprintf(fp, "\tS%03d", i);
    fputc('\n', fp);
    const char *b = "ACGT";
    long pos = 1000;
    for (int r = 0; r < 5000; ++r) {
        pos += rnd() % 3 == 0 ? 0 : 1 + rnd() % 60;
        char ref = b[rnd() % 4], alt = b[(strchr(b, ref) - b + 1 + rnd() % 3) % 4];
        unsigned kind = rnd() % 100;
        double af = kind < 60 ? 0.004 * (rnd() % 5) : kind < 80 ? 0.5 * (rnd() % 100) / 100.0 : 0.9 + 0.1 * (rnd() % 2);
        if (r == 0 || r == 2500 || kind == 99) { /* REF-only */
            fprintf(fp, "20\t%ld\trs%d\t%c\t.\t.\tPASS\t.\tGT", pos, r, ref);
            for (int i = 0; i < N_SAMPLE; ++i) fprintf(fp, "\t0|0");
            fputc('\n', fp);
        } else if (kind == 98) { /* ALT equal to REF: skipped */
            fprintf(fp, "20\t%ld\t.\t%c\t%c\t.\tPASS\t.\tGT", pos, ref, ref);
            put_gt(fp, 1, 0.1);
        } else if (kind >= 90) { /* multi-allelic */
            fprintf(fp, "20\t%ld\t.\t%c\t%c,%cT,<DEL>\t.\tPASS\t.\tGT", pos, ref, alt, ref);
            put_gt(fp, 3, af);
        } else if (kind >= 85) { /* indel, then the same record again (skipped) */
            fprintf(fp, "20\t%ld\tid%d\t%c\t%cAG\t.\tPASS\t.\tGT", pos, r, ref, ref);
            put_gt(fp, 1, af);
            fprintf(fp, "20\t%ld\tid%d\t%c\t%cAG\t.\tPASS\t.\tGT", pos, r, ref, ref);
            put_gt(fp, 1, af);
        } else {
            fprintf(fp, "20\t%ld\t%s\t%c\t%c\t.\tPASS\t.\tGT", pos, kind % 2 ? "." : "rsX", ref, alt);
            put_gt(fp, 1, af);
        }
    }
    /* the last record REF-only: after every site */
    fprintf(fp, "20\t%ld\tlast\tA\t.\t.\tPASS\t.\tGT", pos + 5);
    for (int i = 0; i < N_SAMPLE; ++i) fprintf(fp, "\t0|0");
    fputc('\n', fp);
    for (int r = 0; r < 40; ++r) {
        fprintf(fp, "chr22\t%d\t.\tC\tG\t.\tPASS\t.\tGT", 5000 + 17 * r);
        put_gt(fp, 1, 0.3);
    }
    ck_assert_int_eq(fclose(fp), 0);
    /* bgzip + tabix */
    char gz[sizeof(vcf_fn)];
    ck_assert_uint_lt(strlen(vcf_fn) + 3, sizeof(gz));
    strcpy(gz, vcf_fn);
    strcat(gz, ".gz");
    htsFile *in = hts_open(vcf_fn, "r"), *out = hts_open(gz, "wz");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    kstring_t ks = {0, 0, NULL};
    while (hts_getline(in, KS_SEP_LINE, &ks) >= 0) {
        kputc('\n', &ks);
        ck_assert_int_eq(bgzf_write(out->fp.bgzf, ks.s, ks.l), (ssize_t)ks.l);
    }
    free(ks.s);
    hts_close(in), hts_close(out);
    ck_assert_int_eq(tbx_index_build(gz, 0, &tbx_conf_vcf), 0);
    strcpy(vcf_fn, gz);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_panelfile.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(vcf_fn, sizeof(vcf_fn), "%s/panel.vcf", tmpdir);
    snprintf(pan_fn, sizeof(pan_fn), "%s/panel.spanel", tmpdir);
    make_panel();
    spin_panelfile_info_t info;
    ck_assert_int_eq(spin_panelfile_write(vcf_fn, pan_fn, 1, 6, &info), 0);
    ck_assert_int_eq(info.n_contig, 2);
    ck_assert_int_ge(info.n_block, 4);
    ck_assert_int_gt(info.n_sparse, 0);
    ck_assert_int_lt(info.n_sparse, info.n_site);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* What a sites-only read keeps (vcfin.h), equal in a and b. */
static void same_sites_of(const spin_panel_t *a, const spin_panel_t *b)
{
    ck_assert_str_eq(a->chrom, b->chrom);
    ck_assert_int_eq(a->chrom_len, b->chrom_len);
    ck_assert_int_eq(a->n_hap, b->n_hap);
    ck_assert_int_eq(a->n_site, b->n_site);
    for (int s = 0; s < a->n_site; ++s) {
        ck_assert_int_eq(a->pos[s], b->pos[s]);
        ck_assert_str_eq(spin_panel_ref(a, s), spin_panel_ref(b, s));
        ck_assert_str_eq(spin_panel_alt(a, s), spin_panel_alt(b, s));
        ck_assert_int_eq(a->ialt[s], b->ialt[s]);
        ck_assert_int_eq(a->nalt[s], b->nalt[s]);
    }
    ck_assert_int_eq(a->n_rec_snp, b->n_rec_snp);
    ck_assert_int_eq(a->n_rec_indel, b->n_rec_indel);
    ck_assert_int_eq(a->n_rec_other, b->n_rec_other);
    ck_assert_int_eq(a->n_rec_multi, b->n_rec_multi);
    ck_assert_int_eq(a->n_mono, b->n_mono);
    for (int i = 0; i < a->n_mono; ++i) {
        ck_assert_int_eq(a->mono_pos[i], b->mono_pos[i]);
        ck_assert_int_eq(a->mono_site[i], b->mono_site[i]);
        ck_assert_str_eq(a->mono_ref[i], b->mono_ref[i]);
    }
}

/* Every field a run uses, equal. */
static void same_panel(const spin_panel_t *a, const spin_panel_t *b)
{
    same_sites_of(a, b);
    ck_assert_int_eq(a->n_sample, b->n_sample);
    ck_assert_int_eq(a->nw, b->nw);
    for (int i = 0; i < a->n_sample; ++i) ck_assert_str_eq(a->samples[i], b->samples[i]);
    for (int s = 0; s < a->n_site; ++s) {
        ck_assert_str_eq(a->id[s], b->id[s]);
        ck_assert(a->cm[s] == b->cm[s]);
        ck_assert(a->af[s] == b->af[s]);
        ck_assert_int_eq(memcmp(a->hap + (size_t)s * a->nw, b->hap + (size_t)s * b->nw, (size_t)a->nw * 8), 0);
    }
    for (int i = 0; i < a->n_mono; ++i) ck_assert_str_eq(a->mono_id[i], b->mono_id[i]);
}

static void same_region(const char *region, int expect_ok)
{
    spin_panel_t *a = spin_panel_read(vcf_fn, region, 1), *b = spin_panel_read(pan_fn, region, 1);
    if (!expect_ok) {
        ck_assert_msg(!a && !b, "region %s: expected both readers to refuse it", region ? region : "(whole)");
        return;
    }
    ck_assert_msg(a && b, "region %s: a reader failed", region);
    same_panel(a, b);
    spin_panel_destroy(a);
    spin_panel_destroy(b);
}

START_TEST(test_roundtrip_regions)
{
    spin_panel_t *a = spin_panel_read(vcf_fn, "20", 1);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_gt(a->n_site, 2 * SPIN_PANELFILE_BLOCK_SITES);
    ck_assert_int_ge(a->n_mono, 3);
    ck_assert_int_gt(a->n_rec_multi, 0);
    ck_assert_int_gt(a->n_rec_indel, 0);
    ck_assert_int_eq(a->mono_site[a->n_mono - 1], a->n_site); /* a REF-only record after every site */
    char r[8][64];
    int64_t edge = a->pos[SPIN_PANELFILE_BLOCK_SITES], mono = a->mono_pos[1];
    snprintf(r[0], 64, "20:%lld-%lld", (long long)edge, (long long)edge);
    snprintf(r[1], 64, "20:%lld-%lld", (long long)edge - 100, (long long)edge + 3000);
    snprintf(r[2], 64, "20:%lld-", (long long)a->pos[2 * SPIN_PANELFILE_BLOCK_SITES - 1]);
    snprintf(r[3], 64, "20:1-%lld", (long long)mono);
    snprintf(r[4], 64, "chr20:%lld-%lld", (long long)mono, (long long)a->mono_pos[a->n_mono - 1]);
    snprintf(r[5], 64, "20:%lld-%lld", (long long)a->pos[a->n_site - 1], (long long)a->pos[a->n_site - 1] + 10);
    spin_panel_destroy(a);
    const char *ok[] = {"20", "20:1-", "22", "chr22:5000-5100", r[0], r[1], r[2], r[3], r[4], r[5]};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); ++i) same_region(ok[i], 1);
    /* refused by both: several contigs, a contig without records or not declared, an empty region */
    same_region(NULL, 0);
    same_region("21", 0);
    same_region("19:1-100", 0);
    same_region("20:1-10", 0);
}
END_TEST

/* The sites of full read f as sites-only read s has them (vcfin.h): no haplotypes, IDs or
 * frequencies, everything else a run's plan uses equal. */
static void same_sites(const spin_panel_t *f, const spin_panel_t *s)
{
    ck_assert_int_eq(s->nw, 0);
    ck_assert_ptr_null(s->hap);
    for (int k = 0; k < s->n_site; ++k) ck_assert_ptr_null(s->id[k]);
    same_sites_of(f, s);
}

/* Internal chunking's reads (impute.c): the sites-only plan read matches the full
 * read, by both readers, whole contig and regions; the index estimate of the
 * haplotype bits is the prepared panel's exact count and -1 without an index. */
START_TEST(test_sites_only)
{
    const char *regions[] = {"20", "chr22:5000-5100", "20:1-3000", NULL};
    for (int i = 0; regions[i]; ++i)
        for (int r = 0; r < 2; ++r) {
            const char *fn = r ? pan_fn : vcf_fn;
            spin_panel_t *f = spin_panel_read(fn, regions[i], 1);
            spin_panel_t *s = spin_panel_read_flags(fn, regions[i], NULL, 2, NULL, SPIN_PANEL_SITES_ONLY | SPIN_PANEL_QUIET);
            ck_assert_msg(f && s, "%s %s: a read failed", fn, regions[i]);
            same_sites(f, s);
            spin_panel_destroy(f);
            spin_panel_destroy(s);
        }
    spin_panel_t *a = spin_panel_read(vcf_fn, "20", 1), *b = spin_panel_read(vcf_fn, "chr22", 1);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    int64_t nw = (a->n_hap + 63) / 64;
    ck_assert_int_eq(spin_panel_indexed_bits(pan_fn), (int64_t)(a->n_site + b->n_site) * 64 * nw);
    /* the VCF's index counts records: a multi-allelic record is one */
    int64_t rec = a->n_rec_snp + a->n_rec_indel + a->n_rec_other + a->n_rec_multi + a->n_mono + b->n_rec_snp +
                  b->n_rec_indel + b->n_rec_other + b->n_rec_multi + b->n_mono;
    int64_t vb = spin_panel_indexed_bits(vcf_fn);
    ck_assert_int_ge(vb, rec * 64 * nw); /* records skipped by the reader (ALT == REF, repeats) count too */
    ck_assert_int_le(vb, (int64_t)(a->n_site + b->n_site + a->n_mono + b->n_mono) * 2 * 64 * nw);
    spin_panel_destroy(a);
    spin_panel_destroy(b);
    char plain[200];
    snprintf(plain, sizeof(plain), "%s/panel.vcf", tmpdir); /* the text VCF the bgzipped one was made from */
    ck_assert_int_eq(access(plain, R_OK), 0);
    ck_assert_int_eq(spin_panel_indexed_bits(plain), -1);
    ck_assert_int_eq(spin_panel_indexed_bits("/nonexistent.vcf.gz"), -1);
}
END_TEST

/* A copy of the prepared file with byte `at` xor-ed with `x` (at < 0: from the
 * end), or cut to `keep` bytes (keep >= 0). */
static const char *damaged(const char *name, long at, int x, long keep)
{
    static char fn[160];
    snprintf(fn, sizeof(fn), "%s/%s", tmpdir, name);
    FILE *in = fopen(pan_fn, "rb"), *out = fopen(fn, "wb");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    rewind(in);
    unsigned char *b = malloc((size_t)n);
    ck_assert_int_eq(fread(b, 1, (size_t)n, in), (size_t)n);
    if (keep >= 0) n = keep;
    else b[at < 0 ? n + at : at] ^= (unsigned char)x;
    ck_assert_int_eq(fwrite(b, 1, (size_t)n, out), (size_t)n);
    free(b);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
    return fn;
}

START_TEST(test_damaged_refused)
{
    ck_assert(spin_panelfile_detect(pan_fn));
    ck_assert(!spin_panelfile_detect(vcf_fn));
    struct stat st;
    ck_assert_int_eq(stat(pan_fn, &st), 0);
    const char *fn;
    fn = damaged("flip_block.spanel", 100, 0x10, -1); /* inside the first block */
    ck_assert(spin_panelfile_detect(fn));
    ck_assert_ptr_null(spin_panel_read(fn, "20", 1));
    spin_panel_t *p = spin_panel_read(fn, "22", 1); /* the other contig's blocks are sound */
    ck_assert_ptr_nonnull(p);
    spin_panel_destroy(p);
    fn = damaged("flip_header.spanel", -40, 0x01, -1); /* in the header */
    ck_assert_ptr_null(spin_panel_read(fn, "22", 1));
    ck_assert_ptr_null(spin_panelfile_header(fn));
    fn = damaged("version.spanel", 8, 0x02, -1);
    ck_assert(spin_panelfile_detect(fn));
    ck_assert_ptr_null(spin_panel_read(fn, "22", 1));
    fn = damaged("magic.spanel", 0, 0x20, -1);
    ck_assert(spin_panelfile_detect(fn)); /* found by its end marker, refused for its magic */
    ck_assert_ptr_null(spin_panel_read(fn, "22", 1));
    fn = damaged("cut.spanel", 0, 0, (long)st.st_size / 2);
    ck_assert(spin_panelfile_detect(fn));
    ck_assert_ptr_null(spin_panel_read(fn, "22", 1));
    fn = damaged("cut1.spanel", 0, 0, (long)st.st_size - 1);
    ck_assert_ptr_null(spin_panel_read(fn, "22", 1));
    /* never onto the input; the output is not created on failure */
    ck_assert_int_lt(spin_panelfile_write(vcf_fn, vcf_fn, 1, 6, NULL), 0);
    char out[160];
    snprintf(out, sizeof(out), "%s/none.spanel", tmpdir);
    ck_assert_int_lt(spin_panelfile_write(pan_fn, out, 1, 6, NULL), 0);
    ck_assert_int_ne(access(out, F_OK), 0);
}
END_TEST

int main(void)
{
    spin_verbose = SPIN_LOG_ERROR - 1; /* the refusals are expected */
    Suite *s = suite_create("panelfile");
    TCase *tc = tcase_create("panelfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_roundtrip_regions);
    tcase_add_test(tc, test_damaged_refused);
    tcase_add_test(tc, test_sites_only);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
