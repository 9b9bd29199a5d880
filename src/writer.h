/* writer.h -- imputed VCF/BCF output with HTSlib: header, records, atomic -o.
 *
 * Call order: spin_writer_open -> spin_writer_site for every output site in
 * position order -> spin_writer_close (success) or spin_writer_abort (any
 * error). With a file name, records go to a temporary file in the same
 * directory ("<dir>/.<name>.tmp.XXXXXX") that is renamed to the requested
 * name only after a clean close (and index build for -W); abort, or a failed
 * close, removes it. So a file under the requested name is always complete.
 * Through a symlink the temporary sits next to, and is renamed onto, the
 * link's final target (the link stays). Devices, FIFOs and sockets (-o
 * /dev/full, a named pipe) are written directly: no temporary, no -W. An
 * output that is one of opt->inputs (same st_dev/st_ino) or a directory is
 * refused at open.
 *
 * Signals: the library installs no handler. A CLI handler may call
 * spin_writer_unlink_temps, which is async-signal-safe, to remove the
 * temporaries of a writer that is open (not while spin_writer_close or
 * spin_writer_abort runs: block the signals around them).
 *
 * VCF text ('v', 'z') is written line by line exactly as formatted here (Beagle's
 * number formats, dosage.h); BCF ('b', 'u') parses the same line, so both carry
 * identical values. Output bytes do not depend on the number of threads.
 *
 * Threads: with n_threads > 1 records are queued (copied) in blocks of 64 per
 * thread; a full block is formatted by jobs in opt->pool (or in a pool of
 * n_threads of the writer's own), which also compresses, while the next block
 * fills; blocks are written in order. A record's checks fail at its own call;
 * a write error is reported, naming the record, by a later call (the one that
 * writes its block) or by spin_writer_close. */
#ifndef SPIN_WRITER_H
#define SPIN_WRITER_H

#include <stdint.h>

#include <htslib/hts.h>

#include "spin.h"

typedef struct spin_writer_s spin_writer_t;

/* Wall seconds a writer spent, added to by every call until its close. */
typedef struct {
    double format_s; /* records checked, copied and formatted as text (and parsed, for BCF), or waited for */
    double write_s;  /* records handed to HTSlib, compressed and flushed; close and -W index included */
} spin_writer_times_t;

typedef struct {
    const spin_panel_t *panel;   /* contig name and length for the ##contig line */
    int n_sample;
    const char *const *samples;  /* target sample names, in output column order */
    int gp;                      /* add FORMAT/GP (Beagle gp=true) */
    int ap;                      /* add FORMAT/AP1,AP2 (Beagle ap=true) */
    int write_index;             /* -W: CSI index next to the output file (needs a file, 'z' or 'b') */
    int no_version;              /* omit filedate, version, command and model lines */
    const char *command;         /* for ##spin-imputeCommand */
    const char *model_checksum;  /* for ##spin-imputeModel */
    const char *const *inputs;   /* files the output must not be (panel, targets, model, map); NULL entries skipped */
    int n_inputs;
    spin_writer_times_t *times;  /* may be NULL; filled until spin_writer_close/abort returns */
    htsThreadPool *pool;         /* may be NULL: BGZF compression threads shared with the run's readers */
} spin_writer_opt_t;

/* fn NULL or "-": stdout. fmt 'v','z','b','u', or 0 to infer from fn's
 * extension (.vcf -> v, .bcf -> b, otherwise z; stdout -> z). n_threads adds
 * BGZF compression threads. NULL on error, with a message naming fn. */
spin_writer_t *spin_writer_open(const char *fn, char fmt, int n_threads, const spin_writer_opt_t *opt);

/* One biallelic record. p_alt[2i+h] = P(ALT) of haplotype h of sample i
 * (panel coding). imputed = 1 adds INFO/IMP. Typed sites pass observed
 * alleles as 0/1. ref, alt: the VCF strings ("A", "ATT", "<DEL>", "*"). */
int spin_writer_site(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                     const char *alt, int imputed, const float *p_alt, int n_hap);
/* One record with n_alt >= 1 ALT alleles alt[0..n_alt); p_alt[k][2i+h] =
 * P(ALT k+1) of haplotype h of sample i, each ALT imputed as its own site.
 * Per haplotype P(REF) = 1 - sum_k P(ALT k); a sum above 1 is renormalised
 * to 1 (P(REF) = 0) before any field is computed. Writes DS, AP1/AP2, INFO
 * AF and DR2 per ALT (Number=A), GP per genotype in VCF order (Number=G:
 * (a,b), a <= b, at b(b+1)/2 + a), GT the most probable allele of each
 * haplotype (ties to the lower allele index). n_alt == 1 is spin_writer_site. */
int spin_writer_record(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                       const char *const *alt, int n_alt, int imputed, const float *const *p_alt, int n_hap);

/* spin_writer_record with per-sample ploidy[0..n_sample) (1 or 2; NULL: every
 * sample diploid, spin_writer_record). A haploid sample (male chrX) gets one
 * haplotype: the mean of its two slots' P(ALT) (equal when the engine had
 * the same typed alleles in both), written as Beagle 5.4 writes a haploid
 * genotype: GT "a", DS = P(ALT), AP1 = P(ALT) (AP2 "." if GP follows, else
 * left out), and GP with one value per allele (ALT count + 1, Number=G for
 * ploidy 1; Beagle writes no GP for haploids). AF and DR2 count its one
 * haplotype (N = 2 x diploids + haploids). */
int spin_writer_record_pl(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                          const char *const *alt, int n_alt, int imputed, const float *const *p_alt, int n_hap,
                          const uint8_t *ploidy);

/* A REF-only panel record, as Beagle writes it: "REF . . PASS IMP GT:DS" and
 * 0|0 (no DS value) for every sample (0 for a haploid one, _pl). */
int spin_writer_ref_only(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref);
int spin_writer_ref_only_pl(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                            const uint8_t *ploidy);

/* Registers a file published together with the output (--stats): returns the
 * name the caller writes it to, completely, before spin_writer_close, which
 * renames it to fn with the output (both appear or neither does; abort
 * removes it). fn gets the output's rules (symlink, device, not an input,
 * not the output itself). The name is owned by w. NULL on error, naming fn. */
const char *spin_writer_companion(spin_writer_t *w, const char *fn);

/* Removes w's temporary files (output, index, companions); async-signal-safe.
 * w stays valid; only for a signal handler that then ends the process. */
void spin_writer_unlink_temps(const spin_writer_t *w);

/* Closes (and indexes, renames); frees w. Returns <0 on any failure, after
 * removing the temporary file. */
int spin_writer_close(spin_writer_t *w);
/* Closes, removes the temporary file, frees w. Accepts NULL. */
void spin_writer_abort(spin_writer_t *w);

/* How a run (impute.c) opens, closes and aborts its writer; a NULL table means
 * spin_writer_open/close/abort. spin-impute passes wrappers that hold signals
 * and track the writer for its signal handler (cli_signal.c), so the library
 * itself installs no handler. */
typedef struct {
    spin_writer_t *(*open)(const char *fn, char fmt, int n_threads, const spin_writer_opt_t *opt);
    int (*close)(spin_writer_t *w);
    void (*abort)(spin_writer_t *w);
} spin_writer_ops_t;

#endif
