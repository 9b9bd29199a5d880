/* score.h -- `spin-impute score`: accuracy of imputed dosages against a truth VCF.
 *
 * Two layers:
 *  - an accumulator (spin_score_t) fed one variant at a time with truth alt-allele
 *    counts and imputed dosages of the same genotypes; unit-testable in memory;
 *  - a file driver (spin_score_files) that matches records of the imputed VCF to the
 *    truth by chromosome (leading "chr" ignored), position and alleles (REF/ALT swap
 *    handled: dosage -> 2 - dosage), samples by name, and feeds the accumulator.
 *
 * Definitions (genotype = one sample at one site; dosage in [0,2] ALT copies):
 *  - pooled R2: squared Pearson correlation of truth vs imputed dosage over all scored
 *    genotypes of all scored sites (the SPIN paper's metric);
 *  - per-variant r2: squared Pearson correlation over one site's genotypes. Undefined
 *    (not averaged, counted in n_mono) when the truth is monomorphic among the scored
 *    genotypes; 0 when the truth varies but the imputed dosage is constant;
 *  - MAF bins: bin b holds lo_b < maf <= hi_b (the first bin also holds maf == lo_0);
 *    per bin the mean per-variant r2 and the aggregate r2 (pooled within the bin);
 *  - concordance: fraction of genotypes whose hard call (GT, else rounded dosage)
 *    equals the truth alt count; non-reference concordance: the same restricted to
 *    genotypes where the truth or the call is not hom-REF;
 *  - calibration: Pearson r between the file's per-site estimate (INFO DR2, else R2)
 *    and the per-variant r2, over sites where both are defined;
 *  - multi-allelic records: each ALT allele k is its own scored site (truth dosage =
 *    copies of allele k, 0..2; imputed dosage = the k-th DS value, or the dosage of k
 *    from GP or GT), matched by REF and that ALT exactly;
 *  - classes: every site is also counted in one class (spin_allele_class of the
 *    imputed record: SNP, indel, symbolic/other, or an ALT of a multi-allelic record)
 *    with its mean per-variant r2 and aggregate r2.
 */
#ifndef SPIN_SCORE_H
#define SPIN_SCORE_H

#include <stdio.h>
#include "spin.h"

/* Sufficient statistics of a Pearson correlation. */
typedef struct {
    double n, sx, sy, sxx, syy, sxy;
} spin_corr_t;

static inline void spin_corr_add(spin_corr_t *c, double x, double y)
{
    c->n += 1.0, c->sx += x, c->sy += y, c->sxx += x * x, c->syy += y * y, c->sxy += x * y;
}
/* Pearson r; NaN when n < 2 or either variable is constant. */
double spin_corr_r(const spin_corr_t *c);
/* Squared r; NaN when x is constant or n < 2, 0 when only y is constant. */
double spin_corr_r2(const spin_corr_t *c);

#define SPIN_SCORE_DEFAULT_BINS "0,0.01,0.05,0.1,0.2,0.5"

typedef struct {
    int n_bin;
    double *edge;       /* [n_bin + 1] ascending MAF edges */
    int64_t n_site;     /* sites scored */
    int64_t *bin_sites, *bin_poly; /* [n_bin] sites; sites with a defined r2 */
    double *bin_sum_r2;            /* [n_bin] sum of per-variant r2 */
    spin_corr_t *bin_corr;         /* [n_bin] pooled within bin */
    spin_corr_t all;               /* pooled over every genotype */
    int64_t n_poly, n_mono, n_out_of_bins;
    double sum_r2;
    int64_t n_gt, n_gt_missing;    /* genotypes scored; skipped for a missing value */
    int64_t n_conc, n_call;        /* concordant hard calls; genotypes with a hard call */
    int64_t n_nr_conc, n_nr;       /* same, non-reference genotypes */
    spin_corr_t calib;             /* (file estimate, true r2) per site */
    int64_t cls_sites[4], cls_poly[4]; /* per class (SPIN_CLASS_SNP, _INDEL, _OTHER, _MULTI) */
    double cls_sum_r2[4];
    spin_corr_t cls_corr[4];
    /* filled by spin_score_files */
    int n_sample_truth, n_sample_imp, n_sample_common;
    int64_t n_truth_sites, n_list_sites, n_list_not_in_truth;
    int64_t n_imp_records, n_imp_not_in_truth, n_imp_skipped_typed;
    int64_t n_imp_multiallelic;    /* multi-allelic imputed records (scored per ALT) */
    int64_t n_imp_duplicate, n_swapped, n_no_dosage;
    int64_t n_missing;             /* sites to score absent from the imputed file */
    int64_t n_maf_from_truth;      /* sites whose MAF came from the truth (panel lacked them) */
    int sites_from_list;           /* 1 if --sites defined the scored set */
    char *dosage_source;           /* "DS", "HDS", "GP", "GT" or "mixed" (first record's) */
} spin_score_t;

/* bins: comma-separated ascending MAF edges in [0, 0.5], at least two, e.g.
 * SPIN_SCORE_DEFAULT_BINS; NULL -> the default. NULL on a malformed list. */
spin_score_t *spin_score_init(const char *bins);
void spin_score_destroy(spin_score_t *s);

/* Adds one site with n genotypes: truth[i] alt count 0..2 (<0 missing), ds[i] imputed
 * dosage (NaN missing), call[i] hard-call alt count (<0: use rounded ds; call may be
 * NULL). maf < 0: computed from the non-missing truth genotypes. est_r2: the file's
 * estimate, NaN if none. Returns the per-variant r2 (NaN if undefined). */
double spin_score_add(spin_score_t *s, int n, const int8_t *truth, const float *ds,
                      const int8_t *call, double maf, double est_r2);
/* The same for a site of class cls (SPIN_CLASS_*, match.h); spin_score_add is class SNP. */
double spin_score_add_class(spin_score_t *s, int cls, int n, const int8_t *truth, const float *ds,
                            const int8_t *call, double maf, double est_r2);
double spin_score_class_mean_r2(const spin_score_t *s, int cls);
double spin_score_class_agg_r2(const spin_score_t *s, int cls);

/* Summary values computed from the accumulator (NaN when undefined). */
double spin_score_pooled_r2(const spin_score_t *s);
double spin_score_mean_r2(const spin_score_t *s);
double spin_score_concordance(const spin_score_t *s);
double spin_score_nr_concordance(const spin_score_t *s);
double spin_score_calibration(const spin_score_t *s);
double spin_score_bin_mean_r2(const spin_score_t *s, int b);
double spin_score_bin_agg_r2(const spin_score_t *s, int b);

typedef struct {
    const char *truth;   /* truth VCF/BCF (GT) */
    const char *imputed; /* imputed VCF/BCF (DS, HDS, GP or GT) */
    const char *sites;   /* optional: sites to score, "CHROM POS [REF ALT]" lines or a VCF */
    const char *af_from; /* optional: panel VCF/BCF for MAF (INFO AC/AN if present, else GT) */
} spin_score_files_t;

/* Reads the files and accumulates into s. <0 on error (message names file and site). */
int spin_score_files(spin_score_t *s, const spin_score_files_t *f);

/* Human-readable report and machine TSV ("SN\tkey\tvalue",
 * "BIN\tlo\thi\tn_sites\tn_poly\tmean_r2\tagg_r2" lines, then
 * "CLASS\tname\tn_sites\tn_poly\tmean_r2\tagg_r2" for snp, indel, other and
 * multiallelic_alt). <0 on write error. */
int spin_score_write_table(const spin_score_t *s, const spin_score_files_t *f, FILE *fp);
int spin_score_write_tsv(const spin_score_t *s, const spin_score_files_t *f, FILE *fp);

#endif
