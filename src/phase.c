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
 *   3. Per sample, the most probable path of a diploid Li-Stephens HMM over
 *      the S x S slot pairs (spin_phase_viterbi, O(S^2) per site thanks to the
 *      product form of the transitions) orients each unphased heterozygote.
 * The new orientations are applied after the whole pass, so neither the order
 * of samples nor the number of threads changes any result.
 *
 * Memory: the backward neighbours T x 2N x P ints, the composites N x T x S
 * bytes, per thread T x S^2 bytes of back pointers (T typed sites, N samples). */
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
    o->fill_missing = 0;
    o->n_threads = 1;
}

int spin_phase_scratch_init(spin_phase_scratch_t *s, int S, int T)
{
    memset(s, 0, sizeof(*s));
    s->S = S, s->T = T;
    size_t S2 = (size_t)S * S, Tn = T > 0 ? (size_t)T : 1;
    s->v = malloc(S2 * sizeof(double));
    s->w = malloc(S2 * sizeof(double));
    s->rmax = malloc((size_t)S * sizeof(double));
    s->cmax = malloc((size_t)S * sizeof(double));
    s->back = malloc(Tn * S2);
    s->rarg = malloc(Tn * S * sizeof(int));
    s->carg = malloc(Tn * S * sizeof(int));
    s->garg = malloc(Tn * sizeof(int));
    if (!s->v || !s->w || !s->rmax || !s->cmax || !s->back || !s->rarg || !s->carg || !s->garg) {
        spin_phase_scratch_destroy(s);
        return -1;
    }
    return 0;
}

void spin_phase_scratch_destroy(spin_phase_scratch_t *s)
{
    free(s->v), free(s->w), free(s->rmax), free(s->cmax);
    free(s->back), free(s->rarg), free(s->carg), free(s->garg);
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

double spin_phase_viterbi(spin_phase_scratch_t *s, const uint8_t *x, int S, int T, const double *jump,
                          const int8_t *a1, const int8_t *a2, const uint8_t *ph, double err, int *pa, int *pb)
{
    const size_t S2 = (size_t)S * S;
    const double q = err / (1.0 - err);
    double em[4], logsc = 0.0;
    double *v = s->v, *w = s->w;
    if (T <= 0 || S <= 0) return 0.0;
    site_emission(a1[0], a2[0], ph[0], q, em);
    for (int a = 0; a < S; ++a)
        for (int b = 0; b < S; ++b) v[(size_t)a * S + b] = em[x[a] * 2 + x[b]];
    for (int k = 1; k < T; ++k) {
        const uint8_t *xk = x + (size_t)k * S;
        int *rarg = s->rarg + (size_t)k * S, *carg = s->carg + (size_t)k * S;
        uint8_t *back = s->back + (size_t)k * S2;
        /* maxima of the previous site: rows, columns, all (ties: lowest index) */
        double gmax = -1.0;
        int garg = 0;
        for (int j = 0; j < S; ++j) s->cmax[j] = -1.0, carg[j] = 0;
        for (int a = 0; a < S; ++a) {
            const double *va = v + (size_t)a * S;
            double rm = -1.0;
            int ra = 0;
            for (int b = 0; b < S; ++b) {
                double y = va[b];
                if (y > rm) rm = y, ra = b;
                if (y > s->cmax[b]) s->cmax[b] = y, carg[b] = a;
            }
            s->rmax[a] = rm, rarg[a] = ra;
            if (rm > gmax) gmax = rm, garg = a * S + ra;
        }
        s->garg[k] = garg;
        const double r = jump[k];
        const double B = r / S, A = 1.0 - r + B;
        const double AA = A * A, AB = A * B, BB = B * B;
        const double gB = gmax * BB;
        site_emission(a1[k], a2[k], ph[k], q, em);
        double mx = 0.0;
        for (int c = 0; c < S; ++c) {
            const double *vc = v + (size_t)c * S;
            double *wc = w + (size_t)c * S;
            uint8_t *bc = back + (size_t)c * S;
            const double rc = s->rmax[c] * AB;
            for (int d = 0; d < S; ++d) {
                double best = vc[d] * AA;
                uint8_t code = 0;
                if (rc > best) best = rc, code = 1;
                double cd = s->cmax[d] * AB;
                if (cd > best) best = cd, code = 2;
                if (gB > best) best = gB, code = 3;
                bc[d] = code;
                double y = best * em[xk[c] * 2 + xk[d]];
                wc[d] = y;
                if (y > mx) mx = y;
            }
        }
        /* rescale: the largest score is 1 (every emission is > 0, so mx > 0) */
        double inv = 1.0 / mx;
        for (size_t i = 0; i < S2; ++i) w[i] *= inv;
        logsc += log(mx);
        double *tmp = v;
        v = w, w = tmp;
    }
    size_t best = 0;
    for (size_t i = 1; i < S2; ++i)
        if (v[i] > v[best]) best = i;
    logsc += log(v[best]);
    int a = (int)(best / S), b = (int)(best % S);
    for (int k = T - 1; k >= 0; --k) {
        pa[k] = a, pb[k] = b;
        if (k == 0) break;
        switch (s->back[(size_t)k * S2 + (size_t)a * S + b]) {
        case 1: b = s->rarg[(size_t)k * S + a]; break;
        case 2: a = s->carg[(size_t)k * S + b]; break;
        case 3: a = s->garg[k] / S, b = s->garg[k] % S; break;
        default: break;
        }
    }
    return logsc;
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
    if (o->n_iter < 1 || S < 2 || S > 255 || P < 1 || !(o->err > 0.0 && o->err < 0.5) || !(o->ne > 0.0)) {
        spin_error("phasing: bad options (iterations %d, states %d, neighbours %d, err %g, ne %g)", o->n_iter, S, P,
                   o->err, o->ne);
        return -1;
    }
    if (T == 0) return 0;
    if (S > p->n_hap) S = p->n_hap < 2 ? 2 : p->n_hap;
    int8_t *cur = NULL, *nxt = NULL;
    int *nb_b = NULL, *nb_f = NULL;
    uint8_t *comp = NULL;
    double *jump = NULL;
    slots_t sl = {NULL, NULL, NULL};
    spin_phase_scratch_t *scr = NULL;
    int n_scr = 0;
    const size_t TH = (size_t)T * H;
    if (!(cur = malloc(TH)) || !(nxt = malloc(TH)) || !(nb_b = malloc(TH * P * sizeof(int))) ||
        !(nb_f = malloc((size_t)H * P * sizeof(int))) || !(comp = calloc((size_t)N * T * S, 1)) ||
        !(jump = malloc((size_t)T * sizeof(double))) || !(sl.hap = malloc((size_t)N * S * sizeof(int))) ||
        !(sl.last = malloc((size_t)N * S * sizeof(int))) || !(sl.from = malloc((size_t)N * S * sizeof(int))) ||
        !(scr = calloc((size_t)nth, sizeof(*scr))))
        goto oom;
    for (n_scr = 0; n_scr < nth; ++n_scr)
        if (spin_phase_scratch_init(&scr[n_scr], S, T) < 0) goto oom;
    memcpy(cur, t->allele, TH);
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
        po.ta = cur, po.ld = (size_t)H, po.n_tgt = H, po.P = P, po.n_threads = nth;
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

        /* 3. per sample: the Viterbi path orients the unphased heterozygotes */
        const int last = it == o->n_iter - 1;
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
            int *pa = malloc((size_t)T * sizeof(int)), *pb = malloc((size_t)T * sizeof(int));
            int *valid = malloc((size_t)S * sizeof(int));
            if (!a1 || !a2 || !ph || !xs || !pa || !pb || !valid) err = 1;
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
                spin_phase_viterbi(sc, xs, Sv, T, jump, a1, a2, ph, o->err, pa, pb);
                for (int kk = 0; kk < T; ++kk) {
                    int xa = xs[(size_t)kk * Sv + pa[kk]], xb = xs[(size_t)kk * Sv + pb[kk]];
                    int8_t *out = nxt + (size_t)kk * H + 2 * i;
                    if (!ph[kk]) {
                        /* states that disagree give the order; states that agree
                         * (a mismatch on the path) keep the current one */
                        if (xa != xb) out[0] = (int8_t)xa, out[1] = (int8_t)xb;
                    } else if (last && o->fill_missing) {
                        if (a1[kk] < 0) out[0] = (int8_t)xa;
                        if (a2[kk] < 0) out[1] = (int8_t)xb;
                    }
                }
            }
            free(a1), free(a2), free(ph), free(xs), free(pa), free(pb), free(valid);
        }
        if (err) goto oom;
        int8_t *tmp = cur;
        cur = nxt, nxt = tmp;
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
    free(cur), free(nxt), free(nb_b), free(nb_f), free(comp), free(jump);
    free(sl.hap), free(sl.last), free(sl.from);
    return ret;
}
