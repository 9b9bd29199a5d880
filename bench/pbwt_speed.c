/* pbwt_speed.c -- microbenchmark of the PBWT match index (src/pbwt.c): ns per
 * target haplotype per site, and the panel sweep's ns per site, at several
 * panel sizes. Not a test; built and run by `make pbwt-speed`.
 *
 * Panels are synthetic mosaics (each haplotype copies one of F founders,
 * switching founder with probability 0.01 per site, 0.2% mutations), so
 * matches are long as in real panels; targets are mosaics of panel haplotypes
 * (switch 0.005 per site, 0.1% mutations, 1% missing). The per-target figure
 * is (time with M targets - time with none) / (M * sites), in wall time and in
 * process CPU time (all threads; less disturbed by other load): the panel
 * sweep, O(N) per site and shared by all targets, is reported on its own.
 *
 * Each figure is the fastest of -r runs (default 3). With -t > 1 on a
 * machine whose cores are all busy, set OMP_WAIT_POLICY=passive: threads that
 * spin at the per-site barrier then take the CPU from the one running the
 * panel step (seen here: 15x slower wall time).
 *
 *   bench/pbwt_speed [-N 2048,8192,32768,65536] [-n sites] [-m targets] [-P neighbours] [-t threads] [-s seed]
 *                    [-F founders] [-r repeats]
 */
#define _POSIX_C_SOURCE 200809L /* getopt, strdup, clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pbwt.h"

static uint64_t rng_state;
static uint64_t rnd(void)
{ /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static double clk(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* wall seconds for the whole sweep over n sites with M targets; *cpu gets the
 * process CPU seconds (all threads), which a shared machine disturbs less */
static double sweep(const spin_pbwt_opt_t *o0, int M, int *hap, int *len, double *checksum, double *cpu)
{
    spin_pbwt_opt_t o = *o0;
    o.n_tgt = M;
    double t0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
    spin_pbwt_t *w = spin_pbwt_init(&o);
    if (!w) return -1;
    double cs = 0;
    while (spin_pbwt_next_site(w, hap, len, NULL) >= 0)
        if (M) cs += len[0] + hap[(size_t)(M - 1) * o.P]; /* keeps the work observable */
    spin_pbwt_destroy(w);
    *checksum += cs;
    *cpu = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return clk(CLOCK_MONOTONIC) - t0;
}

int main(int argc, char **argv)
{
    const char *Ns = "2048,8192,32768,65536";
    int n = 1000, M = 1000, P = 16, nt = 1, F = 200, R = 3;
    uint64_t seed = 1;
    int c;
    while ((c = getopt(argc, argv, "N:n:m:P:t:s:F:r:h")) != -1) {
        switch (c) {
        case 'N': Ns = optarg; break;
        case 'n': n = atoi(optarg); break;
        case 'm': M = atoi(optarg); break;
        case 'P': P = atoi(optarg); break;
        case 't': nt = atoi(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'F': F = atoi(optarg); break;
        case 'r': R = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-N list] [-n sites] [-m targets] [-P neighbours] [-t threads] [-s seed] [-F founders] [-r repeats]\n",
                    argv[0]);
            return c == 'h' ? 0 : 2;
        }
    }
    if (n < 1 || M < 1 || P < 1 || F < 1 || R < 1) return 2;
    const char *wp = getenv("OMP_WAIT_POLICY");
    printf("# PBWT match index: %d sites, %d target haplotypes, P = %d, %d thread(s), %d founders, seed %llu, "
           "OMP_WAIT_POLICY=%s\n",
           n, M, P, nt, F, (unsigned long long)seed, wp ? wp : "(unset)");
    printf("%8s %14s %14s %16s %12s\n", "N", "ns/tgt/site", "cpu ns/tgt/st", "sweep us/site", "best total s");
    char *list = strdup(Ns);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int N = atoi(tok);
        if (N < 1) continue;
        rng_state = seed * 1000003ULL + (uint64_t)N;
        int nw = (N + 63) / 64;
        uint64_t *hap = calloc((size_t)n * nw, sizeof(uint64_t));
        uint8_t *fo = malloc((size_t)F * n);
        int8_t *ta = malloc((size_t)n * M);
        int *sites = malloc((size_t)n * sizeof(int));
        int *oh = malloc((size_t)M * P * sizeof(int)), *ol = malloc((size_t)M * P * sizeof(int));
        if (!hap || !fo || !ta || !sites || !oh || !ol) return 1;
        for (int s = 0; s < n; s++) {
            double af = 0.05 + 0.45 * unif();
            for (int f = 0; f < F; f++) fo[(size_t)f * n + s] = unif() < af;
            sites[s] = s;
        }
        for (int h = 0; h < N; h++) {
            int f = (int)(rnd() % (uint64_t)F);
            for (int s = 0; s < n; s++) {
                if (unif() < 0.01) f = (int)(rnd() % (uint64_t)F);
                if (fo[(size_t)f * n + s] ^ (unif() < 0.002)) hap[(size_t)s * nw + (h >> 6)] |= 1ULL << (h & 63);
            }
        }
        for (int m = 0; m < M; m++) {
            int src = (int)(rnd() % (uint64_t)N);
            for (int s = 0; s < n; s++) {
                if (unif() < 0.005) src = (int)(rnd() % (uint64_t)N);
                int b = (int)((hap[(size_t)s * nw + (src >> 6)] >> (src & 63)) & 1) ^ (unif() < 0.001);
                ta[(size_t)s * M + m] = unif() < 0.01 ? -1 : (int8_t)b;
            }
        }
        /* the targets' source haplotypes stay in the panel: matches are as long
         * as the mosaic allows, the walk's worst case for P */
        spin_pbwt_opt_t o = {.hap = hap, .nw = nw, .n_hap = N, .sites = sites, .n_site = n, .ta = ta, .ld = (size_t)M,
                             .dir = SPIN_PBWT_FORWARD, .P = P, .n_threads = nt};
        /* the fastest of R runs of each, interleaved: the least disturbed by other load */
        double cs = 0, t_panel = 1e30, t_all = 1e30, c_panel = 1e30, c_all = 1e30, cp, ca;
        for (int r = 0; r < R; r++) {
            double tp = sweep(&o, 0, oh, ol, &cs, &cp), ta_ = sweep(&o, M, oh, ol, &cs, &ca);
            if (tp < 0 || ta_ < 0) return 1;
            t_panel = tp < t_panel ? tp : t_panel, t_all = ta_ < t_all ? ta_ : t_all;
            c_panel = cp < c_panel ? cp : c_panel, c_all = ca < c_all ? ca : c_all;
        }
        double per = (t_all - t_panel) / ((double)M * n) * 1e9, cper = (c_all - c_panel) / ((double)M * n) * 1e9;
        printf("%8d %14.1f %14.1f %16.2f %12.3f\n", N, per, cper, t_panel / n * 1e6, t_all);
        fprintf(stderr, "# checksum %g\n", cs);
        free(hap), free(fo), free(ta), free(sites), free(oh), free(ol);
    }
    free(list);
    return 0;
}
