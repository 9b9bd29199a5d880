/* spin.h -- public API of libspin, the library behind spin-impute.
 *
 * spin-impute imputes every untyped record of a phased reference panel (SNPs,
 * indels, symbolic and multi-allelic records, each ALT allele as a 0/1 site)
 * in phased target haplotypes from
 * a phased reference panel with a SPIN network (Semi-Parametric Inducing Point
 * Network): per genomic window the whole panel is encoded into a few inducing
 * points, and a predictor queries them (plus the K panel haplotypes that match
 * the target longest) at a per-target cost that does not grow with the panel.
 *
 * Conventions
 *  - Positions are 1-based base pairs (as in VCF); genetic positions are cM.
 *  - Alleles are 0 = REF, 1 = ALT of the *panel* record; target alleles are
 *    recoded to panel coding during site matching; -1 = missing.
 *  - Haplotype h of sample i is index 2*i + h.
 *  - Functions returning int return 0 on success and <0 on error; functions
 *    returning pointers return NULL on error. Errors are reported through
 *    spin_log() on stderr; the library never exits and never writes stdout.
 *  - Every spin_X_init()/load() has a spin_X_destroy() that accepts NULL.
 */
#ifndef SPIN_H
#define SPIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Logging                                                              */
/* ------------------------------------------------------------------ */

enum { SPIN_LOG_ERROR = 1, SPIN_LOG_WARN = 2, SPIN_LOG_INFO = 3, SPIN_LOG_DEBUG = 4 };
extern int spin_verbose; /* messages with level <= spin_verbose are printed; default SPIN_LOG_INFO */

/* Prints "[E::func] msg" / "[W::func] msg" / "[M::func] msg" to stderr. */
void spin_log(int level, const char *func, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
#define spin_error(...) spin_log(SPIN_LOG_ERROR, __func__, __VA_ARGS__)
#define spin_warn(...) spin_log(SPIN_LOG_WARN, __func__, __VA_ARGS__)
#define spin_info(...) spin_log(SPIN_LOG_INFO, __func__, __VA_ARGS__)

const char *spin_version(void); /* e.g. "0.1.0" */
double spin_realtime(void);     /* wall-clock seconds since an arbitrary origin */
double spin_cputime(void);      /* process CPU seconds */
long spin_peakrss(void);        /* peak resident set size in bytes, -1 if unknown */
/* Threads BLAS may use inside one call (OpenBLAS only; returns -1 and does
 * nothing with another CBLAS). Process-wide, so libspin never calls it: the
 * engine parallelises over windows itself, and a program that imputes should
 * call spin_blas_set_num_threads(1) once at start (spin-impute does). Results
 * do not depend on it; speed does (BLAS threads inside OpenMP threads
 * oversubscribe the cores). */
int spin_blas_set_num_threads(int n);
/* Gives a file made by mkstemp (0600) the mode fopen would (0666 & ~umask). */
int spin_fchmod_default(int fd);

/* ------------------------------------------------------------------ */
/* Genetic map (PLINK format: chrom id cM bp, as Beagle's map=)         */
/* ------------------------------------------------------------------ */

typedef struct spin_gmap_s spin_gmap_t;
/* Loads the lines of chromosome `chrom` (a leading "chr" is ignored when
 * comparing). Errors name the file and line. No lines for chrom -> error. */
spin_gmap_t *spin_gmap_load(const char *fn, const char *chrom);
void spin_gmap_destroy(spin_gmap_t *m);
/* cM at bp by linear interpolation; constant-rate extrapolation beyond the
 * ends using the map's mean rate. m == NULL -> 1 cM/Mb (pos * 1e-6). */
double spin_gmap_cm(const spin_gmap_t *m, int64_t pos);

/* ------------------------------------------------------------------ */
/* Reference panel: one contig, every record as biallelic sites, bit-packed */
/* ------------------------------------------------------------------ */

/* A panel *site* is one ALT allele of one panel record: a biallelic record
 * (SNP, indel, symbolic such as <DEL>, spanning deletion *) is one site; a
 * multi-allelic record with n ALT alleles is n consecutive sites at the same
 * position, site k carrying haplotypes with ALT k as 1 and everything else
 * (REF or another ALT) as 0. The model sees only these 0/1 alleles; the
 * writer joins a record's sites back into one VCF record. */
typedef struct {
    char *fn;         /* file name, for messages */
    char *chrom;      /* contig name as written in the panel */
    int64_t chrom_len;/* ##contig length, 0 if absent */
    int n_sample;
    char **samples;
    int n_hap;        /* 2 * n_sample */
    int n_site, m_site;
    int64_t *pos;     /* [n_site] 1-based, non-decreasing */
    char **id;        /* [n_site] VCF ID ("." if none) */
    char *astr;       /* allele arena: site s's REF at astr + aoff[s], its ALT after REF's NUL */
    size_t *aoff;     /* [n_site] offsets into astr */
    size_t n_astr, m_astr; /* bytes used / allocated in astr */
    uint16_t *ialt;   /* [n_site] 1-based index of the site's ALT in its record */
    uint16_t *nalt;   /* [n_site] number of ALT alleles of the site's record (1: biallelic) */
    double *cm;       /* [n_site] genetic position (cM) */
    float *af;        /* [n_site] ALT frequency in the panel */
    int nw;           /* 64-bit words per site = (n_hap + 63) / 64 */
    uint64_t *hap;    /* [n_site * nw]; bit j of word (s*nw + j/64) = ALT on haplotype j */
    /* records read, by type (a record is counted once, however many sites it gives) */
    int64_t n_rec_snp, n_rec_indel, n_rec_other, n_rec_multi;
    int64_t n_skip_mono; /* records with an ALT equal to REF: skipped */
    /* Haploid genotypes (male chrX outside the PARs): a sample haploid at site s
     * keeps two slots, the second a copy of the first (so the engine sees
     * ordinary haplotypes, whatever the region read); af counts its allele once.
     * NULL when no genotype of the panel is haploid. */
    int *n_haploid;      /* [n_site] samples haploid at s */
    int *n_haploid_alt;  /* [n_site] of them carrying the site's ALT */
    /* REF-only records (ALT "."): nothing to impute; written as Beagle does
     * ("REF . . PASS IMP GT:DS 0|0"), in panel order: record i comes after the
     * first mono_site[i] sites */
    int n_mono, m_mono;
    int64_t *mono_pos;
    char **mono_id, **mono_ref;
    int *mono_site;
} spin_panel_t;

static inline int spin_panel_allele(const spin_panel_t *p, int site, int hap)
{
    return (int)((p->hap[(size_t)site * p->nw + (hap >> 6)] >> (hap & 63)) & 1);
}
/* REF and ALT strings of site s (VCF spelling, e.g. "A", "ATT", "<DEL>", "*"). */
static inline const char *spin_panel_ref(const spin_panel_t *p, int s) { return p->astr + p->aoff[s]; }
const char *spin_panel_alt(const spin_panel_t *p, int s);
/* 1 if site s is a biallelic SNP record (single bases A/C/G/T). */
int spin_panel_is_snp(const spin_panel_t *p, int s);

/* Reads a phased reference panel (VCF, VCF.gz or BCF) into a bit-packed panel.
 * A prepared panel (`spin-impute prepare`) is recognised by its magic and read
 * as the identical panel of the VCF/BCF it was made from (region or not).
 * region NULL: the whole file, which must hold exactly one contig (error
 * otherwise, suggesting --region). region "CHR:FROM-TO": read through the
 * index (.tbi/.csi; error if there is none). Keeps every record with an ALT
 * allele (SNPs, indels, symbolic, multi-allelic split into one site per ALT),
 * counted by type; REF-only records are kept aside (mono_*) to be written as
 * they are; a record with an ALT equal to REF is skipped and counted in
 * n_skip_mono; a haploid genotype fills both slots of its sample (n_haploid);
 * an exact repeat of an earlier record (position and
 * alleles) is skipped with a warning. Unphased
 * or missing genotypes, polyploid (> 2) samples and unsorted positions are errors
 * naming the sample and chrom:pos; a malformed record (POS not a positive
 * integer, a column count other than the header's, an empty line) is an error
 * naming the file and line (both readers), never skipped. af is the ALT frequency in the panel; cm is
 * filled with 1 cM/Mb (pos * 1e-6); call spin_panel_set_map for a real map.
 * n_threads > 1 adds HTSlib decompression threads. Free with spin_panel_destroy. */
spin_panel_t *spin_panel_read(const char *fn, const char *region, int n_threads);

/* Fills p->cm from map m (NULL = 1 cM/Mb). Returns 0. */
int spin_panel_set_map(spin_panel_t *p, const spin_gmap_t *m);

void spin_panel_destroy(spin_panel_t *p);

/* ------------------------------------------------------------------ */
/* Targets: typed sites matched to the panel                            */
/* ------------------------------------------------------------------ */

typedef struct {
    char *fn;
    int n_sample;
    char **samples;
    int n_hap;        /* 2 * n_sample */
    int n_typed, m_typed;
    int *site;        /* [n_typed] panel site index of typed site t, strictly ascending */
    int8_t *allele;   /* [n_typed * n_hap] allele of hap h at typed site t (panel coding), -1 missing;
                       * an unphased heterozygote is stored in the file's allele order */
    int8_t *gt;       /* [n_typed * n_sample] ALT count 0/1/2 of sample i at typed site t (panel coding),
                       * -1 if either allele is missing; as read (phasing does not change it) */
    uint8_t *phased;  /* [n_typed * n_sample] 0: an unphased heterozygote ("0/1"), whose order in allele[]
                       * is arbitrary until phased; 1: every other genotype (phased, homozygous
                       * or with a missing allele: nothing to orient) */
    int64_t n_unphased; /* unphased heterozygous genotypes (entries of phased[] that are 0) */
    /* [n_typed * n_sample] ploidy (1 or 2) of sample i at typed site t; NULL when every
     * genotype read is diploid. A haploid genotype is stored in both slots of allele[]
     * (equal, so phased[] is 1 and gt[] is 0 or 2); a lone "." (missing, ploidy not
     * given) takes the ploidy of the nearest typed sites with one given (haploid iff
     * haploid on each side that has one; diploid if none has). */
    uint8_t *ploidy;
} spin_targets_t;


/* Default minimum fraction of target records (on the contig, inside the
 * panel's position span, excluding duplicate records) that must match a
 * panel record; below it the data are refused (wrong build or
 * naming). 0.5 follows Eagle's "more than 50% of target variants not found". */
#define SPIN_MIN_MATCH_FRAC 0.5


/* Reads the targets' diploid GT (phased, unphased or partly phased) at the records on the panel's contig
 * (a "chr" prefix difference is accepted), restricted to `region` if not NULL
 * (through the index if there is one, else by streaming), and matches them to
 * the panel by position and alleles (SNPs: REF/ALT swaps and strand flips are
 * recoded, palindromic A/T, C/G sites match only exactly; indels, symbolic and
 * multi-allelic records: the same REF and ALT list exactly, so panel and
 * targets must be normalised alike, `bcftools norm -f ref.fa`; a matched
 * multi-allelic record types each of its ALT sites): returns the typed
 * sites in panel coding, ascending panel site order; missing alleles are -1;
 * unphased heterozygotes are kept in the file's order and flagged (phased[],
 * n_unphased): phase them before imputing (the run does).
 * Haploid genotypes (male chrX) are read as t->ploidy says; a sample may be haploid at
 * some sites and diploid at others.
 * Errors (NULL, message naming the file and site): polyploid sample, contig lengths differing between the headers
 * (genome build), a match fraction below min_frac (e.g. SPIN_MIN_MATCH_FRAC),
 * zero typed sites. Free with spin_targets_destroy. */
spin_targets_t *spin_targets_read(const char *fn, const spin_panel_t *p, const char *region, int n_threads,
                                  double min_frac);
void spin_targets_destroy(spin_targets_t *t);

/* ------------------------------------------------------------------ */
/* Phasing of the targets' typed sites (doc/phasing.md)                 */
/* ------------------------------------------------------------------ */

#define SPIN_PHASE_ITER 5      /* iterations (state choice + forward-backward) */
#define SPIN_PHASE_STATES 48   /* composite conditioning haplotypes per sample */
#define SPIN_PHASE_P 2         /* PBWT neighbours per haplotype, site and direction */
#define SPIN_PHASE_NE 1000000.0 /* effective population size of the jump probability */
#define SPIN_PHASE_ERR 0.0001  /* per-allele mismatch probability */
#define SPIN_PHASE_AVG 2       /* last iterations whose switch posteriors are averaged */

typedef struct {
    int n_iter;       /* >= 1 [SPIN_PHASE_ITER] */
    int n_states;     /* 2..255 [SPIN_PHASE_STATES] */
    int P;            /* >= 1 [SPIN_PHASE_P] */
    double ne;        /* > 0 [SPIN_PHASE_NE] */
    double err;       /* in (0, 0.5) [SPIN_PHASE_ERR] */
    int n_avg;        /* 0..n_iter (<= 255): the calls average the switch posteriors of the last n_avg
                       * iterations (0 or 1: the last one's) [SPIN_PHASE_AVG] */
    int fill_missing; /* 1: missing alleles get their most probable alleles (a hard call); 0: left -1 */
    int n_threads;    /* OpenMP threads; results do not depend on it [1] */
} spin_phase_opt_t;

void spin_phase_opt_default(spin_phase_opt_t *o);
/* Orients every unphased heterozygote of t (t->phased[] == 0) against the
 * panel p at the typed sites, which need p->cm (spin_panel_set_map). Genotypes
 * that arrived phased are kept as they are and constrain the phase around
 * them; the ALT counts never change. Sets t->n_unphased to 0 and *n_phased
 * (may be NULL) to the number of heterozygotes oriented. Deterministic for
 * every n_threads. Returns 0, or <0 (bad options, out of memory). */
int spin_phase_run(const spin_panel_t *p, spin_targets_t *t, const spin_phase_opt_t *o, int64_t *n_phased);

/* ------------------------------------------------------------------ */
/* Windows                                                              */
/* ------------------------------------------------------------------ */

/* A window: w consecutive untyped panel sites plus a typed context, the
 * targets' typed sites [t0, t1) (the c nearest on each side of the untyped
 * block and every typed site inside it). Windows partition the untyped sites. */
typedef struct {
    int n_untyped;
    const int *untyped; /* panel site indices, ascending */
    int t0, t1;         /* typed context: indices into spin_targets_t.site */
} spin_window_t;

/* Builds the windows over the untyped panel sites s (sites not in t->site)
 * with from <= p->pos[s] <= to (pass 0, INT64_MAX for the whole contig).
 *
 * Sizes: blocks of exactly w consecutive untyped sites, anchored at the first
 * untyped site in [from, to]; the remainder r = U mod w is a last window of r
 * sites, or joins the previous window when r < w/4 (never a tiny last
 * window). So a region that starts at a window boundary of the whole-contig
 * partition and holds whole windows gets exactly the whole run's windows
 * (`spin-impute chunk` cuts chunks that way). Deterministic.
 *
 * Context: [t0, t1) indexes t->site: every typed site between the window's
 * first and last untyped site, plus the c nearest typed sites on each side
 * (fewer at the ends of the typed set; t0 == t1 when there are no typed sites).
 * For --region with a buffer, read the panel and targets over region +/-
 * buffer and pass the core region as [from, to]: the context then reaches into
 * the buffer while only core sites are imputed.
 *
 * Output: *win (n_win entries) and *store (all untyped indices; win[i].untyped
 * points into it) are malloc'ed here, replacing whatever they held; the caller
 * frees both with free(). U == 0 gives *n_win = 0 and returns 0.
 * t may be NULL (no typed sites). Returns 0, <0 on error (w < 1, c < 0, OOM). */
int spin_windows_make(const spin_panel_t *p, const spin_targets_t *t, int w, int c, int64_t from, int64_t to,
                      spin_window_t **win, int *n_win, int **store);
/* Segments (spin_config_t.seg = B): as spin_windows_make, but a block is B
 * consecutive non-empty typed intervals (an interval: the untyped sites between
 * two consecutive typed sites, or before the first / after the last) with all
 * their untyped sites, anchored at the interval of the first untyped site in
 * [from, to]; a remainder of fewer than B/4 intervals joins the last block. So
 * region and chunk runs rebuild the whole run's segments exactly as for
 * windows. */
int spin_windows_make_seg(const spin_panel_t *p, const spin_targets_t *t, int B, int c, int64_t from, int64_t to,
                          spin_window_t **win, int *n_win, int **store);

/* ------------------------------------------------------------------ */
/* Model                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    int e;        /* embedding width per token */
    int heads;    /* attention heads (divides e) */
    int k;        /* latent attributes per row (XABA queries) */
    int h;        /* inducing points per window */
    int L;        /* SPIN layers (XABA -> ABLA -> XABD) */
    int ffn;      /* FFN expansion factor */
    int w;        /* untyped SNPs per window */
    int c;        /* typed context SNPs on each side of a window */
    int K;        /* panel neighbours given to the predictor */
    int enc_rows; /* max panel rows encoded per window (evenly strided); 0 = all */
    int hmm;      /* 1: the copy path also weighs neighbours by their Li-Stephens posterior;
                   * 0: by IBS lengths only (models written before this setting existed) */
    int seg;      /* 0: v1 windows (w untyped sites, neighbours by longest match at the
                   * centre). B > 0: segments (doc/engine-v2.md): a window is B typed
                   * intervals (gaps holding untyped sites) with every untyped site in
                   * them, c typed context sites a side, and copy states chosen per gap
                   * by the PBWT; K then caps the union of states per target, and w caps
                   * the untyped sites of a training window only */
    int pbwt_p;   /* segments: PBWT neighbours per direction per gap (a gap's copy states
                   * are the P longest left matches at its left typed site and the P
                   * longest right matches at its right one) */
} spin_config_t;

void spin_config_default(spin_config_t *cfg);

/* Typed sites on each side of a window's untyped block that the neighbour
 * search looks at: SPIN_NBR_CONTEXT_MULT * c. The model's tokens are the c
 * nearest of them; longer matches beyond the tokens find the haplotypes that
 * share a long segment with the target (what rare variants need) at the cost
 * of bit operations only. Windows are made with this context. */
#define SPIN_NBR_CONTEXT_MULT 3
static inline int spin_config_nbr_context(const spin_config_t *c)
{
    return c->seg > 0 ? c->c : SPIN_NBR_CONTEXT_MULT * c->c; /* segments: the PBWT sees the tokens only */
}

/* The windows of model settings cfg (spin_windows_make or spin_windows_make_seg). */
int spin_windows_make_cfg(const spin_panel_t *p, const spin_targets_t *t, const spin_config_t *cfg, int64_t from,
                          int64_t to, spin_window_t **win, int *n_win, int **store);

typedef struct spin_model_s spin_model_t;

/* Training provenance stored in the model file (free text fields). */
typedef struct {
    char *command;   /* command line that trained it */
    char *data;      /* training data description */
    uint64_t seed;
    int64_t steps;
    double wall_s;
} spin_provenance_t;

spin_model_t *spin_model_init(const spin_config_t *cfg, uint64_t seed);
void spin_model_destroy(spin_model_t *m);
/* Refuses truncated, corrupt (CRC32), wrong-magic, wrong-version or
 * inconsistent files with a message saying which. */
spin_model_t *spin_model_load(const char *fn);
int spin_model_save(const spin_model_t *m, const char *fn); /* atomic: temp + rename */
const spin_config_t *spin_model_config(const spin_model_t *m);
const spin_provenance_t *spin_model_provenance(const spin_model_t *m);
int64_t spin_model_n_params(const spin_model_t *m);
/* CRC32 of the model file as loaded/saved, 8 hex digits ("00000000" if never saved). */
const char *spin_model_checksum(const spin_model_t *m);

/* ------------------------------------------------------------------ */
/* Imputation engine                                                    */
/* ------------------------------------------------------------------ */

typedef struct spin_engine_s spin_engine_t;

/* Per-run state and per-thread scratch; n_threads >= 1 drives OpenMP. */
spin_engine_t *spin_engine_init(const spin_model_t *m, int n_threads);
void spin_engine_destroy(spin_engine_t *e);
/* Logs (INFO) the thread-time spent per window encoding the panel, and per
 * target haplotype per window in neighbour search and prediction. */
void spin_engine_log_costs(const spin_engine_t *e);

/* Imputes windows win[0..n_win). For window i, p_alt[i] must hold
 * win[i].n_untyped * t->n_hap floats and receives P(ALT) of target haplotype
 * hap at untyped site j at p_alt[i][j * t->n_hap + hap]. Results do not depend
 * on n_threads. A window with no typed context is imputed from the panel
 * alone (population frequencies). */
int spin_engine_impute(spin_engine_t *e, const spin_panel_t *p, const spin_targets_t *t,
                       const spin_window_t *win, int n_win, float **p_alt);

/* P(ALT) for every (typed site t, target haplotype h) whose target allele is
 * missing (-1), written at p_miss[t * t->n_hap + h]; entries of observed
 * alleles are left unspecified. Results do not depend on n_threads. */
int spin_engine_impute_typed_missing(spin_engine_t *e, const spin_panel_t *p, const spin_targets_t *t,
                                     float *p_miss);

/* ------------------------------------------------------------------ */
/* The whole imputation run (what `spin-impute impute` does)            */
/* ------------------------------------------------------------------ */

/* bp of typed context read on each side of a region: the neighbour search sees
 * SPIN_NBR_CONTEXT_MULT * c = 288 typed sites a side with the default model,
 * 1.4 Mb at one per 5 kb; 1 Mb covers arrays of >= 1 per 3.5 kb. */
#define SPIN_DEFAULT_BUFFER 1000000

/* Default spin_impute_opt_t.max_panel_mb: a 5,008-haplotype panel's 212k
 * sites, a 64k-haplotype panel's 16k; small next to the engine's buffers */
#define SPIN_DEFAULT_MAX_PANEL_MB 128

/* Return values of spin_impute_run besides 0. */
enum { SPIN_ERR = -1, SPIN_ERR_USAGE = -2 };

typedef struct {
    const char *ref_fn;    /* phased reference panel (VCF, VCF.gz, BCF) */
    const char *target_fn; /* target genotypes, phased, unphased or both (VCF, VCF.gz, BCF) */
    const spin_model_t *model; /* the model; NULL: load model_fn */
    const char *model_fn;
    const char *map_fn;    /* PLINK genetic map; NULL: 1 cM = 1 Mb */
    const char *region;    /* "CHR:FROM-TO" to impute (indexed inputs); NULL: the whole contig */
    int64_t buffer;        /* bp of typed context read on each side of region [SPIN_DEFAULT_BUFFER] */
    double min_match;      /* minimum matched fraction of target sites [SPIN_MIN_MATCH_FRAC] */
    const char *out_fn;    /* output file, written atomically; NULL or "-": stdout */
    char out_fmt;          /* 'v', 'z', 'b', 'u', or 0: from out_fn's extension */
    int write_index;       /* CSI index next to out_fn (needs a file and 'z' or 'b') */
    int gp, ap;            /* add FORMAT/GP; FORMAT/AP1,AP2 */
    int no_version;        /* omit the date, version, command and model header lines */
    const char *command;   /* for the ##spin-imputeCommand header line (NULL: none) */
    const char *stats_fn;  /* site-matching statistics TSV; NULL: none */
    int n_threads;         /* engine (OpenMP) and BGZF threads [1] */
    int phase_only;        /* 1: phase the targets and write them at their typed sites only (missing
                            * alleles filled; no model needed, no imputation) [0] */
    /* Progress, for a caller that shows it (libspin itself prints none beyond
     * spin_log): called on the calling thread with the windows imputed and
     * written so far, their total and the wall seconds since the run started,
     * once before the first window (done = 0) and after every block of windows
     * (64 per thread), the last call with done == total. NULL: not called. */
    void (*progress)(void *ctx, int64_t done, int64_t total, double elapsed_s);
    void *progress_ctx;
    /* MB of panel haplotypes (sites x n_hap bits) held at once: with an
     * indexed panel (prepared, BCF .csi, VCF.gz .tbi/.csi), a contig needing
     * more is imputed in internal chunks of whole windows,
     * each read by region with its typed context, giving the same output; 0:
     * read the panel whole; a fraction of a MB is allowed [SPIN_DEFAULT_MAX_PANEL_MB] */
    double max_panel_mb;
} spin_impute_opt_t;

void spin_impute_opt_default(spin_impute_opt_t *o);
/* Reads the panel and targets, phases targets with unphased heterozygotes
 * (spin_phase_run with the default options; targets without one are not
 * touched), imputes every untyped panel site of the region
 * and writes every panel site of it (typed sites with their observed alleles)
 * in position order. Targets with no observed typed allele are refused; a
 * typed site missing in every sample is written as imputed (INFO/IMP); target
 * samples with no observed allele, or also in the panel, are warned about.
 * Returns 0 only when every record was written and the output closed; SPIN_ERR_USAGE for a malformed region or missing inputs/model;
 * SPIN_ERR for any other
 * error (message on stderr). A file output is never left partial. Output bytes
 * do not depend on n_threads. */
int spin_impute_run(const spin_impute_opt_t *o);

#ifdef __cplusplus
}
#endif
#endif
