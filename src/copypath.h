/* copypath.h -- the copy path of the SPIN predictor (copypath.c): per target
 * haplotype, a softmax over its K panel neighbours, scored from IBS and
 * Li-Stephens features per gap, mixes the neighbours' alleles at the untyped
 * tokens. Takes tokens and neighbour alleles, not the model: the score MLP's
 * weights come in as spin_copy_mlp_t. */
#ifndef SPIN_COPYPATH_H
#define SPIN_COPYPATH_H

#include <stddef.h>
#include <math.h>
#include <stdint.h>

#include "tokens.h"

#define SPIN_NIBS 5         /* copy-path IBS features per (neighbour, gap) */
#ifndef SPIN_NHMM
#define SPIN_NHMM 5         /* copy-path Li-Stephens posterior features per (neighbour, gap) with cfg.hmm */
#endif
#define SPIN_CHID 16        /* copy-path MLP hidden width */

/* The copy path works per gap: a maximal run of untyped tokens with no typed token
 * between them. IBS features, scores and neighbour weights are computed once per
 * gap (at the gap's mean cM), then mixed per untyped token. g0[ng+1]: first
 * untyped index of each gap (g0[ng] = nu); mid[ng]. Returns ng (0 if nu == 0). */
int spin_gaps(const spin_wtok_t *w, int *g0, float *mid);
/* Copy-path features per (neighbour, gap): SPIN_NIBS IBS features, then with
 * hmm (the model's cfg.hmm) SPIN_NHMM log posteriors of a Li-Stephens HMM over
 * the K neighbours. */
static inline int spin_copy_nfeat(int hmm) { return SPIN_NIBS + (hmm ? SPIN_NHMM : 0); }
/* Floats of scratch spin_copy_feats (and spin_copy_hmm, with hmm = 1) needs. */
size_t spin_copy_scratch_size(int hmm, int D, int nu, int K);
/* F [K x ng x spin_copy_nfeat(hmm)] for one target row against its K neighbours
 * nb [K x D]; beyond: 4 floats per neighbour (spin_wtok_t.nb_beyond) or NULL. */
void spin_copy_feats(int hmm, const spin_wtok_t *w, int ng, const int *g0, const float *mid,
                     const int8_t *row, int K, const int8_t *nb, const float *beyond, float *F, float *scratch);
/* Li-Stephens posterior of the K neighbours per gap, post [ng x K]: switch rate
 * lambda per cM, emission eps on a mismatch (the posterior features' HMM). */
void spin_copy_hmm(const spin_wtok_t *w, int ng, const int *g0, const float *mid, const int8_t *row, int K,
                   const int8_t *nb, float lambda, float eps, float *post, float *scratch);
/* The score MLP: s = W2 GELU(W1 f + b1) + wl . f, weights inside the model
 * (spin_model_copy_mlp, model.h). */
typedef struct {
    const float *W1, *b1, *W2, *wl; /* [CHID x nf], [CHID], [1 x CHID], [1 x nf] */
    int nf;                         /* features per vector: spin_copy_nfeat */
} spin_copy_mlp_t;
/* Copy-path scores of n feature vectors: H1 [n x CHID] pre-activation, Gh = GELU(H1), s [n].
 * mask (may be NULL): vectors i with mask[i] == 0 are skipped (s[i] = 0, H1 and
 * Gh left unset), e.g. inactive (neighbour, gap) pairs at inference. */
void spin_copy_score(spin_copy_mlp_t mlp, int n, const float *f, const uint8_t *mask, float *H1, float *Gh, float *s);
/* Deferred mixing (segments): the mix stores each gap's weighted states in wts
 * (panel words and bits of the states' haplotypes, from hap) instead of reading
 * alleles from nb; spin_copy_apply_gap later reads the untyped sites' alleles
 * from the bit-packed panel rows (bit j of word j/64 of bits + site * nw is
 * haplotype j's allele), gap by gap over many targets so a gap's rows stay in
 * cache. Saves gathering K x nu alleles per target. */
typedef struct spin_copy_wts_s spin_copy_wts_t;
typedef struct {
    const int *hap;       /* [K] panel haplotype of each neighbour */
    spin_copy_wts_t *wts; /* receives the weights */
} spin_copy_src_t;
/* One target's weighted copy states per gap: entries gofs[g] .. gofs[g + 1] - 1,
 * panel word wd, bit bt, weight wa (states in index order). */
struct spin_copy_wts_s {
    int cap, ng;
    int *gofs; /* [ng + 1] */
    int *wd, *bt;
    float *wa;
};
/* Finishes target wt's P(ALT) over untyped tokens [g0[g], g0[g + 1]) as
 * spin_model_predict would: pc = sum of weights of ALT carriers, clamped to
 * [SPIN_PC_EPS, 1 - SPIN_PC_EPS]; out[u * ostride] = sigmoid(lg[u] + beta logit(pc) + cb),
 * lg: the network's logits (what the deferred predict wrote). */
/* ALT carriers of the untyped tokens of a window with few of them (most sites):
 * token u's carriers are car[cofs[u] .. cofs[u] + cn[u]), haplotypes ascending;
 * cn[u] < 0: too many, read the bits. jmap [panel haplotypes] must be all 0 on
 * entry (it is left so); jbuf has room for a gap's weighted states. */
typedef struct {
    const int *cofs, *cn, *car;
    int *jmap, *jbuf;
} spin_copy_carriers_t;
void spin_copy_apply_gap(const spin_copy_wts_t *wt, int g, const int *g0, const uint64_t *bits, int nw,
                         const int *usite, const spin_copy_carriers_t *cr, const float *lg, float beta, float cb,
                         float *out, size_t ostride);
/* Softmax over the K neighbours per gap (over the active ones, w->act), s [K x ng]
 * -> a [K x ng] (0 where inactive); per untyped token pc[nu] = sum_j a_j allele_j;
 * lc[nu] = spin_copy_logit(pc). Alleles from nb [K x D]; with src (deferred)
 * only the weights are stored in src->wts (pc, lc untouched). Returns 0, or -1
 * if src->wts is too small. */
int spin_copy_mix(const spin_wtok_t *w, int K, int ng, const int *g0, const int8_t *nb,
                   const spin_copy_src_t *src, const float *s, float *a, float *pc, float *lc);
/* Allele of neighbour j at untyped token u as a float: 0/1, or af_u when missing. */
static inline float spin_nb_allele(const spin_wtok_t *w, int8_t a, int u)
{
    return a == 0 ? 0.0f : a == 1 ? 1.0f : w->af[w->uidx[u]];
}
#define SPIN_PC_EPS 1e-3f
/* The copy term's logit of a mixed allele probability, clamped to
 * [SPIN_PC_EPS, 1 - SPIN_PC_EPS] (the mix and the deferred mix share it). */
static inline float spin_copy_logit(float p)
{
    float q = p < SPIN_PC_EPS ? SPIN_PC_EPS : p > 1.0f - SPIN_PC_EPS ? 1.0f - SPIN_PC_EPS : p;
    return logf(q / (1.0f - q));
}

#endif
