/* check_engine.c -- neighbour selection against a brute-force reference, and the
 * engine on test-data: identical for 1 and 2 threads, better than allele
 * frequencies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "model.h"
#include "neighbors.h"
#include "vcfin.h"

static spin_panel_t *rand_panel_f(int n_site, int n_hap, int n_found, uint64_t seed)
{
    spin_panel_t *p = calloc(1, sizeof(*p));
    p->n_site = n_site, p->n_hap = n_hap, p->nw = (n_hap + 63) / 64;
    p->hap = calloc((size_t)n_site * p->nw, sizeof(uint64_t));
    uint64_t s = seed;
    /* n_found founder haplotypes with 5% noise: long shared runs and, with few
     * founders, many ties */
    for (int i = 0; i < n_site; i++)
        for (int j = 0; j < n_hap; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            int f = j % n_found;
            int a = n_found <= 6 ? ((f * 7 + i * 3) % 5 < 2) : (int)((((uint64_t)f * 2654435761u + (uint64_t)i * 40503u) >> 7) % 3 == 0);
            if ((s >> 33) % 100 < 5) a ^= 1;
            if (a) p->hap[(size_t)i * p->nw + j / 64] |= 1ULL << (j % 64);
        }
    return p;
}

static spin_panel_t *rand_panel(int n_site, int n_hap, uint64_t seed) { return rand_panel_f(n_site, n_hap, 6, seed); }

/* brute force: score_j = left run + right run from ic, missing target allele matches */
static int brute(const spin_panel_t *p, int n, const int *sites, const int8_t *ta, int ic, const int *excl,
                 int n_excl, int K, int *out, int *sc)
{
    int *score = malloc(sizeof(int) * p->n_hap), n_el = 0;
    for (int j = 0; j < p->n_hap; j++) {
        int ex = 0;
        for (int e = 0; e < n_excl; e++) ex |= excl[e] == j;
        if (ex) {
            score[j] = -1;
            continue;
        }
        int l = 0, r = 0;
        for (int k = ic - 1; k >= 0 && (ta[k] < 0 || ta[k] == spin_panel_allele(p, sites[k], j)); k--) l++;
        for (int k = ic; k < n && (ta[k] < 0 || ta[k] == spin_panel_allele(p, sites[k], j)); k++) r++;
        score[j] = l + r, n_el++;
    }
    if (K > n_el) K = n_el;
    for (int i = 0; i < K; i++) { /* selection: highest score, lowest index */
        int b = -1;
        for (int j = 0; j < p->n_hap; j++)
            if (score[j] >= 0 && (b < 0 || score[j] > score[b])) b = j;
        out[i] = b, sc[i] = score[b], score[b] = -1;
    }
    free(score);
    return K;
}

START_TEST(test_neighbours_brute)
{
    for (int trial = 0; trial < 40; trial++) {
        int n_hap = 50 + trial * 7, n = 5 + trial % 17;
        spin_panel_t *p = rand_panel(60, n_hap, 1000 + trial);
        int sites[64];
        int8_t ta[64];
        uint64_t s = 77 + trial;
        for (int k = 0; k < n; k++) {
            sites[k] = 2 * k + trial % 3;
            s = s * 6364136223846793005ULL + 1;
            ta[k] = (s >> 40) % 10 == 0 ? -1 : (int8_t)spin_panel_allele(p, sites[k], (int)((s >> 20) % n_hap));
        }
        int ic = trial % (n + 1), K = 1 + trial % 20;
        int excl[3] = {1, 2, n_hap - 1}, n_excl = trial % 4;
        spin_nbr_ws_t *ws = spin_nbr_ws_init(n_hap);
        int *out = malloc(sizeof(int) * n_hap), *sc = malloc(sizeof(int) * n_hap);
        int *bout = malloc(sizeof(int) * n_hap), *bsc = malloc(sizeof(int) * n_hap);
        int got = spin_nbr_select(ws, p, n, sites, ta, ic, excl, n_excl, K, out, sc);
        int want = brute(p, n, sites, ta, ic, excl, n_excl, K, bout, bsc);
        ck_assert_int_eq(got, want);
        for (int i = 0; i < got; i++) {
            ck_assert_int_eq(sc[i], bsc[i]);
            ck_assert_msg(out[i] == bout[i], "trial %d: neighbour %d is %d, want %d", trial, i, out[i], bout[i]);
        }
        /* a persistent exclusion is honoured, and per-call exclusions do not stick */
        int ex0 = out[0];
        spin_nbr_ws_exclude(ws, &ex0, 1);
        got = spin_nbr_select(ws, p, n, sites, ta, ic, NULL, 0, K, out, sc);
        for (int i = 0; i < got; i++) ck_assert_int_ne(out[i], ex0);
        if (n_excl) {
            int seen = 0;
            got = spin_nbr_select(ws, p, n, sites, ta, ic, NULL, 0, n_hap, out, sc);
            for (int i = 0; i < got; i++) seen |= out[i] == excl[0];
            ck_assert(seen); /* hap 1 is eligible again */
        }
        spin_nbr_ws_destroy(ws);
        free(out), free(sc), free(bout), free(bsc);
        free(p->hap), free(p);
    }
}
END_TEST

/* Larger panels with many founders, so matches decay and the pruned search (few
 * candidates, bound beaten) answers; ties among copies of a founder remain. */
START_TEST(test_neighbours_brute_large)
{
    for (int trial = 0; trial < 24; trial++) {
        int n_hap = 1000 + trial * 157, n = 20 + trial % 41, n_found = 150 + 40 * (trial % 5);
        spin_panel_t *p = rand_panel_f(130, n_hap, n_found, 5000 + trial);
        int sites[64];
        int8_t ta[64];
        uint64_t s = 91 + trial;
        int src = (int)((s * 2654435761u) % (uint64_t)n_hap);
        for (int k = 0; k < n; k++) {
            sites[k] = 2 * k + trial % 3;
            s = s * 6364136223846793005ULL + 1;
            if ((s >> 40) % 9 == 0) src = (int)((s >> 20) % n_hap); /* a recombination */
            ta[k] = (s >> 33) % 25 == 0 ? -1 : (int8_t)spin_panel_allele(p, sites[k], src);
        }
        int ic = 1 + trial % (n - 1), K = trial % 2 ? 48 : 8;
        int excl[2] = {src, src ^ 1};
        spin_nbr_ws_t *ws = spin_nbr_ws_init(n_hap);
        int out[64], sc[64], bout[64], bsc[64];
        int got = spin_nbr_select(ws, p, n, sites, ta, ic, excl, 2, K, out, sc);
        int want = brute(p, n, sites, ta, ic, excl, 2, K, bout, bsc);
        ck_assert_int_eq(got, want);
        for (int i = 0; i < got; i++) {
            ck_assert_msg(sc[i] == bsc[i] && out[i] == bout[i], "trial %d: neighbour %d is %d (score %d), want %d (%d)",
                          trial, i, out[i], sc[i], bout[i], bsc[i]);
        }
        spin_nbr_ws_destroy(ws);
        free(p->hap), free(p);
    }
}
END_TEST

/* imputes test-data with the committed test model at 1 and 2 threads */
static float *impute_all(const char *top, int nth, spin_panel_t **pp, spin_targets_t **tt, spin_window_t **ww, int *nw,
                         int **st)
{
    char fn[1024];
    snprintf(fn, sizeof(fn), "%s/test-data/test.spin", top);
    spin_model_t *m = spin_model_load(fn);
    ck_assert_ptr_nonnull(m);
    snprintf(fn, sizeof(fn), "%s/test-data/ref.bcf", top);
    spin_panel_t *p = spin_panel_read(fn, NULL, 1);
    snprintf(fn, sizeof(fn), "%s/test-data/target.vcf.gz", top);
    spin_targets_t *t = spin_targets_read(fn, p, NULL, 1, SPIN_MIN_MATCH_FRAC);
    ck_assert_ptr_nonnull(t);
    spin_window_t *win;
    int n_win, *store;
    ck_assert_int_eq(spin_windows_make_cfg(p, t, &m->cfg, 0, INT64_MAX, &win, &n_win, &store), 0);
    size_t tot = 0;
    for (int i = 0; i < n_win; i++) tot += (size_t)win[i].n_untyped * t->n_hap;
    float *all = malloc(tot * sizeof(float)), **pa = malloc(sizeof(float *) * n_win);
    for (int i = 0, off = 0; i < n_win; off += win[i].n_untyped * t->n_hap, i++) pa[i] = all + off;
    spin_engine_t *e = spin_engine_init(m, nth);
    ck_assert_int_eq(spin_engine_impute(e, p, t, win, n_win, pa), 0);
    spin_engine_destroy(e);
    spin_model_destroy(m);
    free(pa);
    if (pp) *pp = p, *tt = t, *ww = win, *nw = n_win, *st = store; /* win[].untyped points into store */
    else spin_panel_destroy(p), spin_targets_destroy(t), free(win), free(store);
    return all;
}

START_TEST(test_engine_threads_and_accuracy)
{
    const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
    spin_panel_t *p;
    spin_targets_t *t;
    spin_window_t *win;
    int n_win, *store;
    float *a = impute_all(top, 1, &p, &t, &win, &n_win, &store);
    float *b = impute_all(top, 2, NULL, NULL, NULL, NULL, NULL);
    size_t tot = 0;
    for (int i = 0; i < n_win; i++) tot += (size_t)win[i].n_untyped * t->n_hap;
    ck_assert_int_eq(memcmp(a, b, tot * sizeof(float)), 0);
    /* haplotype-level squared error vs a panel-frequency guess, on the truth */
    char fn[1024];
    snprintf(fn, sizeof(fn), "%s/test-data/truth.vcf.gz", top);
    spin_targets_t *truth = spin_targets_read(fn, p, NULL, 1, 0.0);
    ck_assert_ptr_nonnull(truth);
    ck_assert_int_eq(truth->n_typed, p->n_site); /* every site typed in the truth */
    double se_model = 0, se_af = 0;
    size_t off = 0;
    for (int i = 0; i < n_win; i++)
        for (int j = 0; j < win[i].n_untyped; j++) {
            int s = win[i].untyped[j];
            for (int h = 0; h < t->n_hap; h++) {
                double y = truth->allele[(size_t)s * t->n_hap + h];
                double pm = a[off + (size_t)j * t->n_hap + h];
                se_model += (pm - y) * (pm - y), se_af += (p->af[s] - y) * (p->af[s] - y);
            }
            if (j == win[i].n_untyped - 1) off += (size_t)win[i].n_untyped * t->n_hap;
        }
    ck_assert_msg(se_model < 0.5 * se_af, "model squared error %g not below half of the frequency guess %g", se_model, se_af);
    spin_targets_destroy(truth);
    spin_targets_destroy(t);
    spin_panel_destroy(p);
    free(win), free(store), free(a), free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_neighbours_brute);
    tcase_add_test(tc, test_neighbours_brute_large);
    tcase_add_test(tc, test_engine_threads_and_accuracy);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
