/* phase.h -- phasing of the targets' typed sites against the panel
 * (spin_phase_run in spin.h; the algorithm and its parameters: doc/phasing.md).
 *
 * The forward-backward step is exposed for the unit test's brute force. */
#ifndef SPIN_PHASE_H
#define SPIN_PHASE_H

#include <stdint.h>

#include "spin.h"

/* Scratch for spin_phase_posterior with up to S states, T sites and n_ev
 * heterozygous or missing sites per sample, allocated once per thread (the
 * inner loops allocate nothing). */
typedef struct {
    int S, T, n_ev;
    double *m[8];    /* [S * S] backward (2) and forward (3 parts, 3 outputs) values */
    double *sum[10]; /* [S] their row and column sums; the site's emission rows */
    float *tm[8];    /* [Sp * Sp] the symmetric case's triangles (Sp = S rounded up to 4) */
    float *tsum[10]; /* [Sp] their row sums; the site's emission rows */
    float *beta;     /* [n_ev * Sp * Sp] backward, at the heterozygous and missing sites only */
    int *ev;         /* [T] row of beta of site k, -1 none */
} spin_phase_scratch_t;

int spin_phase_scratch_init(spin_phase_scratch_t *s, int S, int T, int n_ev);
void spin_phase_scratch_destroy(spin_phase_scratch_t *s);

/* A diploid Li-Stephens HMM over S haplotype states and T sites: pair state
 * (a, b) = haplotype 1 copies state a, haplotype 2 copies b.
 *   x[k * S + j]  allele (0/1) of state j at site k;
 *   jump[k]       probability that one haplotype jumps between sites k - 1 and k
 *                 (to a state drawn uniformly among the S, itself included);
 *                 jump[0] is unused;
 *   a1[k], a2[k]  the sample's alleles at site k (-1 missing);
 *   ph[k]         1: a1, a2 are in haplotype order (phased, homozygous, or with a
 *                 missing allele), 0: an unphased heterozygote (either order);
 *   err           per-allele mismatch probability, 0 < err < 0.5.
 * Emission: (err / (1 - err))^m, m the number of allele mismatches (for an
 * unphased heterozygote m = 1 if both states carry the same allele, else 0);
 * a missing allele never mismatches. Transition: each haplotype independently
 * stays with probability 1 - jump + jump / S, moves to each other state with
 * jump / S; the start is uniform.
 *
 * Posterior relative phase under the same model (forward-backward, O(S^2) per
 * site). A path's label at a site is the allele its haplotype-1 state carries
 * at the last heterozygote (both alleles known and different) where its two
 * states differ, if any. At each heterozygote k, psw[k] is the posterior
 * probability, among the paths whose states differ at k and that have a label
 * before k, that haplotype 1's allele at k differs from that label (a switch
 * between consecutive oriented heterozygotes); -1 where no such path has any
 * weight (the first heterozygote) and at every other site. At a site k with a
 * missing allele, mis[k * 12 + ...] gets the posterior weights (summing to 1)
 * of the states' alleles (u, v) = (x_a, x_b) jointly with the label:
 * [0 * 4 + u * 2 + v] no label, [(1 + l) * 4 + u * 2 + v] label l. mis may be
 * NULL. The uniform start 1/S^2 is implied. s needs room (n_ev) for the
 * sample's heterozygous sites, plus its missing ones if mis is given.
 * When every genotype is symmetric in the two haplotypes (no phased
 * heterozygote, no genotype with one allele missing) the same quantities are
 * computed on the unordered state pairs in float (phase.c: posterior_sym);
 * either way the result matches the brute force to 1e-6. */
void spin_phase_posterior(spin_phase_scratch_t *s, const uint8_t *x, int S, int T, const double *jump,
                          const int8_t *a1, const int8_t *a2, const uint8_t *ph, double err, double *psw,
                          double *mis);

#endif
