/* check_pbwt.c -- the PBWT match index against a brute force on random panels.
 *
 * At every (target, site): the returned lengths are exactly the P largest true
 * match lengths (as a multiset; the brute force keeps every haplotype's run),
 * each returned haplotype's reported length is its true length, returned
 * haplotypes are eligible and distinct, missing alleles follow the documented
 * fill rule and every returned haplotype agrees with the target on each
 * non-missing site of its reported match; results do not depend on threads. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "pbwt.h"

/* Check writes a record for every passing ck_assert (millions here): the hot
 * loops only call into Check on failure. */
#define REQUIRE(cond, ...)                                                                                             \
    do {                                                                                                               \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);                                                                        \
    } while (0)

static uint64_t rng_state;
static uint64_t rnd(void) { return spin_check_splitmix(&rng_state); }
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

typedef struct {
    int n_hap, nw, n_psite; /* panel sites */
    uint64_t *hap;
    int n, *sites; /* site list */
    int M;
    int8_t *ta; /* [n * M] */
    int n_excl, *excl;
} case_t;

static int allele(const case_t *c, int s, int h) { return (int)((c->hap[(size_t)s * c->nw + (h >> 6)] >> (h & 63)) & 1); }

/* Panel: mosaics of nf founders (switch prob sw per site, mutation mu), so there are
 * long shared runs and, with mu = 0, identical haplotypes; the last n_dup
 * haplotypes are exact copies of earlier ones. Targets: mosaics of panel
 * haplotypes with mutation mu_t and missing rate miss. */
static void make_case(case_t *c, uint64_t seed, int n_hap, int n_psite, int nf, double sw, double mu, int n_dup,
                      int M, double mu_t, double miss, double excl_frac)
{
    rng_state = seed;
    memset(c, 0, sizeof(*c));
    c->n_hap = n_hap, c->nw = (n_hap + 63) / 64 + 1 /* a spare word: nw > needed is allowed */, c->n_psite = n_psite;
    c->hap = calloc((size_t)n_psite * c->nw + 1, sizeof(uint64_t));
    int8_t *fo = malloc((size_t)nf * n_psite);
    for (int s = 0; s < n_psite; s++) {
        double af = 0.05 + 0.9 * unif();
        for (int f = 0; f < nf; f++) fo[(size_t)f * n_psite + s] = unif() < af;
    }
    for (int h = 0; h < n_hap; h++) {
        int src = h >= n_hap - n_dup && h > 0 ? (int)(rnd() % (uint64_t)(n_hap - n_dup > 0 ? n_hap - n_dup : 1)) : -1;
        int f = (int)(rnd() % (uint64_t)nf);
        for (int s = 0; s < n_psite; s++) {
            int b;
            if (src >= 0) b = allele(c, s, src);
            else {
                if (unif() < sw) f = (int)(rnd() % (uint64_t)nf);
                b = fo[(size_t)f * n_psite + s] ^ (unif() < mu);
            }
            if (b) c->hap[(size_t)s * c->nw + (h >> 6)] |= 1ULL << (h & 63);
        }
    }
    free(fo);
    c->sites = malloc((size_t)n_psite * sizeof(int));
    for (int s = 0; s < n_psite; s++)
        if (unif() < 0.7) c->sites[c->n++] = s;
    c->M = M;
    c->ta = malloc((size_t)c->n * M + 1);
    for (int m = 0; m < M; m++) {
        int src = n_hap ? (int)(rnd() % (uint64_t)n_hap) : 0;
        for (int k = 0; k < c->n; k++) {
            if (n_hap && unif() < 0.05) src = (int)(rnd() % (uint64_t)n_hap);
            int b = n_hap ? allele(c, c->sites[k], src) : (int)(rnd() & 1);
            b ^= unif() < mu_t;
            c->ta[(size_t)k * M + m] = unif() < miss ? -1 : (int8_t)b;
        }
    }
    c->excl = malloc(((size_t)n_hap * 2 + 1) * sizeof(int));
    for (int h = 0; h < n_hap; h++)
        if (unif() < excl_frac) {
            c->excl[c->n_excl++] = h;
            if (unif() < 0.3) c->excl[c->n_excl++] = h; /* duplicates are allowed */
        }
}

static void free_case(case_t *c) { free(c->hap), free(c->sites), free(c->ta), free(c->excl); }

static int cmp_desc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);
}

/* Brute-force PBWT order after steps 0..ostep: a haplotype's key is its alleles
 * at steps ostep, ostep - 1, ..., 0 (sites ostep_site[]), then its index. */
static const case_t *oc;
static const int *ostep_site;
static int ostep;
static int cmp_order(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    for (int st = ostep; st >= 0; st--) {
        int ax = allele(oc, ostep_site[st], x), ay = allele(oc, ostep_site[st], y);
        if (ax != ay) return ax - ay;
    }
    return (x > y) - (x < y);
}
/* candidates for the documented tie rule: longer first, then above the target
 * before below, then nearer the target in PBWT order */
typedef struct {
    int len, side, dist, hap;
} cand_t;
static int cmp_cand(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->len != y->len) return y->len - x->len;
    if (x->side != y->side) return x->side - y->side;
    return x->dist - y->dist;
}

/* Runs the index over the case and checks every site against the brute force.
 * Returns the concatenated outputs (hap, len, fill per site) for determinism checks. */
static int *run_check(const case_t *c, int dir, int P, int n_threads, size_t *n_out)
{
    spin_pbwt_opt_t o = {.hap = c->hap, .nw = c->nw, .n_hap = c->n_hap, .sites = c->sites, .n_site = c->n,
                         .excl = c->excl, .n_excl = c->n_excl, .ta = c->ta, .ld = (size_t)c->M, .n_tgt = c->M,
                         .dir = dir, .P = P, .n_threads = n_threads};
    spin_pbwt_t *w = spin_pbwt_init(&o);
    ck_assert_ptr_nonnull(w);
    const int N = c->n_hap, M = c->M;
    char *elig = malloc((size_t)N + 1);
    memset(elig, 1, (size_t)N + 1);
    for (int i = 0; i < c->n_excl; i++) elig[c->excl[i]] = 0;
    int n_el = 0, first_el = -1;
    for (int h = 0; h < N; h++)
        if (elig[h]) n_el++, first_el = first_el < 0 ? h : first_el;
    ck_assert_int_eq(spin_pbwt_n_eligible(w), n_el);
    const int want = P < n_el ? P : n_el;
    int *run = calloc((size_t)M * N + 1, sizeof(int)); /* brute force: match length of (target, hap) */
    int *hap = malloc((size_t)M * P * sizeof(int)), *len = malloc((size_t)M * P * sizeof(int));
    int8_t *fill = malloc((size_t)M + 1);
    int *srt = malloc(((size_t)N + 1) * sizeof(int)), *seen = calloc((size_t)N + 1, sizeof(int));
    size_t per = (size_t)M * (2 * P + 1);
    int *out = malloc(per * (size_t)c->n * sizeof(int) + 1);
    int stamp = 0;
    int *ord = malloc(((size_t)N + 1) * sizeof(int)), *ssite = malloc(((size_t)c->n + 1) * sizeof(int));
    int8_t *fh = malloc((size_t)c->n * M + 1); /* filled alleles per step */
    cand_t *cd = malloc(((size_t)N + 1) * sizeof(cand_t));
    for (int h = 0, r = 0; h < N; h++)
        if (elig[h]) ord[r++] = h;
    oc = c, ostep_site = ssite;
    for (int i = 0; i < c->n; i++) {
        int k = spin_pbwt_next_site(w, hap, len, fill);
        REQUIRE(k == (dir > 0 ? i : c->n - 1 - i), "step %d: site %d", i, k);
        int s = c->sites[k];
        ssite[i] = s, ostep = i;
        qsort(ord, (size_t)n_el, sizeof(int), cmp_order);
        for (int m = 0; m < M; m++) {
            int *rm = run + (size_t)m * N, ta = c->ta[(size_t)k * M + m], x = fill[m];
            REQUIRE(x == 0 || x == 1, "site %d target %d: allele %d", k, m, x);
            if (ta >= 0) REQUIRE(x == ta, "site %d target %d: allele %d changed to %d", k, m, ta, x);
            else if (n_el == 0) REQUIRE(x == 0, "site %d target %d: fill %d with no panel", k, m, x);
            else if (i == 0) /* the first haplotype in PBWT order */
                REQUIRE(x == allele(c, s, first_el), "site %d target %d: first-site fill %d", k, m, x);
            else {
                /* the fill continues a longest current match */
                int best = -1, ok = 0;
                for (int h = 0; h < N; h++)
                    if (elig[h] && rm[h] > best) best = rm[h];
                for (int h = 0; h < N && !ok; h++) ok = elig[h] && rm[h] == best && allele(c, s, h) == x;
                REQUIRE(ok, "site %d target %d: filled allele %d continues no longest match", k, m, x);
            }
            int ns = 0;
            for (int h = 0; h < N; h++) {
                rm[h] = allele(c, s, h) == x ? rm[h] + 1 : 0;
                if (elig[h]) srt[ns++] = rm[h];
            }
            qsort(srt, (size_t)ns, sizeof(int), cmp_desc);
            const int *oh = hap + (size_t)m * P, *ol = len + (size_t)m * P;
            /* the exact tie rule: the target sorts before equal keys (index -1) */
            fh[(size_t)i * M + m] = (int8_t)x;
            int gap = 0;
            for (; gap < n_el; gap++) {
                int h = ord[gap], st = i, less = 1;
                for (; st >= 0; st--) {
                    int xt = fh[(size_t)st * M + m], ah = allele(c, ssite[st], h);
                    if (xt != ah) break;
                }
                if (st >= 0) less = fh[(size_t)st * M + m] < allele(c, ssite[st], h);
                if (less) break;
            }
            for (int r = 0; r < n_el; r++)
                cd[r] = (cand_t){.len = rm[ord[r]], .side = r >= gap, .dist = r < gap ? gap - 1 - r : r - gap,
                                 .hap = ord[r]};
            qsort(cd, (size_t)n_el, sizeof(cand_t), cmp_cand);
            for (int j = 0; j < want; j++)
                REQUIRE(oh[j] == cd[j].hap, "site %d target %d rank %d: haplotype %d, tie rule says %d", k, m,
                              j, oh[j], cd[j].hap);
            stamp++;
            for (int j = 0; j < P; j++) {
                if (j >= want) {
                    REQUIRE(oh[j] == -1 && ol[j] == -1, "site %d target %d: entry %d used", k, m, j);
                    continue;
                }
                int h = oh[j];
                REQUIRE(h >= 0 && h < N && elig[h], "site %d target %d: bad haplotype %d", k, m, h);
                REQUIRE(seen[h] != stamp, "site %d target %d: haplotype %d twice", k, m, h);
                seen[h] = stamp;
                REQUIRE(ol[j] == rm[h], "site %d target %d hap %d: length %d, true %d", k, m, h, ol[j], rm[h]);
                REQUIRE(ol[j] == srt[j], "site %d target %d rank %d: length %d, P-best %d", k, m, j, ol[j],
                              srt[j]);
                /* agreement with the original target on its non-missing sites of the match */
                for (int l = 0; l < ol[j]; l++) {
                    int kk = dir > 0 ? k - l : k + l, a = c->ta[(size_t)kk * M + m];
                    REQUIRE(a < 0 || a == allele(c, c->sites[kk], h), "site %d target %d hap %d: differs at %d", k, m,
                            h, kk);
                }
            }
        }
        int *oi = out + per * (size_t)i;
        memcpy(oi, hap, (size_t)M * P * sizeof(int));
        memcpy(oi + (size_t)M * P, len, (size_t)M * P * sizeof(int));
        for (int m = 0; m < M; m++) oi[(size_t)2 * M * P + m] = fill[m];
    }
    ck_assert_int_eq(spin_pbwt_next_site(w, hap, len, fill), -1);
    spin_pbwt_destroy(w);
    free(ord), free(ssite), free(fh), free(cd);
    free(elig), free(run), free(hap), free(len), free(fill), free(srt), free(seen);
    *n_out = per * (size_t)c->n;
    return out;
}

static void check_case(uint64_t seed, int n_hap, int n_psite, int nf, double sw, double mu, int n_dup, int M,
                       double mu_t, double miss, double excl_frac, int P)
{
    case_t c;
    make_case(&c, seed, n_hap, n_psite, nf, sw, mu, n_dup, M, mu_t, miss, excl_frac);
    for (int dir = -1; dir <= 1; dir += 2) {
        size_t n1, n2;
        int *o1 = run_check(&c, dir, P, 1, &n1);
        int *o2 = run_check(&c, dir, P, 2, &n2);
        ck_assert(n1 == n2 && memcmp(o1, o2, n1 * sizeof(int)) == 0); /* 1 and 2 threads identical */
        free(o1), free(o2);
    }
    free_case(&c);
}

START_TEST(test_random)
{ /* unstructured panels: short matches; N around word boundaries */
    static const int ns[] = {1, 2, 5, 63, 64, 65, 130};
    for (int i = 0; i < 7; i++) check_case(100 + i, ns[i], 40, 1000, 1.0, 0.5, 0, 9, 0.0, 0.0, 0.0, 4);
}
END_TEST

START_TEST(test_mosaic)
{ /* few founders, rare switches: long identical runs and identical haplotypes */
    check_case(7, 100, 80, 3, 0.02, 0.0, 10, 20, 0.01, 0.0, 0.0, 8);
    check_case(8, 129, 60, 5, 0.05, 0.01, 20, 70, 0.02, 0.0, 0.0, 5);
    check_case(9, 200, 50, 2, 0.01, 0.0, 50, 10, 0.0, 0.0, 0.0, 16); /* many exact ties */
    check_case(10, 700, 150, 30, 0.01, 0.003, 30, 12, 0.005, 0.02, 0.05, 20); /* larger, longer segment */
}
END_TEST

START_TEST(test_small_panel)
{ /* N < P: every eligible haplotype returned, the rest -1 */
    check_case(11, 3, 30, 2, 0.1, 0.02, 1, 8, 0.05, 0.1, 0.0, 8);
    check_case(12, 10, 30, 4, 0.1, 0.02, 2, 8, 0.05, 0.0, 0.3, 12);
}
END_TEST

START_TEST(test_exclusions)
{
    check_case(21, 150, 50, 6, 0.05, 0.01, 10, 30, 0.02, 0.0, 0.25, 6);
    check_case(22, 65, 30, 3, 0.05, 0.0, 5, 10, 0.0, 0.1, 0.6, 4);
    check_case(23, 20, 10, 3, 0.05, 0.0, 0, 5, 0.0, 0.2, 1.0, 3); /* everything excluded */
}
END_TEST

START_TEST(test_missing)
{
    check_case(31, 120, 60, 6, 0.05, 0.01, 10, 40, 0.02, 0.1, 0.1, 6);
    check_case(32, 90, 60, 4, 0.02, 0.0, 10, 30, 0.0, 0.5, 0.0, 5);
    check_case(33, 70, 20, 4, 0.05, 0.0, 5, 10, 0.0, 1.0, 0.0, 3); /* all missing */
}
END_TEST

START_TEST(test_threads)
{ /* enough targets for the parallel loop to run (M > 64) */
    check_case(41, 300, 40, 8, 0.05, 0.01, 10, 150, 0.02, 0.05, 0.1, 10);
    check_case(42, 5, 30, 2, 0.05, 0.0, 1, 100, 0.02, 0.3, 0.2, 8); /* N < P, missing, exclusions */
    check_case(43, 70, 3, 4, 0.05, 0.0, 5, 65, 0.0, 0.1, 0.0, 4);  /* a few sites: the pipeline's ends */
}
END_TEST

START_TEST(test_bad_options)
{
    uint64_t h[2] = {0, 0};
    int sites[1] = {0}, ex[1] = {5};
    int8_t ta[1] = {0};
    spin_pbwt_opt_t o = {.hap = h, .nw = 1, .n_hap = 3, .sites = sites, .n_site = 1, .ta = ta, .ld = 1, .n_tgt = 1,
                         .dir = SPIN_PBWT_FORWARD, .P = 2};
    spin_pbwt_t *w = spin_pbwt_init(&o);
    ck_assert_ptr_nonnull(w);
    spin_pbwt_destroy(w);
    spin_pbwt_opt_t b = o;
    b.P = 0;
    ck_assert_ptr_null(spin_pbwt_init(&b));
    b = o, b.dir = 0;
    ck_assert_ptr_null(spin_pbwt_init(&b));
    b = o, b.excl = ex, b.n_excl = 1;
    ck_assert_ptr_null(spin_pbwt_init(&b));
    b = o, b.nw = 0;
    ck_assert_ptr_null(spin_pbwt_init(&b));
    /* no sites: done at once */
    b = o, b.n_site = 0;
    w = spin_pbwt_init(&b);
    ck_assert_ptr_nonnull(w);
    int oh[2], ol[2];
    ck_assert_int_eq(spin_pbwt_next_site(w, oh, ol, NULL), -1);
    spin_pbwt_destroy(w);
}
END_TEST

START_TEST(test_union)
{
    int v[] = {5, -1, 3, 5, 9, 3, 0, -1, 9};
    int n = spin_pbwt_union(v, 9);
    ck_assert_int_eq(n, 4);
    ck_assert(v[0] == 0 && v[1] == 3 && v[2] == 5 && v[3] == 9);
    ck_assert_int_eq(spin_pbwt_union(v, 0), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pbwt");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_random);
    tcase_add_test(tc, test_mosaic);
    tcase_add_test(tc, test_small_panel);
    tcase_add_test(tc, test_exclusions);
    tcase_add_test(tc, test_missing);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_bad_options);
    tcase_add_test(tc, test_union);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
