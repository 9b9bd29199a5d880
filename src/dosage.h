/* dosage.h -- per-sample and per-site quantities from per-haplotype P(ALT)
 * (design.md section 2; Beagle 5.4 semantics, ecosystem.md 1.1 and 1.5).
 *
 * p1, p2 are the ALT probabilities of a sample's two haplotypes.
 *   DS = p1 + p2
 *   GP = ((1-p1)(1-p2), p1(1-p2) + p2(1-p1), p1 p2)   (haplotypes independent)
 *   GT = a1|a2 with a = 1 iff p > 0.5 (a tie goes to REF)
 * A haploid sample (male chrX) has one haplotype p: DS = p, GP = (1-p, p), GT = a.
 * Over all N target haplotypes (2 per diploid, 1 per haploid sample) with S = sum p,
 * Q = sum p^2, m = S / N:
 *   AF  = S / N
 *   DR2 = the expected squared correlation between the ALT dose and the true
 *         ALT count, taking each haplotype's allele y_h ~ Bernoulli(p_h)
 *         independently: with Z = sum (p_h - m) y_h, V = Q - S m (N var p) and
 *         SS = sum y_h^2 - (sum y_h)^2 / N,
 *           DR2 = E[Z^2] / (V E[SS]) = (V^2 + sum (p_h - m)^2 p_h (1 - p_h))
 *                                      / (V ((1 - 1/N) sum p_h (1 - p_h) + V)),
 *         capped at 1; 0 when S = 0, min(S, N-S) < 0.001 or V <= 0 (Beagle's
 *         guards). Beagle's DR2 (= Minimac's R2) is V / (S - S m): this ratio
 *         without the second numerator term (and a denominator larger by
 *         (S - Q) / N). Both are 1 for 0/1 probabilities and
 *         agree when the doubt is spread over many haplotypes; where it sits on a
 *         few (a rare ALT given to a haplotype or two with p well below 1) Beagle's
 *         form is far below the true r2 of the sites where the ALT is present, and
 *         this one is not (bench/RESULTS.md, DR2 calibration).
 * Sums run in double in haplotype order, so results never depend on threads. */
#ifndef SPIN_DOSAGE_H
#define SPIN_DOSAGE_H

#include <stddef.h>
#include <stdint.h>

void spin_gp(double p1, double p2, double gp[3]);
static inline int spin_gt_allele(double p) { return p > 0.5; }
/* Multi-allelic, per haplotype h: q[k][h] = P(ALT k+1) with sum_k <= 1.
 * Probability of allele a (0 = REF = 1 - sum) on haplotype h, and the most
 * probable allele (ties to the lower index; for n_alt 1 this is spin_gt_allele). */
double spin_allele_prob(const float *const *q, int n_alt, int h, int a);
int spin_gt_allele_multi(const float *const *q, int n_alt, int h);
/* AF and DR2 of one site from p[0..n_hap). */
void spin_site_af_dr2(const float *p, int n_hap, double *af, double *dr2);
/* The same over the haplotypes present: sample i with ploidy[i] == 1 (haploid)
 * contributes p[2i] only, so N = 2 x diploids + haploids (ploidy NULL: all
 * diploid, spin_site_af_dr2). */
void spin_site_af_dr2_ploidy(const float *p, int n_hap, const uint8_t *ploidy, double *af, double *dr2);

/* Beagle's "#.##" pattern: x rounded to 2 decimals (half away from zero on the
 * binary value of x * 100), trailing zeros dropped: 0, 0.5, 1.23, 2. Writes a
 * NUL-terminated string into buf (>= 24 bytes) and returns its length. */
int spin_fmt_dose(char *buf, double x);

#endif
