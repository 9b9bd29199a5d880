/* train.h -- self-supervised training of a SPIN model on a phased panel (train.c). */
#ifndef SPIN_TRAIN_H
#define SPIN_TRAIN_H

#include <stdint.h>

#include "spin.h"

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
    SPIN_SET_W = 64, SPIN_SET_C = 128, SPIN_SET_NBR_K = 256, SPIN_SET_ENC = 512, SPIN_SET_HMM = 1024,
    SPIN_SET_SEG = 2048, SPIN_SET_PBWTP = 4096
};

void spin_train_opt_default(spin_train_opt_t *o);
/* Trains and writes the best model (by validation mean per-variant r2) to o->out_fn. */
int spin_train_run(const spin_train_opt_t *o);

#endif
