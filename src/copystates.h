/* copystates.h -- copy states of a segment (copystates.c, doc/engine-v2.md §2):
 * for a block of target haplotypes, PBWT passes each way over the segment's
 * typed sites, then per target the union of each gap's P longest left matches
 * (at its left typed site) and P longest right matches (at its right one).
 * Used by the engine (inference) and by training, so both choose alike. */
#ifndef SPIN_COPYSTATES_H
#define SPIN_COPYSTATES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int P;          /* neighbours per direction per site */
    int mb;         /* targets per block (buffer rows) */
    int max_t;      /* typed sites per segment the buffers hold */
    int n_hap;      /* panel haplotypes (stamp arrays) */
    int nt, kmin, kmax, M; /* the current block: list sites kept [kmin, kmax], targets */
    int *pf, *pb;   /* [max_t x mb x P] forward / backward rows of the kept sites */
    int *pj;        /* [mb x P] rows not kept */
    int *stamp, *sidx; /* [n_hap] last pick (tag) that took each haplotype; its state index */
    int tag;           /* picks so far */
} spin_cstates_t;

/* 0, or -1 out of memory (message given). */
int spin_cstates_init(spin_cstates_t *cs, int P, int mb, int max_t, int n_hap);
void spin_cstates_destroy(spin_cstates_t *cs);

/* The list-site range the gaps need: gap g lies between typed list sites gl[g]
 * and gl[g] + 1 (-1 / nt: none on that side). Sets kmin/kmax (kmax < kmin: none). */
void spin_cstates_range(spin_cstates_t *cs, const int *gl, int ng, int nt);

/* PBWT passes over sites[0..nt) for targets m = 0..M-1 (M <= mb), target m's
 * allele at list site k at ta[k * ld + m]; excl[0..n_excl) never chosen. hap/nw:
 * the panel's bit rows (spin_panel_t.hap). Keeps rows of [kmin, kmax]. */
int spin_cstates_pbwt(spin_cstates_t *cs, const uint64_t *hap, int nw, const int *sites, int nt, const int *excl,
                      int n_excl, const int8_t *ta, size_t ld, int M);

/* States of target m of the block: out[0..n) (n <= K returned), rank by rank over
 * the gaps so every gap's best come first; act[j * ng + g] = 1 where state j is
 * one of gap g's own candidates. */
int spin_cstates_pick(spin_cstates_t *cs, int m, const int *gl, int ng, int K, int *out, uint8_t *act);

/* Gaps of a token row: gl[g] = typed tokens before gap g minus 1, for the maximal
 * runs of untyped tokens (spin_gaps' gaps); usite (may be NULL) gets the panel
 * site of each untyped token from tok_site. Returns ng. */
int spin_cstates_gaps(const uint8_t *typed, const int *tok_site, int D, int *gl, int *usite);

#endif
