/* check_dosage.c -- DS/GP/GT/AF/DR2 arithmetic and Beagle number formats,
 * against hand-computed values. */
#include <check.h>
#include <stdint.h>

#include "check_util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dosage.h"

START_TEST(test_gp)
{
    double gp[3];
    spin_gp(0.2, 0.5, gp);
    ck_assert_double_eq_tol(gp[0], 0.4, 1e-12);  /* 0.8 * 0.5 */
    ck_assert_double_eq_tol(gp[1], 0.5, 1e-12);  /* 0.2*0.5 + 0.5*0.8 */
    ck_assert_double_eq_tol(gp[2], 0.1, 1e-12);  /* 0.2 * 0.5 */
    ck_assert_double_eq_tol(gp[0] + gp[1] + gp[2], 1.0, 1e-12);
    /* DS = GP1 + 2 GP2 = p1 + p2 */
    ck_assert_double_eq_tol(gp[1] + 2 * gp[2], 0.7, 1e-12);
    spin_gp(1, 0, gp);
    ck_assert(gp[0] == 0 && gp[1] == 1 && gp[2] == 0);
}
END_TEST

START_TEST(test_gt)
{
    ck_assert_int_eq(spin_gt_allele(0.5), 0); /* tie goes to REF */
    ck_assert_int_eq(spin_gt_allele(0.5001), 1);
    ck_assert_int_eq(spin_gt_allele(0.0), 0);
    ck_assert_int_eq(spin_gt_allele(1.0), 1);
    /* multi-allelic: P(REF) = 1 - sum; the most probable allele, ties to the lower index */
    float a1[4] = {0.3f, 0.5f, 0.1f, 0.45f}, a2[4] = {0.3f, 0.1f, 0.5f, 0.45f};
    const float *q[2] = {a1, a2};
    ck_assert_int_eq(spin_gt_allele_multi(q, 2, 0), 0); /* REF .4 */
    ck_assert_int_eq(spin_gt_allele_multi(q, 2, 1), 1);
    ck_assert_int_eq(spin_gt_allele_multi(q, 2, 2), 2);
    ck_assert_int_eq(spin_gt_allele_multi(q, 2, 3), 1); /* .45 = .45 > REF .1 */
    ck_assert_double_eq_tol(spin_allele_prob(q, 2, 0, 0), 0.4, 1e-6);
    ck_assert_double_eq_tol(spin_allele_prob(q, 2, 2, 2), 0.5, 1e-6);
    /* one ALT: the same call as spin_gt_allele */
    float b[3] = {0.5f, 0.5001f, 0.2f};
    const float *qb[1] = {b};
    for (int h = 0; h < 3; h++) ck_assert_int_eq(spin_gt_allele_multi(qb, 1, h), spin_gt_allele(b[h]));
}
END_TEST

START_TEST(test_dr2)
{
    double af, dr2;
    /* p = (1, 0, 1, 0): no uncertainty, S = 2, Q = 2, N = 4 -> V = 1, ss = 1 -> 1 */
    float a[4] = {1, 0, 1, 0};
    spin_site_af_dr2(a, 4, &af, &dr2);
    ck_assert_double_eq_tol(af, 0.5, 1e-12);
    ck_assert_double_eq_tol(dr2, 1.0, 1e-12);
    /* p = (0.5, 0.5, 0.5, 0.5): no variance -> 0 */
    float b[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    spin_site_af_dr2(b, 4, &af, &dr2);
    ck_assert_double_eq_tol(af, 0.5, 1e-12);
    ck_assert_double_eq(dr2, 0);
    /* p = (0.9, 0.1, 0.8, 0.2): S = 2, m = 0.5, Q = 1.5, V = 0.5; sum v = 0.5,
     * ss = 0.5 * 3/4 + 0.5 = 0.875; sum (p - m)^2 v = 2 (0.16 * 0.09 + 0.09 * 0.16)
     * = 0.0576 -> (0.25 + 0.0576) / (0.5 * 0.875) = 0.703086 (Beagle's form: 0.5) */
    float c[4] = {0.9f, 0.1f, 0.8f, 0.2f};
    spin_site_af_dr2(c, 4, &af, &dr2);
    ck_assert_double_eq_tol(dr2, 0.3076 / 0.4375, 1e-6);
    /* all zero, all one, tiny S: 0 (Beagle's rules) */
    float z[2] = {0, 0}, o[2] = {1, 1}, t[2] = {0.0004f, 0};
    spin_site_af_dr2(z, 2, &af, &dr2);
    ck_assert(af == 0 && dr2 == 0);
    spin_site_af_dr2(o, 2, &af, &dr2);
    ck_assert(af == 1 && dr2 == 0);
    spin_site_af_dr2(t, 2, &af, &dr2);
    ck_assert_double_eq(dr2, 0);
    /* N = 2, p = (1, 0): S = 1, Q = 1 -> V = 0.5, ss = 0.5 -> 1 */
    float d[2] = {1, 0};
    spin_site_af_dr2(d, 2, &af, &dr2);
    ck_assert_double_eq_tol(dr2, 1.0, 1e-12);
    /* a rare ALT given to one haplotype of 100 with p = 0.18, the others 0:
     * whenever any haplotype carries it, that one does, so the expected r2 is 1
     * (Beagle's form says 0.18) */
    float r[100] = {0.18f};
    spin_site_af_dr2(r, 100, &af, &dr2);
    ck_assert_double_eq_tol(dr2, 1.0, 1e-6);
    /* with a second, certain carrier the site is polymorphic whatever the first
     * haplotype carries, so its doubt counts: S = 1.18, V = 1.0324 - 1.18^2/100,
     * ss = 0.99 * 0.1476 + V, cv = (0.18 - 0.0118)^2 * 0.1476 -> 0.878 */
    r[50] = 1;
    spin_site_af_dr2(r, 100, &af, &dr2);
    double V = 1.0324 - 1.18 * 1.18 / 100, cv = (0.18 - 0.0118) * (0.18 - 0.0118) * 0.1476;
    ck_assert_double_eq_tol(dr2, (V * V + cv) / (V * (0.99 * 0.1476 + V)), 1e-5);
    ck_assert(dr2 > 0.85 && dr2 < 0.9);
    /* the same p spread over 10 haplotypes is a worse guess: well below 1 */
    for (int h = 0; h < 10; h++) r[h] = 0.18f;
    r[50] = 0;
    spin_site_af_dr2(r, 100, &af, &dr2);
    ck_assert(dr2 > 0.1 && dr2 < 0.6);
}
END_TEST

/* DR2 is E[Z^2] / (V E[SS_y]) over y_h ~ Bernoulli(p_h) independent, with
 * Z = sum (p_h - m) y_h and SS_y = sum y_h^2 - (sum y_h)^2 / N: check the closed
 * form against a Monte Carlo of that ratio on an uncapped case. */
START_TEST(test_dr2_monte_carlo)
{
    float p[6] = {0.95f, 0.7f, 0.3f, 0.1f, 0.02f, 0.6f};
    const int N = 6, T = 400000;
    double S = 0, Q = 0;
    for (int h = 0; h < N; h++) S += p[h], Q += (double)p[h] * p[h];
    double m = S / N, V = Q - S * m, ez2 = 0, ess = 0;
    uint64_t x = 88172645463325252ULL;
    for (int t = 0; t < T; t++) {
        double z = 0, sy = 0;
        for (int h = 0; h < N; h++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            int y = (double)(x >> 11) * (1.0 / 9007199254740992.0) < p[h];
            z += (p[h] - m) * y, sy += y;
        }
        ez2 += z * z, ess += sy - sy * sy / N;
    }
    double af, dr2;
    spin_site_af_dr2(p, N, &af, &dr2);
    ck_assert(dr2 < 1);
    ck_assert_double_eq_tol(dr2, ez2 / (V * ess), 0.01);
}
END_TEST

static const char *fmt(double x)
{
    static char b[24];
    spin_fmt_dose(b, x);
    return b;
}

START_TEST(test_format)
{
    ck_assert_str_eq(fmt(0), "0");
    ck_assert_str_eq(fmt(2), "2");
    ck_assert_str_eq(fmt(0.5), "0.5");
    ck_assert_str_eq(fmt(1.23), "1.23");
    ck_assert_str_eq(fmt(1.2), "1.2");
    ck_assert_str_eq(fmt(0.1 + 0.2), "0.3");
    ck_assert_str_eq(fmt(1.995), "2");      /* 199.5 in binary is 199.49999.. or 199.5: either way a 2-decimal value */
    ck_assert_str_eq(fmt(0.004), "0");
    ck_assert_str_eq(fmt(0.006), "0.01");
    ck_assert_str_eq(fmt(0.999), "1");
    ck_assert_str_eq(fmt((float)0.7f + (float)0.25f), "0.95");
    ck_assert_str_eq(fmt(1.05), "1.05");
    /* negative values round symmetrically; -0.004 is "0", not "-0" */
    ck_assert_str_eq(fmt(-1.23), "-1.23");
    ck_assert_str_eq(fmt(-0.004), "0");
    /* non-finite and huge values: no llround(NaN) = INT64_MIN, negated (UB),
     * printed as -92233720368547758.08 */
    ck_assert_str_eq(fmt(NAN), "nan");
    ck_assert_str_eq(fmt(-INFINITY), "-inf");
    ck_assert_str_eq(fmt(-1e300), "-1e+300");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dosage");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_gp);
    tcase_add_test(tc, test_gt);
    tcase_add_test(tc, test_dr2);
    tcase_add_test(tc, test_dr2_monte_carlo);
    tcase_add_test(tc, test_format);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
