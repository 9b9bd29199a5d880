/* check_copymix.c -- the deferred mix (spin_copy_apply_gap) reading carrier
 * lists gives the same floats, bit for bit, as reading the panel bits.
 *
 * Random panels with rare and common sites and random weighted states per gap;
 * sites with 0, 1, 2 and more carriers among the states (the last need the
 * entry-order sort), carrier lists longer than the states (the bits path) and
 * sites without a list (cn < 0). jmap must come back all zero. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "copypath.h"

static uint64_t rs = 7;
static uint64_t rnd(void) { return spin_check_splitmix(&rs); }
static float unif(void) { return (float)(rnd() >> 40) / (float)(1 << 24); }

START_TEST(test_carriers_same_sum)
{
    enum { N = 300, NW = (N + 63) / 64, NS = 60, NG = 4, CAP = 64 };
    uint64_t *bits = calloc((size_t)NS * NW, sizeof(uint64_t));
    int usite[NS], g0[NG + 1], cofs[NS], cn[NS], *car = malloc((size_t)NS * N * sizeof(int));
    int *jmap = calloc(N, sizeof(int)), jbuf[CAP];
    float lg[NS], out0[NS], out1[NS];
    ck_assert(bits && car && jmap);
    int n_sorted = 0;
    for (int rep = 0; rep < 50; rep++) {
        memset(bits, 0, (size_t)NS * NW * sizeof(uint64_t));
        /* site u: ALT frequency from rare to common */
        for (int u = 0; u < NS; u++) {
            float f = u % 4 == 0 ? 0.5f : u % 4 == 1 ? 0.05f : u % 4 == 2 ? 0.01f : 0.003f;
            for (int h = 0; h < N; h++)
                if (unif() < f) bits[(size_t)u * NW + h / 64] |= 1ULL << (h % 64);
            usite[u] = u;
            lg[u] = 4 * unif() - 2;
        }
        size_t n = 0;
        for (int u = 0; u < NS; u++) {
            int c = 0;
            for (int h = 0; h < N; h++) c += (int)((bits[(size_t)u * NW + h / 64] >> (h % 64)) & 1);
            if (c > 64 || u % 7 == 3) { cn[u] = -1, cofs[u] = 0; continue; }
            cofs[u] = (int)n, cn[u] = c;
            for (int h = 0; h < N; h++)
                if ((bits[(size_t)u * NW + h / 64] >> (h % 64)) & 1) car[n++] = h;
        }
        for (int g = 0; g <= NG; g++) g0[g] = g * NS / NG;
        /* per gap: distinct states (more of them in later gaps), weights summing to <= 1;
         * some states are forced onto carriers of the gap's rarer sites */
        spin_copy_wts_t wt;
        int gofs[NG + 1], wd[NG * CAP], bt[NG * CAP];
        float wa[NG * CAP];
        wt.cap = NG * CAP, wt.ng = NG, wt.gofs = gofs, wt.wd = wd, wt.bt = bt, wt.wa = wa;
        int e = 0;
        for (int g = 0; g < NG; g++) {
            gofs[g] = e;
            /* the gap's site with the most listed carriers up to 20: up to 6 of them
             * become states, so its sum has several terms and needs the sort */
            int us = -1;
            for (int u = g0[g]; u < g0[g + 1]; u++)
                if (cn[u] >= 3 && cn[u] <= 20 && (us < 0 || cn[u] > cn[us])) us = u;
            int k = 24 + (int)(rnd() % 16);
            uint8_t used[N] = {0};
            for (int i = 0; i < k; i++) {
                int h = i < 6 && us >= 0 ? car[cofs[us] + (int)(rnd() % (uint64_t)cn[us])] : (int)(rnd() % N);
                if (used[h]) continue;
                used[h] = 1;
                wd[e] = h >> 6, bt[e] = h & 63, wa[e] = unif() / (float)k;
                e++;
            }
            /* count the sites whose sum takes the sorted carrier path */
            int ne = e - gofs[g];
            for (int u = g0[g]; u < g0[g + 1]; u++) {
                if (cn[u] < 0 || cn[u] >= ne) continue;
                int m = 0;
                for (int i = gofs[g]; i < e; i++) m += (int)((bits[(size_t)u * NW + wd[i]] >> bt[i]) & 1);
                n_sorted += m > 2;
            }
        }
        gofs[NG] = e;
        spin_copy_carriers_t cr = {cofs, cn, car, jmap, jbuf};
        for (int g = 0; g < NG; g++) {
            spin_copy_apply_gap(&wt, g, g0, bits, NW, usite, NULL, lg, 1.3f, -0.2f, out0, 1);
            spin_copy_apply_gap(&wt, g, g0, bits, NW, usite, &cr, lg, 1.3f, -0.2f, out1, 1);
        }
        ck_assert(memcmp(out0, out1, sizeof out0) == 0);
        for (int h = 0; h < N; h++) ck_assert_int_eq(jmap[h], 0);
    }
    ck_assert_int_gt(n_sorted, 20); /* the sort was exercised */
    free(bits), free(car), free(jmap);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("copymix");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_carriers_same_sum);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
