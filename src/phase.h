/* phase.h -- phasing of the targets' typed sites against the panel
 * (spin_phase_run in spin.h; the algorithm and its parameters: doc/phasing.md).
 *
 * The diploid Viterbi step is exposed for the unit test's brute force. */
#ifndef SPIN_PHASE_H
#define SPIN_PHASE_H

#include <stdint.h>

#include "spin.h"

/* Scratch for spin_phase_viterbi with up to S states and T sites, allocated
 * once per thread (the inner loops allocate nothing). */
typedef struct {
    int S, T;
    double *v, *w;       /* [S * S] scores of the previous and current site */
    double *rmax, *cmax; /* [S] row / column maxima of v */
    uint8_t *back;       /* [T * S * S] how state (c,d) at site k was reached (0 stay, 1 row, 2 column, 3 any) */
    int *rarg, *carg;    /* [T * S] argmax of row c / column d of site k - 1 */
    int *garg;           /* [T] argmax (a * S + b) of site k - 1 */
} spin_phase_scratch_t;

int spin_phase_scratch_init(spin_phase_scratch_t *s, int S, int T);
void spin_phase_scratch_destroy(spin_phase_scratch_t *s);

/* Most probable pair path of a diploid Li-Stephens HMM over S haplotype states
 * and T sites: state (a, b) = haplotype 1 copies state a, haplotype 2 copies b.
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
 * jump / S. Fills pa[k], pb[k]; ties go to the lowest state (a * S + b) and to
 * staying. Returns the log score of the path (log of the product of its
 * transitions and emissions, the uniform start 1/S^2 omitted). */
double spin_phase_viterbi(spin_phase_scratch_t *s, const uint8_t *x, int S, int T, const double *jump,
                          const int8_t *a1, const int8_t *a2, const uint8_t *ph, double err, int *pa, int *pb);

#endif
