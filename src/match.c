/* match.c -- site-matching rules (no I/O): allele comparison with REF/ALT
 * swap and strand flip, the decision for one target record against the panel
 * sites at its position, contig-name comparison. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "match.h"
#include "util.h"

char spin_base_complement(char b)
{
    switch (toupper((unsigned char)b)) {
    case 'A': return 'T';
    case 'T': return 'A';
    case 'C': return 'G';
    case 'G': return 'C';
    default: return 0;
    }
}

spin_match_t spin_match_alleles(char pref, char palt, char tref, char talt)
{
    pref = (char)toupper((unsigned char)pref), palt = (char)toupper((unsigned char)palt);
    tref = (char)toupper((unsigned char)tref), talt = (char)toupper((unsigned char)talt);
    if (!spin_base_complement(pref) || !spin_base_complement(palt) || pref == palt) return SPIN_MATCH_MISMATCH;
    if (!spin_base_complement(tref)) return SPIN_MATCH_MISMATCH;
    /* a palindromic site reads the same on both strands: a swap cannot be told
     * from a flip, so only an exact match is trusted */
    int palin = spin_base_complement(pref) == palt;
    if (talt == 0 || talt == '.') { /* monomorphic target record: REF only */
        if (tref == pref) return SPIN_MATCH_EXACT;
        if (tref == palt) return palin ? SPIN_MATCH_AMBIGUOUS : SPIN_MATCH_SWAP;
        return SPIN_MATCH_MISMATCH;
    }
    if (!spin_base_complement(talt) || tref == talt) return SPIN_MATCH_MISMATCH;
    if (tref == pref && talt == palt) return SPIN_MATCH_EXACT;
    if (palin) {
        /* same unordered pair on either strand (for A/T that is {A,T} only) */
        return (tref == palt && talt == pref) ? SPIN_MATCH_AMBIGUOUS : SPIN_MATCH_MISMATCH;
    }
    if (tref == palt && talt == pref) return SPIN_MATCH_SWAP;
    char ctr = spin_base_complement(tref), cta = spin_base_complement(talt);
    if (ctr == pref && cta == palt) return SPIN_MATCH_FLIP;
    if (ctr == palt && cta == pref) return SPIN_MATCH_FLIP_SWAP;
    return SPIN_MATCH_MISMATCH;
}

static int is_seq(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; ++s)
        if (!strchr("ACGTNacgtn", *s)) return 0;
    return 1;
}

static int is_base1(const char *s) { return s && s[0] && !s[1] && spin_base_complement(s[0]); }

int spin_allele_class(const char *const *al, int n)
{
    if (n > 2) return SPIN_CLASS_MULTI;
    if (n < 2) return SPIN_CLASS_OTHER;
    if (is_base1(al[0]) && is_base1(al[1])) return SPIN_CLASS_SNP;
    if (is_seq(al[0]) && is_seq(al[1]) && strlen(al[0]) != strlen(al[1])) return SPIN_CLASS_INDEL;
    return SPIN_CLASS_OTHER;
}

const char *spin_chrom_strip(const char *s)
{
    if (s && strlen(s) > 3 && (s[0] == 'c' || s[0] == 'C') && (s[1] == 'h' || s[1] == 'H') &&
        (s[2] == 'r' || s[2] == 'R'))
        return s + 3;
    return s;
}

int spin_chrom_equal(const char *a, const char *b)
{
    if (!a || !b) return 0;
    return strcmp(spin_chrom_strip(a), spin_chrom_strip(b)) == 0;
}

/* 1 if the panel record starting at site k (ialt 1) has exactly the alleles
 * al[0..n) in that order (VCF spelling compared case-insensitively). */
static int record_equal(const spin_panel_t *p, int k, const char *const *al, int n)
{
    if (p->ialt[k] != 1 || p->nalt[k] != n - 1 || strcasecmp(spin_panel_ref(p, k), al[0]) != 0) return 0;
    for (int a = 1; a < n; ++a)
        if (strcasecmp(spin_panel_alt(p, k + a - 1), al[a]) != 0) return 0;
    return 1;
}

spin_note_t spin_match_record(const spin_panel_t *p, int64_t pos, const char *const *allele, int n_allele,
                              const uint8_t *is_typed, int *site, spin_match_t *how)
{
    int best_k = -1;
    spin_match_t best = SPIN_MATCH_MISMATCH;
    int k = spin_pos_lower_bound(p->pos, p->n_site, pos);
    int any = k < p->n_site && p->pos[k] == pos;
    int snp = n_allele <= 2 && is_base1(allele[0]) && (n_allele < 2 || is_base1(allele[1]));
    for (; k < p->n_site && p->pos[k] == pos; ++k) {
        spin_match_t m = SPIN_MATCH_MISMATCH;
        if (snp) {
            /* SNPs: against biallelic SNP panel records, with swap and strand
             * flip (a split multi-allelic record is never a SNP match) */
            if (spin_panel_is_snp(p, k))
                m = spin_match_alleles(spin_panel_ref(p, k)[0], spin_panel_alt(p, k)[0], allele[0][0],
                                       n_allele > 1 ? allele[1][0] : 0);
        } else if (n_allele >= 2 && record_equal(p, k, allele, n_allele)) {
            /* indels, symbolic, multi-allelic: REF and ALT list exactly (a swap
             * or flip of an indel cannot be told from a different variant) */
            m = SPIN_MATCH_EXACT;
        }
        if (m < best) best = m, best_k = k;
    }
    *site = best_k, *how = best;
    if (!any) return SPIN_NOTE_TARGET_ONLY;
    if (best == SPIN_MATCH_AMBIGUOUS) return SPIN_NOTE_PALINDROMIC;
    if (best == SPIN_MATCH_MISMATCH) return SPIN_NOTE_ALLELE_MISMATCH;
    if (is_typed[best_k]) return SPIN_NOTE_DUPLICATE;
    return SPIN_NOTE_N;
}

spin_note_t spin_match_recode_note(spin_match_t m)
{
    return m == SPIN_MATCH_SWAP ? SPIN_NOTE_SWAPPED : m == SPIN_MATCH_FLIP ? SPIN_NOTE_FLIPPED : SPIN_NOTE_FLIP_SWAPPED;
}
