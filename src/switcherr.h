/* switcherr.h -- switch error rate of phased genotypes against a true phase
 * (`spin-impute score --switch`).
 *
 * Per sample, the sites scored are those where the truth is a phased
 * heterozygote and the phased file has the same heterozygote, phased. At each
 * such site the orientation is whether the phased file's first allele is the
 * truth's first allele; a switch is a change of orientation between
 * consecutive scored sites. Switch error rate = switches / (sites - 1) per
 * sample; pooled = all switches / all (sites - 1). Records match by chromosome
 * (leading "chr" ignored), position and alleles (a REF/ALT swap is handled),
 * samples by name. */
#ifndef SPIN_SWITCHERR_H
#define SPIN_SWITCHERR_H

#include <stdint.h>
#include <stdio.h>

/* One sample's running count. */
typedef struct {
    int prev;         /* orientation at the last scored site, -1 before the first */
    int64_t n_het;    /* scored sites */
    int64_t n_switch; /* switches between consecutive scored sites */
} spin_switch_acc_t;

/* Feeds one site of one sample: t0, t1 the truth's alleles (t_phased: '|'),
 * p0, p1 the phased file's (p_phased); alleles are indices, -1 missing.
 * Sites that are not scored (see above) change nothing. */
void spin_switch_add(spin_switch_acc_t *a, int t0, int t1, int t_phased, int p0, int p1, int p_phased);

typedef struct {
    int n_sample;     /* samples in both files, in the phased file's order */
    char **samples;
    spin_switch_acc_t *acc; /* [n_sample] */
    int64_t n_records, n_matched; /* phased-file records; of them found in the truth */
    int64_t n_unphased_het;       /* heterozygotes of the phased file left unphased (not scored) */
} spin_switch_t;

/* Scores phased_fn against truth_fn. 0, or <0 with an error naming the file
 * (unreadable, no sample in common, unsorted truth). */
int spin_switch_files(const char *truth_fn, const char *phased_fn, spin_switch_t *out);
void spin_switch_destroy(spin_switch_t *s);
/* Per-sample lines "SW sample het_sites switches rate" and a pooled line
 * "SW ALL ..." (rate "nan" when fewer than two sites). <0 on a write error. */
int spin_switch_write(const spin_switch_t *s, FILE *fp);

#endif
