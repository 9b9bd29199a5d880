/* panelfile.h -- the prepared-panel file (`spin-impute prepare`): a reference
 * panel stored as spin_panel_read leaves it, so that loading it gives the same
 * spin_panel_t (and the same imputed output) as reading the VCF/BCF it was
 * made from, without parsing genotypes.
 *
 * Format, version 2 (every integer little-endian, whatever the host):
 *
 *   0   "SPINPANL"  magic, 8 bytes
 *   8   u32 version (2), u32 0
 *   16  blocks: each a zlib (deflate) stream of one block's sites, CRC32 in the index
 *   H   header: u64 file size, the panel's VCF header text (contigs, samples),
 *       and per contig: name, ##contig length, site/record counts and the block
 *       index (per block: position range, first site, site and REF-only record
 *       counts, offset, compressed and raw sizes, CRC32 of the compressed bytes)
 *   end-32  footer: u64 H, u64 header length, u32 CRC32 of bytes [0, 16) + header
 *       + footer[0, 16), u32 0, "SPINPEND"
 *
 * A block holds up to SPIN_PANELFILE_BLOCK_SITES consecutive sites of one
 * contig (and the REF-only records among them), column by column: position
 * deltas, ALT index and count, record class, IDs, alleles, REF-only records,
 * then per site its haplotypes as a bitset (n_hap bits) or, when that is
 * shorter, the sorted indices of the haplotypes carrying the minor allele
 * (delta varints): 1000 Genomes-size panels are mostly rare sites; last a
 * flag (u8) and, if 1, per site two varints: the samples haploid there and
 * how many of them carry the ALT (spin_panel_t.n_haploid, n_haploid_alt;
 * their second slot is already a copy of the first in the haplotypes).
 * Version 2 added that flag; version 1 files are refused (prepare again). A
 * region reads only the blocks whose position range meets it.
 *
 * Only what depends on the panel alone is stored: cM positions come from the
 * run's --map (as for a VCF panel), allele frequencies are recomputed from the
 * haplotypes exactly as the VCF reader computes them, and no model state is
 * stored, so the file records no model checksum and serves every model. */
#ifndef SPIN_PANELFILE_H
#define SPIN_PANELFILE_H

#include <stdint.h>

#include <htslib/vcf.h>

#include "spin.h"

#define SPIN_PANELFILE_VERSION 2 /* 2: haploid counts per block (male chrX) */
/* sites per block: ~100 kb of a 1000 Genomes chromosome, so a region reads
 * little it does not need, and a block of 5,008 haplotypes stays below 3 MB raw */
#define SPIN_PANELFILE_BLOCK_SITES 2048

/* 1 if fn is a regular file that begins or ends like a prepared panel (its
 * magic or end marker), so spin_panelfile_read should read it and say what is
 * wrong with it; 0 otherwise (not one, or unreadable: left to the VCF reader). */
int spin_panelfile_detect(const char *fn);

/* The panel of prepared file fn as spin_panel_read_shown would read the VCF/BCF
 * it was made from: region NULL needs a single-contig file (error otherwise,
 * suggesting --region); region "CHR:FROM-TO" loads only the blocks meeting it.
 * Every block read is CRC-checked. Truncated, corrupt (header or block CRC),
 * wrong-magic and wrong-version files are refused with a message saying which.
 * `shown` names the region in messages (NULL: region). */
spin_panel_t *spin_panelfile_read(const char *fn, const char *region, const char *shown);
/* The same with spin_panel_read_flags' flags (vcfin.h): SITES_ONLY skips the
 * haplotypes of every block (they are still inflated and CRC-checked). */
spin_panel_t *spin_panelfile_read_flags(const char *fn, const char *region, const char *shown, int flags);

/* The panel's VCF header as stored in prepared file fn (for the target
 * reader's contig-length check), or NULL if fn is not a prepared panel or is
 * unreadable (silently: the caller falls back). Free with bcf_hdr_destroy. */
bcf_hdr_t *spin_panelfile_header(const char *fn);

/* Bits the haplotypes of every site of prepared file fn take in a
 * spin_panel_t (sites x 64 x nw), or -1 if unreadable (silently). */
int64_t spin_panelfile_bits(const char *fn);

/* The contigs stored in prepared file fn, in file order: *names (each and the
 * array malloc'ed; caller frees) and *n. Returns 0, <0 on error (logged). */
int spin_panelfile_contigs(const char *fn, char ***names, int *n);

typedef struct {
    int n_contig;
    int64_t n_site, n_mono, n_block;
    int64_t bytes;       /* size of the file written */
    int64_t raw_bits;    /* n_site * n_hap: the bit matrix the haplotypes would take */
    int64_t n_sparse;    /* sites stored as a minor-allele index list */
} spin_panelfile_info_t;

/* Writes the prepared panel of VCF/BCF in_fn to out_fn (temporary next to it,
 * renamed when complete; never onto in_fn). Every contig of in_fn's index that
 * has records is read with spin_panel_read (so the same checks apply); a file
 * without an index must hold one contig. n_threads: HTSlib decompression
 * threads. level: zlib level 1..9. info may be NULL. Returns 0, <0 on error
 * (message naming the file; out_fn is then not created or changed). */
int spin_panelfile_write(const char *in_fn, const char *out_fn, int n_threads, int level,
                         spin_panelfile_info_t *info);

#endif
