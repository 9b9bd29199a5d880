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

/* Allele class of a record with alleles al[0..n) (REF first), for counts
 * and `score`: SNP (biallelic, single bases A/C/G/T), indel (biallelic base
 * sequences of different lengths), other (symbolic, '*', MNP, breakend, REF
 * only), multi-allelic (n > 2). */
enum { SPIN_CLASS_SNP = 0, SPIN_CLASS_INDEL, SPIN_CLASS_OTHER, SPIN_CLASS_MULTI, SPIN_N_CLASS };
int spin_allele_class(const char *const *al, int n);
/* Complement base (A<->T, C<->G, uppercase), 0 for anything else. */
char spin_base_complement(char b);

/* Contig names equal up to a leading "chr" (any case): "chr20" == "20". */
int spin_chrom_equal(const char *a, const char *b);
/* Name without a leading "chr"/"CHR"/"Chr" prefix (pointer into s). */
const char *spin_chrom_strip(const char *s);

/* The decision for one target record at pos with alleles allele[0..n_allele)
 * (REF first; n_allele 1 for a REF-only record) against the panel sites at
 * pos: SPIN_NOTE_N if it is kept, with *site the panel site (for a
 * multi-allelic record the site of its first ALT; its ALT k is site + k - 1)
 * and *how the match (recode with spin_match_swaps); else why it is dropped
 * (TARGET_ONLY, PALINDROMIC, ALLELE_MISMATCH, or DUPLICATE when
 * is_typed[*site] says an earlier record already typed that site). A SNP
 * (single bases) matches biallelic SNP panel records by spin_match_alleles;
 * any other record matches a panel record with the same REF and ALT list
 * exactly (EXACT), never swapped or flipped. Ties go to the first panel record. */
spin_note_t spin_match_record(const spin_panel_t *p, int64_t pos, const char *const *allele, int n_allele,
                              const uint8_t *is_typed, int *site, spin_match_t *how);
/* The note of a kept but recoded match (SWAP, FLIP or FLIP_SWAP). */
spin_note_t spin_match_recode_note(spin_match_t m);

#endif
