/* neighbors.h -- neighbour search (neighbors.c): the K panel haplotypes that
 * match a target longest around a window, for the copy path. Used by the
 * engine (inference) and by training. */
#ifndef SPIN_NEIGHBORS_H
#define SPIN_NEIGHBORS_H

#include <stdint.h>

#include "spin.h"

/*
 * Given a target's alleles at n typed sites (panel site indices sites[0..n),
 * ascending; -1 = missing, which matches anything) and a centre ic in [0, n],
 * panel haplotype j scores L_j + R_j: the number of consecutive matching sites
 * going left from ic-1 and going right from ic, within [0, n) only — so the
 * choice depends on the window's own typed context, never on sites beyond it
 * (region runs then reproduce whole runs). The top K by score are returned,
 * ties to the lower index: deterministic. Bit-parallel over 64 haplotypes a
 * word: O(n * n_hap / 64) word operations plus O(n_hap). */
typedef struct spin_nbr_ws_s spin_nbr_ws_t;
spin_nbr_ws_t *spin_nbr_ws_init(int n_hap);
void spin_nbr_ws_destroy(spin_nbr_ws_t *ws);
/* Haplotypes never chosen (e.g. validation haplotypes during training). */
int spin_nbr_ws_exclude(spin_nbr_ws_t *ws, const int *haps, int n);
/* Returns the number chosen (min(K, eligible haplotypes)), written to out[]
 * in decreasing score, ties by increasing index. excl[0..n_excl) are also
 * skipped for this call. score_out (may be NULL) gets their scores. */
int spin_nbr_select(spin_nbr_ws_t *ws, const spin_panel_t *p, int n, const int *sites, const int8_t *ta,
                    int ic, const int *excl, int n_excl, int K, int *out, int *score_out);

/* The copy path's view beyond the model's typed tokens [k0, k1) of sites[0..n):
 * for each chosen neighbour, 4 floats as spin_wtok_t.nb_beyond describes (cM
 * relative to `centre`). */
void spin_nbr_beyond(const spin_panel_t *p, const int *sites, const int8_t *ta, int k0, int k1, int n, int K,
                     const int *nbr, double centre, float *beyond);

#endif
