/* phase.c -- phasing of the targets' typed sites against the reference panel
 * (spin.h: spin_phase_run; doc/phasing.md has the algorithm, its parameters and
 * why).
 *
 * Per iteration:
 *   1. PBWT (pbwt.h) over the panel at the typed sites, for every target
 *      haplotype's current estimate, backward then forward: the P longest
 *      matches of each haplotype at each site, in each direction.
 *   2. Per sample (in the parallel sample loop), S composite conditioning
 *      haplotypes (Beagle 5's idea): S slots, each copying one panel haplotype
 *      over a stretch of sites; the sample's 4P neighbours at a site refresh
 *      their slot or take the slot seen least recently, from the midpoint
 *      since that slot's last use.
 *   3. Per sample, forward-backward in a diploid Li-Stephens HMM over the
 *      S x S slot pairs (spin_phase_posterior, O(S^2) per site thanks to the
 *      product form of the transitions; on the S (S + 1) / 2 unordered pairs,
 *      in float vectors, for samples whose genotypes are all symmetric in the
 *      two haplotypes) gives, at each heterozygote, the posterior probability
 *      of a switch relative to the previous one; the calls chain them
 *      (averaged over the last n_avg iterations).
 * The new orientations are applied after the whole pass, so neither the order
 * of samples nor the number of threads changes any result.
 *
 * Memory: the backward and forward neighbours 2 x T x 2N x P ints, the
 * averaged posteriors T x N doubles; per thread T x S bytes of composites,
 * an int per panel haplotype (its slot) and Sp^2 floats of backward values
 * per heterozygous or missing site of the sample that has most, Sp = S
 * rounded up to 4 (T typed sites, N samples). */
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
    /* the symmetric case's triangles are padded to Sp x Sp (posterior_sym) */
    const size_t Sp = (size_t)(S + 3) / 4 * 4;
    for (int j = 0; j < 8; ++j) bad |= !(s->tm[j] = malloc(Sp * Sp * sizeof(float)));
    for (int j = 0; j < 10; ++j) bad |= !(s->tsum[j] = malloc(Sp * sizeof(float)));
    bad |= !(s->beta = malloc(En * Sp * Sp * sizeof(float)));
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
    for (int j = 0; j < 8; ++j) free(s->tm[j]);
    for (int j = 0; j < 10; ++j) free(s->tsum[j]);
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

/* ---- the symmetric case ------------------------------------------------
 * When every site's emission is symmetric in the two haplotypes (unphased
 * heterozygotes, homozygotes, both alleles missing: no phased heterozygote and
 * no half-missing genotype, as for a fully unphased sample), so are the start,
 * the transition, and therefore the backward values and the unlabelled forward
 * part; and the two labelled parts are each other's transpose (swapping the
 * haplotypes swaps the labels). The recursion then runs on upper triangles
 * (S (S + 1) / 2 pair states instead of S^2, and one labelled matrix's worth
 * instead of two): the backward values g, the unlabelled part f0, the
 * labelled total u = f1 + f2 (symmetric) and the difference a = f1 - f2
 * (antisymmetric, f1 = label 0), from which f1 = (u + a) / 2, f2 = (u - a) / 2.
 *
 * Values are floats (each site is scaled to total 1, so the range is never
 * an issue; the unit test's brute force bounds the error), in 4-lane blocks
 * (SSE2 vectors): an S x S matrix is stored as Sp x Sp (Sp = S rounded up to 4), row c holds
 * (c, d) for d >= c from the block containing c on; the entries left of c in
 * that block and the columns past S are kept at 0. */
enum { LANES = 4 };

#if defined(__GNUC__)
typedef float v4f __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t v4i __attribute__((vector_size(LANES * sizeof(float))));
static inline v4f ld4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof(v));
    return v;
}
static inline void st4(float *p, v4f v) { memcpy(p, &v, sizeof(v)); }
static inline v4f mask4(v4f v, v4i m) { return (v4f)((v4i)v & m); }
static inline float hsum4(v4f q) { return (q[0] + q[1]) + (q[2] + q[3]); }
#else
#error "phase.c needs GCC/Clang vector extensions"
#endif

/* Lane masks of a row's first block: ge[o] lanes >= o, gt[o] lanes > o. */
typedef struct {
    v4i ge[LANES], gt[LANES];
} rowmask_t;

static void rowmask_init(rowmask_t *m)
{
    for (int o = 0; o < LANES; ++o)
        for (int l = 0; l < LANES; ++l) m->ge[o][l] = l >= o ? -1 : 0, m->gt[o][l] = l > o ? -1 : 0;
}

static inline int pad4(int S) { return (S + LANES - 1) / LANES * LANES; }

/* E0, E1 of pair_step in float, padded with 0 to Sp. */
static void site_rows_f(const double *em, const uint8_t *xk, int S, int Sp, float *E0, float *E1)
{
    const float e[4] = {(float)em[0], (float)em[1], (float)em[2], (float)em[3]};
    for (int d = 0; d < S; ++d) E0[d] = e[xk[d]], E1[d] = e[2 + xk[d]];
    for (int d = S; d < Sp; ++d) E0[d] = 0.0f, E1[d] = 0.0f;
}

/* One site of either recursion on a triangle, fused as pair_step:
 * y = sc * E .* T(v), T(v)(c, d) = (1-r)^2 v(c, d) + (1-r) r/S (rs_c + cs_d)
 * + (r/S)^2 total. v symmetric (anti = 0): cs = rs; v antisymmetric (anti = 1,
 * diagonal 0): cs = -rs, total 0. ri: v's row sums (0 past S); writes y's to
 * ro and returns y's total (0 if anti). E0, E1 as site_rows_f. */
static float tri_step(const float *v, const float *ri, float toti, double sc, int S, int Sp, double r,
                      const uint8_t *xk, const float *E0, const float *E1, int anti, const rowmask_t *mk, float *y,
                      float *ro)
{
    const double B = r / S, s1 = 1.0 - r;
    const float AA = (float)(s1 * s1 * sc), AB = (float)(s1 * B * sc);
    const float BB = anti ? 0.0f : (float)(B * B * toti * sc), ABd = anti ? -AB : AB, sg = anti ? -1.0f : 1.0f;
    for (int d = 0; d < Sp; ++d) ro[d] = 0.0f;
    for (int c = 0; c < S; ++c) {
        const size_t o = (size_t)c * Sp;
        const float *vc = v + o, *E = xk[c] ? E1 : E0;
        float *yc = y + o;
        const float rc = AB * ri[c] + BB;
        const int d0 = c / LANES * LANES;
        v4f q = {0};
        for (int d = d0; d < Sp; d += LANES) {
            v4f z = (AA * ld4(vc + d) + rc + ABd * ld4(ri + d)) * ld4(E + d);
            if (d == d0) { /* left of the diagonal: 0; the diagonal: only in y's column sums */
                z = mask4(z, anti ? mk->gt[c - d0] : mk->ge[c - d0]);
                st4(yc + d, z);
                st4(ro + d, ld4(ro + d) + sg * z);
                q += mask4(z, mk->gt[c - d0]);
            } else {
                st4(yc + d, z);
                st4(ro + d, ld4(ro + d) + sg * z);
                q += z;
            }
        }
        ro[c] += hsum4(q);
    }
    float t = 0.0f;
    for (int c = 0; c < S; ++c) t += ro[c];
    return anti ? 0.0f : t;
}

/* tri_step on u (symmetric, total ut) and a (antisymmetric) at once, the
 * labelled parts of the forward: the same arithmetic per entry, one pass over
 * the emission rows. Returns u's new total. */
static float tri_step_ua(const float *u, const float *ur, float ut, const float *a, const float *ar, double sc, int S,
                         int Sp, double r, const uint8_t *xk, const float *E0, const float *E1, const rowmask_t *mk,
                         float *uo, float *uro, float *ao, float *aro)
{
    const double B = r / S, s1 = 1.0 - r;
    const float AA = (float)(s1 * s1 * sc), AB = (float)(s1 * B * sc), BB = (float)(B * B * ut * sc), ABn = -AB;
    for (int d = 0; d < Sp; ++d) uro[d] = 0.0f, aro[d] = 0.0f;
    for (int c = 0; c < S; ++c) {
        const size_t o = (size_t)c * Sp;
        const float *uc = u + o, *ac = a + o, *E = xk[c] ? E1 : E0;
        float *uoc = uo + o, *aoc = ao + o;
        const float rcu = AB * ur[c] + BB, rca = AB * ar[c];
        const int d0 = c / LANES * LANES;
        v4f qu = {0}, qa = {0};
        for (int d = d0; d < Sp; d += LANES) {
            const v4f e = ld4(E + d);
            v4f zu = (AA * ld4(uc + d) + rcu + AB * ld4(ur + d)) * e;
            v4f za = (AA * ld4(ac + d) + rca + ABn * ld4(ar + d)) * e;
            if (d == d0) {
                zu = mask4(zu, mk->ge[c - d0]), za = mask4(za, mk->gt[c - d0]);
                qu += mask4(zu, mk->gt[c - d0]);
            } else {
                qu += zu;
            }
            qa += za;
            st4(uoc + d, zu), st4(aoc + d, za);
            st4(uro + d, ld4(uro + d) + zu), st4(aro + d, ld4(aro + d) + -1.0f * za);
        }
        uro[c] += hsum4(qu), aro[c] += hsum4(qa);
    }
    float t = 0.0f;
    for (int c = 0; c < S; ++c) t += uro[c];
    return t;
}

/* v = the site's emission (symmetric) as a triangle; its row sums; returns
 * its total. */
static float tri_emission(const double *em, const uint8_t *xk, int S, int Sp, float *v, float *ro)
{
    for (int d = 0; d < Sp; ++d) ro[d] = 0.0f;
    for (int c = 0; c < S; ++c) {
        float *vc = v + (size_t)c * Sp, q = 0.0f;
        const int d0 = c / LANES * LANES;
        for (int d = d0; d < Sp; ++d) {
            vc[d] = d < c || d >= S ? 0.0f : (float)em[xk[c] * 2 + xk[d]];
            ro[d] += vc[d];
            if (d > c) q += vc[d];
        }
        ro[c] += q;
    }
    float t = 0.0f;
    for (int c = 0; c < S; ++c) t += ro[c];
    return t;
}

/* At a heterozygote (forward; f0 all zero once dropped): over the unordered
 * pairs {c, d} whose states carry different alleles, *U = sum u b and
 * *A = sum (a at the ordered (allele 1, allele 0) pair) b, b the backward
 * values; then those pairs take the label of haplotype 1's allele: z = f0 + u,
 * f0 = 0, u = z, f1 = z where x_c = 0 (so a = +-z). The other pairs keep
 * theirs. Writes the new row sums. Branch-free: x0[d] = x_d, x1[d] = 1 - x_d
 * (0/1 floats, 0 past S), so the differing-pair mask of row c is x1 if x_c = 1
 * else x0 (0 on the diagonal); a product with a 0/1 mask and a sum with 0 are
 * exact. */
static void tri_het(float *f0, float *u, float *a, const float *bk, const uint8_t *xk, int S, int Sp, const float *x0,
                    const float *x1, const rowmask_t *mk, float *f0r, float *ur, float *ar, float *U, float *A)
{
    v4f su = {0}, sa = {0};
    for (int d = 0; d < Sp; ++d) f0r[d] = 0.0f, ur[d] = 0.0f, ar[d] = 0.0f;
    for (int c = 0; c < S; ++c) {
        const size_t r = (size_t)c * Sp;
        float *f0c = f0 + r, *uc = u + r, *ac = a + r;
        const float *bc = bk + r, *md = xk[c] ? x1 : x0;
        const float sg = xk[c] ? 1.0f : -1.0f; /* a at (1, 0) = sg * a(c, d) */
        const int d0 = c / LANES * LANES;
        v4f rf = {0}, ru = {0}, ra = {0};
        for (int d = d0; d < Sp; d += LANES) {
            const v4f m = ld4(md + d), b = ld4(bc + d), uu = ld4(uc + d), aa = ld4(ac + d), ff = ld4(f0c + d);
            su += m * (uu * b), sa += m * (sg * aa * b);
            const v4f z = ff + uu, nm = 1.0f - m;
            const v4f nf = nm * ff, nu = nm * uu + m * z, na = nm * aa - m * sg * z;
            st4(f0c + d, nf), st4(uc + d, nu), st4(ac + d, na);
            st4(f0r + d, ld4(f0r + d) + nf), st4(ur + d, ld4(ur + d) + nu), st4(ar + d, ld4(ar + d) - na);
            if (d == d0) /* the row sums: right of the diagonal only */
                rf += mask4(nf, mk->gt[c - d0]), ru += mask4(nu, mk->gt[c - d0]), ra += mask4(na, mk->gt[c - d0]);
            else
                rf += nf, ru += nu, ra += na;
        }
        f0r[c] += hsum4(rf), ur[c] += hsum4(ru), ar[c] += hsum4(ra);
    }
    *U = hsum4(su), *A = hsum4(sa);
}

/* spin_phase_posterior when every emission is symmetric (see above). */
static void posterior_sym(spin_phase_scratch_t *s, const uint8_t *x, int S, int T, const double *jump,
                          const int8_t *a1, const int8_t *a2, const uint8_t *ph, double q, double *psw, double *mis)
{
    const int Sp = pad4(S);
    const size_t Sq = (size_t)Sp * Sp;
    double em[4];
    rowmask_t mk;
    rowmask_init(&mk);
    float *E0 = s->tsum[8], *E1 = s->tsum[9];
    /* backward, as in spin_phase_posterior */
    float *g = s->tm[0], *g2 = s->tm[1], *gr = s->tsum[0], *gr2 = s->tsum[1], gt;
    site_emission(a1[T - 1], a2[T - 1], ph[T - 1], q, em);
    gt = tri_emission(em, x + (size_t)(T - 1) * S, S, Sp, g, gr);
    for (int k = T - 1;; --k) {
        if (s->ev[k] >= 0) { /* beta = g / e, scaled to g's total 1 */
            const uint8_t *xk = x + (size_t)k * S;
            const double it = 1.0 / gt;
            const double ie[4] = {it / em[0], it / em[1], it / em[2], it / em[3]};
            float *o = s->beta + (size_t)s->ev[k] * Sq;
            site_rows_f(ie, xk, S, Sp, E0, E1);
            for (int c = 0; c < S; ++c) {
                const size_t r = (size_t)c * Sp;
                const float *ier = xk[c] ? E1 : E0;
                for (int d = c / LANES * LANES; d < Sp; d += LANES) st4(o + r + d, ld4(g + r + d) * ld4(ier + d));
            }
        }
        if (k == 0) break;
        site_emission(a1[k - 1], a2[k - 1], ph[k - 1], q, em);
        const uint8_t *xp = x + (size_t)(k - 1) * S;
        site_rows_f(em, xp, S, Sp, E0, E1);
        gt = tri_step(g, gr, gt, 1.0 / gt, S, Sp, jump[k], xp, E0, E1, 0, &mk, g2, gr2);
        float *tp = g;
        g = g2, g2 = tp, tp = gr, gr = gr2, gr2 = tp;
    }
    /* forward: f0 unlabelled, u = f1 + f2, a = f1 - f2 (zero until the first
     * heterozygote: lab = 0) */
    float *f0 = s->tm[2], *u = s->tm[3], *a = s->tm[4], *f0o = s->tm[5], *uo = s->tm[6], *ao = s->tm[7];
    float *f0r = s->tsum[0], *ur = s->tsum[1], *ar = s->tsum[2], *f0ro = s->tsum[3], *uro = s->tsum[4];
    float *aro = s->tsum[5];
    float f0t = 0.0f, ut = 0.0f;
    double total = 1.0;
    int live0 = 1, lab = 0;
    for (int k = 0; k < T; ++k) {
        const uint8_t *xk = x + (size_t)k * S;
        site_emission(a1[k], a2[k], ph[k], q, em);
        if (k == 0) {
            f0t = tri_emission(em, xk, S, Sp, f0, f0r);
        } else {
            site_rows_f(em, xk, S, Sp, E0, E1);
            float *tp;
            if (live0) {
                f0t = tri_step(f0, f0r, f0t, 1.0 / total, S, Sp, jump[k], xk, E0, E1, 0, &mk, f0o, f0ro);
                tp = f0, f0 = f0o, f0o = tp, tp = f0r, f0r = f0ro, f0ro = tp;
            }
            if (lab) {
                ut = tri_step_ua(u, ur, ut, a, ar, 1.0 / total, S, Sp, jump[k], xk, E0, E1, &mk, uo, uro, ao, aro);
                tp = u, u = uo, uo = tp, tp = ur, ur = uro, uro = tp;
                tp = a, a = ao, ao = tp, tp = ar, ar = aro, aro = tp;
            }
        }
        total = (live0 ? f0t : 0.0) + (lab ? ut : 0.0);
        if (live0 && lab && f0t < 1e-30 * total) { /* as in spin_phase_posterior */
            live0 = 0;
            total -= f0t;
            memset(f0, 0, Sq * sizeof(float)); /* tri_het still reads it */
        }
        if (s->ev[k] < 0) continue;
        const float *bk = s->beta + (size_t)s->ev[k] * Sq;
        if (a1[k] < 0) { /* both alleles missing (the only missing case here) */
            double *m = mis + (size_t)k * 12, sum = 0.0;
            for (int i = 0; i < 12; ++i) m[i] = 0.0;
            for (int c = 0; c < S; ++c) {
                const size_t r = (size_t)c * Sp;
                const int xc = xk[c];
                for (int d = c; d < S; ++d) {
                    const int xd = xk[d], cd = xc * 2 + xd, dc = xd * 2 + xc;
                    const double b = bk[r + d];
                    const double w0 = live0 ? (double)f0[r + d] * b : 0.0;
                    const double wu = lab ? 0.5 * u[r + d] * b : 0.0, wa = lab ? 0.5 * a[r + d] * b : 0.0;
                    if (d == c) {
                        m[cd] += w0, m[4 + cd] += wu, m[8 + cd] += wu;
                    } else { /* (c, d) and (d, c): f1(d, c) = (u - a) / 2 there */
                        m[cd] += w0, m[dc] += w0;
                        m[4 + cd] += wu + wa, m[4 + dc] += wu - wa;
                        m[8 + cd] += wu - wa, m[8 + dc] += wu + wa;
                    }
                }
            }
            for (int i = 0; i < 12; ++i) sum += m[i];
            if (sum > 0.0)
                for (int i = 0; i < 12; ++i) m[i] /= sum;
            continue;
        }
        /* a heterozygote: the switch posterior psw = num / den over the
         * ordered pairs, den = 2 U, num = U + A (tri_het), then the
         * relabelling and the new sums, in one pass */
        if (!lab) { /* u and a held nothing so far */
            memset(u, 0, Sq * sizeof(float)), memset(a, 0, Sq * sizeof(float));
            lab = 1;
        }
        for (int d = 0; d < S; ++d) E0[d] = xk[d], E1[d] = 1.0f - xk[d]; /* E0, E1 are free here */
        for (int d = S; d < Sp; ++d) E0[d] = 0.0f, E1[d] = 0.0f;
        float U, A;
        tri_het(f0, u, a, bk, xk, S, Sp, E0, E1, &mk, f0r, ur, ar, &U, &A);
        if (U > 0.0f) psw[k] = ((double)U + A) / (2.0 * U);
        f0t = 0.0f, ut = 0.0f;
        for (int c = 0; c < S; ++c) f0t += f0r[c], ut += ur[c];
    }
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
    int sym = 1;
    for (int k = 0; k < T && sym; ++k) sym = a1[k] == a2[k] || (!ph[k] && a1[k] >= 0 && a2[k] >= 0);
    if (sym) {
        posterior_sym(s, x, S, T, jump, a1, a2, ph, q, psw, mis);
        return;
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
    int *where; /* [panel haplotypes] its slot, -1 none (all -1 between samples) */
} slots_t;

/* Puts panel haplotype c in one of the S slots at site k; writes the
 * composites' alleles of sites a displaced haplotype no longer covers. */
static void slot_offer(const spin_panel_t *p, const int *site, slots_t *sl, int S, int k, int c, uint8_t *comp)
{
    int j = sl->where[c], old = 0;
    if (j >= 0) {
        sl->last[j] = k;
        return;
    }
    for (j = 1; j < S; ++j)
        if (sl->last[j] < sl->last[old]) old = j;
    if (sl->hap[old] >= 0 && sl->last[old] == k) return; /* every slot is in use at this site */
    /* the old haplotype keeps the sites up to the midpoint since it was last a
     * neighbour; the new one takes the rest (an empty slot: from the start) */
    int mid = sl->hap[old] < 0 ? 0 : (sl->last[old] + k) / 2 + 1;
    if (sl->hap[old] >= 0) {
        for (int kk = sl->from[old]; kk < mid; ++kk)
            comp[(size_t)kk * S + old] = (uint8_t)spin_panel_allele(p, site[kk], sl->hap[old]);
        sl->where[sl->hap[old]] = -1;
    }
    sl->hap[old] = c, sl->last[old] = k, sl->from[old] = mid, sl->where[c] = old;
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

/* The P neighbours of every query at every site, in direction dir (o's is
 * ignored): out[(k * n_tgt + m) * P + j]. 0, -1 out of memory, -2 the PBWT
 * returned the sites out of order. */
static int pbwt_all(const spin_pbwt_opt_t *o, int dir, int *out)
{
    spin_pbwt_opt_t po = *o;
    po.dir = dir;
    spin_pbwt_t *w = spin_pbwt_init(&po);
    if (!w) return -1;
    const size_t stride = (size_t)o->n_tgt * o->P;
    int ret = 0;
    for (int i = 0; i < o->n_site && !ret; ++i) {
        const int kk = dir == SPIN_PBWT_FORWARD ? i : o->n_site - 1 - i;
        if (spin_pbwt_next_site(w, out + (size_t)kk * stride, NULL, NULL) != kk) ret = -2;
    }
    spin_pbwt_destroy(w);
    return ret;
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
    double *psum = NULL, *jump = NULL;
    spin_phase_scratch_t *scr = NULL;
    int n_scr = 0;
    const size_t TH = (size_t)T * H;
    if (!(cur = malloc(TH)) || !(nxt = malloc(TH)) || !(est = malloc(TH)) || !(nb_b = malloc(TH * P * sizeof(int))) ||
        !(nb_f = malloc(TH * P * sizeof(int))) ||
        !(psum = calloc((size_t)T * N, sizeof(double))) || !(jump = malloc((size_t)T * sizeof(double))) ||
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
        /* 1, 2. backward and forward neighbours of every target haplotype at
         * every site. With 2 to 4 threads the two sweeps run side by side, each
         * on one thread: no parallel region per site, whose joins cost much
         * when the cores are shared; with more, one after the other on all
         * threads. The neighbours never depend on it. */
        spin_pbwt_opt_t po;
        memset(&po, 0, sizeof(po));
        po.hap = p->hap, po.nw = p->nw, po.n_hap = p->n_hap, po.sites = t->site, po.n_site = T;
        /* queries: the current estimates, with the missing alleles the last
         * iteration filled (the PBWT fills them in the first) */
        po.ta = it ? est : cur, po.ld = (size_t)H, po.n_tgt = H, po.P = P;
        const int side = nth >= 2 && nth <= 4;
        po.n_threads = side ? 1 : nth;
        int rb = 0, rf = 0;
#pragma omp parallel sections num_threads(side ? 2 : 1)
        {
#pragma omp section
            rb = pbwt_all(&po, SPIN_PBWT_BACKWARD, nb_b);
#pragma omp section
            rf = pbwt_all(&po, SPIN_PBWT_FORWARD, nb_f);
        }
        if (rb == -1 || rf == -1) goto oom;
        if (rb < 0 || rf < 0) {
            spin_error("phasing: PBWT site order");
            goto done;
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
            uint8_t *ph = malloc((size_t)T), *xs = malloc((size_t)T * S), *ci = malloc((size_t)T * S);
            int *valid = malloc((size_t)S * sizeof(int));
            double *psw = malloc((size_t)T * sizeof(double)), *mis = malloc((size_t)T * 12 * sizeof(double));
            slots_t si = {malloc((size_t)S * sizeof(int)), malloc((size_t)S * sizeof(int)), malloc((size_t)S * sizeof(int)),
                          malloc((size_t)p->n_hap * sizeof(int))};
            if (!a1 || !a2 || !ph || !xs || !ci || !valid || !psw || !mis || !si.hap || !si.last || !si.from || !si.where)
                err = 1;
            else
                for (int h = 0; h < p->n_hap; ++h) si.where[h] = -1;
#pragma omp for schedule(dynamic, 1)
            for (int i = 0; i < N; ++i) {
                if (err) continue;
                /* the sample's composites, site by site: its 4P neighbours */
                for (int j = 0; j < S; ++j) si.hap[j] = -1, si.last[j] = -1, si.from[j] = 0;
                memset(ci, 0, (size_t)T * S);
                for (int kk = 0; kk < T; ++kk) {
                    const int *nfk = nb_f + (size_t)kk * H * P, *nbk = nb_b + (size_t)kk * H * P;
                    for (int j = 0; j < P; ++j) /* longest first, alternating sources */
                        for (int src = 0; src < 4; ++src) {
                            int h = 2 * i + (src & 1);
                            int c = (src < 2 ? nfk : nbk)[(size_t)h * P + j];
                            if (c >= 0) slot_offer(p, t->site, &si, S, kk, c, ci);
                        }
                }
                slots_flush(p, t->site, &si, S, T, ci);
                for (int j = 0; j < S; ++j)
                    if (si.hap[j] >= 0) si.where[si.hap[j]] = -1;
                int Sv = 0; /* slots that were ever filled */
                for (int j = 0; j < S; ++j)
                    if (si.hap[j] >= 0) valid[Sv++] = j;
                if (Sv == 0) continue;
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
            free(a1), free(a2), free(ph), free(xs), free(ci), free(valid);
            free(si.hap), free(si.last), free(si.from), free(si.where);
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
    free(cur), free(nxt), free(est), free(nb_b), free(nb_f), free(psum);
    free(jump);
    return ret;
}
