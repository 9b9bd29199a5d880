/* copystates.c -- segment copy states (copystates.h). */
#include <stdlib.h>
#include <string.h>

#include "copystates.h"
#include "pbwt.h"
#include "spin.h"
#include "util.h"

int spin_cstates_init(spin_cstates_t *cs, int P, int mb, int max_t, int n_hap)
{
    memset(cs, 0, sizeof(*cs));
    cs->P = P > 0 ? P : 1, cs->mb = mb > 0 ? mb : 1, cs->max_t = max_t > 0 ? max_t : 1, cs->n_hap = n_hap;
    size_t nb = (size_t)cs->max_t * cs->mb * cs->P;
    cs->pf = malloc(nb * sizeof(int)), cs->pb = malloc(nb * sizeof(int));
    cs->pj = malloc((size_t)cs->mb * cs->P * sizeof(int));
    cs->stamp = malloc((size_t)(n_hap > 0 ? n_hap : 1) * sizeof(int));
    cs->sidx = malloc((size_t)(n_hap > 0 ? n_hap : 1) * sizeof(int));
    if (!cs->pf || !cs->pb || !cs->pj || !cs->stamp || !cs->sidx) {
        spin_cstates_destroy(cs);
        spin_error("out of memory for copy-state buffers (%d sites x %d targets x %d)", max_t, mb, P);
        return -1;
    }
    for (int h = 0; h < n_hap; h++) cs->stamp[h] = -1;
    return 0;
}

void spin_cstates_destroy(spin_cstates_t *cs)
{
    free(cs->pf), free(cs->pb), free(cs->pj), free(cs->stamp), free(cs->sidx);
    memset(cs, 0, sizeof(*cs));
}

void spin_cstates_range(spin_cstates_t *cs, const int *gl, int ng, int nt)
{
    int kmin = nt, kmax = -1;
    for (int g = 0; g < ng; g++) {
        int a = gl[g] < 0 ? 0 : gl[g], b = gl[g] + 1 >= nt ? nt - 1 : gl[g] + 1;
        kmin = a < kmin ? a : kmin, kmax = b > kmax ? b : kmax;
    }
    cs->nt = nt, cs->kmin = kmin, cs->kmax = kmax;
}

int spin_cstates_pbwt(spin_cstates_t *cs, const uint64_t *hap, int nw, const int *sites, int nt, const int *excl,
                      int n_excl, const int8_t *ta, size_t ld, int M)
{
    cs->M = M;
    if (cs->kmax < cs->kmin) return 0;
    if (M > cs->mb || cs->kmax - cs->kmin + 1 > cs->max_t) {
        spin_error("internal: copy-state block of %d targets x %d sites exceeds its buffers", M, cs->kmax - cs->kmin + 1);
        return -1;
    }
    spin_pbwt_opt_t po = {hap, nw, cs->n_hap, sites, nt, excl, n_excl, ta, ld, M, SPIN_PBWT_FORWARD, cs->P, 1};
    for (int dir = 0; dir < 2; dir++) {
        po.dir = dir ? SPIN_PBWT_BACKWARD : SPIN_PBWT_FORWARD;
        spin_pbwt_t *w = spin_pbwt_init(&po);
        if (!w) {
            spin_error("out of memory (or bad options) for a PBWT over %d sites", nt);
            return -1;
        }
        int *buf = dir ? cs->pb : cs->pf;
        /* sites come in the direction's order; rows outside [kmin, kmax] go to pj */
        for (int i = 0; i < nt; i++) {
            int k = dir ? nt - 1 - i : i;
            int *row = k >= cs->kmin && k <= cs->kmax ? buf + (size_t)(k - cs->kmin) * cs->mb * cs->P : cs->pj;
            if (spin_pbwt_next_site(w, row, NULL, NULL) != k) {
                spin_pbwt_destroy(w);
                spin_error("internal: PBWT site order");
                return -1;
            }
        }
        spin_pbwt_destroy(w);
    }
    return 0;
}

static inline const int *crow(const spin_cstates_t *cs, int side, int k, int m)
{
    return (side ? cs->pb : cs->pf) + ((size_t)(k - cs->kmin) * cs->mb + m) * cs->P;
}

int spin_cstates_pick(spin_cstates_t *cs, int m, const int *gl, int ng, int K, int *out, uint8_t *act)
{
    const int P = cs->P;
    int n = 0;
    if (cs->kmax < cs->kmin) return 0;
    if (cs->tag == INT32_MAX) { /* stamps wrap: start them again */
        for (int h = 0; h < cs->n_hap; h++) cs->stamp[h] = -1;
        cs->tag = 0;
    }
    const int tag = cs->tag++;
    for (int r = 0; r < P && n < K; r++)
        for (int g = 0; g < ng && n < K; g++)
            for (int side = 0; side < 2 && n < K; side++) {
                int k = gl[g] + side;
                if (k < cs->kmin || k > cs->kmax) continue;
                int hp = crow(cs, side, k, m)[r];
                if (hp < 0 || cs->stamp[hp] == tag) continue;
                cs->stamp[hp] = tag, cs->sidx[hp] = n, out[n++] = hp;
            }
    memset(act, 0, (size_t)n * ng);
    for (int g = 0; g < ng; g++)
        for (int side = 0; side < 2; side++) {
            int k = gl[g] + side;
            if (k < cs->kmin || k > cs->kmax) continue;
            const int *row = crow(cs, side, k, m);
            for (int r = 0; r < P; r++)
                if (row[r] >= 0 && cs->stamp[row[r]] == tag) act[(size_t)cs->sidx[row[r]] * ng + g] = 1;
        }
    return n;
}

int spin_cstates_gaps(const uint8_t *typed, const int *tok_site, int D, int *gl, int *usite)
{
    int ng = 0, typed_before = 0, iu = 0, prev_typed = 1;
    for (int d = 0; d < D; d++) {
        if (typed[d]) {
            typed_before++, prev_typed = 1;
            continue;
        }
        if (prev_typed) gl[ng++] = typed_before - 1, prev_typed = 0;
        if (usite) usite[iu] = tok_site[d];
        iu++;
    }
    return ng;
}
