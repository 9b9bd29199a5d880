/* match.c -- site-matching rules (no I/O): allele comparison with REF/ALT
 * swap and strand flip, the decision for one target record against the panel
 * sites at its position, contig-name comparison. */
#include <ctype.h>
#include <string.h>

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

spin_note_t spin_match_record(const spin_panel_t *p, int64_t pos, char tref, char talt, const uint8_t *is_typed,
                              int *site, spin_match_t *how)
{
    /* best match among panel sites at this position (a split multi-allelic
     * site gives several); ties go to the first panel record */
    int best_k = -1;
    spin_match_t best = SPIN_MATCH_MISMATCH;
    int k = spin_pos_lower_bound(p->pos, p->n_site, pos);
    int any = k < p->n_site && p->pos[k] == pos;
    for (; k < p->n_site && p->pos[k] == pos; ++k) {
        spin_match_t m = spin_match_alleles(p->ref[k], p->alt[k], tref, talt);
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
