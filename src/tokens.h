/* tokens.h -- a window in token coordinates, as the model and the copy path
 * see it (one SNP per token, in position order). Filled by engine.c (inference)
 * and train.c (training); read by model*.c and copypath.c. */
#ifndef SPIN_TOKENS_H
#define SPIN_TOKENS_H

#include <stdint.h>

/* One window in token coordinates. */
typedef struct {
    int D;                  /* tokens per row */
    const uint8_t *typed;   /* [D] 1 typed, 0 untyped */
    const float *dcm;       /* [D] cM of the site minus the window centre's cM; non-decreasing */
    const float *af;        /* [D] panel ALT frequency in [0,1] */
    int nu;                 /* untyped tokens */
    const int *uidx;        /* [nu] token indices of untyped tokens, ascending; outputs are per untyped token */
    /* Optional (NULL = off): what the neighbour search saw beyond the tokens, 4 floats
     * per neighbour (per query x neighbour in training): cM (relative to the window
     * centre, like dcm) of the nearest typed mismatch left of the first typed token,
     * 1 if there is none within the neighbour context (then the context edge's cM),
     * and the same two on the right. A flag < 0 means no context beyond the tokens
     * on that side. The copy path's IBS distances use it where the tokens alone
     * would censor the match at their edge. Set per target before predict. */
    const float *nb_beyond;
    /* Optional (NULL = every neighbour everywhere): 1 where neighbour j may be
     * copied in gap g, act[j * ng + g] (per query x neighbour x gap in training,
     * stride K * ng), ng = spin_gaps' count. With segments a gap's copy states
     * are the PBWT matches at its two bounding typed sites; the others still
     * take part in the Li-Stephens posteriors. Set per target before predict. */
    const uint8_t *act;
    /* Optional, training only (NULL = K each): neighbours of each query, <= K
     * (the stride of its neighbour arrays stays K). */
    const int *kq;
    /* Optional (NULL = read nb): the states' alleles at the typed tokens, typed
     * token t of state j at nbt[t * K + j] (the copy path's own layout, so the
     * engine fills it contiguously and nothing is transposed per target); nb is
     * then not read at typed tokens. Set per target before predict. */
    const int8_t *nbt;
} spin_wtok_t;

#endif
