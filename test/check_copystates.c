/* check_copystates.c -- segment copy states (copystates.h) on random panels.
 *
 * For every target: states are distinct panel haplotypes, at most K; each gap's
 * candidates are exactly the PBWT's P longest matches at its bounding typed
 * sites (checked against a second PBWT pass read directly), the state set holds
 * every gap's rank-0 candidates (the rank-by-rank fill reaches them first), and
 * a state is active in a gap iff it is one of that gap's candidates; gap
 * bookkeeping (spin_cstates_gaps) against a hand example. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "copystates.h"
#include "pbwt.h"

static uint64_t rs = 99;
static uint64_t rnd(void) { return spin_check_splitmix(&rs); }

START_TEST(test_gaps)
{
    /* tokens: T U U T T U T U -> gaps {1,2} after typed 0, {5} after typed 2, {7} after 3 */
    const uint8_t typed[8] = {1, 0, 0, 1, 1, 0, 1, 0};
    const int site[8] = {10, 11, 12, 13, 14, 15, 16, 17};
    int gl[8], us[8];
    int ng = spin_cstates_gaps(typed, site, 8, gl, us);
    ck_assert_int_eq(ng, 3);
    ck_assert_int_eq(gl[0], 0);
    ck_assert_int_eq(gl[1], 2);
    ck_assert_int_eq(gl[2], 3);
    ck_assert_int_eq(us[0], 11); ck_assert_int_eq(us[2], 15); ck_assert_int_eq(us[3], 17);
    const uint8_t t2[3] = {0, 1, 0}; /* a gap before the first typed site: gl = -1 */
    ng = spin_cstates_gaps(t2, site, 3, gl, NULL);
    ck_assert_int_eq(ng, 2);
    ck_assert_int_eq(gl[0], -1); ck_assert_int_eq(gl[1], 0);
}
END_TEST

START_TEST(test_states_random)
{
    for (int rep = 0; rep < 12; rep++) {
        int N = 40 + (int)(rnd() % 300), nw = (N + 63) / 64, n = 6 + (int)(rnd() % 40), M = 1 + (int)(rnd() % 30);
        int P = 1 + (int)(rnd() % 6), K = 1 + (int)(rnd() % 40);
        uint64_t *hap = calloc((size_t)n * nw, sizeof(uint64_t));
        int *sites = malloc((size_t)n * sizeof(int));
        int8_t *ta = malloc((size_t)n * M);
        for (int s = 0; s < n; s++) {
            sites[s] = s;
            int f = 1 + (int)(rnd() % 4); /* allele frequency 1/5 .. 4/5 */
            for (int h = 0; h < N; h++)
                if ((int)(rnd() % 5) < f) hap[(size_t)s * nw + h / 64] |= 1ULL << (h % 64);
            for (int m = 0; m < M; m++) {
                /* targets copy a random haplotype with a few errors and missing sites */
                int src = (int)((m * 7919u + (unsigned)s / 5) % (unsigned)N);
                int a = (int)((hap[(size_t)s * nw + src / 64] >> (src % 64)) & 1);
                uint64_t r = rnd() % 20;
                ta[(size_t)s * M + m] = r == 0 ? (int8_t)-1 : r == 1 ? (int8_t)(1 - a) : (int8_t)a;
            }
        }
        /* gaps between every pair of list sites and one before the first and after the last */
        int ng = n + 1, *gl = malloc((size_t)ng * sizeof(int));
        for (int g = 0; g < ng; g++) gl[g] = g - 1;
        spin_cstates_t cs;
        ck_assert_int_eq(spin_cstates_init(&cs, P, M, n, N), 0);
        spin_cstates_range(&cs, gl, ng, n);
        ck_assert_int_eq(cs.kmin, 0); ck_assert_int_eq(cs.kmax, n - 1);
        ck_assert_int_eq(spin_cstates_pbwt(&cs, hap, nw, sites, n, NULL, 0, ta, (size_t)M, M), 0);
        /* reference rows straight from the PBWT */
        int *rf = malloc((size_t)n * M * P * sizeof(int)), *rb = malloc((size_t)n * M * P * sizeof(int));
        for (int dir = 0; dir < 2; dir++) {
            spin_pbwt_opt_t po = {hap, nw, N, sites, n, NULL, 0, ta, (size_t)M, M, dir ? SPIN_PBWT_BACKWARD : SPIN_PBWT_FORWARD, P, 1};
            spin_pbwt_t *w = spin_pbwt_init(&po);
            ck_assert_ptr_nonnull(w);
            int k, *buf = malloc((size_t)M * P * sizeof(int));
            while ((k = spin_pbwt_next_site(w, buf, NULL, NULL)) >= 0)
                memcpy((dir ? rb : rf) + (size_t)k * M * P, buf, (size_t)M * P * sizeof(int));
            free(buf);
            spin_pbwt_destroy(w);
        }
        int *st = malloc((size_t)K * sizeof(int));
        uint8_t *act = malloc((size_t)K * ng);
        for (int m = 0; m < M; m++) {
            int S = spin_cstates_pick(&cs, m, gl, ng, K, st, act);
            ck_assert_int_ge(S, 1);
            ck_assert_int_le(S, K);
            for (int i = 0; i < S; i++) {
                ck_assert_int_ge(st[i], 0); ck_assert_int_lt(st[i], N);
                for (int j = 0; j < i; j++) ck_assert_int_ne(st[i], st[j]);
            }
            for (int g = 0; g < ng; g++) {
                int cand[64], nc = 0;
                if (gl[g] >= 0)
                    for (int r = 0; r < P; r++) cand[nc++] = rf[((size_t)gl[g] * M + m) * P + r];
                if (gl[g] + 1 < n)
                    for (int r = 0; r < P; r++) cand[nc++] = rb[((size_t)(gl[g] + 1) * M + m) * P + r];
                for (int i = 0; i < S; i++) {
                    int is = 0;
                    for (int c = 0; c < nc; c++) is |= cand[c] == st[i];
                    ck_assert_int_eq(act[(size_t)i * ng + g], is);
                }
                /* with room for every gap's two best (2 x ng <= K), rank 0 is always in */
                if (2 * ng <= K)
                    for (int c = 0; c < nc; c += P) {
                        int in = 0;
                        for (int i = 0; i < S; i++) in |= st[i] == cand[c];
                        ck_assert_msg(cand[c] < 0 || in, "gap %d's best candidate %d is not a state", g, cand[c]);
                    }
            }
        }
        spin_cstates_destroy(&cs);
        free(hap), free(sites), free(ta), free(gl), free(rf), free(rb), free(st), free(act);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("copystates");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_gaps);
    tcase_add_test(tc, test_states_random);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
