/* match.h -- pure site-matching rules between panel and target alleles. */
#pragma once
#include "spin.h"

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
