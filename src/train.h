/* train.h -- neighbour selection (neighbors.c) and self-supervised training (train.c). */
#ifndef SPIN_TRAIN_H
#define SPIN_TRAIN_H

#include <stdint.h>

#include "spin.h"

/* ---- neighbours: the K panel haplotypes matching a target longest ----
 *
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
 * for each chosen neighbour, 4 floats as spin_wtok_t.nb_ext describes (cM
 * relative to `centre`). */
void spin_nbr_ext(const spin_panel_t *p, const int *sites, const int8_t *ta, int k0, int k1, int n, int K,
                  const int *nbr, double centre, float *ext);

/* ---- training ---- */

typedef struct {
    const char *panel_fn, *map_fn, *region, *out_fn, *init_fn, *resume_fn, *command;
    int64_t steps;
    int n_threads, n_ctx, n_q, val_samples, log_every, val_every, checkpoint_every, val_windows;
    uint64_t seed;
    float lr, wd;
    float maf_weight; /* loss weight (MAF/0.5)^-maf_weight per untyped site, normalised; 0 = off */
    spin_config_t cfg; /* model settings for a fresh model (ignored with --resume) */
    unsigned cfg_set;  /* with --init: SPIN_SET_* bits of the cfg fields given, which override the init model's */
} spin_train_opt_t;

enum {
    SPIN_SET_E = 1, SPIN_SET_HEADS = 2, SPIN_SET_K = 4, SPIN_SET_H = 8, SPIN_SET_L = 16, SPIN_SET_FFN = 32,
    SPIN_SET_W = 64, SPIN_SET_C = 128, SPIN_SET_NB = 256, SPIN_SET_ENC = 512, SPIN_SET_HMM = 1024
};

void spin_train_opt_default(spin_train_opt_t *o);
/* Trains and writes the best model (by validation mean per-variant r2) to o->out_fn. */
int spin_train_run(const spin_train_opt_t *o);

#endif
