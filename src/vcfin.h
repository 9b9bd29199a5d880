/* vcfin.h -- read the reference panel and the targets with HTSlib.
 *
 * Every record's bcf_read/itr return and rec->errcode is checked: a truncated
 * or corrupt file is an error, never a silent early end. Text VCF is read line
 * by line and each line's column count and POS are checked before vcf_parse1
 * (which accepts "abc" or "12ab3" as a position): a malformed line is an error
 * naming the file and line, never a skipped record.
 *
 * Threads: with n_threads > 1 the file is decompressed in an HTSlib thread
 * pool (the run's, or one of the reader's own), and lines are read ahead in
 * two blocks (of at most about 32 MB each) by the calling thread; each block
 * is checked and parsed by jobs in the same pool, 2 per thread, each with its
 * own copy of the header (a panel's GT is also decoded, checked and packed
 * there), while the other block's records are handed out in file order. So
 * results and the first error reported do not depend on n_threads. A line
 * naming a contig or tag the header lacks is parsed alone, in order (HTSlib
 * adds it to the header). */
#ifndef SPIN_VCFIN_H
#define SPIN_VCFIN_H

#include <stdint.h>

#include <htslib/hts.h>
#include <htslib/vcf.h>

#include "spin.h"
#include "stats.h"

/* Parses "CHR", "CHR:FROM" or "CHR:FROM-TO" (1-based inclusive, commas
 * allowed in numbers). *chrom is malloc'ed (caller frees); missing FROM -> 1,
 * missing TO -> INT64_MAX. Returns 0, or <0 with an error logged. */
int spin_region_parse(const char *reg, char **chrom, int64_t *from, int64_t *to);

/* spin_targets_read (spin.h) with the matching statistics: reads the targets' GT (diploid or haploid, t->ploidy) at records on the panel's contig (a
 * "chr" prefix difference is accepted and reported once), restricted to
 * `region` if not NULL (through the index if there is one, else by streaming),
 * and matches them to the panel (match.h rules): returns the typed sites in
 * panel coding, ascending panel site order. Fills *st (from
 * spin_match_stats_init; may be NULL) with counters and the excluded/recoded
 * site list. Unphased heterozygotes are kept, flagged in t->phased (spin.h). Errors (NULL):
 * polyploid (> 2) sample, contig lengths differing between headers
 * (genome build), match fraction below min_frac, zero typed sites. Missing
 * alleles become -1. `shown` (may be NULL: region) names the region in
 * messages: impute reads --region plus its buffer, but the user typed --region.
 * Free with spin_targets_destroy. */
spin_targets_t *spin_targets_read_matched(const char *fn, const spin_panel_t *p, const char *region, const char *shown,
                                          int n_threads, htsThreadPool *pool, double min_frac,
                                          spin_match_stats_t *st);

/* The ploidy out[i] (1 or 2) of every target sample at panel site `site`:
 * at a typed site its ploidy there (t->ploidy); at an untyped one, haploid
 * iff haploid at the nearest typed site on each side that has one (so the
 * sites between a PAR's last typed site and the non-PAR's first are
 * diploid). Depends only on the two flanking typed sites, so a region run
 * whose buffer reaches them decides as the whole run. Returns 1 if some
 * sample is haploid there, 0 if all are diploid (out may then be left
 * unfilled: t->ploidy NULL). */
int spin_targets_ploidy_at(const spin_targets_t *t, int site, uint8_t *out);
/* The same for a record between panel sites site - 1 and site (a REF-only
 * record, spin_panel_t.mono_site): always from the flanking typed sites. */
int spin_targets_ploidy_before(const spin_targets_t *t, int site, uint8_t *out);

/* spin_panel_read with `shown` naming the region in messages (NULL: region).
 * With n_threads > 1, `pool` (may be NULL: n_threads threads of the
 * reader's own) decompresses the file and parses its text lines (the panel is
 * the same for every n_threads, messages too). */
spin_panel_t *spin_panel_read_shown(const char *fn, const char *region, const char *shown, int n_threads,
                                    htsThreadPool *pool);

/* Flags of spin_panel_read_flags. SITES_ONLY: positions, ALT index and
 * count, alleles, record counts and REF-only records, as the full read gives
 * them, but no genotypes (nw 0, hap NULL, af 0, id[] NULL): a whole contig's
 * plan costs tens of bytes a site, not n_hap bits. Genotypes are not decoded,
 * so their errors surface when the sites are read in full. QUIET: no INFO
 * lines or repeated-record warnings (a chunk re-reads what the plan logged). */
enum { SPIN_PANEL_SITES_ONLY = 1, SPIN_PANEL_QUIET = 2 };
spin_panel_t *spin_panel_read_flags(const char *fn, const char *region, const char *shown, int n_threads,
                                    htsThreadPool *pool, int flags);
/* If fn can be read by region through an index (a prepared panel, a BCF
 * with a .csi, a bgzipped VCF with a .tbi/.csi): the bits its haplotypes
 * would take in a spin_panel_t read whole, from the index's counts (VCF/BCF:
 * records, so each multi-allelic record counts as one site; INT64_MAX when
 * the index holds no record counts); otherwise -1
 * (also when fn is not a regular file or cannot be opened: the full read
 * then says why). Reads no record. */
int64_t spin_panel_indexed_bits(const char *fn);

/* n copies of h, one for each of n jobs that vcf_parse at the same time
 * (vcf_parse uses the header's scratch memory, so no two may share one).
 * Every copy has h's dictionary ids, which is checked. NULL on failure (then
 * parse in one thread, with h). Free with spin_hdr_copies_destroy(c, n). */
/* The panel's record counts by type, REF-only and skipped records, as log lines
 * (kind: "" or e.g. " (prepared)", after the file name). */
void spin_panel_log_counts(const spin_panel_t *p, const char *fn, const char *kind);
/* The panel's ALT frequency at a site from its ALT haplotypes n_alt (slots) of n_hap, with
 * n_h1 haploid samples of which n_h1_alt carry the ALT: each haploid sample's copy in
 * its second slot is left out (so a haploid sample counts one haplotype). One formula for
 * the VCF and the prepared-panel readers, so both give the same float. */
static inline float spin_panel_site_af(int n_alt, int n_hap, int n_h1, int n_h1_alt)
{
    return (float)(n_alt - n_h1_alt) / (float)(n_hap - n_h1);
}
/* Allocates p->n_haploid and p->n_haploid_alt (zeros, room for p->m_site sites); <0 out of memory. */
int spin_panel_haploid_init(spin_panel_t *p);
bcf_hdr_t **spin_hdr_copies(const bcf_hdr_t *h, int n);
void spin_hdr_copies_destroy(bcf_hdr_t **c, int n);

#endif
