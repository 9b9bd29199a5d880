/* writer.c -- VCF/BCF writer: Beagle-compatible header and records, atomic -o. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <htslib/bgzf.h>
#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/tbx.h> /* hts_get_bgzfp */
#include <htslib/thread_pool.h>
#include <htslib/vcf.h>

#include "dosage.h"
#include "vcfin.h"
#include "writer.h"

/* A file published with the output at close (--stats): written by the caller
 * to tmp, renamed to dest; tmp NULL when dest is written directly. */
typedef struct {
    char *shown, *dest, *tmp;
} companion_t;

#define MAX_COMPANION 4

/* Records are formatted a block at a time by jobs in the thread pool (2 per
 * thread), while the caller fills the next block: a block holds at most 64
 * records per thread (1 with one thread: each record is written as it comes)
 * and BLOCK_PROBS probabilities (bounds its memory for many samples). */
#define BLOCK_PER_THREAD 64
#define BLOCK_PROBS ((size_t)1 << 22)
#define JOBS_PER_THREAD 2
#define NO_PLOIDY ((size_t)-1)

/* A record waiting to be formatted: copies of what spin_writer_record was
 * given (the caller's buffers are its own again when the call returns). */
typedef struct {
    int64_t pos;
    size_t str;     /* offset in arena of "chrom\0id\0ref\0alt1\0...altn\0" */
    size_t prob;    /* offset in probs of n_alt rows of n_hap P(ALT), renormalised */
    size_t pl;      /* offset in pls of n_sample ploidies (1, 2), or NO_PLOIDY: every sample diploid */
    int n_alt;      /* 0: a REF-only record */
    int imputed;
    int rc;         /* format_record (and vcf_parse for BCF): 0, -1 out of memory, -2 not parsed */
    int parsed;     /* BCF: rec holds the line parsed */
    kstring_t line; /* the formatted line, newline included; kept with its slot across blocks */
    bcf1_t *rec;    /* BCF output: the line parsed */
} pending_t;

struct wblock_s;
typedef struct { /* records [lo, hi) of a block; h: a header copy to parse BCF with, or NULL */
    const struct spin_writer_s *w;
    struct wblock_s *b;
    int lo, hi;
    bcf_hdr_t *h;
} wjob_t;

typedef struct wblock_s {
    pending_t *q;     /* [m_q] slots, the first n_q pending */
    int n_q, m_q;
    kstring_t arena;  /* the pending records' strings */
    float *probs;     /* [m_probs] the pending records' probabilities, n_probs used */
    size_t n_probs, m_probs;
    uint8_t *pls;     /* [m_pls] the pending records' ploidies (records with a haploid sample), n_pls used */
    size_t n_pls, m_pls;
    wjob_t *job;      /* [n_job] */
    int in_flight;    /* jobs dispatched whose results are not collected */
} wblock_t;

struct spin_writer_s {
    htsFile *fp;
    bcf_hdr_t *hdr;
    wblock_t blk[2];  /* blk[cur] is filled while the other one is formatted */
    int cur, block, n_job;
    hts_tpool *tp, *own_tp; /* the run's pool or own_tp; NULL: one thread */
    hts_tpool_process *tq;  /* the format jobs' queue (results in dispatch order) */
    bcf_hdr_t **hcopy; /* BCF with a pool: 2 * n_job header copies (spin_hdr_copies), job k of blk[i] has i * n_job + k */
    int failed;       /* a block could not be written: the output is incomplete */
    char *fn;      /* requested name as given (for messages), NULL for stdout */
    char *dest;    /* renamed onto at close: fn, or a symlink's final target; NULL when writing directly */
    char *tmp;     /* temporary output while writing, NULL when writing directly */
    char *tmp_idx, *dest_idx; /* -W: a temporary next to "<fn>.csi", and "<fn>.csi" */
    int n_comp;    /* fixed array: spin_writer_unlink_temps must not race a realloc */
    companion_t comp[MAX_COMPANION];
    struct stat *in_st; /* identities of the inputs (st_dev, st_ino) the output must not be */
    char **in_fn;
    int n_in;
    char fmt;
    int gp, ap, write_index, n_threads, n_sample;
    spin_writer_times_t *times; /* opt->times, or own_times */
    spin_writer_times_t own_times;
};

/* Beagle 5.4 header lines, verbatim (ecosystem.md 1.1). */
static const char *const beagle_info[] = {
    "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Estimated ALT Allele Frequencies\">",
    "##INFO=<ID=DR2,Number=A,Type=Float,Description=\"Dosage R-Squared: estimated squared correlation between "
    "estimated REF dose [P(RA) + 2*P(RR)] and true REF dose\">",
    "##INFO=<ID=IMP,Number=0,Type=Flag,Description=\"Imputed marker\">",
    "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">",
    "##FORMAT=<ID=DS,Number=A,Type=Float,Description=\"estimated ALT dose [P(RA) + 2*P(AA)]\">",
};
static const char *const beagle_ap[] = {
    "##FORMAT=<ID=AP1,Number=A,Type=Float,Description=\"estimated ALT dose on first haplotype\">",
    "##FORMAT=<ID=AP2,Number=A,Type=Float,Description=\"estimated ALT dose on second haplotype\">",
};
static const char *const beagle_gp =
    "##FORMAT=<ID=GP,Number=G,Type=Float,Description=\"Estimated Genotype Probability\">";

static char infer_fmt(const char *fn)
{
    if (!fn) return 'z';
    size_t n = strlen(fn);
    if (n >= 4 && strcmp(fn + n - 4, ".vcf") == 0) return 'v';
    if (n >= 4 && strcmp(fn + n - 4, ".bcf") == 0) return 'b';
    return 'z';
}

static int land_block(spin_writer_t *w, struct wblock_s *b, int write);

static void writer_free(spin_writer_t *w)
{
    if (!w) return;
    for (int k = 0; k < 2; k++) /* format jobs still running use the blocks */
        if (w->blk[k].in_flight) land_block(w, &w->blk[k], 0);
    for (int k = 0; k < 2; k++) {
        wblock_t *b = &w->blk[k];
        for (int i = 0; i < b->m_q; i++) {
            free(b->q[i].line.s);
            if (b->q[i].rec) bcf_destroy(b->q[i].rec);
        }
        free(b->q), free(b->arena.s), free(b->probs), free(b->pls), free(b->job);
    }
    if (w->tq) hts_tpool_process_destroy(w->tq);
    if (w->own_tp) hts_tpool_destroy(w->own_tp); /* after hts_close: the caller closed w->fp */
    spin_hdr_copies_destroy(w->hcopy, 2 * w->n_job);
    if (w->hdr) bcf_hdr_destroy(w->hdr);
    free(w->fn), free(w->dest), free(w->tmp), free(w->tmp_idx), free(w->dest_idx);
    for (int i = 0; i < w->n_comp; i++) free(w->comp[i].shown), free(w->comp[i].dest), free(w->comp[i].tmp);
    for (int i = 0; i < w->n_in; i++) free(w->in_fn[i]);
    free(w->in_fn), free(w->in_st);
    free(w);
}

/* "<dir>/.<base>.tmp.XXXXXX", created empty by mkstemp (so the name is ours). */
static char *make_temp(const char *fn)
{
    const char *slash = strrchr(fn, '/');
    size_t dl = slash ? (size_t)(slash - fn + 1) : 0;
    size_t n = strlen(fn) + 16;
    char *t = malloc(n);
    if (!t) return NULL;
    snprintf(t, n, "%.*s.%s.tmp.XXXXXX", (int)dl, fn, slash ? slash + 1 : fn);
    int fd = mkstemp(t);
    if (fd < 0) {
        spin_error("cannot create a temporary file next to %s: %s", fn, strerror(errno));
        free(t);
        return NULL;
    }
    spin_fchmod_default(fd);
    close(fd);
    return t;
}

static int build_header(spin_writer_t *w, const spin_writer_opt_t *o)
{
    kstring_t s = {0, 0, NULL};
    bcf_hdr_t *h = w->hdr = bcf_hdr_init("w");
    if (!h) return -1;
    int ret = -1;
    if (!o->no_version) {
        time_t now = time(NULL);
        struct tm tm;
        char date[16];
        localtime_r(&now, &tm);
        strftime(date, sizeof(date), "%Y%m%d", &tm);
        ksprintf(&s, "##filedate=%s", date);
        if (bcf_hdr_append(h, s.s) < 0) goto out;
    }
    s.l = 0;
    ksprintf(&s, "##source=\"spin-impute %s\"", spin_version());
    if (bcf_hdr_append(h, s.s) < 0) goto out;
    for (size_t i = 0; i < sizeof(beagle_info) / sizeof(beagle_info[0]); i++)
        if (bcf_hdr_append(h, beagle_info[i]) < 0) goto out;
    if (w->ap)
        for (int i = 0; i < 2; i++)
            if (bcf_hdr_append(h, beagle_ap[i]) < 0) goto out;
    if (w->gp && bcf_hdr_append(h, beagle_gp) < 0) goto out;
    s.l = 0;
    if (o->panel->chrom_len > 0) ksprintf(&s, "##contig=<ID=%s,length=%lld>", o->panel->chrom, (long long)o->panel->chrom_len);
    else ksprintf(&s, "##contig=<ID=%s>", o->panel->chrom);
    if (bcf_hdr_append(h, s.s) < 0) goto out;
    if (!o->no_version) {
        s.l = 0;
        ksprintf(&s, "##spin-imputeVersion=%s+htslib-%s", spin_version(), hts_version());
        if (bcf_hdr_append(h, s.s) < 0) goto out;
        time_t now = time(NULL);
        char tbuf[64];
        ctime_r(&now, tbuf);
        tbuf[strcspn(tbuf, "\n")] = 0;
        s.l = 0;
        ksprintf(&s, "##spin-imputeCommand=%s; Date=%s", o->command ? o->command : "spin-impute", tbuf);
        if (bcf_hdr_append(h, s.s) < 0) goto out;
        s.l = 0;
        ksprintf(&s, "##spin-imputeModel=crc32:%s", o->model_checksum ? o->model_checksum : "none");
        if (bcf_hdr_append(h, s.s) < 0) goto out;
    }
    for (int i = 0; i < o->n_sample; i++)
        if (bcf_hdr_add_sample(h, o->samples[i]) < 0) goto out;
    if (bcf_hdr_sync(h) < 0) goto out;
    ret = 0;
out:
    free(s.s);
    return ret;
}

static char *cat2(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s", a, b);
    return s;
}

/* Refuses an output path that is one of the inputs (same st_dev and st_ino,
 * so hard links, symlinks and "./x" spellings are caught). st: fn's stat. */
static int check_not_input(const spin_writer_t *w, const char *fn, const struct stat *st)
{
    for (int i = 0; i < w->n_in; i++)
        if (w->in_st[i].st_dev == st->st_dev && w->in_st[i].st_ino == st->st_ino) {
            spin_error("output file %s is the input file %s: refusing to overwrite an input", fn, w->in_fn[i]);
            return -1;
        }
    return 0;
}

/* Where to write fn. Regular files (also through symlinks, onto the final
 * target) and new paths: *dest = the path to rename a temporary onto.
 * Devices, FIFOs and sockets: *dest = NULL, write fn directly (renaming onto
 * them would replace /dev/full by a regular file and leave a FIFO's reader
 * blocked). A directory, a dangling symlink or an input: -1. */
static int resolve_dest(const spin_writer_t *w, const char *fn, char **dest)
{
    struct stat st;
    *dest = NULL;
    if (stat(fn, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            spin_error("cannot write %s: it is a directory", fn);
            return -1;
        }
        if (check_not_input(w, fn, &st) < 0) return -1;
        if (!S_ISREG(st.st_mode)) return 0;
        struct stat lst;
        if (lstat(fn, &lst) == 0 && S_ISLNK(lst.st_mode)) {
            if (!(*dest = realpath(fn, NULL))) {
                spin_error("cannot resolve the symbolic link %s: %s", fn, strerror(errno));
                return -1;
            }
            return 0;
        }
    } else if (errno == ENOENT) {
        struct stat lst;
        if (lstat(fn, &lst) == 0) {
            spin_error("cannot write %s: it is a symbolic link to a missing file", fn);
            return -1;
        }
    } else {
        spin_error("cannot write %s: %s", fn, strerror(errno));
        return -1;
    }
    if (!(*dest = strdup(fn))) return -1;
    return 0;
}

spin_writer_t *spin_writer_open(const char *fn, char fmt, int n_threads, const spin_writer_opt_t *opt)
{
    spin_writer_t *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    if (fn && strcmp(fn, "-") == 0) fn = NULL;
    w->fmt = fmt ? fmt : infer_fmt(fn);
    w->gp = opt->gp, w->ap = opt->ap, w->write_index = opt->write_index;
    w->n_threads = n_threads < 1 ? 1 : n_threads, w->n_sample = opt->n_sample;
    w->block = w->n_threads > 1 ? BLOCK_PER_THREAD * w->n_threads : 1;
    w->times = opt->times ? opt->times : &w->own_times;
    const char *where = fn ? fn : "standard output";
    if (w->write_index && (!fn || w->fmt == 'v' || w->fmt == 'u')) {
        spin_error("an index (-W) needs an output file in bgzipped VCF or BCF form, not %s", where);
        goto fail;
    }
    if (opt->n_inputs > 0) {
        if (!(w->in_st = calloc((size_t)opt->n_inputs, sizeof(*w->in_st))) ||
            !(w->in_fn = calloc((size_t)opt->n_inputs, sizeof(*w->in_fn))))
            goto fail;
        for (int i = 0; i < opt->n_inputs; i++) /* an input that cannot be stat'ed cannot be overwritten either */
            if (opt->inputs[i] && stat(opt->inputs[i], &w->in_st[w->n_in]) == 0) {
                if (!(w->in_fn[w->n_in] = strdup(opt->inputs[i]))) goto fail;
                w->n_in++;
            }
    }
    if (fn) {
        if (!(w->fn = strdup(fn)) || resolve_dest(w, fn, &w->dest) < 0) goto fail;
        if (!w->dest && w->write_index) {
            spin_error("an index (-W) needs a regular output file; %s is a device or FIFO", fn);
            goto fail;
        }
        if (w->dest && !(w->tmp = make_temp(w->dest))) goto fail;
        /* the index goes where htslib looks for it: next to the name given (a
         * symlink's own directory), through a temporary of its own there */
        if (w->write_index && (!(w->dest_idx = cat2(fn, ".csi")) || !(w->tmp_idx = make_temp(w->dest_idx))))
            goto fail;
    }
    char mode[4] = "w";
    if (w->fmt == 'z') strcpy(mode, "wz");
    else if (w->fmt == 'b') strcpy(mode, "wb");
    else if (w->fmt == 'u') strcpy(mode, "wbu");
    if (!(w->fp = hts_open(w->tmp ? w->tmp : fn ? fn : "-", mode))) {
        spin_error("cannot open %s for writing: %s", where, strerror(errno));
        goto fail;
    }
    /* BGZF compression and the format jobs in the run's thread pool, else in one of n_threads of the writer's own */
    if (w->n_threads > 1) {
        if (opt->pool && opt->pool->pool) w->tp = opt->pool->pool;
        else if (!(w->tp = w->own_tp = hts_tpool_init(w->n_threads)))
            spin_warn("could not start %d threads for %s; writing single-threaded", w->n_threads, where);
        /* bgzf_thread_pool itself: HTSlib 1.16's hts_set_thread_pool takes a VCF being
         * written for SAM text and leaks a SAM reader state on it */
        BGZF *bg = w->fmt == 'z' || w->fmt == 'b' ? hts_get_bgzfp(w->fp) : NULL;
        if (w->tp && bg && bgzf_thread_pool(bg, w->tp, 0) < 0)
            spin_warn("could not compress %s in the thread pool; compressing single-threaded", where);
        w->n_job = JOBS_PER_THREAD * w->n_threads;
        if (w->tp && !(w->tq = hts_tpool_process_init(w->tp, 4 * w->n_job, 0)))
            spin_warn("could not queue format jobs for %s; formatting single-threaded", where);
    }
    if (!w->tq) w->block = 1, w->n_job = 1;
    for (int k = 0; k < 2; k++)
        if (!(w->blk[k].job = calloc((size_t)w->n_job, sizeof(wjob_t)))) goto fail;
    if (build_header(w, opt) < 0) {
        spin_error("cannot build the output header for %s", where);
        goto fail;
    }
    if (bcf_hdr_write(w->fp, w->hdr) < 0) {
        spin_error("cannot write the header to %s: %s", where, strerror(errno));
        goto fail;
    }
    /* BCF: the jobs parse their lines, each with a header of its own (NULL: parsed at the landing) */
    if (w->tq && (w->fmt == 'b' || w->fmt == 'u')) w->hcopy = spin_hdr_copies(w->hdr, 2 * w->n_job);
    return w;
fail:
    spin_writer_abort(w);
    return NULL;
}

int spin_writer_site(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                     const char *alt, int imputed, const float *p_alt, int n_hap)
{
    return spin_writer_record_pl(w, chrom, pos, id, ref, &alt, 1, imputed, &p_alt, n_hap, NULL);
}

int spin_writer_record(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                       const char *const *alt, int n_alt, int imputed, const float *const *p_alt, int n_hap)
{
    return spin_writer_record_pl(w, chrom, pos, id, ref, alt, n_alt, imputed, p_alt, n_hap, NULL);
}

int spin_writer_ref_only(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref)
{
    return spin_writer_ref_only_pl(w, chrom, pos, id, ref, NULL);
}

/* Appends s and its NUL to the block's string arena. */
static int arena_put(kstring_t *a, const char *s) { return kputsn(s, strlen(s), a) < 0 || kputc('\0', a) < 0 ? -1 : 0; }

/* x in Beagle's "#.##" form (spin_fmt_dose), appended to s: once per value
 * written, so the length spin_fmt_dose returns is used, not strlen. */
static inline void put_dose(kstring_t *s, double x)
{
    char b[24];
    kputsn(b, (size_t)spin_fmt_dose(b, x), s);
}

/* A haploid sample's fields from haplotype h of rows q[0..n_alt): Beagle
 * 5.4's GT ("1"), DS and AP1 (its one haplotype's ALT dose); AP2, which it
 * has not, is "." when GP follows and left out otherwise (as Beagle leaves
 * it out); GP has one value per allele (Number=G for ploidy 1), where Beagle
 * writes none: bcftools +impute-info and other GP readers need it. */
static void format_haploid(const spin_writer_t *w, const float *const *q, int n_alt, int h, kstring_t *s)
{
    kputw(spin_gt_allele_multi(q, n_alt, h), s);
    for (int k = 0; k < n_alt; k++) kputc(k ? ',' : ':', s), put_dose(s, q[k][h]);
    if (w->ap) {
        for (int k = 0; k < n_alt; k++) kputc(k ? ',' : ':', s), put_dose(s, q[k][h]);
        if (w->gp) kputs(":.", s);
    }
    if (w->gp)
        for (int a = 0; a <= n_alt; a++) kputc(a ? ',' : ':', s), put_dose(s, spin_allele_prob(q, n_alt, h, a));
}

/* Formats pending record e of block blk as its VCF line, newline included,
 * into e->line: a pure function of e and w's settings, run by several jobs at
 * once on different records. The bytes are those of one record written alone. */
static int format_record(const spin_writer_t *w, const wblock_t *blk, pending_t *e)
{
    kstring_t *s = &e->line;
    const char *chrom = blk->arena.s + e->str, *id = chrom + strlen(chrom) + 1, *ref = id + strlen(id) + 1;
    const char *alt = ref + strlen(ref) + 1;
    int n_alt = e->n_alt, n_hap = 2 * w->n_sample;
    const uint8_t *pl = e->pl == NO_PLOIDY ? NULL : blk->pls + e->pl;
    s->l = 0;
    if (n_alt == 0) { /* REF-only */
        ksprintf(s, "%s\t%lld\t%s\t%s\t.\t.\tPASS\tIMP\tGT:DS", chrom, (long long)e->pos, id, ref);
        for (int i = 0; i < w->n_sample; i++) kputs(pl && pl[i] == 1 ? "\t0" : "\t0|0", s);
        return kputc('\n', s) < 0 ? -1 : 0;
    }
    /* per-ALT rows of the block's (renormalised) probabilities, and AF values
     * (printed after every DR2): on the stack for the usual few ALTs */
    enum { FEW = 8 };
    const float *row_few[FEW], **q = row_few;
    double af_few[FEW], *af = af_few, dr2;
    if (n_alt > FEW) {
        q = malloc((size_t)n_alt * sizeof(*q));
        af = malloc((size_t)n_alt * sizeof(*af));
        if (!q || !af) {
            if (q != row_few) free(q);
            if (af != af_few) free(af);
            return -1;
        }
    }
    for (int k = 0; k < n_alt; k++) q[k] = blk->probs + e->prob + (size_t)k * n_hap;
    kputs(chrom, s), kputc('\t', s), kputll(e->pos, s), kputc('\t', s);
    kputs(id, s), kputc('\t', s), kputs(ref, s), kputc('\t', s);
    for (int k = 0; k < n_alt; k++, alt += strlen(alt) + 1) kputs(alt, s), kputc(k + 1 < n_alt ? ',' : '\t', s);
    kputs(".\tPASS\tDR2=", s);
    for (int k = 0; k < n_alt; k++) { /* one pass over the haplotypes per ALT gives both */
        spin_site_af_dr2_ploidy(q[k], n_hap, pl, &af[k], &dr2);
        ksprintf(s, "%s%.2f", k ? "," : "", dr2);
    }
    kputs(";AF=", s);
    for (int k = 0; k < n_alt; k++) ksprintf(s, "%s%.4f", k ? "," : "", af[k]);
    ksprintf(s, "%s\tGT:DS%s%s", e->imputed ? ";IMP" : "", w->ap ? ":AP1:AP2" : "", w->gp ? ":GP" : "");
    for (int i = 0; i < w->n_sample; i++) {
        kputc('\t', s);
        if (pl && pl[i] == 1) { /* haploid: its one haplotype is slot 2i (queue_record) */
            format_haploid(w, q, n_alt, 2 * i, s);
            continue;
        }
        if (n_alt == 1) {
            double p1 = q[0][2 * i], p2 = q[0][2 * i + 1];
            kputc('0' + spin_gt_allele(p1), s);
            kputc('|', s);
            kputc('0' + spin_gt_allele(p2), s);
            kputc(':', s);
            put_dose(s, p1 + p2);
            if (w->ap) {
                kputc(':', s), put_dose(s, p1);
                kputc(':', s), put_dose(s, p2);
            }
            if (w->gp) {
                double gp[3];
                spin_gp(p1, p2, gp);
                for (int k = 0; k < 3; k++) kputc(k ? ',' : ':', s), put_dose(s, gp[k]);
            }
            continue;
        }
        kputw(spin_gt_allele_multi(q, n_alt, 2 * i), s);
        kputc('|', s);
        kputw(spin_gt_allele_multi(q, n_alt, 2 * i + 1), s);
        for (int k = 0; k < n_alt; k++)
            kputc(k ? ',' : ':', s), put_dose(s, (double)q[k][2 * i] + q[k][2 * i + 1]);
        if (w->ap)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < n_alt; k++)
                    kputc(k ? ',' : ':', s), put_dose(s, q[k][2 * i + j]);
        if (w->gp) {
            /* genotype (a, b), a <= b, at VCF index b(b+1)/2 + a, haplotypes independent */
            for (int bb = 0; bb <= n_alt; bb++)
                for (int a = 0; a <= bb; a++) {
                    double x1 = spin_allele_prob(q, n_alt, 2 * i, a), y1 = spin_allele_prob(q, n_alt, 2 * i + 1, a);
                    double x2 = spin_allele_prob(q, n_alt, 2 * i, bb), y2 = spin_allele_prob(q, n_alt, 2 * i + 1, bb);
                    double g = a == bb ? x1 * y1 : x1 * y2 + x2 * y1;
                    kputc(a == 0 && bb == 0 ? ':' : ',', s), put_dose(s, g);
                }
        }
    }
    if (q != row_few) free(q);
    if (af != af_few) free(af);
    /* kputc and friends leave s->s NULL when out of memory */
    return kputc('\n', s) < 0 || !s->s ? -1 : 0;
}

/* A format job: records [lo, hi) of a block formatted (and, with a header
 * copy, parsed for BCF). A record's text depends on that record alone, so the
 * bytes do not depend on how the block is split. */
static void *format_job(void *arg)
{
    wjob_t *j = arg;
    for (int i = j->lo; i < j->hi; i++) {
        pending_t *e = &j->b->q[i];
        e->parsed = 0;
        if ((e->rc = format_record(j->w, j->b, e)) < 0 || !j->h) continue;
        e->line.s[--e->line.l] = 0; /* the line without its newline, as vcf_parse takes it */
        if (!e->rec && !(e->rec = bcf_init())) e->rc = -1;
        else e->rc = vcf_parse(&e->line, j->h, e->rec) == 0 ? 0 : -2, e->parsed = 1;
    }
    return j;
}

/* Block b (its records all queued) formatted by jobs in the pool, running
 * while the caller goes on; blk_index chooses the jobs' BCF header copies. */
static void launch_block(spin_writer_t *w, int blk_index)
{
    wblock_t *b = &w->blk[blk_index];
    int per = (b->n_q + w->n_job - 1) / w->n_job;
    for (int k = 0; k < w->n_job && k * per < b->n_q; k++) {
        wjob_t *j = &b->job[k];
        j->w = w, j->b = b, j->lo = k * per, j->hi = (k + 1) * per < b->n_q ? (k + 1) * per : b->n_q;
        j->h = w->hcopy ? w->hcopy[blk_index * w->n_job + k] : NULL;
        if (hts_tpool_dispatch2(w->tp, w->tq, format_job, j, -1) == 0) b->in_flight++;
        else format_job(j); /* not queued: here */
    }
}

/* Waits for block b's jobs (or formats it here if none ran), then writes its
 * records in order and empties it. 0, or -1 with a message naming the first
 * record that could not be formatted or written (write = 0: only waits). */
static int land_block(spin_writer_t *w, wblock_t *b, int write)
{
    int bcf = w->fmt == 'b' || w->fmt == 'u', ret = 0;
    double t0 = spin_realtime();
    int launched = b->in_flight > 0;
    for (; b->in_flight > 0; b->in_flight--) {
        hts_tpool_result *res = hts_tpool_next_result_wait(w->tq);
        if (!res) break; /* only at the pool's shutdown */
        hts_tpool_delete_result(res, 0);
    }
    if (!write) {
        b->n_q = 0, b->arena.l = 0, b->n_probs = 0, b->n_pls = 0;
        return 0;
    }
    if (!launched && b->n_q > 0) {
        wjob_t j = {w, b, 0, b->n_q, NULL};
        format_job(&j);
    }
    for (int i = 0; i < b->n_q; i++) { /* BCF lines no job parsed (no header copies): here, with w->hdr */
        pending_t *e = &b->q[i];
        if (!bcf || e->rc < 0 || e->parsed) continue;
        e->line.s[--e->line.l] = 0;
        if (!e->rec && !(e->rec = bcf_init())) e->rc = -1;
        else e->rc = vcf_parse(&e->line, w->hdr, e->rec) == 0 ? 0 : -2, e->parsed = 1;
    }
    double t1 = spin_realtime();
    w->times->format_s += t1 - t0;
    for (int i = 0; i < b->n_q && ret == 0; i++) {
        pending_t *e = &b->q[i];
        const char *chrom = b->arena.s + e->str;
        errno = 0;
        if (e->rc == -1) {
            spin_error("out of memory formatting the record at %s:%lld for %s", chrom, (long long)e->pos,
                       w->fn ? w->fn : "standard output");
            ret = -1;
        } else if (e->rc < 0 || (bcf ? bcf_write(w->fp, w->hdr, e->rec) : vcf_write_line(w->fp, &e->line)) < 0) {
            spin_error("cannot write the record at %s:%lld to %s: %s", chrom, (long long)e->pos,
                       w->fn ? w->fn : "standard output", errno ? strerror(errno) : "write error");
            ret = -1;
        }
    }
    w->times->write_s += spin_realtime() - t1;
    b->n_q = 0, b->arena.l = 0, b->n_probs = 0, b->n_pls = 0;
    if (ret < 0) w->failed = 1;
    return ret;
}

/* The current block is full (or the output ends): with a pool it is
 * launched and the older block, formatted meanwhile, is written; the older
 * one is then the one to fill. With one thread it is formatted and written. */
static int push_block(spin_writer_t *w)
{
    if (!w->tq) return land_block(w, &w->blk[w->cur], 1);
    launch_block(w, w->cur);
    w->cur ^= 1;
    return land_block(w, &w->blk[w->cur], 1);
}

/* Queues a record: its strings into the arena, its n_alt rows of n_hap
 * probabilities (when p_alt is not NULL) into the block; flushes a full block. */
static int queue_record(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                        const char *const *alt, int n_alt, int imputed, const float *const *p_alt, int n_hap,
                        const uint8_t *ploidy)
{
    if (w->failed) {
        spin_error("internal: a record written to %s after a write error", w->fn ? w->fn : "standard output");
        return -1;
    }
    wblock_t *bk = &w->blk[w->cur];
    size_t need = bk->n_probs + (size_t)n_alt * n_hap;
    if (bk->n_q == bk->m_q || need > bk->m_probs) {
        int mq = bk->n_q == bk->m_q ? (bk->m_q ? 2 * bk->m_q : 16) : bk->m_q;
        size_t mp = need > bk->m_probs ? need + need / 2 : bk->m_probs;
        pending_t *q = mq != bk->m_q ? realloc(bk->q, (size_t)mq * sizeof(*q)) : bk->q;
        if (q) {
            if (mq != bk->m_q) memset(q + bk->m_q, 0, (size_t)(mq - bk->m_q) * sizeof(*q));
            bk->q = q, bk->m_q = mq;
        }
        float *pr = q && mp != bk->m_probs ? realloc(bk->probs, (mp ? mp : 1) * sizeof(float)) : bk->probs;
        if (pr) bk->probs = pr, bk->m_probs = mp;
        if (!q || !pr) {
            spin_error("out of memory writing %s:%lld", chrom, (long long)pos);
            return -1;
        }
    }
    if (ploidy && bk->n_pls + (size_t)w->n_sample > bk->m_pls) {
        size_t mp = (bk->n_pls + (size_t)w->n_sample) * 2;
        uint8_t *pp = realloc(bk->pls, mp);
        if (!pp) {
            spin_error("out of memory writing %s:%lld", chrom, (long long)pos);
            return -1;
        }
        bk->pls = pp, bk->m_pls = mp;
    }
    pending_t *e = &bk->q[bk->n_q];
    e->pos = pos, e->n_alt = n_alt, e->imputed = imputed, e->str = bk->arena.l, e->prob = bk->n_probs;
    e->pl = NO_PLOIDY;
    int bad = arena_put(&bk->arena, chrom) < 0 || arena_put(&bk->arena, id && *id ? id : ".") < 0 ||
              arena_put(&bk->arena, ref) < 0;
    for (int k = 0; k < n_alt && !bad; k++) bad = arena_put(&bk->arena, alt[k]) < 0;
    if (bad) {
        spin_error("out of memory writing %s:%lld", chrom, (long long)pos);
        return -1;
    }
    /* multi-allelic: each ALT was imputed as its own biallelic site, so a
     * haplotype's ALT probabilities may sum above 1; they are then divided by
     * their sum (P(REF) = 0), and every field uses the renormalised values.
     * P(REF) = 1 - sum of the ALT probabilities. */
    float *dst = bk->probs + bk->n_probs;
    if (n_alt == 1) memcpy(dst, p_alt[0], (size_t)n_hap * sizeof(float));
    else if (n_alt > 1)
        for (int h = 0; h < n_hap; h++) {
            double sum = 0;
            for (int k = 0; k < n_alt; k++) sum += p_alt[k][h] > 0 ? p_alt[k][h] : 0;
            for (int k = 0; k < n_alt; k++) {
                float v = p_alt[k][h] > 0 ? p_alt[k][h] : 0;
                dst[(size_t)k * n_hap + h] = sum > 1 ? (float)(v / sum) : v;
            }
        }
    /* a haploid sample's one haplotype: the mean of its two slots (the
     * engine imputed both from the same typed alleles; they differ only
     * near a PAR, where the flanking diploid sites tell them apart), in
     * slot 2i; slot 2i+1 is never read */
    if (ploidy) {
        memcpy(bk->pls + bk->n_pls, ploidy, (size_t)w->n_sample);
        e->pl = bk->n_pls;
        bk->n_pls += (size_t)w->n_sample;
        for (int i = 0; i < w->n_sample && n_alt > 0; i++) {
            if (ploidy[i] != 1) continue;
            for (int k = 0; k < n_alt; k++) {
                float *d = dst + (size_t)k * n_hap + 2 * i;
                d[0] = d[1] = (float)(((double)d[0] + d[1]) * 0.5);
            }
        }
    }
    bk->n_probs = need;
    bk->n_q++;
    return 0;
}

/* Ends a record call that started at t0 (checks and queueing count as
 * formatting) and writes the block if it is full. */
static int queued(spin_writer_t *w, double t0, int ret)
{
    w->times->format_s += spin_realtime() - t0;
    if (ret == 0 && (w->blk[w->cur].n_q >= w->block || w->blk[w->cur].n_probs >= BLOCK_PROBS)) ret = push_block(w);
    return ret;
}

int spin_writer_record_pl(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                          const char *const *alt, int n_alt, int imputed, const float *const *p_alt, int n_hap,
                          const uint8_t *ploidy)
{
    double t0 = spin_realtime();
    for (int i = 0; ploidy && i < w->n_sample; i++)
        if (ploidy[i] != 1 && ploidy[i] != 2) {
            spin_error("internal: ploidy %d for sample %s at %s:%lld", ploidy[i], w->hdr->samples[i], chrom,
                       (long long)pos);
            return -1;
        }
    if (n_hap != 2 * w->n_sample) {
        spin_error("internal: %d haplotypes for %d samples at %s:%lld", n_hap, w->n_sample, chrom, (long long)pos);
        return -1;
    }
    if (n_alt < 1) {
        spin_error("internal: no ALT allele at %s:%lld", chrom, (long long)pos);
        return -1;
    }
    /* P(ALT) must be a probability: a NaN or infinity (from a broken genetic
     * map or model) is an error naming the site, never "nan" in the output */
    for (int k = 0; k < n_alt; k++)
        for (int h = 0; h < n_hap; h++) {
            float p = p_alt[k][h];
            if (!(p >= -1e-3f && p <= 1.001f)) {
                spin_error("%s:%lld: the imputed probability of ALT %s of sample %s haplotype %d is %g, not in "
                           "[0, 1]; refusing to write %s (check the --map genetic map and the model)",
                           chrom, (long long)pos, alt[k], w->hdr->samples[h / 2], h % 2 + 1, (double)p,
                           w->fn ? w->fn : "standard output");
                return -1;
            }
        }
    return queued(w, t0, queue_record(w, chrom, pos, id, ref, alt, n_alt, imputed, p_alt, n_hap, ploidy));
}

int spin_writer_ref_only_pl(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, const char *ref,
                            const uint8_t *ploidy)
{
    double t0 = spin_realtime();
    return queued(w, t0, queue_record(w, chrom, pos, id, ref, NULL, 0, 1, NULL, 2 * w->n_sample, ploidy));
}

/* Async-signal-safe: only unlink(2) on names built at open/companion time. */
void spin_writer_unlink_temps(const spin_writer_t *w)
{
    if (!w) return;
    if (w->tmp) unlink(w->tmp);
    if (w->tmp_idx) unlink(w->tmp_idx);
    for (int i = 0; i < w->n_comp; i++)
        if (w->comp[i].tmp) unlink(w->comp[i].tmp);
}

const char *spin_writer_companion(spin_writer_t *w, const char *fn)
{
    if (w->n_comp == MAX_COMPANION) {
        spin_error("internal: more than %d files published with %s", MAX_COMPANION, w->fn ? w->fn : "stdout");
        return NULL;
    }
    if (strcmp(fn, "-") == 0) {
        spin_error("a file published with the output needs a file name, not '-' (standard output)");
        return NULL;
    }
    char *dest = NULL;
    if (resolve_dest(w, fn, &dest) < 0) return NULL;
    /* the output itself: the same inode, or the same path when neither exists yet */
    struct stat a, b;
    const char *out = w->dest ? w->dest : w->fn;
    if (out && ((stat(fn, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) ||
                (dest && strcmp(dest, out) == 0))) {
        spin_error("%s is also the output file: give it another name", fn);
        free(dest);
        return NULL;
    }
    companion_t *c = &w->comp[w->n_comp];
    memset(c, 0, sizeof(*c));
    if (!(c->shown = strdup(fn)) || (dest && !(c->tmp = make_temp(dest)))) {
        free(c->shown), free(dest);
        return NULL;
    }
    c->dest = dest;
    w->n_comp++;
    return c->tmp ? c->tmp : c->shown;
}

void spin_writer_abort(spin_writer_t *w)
{
    if (!w) return;
    if (w->fp) hts_close(w->fp);
    w->fp = NULL;
    spin_writer_unlink_temps(w);
    writer_free(w);
}

/* Renames every temporary onto its destination: companions, the index, then
 * the output. If one rename fails, the destinations already renamed onto are
 * removed again, so the outputs appear together or not at all. */
static int publish(spin_writer_t *w)
{
    const char *from[MAX_COMPANION + 2], *to[MAX_COMPANION + 2];
    int n = 0, done = 0;
    for (int i = 0; i < w->n_comp; i++)
        if (w->comp[i].tmp) from[n] = w->comp[i].tmp, to[n++] = w->comp[i].dest;
    if (w->tmp_idx) from[n] = w->tmp_idx, to[n++] = w->dest_idx;
    if (w->tmp) from[n] = w->tmp, to[n++] = w->dest;
    for (; done < n; done++)
        if (rename(from[done], to[done]) != 0) {
            spin_error("cannot rename the finished output to %s: %s", to[done], strerror(errno));
            for (int i = 0; i < done; i++) unlink(to[i]);
            return -1;
        }
    /* published: nothing left to remove */
    free(w->tmp), free(w->tmp_idx);
    w->tmp = w->tmp_idx = NULL;
    for (int i = 0; i < w->n_comp; i++) free(w->comp[i].tmp), w->comp[i].tmp = NULL;
    return 0;
}

int spin_writer_close(spin_writer_t *w)
{
    const char *where = w->fn ? w->fn : "standard output";
    if (w->failed) {
        spin_error("%s is incomplete (a record could not be written): not kept", where);
        goto fail;
    }
    /* the last block, and the one formatted meanwhile before it */
    if (push_block(w) < 0 || land_block(w, &w->blk[w->cur ^ 1], 1) < 0) goto fail;
    double t0 = spin_realtime();
    spin_writer_times_t *times = w->times;
    int ret = hts_close(w->fp);
    w->fp = NULL;
    if (ret != 0) {
        spin_error("closing %s failed (disk full?): the output is incomplete", where);
        goto fail;
    }
    if (!w->fn && fflush(stdout) == EOF) {
        spin_error("flushing standard output failed: %s", strerror(errno));
        goto fail;
    }
    /* min_shift 14: a CSI index, as bcftools -W writes */
    if (w->write_index && bcf_index_build3(w->tmp, w->tmp_idx, 14, w->n_threads) != 0) {
        spin_error("cannot build the index of %s", where);
        goto fail;
    }
    if (publish(w) < 0) goto fail;
    times->write_s += spin_realtime() - t0;
    writer_free(w);
    return 0;
fail:
    if (w->fp) hts_close(w->fp); /* a block failed before the close */
    w->fp = NULL;
    spin_writer_unlink_temps(w);
    writer_free(w);
    return -1;
}
