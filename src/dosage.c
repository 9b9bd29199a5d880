/* dosage.c -- DS/GP/GT/AF/DR2 arithmetic and Beagle's number formats. */
#include <math.h>
#include <stdio.h>

#include "dosage.h"

void spin_gp(double p1, double p2, double gp[3])
{
    gp[0] = (1 - p1) * (1 - p2);
    gp[1] = p1 * (1 - p2) + p2 * (1 - p1);
    gp[2] = p1 * p2;
}

double spin_allele_prob(const float *const *q, int n_alt, int h, int a)
{
    if (a > 0) return q[a - 1][h];
    double sum = 0;
    for (int k = 0; k < n_alt; k++) sum += q[k][h];
    return sum < 1 ? 1 - sum : 0;
}

int spin_gt_allele_multi(const float *const *q, int n_alt, int h)
{
    int best = 0;
    double bp = spin_allele_prob(q, n_alt, h, 0);
    for (int a = 1; a <= n_alt; a++)
        if (q[a - 1][h] > bp) best = a, bp = q[a - 1][h];
    return best;
}

void spin_site_af_dr2(const float *p, int n_hap, double *af, double *dr2)
{
    spin_site_af_dr2_ploidy(p, n_hap, NULL, af, dr2);
}

void spin_site_af_dr2_ploidy(const float *p, int n_hap, const uint8_t *ploidy, double *af, double *dr2)
{
    double S = 0, Q = 0;
    int n = 0;
    for (int h = 0; h < n_hap; h++) {
        if (ploidy && (h & 1) && ploidy[h >> 1] == 1) continue; /* a haploid sample's one haplotype is its first slot */
        S += p[h], Q += (double)p[h] * p[h], n++;
    }
    double N = n;
    *af = n > 0 ? S / N : 0;
    *dr2 = 0;
    if (n == 0 || S == 0 || fmin(S, N - S) < 0.001) return;
    double num = Q - S * S / N, den = S - S * S / N;
    if (num <= 0 || den <= 0) return;
    *dr2 = num / den;
}

int spin_fmt_dose(char *buf, double x)
{
    /* Non-finite or absurd values have no "#.##" form (llround would be
     * undefined); the writer refuses them before formatting, so this is only
     * a guard: "nan", "inf", "-inf", or the value in %g. */
    if (!isfinite(x) || fabs(x) > 1e15) return snprintf(buf, 24, "%g", x);
    int neg = x < 0;
    long long v = llround(fabs(x) * 100.0); /* |x| <= 1e15: fits, never negated */
    long long ip = v / 100, fp = v % 100;
    const char *sg = neg && v ? "-" : "";
    if (fp == 0) return snprintf(buf, 24, "%s%lld", sg, ip);
    if (fp % 10 == 0) return snprintf(buf, 24, "%s%lld.%lld", sg, ip, fp / 10);
    return snprintf(buf, 24, "%s%lld.%02lld", sg, ip, fp);
}
