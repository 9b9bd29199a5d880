/* stats.h -- site-matching statistics: counters, the list of excluded or
 * recoded target sites, the --stats TSV and the stderr summary. */
#ifndef SPIN_STATS_H
#define SPIN_STATS_H
#include <stdint.h>

#include "spin.h"

/* Why a target record was excluded, or how it was recoded. */
typedef enum {
    SPIN_NOTE_SWAPPED = 0,    /* REF/ALT swapped vs the panel; alleles recoded, kept */
    SPIN_NOTE_FLIPPED,        /* strand-complemented; kept */
    SPIN_NOTE_FLIP_SWAPPED,   /* strand-complemented and swapped; kept */
    SPIN_NOTE_PALINDROMIC,    /* A/T or C/G not matching exactly: strand unknowable, dropped */
    SPIN_NOTE_ALLELE_MISMATCH,/* panel has the position with other alleles, dropped */
    SPIN_NOTE_TARGET_ONLY,    /* position absent from the panel, dropped */
    SPIN_NOTE_DUPLICATE,      /* a previous target record already typed that panel site, dropped */
    SPIN_NOTE_N
} spin_note_t;

/* TSV / summary name of a note, e.g. "flip_swapped". */
const char *spin_note_name(spin_note_t r);

typedef struct {
    char *chrom;   /* as written in the target file */
    int64_t pos;   /* 1-based */
    char *ref, *alt; /* target alleles as written ("." if none; multi-allelic ALT as "C,G") */
    spin_note_t reason;
} spin_site_note_t;

typedef struct {
    /* target records on the panel's contig (and inside the region, if any) */
    int64_t n_records;
    int64_t n_outside;        /* records outside the panel's first..last position (also in
                               * n_target_only, but not in the match-fraction denominator) */
    int64_t n_matched;        /* typed records kept: exact + swapped + flipped + flip_swapped (a
                               * multi-allelic record counts once, typing one site per ALT) */
    int64_t n_exact, n_swapped, n_flipped, n_flip_swapped;
    int64_t n_palindromic, n_allele_mismatch, n_target_only, n_duplicate;
    /* target records by type, and matched (typed) records by type: SNP, indel,
     * symbolic/other (symbolic, *, MNP, REF-only non-base), multi-allelic */
    int64_t n_rec_snp, n_rec_indel, n_rec_other, n_rec_multi;
    int64_t n_match_snp, n_match_indel, n_match_other, n_match_multi;
    /* panel records by type (copied from spin_panel_t by the run; -1 unknown) */
    int64_t n_panel_snp, n_panel_indel, n_panel_other, n_panel_multi;
    int64_t n_missing_gt;     /* missing alleles (haplotype x typed site) kept as -1 */
    int64_t n_missing_hapsite;/* denominator for n_missing_gt: n_matched * n_hap */
    int64_t n_other_contig;   /* records on other contigs, ignored */
    int chr_renamed;          /* 1 if target and panel differ by a "chr" prefix */
    /* every excluded or recoded record, in file order; owned by the struct */
    int n_note, m_note;
    spin_site_note_t *note;
} spin_match_stats_t;

spin_match_stats_t *spin_match_stats_init(void);
void spin_match_stats_destroy(spin_match_stats_t *st); /* accepts NULL */
/* Increments the counter of `reason` and appends a note (strings copied). */
int spin_match_stats_note(spin_match_stats_t *st, spin_note_t reason, const char *chrom, int64_t pos,
                          const char *ref, const char *alt);
/* Writes the --stats TSV: "#category<TAB>count" lines, then a header line
 * "#chrom pos ref alt reason" and one line per note. Not atomic; checks every
 * write and fclose. fn "-" is refused (stdout belongs to the CLI). */
int spin_stats_write_tsv(const spin_match_stats_t *st, const char *fn);
/* The same, written to path (a temporary, spin_writer_companion) while
 * messages name fn, the file the user asked for. */
int spin_stats_write_tsv_as(const spin_match_stats_t *st, const char *path, const char *fn);
/* One-paragraph summary on stderr at SPIN_LOG_INFO. */
void spin_stats_log_summary(const spin_match_stats_t *st);

#endif
