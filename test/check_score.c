/* check_score.c -- score metrics against hand-computed values.
 * Worked values (n = genotypes, Sx.. sums; r2 = (nSxy-SxSy)^2 / ((nSxx-Sx^2)(nSyy-Sy^2))):
 *  A: x={0,1,2} y={0,1,1}:   cov 1, var x 2, var y 2/3 (sums of squared deviations) -> r2 = 3/4
 *  B: x={0,0,2} y={0,.5,2}:  7^2 / (8 * 6.5) = 49/52
 *  A+B pooled (6 pairs): 19.5^2 / (29 * 17.25) = 380.25/500.25 */
#include <check.h>

#include "check_util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match.h"
#include "score.h"

#define EPS 1e-6

static const int8_t xa[] = {0, 1, 2}, xb[] = {0, 0, 2};
static const float ya[] = {0, 1, 1}, yb[] = {0, 0.5f, 2};

START_TEST(test_corr)
{
    spin_corr_t c = {0};
    ck_assert(isnan(spin_corr_r2(&c)));
    for (int i = 0; i < 3; i++) spin_corr_add(&c, xa[i], ya[i]);
    ck_assert_double_eq_tol(spin_corr_r2(&c), 0.75, EPS);
    ck_assert_double_eq_tol(spin_corr_r(&c), sqrt(0.75), EPS);
    spin_corr_t k = {0}; /* constant prediction, variable truth: r undefined, r2 = 0 */
    spin_corr_add(&k, 0, 1), spin_corr_add(&k, 2, 1);
    ck_assert(isnan(spin_corr_r(&k)));
    ck_assert_double_eq_tol(spin_corr_r2(&k), 0.0, EPS);
    spin_corr_t m = {0}; /* monomorphic truth: undefined */
    spin_corr_add(&m, 1, 0.5), spin_corr_add(&m, 1, 1.5);
    ck_assert(isnan(spin_corr_r2(&m)));
}
END_TEST

START_TEST(test_bins_parse)
{
    spin_score_t *s = spin_score_init(NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->n_bin, 5);
    ck_assert_double_eq_tol(s->edge[2], 0.05, EPS);
    spin_score_destroy(s);
    s = spin_score_init("0,0.5");
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->n_bin, 1);
    spin_score_destroy(s);
    int v = spin_verbose;
    spin_verbose = 0;
    ck_assert_ptr_null(spin_score_init("0.2"));
    ck_assert_ptr_null(spin_score_init("0.1,0.05"));
    ck_assert_ptr_null(spin_score_init("0,0.6"));
    ck_assert_ptr_null(spin_score_init("0,x"));
    ck_assert_ptr_null(spin_score_init("0,,0.5"));
    spin_verbose = v;
    spin_score_destroy(NULL);
}
END_TEST

START_TEST(test_two_sites)
{
    spin_score_t *s = spin_score_init(NULL);
    ck_assert_double_eq_tol(spin_score_add(s, 3, xa, ya, NULL, 0.03, 0.75), 0.75, EPS);
    ck_assert_double_eq_tol(spin_score_add(s, 3, xb, yb, NULL, 0.3, 49.0 / 52), 49.0 / 52, EPS);
    ck_assert_int_eq(s->n_site, 2);
    ck_assert_int_eq(s->n_gt, 6);
    ck_assert_double_eq_tol(spin_score_pooled_r2(s), 380.25 / 500.25, EPS);
    ck_assert_double_eq_tol(spin_score_mean_r2(s), (0.75 + 49.0 / 52) / 2, EPS);
    /* hard calls = rounded dosage: A {0,1,1} vs {0,1,2}; B {0,1,2} vs {0,0,2} */
    ck_assert_double_eq_tol(spin_score_concordance(s), 4.0 / 6, EPS);
    ck_assert_double_eq_tol(spin_score_nr_concordance(s), 2.0 / 4, EPS);
    /* estimates equal to the truth: perfect calibration */
    ck_assert_double_eq_tol(spin_score_calibration(s), 1.0, EPS);
    ck_assert_int_eq(s->bin_sites[1], 1); /* 0.01 < 0.03 <= 0.05 */
    ck_assert_int_eq(s->bin_sites[4], 1); /* 0.2 < 0.3 <= 0.5 */
    ck_assert_int_eq(s->bin_sites[0] + s->bin_sites[2] + s->bin_sites[3], 0);
    ck_assert_double_eq_tol(spin_score_bin_mean_r2(s, 1), 0.75, EPS);
    ck_assert_double_eq_tol(spin_score_bin_agg_r2(s, 4), 49.0 / 52, EPS);
    ck_assert(isnan(spin_score_bin_mean_r2(s, 2)));
    ck_assert(isnan(spin_score_bin_agg_r2(s, 2)));
    spin_score_destroy(s);
}
END_TEST

START_TEST(test_degenerate)
{
    spin_score_t *s = spin_score_init(NULL);
    /* monomorphic truth: counted, not averaged; genotypes still pooled */
    int8_t mono[] = {1, 1, 1};
    float ym[] = {0.5f, 1, 1.5f};
    ck_assert(isnan(spin_score_add(s, 3, mono, ym, NULL, 0.5, 0.9)));
    ck_assert_int_eq(s->n_mono, 1);
    ck_assert_int_eq(s->n_poly, 0);
    ck_assert(isnan(spin_score_mean_r2(s)));
    ck_assert_int_eq(s->calib.n, 0);
    /* missing values: truth -1 and NaN dosage are skipped; the rest is (0,0),(1,1) */
    int8_t xm[] = {0, -1, 2, 1};
    float ymi[] = {0, 1, NAN, 1};
    ck_assert_double_eq_tol(spin_score_add(s, 4, xm, ymi, NULL, -1, NAN), 1.0, EPS);
    ck_assert_int_eq(s->n_gt_missing, 2);
    ck_assert_int_eq(s->n_gt, 5);
    /* maf from truth: the non-missing {0,2,1} give 3/6 = 0.5 -> last bin */
    ck_assert_int_eq(s->bin_sites[4], 2);
    /* constant prediction: r2 0, and enters the mean */
    int8_t xc[] = {0, 2};
    float yc[] = {1, 1};
    ck_assert_double_eq_tol(spin_score_add(s, 2, xc, yc, NULL, 0.0, NAN), 0.0, EPS);
    ck_assert_int_eq(s->bin_sites[0], 1); /* maf 0 belongs to the first bin */
    ck_assert_double_eq_tol(spin_score_mean_r2(s), 0.5, EPS);
    /* maf outside the bins is counted */
    ck_assert_double_eq_tol(spin_score_add(s, 2, xc, yc, NULL, NAN, NAN), 0.0, EPS);
    ck_assert_int_eq(s->n_out_of_bins, 1);
    /* explicit hard calls override rounding: call 2 at truth 1 is discordant */
    spin_score_t *h = spin_score_init("0,0.5");
    int8_t xt[] = {1, 0}, ct[] = {2, -1};
    float yt[] = {1, 0.4f};
    spin_score_add(h, 2, xt, yt, ct, 0.25, NAN);
    ck_assert_double_eq_tol(spin_score_concordance(h), 0.5, EPS);
    ck_assert_double_eq_tol(spin_score_nr_concordance(h), 0.0, EPS);
    spin_score_destroy(h);
    spin_score_destroy(s);
}
END_TEST

/* ---- files: a Beagle-like and a Minimac4-like output against a small truth ---- */

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char fn[128];
    snprintf(fn, sizeof fn, "%s/%s", dir, name);
    FILE *fp = fopen(fn, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_ge(fputs(text, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
}

static const char *HDR = "##fileformat=VCFv4.2\n##contig=<ID=20>\n"
                         "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n";

static void setup(void)
{
    strcpy(dir, "/tmp/check_score.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char buf[2048];
    snprintf(buf, sizeof buf,
             "%s#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC\n"
             "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|0\t0|1\t1|1\n"
             "20\t200\t.\tC\tT\t.\t.\t.\tGT\t0|1\t1|1\t0|0\n"
             "20\t300\t.\tG\tA\t.\t.\t.\tGT\t0|0\t0|0\t0|1\n"
             "20\t400\t.\tT\tC\t.\t.\t.\tGT\t0|1\t0|0\t0|0\n",
             HDR);
    write_file("truth.vcf", buf);
    /* Beagle-like: samples reordered plus D (not in truth); 300 has REF/ALT swapped
     * (G-dosages C 1, A 2, B 1.5 -> A-dosages 1, 0, 0.5); 400 absent; 500 not in truth */
    snprintf(buf, sizeof buf,
             "%s##FORMAT=<ID=DS,Number=A,Type=Float,Description=\"d\">\n"
             "##INFO=<ID=DR2,Number=A,Type=Float,Description=\"r\">\n"
             "##INFO=<ID=IMP,Number=0,Type=Flag,Description=\"i\">\n"
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tC\tA\tB\tD\n"
             "20\t100\t.\tA\tG\t.\tPASS\t.\tGT:DS\t1|1:2\t0|0:0\t0|1:1\t0|0:0\n"
             "20\t200\t.\tC\tT\t.\tPASS\tDR2=0.8;IMP\tGT:DS\t0|0:0\t0|1:1\t0|1:1.5\t.|.:.\n"
             "20\t300\t.\tA\tG\t.\tPASS\tDR2=0.5;IMP\tGT:DS\t0|1:1\t1|1:2\t1|1:1.5\t0|0:0\n"
             "20\t500\t.\tA\tC\t.\tPASS\tDR2=0.5;IMP\tGT:DS\t0|1:1\t1|1:2\t1|1:1.5\t0|0:0\n",
             HDR);
    write_file("beagle.vcf", buf);
    /* Minimac4-like: HDS only, site 100 TYPED+IMPUTED (not scored), 200 IMPUTED */
    snprintf(buf, sizeof buf,
             "%s##FORMAT=<ID=HDS,Number=.,Type=Float,Description=\"h\">\n"
             "##INFO=<ID=R2,Number=1,Type=Float,Description=\"r\">\n"
             "##INFO=<ID=IMPUTED,Number=0,Type=Flag,Description=\"i\">\n"
             "##INFO=<ID=TYPED,Number=0,Type=Flag,Description=\"t\">\n"
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC\n"
             "20\t100\t.\tA\tG\t.\tPASS\tR2=1;IMPUTED;TYPED\tHDS\t0,0\t0,1\t1,1\n"
             "20\t200\t.\tC\tT\t.\tPASS\tR2=0.9;IMPUTED\tHDS\t0.5,0.5\t0.75,0.75\t0,0\n"
             "20\t300\t.\tG\tA\t.\tPASS\tR2=0.4;IMPUTED\tHDS\t0,0\t0.25,0.25\t0.5,0.5\n"
             "20\t400\t.\tT\tC\t.\tPASS\tR2=0.1;IMPUTED\tHDS\t0,0\t0,0\t0,0\n",
             HDR);
    write_file("mm.vcf", buf);
    write_file("sites.txt", "# scored sites\n20 200\n20\t400\tT\tC\n20 999 A C\n");
}

static void teardown(void)
{
    const char *f[] = {"truth.vcf", "beagle.vcf", "mm.vcf", "sites.txt", "out.tsv", "mtruth.vcf", "mimp.vcf", "mgp.vcf"};
    char fn[128];
    for (int i = 0; i < 8; i++) {
        snprintf(fn, sizeof fn, "%s/%s", dir, f[i]);
        unlink(fn);
    }
    rmdir(dir);
}

static spin_score_t *run(const char *imp, const char *sites)
{
    char t[128], i[128], s[128];
    snprintf(t, sizeof t, "%s/truth.vcf", dir);
    snprintf(i, sizeof i, "%s/%s", dir, imp);
    if (sites) snprintf(s, sizeof s, "%s/%s", dir, sites);
    spin_score_files_t f = {t, i, sites ? s : NULL, NULL};
    spin_score_t *sc = spin_score_init(NULL);
    ck_assert_int_eq(spin_score_files(sc, &f), 0);
    return sc;
}

START_TEST(test_file_beagle)
{
    spin_score_t *s = run("beagle.vcf", NULL);
    ck_assert_int_eq(s->n_sample_common, 3);
    ck_assert_int_eq(s->n_site, 2);
    ck_assert_int_eq(s->n_missing, 1);          /* 400 */
    ck_assert_int_eq(s->n_imp_not_in_truth, 1); /* 500 */
    ck_assert_int_eq(s->n_imp_skipped_typed, 1);
    ck_assert_int_eq(s->n_swapped, 1);
    ck_assert_str_eq(s->dosage_source, "DS");
    /* 200: x{C,A,B}={0,1,2} y={0,1,1.5}: 4.5^2/(6*3.5) = 27/28; 300: x={0,0,1} y={0,.5,1}: 3/4 */
    ck_assert_double_eq_tol(spin_score_mean_r2(s), (27.0 / 28 + 0.75) / 2, EPS);
    ck_assert_double_eq_tol(spin_score_pooled_r2(s), 196.0 / 220, EPS);
    /* GT calls: 200 B called 1 (truth 2); 300 swapped GTs all right */
    ck_assert_double_eq_tol(spin_score_concordance(s), 5.0 / 6, EPS);
    ck_assert_double_eq_tol(spin_score_nr_concordance(s), 2.0 / 3, EPS);
    ck_assert_int_eq(s->calib.n, 2);
    ck_assert_double_eq_tol(spin_score_calibration(s), 1.0, EPS);
    spin_score_destroy(s);
}
END_TEST

START_TEST(test_file_minimac)
{
    spin_score_t *s = run("mm.vcf", NULL);
    ck_assert_str_eq(s->dosage_source, "HDS");
    ck_assert_int_eq(s->n_site, 3); /* 200 300 400; 100 is TYPED */
    ck_assert_int_eq(s->n_imp_skipped_typed, 1);
    ck_assert_int_eq(s->n_missing, 0);
    /* 200 as Beagle: 27/28; 300: x={0,0,1} y={0,.5,1}: 3/4; 400: constant 0 -> 0 */
    ck_assert_double_eq_tol(spin_score_mean_r2(s), (27.0 / 28 + 0.75 + 0) / 3, EPS);
    /* calibration over (0.9,27/28),(0.4,.75),(0.1,0): Pearson r by hand */
    double ex[] = {0.9, 0.4, 0.1}, ey[] = {27.0 / 28, 0.75, 0}, mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < 3; i++) mx += ex[i] / 3, my += ey[i] / 3;
    for (int i = 0; i < 3; i++)
        sxy += (ex[i] - mx) * (ey[i] - my), sxx += (ex[i] - mx) * (ex[i] - mx), syy += (ey[i] - my) * (ey[i] - my);
    ck_assert_double_eq_tol(spin_score_calibration(s), sxy / sqrt(sxx * syy), EPS);
    spin_score_destroy(s);
}
END_TEST

START_TEST(test_file_sites)
{
    spin_score_t *s = run("beagle.vcf", "sites.txt");
    ck_assert_int_eq(s->n_list_sites, 3);
    ck_assert_int_eq(s->n_list_not_in_truth, 1); /* 999 */
    ck_assert_int_eq(s->n_site, 1);              /* 200 only; 300 is IMP but not listed */
    ck_assert_int_eq(s->n_missing, 1);           /* 400 listed, absent */
    ck_assert_double_eq_tol(spin_score_mean_r2(s), 27.0 / 28, EPS);
    char fn[128];
    snprintf(fn, sizeof fn, "%s/out.tsv", dir);
    FILE *fp = fopen(fn, "w");
    spin_score_files_t f = {"truth", "imp", "sites", NULL};
    ck_assert_int_eq(spin_score_write_tsv(s, &f, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
    fp = fopen(fn, "r");
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, fp))
        if (strcmp(line, "SN\tmean_r2\t0.9643\n") == 0 || strcmp(line, "SN\tsites_missing_from_imputed\t1\n") == 0)
            found++;
    fclose(fp);
    ck_assert_int_eq(found, 2);
    spin_score_destroy(s);
}
END_TEST

/* every record type: a multi-allelic truth record gives one 0/1/2 dosage per ALT,
 * scored against the imputed record's per-ALT DS (or its Number=G GP); classes apart */
START_TEST(test_file_classes)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "%s#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC\n"
             "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|0\t0|1\t1|1\n"
             "20\t200\t.\tAT\tA\t.\t.\t.\tGT\t0|1\t1|1\t0|0\n"
             "20\t300\t.\tC\tG,T\t.\t.\t.\tGT\t0|1\t2|2\t1|2\n",
             HDR);
    write_file("mtruth.vcf", buf);
    const char *imp_hdr = "##FORMAT=<ID=DS,Number=A,Type=Float,Description=\"d\">\n"
                          "##FORMAT=<ID=GP,Number=G,Type=Float,Description=\"p\">\n"
                          "##INFO=<ID=DR2,Number=A,Type=Float,Description=\"r\">\n"
                          "##INFO=<ID=IMP,Number=0,Type=Flag,Description=\"i\">\n"
                          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC\n";
    snprintf(buf, sizeof buf,
             "%s%s"
             "20\t100\t.\tA\tG\t.\tPASS\tIMP\tGT:DS\t0|0:0\t0|1:1\t1|1:2\n"
             "20\t200\t.\tAT\tA\t.\tPASS\tIMP\tGT:DS\t0|1:1\t1|1:1.5\t0|0:0\n"
             "20\t300\t.\tC\tG,T\t.\tPASS\tDR2=0.7,0.9;IMP\tGT:DS\t0|1:1,0\t2|2:0,2\t1|2:0.5,1\n",
             HDR, imp_hdr);
    write_file("mimp.vcf", buf);
    char t[128], i[128];
    snprintf(t, sizeof t, "%s/mtruth.vcf", dir);
    snprintf(i, sizeof i, "%s/mimp.vcf", dir);
    spin_score_files_t f = {t, i, NULL, NULL};
    spin_score_t *s = spin_score_init(NULL);
    ck_assert_int_eq(spin_score_files(s, &f), 0);
    ck_assert_int_eq(s->n_truth_sites, 4); /* 100, 200, 300 G, 300 T */
    ck_assert_int_eq(s->n_site, 4);
    ck_assert_int_eq(s->n_imp_multiallelic, 1);
    ck_assert_int_eq(s->cls_sites[SPIN_CLASS_SNP], 1);
    ck_assert_int_eq(s->cls_sites[SPIN_CLASS_INDEL], 1);
    ck_assert_int_eq(s->cls_sites[SPIN_CLASS_OTHER], 0);
    ck_assert_int_eq(s->cls_sites[SPIN_CLASS_MULTI], 2);
    ck_assert_double_eq_tol(spin_score_class_mean_r2(s, SPIN_CLASS_SNP), 1.0, EPS);
    ck_assert_double_eq_tol(spin_score_class_mean_r2(s, SPIN_CLASS_INDEL), 27.0 / 28, EPS);
    /* G: truth {1,0,1} vs {1,0,.5}: r2 3/4; T: truth {0,2,1} vs {0,2,1}: 1; pooled
     * over both: 16.5^2 / (17 * 17.25) = .9284 */
    ck_assert_double_eq_tol(spin_score_class_mean_r2(s, SPIN_CLASS_MULTI), (0.75 + 1) / 2, EPS);
    ck_assert(isnan(spin_score_class_mean_r2(s, SPIN_CLASS_OTHER)));
    ck_assert_int_eq(s->calib.n, 2); /* DR2 per ALT */
    char fn[128];
    snprintf(fn, sizeof fn, "%s/out.tsv", dir);
    FILE *fp = fopen(fn, "w");
    ck_assert_int_eq(spin_score_write_tsv(s, &f, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
    fp = fopen(fn, "r");
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, fp))
        found += strcmp(line, "CLASS\tmultiallelic_alt\t2\t2\t0.8750\t0.9284\n") == 0 ||
                 strcmp(line, "CLASS\tother\t0\t0\tNA\tNA\n") == 0;
    fclose(fp);
    ck_assert_int_eq(found, 2);
    spin_score_destroy(s);
    /* --sites with an ALT list selects each ALT of the multi-allelic record */
    write_file("sites.txt", "20 300 C G,T\n");
    char st[128];
    snprintf(st, sizeof st, "%s/sites.txt", dir);
    spin_score_files_t fs = {t, i, st, NULL};
    s = spin_score_init(NULL);
    ck_assert_int_eq(spin_score_files(s, &fs), 0);
    ck_assert_int_eq(s->n_site, 2);
    ck_assert_int_eq(s->cls_sites[SPIN_CLASS_MULTI], 2);
    spin_score_destroy(s);
    /* GP only (Number=G order (0,0),(0,1),(1,1),(0,2),(1,2),(2,2)): the dosage of each ALT */
    snprintf(buf, sizeof buf,
             "%s%s20\t300\t.\tC\tG,T\t.\tPASS\tIMP\tGT:GP\t0|1:0,1,0,0,0,0\t2|2:0,0,0,0,0,1\t1|2:0,0,0,0,1,0\n",
             HDR, imp_hdr);
    write_file("mgp.vcf", buf);
    snprintf(i, sizeof i, "%s/mgp.vcf", dir);
    s = spin_score_init(NULL);
    ck_assert_int_eq(spin_score_files(s, &f), 0);
    ck_assert_str_eq(s->dosage_source, "GP");
    ck_assert_int_eq(s->cls_sites[SPIN_CLASS_MULTI], 2);
    ck_assert_double_eq_tol(spin_score_class_mean_r2(s, SPIN_CLASS_MULTI), 1.0, EPS);
    spin_score_destroy(s);
}
END_TEST

START_TEST(test_file_errors)
{
    int v = spin_verbose;
    spin_verbose = 0;
    char t[128];
    snprintf(t, sizeof t, "%s/truth.vcf", dir);
    spin_score_files_t f = {t, "/nonexistent/imp.vcf.gz", NULL, NULL};
    spin_score_t *s = spin_score_init(NULL);
    ck_assert_int_lt(spin_score_files(s, &f), 0);
    f.imputed = t;
    f.truth = "/nonexistent/truth.vcf";
    ck_assert_int_lt(spin_score_files(s, &f), 0);
    spin_score_destroy(s);
    spin_verbose = v;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("score");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_corr);
    tcase_add_test(tc, test_bins_parse);
    tcase_add_test(tc, test_two_sites);
    tcase_add_test(tc, test_degenerate);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("files");
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_test(tf, test_file_beagle);
    tcase_add_test(tf, test_file_minimac);
    tcase_add_test(tf, test_file_sites);
    tcase_add_test(tf, test_file_classes);
    tcase_add_test(tf, test_file_errors);
    suite_add_tcase(s, tf);
    return spin_check_run(s);
}
