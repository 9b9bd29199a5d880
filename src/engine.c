/* engine.c -- per-window imputation: tokens -> encode the panel into inducing
 * points -> predict every target haplotype (with its K longest-matching panel
 * neighbours) -> P(ALT) per untyped site.
 *
 * Parallelism: OpenMP over windows; inside a window everything runs on one
 * thread, so each output value comes from one fixed computation and results
 * do not depend on the thread count. Every parallel region names its thread
 * count (num_threads): nothing process-wide is set here; BLAS threads are the
 * program's choice (spin_blas_set_num_threads, spin.h; the CLI sets 1). Scratch is allocated once per thread per call, sized for the
 * largest window; nothing is allocated inside the window loop. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "neighbors.h"
#include "copystates.h"
#include "pbwt.h"

struct spin_engine_s {
    const spin_model_t *m;
    int n_threads;
    /* thread-seconds spent, summed over calls (reported, never used in results) */
    double t_enc, t_pred, t_nbr;
    int64_t n_win, n_pred;
};

spin_engine_t *spin_engine_init(const spin_model_t *m, int n_threads)
{
    spin_engine_t *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->m = m;
    e->n_threads = n_threads < 1 ? 1 : n_threads;
    return e;
}

void spin_engine_destroy(spin_engine_t *e) { free(e); }

void spin_engine_log_costs(const spin_engine_t *e)
{
    if (!e || e->n_win == 0) return;
    spin_info("engine: panel encoding %.2f ms/window (%lld windows), neighbour search %.1f us and "
              "prediction %.1f us per target haplotype per window (thread-seconds)",
              1e3 * e->t_enc / (double)e->n_win, (long long)e->n_win, 1e6 * e->t_nbr / (double)e->n_pred,
              1e6 * e->t_pred / (double)e->n_pred);
}

/* Imputation needs haplotypes: never impute from an arbitrary order of an
 * unphased heterozygote. */
static int refuse_unphased(const spin_targets_t *t)
{
    if (t->n_unphased == 0) return 0;
    spin_error("target file '%s' has %lld unphased heterozygous genotypes: phase them first (spin_phase_run)",
               t->fn ? t->fn : "", (long long)t->n_unphased);
    return -1;
}

/* Targets per PBWT pass in a segment: bounds the neighbour buffers (sites x
 * block x P ints) whatever the number of targets. */
#define SEG_TARGET_BLOCK 256

/* One thread's scratch, sized for the largest window of a call. */
/* Targets whose logits and gap weights are held at once for the deferred mix:
 * a gap's panel rows are reused across them while in cache; the logits take
 * SEG_MIX_BLOCK x untyped sites floats per thread (30 MB at 256 on a 256-interval
 * segment of the cohort task, hence fewer than the PBWT block of 256). */
#define SEG_MIX_BLOCK 64

typedef struct {
    int n_enc, K;
    double ccm;          /* cM of the current window's centre */
    spin_wctx_t *wc;
    float *enc_s, *pred_s, *HD, *dcm, *af;
    uint8_t *typed;      /* [max_D] token is typed */
    int *uidx, *tok_site;/* [max_nu] untyped token indices; [max_D] panel site of each token */
    int *nbr_hap;        /* [K] chosen neighbour haplotypes */
    int8_t *rows;        /* [n_enc x max_D] encoder rows */
    int8_t *row;         /* [max_D] the target haplotype's token alleles */
    int8_t *nbr_alleles; /* [K x max_D] the neighbours' token alleles */
    int8_t *tgt_alleles; /* [max_t] the target haplotype's alleles over the window's typed context */
    float *p_untyped;    /* [max_nu] P(ALT) of one haplotype at the untyped tokens */
    float *beyond;       /* [4K] spin_wtok_t.nb_beyond */
    spin_nbr_ws_t *nbr_ws;
    /* segments (cfg.seg > 0) */
    spin_cstates_t cs;   /* PBWT rows and state selection */
    int *gl;             /* [max_nu] typed (list) index left of each gap, -1 if none */
    int *usite;          /* [max_nu] panel site of each untyped token */
    /* the untyped tokens' ALT carriers when few (spin_copy_carriers_t) */
    int *cofs, *cn, *car, *jmap, *jbuf;
    size_t m_car;
    /* the segment's typed alleles per panel haplotype: bit k of tbits[h * ntw + k / 64]
     * = haplotype h's ALT at typed token k ([n_hap x ntw], ntw = words of max_t bits) */
    uint64_t *tbits;
    int ntw_max;
    uint8_t *act;        /* [K x max_nu] active (state, gap) */
    int *tidx;           /* [max_t] token index of each typed token */
    /* deferred mixing over a block of targets (gap by gap, so a gap's panel rows
     * stay in cache across targets) */
    float *lgb;          /* [SEG_MIX_BLOCK x max_nu] network logits per target */
    spin_copy_wts_t *wts;/* [SEG_MIX_BLOCK] weighted states per gap */
    uint8_t *done;       /* [SEG_MIX_BLOCK] target finished in phase 1 (no copy states) */
} engine_scratch_t;

static void scratch_free(engine_scratch_t *s)
{
    spin_wctx_destroy(s->wc);
    free(s->enc_s), free(s->pred_s), free(s->HD), free(s->dcm), free(s->af), free(s->typed);
    free(s->uidx), free(s->tok_site), free(s->rows), free(s->row), free(s->nbr_alleles), free(s->nbr_hap), free(s->tgt_alleles), free(s->p_untyped), free(s->beyond);
    spin_nbr_ws_destroy(s->nbr_ws);
    free(s->gl), free(s->usite), free(s->act), free(s->tidx);
    free(s->cofs), free(s->cn), free(s->car), free(s->jmap), free(s->jbuf), free(s->tbits);
    if (s->wts)
        for (int i = 0; i < SEG_MIX_BLOCK; i++) free(s->wts[i].gofs), free(s->wts[i].wd), free(s->wts[i].bt), free(s->wts[i].wa);
    free(s->wts), free(s->lgb), free(s->done);
    spin_cstates_destroy(&s->cs);
    memset(s, 0, sizeof(*s));
}

static int scratch_init(engine_scratch_t *s, const spin_model_t *m, int max_D, int max_nu, int max_t, int max_ng,
                        int n_enc, int n_hap)
{
    const spin_config_t *c = &m->cfg;
    memset(s, 0, sizeof(*s));
    if (max_D < 1) max_D = 1;
    if (max_nu < 1) max_nu = 1;
    s->n_enc = n_enc;
    s->K = c->K < n_hap ? c->K : n_hap;
    int Kb = s->K > 0 ? s->K : 1;
    s->wc = spin_wctx_init(m, max_D, max_nu);
    s->enc_s = malloc(spin_enc_scratch_size(c, max_D, n_enc) * sizeof(float));
    s->pred_s = malloc(spin_pred_scratch_size(c, max_D, max_nu, max_ng, s->K) * sizeof(float));
    s->HD = malloc(spin_model_hd_size(c) * sizeof(float));
    s->dcm = malloc((size_t)max_D * sizeof(float));
    s->af = malloc((size_t)max_D * sizeof(float));
    s->typed = malloc((size_t)max_D);
    s->uidx = malloc((size_t)max_nu * sizeof(int));
    s->tok_site = malloc((size_t)max_D * sizeof(int));
    s->rows = malloc((size_t)n_enc * max_D);
    s->row = malloc((size_t)max_D);
    s->nbr_alleles = malloc((size_t)Kb * max_D);
    s->nbr_hap = malloc((size_t)Kb * sizeof(int));
    s->nbr_ws = spin_nbr_ws_init(n_hap);
    s->tgt_alleles = malloc((size_t)max_t);
    s->p_untyped = malloc((size_t)max_nu * sizeof(float));
    s->beyond = malloc((size_t)4 * Kb * sizeof(float));
    if (c->seg > 0) {
        s->gl = malloc((size_t)max_nu * sizeof(int)), s->usite = malloc((size_t)max_nu * sizeof(int));
        s->act = malloc((size_t)Kb * max_nu);
        s->tidx = malloc((size_t)max_t * sizeof(int));
        s->cofs = malloc((size_t)max_nu * sizeof(int)), s->cn = malloc((size_t)max_nu * sizeof(int));
        s->jmap = calloc((size_t)n_hap, sizeof(int));
        s->ntw_max = (max_t + 63) / 64;
        s->tbits = malloc((size_t)n_hap * (s->ntw_max > 0 ? s->ntw_max : 1) * sizeof(uint64_t));
        if (!s->tbits || !s->cofs || !s->cn || !s->jmap || !s->tidx || !s->gl || !s->usite || !s->act || spin_cstates_init(&s->cs, c->pbwt_p, SEG_TARGET_BLOCK, max_t, n_hap) < 0) {
            scratch_free(s);
            return -1;
        }
        int mb = SEG_MIX_BLOCK, cap = max_ng * 2 * c->pbwt_p + Kb; /* a gap mixes its 2P candidates (all K if none) */
        s->lgb = malloc((size_t)mb * max_nu * sizeof(float));
        s->wts = calloc((size_t)mb, sizeof(*s->wts));
        s->done = malloc((size_t)mb);
        int ok = s->lgb && s->wts && s->done;
        for (int i = 0; ok && i < mb; i++) {
            spin_copy_wts_t *w = &s->wts[i];
            w->cap = cap;
            w->gofs = malloc((size_t)(max_ng + 1) * sizeof(int));
            w->wd = malloc((size_t)cap * sizeof(int)), w->bt = malloc((size_t)cap * sizeof(int));
            w->wa = malloc((size_t)cap * sizeof(float));
            ok = w->gofs && w->wd && w->bt && w->wa;
        }
        ok = ok && (s->jbuf = malloc((size_t)cap * sizeof(int)));
        if (!ok) {
            scratch_free(s);
            return -1;
        }
    }
    if (!s->tgt_alleles || !s->p_untyped || !s->beyond || !s->wc || !s->enc_s || !s->pred_s || !s->HD || !s->dcm || !s->af || !s->typed || !s->uidx ||
        !s->tok_site || !s->rows || !s->row || !s->nbr_alleles || !s->nbr_hap || !s->nbr_ws) {
        scratch_free(s);
        return -1;
    }
    return 0;
}

/* Tokens of window wi: the typed sites [k0, k1) (the c nearest on each side of the
 * untyped block and those inside it) merged with the untyped sites in panel
 * order; dcm relative to the mean cM of the untyped block. */
static void make_tokens(const spin_panel_t *p, const spin_targets_t *t, const spin_window_t *wi, int k0, int k1,
                        engine_scratch_t *s, spin_wtok_t *tok)
{
    int D = 0, nu = 0, k = k0, j = 0;
    while (k < k1 || j < wi->n_untyped) {
        int take_typed = j >= wi->n_untyped || (k < k1 && t->site[k] < wi->untyped[j]);
        int site = take_typed ? t->site[k++] : wi->untyped[j++];
        s->typed[D] = (uint8_t)take_typed;
        s->tok_site[D] = site;
        if (!take_typed) s->uidx[nu++] = D;
        D++;
    }
    double c = 0;
    for (int u = 0; u < wi->n_untyped; u++) c += p->cm[wi->untyped[u]];
    c /= wi->n_untyped > 0 ? wi->n_untyped : 1;
    s->ccm = c;
    for (int d = 0; d < D; d++) {
        s->dcm[d] = (float)(p->cm[s->tok_site[d]] - c);
        s->af[d] = p->af[s->tok_site[d]];
    }
    tok->D = D, tok->typed = s->typed, tok->dcm = s->dcm, tok->af = s->af, tok->nu = nu, tok->uidx = s->uidx;
    tok->nb_beyond = NULL;
    tok->act = NULL;
    tok->kq = NULL;
    tok->nbt = NULL;
}

/* Panel haplotype of encoder row i: n_enc rows evenly strided over the panel. */
static inline int enc_hap(int i, int n_enc, int n_hap) { return (int)((int64_t)i * n_hap / n_enc); }

/* Thread-seconds by phase, summed over windows (reported, never used in results). */
typedef struct {
    double enc, pred, nbr;
} phase_cost_t;

/* The window's tables, its encoded panel rows and the inducing points' keys and
 * values for the predictor (once per window, before any target). */
static int encode_window(const spin_model_t *m, const spin_panel_t *p, const spin_wtok_t *tok, engine_scratch_t *s)
{
    const int D = tok->D;
    for (int i = 0; i < s->n_enc; i++) {
        int h = enc_hap(i, s->n_enc, p->n_hap);
        for (int d = 0; d < D; d++) s->rows[(size_t)i * D + d] = (int8_t)spin_panel_allele(p, s->tok_site[d], h);
    }
    if (spin_model_window(m, tok, s->wc) < 0) return -1;
    if (spin_model_encode(m, tok, s->wc, s->n_enc, s->rows, s->HD, s->enc_s) < 0) return -1;
    return spin_model_set_hd(m, s->wc, s->HD);
}

static int impute_window(const spin_model_t *m, const spin_panel_t *p, const spin_targets_t *t,
                         const spin_window_t *wi, float *out, engine_scratch_t *s, phase_cost_t *cost)
{
    double time_start = spin_realtime();
    /* [t0, t1): the neighbour-search context; lo..hi: typed sites inside the block;
     * tokens: [k0, k1), the model's c typed sites on each side */
    int lo = wi->t0, hi;
    while (lo < wi->t1 && t->site[lo] < wi->untyped[0]) lo++;
    hi = lo;
    while (hi < wi->t1 && t->site[hi] < wi->untyped[wi->n_untyped - 1]) hi++;
    int c = m->cfg.c;
    int k0 = lo - c > wi->t0 ? lo - c : wi->t0, k1 = hi + c < wi->t1 ? hi + c : wi->t1;
    spin_wtok_t tok;
    make_tokens(p, t, wi, k0, k1, s, &tok);
    int D = tok.D, n_hap = t->n_hap, nt = wi->t1 - wi->t0;
    if (encode_window(m, p, &tok, s) < 0) return -1;
    double time_encoded = spin_realtime(), nbr_time = 0;
    for (int h = 0; h < n_hap; h++) {
        double nbr_start = spin_realtime();
        for (int k = 0; k < nt; k++) s->tgt_alleles[k] = t->allele[(size_t)(wi->t0 + k) * n_hap + h];
        for (int d = 0, k = k0 - wi->t0; d < D; d++) s->row[d] = s->typed[d] ? s->tgt_alleles[k++] : (int8_t)-1;
        /* neighbours match outward from the first typed site after the block start */
        int K = spin_nbr_select(s->nbr_ws, p, nt, t->site + wi->t0, s->tgt_alleles, lo - wi->t0, NULL, 0, s->K, s->nbr_hap, NULL);
        if (K < 0) return -1;
        for (int j = 0; j < K; j++)
            for (int d = 0; d < D; d++)
                s->nbr_alleles[(size_t)j * D + d] = (int8_t)spin_panel_allele(p, s->tok_site[d], s->nbr_hap[j]);
        spin_nbr_beyond(p, t->site + wi->t0, s->tgt_alleles, k0 - wi->t0, k1 - wi->t0, nt, K, s->nbr_hap, s->ccm, s->beyond);
        tok.nb_beyond = s->beyond;
        nbr_time += spin_realtime() - nbr_start;
        if (spin_model_predict(m, &tok, s->wc, s->row, K, s->nbr_alleles, NULL, s->p_untyped, s->pred_s) < 0) return -1;
        for (int u = 0; u < tok.nu; u++) out[(size_t)u * n_hap + h] = s->p_untyped[u];
    }
    double time_end = spin_realtime();
    cost->enc += time_encoded - time_start, cost->pred += time_end - time_encoded - nbr_time, cost->nbr += nbr_time;
    return 0;
}


/* Sites with at most this many ALT carriers get a carrier list: the deferred
 * mix then costs the carriers, not the states (a rare site has a few carriers
 * and a gap up to 2 P states). */
#define SEG_MAX_CARRIERS 64

/* The ALT carriers of the window's nu untyped tokens (s->usite), ascending. */
static int build_carriers(const spin_panel_t *p, engine_scratch_t *s, int nu)
{
    size_t n = 0;
    for (int u = 0; u < nu; u++) {
        const uint64_t *row = p->hap + (size_t)s->usite[u] * p->nw;
        int c = 0;
        for (int w = 0; w < p->nw && c <= SEG_MAX_CARRIERS; w++) c += __builtin_popcountll(row[w]);
        if (c > SEG_MAX_CARRIERS) {
            s->cn[u] = -1, s->cofs[u] = 0;
            continue;
        }
        if (n + (size_t)c > s->m_car) {
            size_t m = (n + (size_t)c) * 2 + 1024;
            int *t = realloc(s->car, m * sizeof(int));
            if (!t) return -1;
            s->car = t, s->m_car = m;
        }
        s->cofs[u] = (int)n, s->cn[u] = c;
        for (int w = 0; w < p->nw; w++)
            for (uint64_t x = row[w]; x; x &= x - 1) s->car[n++] = w * 64 + __builtin_ctzll(x);
    }
    return 0;
}

/* A segment (doc/engine-v2.md): PBWT passes each way per block of targets over
 * the segment's typed sites [t0, t1) (its typed tokens), then per target its
 * copy states (copystates.h), their alleles at the typed tokens, and the
 * predictor, which reads untyped alleles from the panel bits for the active
 * states only. */
static int impute_segment(const spin_model_t *m, const spin_panel_t *p, const spin_targets_t *t,
                          const spin_window_t *wi, float *out, engine_scratch_t *s, phase_cost_t *cost)
{
    double time_start = spin_realtime();
    spin_wtok_t tok;
    make_tokens(p, t, wi, wi->t0, wi->t1, s, &tok);
    int D = tok.D, n_hap = t->n_hap, nt = wi->t1 - wi->t0, K = s->K;
    if (encode_window(m, p, &tok, s) < 0) return -1;
    double time_encoded = spin_realtime(), nbr_time = 0;
    int ng = spin_cstates_gaps(s->typed, s->tok_site, D, s->gl, s->usite);
    if (build_carriers(p, s, tok.nu) < 0) return -1;
    /* typed alleles haplotype-major, once per segment (nt x ALT carriers), so a
     * target's states are read from a few contiguous words each */
    const int ntw = (nt + 63) / 64;
    memset(s->tbits, 0, (size_t)p->n_hap * ntw * sizeof(uint64_t));
    for (int k = 0; k < nt; k++) {
        const uint64_t *prow = p->hap + (size_t)t->site[wi->t0 + k] * p->nw;
        for (int w = 0; w < p->nw; w++)
            for (uint64_t x = prow[w]; x; x &= x - 1)
                s->tbits[(size_t)(w * 64 + __builtin_ctzll(x)) * ntw + (k >> 6)] |= 1ULL << (k & 63);
    }
    spin_copy_carriers_t cr = {s->cofs, s->cn, s->car, s->jmap, s->jbuf};
    const int *g0;
    if (spin_wctx_gaps(s->wc, &g0) != ng) {
        spin_error("internal: gap count");
        return -1;
    }
    /* the target row: typed tokens are rewritten per target, untyped stay masked */
    for (int d = 0, k = 0; d < D; d++) {
        s->row[d] = -1;
        if (s->typed[d]) s->tidx[k++] = d;
    }
    spin_cstates_t *cs = &s->cs;
    spin_cstates_range(cs, s->gl, ng, nt);
    if (K < 1) cs->kmin = 0, cs->kmax = -1;
    float beta, cb;
    spin_model_copy_gain(m, &beta, &cb);
    for (int m0 = 0; m0 < n_hap; m0 += cs->mb) {
        int M = n_hap - m0 < cs->mb ? n_hap - m0 : cs->mb;
        double nbr_start = spin_realtime();
        if (spin_cstates_pbwt(cs, p->hap, p->nw, t->site + wi->t0, nt, NULL, 0, t->allele + (size_t)wi->t0 * n_hap + m0,
                              (size_t)n_hap, M) < 0)
            return -1;
        nbr_time += spin_realtime() - nbr_start;
        for (int s0 = 0; s0 < M; s0 += SEG_MIX_BLOCK) {
            const int s1 = M - s0 < SEG_MIX_BLOCK ? M : s0 + SEG_MIX_BLOCK;
            /* phase 1, per target: states, network logits and each gap's weights */
            for (int mm = s0; mm < s1; mm++) {
                const int h = m0 + mm, ib = mm - s0; /* ib: the target's slot in the mixing block */
                double ns = spin_realtime();
                int Kt = spin_cstates_pick(cs, mm, s->gl, ng, K, s->nbr_hap, s->act);
                /* the states' alleles at the typed tokens only (the copy path reads no others),
                 * in its typed-major layout (tok.nbt, [nt x Kt], in the nbr_alleles buffer),
                 * from the segment's haplotype-major bits (in L1 for the Kt states) */
                for (int k = 0; k < nt; k++) {
                    int8_t *o = s->nbr_alleles + (size_t)k * Kt;
                    const uint64_t *tw = s->tbits + (k >> 6);
                    for (int j = 0; j < Kt; j++) o[j] = (int8_t)((tw[(size_t)s->nbr_hap[j] * ntw] >> (k & 63)) & 1);
                }
                for (int k = 0; k < nt; k++) s->row[s->tidx[k]] = t->allele[(size_t)(wi->t0 + k) * n_hap + h];
                tok.act = s->act;
                tok.nbt = s->nbr_alleles;
                nbr_time += spin_realtime() - ns;
                spin_copy_src_t src = {s->nbr_hap, &s->wts[ib]};
                float *lg = s->lgb + (size_t)ib * tok.nu;
                s->done[ib] = Kt == 0 || ng == 0;
                if (spin_model_predict(m, &tok, s->wc, s->row, Kt, s->nbr_alleles, s->done[ib] ? NULL : &src,
                                       s->done[ib] ? s->p_untyped : lg, s->pred_s) < 0)
                    return -1;
                if (s->done[ib])
                    for (int u = 0; u < tok.nu; u++) out[(size_t)u * n_hap + h] = s->p_untyped[u];
            }
            /* phase 2, gap by gap over the mixing block: P(ALT) from the weighted states' alleles */
            for (int g = 0; g < ng; g++)
                for (int mm = s0; mm < s1; mm++)
                    if (!s->done[mm - s0])
                        spin_copy_apply_gap(&s->wts[mm - s0], g, g0, p->hap, p->nw, s->usite, &cr,
                                            s->lgb + (size_t)(mm - s0) * tok.nu, beta, cb, out + m0 + mm, (size_t)n_hap);
        }
    }
    double time_end = spin_realtime();
    cost->enc += time_encoded - time_start, cost->pred += time_end - time_encoded - nbr_time, cost->nbr += nbr_time;
    return 0;
}

/* Gaps of window wi: its untyped sites split by typed sites between them. */
static int window_gaps(const spin_targets_t *t, const spin_window_t *wi)
{
    int ng = 1;
    for (int j = 1, k = wi->t0; j < wi->n_untyped; j++) {
        while (k < wi->t1 && t->site[k] < wi->untyped[j - 1]) k++;
        ng += k < wi->t1 && t->site[k] < wi->untyped[j];
    }
    return ng;
}

static int max_window(const spin_targets_t *t, const spin_window_t *win, int n_win, int *max_D, int *max_nu,
                      int *max_t, int *max_ng)
{
    *max_D = *max_nu = *max_t = *max_ng = 1;
    for (int i = 0; i < n_win; i++) {
        int ng = window_gaps(t, &win[i]);
        if (ng > *max_ng) *max_ng = ng;
        int nt = win[i].t1 - win[i].t0, D = nt + win[i].n_untyped;
        if (D > *max_D) *max_D = D;
        if (win[i].n_untyped > *max_nu) *max_nu = win[i].n_untyped;
        if (nt > *max_t) *max_t = nt;
        if (win[i].n_untyped < 1 || win[i].t0 < 0 || win[i].t1 > t->n_typed || win[i].t0 > win[i].t1) {
            spin_error("internal: malformed window %d", i);
            return -1;
        }
    }
    return 0;
}

int spin_engine_impute(spin_engine_t *e, const spin_panel_t *p, const spin_targets_t *t,
                       const spin_window_t *win, int n_win, float **p_alt)
{
    const spin_model_t *m = e->m;
    int max_D, max_nu, max_t, max_ng;
    if (refuse_unphased(t) < 0) return -1;
    if (n_win <= 0) return 0;
    if (max_window(t, win, n_win, &max_D, &max_nu, &max_t, &max_ng) < 0) return -1;
    int n_enc = m->cfg.enc_rows > 0 && m->cfg.enc_rows < p->n_hap ? m->cfg.enc_rows : p->n_hap;
    int nth = e->n_threads < n_win ? e->n_threads : n_win;
    int err = 0;
    double cost_enc = 0, cost_pred = 0, cost_nbr = 0;
#pragma omp parallel num_threads(nth) reduction(| : err) reduction(+ : cost_enc, cost_pred, cost_nbr)
    {
        engine_scratch_t s;
        phase_cost_t cost = {0, 0, 0};
        if (scratch_init(&s, m, max_D, max_nu, max_t, max_ng, n_enc, p->n_hap) < 0) {
            err = 1;
        } else {
#pragma omp for schedule(dynamic, 1)
            for (int i = 0; i < n_win; i++)
                if (!err && (m->cfg.seg > 0 ? impute_segment(m, p, t, &win[i], p_alt[i], &s, &cost)
                                            : impute_window(m, p, t, &win[i], p_alt[i], &s, &cost)) < 0)
                    err = 1;
            scratch_free(&s);
        }
        cost_enc += cost.enc, cost_pred += cost.pred, cost_nbr += cost.nbr;
    }
    e->t_enc += cost_enc, e->t_pred += cost_pred, e->t_nbr += cost_nbr;
    e->n_win += n_win, e->n_pred += (int64_t)n_win * t->n_hap;
    if (err) spin_error("imputation failed (out of memory or an internal error)");
    return err ? -1 : 0;
}

/* Segments: a missing typed allele of haplotype h at typed site k from the same
 * PBWT matches the copy states come from: the P longest left matches ending at
 * typed site k-1 (a forward pass over the c typed sites before k) and the P
 * longest right matches starting at k+1 (a backward pass over the c after it),
 * their alleles at k weighted by match length (sites). Each site's passes see
 * only its own 2c neighbours, so region runs reproduce whole runs. Only the
 * targets missing at k are swept. */
static int typed_missing_seg(spin_engine_t *e, const spin_panel_t *p, const spin_targets_t *t, float *p_miss)
{
    const int c = e->m->cfg.c > 0 ? e->m->cfg.c : 1, P = e->m->cfg.pbwt_p, n_hap = t->n_hap;
    int err = 0;
#pragma omp parallel num_threads(e->n_threads) reduction(| : err)
    {
        int *tg = malloc((size_t)n_hap * sizeof(int)), *hp = malloc((size_t)n_hap * P * sizeof(int)),
            *ln = malloc((size_t)n_hap * P * sizeof(int));
        int8_t *ta = malloc((size_t)c * n_hap);
        double *sw = malloc((size_t)n_hap * sizeof(double)), *sa = malloc((size_t)n_hap * sizeof(double));
        if (!tg || !hp || !ln || !ta || !sw || !sa) err = 1;
#pragma omp for schedule(dynamic, 4)
        for (int k = 0; k < t->n_typed; k++) {
            if (err) continue;
            const int8_t *a = t->allele + (size_t)k * n_hap;
            int M = 0;
            for (int h = 0; h < n_hap; h++) {
                p_miss[(size_t)k * n_hap + h] = (float)a[h];
                if (a[h] < 0) tg[M] = h, sw[M] = sa[M] = 0, M++;
            }
            if (M == 0) continue;
            for (int side = 0; side < 2 && !err; side++) {
                /* forward over [k - c, k), or backward over (k, k + c] */
                int lo = side ? k + 1 : (k - c > 0 ? k - c : 0), hi = side ? (k + 1 + c < t->n_typed ? k + 1 + c : t->n_typed) : k;
                int n = hi - lo;
                if (n <= 0) continue;
                for (int q = 0; q < n; q++)
                    for (int i = 0; i < M; i++) ta[(size_t)q * M + i] = t->allele[(size_t)(lo + q) * n_hap + tg[i]];
                spin_pbwt_opt_t po = {p->hap, p->nw, p->n_hap, t->site + lo, n, NULL, 0, ta, (size_t)M, M,
                                      side ? SPIN_PBWT_BACKWARD : SPIN_PBWT_FORWARD, P, 1};
                spin_pbwt_t *w = spin_pbwt_init(&po);
                if (!w) {
                    err = 1;
                    break;
                }
                int kk, last = side ? 0 : n - 1; /* the site next to k */
                while ((kk = spin_pbwt_next_site(w, hp, ln, NULL)) >= 0)
                    if (kk == last) break;
                spin_pbwt_destroy(w);
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < P; j++) {
                        int hj = hp[(size_t)i * P + j];
                        if (hj < 0) break;
                        double wj = ln[(size_t)i * P + j] + 1.0;
                        sw[i] += wj, sa[i] += wj * spin_panel_allele(p, t->site[k], hj);
                    }
            }
            for (int i = 0; i < M; i++)
                p_miss[(size_t)k * n_hap + tg[i]] = sw[i] > 0 ? (float)(sa[i] / sw[i]) : p->af[t->site[k]];
        }
        free(tg), free(hp), free(ln), free(ta), free(sw), free(sa);
    }
    if (err) spin_error("out of memory imputing missing typed alleles");
    return err ? -1 : 0;
}

/* A missing typed allele of haplotype h at typed site k: the mean allele, at
 * that site, of its K panel neighbours matched on the typed sites around k
 * (k itself left out), c typed sites each side. */
int spin_engine_impute_typed_missing(spin_engine_t *e, const spin_panel_t *p, const spin_targets_t *t,
                                     float *p_miss)
{
    const spin_model_t *m = e->m;
    if (refuse_unphased(t) < 0) return -1;
    if (m->cfg.seg > 0) return typed_missing_seg(e, p, t, p_miss);
    int c = m->cfg.c > 0 ? m->cfg.c : 1, K = m->cfg.K > 0 ? m->cfg.K : 16, n_hap = t->n_hap;
    if (K > p->n_hap) K = p->n_hap;
    int err = 0;
#pragma omp parallel num_threads(e->n_threads) reduction(| : err)
    {
        spin_nbr_ws_t *ws = spin_nbr_ws_init(p->n_hap);
        int *sites = malloc((size_t)(2 * c + 1) * sizeof(int)), *nbr_hap = malloc((size_t)(K + 1) * sizeof(int));
        int8_t *tgt_alleles = malloc((size_t)(2 * c + 1));
        if (!ws || !sites || !nbr_hap || !tgt_alleles) err = 1;
#pragma omp for schedule(dynamic, 16)
        for (int k = 0; k < t->n_typed; k++) {
            if (err) continue;
            const int8_t *a = t->allele + (size_t)k * n_hap;
            int lo = k - c > 0 ? k - c : 0, hi = k + c + 1 < t->n_typed ? k + c + 1 : t->n_typed;
            for (int h = 0; h < n_hap; h++) {
                if (a[h] >= 0) {
                    p_miss[(size_t)k * n_hap + h] = (float)a[h];
                    continue;
                }
                int n = 0, ic = 0;
                for (int q = lo; q < hi; q++) {
                    if (q == k) {
                        ic = n;
                        continue;
                    }
                    sites[n] = t->site[q], tgt_alleles[n] = t->allele[(size_t)q * n_hap + h], n++;
                }
                int got = spin_nbr_select(ws, p, n, sites, tgt_alleles, ic, NULL, 0, K, nbr_hap, NULL);
                double s = 0;
                for (int j = 0; j < got; j++) s += spin_panel_allele(p, t->site[k], nbr_hap[j]);
                p_miss[(size_t)k * n_hap + h] = got > 0 ? (float)(s / got) : p->af[t->site[k]];
            }
        }
        spin_nbr_ws_destroy(ws);
        free(sites), free(nbr_hap), free(tgt_alleles);
    }
    if (err) spin_error("out of memory imputing missing typed alleles");
    return err ? -1 : 0;
}
