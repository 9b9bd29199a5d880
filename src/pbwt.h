/* pbwt.h -- positional Burrows-Wheeler transform match index (Durbin 2014,
 * Bioinformatics 30:1266): for many target haplotypes at once, the P panel
 * haplotypes with the longest matches at every site of a site list.
 *
 * Sites are a list sites[0..n) of panel sites (e.g. the typed sites of one
 * segment, ascending). Everything is relative to the list: the sweep starts
 * at its first site in the direction's order (sites[0] forward, sites[n-1]
 * backward) with every haplotype tied, so no site outside the list influences
 * any result. A fixed segment therefore gives the same answers in region runs
 * and whole runs.
 *
 * Match lengths are counted in list sites:
 *   forward  (SPIN_PBWT_FORWARD):  at site k, haplotype h matches the target
 *            over sites [k - len + 1, k] (len consecutive equal alleles ending
 *            at k; 0 if they differ at k);
 *   backward (SPIN_PBWT_BACKWARD): over sites [k, k + len - 1].
 *
 * PBWT order: haplotypes sorted by their alleles at the sites processed so
 * far, the most recent first, then by haplotype index; a target sorts before
 * the haplotypes whose alleles equal its own (as if its index were -1).
 *
 * Missing target alleles (-1) are filled before they are used: the target
 * takes the allele, at that site, of the panel haplotype adjacent to it in
 * PBWT order that has the longer current match (the one above if both are
 * equal; at the first site, where every match is empty, the first haplotype
 * in PBWT order, i.e. the lowest-index eligible one). That haplotype has a
 * longest match of the whole panel so far, so a longest match continues
 * through the missing site. Match lengths are those of the filled target,
 * which spin_pbwt_next_site can report.
 *
 * Ties: the P neighbours are taken longest first, equal lengths nearest the
 * target in PBWT order first (the haplotype above first if the two sides tie,
 * which the order above never produces: haplotypes with an equal match length
 * all differ from the target at the same site, so they sit on one side of it;
 * those matching since the first site sort after it). So which members of a
 * tied group are returned depends only on the input, never on threads; e.g.
 * among haplotypes identical to the target since the first site, the lowest
 * indices.
 *
 * Cost per site: O(N) for the panel sweep (once for all targets) plus, per
 * target, O(1) for its new position and divergences and O(P) for the walk.
 * Memory: O(N + M) state plus the caller's M x P output buffers. */
#ifndef SPIN_PBWT_H
#define SPIN_PBWT_H

#include <stddef.h>
#include <stdint.h>

enum { SPIN_PBWT_FORWARD = 1, SPIN_PBWT_BACKWARD = -1 };

typedef struct {
    /* panel: hap + (size_t)s * nw is the bitset of haplotypes carrying ALT at
     * panel site s (bit j of word j/64 = haplotype j), as spin_panel_t.hap */
    const uint64_t *hap;
    int nw, n_hap;
    const int *sites; /* [n_site] panel site indices, in list order */
    int n_site;
    const int *excl;  /* [n_excl] haplotypes never returned (may be NULL) */
    int n_excl;
    /* targets: allele of target m at list site k = ta[k * ld + m], 0/1, -1 (or
     * any other value) missing
     * (spin_targets_t.allele + t0 * n_hap with ld = n_hap fits) */
    const int8_t *ta;
    size_t ld;
    int n_tgt;
    int dir;       /* SPIN_PBWT_FORWARD or SPIN_PBWT_BACKWARD */
    int P;         /* neighbours per target per site, >= 1 */
    int n_threads; /* OpenMP threads (<= 1, or <= 64 targets: serial); results do not depend on it */
} spin_pbwt_opt_t;

typedef struct spin_pbwt_s spin_pbwt_t;

/* Copies the options (not the arrays they point to, which must outlive the
 * index). NULL on bad options (P < 1, dir not +-1, an excluded index out of
 * range, n_site > 0 with a NULL array, ...) or out of memory. */
spin_pbwt_t *spin_pbwt_init(const spin_pbwt_opt_t *o);
void spin_pbwt_destroy(spin_pbwt_t *w);

/* Eligible haplotypes (n_hap minus the distinct excluded ones): the most a
 * site can return per target. */
int spin_pbwt_n_eligible(const spin_pbwt_t *w);

/* Advances to the next site in the direction's order (forward: k = 0, 1, ...;
 * backward: k = n_site - 1, n_site - 2, ...) and returns its list index k, or
 * -1 when every site has been done. For target m, row m of the caller's
 * buffers receives its min(P, n_eligible) neighbours, longest match first
 * (ties as above): hap[m * P + j] the panel haplotype index, len[m * P + j]
 * its match length in sites (see the header comment); unused entries are -1.
 * len may be NULL. fill (may be NULL) gets [n_tgt] the allele each target was
 * given at k (its own, or the filled one if missing). */
int spin_pbwt_next_site(spin_pbwt_t *w, int *hap, int *len, int8_t *fill);

/* Sorts ids[0..n) ascending, drops duplicates and negative entries in place
 * and returns the count kept: the union of neighbour rows gathered over a run
 * of sites (state selection), in a deterministic order. */
int spin_pbwt_union(int *ids, int n);

#endif
