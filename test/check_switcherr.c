/* check_switcherr.c -- the switch error scorer (switcherr.c) on hand-made cases. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "switcherr.h"

START_TEST(test_add)
{
    spin_switch_acc_t a = {-1, 0, 0};
    /* truth 0|1 1|0 0|1 0|1 ; phased 0|1 0|1 1|0 1|0 -> orientations 1 0 0 0: one switch */
    int t[4][2] = {{0, 1}, {1, 0}, {0, 1}, {0, 1}}, p[4][2] = {{0, 1}, {0, 1}, {1, 0}, {1, 0}};
    for (int k = 0; k < 4; k++) spin_switch_add(&a, t[k][0], t[k][1], 1, p[k][0], p[k][1], 1);
    ck_assert_int_eq(a.n_het, 4);
    ck_assert_int_eq(a.n_switch, 1);
    /* not scored: a true homozygote, an unphased truth, an unphased or missing or
     * different phased genotype; none changes the count nor the orientation */
    spin_switch_add(&a, 0, 0, 1, 0, 1, 1);
    spin_switch_add(&a, 0, 1, 0, 0, 1, 1);
    spin_switch_add(&a, 0, 1, 1, 1, 0, 0);
    spin_switch_add(&a, 0, 1, 1, -1, 0, 1);
    spin_switch_add(&a, 0, 1, 1, 1, 1, 1);
    ck_assert_int_eq(a.n_het, 4);
    ck_assert_int_eq(a.n_switch, 1);
    /* flipping every site is no switch (a sample's phase is defined up to a swap) */
    spin_switch_acc_t b = {-1, 0, 0};
    for (int k = 0; k < 5; k++) spin_switch_add(&b, 0, 1, 1, 1, 0, 1);
    ck_assert_int_eq(b.n_het, 5);
    ck_assert_int_eq(b.n_switch, 0);
    /* alternating: every pair switches */
    spin_switch_acc_t c = {-1, 0, 0};
    for (int k = 0; k < 5; k++) spin_switch_add(&c, 0, 1, 1, k & 1, !(k & 1), 1);
    ck_assert_int_eq(c.n_switch, 4);
}
END_TEST

#define HDR                                                                                                            \
    "##fileformat=VCFv4.2\n##contig=<ID=20>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"    \
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT"

static void write_file(const char *fn, const char *text)
{
    FILE *fp = fopen(fn, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_ge(fputs(text, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(test_files)
{
    char dir[] = "/tmp/spin-sw.XXXXXX", tfn[64], pfn[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(tfn, sizeof(tfn), "%s/t.vcf", dir);
    snprintf(pfn, sizeof(pfn), "%s/p.vcf", dir);
    /* samples A, B in the truth; B, A, C in the phased file (C not scored);
     * site 400 is REF/ALT swapped in the phased file; site 500 only there; the
     * phased file's contig chr20 is not in its header (Beagle writes no ##contig) */
    write_file(tfn, HDR "\tA\tB\n"
                        "20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\t0|1\n"
                        "20\t200\t.\tC\tT\t.\t.\t.\tGT\t1|0\t0|1\n"
                        "20\t300\t.\tG\tA\t.\t.\t.\tGT\t0|1\t1|1\n"
                        "20\t400\t.\tT\tC\t.\t.\t.\tGT\t0|1\t0|1\n");
    write_file(pfn, HDR "\tB\tA\tC\n"
                        "chr20\t100\t.\tA\tG\t.\t.\t.\tGT\t1|0\t0|1\t0|1\n"
                        "chr20\t200\t.\tC\tT\t.\t.\t.\tGT\t1|0\t1|0\t0|1\n"
                        "chr20\t300\t.\tG\tA\t.\t.\t.\tGT\t1|1\t0/1\t0|1\n"
                        "chr20\t400\t.\tC\tT\t.\t.\t.\tGT\t0|1\t0|1\t0|1\n"
                        "chr20\t500\t.\tC\tT\t.\t.\t.\tGT\t0|1\t0|1\t0|1\n");
    spin_switch_t s;
    ck_assert_int_eq(spin_switch_files(tfn, pfn, &s), 0);
    ck_assert_int_eq(s.n_sample, 2);
    ck_assert_str_eq(s.samples[0], "B");
    ck_assert_str_eq(s.samples[1], "A");
    ck_assert_int_eq(s.n_records, 5);
    ck_assert_int_eq(s.n_matched, 4);
    ck_assert_int_eq(s.n_unphased_het, 1);
    /* B: truth 0|1 0|1 . 0|1; phased 1|0 1|0 . (swapped 0|1 -> 1|0): orientations 0 0 0 */
    ck_assert_int_eq(s.acc[0].n_het, 3);
    ck_assert_int_eq(s.acc[0].n_switch, 0);
    /* A: truth 0|1 1|0 0|1 0|1; phased 0|1 1|0 (0/1 not scored) (swapped 0|1 -> 1|0): 1 1 0 */
    ck_assert_int_eq(s.acc[1].n_het, 3);
    ck_assert_int_eq(s.acc[1].n_switch, 1);
    char out[4096];
    FILE *fp = fmemopen(out, sizeof(out), "w");
    ck_assert_int_eq(spin_switch_write(&s, fp), 0);
    fclose(fp);
    ck_assert_ptr_nonnull(strstr(out, "SW\tB\t3\t0\t0.000000\n"));
    ck_assert_ptr_nonnull(strstr(out, "SW\tA\t3\t1\t0.500000\n"));
    ck_assert_ptr_nonnull(strstr(out, "SW\tALL\t6\t1\t0.250000\n"));
    spin_switch_destroy(&s);
    /* no common sample: an error */
    write_file(pfn, HDR "\tX\n20\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1\n");
    ck_assert_int_lt(spin_switch_files(tfn, pfn, &s), 0);
    unlink(tfn), unlink(pfn), rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("switcherr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_add);
    tcase_add_test(tc, test_files);
    suite_add_tcase(su, tc);
    return spin_check_run(su);
}
