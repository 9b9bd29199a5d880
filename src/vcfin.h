/* vcfin.h -- read the reference panel and the targets with HTSlib.
 *
 * Every record's bcf_read/itr return and rec->errcode is checked: a truncated
 * or corrupt file is an error, never a silent early end. */
#pragma once
#include <stdint.h>

#include "spin.h"
#include "stats.h"

/* Parses "CHR", "CHR:FROM" or "CHR:FROM-TO" (1-based inclusive, commas
 * allowed in numbers). *chrom is malloc'ed (caller frees); missing FROM -> 1,
 * missing TO -> INT64_MAX. Returns 0, or <0 with an error logged. */
int spin_region_parse(const char *reg, char **chrom, int64_t *from, int64_t *to);

/* Reads a phased reference panel (VCF, VCF.gz or BCF) into a bit-packed panel.
 * region NULL: the whole file, which must hold exactly one contig (error
 * otherwise, suggesting --region). region "CHR:FROM-TO": read through the
 * index (.tbi/.csi; error if there is none). Keeps biallelic SNPs (A/C/G/T,
 * REF != ALT); multi-allelic and other records are skipped and counted in
 * n_skip_multiallelic / n_skip_nonsnp with one warning at the end. Unphased
 * or missing genotypes, non-diploid samples and unsorted positions are errors
 * naming the sample and chrom:pos. af is the ALT frequency in the panel; cm is
 * filled with 1 cM/Mb (pos * 1e-6); call spin_panel_set_map for a real map.
 * n_threads > 1 adds HTSlib decompression threads. Free with spin_panel_destroy. */
spin_panel_t *spin_panel_read(const char *fn, const char *region, int n_threads);

/* Fills p->cm from map m (NULL = 1 cM/Mb). Returns 0. */
int spin_panel_set_map(spin_panel_t *p, const spin_gmap_t *m);

/* Default minimum fraction of target SNP records (on the contig, inside the
 * panel's position span, excluding multi-allelic/non-SNP/duplicate records)
 * that must match a panel site; below it the data are refused (wrong build or
 * naming). 0.5 follows Eagle's "more than 50% of target variants not found". */
#define SPIN_MIN_MATCH_FRAC 0.5

/* Reads the targets' phased diploid GT at records on the panel's contig (a
 * "chr" prefix difference is accepted and reported once), restricted to
 * `region` if not NULL (through the index if there is one, else by streaming),
 * and matches them to the panel (match.h rules): returns the typed sites in
 * panel coding, ascending panel site order. Fills *st (from
 * spin_match_stats_init; may be NULL) with counters and the excluded/recoded
 * site list. Errors (NULL): unphased genotype (phase with SHAPEIT5, Eagle2 or
 * Beagle), haploid/polyploid sample, contig lengths differing between headers
 * (genome build), match fraction below min_frac, zero typed sites. Missing
 * alleles become -1. Free with spin_targets_destroy. */
spin_targets_t *spin_targets_read2(const char *fn, const spin_panel_t *p, const char *region, int n_threads,
                                   double min_frac, spin_match_stats_t *st);
/* spin_targets_read2 with min_frac = SPIN_MIN_MATCH_FRAC. */
spin_targets_t *spin_targets_read(const char *fn, const spin_panel_t *p, const char *region, int n_threads,
                                  spin_match_stats_t *st);
