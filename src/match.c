/* match.c -- pure site-matching rules (no I/O): allele comparison with
 * REF/ALT swap and strand flip, contig-name comparison. */
#include <ctype.h>
#include <string.h>

#include "match.h"

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
