/* examples/impute.c -- a program on libspin's public API only (spin.h): impute
 * a target VCF from a reference panel, as `spin-impute impute` does.
 *
 * Build against the installed library:
 *   cc -o spin-example examples/impute.c $(pkg-config --cflags --libs libspin)
 * Run (test-data/ of the source tree, the installed default model):
 *   ./spin-example MODEL.spin test-data/ref.bcf test-data/target.vcf.gz out.vcf [CHR:FROM-TO]
 *
 * Two ways through the API are shown: the whole run in one call
 * (spin_impute_run, which writes OUT), and the steps it is made of (panel,
 * targets, windows, engine) to count what would be imputed. */
#include <stdio.h>
#include <stdlib.h>

#include <spin.h>

/* The step-by-step API: how many untyped sites the engine imputes and the mean
 * P(ALT) it gives them over all target haplotypes. */
static int summarise(const spin_model_t *m, const char *ref_fn, const char *tgt_fn, const char *region)
{
    const spin_config_t *cfg = spin_model_config(m);
    spin_panel_t *p = spin_panel_read(ref_fn, region, 1);
    spin_targets_t *t = p ? spin_targets_read(tgt_fn, p, region, 1, SPIN_MIN_MATCH_FRAC) : NULL;
    spin_engine_t *e = t ? spin_engine_init(m, 1) : NULL;
    spin_window_t *win = NULL;
    int *store = NULL, n_win = 0, ret = -1;
    if (!e || spin_windows_make(p, t, cfg->w, spin_config_nbr_context(cfg), 0, INT64_MAX, &win, &n_win, &store) < 0)
        goto end;
    double sum = 0;
    long n = 0;
    for (int i = 0; i < n_win; i++) {
        float *p_alt = malloc((size_t)win[i].n_untyped * t->n_hap * sizeof(float));
        if (!p_alt || spin_engine_impute(e, p, t, &win[i], 1, &p_alt) < 0) {
            free(p_alt);
            goto end;
        }
        for (size_t k = 0; k < (size_t)win[i].n_untyped * t->n_hap; k++) sum += p_alt[k];
        n += win[i].n_untyped;
        free(p_alt);
    }
    printf("panel %d haplotypes, %d sites; targets %d samples, %d typed sites; %d windows, %ld untyped sites, "
           "mean P(ALT) %.4f\n", p->n_hap, p->n_site, t->n_sample, t->n_typed, n_win, n, n ? sum / ((double)n * t->n_hap) : 0.0);
    ret = 0;
end:
    free(win), free(store);
    spin_engine_destroy(e);
    spin_targets_destroy(t);
    spin_panel_destroy(p);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s MODEL REF TARGET OUT.vcf [CHR:FROM-TO]\n", argv[0]);
        return 2;
    }
    spin_blas_set_num_threads(1); /* the engine's parallelism is its own; -1 (no OpenBLAS) is fine */
    spin_verbose = SPIN_LOG_ERROR;
    spin_model_t *m = spin_model_load(argv[1]);
    if (!m) return 1;

    spin_impute_opt_t o;
    spin_impute_opt_default(&o);
    o.model = m;
    o.ref_fn = argv[2], o.target_fn = argv[3], o.out_fn = argv[4];
    o.region = argc == 6 ? argv[5] : NULL;
    o.no_version = 1; /* no date or command line: the output compares byte for byte */
    int ret = spin_impute_run(&o);
    /* the summary reads the same region without a buffer: its own windows */
    if (ret == 0) ret = summarise(m, argv[2], argv[3], o.region);
    spin_model_destroy(m);
    return ret == 0 ? 0 : 1;
}
