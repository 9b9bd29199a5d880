/* match.h -- site-matching rules between panel and target alleles (match.c). */
#ifndef SPIN_MATCH_H
#define SPIN_MATCH_H

#include <stdint.h>

#include "spin.h"
#include "stats.h"

typedef enum {
    SPIN_MATCH_EXACT = 0,   /* same REF and ALT */
    SPIN_MATCH_SWAP,        /* target REF = panel ALT and vice versa: recode a -> 1-a */
    SPIN_MATCH_FLIP,        /* complement strand, same order: keep coding */
    SPIN_MATCH_FLIP_SWAP,   /* complement strand and swapped: recode a -> 1-a */
    SPIN_MATCH_AMBIGUOUS,   /* palindromic panel site (A/T, C/G) not matching exactly */
    SPIN_MATCH_MISMATCH     /* different alleles */
} spin_match_t;

/* Matching rule for one site. Alleles are single bases (case-insensitive).
 * talt may be 0 or '.' for a monomorphic target record (REF only): then only
 * EXACT (tref = panel REF) or SWAP (tref = panel ALT) are possible, and for a
 * palindromic panel site the SWAP case is AMBIGUOUS. Palindromic panel sites
 * match EXACT only. Any non-ACGT base gives MISMATCH. */
spin_match_t spin_match_alleles(char pref, char palt, char tref, char talt);

/* 1 if the match keeps the site (EXACT, SWAP, FLIP, FLIP_SWAP). */
static inline int spin_match_kept(spin_match_t m) { return m <= SPIN_MATCH_FLIP_SWAP; }
/* 1 if target allele a must be recoded as 1-a. */
static inline int spin_match_swaps(spin_match_t m) { return m == SPIN_MATCH_SWAP || m == SPIN_MATCH_FLIP_SWAP; }

/* Complement base (A<->T, C<->G, uppercase), 0 for anything else. */
char spin_base_complement(char b);

/* Contig names equal up to a leading "chr" (any case): "chr20" == "20". */
int spin_chrom_equal(const char *a, const char *b);
/* Name without a leading "chr"/"CHR"/"Chr" prefix (pointer into s). */
const char *spin_chrom_strip(const char *s);

/* The decision for one target SNP record at pos with alleles tref/talt (talt 0
 * for a REF-only record) against the panel sites at pos: SPIN_NOTE_N if it is
 * kept, with *site the panel site and *how the match (recode with
 * spin_match_swaps); else why it is dropped (TARGET_ONLY, PALINDROMIC,
 * ALLELE_MISMATCH, or DUPLICATE when is_typed[*site] says an earlier record
 * already typed that site). Ties between panel sites go to the first. */
spin_note_t spin_match_record(const spin_panel_t *p, int64_t pos, char tref, char talt, const uint8_t *is_typed,
                              int *site, spin_match_t *how);
/* The note of a kept but recoded match (SWAP, FLIP or FLIP_SWAP). */
spin_note_t spin_match_recode_note(spin_match_t m);

#endif
