/* phase.c -- phasing of the targets' typed sites against the reference panel
 * (spin.h: spin_phase_run; doc/phasing.md has the algorithm, its parameters and
 * why).
 *
 * Per iteration:
 *   1. PBWT (pbwt.h) over the panel at the typed sites, for every target
 *      haplotype's current estimate, backward then forward: the P longest
 *      matches of each haplotype at each site, in each direction.
 *   2. Per sample, S composite conditioning haplotypes (Beagle 5's idea): S
 *      slots, each copying one panel haplotype over a stretch of sites; the
 *      sample's 4P neighbours at a site refresh their slot or take the slot
 *      seen least recently, from the midpoint since that slot's last use.
 *   3. Per sample, forward-backward in a diploid Li-Stephens HMM over the
 *      S x S slot pairs (spin_phase_posterior, O(S^2) per site thanks to the
 *      product form of the transitions) gives, at each heterozygote, the
 *      posterior probability of a switch relative to the previous one; the
 *      calls chain them (averaged over the last n_avg iterations).
 * The new orientations are applied after the whole pass, so neither the order
 * of samples nor the number of threads changes any result.
 *
 * Memory: the backward neighbours T x 2N x P ints, the composites N x T x S
 * bytes, the averaged posteriors T x N doubles; per thread T x S^2 floats of
 * backward values (T typed sites, N samples). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "pbwt.h"
#include "phase.h"
#include "util.h"

void spin_phase_opt_default(spin_phase_opt_t *o)
{
    memset(o, 0, sizeof(*o));
    o->n_iter = SPIN_PHASE_ITER;
    o->n_states = SPIN_PHASE_STATES;
    o->P = SPIN_PHASE_P;
    o->ne = SPIN_PHASE_NE;
    o->err = SPIN_PHASE_ERR;
    o->n_avg = SPIN_PHASE_AVG;
    o->fill_missing = 0;
    o->n_threads = 1;
}

int spin_phase_scratch_init(spin_phase_scratch_t *s, int S, int T, int n_ev)
{
    memset(s, 0, sizeof(*s));
    s->S = S, s->T = T, s->n_ev = n_ev;
    size_t S2 = (size_t)S * S, Tn = T > 0 ? (size_t)T : 1, En = n_ev > 0 ? (size_t)n_ev : 1;
    int bad = 0;
    for (int j = 0; j < 8; ++j) bad |= !(s->m[j] = malloc(S2 * sizeof(double)));
    for (int j = 0; j < 10; ++j) bad |= !(s->sum[j] = malloc((size_t)S * sizeof(double)));
    bad |= !(s->beta = malloc(En * S2 * sizeof(float)));
    bad |= !(s->ev = malloc(Tn * sizeof(int)));
    if (bad) {
        spin_phase_scratch_destroy(s);
        return -1;
    }
    return 0;
}

void spin_phase_scratch_destroy(spin_phase_scratch_t *s)
{
    for (int j = 0; j < 8; ++j) free(s->m[j]);
    for (int j = 0; j < 10; ++j) free(s->sum[j]);
    free(s->beta), free(s->ev);
    memset(s, 0, sizeof(*s));
}

/* Emission ratios for the four (x_a, x_b) allele pairs at one site. */
static void site_emission(int a1, int a2, int ph, double q, double *em)
{
    for (int xa = 0; xa < 2; ++xa)
        for (int xb = 0; xb < 2; ++xb) {
            int m;
            if (ph) m = (a1 >= 0 && xa != a1) + (a2 >= 0 && xb != a2);
            else m = xa == xb; /* unphased heterozygote: either order */
            em[xa * 2 + xb] = m == 0 ? 1.0 : m == 1 ? q : q * q;
        }
}

/* A pair state's row and column sums and total: what the transition needs. */
typedef struct {
    double *rs, *cs, tot; /* [S], [S] */
} sums_t;

/* Row sums, column sums and total of v. */
static void pair_sums(const double *v, int S, sums_t *o)
{
    for (int d = 0; d < S; ++d) o->cs[d] = 0.0;
    o->tot = 0.0;
    for (int c = 0; c < S; ++c) {
        const double *vc = v + (size_t)c * S;
        double q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0;
        int d = 0;
        for (; d + 4 <= S; d += 4) {
            q0 += vc[d], q1 += vc[d + 1], q2 += vc[d + 2], q3 += vc[d + 3];
            o->cs[d] += vc[d], o->cs[d + 1] += vc[d + 1], o->cs[d + 2] += vc[d + 2], o->cs[d + 3] += vc[d + 3];
        }
        for (; d < S; ++d) q0 += vc[d], o->cs[d] += vc[d];
        o->rs[c] = (q0 + q1) + (q2 + q3);
        o->tot += o->rs[c];
    }
}

/* One site of either recursion, fused into one pass: y = sc * E .* T(v), T the
 * pair transition (symmetric, so the same both ways):
 *   T(v)(c, d) = sum_ab v(a, b) t(a, c) t(b, d),  t = (1 - r) [a == c] + r / S,
 *   = (1-r)^2 v(c, d) + (1-r) r/S (row c + column d sum) + (r/S)^2 total,
 * from in's sums; E(c, d) = E1[d] if state c carries ALT here, else E0[d]. Writes
 * y's sums to out. The accumulations run in 4 lanes (no FP reassociation). */
static void pair_step(const double *v, const sums_t *in, double sc, int S, double r, const uint8_t *xk,
                      const double *E0, const double *E1, double *y, sums_t *out)
{
    const double B = r / S, s1 = 1.0 - r, AA = s1 * s1 * sc, AB = s1 * B * sc, BB = B * B * in->tot * sc;
    double *cs = out->cs;
    for (int d = 0; d < S; ++d) cs[d] = 0.0;
    out->tot = 0.0;
    for (int c = 0; c < S; ++c) {
        const double *vc = v + (size_t)c * S, *E = xk[c] ? E1 : E0, *ci = in->cs;
        double *yc = y + (size_t)c * S;
        const double rc = AB * in->rs[c] + BB;
        double q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0;
        int d = 0;
        for (; d + 4 <= S; d += 4) {
            const double z0 = (AA * vc[d] + rc + AB * ci[d]) * E[d];
            const double z1 = (AA * vc[d + 1] + rc + AB * ci[d + 1]) * E[d + 1];
            const double z2 = (AA * vc[d + 2] + rc + AB * ci[d + 2]) * E[d + 2];
            const double z3 = (AA * vc[d + 3] + rc + AB * ci[d + 3]) * E[d + 3];
            yc[d] = z0, yc[d + 1] = z1, yc[d + 2] = z2, yc[d + 3] = z3;
            cs[d] += z0, cs[d + 1] += z1, cs[d + 2] += z2, cs[d + 3] += z3;
            q0 += z0, q1 += z1, q2 += z2, q3 += z3;
        }
        for (; d < S; ++d) {
            const double z = (AA * vc[d] + rc + AB * ci[d]) * E[d];
            yc[d] = z, cs[d] += z, q0 += z;
        }
        out->rs[c] = (q0 + q1) + (q2 + q3);
        out->tot += out->rs[c];
    }
}

/* E0, E1 of site k (pair_step): the emission of (x_c, x_d) is em[x_c * 2 + x_d]. */
static void site_rows(const double *em, const uint8_t *xk, int S, double *E0, double *E1)
{
    for (int d = 0; d < S; ++d) E0[d] = em[xk[d]], E1[d] = em[2 + xk[d]];
}

void spin_phase_posterior(spin_phase_scratch_t *s, const uint8_t *x, int S, int T, const double *jump,
                          const int8_t *a1, const int8_t *a2, const uint8_t *ph, double err, double *psw,
                          double *mis)
{
    const size_t S2 = (size_t)S * S;
    const double q = err / (1.0 - err);
    double em[4];
    double *E0 = s->sum[8], *E1 = s->sum[9];
    if (T <= 0 || S <= 0) return;
    int n_ev = 0;
    for (int k = 0; k < T; ++k) {
        const int het = a1[k] >= 0 && a2[k] >= 0 && a1[k] != a2[k], miss = a1[k] < 0 || a2[k] < 0;
        s->ev[k] = het || (miss && mis) ? n_ev++ : -1;
        psw[k] = -1.0;
    }
    /* backward: g_k = e_k .* beta_k, g_{k-1} = e_{k-1} .* T(g_k), each scaled to
     * total 1; beta_k = g_k / e_k is kept (float) at the heterozygous and missing
     * sites */
    double *g = s->m[0], *g2 = s->m[1];
    sums_t gs = {s->sum[0], s->sum[1], 0.0}, gs2 = {s->sum[2], s->sum[3], 0.0};
    site_emission(a1[T - 1], a2[T - 1], ph[T - 1], q, em);
    {
        const uint8_t *xk = x + (size_t)(T - 1) * S;
        for (int c = 0; c < S; ++c)
            for (int d = 0; d < S; ++d) g[(size_t)c * S + d] = em[xk[c] * 2 + xk[d]];
        pair_sums(g, S, &gs);
    }
    for (int k = T - 1;; --k) {
        /* here g = g_k (scaled), em = e_k */
        if (s->ev[k] >= 0) {
            const uint8_t *xk = x + (size_t)k * S;
            const double ie[4] = {1.0 / em[0], 1.0 / em[1], 1.0 / em[2], 1.0 / em[3]};
            float *o = s->beta + (size_t)s->ev[k] * S2;
            for (int c = 0; c < S; ++c)
                for (int d = 0; d < S; ++d)
                    o[(size_t)c * S + d] = (float)(g[(size_t)c * S + d] * ie[xk[c] * 2 + xk[d]] / gs.tot);
        }
        if (k == 0) break;
        site_emission(a1[k - 1], a2[k - 1], ph[k - 1], q, em);
        const uint8_t *xp = x + (size_t)(k - 1) * S;
        site_rows(em, xp, S, E0, E1);
        /* gs.tot > 0: every emission and transition is > 0 */
        pair_step(g, &gs, 1.0 / gs.tot, S, jump[k], xp, E0, E1, g2, &gs2);
        double *tp = g;
        g = g2, g2 = tp;
        sums_t ts = gs;
        gs = gs2, gs2 = ts;
    }
    /* forward, split by label: part 0 no label yet, part 1 + l label l; every
     * part scaled by one factor per site (the total of all), so only relative
     * weights count */
    double *f[3] = {s->m[2], s->m[3], s->m[4]}, *fo[3] = {s->m[5], s->m[6], s->m[7]};
    sums_t fs[3] = {{s->sum[0], s->sum[1], 0.0}, {s->sum[2], s->sum[3], 0.0}, {s->sum[4], s->sum[5], 0.0}};
    sums_t fso = {s->sum[6], s->sum[7], 0.0};
    int live[3] = {1, 0, 0};
    double total = 1.0;
    for (int k = 0; k < T; ++k) {
        const uint8_t *xk = x + (size_t)k * S;
        site_emission(a1[k], a2[k], ph[k], q, em);
        if (k == 0) {
            for (int c = 0; c < S; ++c)
                for (int d = 0; d < S; ++d) f[0][(size_t)c * S + d] = em[xk[c] * 2 + xk[d]];
            pair_sums(f[0], S, &fs[0]);
        } else {
            site_rows(em, xk, S, E0, E1);
            for (int j = 0; j < 3; ++j) {
                if (!live[j]) continue;
                pair_step(f[j], &fs[j], 1.0 / total, S, jump[k], xk, E0, E1, fo[j], &fso);
                double *tp = f[j];
                f[j] = fo[j], fo[j] = tp;
                sums_t ts = fs[j];
                fs[j] = fso, fso = ts;
            }
        }
        total = 0.0;
        for (int j = 0; j < 3; ++j) total += live[j] ? fs[j].tot : 0.0;
        /* the unlabelled part is dropped once it is below 1e-30 of the whole
         * (past the first heterozygote it only holds paths that mismatched at
         * every heterozygote so far) */
        if (live[0] && (live[1] || live[2]) && fs[0].tot < 1e-30 * total) {
            live[0] = 0;
            total -= fs[0].tot;
        }
        if (s->ev[k] < 0) continue;
        const float *bk = s->beta + (size_t)s->ev[k] * S2;
        if (a1[k] < 0 || a2[k] < 0) {
            double *m = mis + (size_t)k * 12, sum = 0.0;
            for (int i = 0; i < 12; ++i) m[i] = 0.0;
            for (int j = 0; j < 3; ++j) {
                if (!live[j]) continue;
                for (int c = 0; c < S; ++c)
                    for (int d = 0; d < S; ++d) m[j * 4 + xk[c] * 2 + xk[d]] += f[j][(size_t)c * S + d] * bk[(size_t)c * S + d];
            }
            for (int i = 0; i < 12; ++i) sum += m[i];
            if (sum > 0.0)
                for (int i = 0; i < 12; ++i) m[i] /= sum;
            continue;
        }
        /* a heterozygote: the switch posterior, then paths whose states differ
         * take the label of their haplotype-1 allele here */
        double pw[2][2] = {{0.0, 0.0}, {0.0, 0.0}}; /* [label][allele here] */
        for (int l = 0; l < 2; ++l) {
            if (!live[1 + l]) continue;
            const double *fl = f[1 + l];
            for (int c = 0; c < S; ++c)
                for (int d = 0; d < S; ++d)
                    if (xk[c] != xk[d]) pw[l][xk[c]] += fl[(size_t)c * S + d] * bk[(size_t)c * S + d];
        }
        const double den = pw[0][0] + pw[0][1] + pw[1][0] + pw[1][1];
        if (den > 0.0) psw[k] = (pw[0][1] + pw[1][0]) / den;
        for (int j = 0; j < 3; ++j)
            if (!live[j])
                for (size_t i = 0; i < S2; ++i) f[j][i] = 0.0;
        for (int c = 0; c < S; ++c)
            for (int d = 0; d < S; ++d) {
                const size_t i = (size_t)c * S + d;
                if (xk[c] == xk[d]) continue; /* no orientation here: the label stays */
                const double z = f[0][i] + f[1][i] + f[2][i];
                f[0][i] = 0.0;
                f[1 + xk[c]][i] = z, f[2 - xk[c]][i] = 0.0;
            }
        live[1] = live[2] = 1;
        for (int j = 0; j < 3; ++j)
            if (live[j]) pair_sums(f[j], S, &fs[j]);
    }
}

/* One sample's slots while the composites are built (forward over sites). */
typedef struct {
    int *hap;  /* [S] panel haplotype in the slot, -1 empty */
    int *last; /* [S] last site the slot's haplotype was a neighbour (-1 never) */
    int *from; /* [S] first site the current haplotype occupies */
} slots_t;

/* Puts panel haplotype c in one of the S slots at site k; writes the
 * composites' alleles of sites a displaced haplotype no longer covers. */
static void slot_offer(const spin_panel_t *p, const int *site, slots_t *sl, int S, int k, int c, uint8_t *comp)
{
    int j, old = 0;
    for (j = 0; j < S; ++j)
        if (sl->hap[j] == c) {
            sl->last[j] = k;
            return;
        }
    for (j = 1; j < S; ++j)
        if (sl->last[j] < sl->last[old]) old = j;
    if (sl->hap[old] >= 0 && sl->last[old] == k) return; /* every slot is in use at this site */
    /* the old haplotype keeps the sites up to the midpoint since it was last a
     * neighbour; the new one takes the rest (an empty slot: from the start) */
    int mid = sl->hap[old] < 0 ? 0 : (sl->last[old] + k) / 2 + 1;
    if (sl->hap[old] >= 0)
        for (int kk = sl->from[old]; kk < mid; ++kk)
            comp[(size_t)kk * S + old] = (uint8_t)spin_panel_allele(p, site[kk], sl->hap[old]);
    sl->hap[old] = c, sl->last[old] = k, sl->from[old] = mid;
}

/* Writes the alleles of every slot's haplotype over [from, end). */
static void slots_flush(const spin_panel_t *p, const int *site, slots_t *sl, int S, int end, uint8_t *comp)
{
    for (int j = 0; j < S; ++j) {
        if (sl->hap[j] < 0) continue;
        for (int kk = sl->from[j]; kk < end; ++kk)
            comp[(size_t)kk * S + j] = (uint8_t)spin_panel_allele(p, site[kk], sl->hap[j]);
        sl->from[j] = end;
    }
}

int spin_phase_run(const spin_panel_t *p, spin_targets_t *t, const spin_phase_opt_t *o, int64_t *n_phased)
{
    const int T = t->n_typed, N = t->n_sample, H = t->n_hap;
    const int P = o->P, nth = o->n_threads < 1 ? 1 : o->n_threads;
    int S = o->n_states;
    int ret = -1;
    if (n_phased) *n_phased = 0;
    if (o->n_iter < 1 || S < 2 || S > 255 || P < 1 || !(o->err > 0.0 && o->err < 0.5) || !(o->ne > 0.0) ||
        o->n_avg < 0 || o->n_avg > o->n_iter || o->n_avg > 255) {
        spin_error("phasing: bad options (iterations %d, averaged %d, states %d, neighbours %d, err %g, ne %g)",
                   o->n_iter, o->n_avg, S, P, o->err, o->ne);
        return -1;
    }
    if (T == 0) return 0;
    if (S > p->n_hap) S = p->n_hap < 2 ? 2 : p->n_hap;
    const int first_avg = o->n_iter - (o->n_avg > 1 ? o->n_avg : 0);
    int8_t *cur = NULL, *nxt = NULL, *est = NULL;
    int *nb_b = NULL, *nb_f = NULL;
    uint8_t *comp = NULL;
    double *psum = NULL, *jump = NULL;
    slots_t sl = {NULL, NULL, NULL};
    spin_phase_scratch_t *scr = NULL;
    int n_scr = 0;
    const size_t TH = (size_t)T * H;
    if (!(cur = malloc(TH)) || !(nxt = malloc(TH)) || !(est = malloc(TH)) || !(nb_b = malloc(TH * P * sizeof(int))) ||
        !(nb_f = malloc((size_t)H * P * sizeof(int))) || !(comp = calloc((size_t)N * T * S, 1)) ||
        !(psum = calloc((size_t)T * N, sizeof(double))) || !(jump = malloc((size_t)T * sizeof(double))) || !(sl.hap = malloc((size_t)N * S * sizeof(int))) ||
        !(sl.last = malloc((size_t)N * S * sizeof(int))) || !(sl.from = malloc((size_t)N * S * sizeof(int))) ||
        !(scr = calloc((size_t)nth, sizeof(*scr))))
        goto oom;
    /* backward values are kept at a sample's heterozygous and missing sites:
     * room for the most any sample has */
    int n_ev = 0;
    for (int i = 0; i < N; ++i) {
        int n = 0;
        for (int k = 0; k < T; ++k) {
            const int8_t *a = t->allele + (size_t)k * H + 2 * i;
            n += a[0] < 0 || a[1] < 0 || a[0] != a[1];
        }
        if (n > n_ev) n_ev = n;
    }
    for (n_scr = 0; n_scr < nth; ++n_scr)
        if (spin_phase_scratch_init(&scr[n_scr], S, T, n_ev) < 0) goto oom;
    memcpy(cur, t->allele, TH);
    memcpy(est, t->allele, TH);
    /* jump probability between consecutive typed sites: Li-Stephens with
     * rho = 4 Ne per Morgan spread over the panel's haplotypes (Beagle's
     * 1 - exp(-0.04 Ne d_cM / n_hap)); a floor keeps the path able to leave a
     * state at sites with no map distance */
    jump[0] = 0.0;
    for (int k = 1; k < T; ++k) {
        double d = p->cm[t->site[k]] - p->cm[t->site[k - 1]];
        double r = -expm1(-0.04 * o->ne * (d > 0 ? d : 0) / (double)p->n_hap);
        jump[k] = r < 1e-6 ? 1e-6 : r > 0.999 ? 0.999 : r;
    }

    for (int it = 0; it < o->n_iter; ++it) {
        /* 1. backward neighbours of every target haplotype at every site */
        spin_pbwt_opt_t po;
        memset(&po, 0, sizeof(po));
        po.hap = p->hap, po.nw = p->nw, po.n_hap = p->n_hap, po.sites = t->site, po.n_site = T;
        /* queries: the current estimates, with the missing alleles the last
         * iteration filled (the PBWT fills them in the first) */
        po.ta = it ? est : cur, po.ld = (size_t)H, po.n_tgt = H, po.P = P, po.n_threads = nth;
        po.dir = SPIN_PBWT_BACKWARD;
        spin_pbwt_t *w = spin_pbwt_init(&po);
        if (!w) goto oom;
        int k;
        for (int kk = T - 1; kk >= 0; --kk) /* backward: sites T - 1, ..., 0 */
            if (spin_pbwt_next_site(w, nb_b + (size_t)kk * H * P, NULL, NULL) != kk) {
                spin_pbwt_destroy(w);
                spin_error("phasing: PBWT site order");
                goto done;
            }
        spin_pbwt_destroy(w);

        /* 2. forward neighbours and the composites, site by site */
        po.dir = SPIN_PBWT_FORWARD;
        if (!(w = spin_pbwt_init(&po))) goto oom;
        for (size_t i = 0; i < (size_t)N * S; ++i) sl.hap[i] = -1, sl.last[i] = -1, sl.from[i] = 0;
        memset(comp, 0, (size_t)N * T * S);
        while ((k = spin_pbwt_next_site(w, nb_f, NULL, NULL)) >= 0) {
            const int *nbk = nb_b + (size_t)k * H * P;
            for (int i = 0; i < N; ++i) {
                slots_t si = {sl.hap + (size_t)i * S, sl.last + (size_t)i * S, sl.from + (size_t)i * S};
                uint8_t *ci = comp + (size_t)i * T * S;
                for (int j = 0; j < P; ++j) /* longest first, alternating sources */
                    for (int src = 0; src < 4; ++src) {
                        int h = 2 * i + (src & 1);
                        int c = src < 2 ? nb_f[(size_t)h * P + j] : nbk[(size_t)h * P + j];
                        if (c >= 0) slot_offer(p, t->site, &si, S, k, c, ci);
                    }
            }
        }
        spin_pbwt_destroy(w);
        for (int i = 0; i < N; ++i) {
            slots_t si = {sl.hap + (size_t)i * S, sl.last + (size_t)i * S, sl.from + (size_t)i * S};
            slots_flush(p, t->site, &si, S, T, comp + (size_t)i * T * S);
        }

        /* 3. per sample: the switch posteriors orient the unphased heterozygotes */
        const int last = it == o->n_iter - 1, vote = it >= first_avg && first_avg < o->n_iter;
        memcpy(nxt, cur, TH);
        int err = 0;
#pragma omp parallel num_threads(nth) reduction(| : err)
        {
#ifdef _OPENMP
            int tid = omp_get_thread_num();
#else
            int tid = 0;
#endif
            spin_phase_scratch_t *sc = &scr[tid];
            /* per-thread buffers for one sample, allocated outside the sample loop */
            int8_t *a1 = malloc((size_t)T), *a2 = malloc((size_t)T);
            uint8_t *ph = malloc((size_t)T), *xs = malloc((size_t)T * S);
            int *valid = malloc((size_t)S * sizeof(int));
            double *psw = malloc((size_t)T * sizeof(double)), *mis = malloc((size_t)T * 12 * sizeof(double));
            if (!a1 || !a2 || !ph || !xs || !valid || !psw || !mis) err = 1;
#pragma omp for schedule(dynamic, 1)
            for (int i = 0; i < N; ++i) {
                if (err) continue;
                const int *hs = sl.hap + (size_t)i * S;
                int Sv = 0; /* slots that were ever filled */
                for (int j = 0; j < S; ++j)
                    if (hs[j] >= 0) valid[Sv++] = j;
                if (Sv == 0) continue;
                const uint8_t *ci = comp + (size_t)i * T * S;
                for (int kk = 0; kk < T; ++kk) {
                    for (int j = 0; j < Sv; ++j) xs[(size_t)kk * Sv + j] = ci[(size_t)kk * S + valid[j]];
                    a1[kk] = t->allele[(size_t)kk * H + 2 * i];
                    a2[kk] = t->allele[(size_t)kk * H + 2 * i + 1];
                    ph[kk] = t->phased[(size_t)kk * N + i];
                }
                spin_phase_posterior(sc, xs, Sv, T, jump, a1, a2, ph, o->err, psw, mis);
                /* the chain of calls: each unphased heterozygote switches
                 * relative to the previous heterozygote's call when its switch
                 * posterior (averaged over the iterations that vote) is above
                 * 1/2, keeps the current relation on a tie or without
                 * information; the first keeps its current order, those that
                 * arrived phased their given one */
                int prev_out = -1, prev_cur = -1; /* haplotype-1 allele at the previous het: new call, current */
                for (int kk = 0; kk < T; ++kk) {
                    int8_t *out = nxt + (size_t)kk * H + 2 * i, *e = est + (size_t)kk * H + 2 * i;
                    const int8_t *cu = cur + (size_t)kk * H + 2 * i;
                    if (a1[kk] >= 0 && a2[kk] >= 0) {
                        if (a1[kk] == a2[kk]) continue;
                        double pk = psw[kk];
                        if (vote) {
                            double *ps = psum + (size_t)kk * N + i;
                            *ps += pk < 0 ? 0.5 : pk;
                            pk = *ps / (double)(it - first_avg + 1);
                        }
                        if (!ph[kk] && prev_out >= 0) {
                            const int sw = pk > 0.5 ? 1 : pk >= 0 && pk < 0.5 ? 0 : cu[0] != prev_cur;
                            out[0] = (int8_t)(sw ? 1 - prev_out : prev_out), out[1] = (int8_t)(1 - out[0]);
                        }
                        prev_out = out[0], prev_cur = cu[0];
                        continue;
                    }
                    /* a missing allele: the most probable pair of alleles in
                     * the new call's haplotype order (the path's label says
                     * which of its haplotypes is the call's haplotype 1) */
                    const double *m = mis + (size_t)kk * 12;
                    double wg[4];
                    for (int u = 0; u < 2; ++u)
                        for (int v = 0; v < 2; ++v) {
                            double z = 0.5 * (m[u * 2 + v] + m[v * 2 + u]);
                            if (prev_out >= 0)
                                for (int l = 0; l < 2; ++l) z += m[(1 + l) * 4 + (l == prev_out ? u * 2 + v : v * 2 + u)];
                            wg[u * 2 + v] = z;
                        }
                    int best = -1;
                    for (int g = 0; g < 4; ++g) {
                        if ((a1[kk] >= 0 && g / 2 != a1[kk]) || (a2[kk] >= 0 && g % 2 != a2[kk])) continue;
                        if (best < 0 || wg[g] > wg[best]) best = g;
                    }
                    e[0] = (int8_t)(best / 2), e[1] = (int8_t)(best % 2);
                    if (last && o->fill_missing) out[0] = e[0], out[1] = e[1];
                }
            }
            free(a1), free(a2), free(ph), free(xs), free(valid);
            free(psw), free(mis);
        }
        if (err) goto oom;
        int8_t *tmp = cur;
        cur = nxt, nxt = tmp;
        /* the estimates the next iteration conditions on: the new orientations,
         * missing alleles as filled above */
        for (size_t g = 0; g < TH; ++g)
            if (t->allele[g] >= 0) est[g] = cur[g];
    }
    {
        int64_t n = 0;
        for (int k = 0; k < T; ++k)
            for (int i = 0; i < N; ++i) n += !t->phased[(size_t)k * N + i];
        memcpy(t->allele, cur, TH);
        t->n_unphased = 0; /* every heterozygote now has an order (phased[] still says how each arrived) */
        if (n_phased) *n_phased = n;
    }
    ret = 0;
    goto done;
oom:
    spin_error("out of memory while phasing the targets");
done:
    for (int i = 0; i < n_scr; ++i) spin_phase_scratch_destroy(&scr[i]);
    free(scr);
    free(cur), free(nxt), free(est), free(nb_b), free(nb_f), free(comp), free(psum);
    free(jump);
    free(sl.hap), free(sl.last), free(sl.from);
    return ret;
}
