/* check_haploid.c -- haploid genotypes (male chrX): the panel's mirrored slot and
 * AF, the targets' ploidy at typed and untyped sites, AF/DR2 over the haplotypes
 * present (hand case), and the writer's haploid fields. */
#include <check.h>

#include "check_util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dosage.h"
#include "vcfin.h"
#include "writer.h"

#define HDR                                                                                                            \
    "##fileformat=VCFv4.2\n##contig=<ID=X,length=155270560>\n"                                                         \
    "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/spin-haploid-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *write_tmp(const char *name, const char *text)
{
    static char fn[4][128];
    static int k;
    char *f = fn[k++ & 3];
    snprintf(f, 128, "%s/%s", dir, name);
    FILE *fp = fopen(f, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
    return f;
}

static char *slurp(const char *fn)
{
    FILE *fp = fopen(fn, "r");
    ck_assert_ptr_nonnull(fp);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

/* M1 haploid at 300 and 400 (outside a PAR ending before 300), diploid at 100, 200 */
static const char *panel_vcf = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tF1\tM1\n"
                                   "X\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\t1|0\n"
                                   "X\t200\t.\tC\tT\t.\t.\t.\tGT\t0|0\t0|1\n"
                                   "X\t300\t.\tG\tA\t.\t.\t.\tGT\t0|1\t1\n"
                                   "X\t400\t.\tA\tC,T\t.\t.\t.\tGT\t2|1\t2\n"
                                   "X\t500\t.\tC\tG\t.\t.\t.\tGT\t0|1\t0\n";

START_TEST(test_panel_haploid)
{
    spin_panel_t *p = spin_panel_read(write_tmp("p.vcf", panel_vcf), NULL, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->n_hap, 4);
    ck_assert_int_eq(p->n_site, 6);
    ck_assert_ptr_nonnull(p->n_haploid);
    /* diploid sites: af over 4 haplotypes */
    ck_assert_int_eq(p->n_haploid[0], 0);
    ck_assert(p->af[0] == 0.5f);
    /* X:300: M1 "1" fills both slots; af = (1 + 1) / 3, not 3 / 4 */
    ck_assert_int_eq(p->n_haploid[2], 1);
    ck_assert_int_eq(p->n_haploid_alt[2], 1);
    ck_assert_int_eq(spin_panel_allele(p, 2, 2), 1);
    ck_assert_int_eq(spin_panel_allele(p, 2, 3), 1);
    ck_assert(fabsf(p->af[2] - 2.0f / 3.0f) < 1e-6f);
    /* X:400 C,T: ALT 1 (C) on F1's slot 2 only; ALT 2 (T) on F1 slot 1 and M1 */
    ck_assert_int_eq(p->n_haploid_alt[3], 0);
    ck_assert_int_eq(p->n_haploid_alt[4], 1);
    ck_assert(fabsf(p->af[3] - 1.0f / 3.0f) < 1e-6f);
    ck_assert(fabsf(p->af[4] - 2.0f / 3.0f) < 1e-6f);
    spin_panel_destroy(p);
    /* a triploid panel genotype is still an error */
    const char *tri = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tF1\n"
                          "X\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1|1\n";
    ck_assert_ptr_null(spin_panel_read(write_tmp("t.vcf", tri), NULL, 1));
    /* a lone "." in a panel is a missing genotype: refused as any missing genotype */
    const char *miss = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tF1\tM1\n"
                           "X\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\t.\n";
    ck_assert_ptr_null(spin_panel_read(write_tmp("m.vcf", miss), NULL, 1));
}
END_TEST

/* M1 typed at 100 (diploid, PAR), 300 and 400 (haploid); F1 diploid everywhere;
 * U1 (unknown at 300: a lone ".") */
START_TEST(test_target_ploidy)
{
    spin_panel_t *p = spin_panel_read(write_tmp("p.vcf", panel_vcf), NULL, 1);
    ck_assert_ptr_nonnull(p);
    const char *tv = HDR "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tF1\tM1\tU1\n"
                         "X\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\t1|0\t0|0\n"
                         "X\t300\t.\tG\tA\t.\t.\t.\tGT\t0/1\t0\t.\n"
                         "X\t400\t.\tA\tC,T\t.\t.\t.\tGT\t1|1\t2\t0\n";
    spin_targets_t *t = spin_targets_read(write_tmp("t.vcf", tv), p, NULL, 1, 0.5);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->n_typed, 4); /* 100, 300, 400 C, 400 T */
    ck_assert_ptr_nonnull(t->ploidy);
    /* only F1's 0/1 at 300 goes to the phaser: a haploid genotype is never an unphased heterozygote */
    ck_assert_int_eq(t->n_unphased, 1);
    ck_assert_int_eq(t->phased[1 * 3 + 0], 0);
    ck_assert_int_eq(t->phased[1 * 3 + 1], 1);
    /* haploid T at 400 for M1: both slots carry allele 2, i.e. 0 at ALT-C and 1 at ALT-T */
    ck_assert_int_eq(t->allele[2 * 6 + 2], 0);
    ck_assert_int_eq(t->allele[3 * 6 + 2], 1);
    ck_assert_int_eq(t->allele[3 * 6 + 3], 1);
    uint8_t pl[3];
    /* typed sites */
    ck_assert_int_eq(spin_targets_ploidy_at(t, 0, pl), 0); /* X:100: everyone diploid */
    ck_assert_int_eq(spin_targets_ploidy_at(t, 2, pl), 1);
    ck_assert_int_eq(pl[0], 2);
    ck_assert_int_eq(pl[1], 1);
    ck_assert_int_eq(pl[2], 2); /* U1's "." at 300: diploid at 100, haploid at 400, so diploid */
    ck_assert_int_eq(spin_targets_ploidy_at(t, 3, pl), 1); /* X:400 */
    ck_assert_int_eq(pl[0], 2);
    ck_assert_int_eq(pl[1], 1);
    ck_assert_int_eq(pl[2], 1);
    /* untyped X:200 between diploid 100 and haploid 300: M1 diploid (the flanks differ) */
    ck_assert_int_eq(spin_targets_ploidy_at(t, 1, pl), 0);
    ck_assert_int_eq(pl[1], 2);
    /* untyped X:500 after the last typed site: the one flank decides (M1, U1 haploid) */
    ck_assert_int_eq(spin_targets_ploidy_at(t, 5, pl), 1);
    ck_assert_int_eq(pl[0], 2);
    ck_assert_int_eq(pl[1], 1);
    ck_assert_int_eq(pl[2], 1);
    /* a record before site 3 (e.g. REF-only at 350): flanks 300 and 400 */
    ck_assert_int_eq(spin_targets_ploidy_before(t, 3, pl), 1);
    ck_assert_int_eq(pl[1], 1);
    ck_assert_int_eq(pl[2], 2);
    spin_targets_destroy(t);
    spin_panel_destroy(p);
}
END_TEST

/* AF and DR2 over the haplotypes present, by hand: samples A (diploid, 0.2 0.6),
 * B (haploid, 0.9 in both slots), C (diploid, 0 1). N = 5, S = 2.7, AF = 0.54; DR2 is
 * that of the five haplotypes present (dosage.h's formula: 0.6934 here), not of six. */
START_TEST(test_af_dr2_hand)
{
    float p[6] = {0.2f, 0.6f, 0.9f, 0.9f, 0.0f, 1.0f}, present[5] = {0.2f, 0.6f, 0.9f, 0.0f, 1.0f};
    uint8_t pl[3] = {2, 1, 2};
    double af, dr2, af5, dr25;
    spin_site_af_dr2_ploidy(p, 6, pl, &af, &dr2);
    spin_site_af_dr2(present, 5, &af5, &dr25);
    ck_assert(fabs(af - 0.54) < 1e-6);
    ck_assert(af == af5 && dr2 == dr25);
    ck_assert(fabs(dr2 - 0.6934049992560631) < 1e-6);
    /* all diploid: the same as spin_site_af_dr2 (B counted twice: N = 6, S = 3.6) */
    double af2, dr22;
    spin_site_af_dr2_ploidy(p, 6, NULL, &af, &dr2);
    spin_site_af_dr2(p, 6, &af2, &dr22);
    ck_assert(af == af2 && dr2 == dr22);
    ck_assert(fabs(af - 0.6) < 1e-6);
}
END_TEST

/* The writer: a haploid sample's GT/DS/AP1/GP and INFO over haplotypes present. */
START_TEST(test_writer_haploid)
{
    spin_panel_t panel;
    memset(&panel, 0, sizeof(panel));
    panel.chrom = "X", panel.chrom_len = 155270560;
    const char *const samples[3] = {"A", "B", "C"};
    for (int gp = 0; gp < 2; gp++)
        for (int ap = 0; ap < 2; ap++) {
            spin_writer_opt_t o;
            memset(&o, 0, sizeof(o));
            o.panel = &panel, o.n_sample = 3, o.samples = samples, o.gp = gp, o.ap = ap, o.no_version = 1;
            char fn[128];
            snprintf(fn, sizeof(fn), "%s/w%d%d.vcf", dir, gp, ap);
            spin_writer_t *w = spin_writer_open(fn, 'v', 1, &o);
            ck_assert_ptr_nonnull(w);
            /* B's two slots differ (0.8, 1.0): its one haplotype is their mean 0.9 */
            float p[6] = {0.2f, 0.6f, 0.8f, 1.0f, 0.0f, 1.0f};
            const float *rows[1] = {p};
            const char *alt[1] = {"G"};
            uint8_t pl[3] = {2, 1, 2};
            ck_assert_int_eq(spin_writer_record_pl(w, "X", 100, ".", "A", alt, 1, 1, rows, 6, pl), 0);
            /* multi-allelic, B haploid carrying ALT 2 */
            float c[6] = {0, 1, 0, 0, 0, 0}, t[6] = {0, 0, 1, 1, 0, 0};
            const float *rows2[2] = {c, t};
            const char *alt2[2] = {"C", "T"};
            ck_assert_int_eq(spin_writer_record_pl(w, "X", 200, ".", "A", alt2, 2, 0, rows2, 6, pl), 0);
            ck_assert_int_eq(spin_writer_ref_only_pl(w, "X", 300, ".", "G", pl), 0);
            ck_assert_int_eq(spin_writer_close(w), 0);
            const char *s = slurp(fn);
            ck_assert_ptr_nonnull(strstr(s, "DR2=0.69;AF=0.5400;IMP"));
            const char *want1[4] = {"\t1:0.9\t", "\t1:0.9:0.9\t", "\t1:0.9:0.1,0.9\t", "\t1:0.9:0.9:.:0.1,0.9\t"};
            const char *want2[4] = {"\t2:0,1\t", "\t2:0,1:0,1\t", "\t2:0,1:0,0,1\t", "\t2:0,1:0,1:.:0,0,1\t"};
            ck_assert_msg(strstr(s, want1[gp * 2 + ap]), "gp %d ap %d: %s", gp, ap, s);
            ck_assert_msg(strstr(s, want2[gp * 2 + ap]), "gp %d ap %d: %s", gp, ap, s);
            ck_assert_ptr_nonnull(strstr(s, "AF=0.2000,0.2000"));
            ck_assert_ptr_nonnull(strstr(s, "GT:DS\t0|0\t0\t0|0\n"));
        }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("haploid");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_panel_haploid);
    tcase_add_test(tc, test_target_ploidy);
    tcase_add_test(tc, test_af_dr2_hand);
    tcase_add_test(tc, test_writer_haploid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return spin_check_run(suite()); }
