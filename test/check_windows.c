/* check_windows.c -- window partition and typed-context choice. */
#include <check.h>

#include "check_util.h"
#include "spin.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* panel with n sites at pos 10, 20, 30, ... (only pos and n_site are used) */
static spin_panel_t *mk_panel(int n)
{
    spin_panel_t *p = calloc(1, sizeof(*p));
    p->n_site = n;
    p->pos = malloc((size_t)n * sizeof(int64_t));
    for (int i = 0; i < n; ++i) p->pos[i] = 10 * (int64_t)(i + 1);
    return p;
}

static spin_targets_t *mk_targets(const int *site, int n)
{
    spin_targets_t *t = calloc(1, sizeof(*t));
    t->n_typed = n;
    t->site = malloc((size_t)(n ? n : 1) * sizeof(int));
    if (n) memcpy(t->site, site, (size_t)n * sizeof(int));
    return t;
}

static void free_pt(spin_panel_t *p, spin_targets_t *t)
{
    free(p->pos), free(p);
    if (t) free(t->site), free(t);
}

START_TEST(test_hand_example)
{
    /* 10 sites, typed {2,5}: untyped {0,1,3,4,6,7,8,9}, U = 8, w = 3 ->
     * 3 windows of 3,3,2 */
    static const int ts[] = {2, 5};
    spin_panel_t *p = mk_panel(10);
    spin_targets_t *t = mk_targets(ts, 2);
    spin_window_t *w = NULL;
    int nw = -1, *store = NULL;
    ck_assert_int_eq(spin_windows_make(p, t, 3, 1, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 3);
    static const int u0[] = {0, 1, 3}, u1[] = {4, 6, 7}, u2[] = {8, 9};
    ck_assert_int_eq(w[0].n_untyped, 3);
    ck_assert_int_eq(w[1].n_untyped, 3);
    ck_assert_int_eq(w[2].n_untyped, 2);
    for (int i = 0; i < 3; ++i) ck_assert_int_eq(w[0].untyped[i], u0[i]);
    for (int i = 0; i < 3; ++i) ck_assert_int_eq(w[1].untyped[i], u1[i]);
    for (int i = 0; i < 2; ++i) ck_assert_int_eq(w[2].untyped[i], u2[i]);
    /* c = 1: window 0 holds typed 2 inside, plus typed 5 on the right */
    ck_assert_int_eq(w[0].t0, 0); ck_assert_int_eq(w[0].t1, 2);
    /* window 1 (4..7) holds typed 5 inside, typed 2 on the left, none right */
    ck_assert_int_eq(w[1].t0, 0); ck_assert_int_eq(w[1].t1, 2);
    /* window 2 (8..9): typed 5 on the left only */
    ck_assert_int_eq(w[2].t0, 1); ck_assert_int_eq(w[2].t1, 2);
    free(w), free(store);
    /* c = 0: only the typed sites inside the span */
    ck_assert_int_eq(spin_windows_make(p, t, 3, 0, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(w[0].t0, 0); ck_assert_int_eq(w[0].t1, 1);
    ck_assert_int_eq(w[1].t0, 1); ck_assert_int_eq(w[1].t1, 2);
    ck_assert_int_eq(w[2].t0, 2); ck_assert_int_eq(w[2].t1, 2);
    free(w), free(store);
    free_pt(p, t);
}
END_TEST

START_TEST(test_partition_large)
{
    /* 1000 sites, every 7th typed; w = 64, c = 3 */
    int nt = 0, ts[200];
    for (int s = 3; s < 1000; s += 7) ts[nt++] = s;
    spin_panel_t *p = mk_panel(1000);
    spin_targets_t *t = mk_targets(ts, nt);
    spin_window_t *w = NULL;
    int nw, *store = NULL;
    ck_assert_int_eq(spin_windows_make(p, t, 64, 3, 0, INT64_MAX, &w, &nw, &store), 0);
    int U = 1000 - nt; /* 143 typed -> 857 untyped */
    ck_assert_int_eq(U, 857);
    ck_assert_int_eq(nw, (U + 63) / 64); /* 14 */
    int seen[1000] = {0}, prev = -1, total = 0, mx = 0, mn = 1 << 30;
    for (int i = 0; i < nw; ++i) {
        ck_assert_int_eq(w[i].n_untyped, i < nw - 1 ? 64 : 857 - 13 * 64);
        mx = w[i].n_untyped > mx ? w[i].n_untyped : mx;
        mn = w[i].n_untyped < mn ? w[i].n_untyped : mn;
        for (int j = 0; j < w[i].n_untyped; ++j) {
            int s = w[i].untyped[j];
            ck_assert_int_gt(s, prev); /* ascending across windows */
            prev = s;
            ++seen[s];
            ++total;
        }
        /* context: typed sites inside the span plus exactly 3 on each side
         * (none at the ends are short here: first typed is site 3) */
        int first = w[i].untyped[0], last = w[i].untyped[w[i].n_untyped - 1];
        int inside = 0;
        for (int k = 0; k < nt; ++k) inside += ts[k] > first && ts[k] < last;
        int left = 0, right = 0;
        for (int k = w[i].t0; k < w[i].t1; ++k) left += ts[k] < first, right += ts[k] > last;
        ck_assert_int_eq(w[i].t1 - w[i].t0, inside + left + right);
        int avail_left = 0, avail_right = 0;
        for (int k = 0; k < nt; ++k) avail_left += ts[k] < first, avail_right += ts[k] > last;
        ck_assert_int_eq(left, avail_left < 3 ? avail_left : 3);
        ck_assert_int_eq(right, avail_right < 3 ? avail_right : 3);
    }
    ck_assert_int_eq(total, U);
    /* anchored: 857 = 13 * 64 + 25, and 25 >= 64/4 keeps its own window */
    ck_assert_int_eq(mx, 64);
    ck_assert_int_eq(mn, 25);
    for (int s = 0; s < 1000; ++s) ck_assert_int_eq(seen[s], (s % 7 == 3) ? 0 : 1);
    free(w), free(store);
    free_pt(p, t);
}
END_TEST

START_TEST(test_sizes)
{
    spin_panel_t *p = mk_panel(201);
    spin_window_t *w = NULL;
    int nw, *store = NULL;
    /* 201 sites, w = 100: the 1-site tail joins the last window: 100 + 101, not 100 + 100 + 1 */
    ck_assert_int_eq(spin_windows_make(p, NULL, 100, 2, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 2);
    ck_assert_int_eq(w[0].n_untyped, 100);
    ck_assert_int_eq(w[1].n_untyped, 101);
    free(w), free(store);
    /* a region starting at a window boundary of the whole partition and holding
     * whole windows is partitioned exactly as the whole run (chunking relies on it) */
    {
        spin_window_t *wa = NULL, *wb = NULL;
        int na, nb, *sa = NULL, *sb = NULL;
        ck_assert_int_eq(spin_windows_make(p, NULL, 30, 2, 0, INT64_MAX, &wa, &na, &sa), 0);
        int64_t from = p->pos[wa[2].untyped[0]], to = p->pos[wa[4].untyped[wa[4].n_untyped - 1]];
        ck_assert_int_eq(spin_windows_make(p, NULL, 30, 2, from, to, &wb, &nb, &sb), 0);
        ck_assert_int_eq(nb, 3);
        for (int i = 0; i < 3; ++i) {
            ck_assert_int_eq(wb[i].n_untyped, wa[i + 2].n_untyped);
            for (int j = 0; j < wb[i].n_untyped; ++j) ck_assert_int_eq(wb[i].untyped[j], wa[i + 2].untyped[j]);
        }
        free(wa), free(sa), free(wb), free(sb);
    }
    /* 200 sites in range [10, 2000]: two full windows */
    ck_assert_int_eq(spin_windows_make(p, NULL, 100, 2, 10, 2000, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 2);
    ck_assert_int_eq(w[0].n_untyped, 100);
    ck_assert_int_eq(w[1].n_untyped, 100);
    free(w), free(store);
    /* w = 1: one window per site */
    ck_assert_int_eq(spin_windows_make(p, NULL, 1, 0, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 201);
    ck_assert_int_eq(w[200].untyped[0], 200);
    free(w), free(store);
    /* bad arguments */
    ck_assert_int_lt(spin_windows_make(p, NULL, 0, 0, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_lt(spin_windows_make(p, NULL, 10, -1, 0, INT64_MAX, &w, &nw, &store), 0);
    free_pt(p, NULL);
}
END_TEST

START_TEST(test_no_typed)
{
    spin_panel_t *p = mk_panel(25);
    spin_targets_t *t = mk_targets(NULL, 0);
    spin_window_t *w = NULL;
    int nw, *store = NULL;
    ck_assert_int_eq(spin_windows_make(p, t, 10, 5, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 3); /* 25 -> 10, 10, 5 (5 >= 10/4 keeps its own window) */
    ck_assert_int_eq(w[0].n_untyped, 10);
    ck_assert_int_eq(w[2].n_untyped, 5);
    for (int i = 0; i < nw; ++i) {
        ck_assert_int_eq(w[i].t0, 0);
        ck_assert_int_eq(w[i].t1, 0);
    }
    free(w), free(store);
    free_pt(p, t);
}
END_TEST

START_TEST(test_all_typed)
{
    int ts[5] = {0, 1, 2, 3, 4};
    spin_panel_t *p = mk_panel(5);
    spin_targets_t *t = mk_targets(ts, 5);
    spin_window_t *w = (spin_window_t *)1;
    int nw = -1, *store = (int *)1;
    ck_assert_int_eq(spin_windows_make(p, t, 10, 5, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 0);
    ck_assert_ptr_null(w);
    ck_assert_ptr_null(store);
    free_pt(p, t);
}
END_TEST

START_TEST(test_region)
{
    /* pos 10..100 (sites 0..9), typed {5} (pos 60). Core [35, 75] holds sites
     * 3..6 (pos 40..70); untyped in core: {3, 4, 6}. Context reaches outside
     * the core (the buffer), here typed site 5 for both windows with c = 1. */
    int ts[3] = {1, 5, 8};
    spin_panel_t *p = mk_panel(10);
    spin_targets_t *t = mk_targets(ts, 3);
    spin_window_t *w = NULL;
    int nw, *store = NULL;
    ck_assert_int_eq(spin_windows_make(p, t, 2, 1, 35, 75, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 2);
    ck_assert_int_eq(w[0].n_untyped, 2);
    ck_assert_int_eq(w[0].untyped[0], 3); ck_assert_int_eq(w[0].untyped[1], 4);
    ck_assert_int_eq(w[1].n_untyped, 1);
    ck_assert_int_eq(w[1].untyped[0], 6);
    /* window 0 (3..4): left typed 1 (buffer), right typed 5 */
    ck_assert_int_eq(w[0].t0, 0); ck_assert_int_eq(w[0].t1, 2);
    /* window 1 (6): left typed 5, right typed 8 (buffer) */
    ck_assert_int_eq(w[1].t0, 1); ck_assert_int_eq(w[1].t1, 3);
    free(w), free(store);
    /* inclusive bounds: [40, 40] is site 3 alone */
    ck_assert_int_eq(spin_windows_make(p, t, 2, 1, 40, 40, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 1);
    ck_assert_int_eq(w[0].untyped[0], 3);
    free(w), free(store);
    /* empty core */
    ck_assert_int_eq(spin_windows_make(p, t, 2, 1, 41, 49, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 0);
    free_pt(p, t);
}
END_TEST


START_TEST(test_segments)
{
    /* 20 sites, typed {3, 4, 8, 12, 16}: intervals (untyped sites between typed)
     * {0,1,2} | (empty: 3-4) | {5,6,7} | {9,10,11} | {13,14,15} | {17,18,19};
     * 5 non-empty intervals, B = 2 -> segments {0..2, 5..7}, {9..11, 13..15}
     * and {17..19} (a remainder of 1 interval is not below B/4 rounded up). */
    int ts[5] = {3, 4, 8, 12, 16};
    spin_panel_t *p = mk_panel(20);
    spin_targets_t *t = mk_targets(ts, 5);
    spin_window_t *w = NULL;
    int nw, *store = NULL;
    ck_assert_int_eq(spin_windows_make_seg(p, t, 2, 1, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 3);
    ck_assert_int_eq(w[0].n_untyped, 6);
    ck_assert_int_eq(w[0].untyped[0], 0); ck_assert_int_eq(w[0].untyped[5], 7);
    /* typed inside the block: 3, 4 (indices 0, 1); context 1 on the right: 8 (2) */
    ck_assert_int_eq(w[0].t0, 0); ck_assert_int_eq(w[0].t1, 3);
    ck_assert_int_eq(w[1].n_untyped, 6);
    ck_assert_int_eq(w[1].untyped[0], 9);
    ck_assert_int_eq(w[1].t0, 2); ck_assert_int_eq(w[1].t1, 5); /* 8 | 12 | 16: c = 1 a side */
    ck_assert_int_eq(w[2].n_untyped, 3);
    ck_assert_int_eq(w[2].untyped[0], 17);
    ck_assert_int_eq(w[2].t0, 4); ck_assert_int_eq(w[2].t1, 5);
    free(w), free(store);
    /* a region starting right after segment 0's last untyped site (pos 80) and
     * ending at segment 1's last (pos 160) rebuilds segment 1 exactly */
    ck_assert_int_eq(spin_windows_make_seg(p, t, 2, 1, 81, 160, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 1);
    ck_assert_int_eq(w[0].n_untyped, 6);
    ck_assert_int_eq(w[0].untyped[0], 9); ck_assert_int_eq(w[0].untyped[5], 15);
    ck_assert_int_eq(w[0].t0, 2); ck_assert_int_eq(w[0].t1, 5);
    free(w), free(store);
    /* B = 8: one segment with everything */
    ck_assert_int_eq(spin_windows_make_seg(p, t, 8, 1, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 1);
    ck_assert_int_eq(w[0].n_untyped, 15);
    free(w), free(store);
    /* B = 4 over 5 intervals: a remainder of 1 is not below (4 + 3) / 4 = 1 -> 2;
     * B = 8: 4 full + 1 would join, but there is no full one -> 1 (above) */
    ck_assert_int_eq(spin_windows_make_seg(p, t, 4, 1, 0, INT64_MAX, &w, &nw, &store), 0);
    ck_assert_int_eq(nw, 2);
    free(w), free(store);
    ck_assert_int_lt(spin_windows_make_seg(p, t, 0, 1, 0, INT64_MAX, &w, &nw, &store), 0);
    free_pt(p, t);
}
END_TEST

START_TEST(test_segments_partition_random)
{
    /* every untyped site in exactly one segment, in order, and regions cut at
     * segment boundaries reproduce the whole run's segments */
    uint64_t x = 12345;
    for (int rep = 0; rep < 20; ++rep) {
        int n = 200 + rep * 37, nt = 0;
        spin_panel_t *p = mk_panel(n);
        int *ts = malloc((size_t)n * sizeof(int));
        for (int i = 0; i < n; ++i) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            if ((x >> 33) % 7 == 0) ts[nt++] = i;
        }
        spin_targets_t *t = mk_targets(ts, nt);
        int B = 1 + rep % 5;
        spin_window_t *w = NULL;
        int nw, *store = NULL;
        ck_assert_int_eq(spin_windows_make_seg(p, t, B, 2, 0, INT64_MAX, &w, &nw, &store), 0);
        int prev = -1, tot = 0;
        for (int i = 0; i < nw; ++i)
            for (int j = 0; j < w[i].n_untyped; ++j) {
                ck_assert_int_gt(w[i].untyped[j], prev);
                prev = w[i].untyped[j], ++tot;
            }
        ck_assert_int_eq(tot, n - nt);
        for (int i = 1; i + 1 < nw; ++i) {
            int64_t from = p->pos[w[i - 1].untyped[w[i - 1].n_untyped - 1]] + 1;
            int64_t to = p->pos[w[i].untyped[w[i].n_untyped - 1]];
            spin_window_t *r = NULL;
            int nr, *rs = NULL;
            ck_assert_int_eq(spin_windows_make_seg(p, t, B, 2, from, to, &r, &nr, &rs), 0);
            ck_assert_int_eq(nr, 1);
            ck_assert_int_eq(r[0].n_untyped, w[i].n_untyped);
            ck_assert_int_eq(memcmp(r[0].untyped, w[i].untyped, (size_t)w[i].n_untyped * sizeof(int)), 0);
            ck_assert_int_eq(r[0].t0, w[i].t0);
            ck_assert_int_eq(r[0].t1, w[i].t1);
            free(r), free(rs);
        }
        free(w), free(store), free(ts);
        free_pt(p, t);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("windows");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hand_example);
    tcase_add_test(tc, test_partition_large);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_no_typed);
    tcase_add_test(tc, test_all_typed);
    tcase_add_test(tc, test_region);
    tcase_add_test(tc, test_segments);
    tcase_add_test(tc, test_segments_partition_random);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
