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
    /* One pass: S = sum p, Q = sum p^2, and for the variance term with
     * v = p (1 - p): V1 = sum v, V2 = sum p v, V3 = sum p^2 v, so that
     * sum (p - S/N)^2 v = V3 - 2 (S/N) V2 + (S/N)^2 V1. A haploid sample's
     * one haplotype is its first slot: the second is skipped. */
    double S = 0, Q = 0, V1 = 0, V2 = 0, V3 = 0;
    int n = 0;
    for (int h = 0; h < n_hap; h++) {
        if (ploidy && (h & 1) && ploidy[h >> 1] == 1) continue;
        double x = p[h], v = x * (1 - x);
        S += x, Q += x * x, V1 += v, V2 += x * v, V3 += x * x * v, n++;
    }
    double N = n;
    *af = n > 0 ? S / N : 0;
    *dr2 = 0;
    if (n == 0 || S == 0 || fmin(S, N - S) < 0.001) return;
    double m = S / N, V = Q - S * m;          /* N var(p) */
    double ss = V1 * (1 - 1 / N) + V;         /* E[N var(y)] */
    double cv = V3 - 2 * m * V2 + m * m * V1; /* sum (p - m)^2 p (1 - p) */
    if (V <= 0 || ss <= 0) return;
    double r = (V * V + cv) / (V * ss);
    *dr2 = r < 1 ? r : 1;
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
    /* by hand, not snprintf: this runs once per value written (tens of
     * millions per cohort run) and the format is fixed */
    char *o = buf;
    if (neg && v) *o++ = '-';
    char d[20];
    int nd = 0;
    do d[nd++] = (char)('0' + ip % 10), ip /= 10; while (ip);
    while (nd) *o++ = d[--nd];
    if (fp) {
        *o++ = '.';
        *o++ = (char)('0' + fp / 10);
        if (fp % 10) *o++ = (char)('0' + fp % 10);
    }
    *o = '\0';
    return (int)(o - buf);
}
