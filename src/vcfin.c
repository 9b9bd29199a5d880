/* vcfin.c -- read the reference panel (bit-packed) and the targets (matched
 * to the panel) with HTSlib. Every record read is checked (return value and
 * rec->errcode) so that a truncated or corrupt file is an error. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <htslib/bgzf.h>
#include <htslib/hts.h>
#include <htslib/kseq.h>
#include <htslib/kstring.h>
#include <htslib/tbx.h>
#include <htslib/thread_pool.h>
#include <htslib/vcf.h>

#include "match.h"
#include "panelfile.h"
#include "util.h"
#include "vcfin.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

/* 48210 -> "48,210" */
static const char *fmt_int(char *buf, int64_t x)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, x < 0 ? -x : x), j = 0;
    if (x < 0) buf[j++] = '-';
    for (int i = 0; i < n; ++i) {
        buf[j++] = tmp[i];
        if ((n - i - 1) % 3 == 0 && i < n - 1) buf[j++] = ',';
    }
    buf[j] = 0;
    return buf;
}

static int is_base(const char *s) { return s && s[0] && !s[1] && spin_base_complement(s[0]); }

const char *spin_panel_alt(const spin_panel_t *p, int s)
{
    const char *r = p->astr + p->aoff[s];
    return r + strlen(r) + 1;
}

int spin_panel_is_snp(const spin_panel_t *p, int s)
{
    return p->nalt[s] == 1 && is_base(spin_panel_ref(p, s)) && is_base(spin_panel_alt(p, s));
}

/* Record type: SPIN_CLASS_SNP, _INDEL, _OTHER or _MULTI (match.h). */
static int record_type(char *const *al, int n) { return spin_allele_class((const char *const *)al, n); }

static int64_t parse_num(const char *s, const char **end)
{
    int64_t x = 0;
    int any = 0;
    for (; *s; ++s) {
        if (*s == ',') continue;
        if (!isdigit((unsigned char)*s)) break;
        if (x > (INT64_MAX - 9) / 10) return -1;
        x = x * 10 + (*s - '0'), any = 1;
    }
    *end = s;
    return any ? x : -1;
}

int spin_region_parse(const char *reg, char **chrom, int64_t *from, int64_t *to)
{
    *chrom = NULL;
    const char *colon = reg ? strrchr(reg, ':') : NULL;
    size_t len = colon ? (size_t)(colon - reg) : (reg ? strlen(reg) : 0);
    if (len == 0) goto bad;
    *from = 1, *to = INT64_MAX;
    if (colon) {
        const char *s = colon + 1, *e;
        if (*s) {
            if ((*from = parse_num(s, &e)) < 1) goto bad;
            if (*e == '-') {
                if (e[1]) {
                    if ((*to = parse_num(e + 1, &e)) < 1 || *e) goto bad;
                }
            } else if (*e) goto bad;
            else *to = *from; /* "CHR:POS" is the single position, as in bcftools */
        }
    }
    if (*to < *from) goto bad;
    if (!(*chrom = malloc(len + 1))) goto bad;
    memcpy(*chrom, reg, len);
    (*chrom)[len] = 0;
    return 0;
bad:
    spin_error("cannot parse region '%s': expected CHR, CHR:POS or CHR:FROM-TO (1-based, inclusive)",
               reg ? reg : "(null)");
    return -1;
}

/* Contig length from a header (0 if unknown). */
static int64_t hdr_contig_len(const bcf_hdr_t *h, int tid)
{
    if (tid < 0 || tid >= h->n[BCF_DT_CTG] || !h->id[BCF_DT_CTG][tid].val) return 0;
    return (int64_t)h->id[BCF_DT_CTG][tid].val->info[0];
}

/* Header contig id of `name`, or of a name equal up to a "chr" prefix. */
static int hdr_contig_find(const bcf_hdr_t *h, const char *name)
{
    int tid = bcf_hdr_name2id(h, name);
    if (tid >= 0) return tid;
    for (int i = 0; i < h->n[BCF_DT_CTG]; ++i)
        if (spin_chrom_equal(h->id[BCF_DT_CTG][i].key, name)) return i;
    return -1;
}

/* 1 if a and b give every contig, sample and tag the same id and types. */
static int hdr_same_ids(const bcf_hdr_t *a, const bcf_hdr_t *b)
{
    for (int t = 0; t < 3; t++) { /* BCF_DT_ID, BCF_DT_CTG, BCF_DT_SAMPLE */
        if (a->n[t] != b->n[t]) return 0;
        for (int i = 0; i < a->n[t]; i++) {
            const bcf_idpair_t *x = &a->id[t][i], *y = &b->id[t][i];
            if (!x->key != !y->key || (x->key && strcmp(x->key, y->key) != 0)) return 0;
            if (t != BCF_DT_SAMPLE && !x->val != !y->val) return 0;
            if (t != BCF_DT_SAMPLE && x->val && memcmp(x->val->info, y->val->info, sizeof(x->val->info)) != 0) return 0;
        }
    }
    return 1;
}

bcf_hdr_t **spin_hdr_copies(const bcf_hdr_t *h, int n)
{
    if (n < 1) return NULL;
    bcf_hdr_t **c = calloc((size_t)n, sizeof(*c));
    if (!c) return NULL;
    for (int i = 0; i < n; i++) /* bcf_hdr_dup writes IDX= fields, so ids carry over */
        if (!(c[i] = bcf_hdr_dup(h)) || !hdr_same_ids(h, c[i])) {
            spin_hdr_copies_destroy(c, n);
            return NULL;
        }
    return c;
}

void spin_hdr_copies_destroy(bcf_hdr_t **c, int n)
{
    if (!c) return;
    for (int i = 0; i < n; i++)
        if (c[i]) bcf_hdr_destroy(c[i]);
    free(c);
}

/* ------------------------------------------------------------------ */
/* Genotypes                                                            */
/* ------------------------------------------------------------------ */

/* What a file's genotypes must satisfy; the one difference between the panel
 * and the targets is how much is missing or unphased. */
typedef struct {
    const char *what;   /* "reference panel" / "target file", for messages */
    int allow_missing;  /* targets: a missing allele is -1; panel: an error */
    int phase_all;      /* panel: every genotype phased; targets: only called heterozygotes
                         * ("0/0" or "./." carry no phase) */
    int allow_unphased; /* targets: an unphased heterozygote is kept (flagged, phase.c phases it) */
} gt_rules_t;

static const gt_rules_t panel_gt = {"reference panel", 0, 1, 0};
static const gt_rules_t target_gt = {"target file", 1, 0, 1};

/* The one phased-GT reader: record rec's GT as alleles out[2i], out[2i+1]
 * (0 = REF, 1 = ALT of the record; -1 missing, only if allowed) for the
 * n_sample samples. Checks, in order, with an error naming the file, the
 * sample and chrom:pos: a GT field, ploidy at most 2, missing alleles (panel),
 * phase, allele indices < n_allele. A haploid genotype ("1") fills both
 * slots with its allele (pl[i] = 1; it carries no phase); a lone "." is a
 * missing genotype whose ploidy the file does not say (both slots -1,
 * pl[i] = 0), which HTSlib stores exactly as a haploid missing allele; every
 * other genotype has pl[i] = 2. pl may be NULL. *gt and *ngt_arr are
 * bcf_get_genotypes' reusable buffer. *n_missing (may be NULL) counts missing
 * alleles (2 per missing genotype, whatever its ploidy: both slots are
 * imputed). With rule->allow_unphased,
 * unphased heterozygotes are accepted: ph[i] (ph not NULL) is 0 for one, 1
 * for every other genotype, and *n_unphased counts them. <0 on error (quiet:
 * without a message; the function is pure, so a loud second call on the same
 * record gives the message). */
static int read_phased_gt(const char *fn, const bcf_hdr_t *h, bcf1_t *rec, const gt_rules_t *rule, int n_sample,
                          char *const *samples, int32_t **gt, int *ngt_arr, int8_t *out, int64_t *n_missing,
                          uint8_t *ph, int64_t *n_unphased, uint8_t *pl, int quiet)
{
#define GT_ERR(...)                                                                                                    \
    do {                                                                                                               \
        if (!quiet) spin_error(__VA_ARGS__);                                                                           \
        return -1;                                                                                                     \
    } while (0)
    const char *chr = bcf_seqname_safe(h, rec);
    long long pos = (long long)rec->pos + 1;
    int ngt = bcf_get_genotypes(h, rec, gt, ngt_arr);
    if (ngt <= 0) {
        GT_ERR("'%s' has no GT at %s:%lld: a phased GT field is required", fn, chr, pos);
    }
    /* HTSlib pads every sample to the largest ploidy of the record */
    int pl_max = n_sample ? ngt / n_sample : 0;
    if (pl_max < 1 || pl_max > 2 || ngt != pl_max * n_sample) {
        int who = 0; /* name the first sample that has it */
        for (int i = 0; pl_max > 2 && i < n_sample; ++i)
            if ((*gt)[(size_t)i * pl_max + pl_max - 1] != bcf_int32_vector_end) {
                who = i;
                break;
            }
        GT_ERR("sample %s in %s '%s' has ploidy %d at %s:%lld: spin-impute supports haploid and diploid "
               "genotypes only",
               n_sample ? samples[who] : "?", rule->what, fn, pl_max, chr, pos);
    }
    int64_t n_miss = 0;
    for (int i = 0; i < n_sample; ++i) {
        int32_t a = (*gt)[(size_t)pl_max * i], b = pl_max == 2 ? (*gt)[2 * i + 1] : bcf_int32_vector_end;
        int ma = bcf_gt_is_missing(a), mb;
        int ploidy = b == bcf_int32_vector_end ? 1 : 2;
        if (ploidy == 1) b = a, mb = ma; /* one allele: both slots */
        else mb = bcf_gt_is_missing(b);
        if ((ma || mb) && !rule->allow_missing) {
            GT_ERR("sample %s in %s '%s' has a missing genotype at %s:%lld: a reference "
                   "panel must be complete (impute or phase it first, e.g. with Beagle or SHAPEIT5)",
                   samples[i], rule->what, fn, chr, pos);
        }
        int aa = ma ? -1 : bcf_gt_allele(a), ab = mb ? -1 : bcf_gt_allele(b);
        if (ploidy == 2 && rule->phase_all && !bcf_gt_is_phased(b)) {
            GT_ERR("sample %s in %s '%s' is unphased at %s:%lld: phase the panel first "
                   "(SHAPEIT5, Eagle2 or Beagle)",
                   samples[i], rule->what, fn, chr, pos);
        }
        int unph = ploidy == 2 && !rule->phase_all && !ma && !mb && aa != ab && !bcf_gt_is_phased(b);
        if (unph && !rule->allow_unphased) {
            GT_ERR("sample %s in %s '%s' has an unphased genotype (%d/%d) at %s:%lld: phase the "
                   "targets first with SHAPEIT5, Eagle2 or Beagle",
                   samples[i], rule->what, fn, aa, ab, chr, pos);
        }
        if (aa >= rec->n_allele || ab >= rec->n_allele || aa < -1 || ab < -1) {
            GT_ERR("invalid allele index in '%s' at %s:%lld (sample %s)", fn, chr, pos, samples[i]);
        }
        n_miss += ma + mb;
        out[2 * i] = (int8_t)aa, out[2 * i + 1] = (int8_t)ab;
        if (pl) pl[i] = (uint8_t)(ploidy == 1 && ma ? 0 : ploidy);
        if (ph) ph[i] = (uint8_t)!unph;
        if (unph && n_unphased) ++*n_unphased;
    }
    if (n_missing) *n_missing += n_miss;
    return 0;
#undef GT_ERR
}

/* ------------------------------------------------------------------ */
/* A record reader: whole file, or a region through the index           */
/* ------------------------------------------------------------------ */

/* One line (text VCF) or record (BCF) of a reader's block. Blocks are read in
 * file order by the calling thread and parsed by jobs in the thread pool
 * while the previous block is handed out; reader_next then reports the first
 * problem in file order exactly as a line-by-line read would. */
enum {
    SLOT_REC,      /* read (ret >= 0, or a parse failure ret -2 / -3), or the end (ret -1), or a read error */
    SLOT_BAD_LINE, /* vcf_line_problem: `why` */
    SLOT_BGZF_ERR, /* a BGZF read error under a streamed line */
    SLOT_FOREIGN,  /* internal: a parse added a header line to a job's copy (line_needs_header missed it) */
};

typedef struct {
    kstring_t ks;      /* text: the line as read (vcf_parse1 writes NULs into it) */
    bcf1_t *rec;
    int64_t n_line;    /* r->n_line after this line or record: its place in messages */
    int ret;           /* the read's return, then -2 (through the index) or -3 (streamed) if the line did not parse */
    int kind;          /* SLOT_* */
    int parse;         /* text to parse: 0 none or done, 1 by a job, 2 alone with r->hdr when the block lands */
    char why[128];
    /* panel records (reader_t.panel): GT read and checked (quietly), each ALT's haplotypes packed */
    int gt_ok;         /* 1: bits hold the record; 0: the fold reads it again, loudly */
    uint64_t *bits;    /* [(n_allele - 1) * nw]: haplotypes carrying ALT k at row k - 1 */
    int *n_carrier;    /* [2 * (n_allele - 1)]: haplotypes carrying ALT k at k - 1; haploid samples carrying it
                        * (counted once in n_carrier's two slots) at n_allele - 2 + k */
    int n_haploid;     /* haploid samples */
    size_t m_bits, m_carrier;
} slot_t;

struct reader_s;
struct block_s;

typedef struct { /* slots [lo, hi) of a block, parsed with a header copy of the job's own */
    const struct reader_s *r;
    struct block_s *b;
    int lo, hi;
    bcf_hdr_t *h;
    int foreign;       /* the parse added a header line to h */
    int32_t *gt;       /* panel GT scratch */
    int ngt_arr;
    int8_t *alleles;
    uint8_t *pl;       /* panel ploidy scratch */
} job_t;

typedef struct block_s {
    slot_t *slot;      /* [m_slot], n_slot read, `next` the next to hand out */
    int n_slot, next;
    job_t *job;        /* [r->n_job], with their header copies (spin_hdr_copies) */
    bcf_hdr_t **hcopy;
    int hdr_gen;       /* r->hdr_gen the copies were made at */
    int in_flight;     /* jobs dispatched whose results are not collected */
} block_t;

/* Read-ahead: two blocks of lines (one handed out while the other is
 * parsed), each of what fits in BLOCK_BYTES (text line and parsed record:
 * about SLOT_BYTES_PER_SAMPLE bytes a sample), 4 to 32 lines per job and
 * 2 jobs per thread. */
#define SLOT_BYTES_PER_SAMPLE 8
#define BLOCK_BYTES ((size_t)32 << 20)
#define JOBS_PER_THREAD 2

typedef struct reader_s {
    const char *fn;
    htsFile *fp;
    bcf_hdr_t *hdr;
    hts_idx_t *idx; /* BCF */
    tbx_t *tbx;     /* VCF.gz */
    hts_itr_t *itr;
    int is_text;     /* VCF text (plain, gzip or BGZF): lines are checked before vcf_parse1 */
    int64_t n_line;  /* data lines up to the record handed out last, when streaming (not through the index) */
    int64_t n_read;  /* data lines read ahead so far, when streaming */
    int n_threads;
    const gt_rules_t *panel; /* not NULL: decode and pack GT in the jobs too (panel_gt) */
    hts_tpool *tp;   /* the run's pool or own_tp; NULL: one thread, one line at a time */
    hts_tpool *own_tp;
    hts_tpool_process *tq; /* the parse jobs' queue (results in dispatch order) */
    int n_job, m_slot;
    block_t blk[2];
    int cur, started, finished, queried;
    int done;        /* reading ended: at the end of the data or at a problem */
    int hdr_gen;     /* bumped when HTSlib adds a line to r->hdr (copies made before are stale) */
    int last_rid;    /* BCF: the last record read, where a failed read leaves a slot's record */
    int64_t last_pos;
} reader_t;

static void reader_land(reader_t *r, block_t *b);

static void reader_close(reader_t *r)
{
    for (int k = 0; k < 2; k++) /* jobs still running use the blocks */
        if (r->blk[k].in_flight) reader_land(r, &r->blk[k]);
    if (r->tq) hts_tpool_process_destroy(r->tq);
    hts_itr_destroy(r->itr);
    if (r->idx) hts_idx_destroy(r->idx);
    if (r->tbx) tbx_destroy(r->tbx);
    if (r->hdr) bcf_hdr_destroy(r->hdr);
    if (r->fp) hts_close(r->fp);
    if (r->own_tp) hts_tpool_destroy(r->own_tp); /* after the file that used it */
    for (int k = 0; k < 2; k++) {
        block_t *b = &r->blk[k];
        for (int i = 0; b->slot && i < r->m_slot; i++) {
            slot_t *sl = &b->slot[i];
            free(sl->ks.s), free(sl->bits), free(sl->n_carrier);
            if (sl->rec) bcf_destroy(sl->rec);
        }
        for (int j = 0; b->job && j < r->n_job; j++) free(b->job[j].gt), free(b->job[j].alleles), free(b->job[j].pl);
        spin_hdr_copies_destroy(b->hcopy, r->n_job);
        free(b->slot), free(b->job);
    }
    memset(r, 0, sizeof(*r));
}

/* Opens fn. With n_threads > 1, pool (or, if NULL, a pool of n_threads of
 * the reader's own) decompresses it and runs the parse jobs (and, with
 * panel, GT decoding). */
static int reader_open(reader_t *r, const char *fn, int n_threads, htsThreadPool *pool, const gt_rules_t *panel)
{
    memset(r, 0, sizeof(*r));
    r->fn = fn;
    r->n_threads = n_threads < 1 ? 1 : n_threads;
    r->panel = panel;
    if (!(r->fp = hts_open(fn, "r"))) {
        spin_error("cannot open '%s': %s", fn, errno ? strerror(errno) : "unknown error");
        return -1;
    }
    enum htsExactFormat f = hts_get_format(r->fp)->format;
    if (f != vcf && f != bcf) {
        spin_error("'%s' is not a VCF or BCF file", fn);
        reader_close(r);
        return -1;
    }
    r->is_text = f == vcf;
    if (r->n_threads > 1) {
        if (pool && pool->pool) r->tp = pool->pool;
        else if (!(r->tp = r->own_tp = hts_tpool_init(r->n_threads)))
            spin_warn("could not start %d threads for '%s'; reading single-threaded", r->n_threads, fn);
        htsThreadPool hp = {r->tp, 0};
        if (r->tp && hts_set_thread_pool(r->fp, &hp) < 0)
            spin_warn("could not decompress '%s' in the thread pool; decompressing single-threaded", fn);
    }
    if (!(r->hdr = bcf_hdr_read(r->fp))) {
        spin_error("cannot read the VCF/BCF header of '%s' (not a VCF, or truncated?)", fn);
        reader_close(r);
        return -1;
    }
    /* one line at a time unless there is work for jobs: text to parse or a panel's GT to decode */
    int m = 1, nj = 1; /* slots per block, jobs per block */
    if (r->tp && (r->is_text || panel) && (r->tq = hts_tpool_process_init(r->tp, 4 * JOBS_PER_THREAD * r->n_threads, 0))) {
        nj = JOBS_PER_THREAD * r->n_threads;
        size_t per = (size_t)bcf_hdr_nsamples(r->hdr) * SLOT_BYTES_PER_SAMPLE + 1024, n = BLOCK_BYTES / per / nj;
        m = nj * (int)(n < 4 ? 4 : n > 32 ? 32 : n);
    }
    r->n_job = nj, r->m_slot = m;
    for (int k = 0; k < 2; k++)
        if (!(r->blk[k].slot = calloc((size_t)m, sizeof(slot_t))) || !(r->blk[k].job = calloc((size_t)nj, sizeof(job_t)))) {
            spin_error("out of memory reading '%s'", fn);
            reader_close(r);
            return -1;
        }
    return 0;
}

/* Loads the index silently. 0 ok, -1 no index (not an error by itself). */
static int reader_load_index(reader_t *r)
{
    const htsFormat *fmt = hts_get_format(r->fp);
    if (fmt->format == bcf) r->idx = hts_idx_load3(r->fn, NULL, HTS_FMT_CSI, HTS_IDX_SILENT_FAIL);
    else if (fmt->compression == bgzf) r->tbx = tbx_index_load3(r->fn, NULL, HTS_IDX_SILENT_FAIL);
    return (r->idx || r->tbx) ? 0 : -1;
}

/* Positions the indexed reader on contig tid, 1-based [from, to].
 * Returns 0, or <0 on error (logged). */
static int reader_query(reader_t *r, int tid, int64_t from, int64_t to)
{
    hts_pos_t beg = from > 0 ? (hts_pos_t)(from - 1) : 0;
    hts_pos_t end = to >= HTS_POS_MAX ? HTS_POS_MAX : (hts_pos_t)to;
    const char *name = bcf_hdr_id2name(r->hdr, tid);
    if (r->idx) r->itr = bcf_itr_queryi(r->idx, tid, beg, end);
    else {
        int ttid = tbx_name2id(r->tbx, name);
        if (ttid < 0) { /* contig absent from the index: no records there */
            r->itr = NULL;
            return 1;
        }
        r->itr = tbx_itr_queryi(r->tbx, ttid, beg, end);
    }
    if (!r->itr) {
        spin_error("index query for %s:%lld-%lld failed in '%s'", name, (long long)from, (long long)to, r->fn);
        return -1;
    }
    return 0;
}

/* Where a streamed data line is, for messages: "line N" of the file (the
 * header's lines are counted by reading it again, only when there is an
 * error), or "data line N" when it is not a regular file that can be read
 * again (stdin, a pipe or FIFO: reopening one would block or eat its data). */
static const char *reader_where(const reader_t *r, char *buf, size_t n)
{
    int64_t n_hdr = -1;
    struct stat st;
    htsFile *fp = strcmp(r->fn, "-") != 0 && stat(r->fn, &st) == 0 && S_ISREG(st.st_mode) ? hts_open(r->fn, "r") : NULL;
    if (fp) {
        kstring_t ks = {0, 0, NULL};
        n_hdr = 0;
        while (hts_getline(fp, KS_SEP_LINE, &ks) >= 0 && ks.l > 0 && ks.s[0] == '#') ++n_hdr;
        free(ks.s);
        hts_close(fp);
    }
    if (n_hdr >= 0) snprintf(buf, n, "line %lld", (long long)(n_hdr + r->n_line));
    else snprintf(buf, n, "data line %lld", (long long)r->n_line);
    return buf;
}

/* A VCF data line as HTSlib would silently misread it, or NULL if it is sound.
 * HTSlib 1.16's vcf_parse turns an empty line or a line without tabs into a
 * record on an undeclared contig (the whole line is CHROM), reads POS with a
 * prefix parse ("abc", "-5" -> POS 0, "12ab3" -> 12) and does not set
 * rec->errcode for any of them: so the fixed columns and POS are checked here,
 * on the text (vcf_parse flags too few sample columns, but not too many).
 * n_col: the columns the header asks for (9 + samples, 8 without). */
static const char *vcf_line_problem(const kstring_t *ks, int n_col, char *buf, size_t n)
{
    if (ks->l == 0) return "empty line";
    /* CHROM and POS with branches, the rest counted 8 bytes at a time (a panel
     * line is mostly sample columns, one tab every 4 bytes) */
    int64_t cols = 1;
    const char *pos = NULL, *pos_end = NULL, *c = ks->s, *end = ks->s + ks->l;
    for (; c < end && cols < 3; ++c)
        if (*c == '\t') {
            if (++cols == 2) pos = c + 1;
            else pos_end = c;
        }
    int64_t tabs = 0;
    for (; end - c >= 8; c += 8) { /* 8 bytes a step: a byte of x is 0 where the line has a tab */
        uint64_t x;
        memcpy(&x, c, 8);
        x ^= 0x0909090909090909ULL;
        uint64_t t = (x & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL;
        t = ~(t | x | 0x7f7f7f7f7f7f7f7fULL) >> 7; /* 1 in each zero byte, exactly */
        tabs += (int64_t)((t * 0x0101010101010101ULL) >> 56);
    }
    for (; c < end; ++c) tabs += *c == '\t';
    cols += tabs;
    if (cols != n_col) {
        snprintf(buf, n, "%lld tab-separated column(s) where the header has %d%s", (long long)cols, n_col,
                 cols == 1 ? " (columns separated by spaces?)" : "");
        return buf;
    }
    int ok = pos < pos_end && *pos != '0';
    for (const char *c = pos; ok && c < pos_end; ++c) ok = isdigit((unsigned char)*c);
    if (!ok) {
        int len = pos && pos_end > pos ? (int)(pos_end - pos) : 0;
        snprintf(buf, n, "POS '%.*s' is not a positive integer", len > 40 ? 40 : len, pos ? pos : "");
        return buf;
    }
    return NULL;
}

/* 1 if the line names a contig, FILTER, INFO or FORMAT tag that h lacks:
 * vcf_parse1 would add it to h, so such a line is parsed alone, with the
 * reader's own header. The same lookups as HTSlib 1.16's vcf_parse (keys cut
 * at the same separators, empty names included), 1 when in doubt. The line
 * has passed vcf_line_problem. */
static int line_needs_header(const kstring_t *ks, const bcf_hdr_t *h)
{
    const char *c = ks->s, *end = ks->s + ks->l, *col[9];
    size_t len[9];
    int n = 0;
    while (n < 9) {
        const char *t = memchr(c, '\t', (size_t)(end - c));
        col[n] = c, len[n] = (size_t)((t ? t : end) - c), n++;
        if (!t) break;
        c = t + 1;
    }
    char key[256];
#define KEY(p, l) ((size_t)(l) < sizeof(key) ? (memcpy(key, (p), (size_t)(l)), key[(l)] = 0, 1) : 0)
    if (!KEY(col[0], len[0]) || bcf_hdr_name2id(h, key) < 0) return 1;
    for (int f = 6; f <= 8 && f < n; f++) {
        const char *p = col[f], *e = col[f] + len[f];
        if (len[f] == 1 && *p == '.') continue;
        if (f == 8 && bcf_hdr_nsamples(h) == 0) break;
        if (f == 7) { /* INFO: a key ends at ';' or '=', its value at ';'; empty keys are skipped */
            while (p < e) {
                const char *k = p;
                while (p < e && *p != ';' && *p != '=') p++;
                size_t kl = (size_t)(p - k);
                while (p < e && *p != ';') p++;
                if (kl && (!KEY(k, kl) || !bcf_hdr_idinfo_exists(h, BCF_HL_INFO, bcf_hdr_id2int(h, BCF_DT_ID, key))))
                    return 1;
                p++;
            }
            continue;
        }
        /* FILTER names (';') and FORMAT keys (':'), every one */
        for (char sep = f == 6 ? ';' : ':';;) {
            const char *t = memchr(p, sep, (size_t)(e - p));
            if (!t) t = e;
            if (!KEY(p, t - p)) return 1;
            int id = bcf_hdr_id2int(h, BCF_DT_ID, key);
            if (f == 6 ? id < 0 : !bcf_hdr_idinfo_exists(h, BCF_HL_FMT, id)) return 1;
            if (t == e) break;
            p = t + 1;
        }
    }
#undef KEY
    return 0;
}

/* Haplotypes carrying allele k in alleles[0..n_hap) as the bits of
 * row[0..(n_hap+63)/64); returns their number. */
static int pack_allele(const int8_t *alleles, int n_hap, int k, uint64_t *row)
{
    int n = 0;
    for (int h0 = 0, w = 0; h0 < n_hap; h0 += 64, w++) {
        int m = n_hap - h0 < 64 ? n_hap - h0 : 64;
        uint64_t x = 0;
        for (int j = 0; j < m; j++) x |= (uint64_t)(alleles[h0 + j] == k) << j;
        row[w] = x;
        n += __builtin_popcountll(x);
    }
    return n;
}

/* Samples with ploidy pl[i] == 1 whose allele is k (k < 0: every haploid sample). */
static int haploid_count(const int8_t *alleles, const uint8_t *pl, int n_sample, int k)
{
    int n = 0;
    for (int i = 0; i < n_sample; i++) n += pl[i] == 1 && (k < 0 || alleles[2 * i] == k);
    return n;
}

/* A panel record's GT, read and checked quietly and packed per ALT into the
 * slot (sl->gt_ok = 1), by its parse job; j->h is the job's header. Any
 * problem leaves gt_ok 0: the fold then reads the record itself, loudly. */
static void panel_prep(job_t *j, slot_t *sl)
{
    const bcf1_t *rec = sl->rec;
    sl->gt_ok = 0;
    if (sl->kind != SLOT_REC || sl->ret < 0 || (rec->errcode & ~(BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF)) ||
        rec->pos < 0 || rec->n_allele < 2 || rec->n_allele > INT8_MAX)
        return;
    int n_sample = bcf_hdr_nsamples(j->h), n_hap = 2 * n_sample, nw = (n_hap + 63) / 64, na = rec->n_allele - 1;
    if (!j->alleles && !(j->alleles = malloc((size_t)n_hap + 1))) return;
    if (!j->pl && !(j->pl = malloc((size_t)n_sample + 1))) return;
    if ((size_t)na * nw > sl->m_bits) {
        uint64_t *b = realloc(sl->bits, (size_t)na * nw * sizeof(*b));
        if (!b) return;
        sl->bits = b, sl->m_bits = (size_t)na * nw;
    }
    if ((size_t)(2 * na) > sl->m_carrier) {
        int *c = realloc(sl->n_carrier, (size_t)(2 * na) * sizeof(*c));
        if (!c) return;
        sl->n_carrier = c, sl->m_carrier = (size_t)(2 * na);
    }
    if (read_phased_gt(j->r->fn, j->h, sl->rec, j->r->panel, n_sample, NULL, &j->gt, &j->ngt_arr, j->alleles, NULL,
                       NULL, NULL, j->pl, 1) < 0)
        return;
    sl->n_haploid = haploid_count(j->alleles, j->pl, n_sample, -1);
    for (int k = 1; k <= na; k++) {
        sl->n_carrier[k - 1] = pack_allele(j->alleles, n_hap, k, sl->bits + (size_t)(k - 1) * nw);
        sl->n_carrier[na + k - 1] = sl->n_haploid ? haploid_count(j->alleles, j->pl, n_sample, k) : 0;
    }
    sl->gt_ok = 1;
}

/* A parse job (thread pool, or inline with one thread): checks and parses
 * the text lines of slots [lo, hi) and decodes a panel's GT. With a header
 * copy (j->h != r->hdr) a line naming what the copy lacks is left for the
 * landing (parse = 2): HTSlib would add it to the header. */
static void *parse_job(void *arg)
{
    job_t *j = arg;
    const reader_t *r = j->r;
    int own = j->h == r->hdr, n_col = 8 + (bcf_hdr_nsamples(j->h) > 0) + bcf_hdr_nsamples(j->h);
    j->foreign = 0;
    for (int i = j->lo; i < j->hi; i++) {
        slot_t *sl = &j->b->slot[i];
        if (sl->parse == 1) {
            const char *bad = vcf_line_problem(&sl->ks, n_col, sl->why, sizeof(sl->why));
            if (bad) {
                if (bad != sl->why) snprintf(sl->why, sizeof(sl->why), "%s", bad);
                sl->kind = SLOT_BAD_LINE, sl->parse = 0;
            } else if (!own && line_needs_header(&sl->ks, j->h))
                sl->parse = 2;
            else {
                if (vcf_parse1(&sl->ks, j->h, sl->rec) < 0) sl->ret = r->queried ? -2 : -3;
                sl->parse = 0;
                /* a copy that grew a header line: records it parses later would not match r->hdr */
                if (!own && (sl->rec->errcode & (BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF))) j->foreign = 1;
            }
        }
        if (sl->parse == 0 && r->panel) panel_prep(j, sl);
    }
    return j;
}

/* Reads block b in file order (until it is full, the data end or a read
 * fails) and dispatches its parse jobs. 0, or -1 when out of memory (logged). */
static int reader_launch(reader_t *r, block_t *b)
{
    b->n_slot = b->next = 0;
    for (int i = 0; i < r->m_slot && !r->done; i++) {
        slot_t *sl = &b->slot[i];
        if (!sl->rec && !(sl->rec = bcf_init())) {
            spin_error("out of memory reading '%s'", r->fn);
            return -1;
        }
        sl->kind = SLOT_REC, sl->parse = 0, sl->gt_ok = 0;
        if (r->queried && !r->itr) sl->ret = -1;
        else if (r->queried && r->idx) {
            sl->rec->rid = r->last_rid, sl->rec->pos = r->last_pos; /* as one record read over and over */
            if ((sl->ret = bcf_itr_next(r->fp, r->itr, sl->rec)) >= 0) r->last_rid = sl->rec->rid, r->last_pos = sl->rec->pos;
        } else if (r->queried)
            sl->parse = (sl->ret = tbx_itr_next(r->fp, r->tbx, r->itr, &sl->ks)) >= 0;
        else if (r->is_text) {
            if ((sl->ret = hts_getline(r->fp, KS_SEP_LINE, &sl->ks)) >= 0) {
                ++r->n_read;
                /* a BGZF read error can end the text mid-line: that is the problem, not the line */
                BGZF *bg = hts_get_bgzfp(r->fp);
                if (bg && bg->errcode) sl->kind = SLOT_BGZF_ERR;
                else sl->parse = 1;
            }
        } else {
            sl->rec->rid = r->last_rid, sl->rec->pos = r->last_pos;
            if ((sl->ret = bcf_read(r->fp, r->hdr, sl->rec)) >= 0)
                ++r->n_read, r->last_rid = sl->rec->rid, r->last_pos = sl->rec->pos;
        }
        sl->n_line = r->n_read;
        b->n_slot++;
        if (sl->ret < 0 || sl->kind != SLOT_REC) r->done = 1; /* the end, or nothing sound after it */
    }
    if (!r->tq || b->n_slot == 0) return 0; /* one thread: parsed inline when it lands */
    if (b->hcopy && b->hdr_gen != r->hdr_gen) { /* HTSlib added to r->hdr since (a file without ##contig lines) */
        spin_hdr_copies_destroy(b->hcopy, r->n_job);
        b->hcopy = NULL;
    }
    if (!b->hcopy && (b->hcopy = spin_hdr_copies(r->hdr, r->n_job))) b->hdr_gen = r->hdr_gen;
    int per = (b->n_slot + r->n_job - 1) / r->n_job;
    for (int k = 0; k < r->n_job && k * per < b->n_slot; k++) {
        job_t *j = &b->job[k];
        j->r = r, j->b = b, j->lo = k * per, j->hi = (k + 1) * per < b->n_slot ? (k + 1) * per : b->n_slot;
        j->h = b->hcopy ? b->hcopy[k] : r->hdr;
        if (b->hcopy && hts_tpool_dispatch2(r->tp, r->tq, parse_job, j, -1) == 0) b->in_flight++;
        else parse_job(j); /* no copies or no dispatch: here, with r->hdr */
    }
    return 0;
}

/* Waits for block b's jobs (one thread: parses it here) and parses the lines
 * left to r->hdr, in order. */
static void reader_land(reader_t *r, block_t *b)
{
    int foreign = 0;
    for (; b->in_flight > 0; b->in_flight--) {
        hts_tpool_result *res = hts_tpool_next_result_wait(r->tq);
        if (!res) break; /* only at the pool's shutdown */
        foreign |= ((job_t *)hts_tpool_result_data(res))->foreign;
        hts_tpool_delete_result(res, 0);
    }
    if (!r->tq && b->n_slot > 0) {
        job_t *j = &b->job[0];
        j->r = r, j->b = b, j->lo = 0, j->hi = b->n_slot, j->h = r->hdr;
        parse_job(j);
    }
    for (int i = 0; i < b->n_slot; i++) { /* undeclared names: HTSlib adds them to r->hdr, one line at a time */
        slot_t *sl = &b->slot[i];
        if (sl->parse != 2) continue;
        job_t j = b->job[0];
        j.r = r, j.b = b, j.lo = i, j.hi = i + 1, j.h = r->hdr;
        sl->parse = 1; /* with r->hdr itself: parsed whatever it names */
        parse_job(&j);
        b->job[0].gt = j.gt, b->job[0].ngt_arr = j.ngt_arr, b->job[0].alleles = j.alleles; /* scratch it grew */
        r->hdr_gen++;
    }
    if (foreign) { /* cannot happen if line_needs_header mirrors vcf_parse: refuse the whole block */
        b->slot[0].kind = SLOT_FOREIGN;
        b->n_slot = 1, r->done = 1;
    }
}

/* The slot of the record reader_next returned last. */
static const slot_t *reader_slot(const reader_t *r) { return &r->blk[r->cur].slot[r->blk[r->cur].next - 1]; }

/* Next record (*out, valid until the next call): 0 ok, 1 end of data, <0
 * error (logged). `queried` = 1 if reader_query() was called (then a NULL
 * itr means "no records"). Every record HTSlib cannot read soundly is an
 * error naming the file and the line (streamed) or the record's text (through
 * the index): none is skipped, and the first problem in file order is the one
 * reported, however many threads parsed the block. */
static int reader_next(reader_t *r, bcf1_t **out, int queried)
{
    char where[64];
    block_t *b = &r->blk[r->cur];
    if (b->next == b->n_slot) {
        if (r->finished) return 1;
        if (!r->started) { /* two blocks ahead: one parses while the other is handed out */
            r->started = 1, r->queried = queried; /* read by the jobs: set before any runs */
            if (reader_launch(r, &r->blk[0]) < 0) return -1;
            r->cur = 1;
        }
        if (reader_launch(r, &r->blk[r->cur]) < 0) return -1; /* the lines after the other block's */
        r->cur ^= 1;
        b = &r->blk[r->cur];
        reader_land(r, b);
        if (b->n_slot == 0) {
            r->finished = 1;
            return 1;
        }
    }
    slot_t *sl = &b->slot[b->next++];
    bcf1_t *rec = *out = sl->rec;
    int ret = sl->ret;
    r->n_line = sl->n_line;
    switch (sl->kind) {
    case SLOT_FOREIGN:
        spin_error("internal: parsing '%s' with threads added a header line (an undeclared contig or tag "
                   "before %s); rerun with --threads 1",
                   r->fn, queried ? "this region's end" : reader_where(r, where, sizeof(where)));
        return -1;
    case SLOT_BGZF_ERR:
        spin_error("read error in '%s' at %s (truncated or corrupt file?)", r->fn, reader_where(r, where, sizeof(where)));
        return -1;
    case SLOT_BAD_LINE:
        if (queried)
            spin_error("malformed record in '%s': %s: '%.60s%s'", r->fn, sl->why, sl->ks.s, sl->ks.l > 60 ? "..." : "");
        else spin_error("malformed record in '%s' at %s: %s", r->fn, reader_where(r, where, sizeof(where)), sl->why);
        return -1;
    default:
        break;
    }
    if (ret == -1) return 1;
    /* an undeclared contig or tag is only a header omission (htslib adds a
     * dummy header line); anything else means the record cannot be trusted */
    if (ret >= 0) rec->errcode &= ~(BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF);
    if (ret < -1 || rec->errcode) {
        if (rec->errcode)
            spin_error("malformed or truncated record in '%s' near %s:%lld (error code %d): check the file "
                       "with `bcftools view` and fix or re-create it",
                       r->fn, bcf_seqname_safe(r->hdr, rec), (long long)rec->pos + 1, rec->errcode);
        else if (r->is_text && !queried && ret == -3)
            spin_error("cannot parse the record in '%s' at %s", r->fn, reader_where(r, where, sizeof(where)));
        else if (r->is_text && !queried)
            spin_error("read error in '%s' after %s (truncated or corrupt file?)", r->fn,
                       reader_where(r, where, sizeof(where)));
        else if (r->tbx)
            spin_error("cannot read a record of '%s' through its index (malformed line, see HTSlib's message, "
                       "or a truncated or corrupt file)", r->fn);
        else
            spin_error("read error in '%s' (truncated or corrupt file?); the last good record was before "
                       "%s:%lld",
                       r->fn, rec->rid >= 0 ? bcf_seqname_safe(r->hdr, rec) : "?", (long long)rec->pos + 1);
        return -1;
    }
    /* BCF has no text to check: a position below 1 is the one thing HTSlib lets through */
    if (rec->pos < 0) {
        if (queried) spin_error("malformed record in '%s': position %s:%lld is below 1", r->fn,
                                bcf_seqname_safe(r->hdr, rec), (long long)rec->pos + 1);
        else spin_error("malformed record in '%s' (record %lld): position %s:%lld is below 1", r->fn,
                        (long long)r->n_line, bcf_seqname_safe(r->hdr, rec), (long long)rec->pos + 1);
        return -1;
    }
    if (bcf_unpack(rec, BCF_UN_STR) < 0 || rec->errcode) {
        spin_error("malformed record in '%s' at %s:%lld", r->fn, bcf_seqname_safe(r->hdr, rec),
                   (long long)rec->pos + 1);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Panel                                                                */
/* ------------------------------------------------------------------ */

void spin_panel_destroy(spin_panel_t *p)
{
    if (!p) return;
    free(p->fn);
    free(p->chrom);
    for (int i = 0; i < p->n_sample; ++i) free(p->samples[i]);
    free(p->samples);
    if (p->id)
        for (int i = 0; i < p->n_site; ++i) free(p->id[i]);
    free(p->id);
    free(p->pos);
    for (int i = 0; i < p->n_mono; ++i) free(p->mono_id[i]), free(p->mono_ref[i]);
    free(p->mono_pos), free(p->mono_id), free(p->mono_ref), free(p->mono_site);
    free(p->astr);
    free(p->aoff);
    free(p->ialt);
    free(p->nalt);
    free(p->cm);
    free(p->af);
    free(p->hap);
    free(p->n_haploid), free(p->n_haploid_alt);
    free(p);
}

static int panel_grow(spin_panel_t *p)
{
    int m = p->m_site ? p->m_site * 2 : 1024;
    void *v;
#define GROW(f, sz)                                                                                             \
    if (!(v = realloc(p->f, (size_t)m * (sz)))) return -1;                                                     \
    p->f = v;
    GROW(pos, sizeof(int64_t));
    GROW(id, sizeof(char *));
    GROW(aoff, sizeof(size_t));
    GROW(ialt, sizeof(uint16_t));
    GROW(nalt, sizeof(uint16_t));
    GROW(cm, sizeof(double));
    GROW(af, sizeof(float));
    if (p->nw) { /* nw 0: sites only */
        GROW(hap, (size_t)p->nw * sizeof(uint64_t));
    }
    if (p->n_haploid) {
        GROW(n_haploid, sizeof(int));
        GROW(n_haploid_alt, sizeof(int));
    }
#undef GROW
    p->m_site = m;
    return 0;
}

int spin_panel_haploid_init(spin_panel_t *p)
{
    size_t m = p->m_site > 0 ? (size_t)p->m_site : 1;
    if (!(p->n_haploid = calloc(m, sizeof(int))) || !(p->n_haploid_alt = calloc(m, sizeof(int)))) {
        free(p->n_haploid), free(p->n_haploid_alt);
        p->n_haploid = p->n_haploid_alt = NULL;
        return -1;
    }
    return 0;
}

/* Appends "ref\0alt\0" to the arena; returns its offset, or (size_t)-1 on OOM. */
static size_t panel_put_alleles(spin_panel_t *p, const char *ref, const char *alt)
{
    size_t lr = strlen(ref) + 1, la = strlen(alt) + 1, off = p->n_astr;
    if (p->n_astr + lr + la > p->m_astr) {
        size_t m = p->m_astr ? p->m_astr : 4096;
        while (m < p->n_astr + lr + la) m *= 2;
        char *v = realloc(p->astr, m);
        if (!v) return (size_t)-1;
        p->astr = v, p->m_astr = m;
    }
    memcpy(p->astr + off, ref, lr);
    memcpy(p->astr + off + lr, alt, la);
    p->n_astr += lr + la;
    return off;
}

/* 1 if an earlier record at pos (sites [.., n_site) at that position) has
 * exactly the alleles al[0..n) (case-insensitive), in the same order. */
static int panel_has_record(const spin_panel_t *p, int64_t pos, char *const *al, int n)
{
    for (int k = p->n_site - 1; k >= 0 && p->pos[k] == pos; --k) {
        if (p->ialt[k] != 1 || p->nalt[k] != n - 1 || strcasecmp(spin_panel_ref(p, k), al[0]) != 0) continue;
        int same = 1;
        for (int a = 1; a < n && same; ++a)
            if (k + a - 1 >= p->n_site || strcasecmp(spin_panel_alt(p, k + a - 1), al[a]) != 0) same = 0;
        if (same) return 1;
    }
    return 0;
}

void spin_panel_log_counts(const spin_panel_t *p, const char *fn, const char *kind)
{
    spin_info("reference panel '%s'%s: %lld records (%lld SNPs, %lld indels, %lld symbolic/other, %lld "
              "multi-allelic) as %d biallelic sites",
              fn, kind, (long long)(p->n_rec_snp + p->n_rec_indel + p->n_rec_other + p->n_rec_multi),
              (long long)p->n_rec_snp, (long long)p->n_rec_indel, (long long)p->n_rec_other,
              (long long)p->n_rec_multi, p->n_site);
    if (p->n_mono)
        spin_info("reference panel '%s': %d REF-only records, written as read (nothing to impute)", fn, p->n_mono);
    if (p->n_skip_mono)
        spin_warn("reference panel '%s': skipped %lld records whose ALT equals REF", fn, (long long)p->n_skip_mono);
}

spin_panel_t *spin_panel_read(const char *fn, const char *region, int n_threads)
{
    return spin_panel_read_shown(fn, region, NULL, n_threads, NULL);
}

spin_panel_t *spin_panel_read_shown(const char *fn, const char *region, const char *shown, int n_threads,
                                    htsThreadPool *pool)
{
    return spin_panel_read_flags(fn, region, shown, n_threads, pool, 0);
}

int64_t spin_panel_indexed_bits(const char *fn)
{
    struct stat st; /* a FIFO or stdin must not be opened twice: its data would be gone */
    if (strcmp(fn, "-") == 0 || stat(fn, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    if (spin_panelfile_detect(fn)) return spin_panelfile_bits(fn); /* its own block index */
    htsFile *fp = hts_open(fn, "r");
    if (!fp) return -1;
    const htsFormat *fmt = hts_get_format(fp);
    bcf_hdr_t *h = fmt->format == bcf || fmt->format == vcf ? bcf_hdr_read(fp) : NULL;
    hts_idx_t *idx = NULL;
    tbx_t *tbx = NULL;
    if (h && fmt->format == bcf) idx = hts_idx_load3(fn, NULL, HTS_FMT_CSI, HTS_IDX_SILENT_FAIL);
    else if (h && fmt->compression == bgzf) tbx = tbx_index_load3(fn, NULL, HTS_IDX_SILENT_FAIL);
    int64_t bits = -1;
    hts_idx_t *ix = idx ? idx : tbx ? tbx->idx : NULL;
    if (ix) {
        int n = 0;
        const char **seq = idx ? bcf_index_seqnames(idx, h, &n) : tbx_seqnames(tbx, &n);
        uint64_t rec = 0, mapped, unmapped;
        int known = seq != NULL;
        for (int i = 0; i < n && known; i++) {
            int tid = idx ? bcf_hdr_name2id(h, seq[i]) : tbx_name2id(tbx, seq[i]);
            if (tid >= 0 && hts_idx_get_stat(ix, tid, &mapped, &unmapped) == 0) rec += mapped;
            else known = 0;
        }
        free(seq);
        /* an index without record counts: the size is unknown, so plan (which reads sites only) */
        bits = known ? (int64_t)rec * (((int64_t)bcf_hdr_nsamples(h) * 2 + 63) / 64) * 64 : INT64_MAX;
    }
    if (idx) hts_idx_destroy(idx);
    if (tbx) tbx_destroy(tbx);
    if (h) bcf_hdr_destroy(h);
    hts_close(fp);
    return bits;
}

spin_panel_t *spin_panel_read_flags(const char *fn, const char *region, const char *shown, int n_threads,
                                    htsThreadPool *pool, int flags)
{
    const int sites_only = flags & SPIN_PANEL_SITES_ONLY;
    reader_t r;
    spin_panel_t *p = NULL;
    bcf1_t *rec = NULL;
    int32_t *gt = NULL;
    int ngt_arr = 0, queried = 0, tid0 = -1, ret;
    int64_t from = 0, to = INT64_MAX, n_dup = 0;
    char *rchrom = NULL;
    int8_t *alleles = NULL; /* [n_hap] one record's alleles */
    uint8_t *pl = NULL;     /* [n_sample] their ploidy */
    if (spin_panelfile_detect(fn)) return spin_panelfile_read_flags(fn, region, shown, flags); /* `spin-impute prepare` made it */
    if (reader_open(&r, fn, n_threads, pool, sites_only ? NULL : &panel_gt) < 0) return NULL;
    if (!(p = calloc(1, sizeof(*p))) || !(p->fn = strdup(fn))) goto oom;
    p->n_sample = bcf_hdr_nsamples(r.hdr);
    if (p->n_sample == 0) {
        spin_error("reference panel '%s' has no samples", fn);
        goto err;
    }
    p->n_hap = 2 * p->n_sample;
    p->nw = sites_only ? 0 : (p->n_hap + 63) / 64;
    if (!(alleles = malloc((size_t)p->n_hap)) || !(pl = malloc((size_t)p->n_sample))) goto oom;
    if (!(p->samples = calloc((size_t)p->n_sample, sizeof(char *)))) goto oom;
    for (int i = 0; i < p->n_sample; ++i)
        if (!(p->samples[i] = strdup(r.hdr->samples[i]))) goto oom;

    if (region) {
        if (spin_region_parse(region, &rchrom, &from, &to) < 0) goto err;
        tid0 = hdr_contig_find(r.hdr, rchrom);
        if (tid0 < 0) {
            spin_error("region contig '%s' is not in the header of '%s'", rchrom, fn);
            goto err;
        }
        if (reader_load_index(&r) < 0) {
            spin_error("--region needs an index for '%s': run `bcftools index %s` (the VCF must be bgzipped)", fn,
                       fn);
            goto err;
        }
        if ((ret = reader_query(&r, tid0, from, to)) < 0) goto err;
        queried = 1;
    }

    while ((ret = reader_next(&r, &rec, queried)) == 0) {
        const char *chr = bcf_seqname_safe(r.hdr, rec);
        int64_t pos = (int64_t)rec->pos + 1;
        if (tid0 < 0) tid0 = rec->rid;
        else if (rec->rid != tid0) {
            if (queried) continue; /* cannot happen with an index, but be safe */
            spin_error("reference panel '%s' holds several contigs (%s, %s): use --region CHR or CHR:FROM-TO, "
                       "or split it per chromosome",
                       fn, bcf_hdr_id2name(r.hdr, tid0), chr);
            goto err;
        }
        if (pos < from || pos > to) continue;
        if (p->n_site > 0 && pos < p->pos[p->n_site - 1]) {
            spin_error("reference panel '%s' is not sorted: %s:%lld comes after %s:%lld (sort with bcftools sort)",
                       fn, chr, (long long)pos, chr, (long long)p->pos[p->n_site - 1]);
            goto err;
        }
        char *const *al = rec->d.allele;
        int na = rec->n_allele, mono = na < 2;
        for (int a = 1; a < na && !mono; ++a) mono = strcasecmp(al[a], al[0]) == 0;
        if (na < 2) { /* REF only: kept to be written as read */
            if (p->n_mono == p->m_mono) {
                int m = p->m_mono ? 2 * p->m_mono : 64;
                void *a = realloc(p->mono_pos, (size_t)m * sizeof(int64_t));
                if (a) p->mono_pos = a;
                void *b = realloc(p->mono_id, (size_t)m * sizeof(char *));
                if (b) p->mono_id = b;
                void *c = realloc(p->mono_ref, (size_t)m * sizeof(char *));
                if (c) p->mono_ref = c;
                void *d = realloc(p->mono_site, (size_t)m * sizeof(int));
                if (d) p->mono_site = d;
                if (!a || !b || !c || !d) goto oom;
                p->m_mono = m;
            }
            int i = p->n_mono;
            p->mono_id[i] = strdup(rec->d.id ? rec->d.id : ".");
            p->mono_ref[i] = strdup(al[0]);
            if (!p->mono_id[i] || !p->mono_ref[i]) {
                free(p->mono_id[i]), free(p->mono_ref[i]);
                goto oom;
            }
            p->mono_pos[i] = pos, p->mono_site[i] = p->n_site;
            ++p->n_mono;
            continue;
        }
        if (mono) {
            ++p->n_skip_mono;
            continue;
        }
        if (na > INT8_MAX) { /* alleles are read as int8 */
            spin_error("reference panel '%s' at %s:%lld: %d ALT alleles, at most %d are supported", fn, chr,
                       (long long)pos, na - 1, INT8_MAX - 1);
            goto err;
        }
        /* same position and alleles twice: keep the first */
        if (panel_has_record(p, pos, al, na)) {
            ++n_dup;
            continue;
        }
        int type = record_type(al, na);
        int64_t *cnt[SPIN_N_CLASS] = {&p->n_rec_snp, &p->n_rec_indel, &p->n_rec_other, &p->n_rec_multi};
        if (sites_only) { /* positions, ALT index and count, alleles: no GT, no ID */
            ++*cnt[type];
            for (int k = 1; k < na; ++k) {
                if (p->n_site == p->m_site && panel_grow(p) < 0) goto oom;
                int s = p->n_site;
                char rb[2] = {(char)toupper((unsigned char)al[0][0]), 0}, ab[2] = {(char)toupper((unsigned char)al[k][0]), 0};
                int snp = type == SPIN_CLASS_SNP;
                if ((p->aoff[s] = panel_put_alleles(p, snp ? rb : al[0], snp ? ab : al[k])) == (size_t)-1) goto oom;
                p->pos[s] = pos, p->id[s] = NULL, p->ialt[s] = (uint16_t)k, p->nalt[s] = (uint16_t)(na - 1);
                p->cm[s] = (double)pos * 1e-6, p->af[s] = 0;
                ++p->n_site;
            }
            continue;
        }
        /* GT read, checked and packed in the parallel part; if that found a
         * problem, read it again here for the message */
        const slot_t *sl = reader_slot(&r);
        if (!sl->gt_ok && read_phased_gt(fn, r.hdr, rec, &panel_gt, p->n_sample, p->samples, &gt, &ngt_arr, alleles,
                                         NULL, NULL, NULL, pl, 0) < 0)
            goto err;
        int n_hap1 = sl->gt_ok ? sl->n_haploid : haploid_count(alleles, pl, p->n_sample, -1);
        if (n_hap1 && !p->n_haploid && spin_panel_haploid_init(p) < 0) goto oom;
        ++*cnt[type];
        /* one site per ALT allele k: haplotypes carrying ALT k are 1, all others 0 */
        for (int k = 1; k < na; ++k) {
            if (p->n_site == p->m_site && panel_grow(p) < 0) goto oom;
            int s = p->n_site;
            uint64_t *row = p->hap + (size_t)s * p->nw;
            int n_alt;
            if (sl->gt_ok) {
                memcpy(row, sl->bits + (size_t)(k - 1) * p->nw, (size_t)p->nw * sizeof(uint64_t));
                n_alt = sl->n_carrier[k - 1];
            } else
                n_alt = pack_allele(alleles, p->n_hap, k, row);
            p->pos[s] = pos;
            /* the writer prints alleles as read; SNP bases upper-cased as before */
            char rb[2] = {(char)toupper((unsigned char)al[0][0]), 0}, ab[2] = {(char)toupper((unsigned char)al[k][0]), 0};
            int snp = type == SPIN_CLASS_SNP;
            if ((p->aoff[s] = panel_put_alleles(p, snp ? rb : al[0], snp ? ab : al[k])) == (size_t)-1) goto oom;
            if (!(p->id[s] = strdup(rec->d.id ? rec->d.id : "."))) goto oom;
            p->ialt[s] = (uint16_t)k, p->nalt[s] = (uint16_t)(na - 1);
            p->cm[s] = (double)pos * 1e-6;
            if (p->n_haploid) {
                int n_ha = !n_hap1 ? 0 : sl->gt_ok ? sl->n_carrier[na - 1 + k - 1] : haploid_count(alleles, pl, p->n_sample, k);
                p->n_haploid[s] = n_hap1, p->n_haploid_alt[s] = n_ha;
            }
            p->af[s] = spin_panel_site_af(n_alt, p->n_hap, p->n_haploid ? p->n_haploid[s] : 0,
                                          p->n_haploid ? p->n_haploid_alt[s] : 0);
            ++p->n_site;
        }
    }
    if (ret < 0) goto err;
    if (tid0 < 0 || p->n_site == 0) {
        if (region)
            spin_error("reference panel '%s' has no records with an ALT allele in region %s", fn, shown ? shown : region);
        else spin_error("reference panel '%s' has no records with an ALT allele", fn);
        goto err;
    }
    if (!(p->chrom = strdup(bcf_hdr_id2name(r.hdr, tid0)))) goto oom;
    p->chrom_len = hdr_contig_len(r.hdr, tid0);
    if (!(flags & SPIN_PANEL_QUIET)) spin_panel_log_counts(p, fn, "");
    if (n_dup && !(flags & SPIN_PANEL_QUIET)) spin_warn("reference panel '%s': skipped %lld records repeating an earlier position and alleles", fn,
                         (long long)n_dup);
    free(rchrom);
    free(gt);
    free(alleles), free(pl);
    reader_close(&r);
    return p;
oom:
    spin_error("out of memory reading reference panel '%s'", fn);
err:
    free(rchrom);
    free(gt);
    free(alleles), free(pl);
    reader_close(&r);
    spin_panel_destroy(p);
    return NULL;
}

int spin_panel_set_map(spin_panel_t *p, const spin_gmap_t *m)
{
    for (int s = 0; s < p->n_site; ++s) p->cm[s] = spin_gmap_cm(m, p->pos[s]);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Targets                                                              */
/* ------------------------------------------------------------------ */

void spin_targets_destroy(spin_targets_t *t)
{
    if (!t) return;
    free(t->ploidy);
    free(t->fn);
    for (int i = 0; i < t->n_sample; ++i) free(t->samples[i]);
    free(t->samples);
    free(t->site);
    free(t->allele);
    free(t->gt);
    free(t->phased);
    free(t);
}

/* Known autosome/X lengths to name the build in a mismatch message. */
static const struct {
    const char *name;
    int64_t b37, b38;
} build_len[] = {
    {"1", 249250621, 248956422}, {"2", 243199373, 242193529}, {"3", 198022430, 198295559},
    {"4", 191154276, 190214555}, {"5", 180915260, 181538259}, {"6", 171115067, 170805979},
    {"7", 159138663, 159345973}, {"8", 146364022, 145138636}, {"9", 141213431, 138394717},
    {"10", 135534747, 133797422}, {"11", 135006516, 135086622}, {"12", 133851895, 133275309},
    {"13", 115169878, 114364328}, {"14", 107349540, 107043718}, {"15", 102531392, 101991189},
    {"16", 90354753, 90338345},   {"17", 81195210, 83257441},   {"18", 78077248, 80373285},
    {"19", 59128983, 58617616},   {"20", 63025520, 64444167},   {"21", 48129895, 46709983},
    {"22", 51304566, 50818468},   {"X", 155270560, 156040895},
};

static const char *build_name(const char *chrom, int64_t len)
{
    const char *c = spin_chrom_strip(chrom);
    for (size_t i = 0; i < sizeof(build_len) / sizeof(build_len[0]); ++i)
        if (strcmp(build_len[i].name, c) == 0)
            return len == build_len[i].b37 ? "GRCh37" : len == build_len[i].b38 ? "GRCh38" : "unknown build";
    return "unknown build";
}

/* Contigs in both headers with different lengths -> error. The panel's
 * header is re-read from p->fn (cheap) if it is a regular file (a FIFO or pipe
 * cannot be read twice: reopening one blocked forever); otherwise, or if that
 * fails, only p->chrom_len is compared. */
static int check_contig_lengths(const spin_panel_t *p, const char *fn, const bcf_hdr_t *th)
{
    bcf_hdr_t *ph = spin_panelfile_header(p->fn); /* a prepared panel stores its VCF header */
    struct stat sb;
    htsFile *fp = !ph && strcmp(p->fn, "-") != 0 && stat(p->fn, &sb) == 0 && S_ISREG(sb.st_mode) ? hts_open(p->fn, "r") : NULL;
    if (fp) ph = bcf_hdr_read(fp);
    int bad = 0;
    for (int i = 0; i < th->n[BCF_DT_CTG] && !bad; ++i) {
        const char *name = th->id[BCF_DT_CTG][i].key;
        int64_t tl = hdr_contig_len(th, i), pl = 0;
        if (ph) {
            int j = hdr_contig_find(ph, name);
            if (j >= 0) pl = hdr_contig_len(ph, j);
        } else if (spin_chrom_equal(name, p->chrom)) pl = p->chrom_len;
        if (tl > 0 && pl > 0 && tl != pl) {
            char b1[32], b2[32];
            spin_error("contig %s has length %s in the reference panel '%s' (%s) but %s in the targets '%s' (%s): "
                       "different genome builds; lift the targets over (e.g. bcftools +liftover or Picard "
                       "LiftoverVcf) or use a panel of the same build",
                       name, fmt_int(b1, pl), p->fn, build_name(name, pl), fmt_int(b2, tl), fn,
                       build_name(name, tl));
            bad = 1;
        }
    }
    if (ph) bcf_hdr_destroy(ph);
    if (fp) hts_close(fp);
    return bad ? -1 : 0;
}

typedef struct { /* a kept target record before sorting by panel site */
    int site;
    size_t row; /* offset in the allele buffer (n_hap per record; the phase-flag buffer: n_sample) */
} typed_t;

/* The ploidy of sample i between typed sites l and r (either -1: none on
 * that side) from theirs: haploid iff haploid on each side that exists
 * (male chrX outside the PARs); diploid when the flanks differ (the PAR
 * boundary lies somewhere between them), or when neither exists. pl values
 * of 0 (unknown) count as absent: the callers pass the nearest known ones. */
static uint8_t flank_ploidy(uint8_t left, uint8_t right)
{
    if (left == 0 && right == 0) return 2;
    return (uint8_t)((left == 0 || left == 1) && (right == 0 || right == 1) ? 1 : 2);
}

/* Gives every lone "." (ploidy 0) the ploidy of the nearest typed sites of
 * its sample with a given one (flank_ploidy). Per sample two passes, so
 * O(n_typed * n_sample). */
static void resolve_ploidy(spin_targets_t *t)
{
    const int N = t->n_sample, T = t->n_typed;
    for (int i = 0; i < N; ++i) {
        uint8_t last = 0;
        int unknown = 0;
        for (int k = 0; k < T; ++k) unknown |= t->ploidy[(size_t)k * N + i] == 0;
        if (!unknown) continue;
        /* forward: remember the nearest known on the left in the zeros' place (as 0x10 | value) */
        for (int k = 0; k < T; ++k) {
            uint8_t *x = &t->ploidy[(size_t)k * N + i];
            if (*x == 0) *x = (uint8_t)(0x10 | last);
            else last = *x;
        }
        last = 0;
        for (int k = T - 1; k >= 0; --k) {
            uint8_t *x = &t->ploidy[(size_t)k * N + i];
            if (*x & 0x10) *x = flank_ploidy((uint8_t)(*x & 0x0f), last);
            else last = *x;
        }
    }
}

/* spin_targets_ploidy_at (between = 0) and spin_targets_ploidy_before (1). */
static int ploidy_at(const spin_targets_t *t, int site, int between, uint8_t *out)
{
    if (!t->ploidy || t->n_typed == 0) return 0;
    const int N = t->n_sample;
    int r = spin_int_lower_bound(t->site, t->n_typed, site), any = 0;
    if (!between && r < t->n_typed && t->site[r] == site) {
        memcpy(out, t->ploidy + (size_t)r * N, (size_t)N);
    } else {
        const uint8_t *L = r > 0 ? t->ploidy + (size_t)(r - 1) * N : NULL;
        const uint8_t *R = r < t->n_typed ? t->ploidy + (size_t)r * N : NULL;
        for (int i = 0; i < N; ++i) out[i] = flank_ploidy(L ? L[i] : 0, R ? R[i] : 0);
    }
    for (int i = 0; i < N && !any; ++i) any = out[i] == 1;
    return any;
}

int spin_targets_ploidy_at(const spin_targets_t *t, int site, uint8_t *out) { return ploidy_at(t, site, 0, out); }
int spin_targets_ploidy_before(const spin_targets_t *t, int site, uint8_t *out) { return ploidy_at(t, site, 1, out); }

static int cmp_typed(const void *a, const void *b)
{
    const typed_t *x = a, *y = b;
    return (x->site > y->site) - (x->site < y->site);
}

spin_targets_t *spin_targets_read(const char *fn, const spin_panel_t *p, const char *region, int n_threads,
                                  double min_frac)
{
    return spin_targets_read_matched(fn, p, region, NULL, n_threads, NULL, min_frac, NULL);
}

spin_targets_t *spin_targets_read_matched(const char *fn, const spin_panel_t *p, const char *region, const char *shown,
                                          int n_threads, htsThreadPool *pool, double min_frac,
                                          spin_match_stats_t *st_out)
{
    reader_t r;
    spin_targets_t *t = NULL;
    spin_match_stats_t *st = st_out ? st_out : spin_match_stats_init();
    bcf1_t *rec = NULL;
    int32_t *gt = NULL;
    int ngt_arr = 0, queried = 0, ret, n_typ = 0, m_typ = 0;
    int64_t from = 1, to = INT64_MAX, last_pos = 0;
    char *rchrom = NULL;
    uint8_t *is_typed = NULL;
    typed_t *typ = NULL;
    int8_t *buf = NULL;
    uint8_t *phbuf = NULL; /* [n_typ * n_sample] arrived-phased flags, beside buf */
    uint8_t *plbuf = NULL; /* [n_typ * n_sample] ploidy (0: a lone "."), beside buf */
    int any_haploid = 0;
    char num1[32], num2[32];
    if (!st) return NULL;
    if (reader_open(&r, fn, n_threads, pool, NULL) < 0) {
        if (!st_out) spin_match_stats_destroy(st);
        return NULL;
    }
    if (!(t = calloc(1, sizeof(*t))) || !(t->fn = strdup(fn))) goto oom;
    if (!(is_typed = calloc((size_t)p->n_site + 1, 1))) goto oom;
    t->n_sample = bcf_hdr_nsamples(r.hdr);
    if (t->n_sample == 0) {
        spin_error("target file '%s' has no samples", fn);
        goto err;
    }
    t->n_hap = 2 * t->n_sample;
    if (!(t->samples = calloc((size_t)t->n_sample, sizeof(char *)))) goto oom;
    for (int i = 0; i < t->n_sample; ++i)
        if (!(t->samples[i] = strdup(r.hdr->samples[i]))) goto oom;
    if (check_contig_lengths(p, fn, r.hdr) < 0) goto err;
    if (region) {
        if (spin_region_parse(region, &rchrom, &from, &to) < 0) goto err;
        if (!spin_chrom_equal(rchrom, p->chrom)) {
            spin_error("region %s is not on the reference panel's contig %s", shown ? shown : region, p->chrom);
            goto err;
        }
    }
    /* the target's own name for the panel contig, if declared in its header */
    int ttid = hdr_contig_find(r.hdr, p->chrom);
    if (ttid >= 0 && reader_load_index(&r) == 0) {
        if ((ret = reader_query(&r, ttid, from, to)) < 0) goto err;
        queried = 1;
    }

    const int64_t span0 = p->pos[0], span1 = p->pos[p->n_site - 1];
    int said_chr = 0;
    while ((ret = reader_next(&r, &rec, queried)) == 0) {
        const char *chr = bcf_seqname_safe(r.hdr, rec);
        int64_t pos = (int64_t)rec->pos + 1;
        if (!spin_chrom_equal(chr, p->chrom)) {
            ++st->n_other_contig;
            continue;
        }
        if (pos < from || pos > to) continue;
        if (!said_chr && strcmp(chr, p->chrom) != 0) {
            spin_info("target contig '%s' is the reference panel's '%s' (names differ by a \"chr\" prefix)", chr,
                      p->chrom);
            said_chr = st->chr_renamed = 1;
        }
        if (pos < last_pos) {
            spin_error("target file '%s' is not sorted: %s:%lld comes after %s:%lld (sort with bcftools sort)", fn,
                       chr, (long long)pos, chr, (long long)last_pos);
            goto err;
        }
        last_pos = pos;
        ++st->n_records;
        const char *tref = rec->d.allele[0];
        const char *talt = rec->n_allele > 1 ? rec->d.allele[1] : ".";
        kstring_t altl = {0, 0, NULL}; /* the ALT list as written, for notes */
        if (rec->n_allele > 2) {
            for (int k = 1; k < rec->n_allele; ++k) ksprintf(&altl, "%s%s", k > 1 ? "," : "", rec->d.allele[k]);
            talt = altl.s;
        }
        int type = rec->n_allele < 2 ? (is_base(tref) ? SPIN_CLASS_SNP : SPIN_CLASS_OTHER)
                                     : record_type(rec->d.allele, rec->n_allele);
        int64_t *tcnt[SPIN_N_CLASS] = {&st->n_rec_snp, &st->n_rec_indel, &st->n_rec_other, &st->n_rec_multi};
        ++*tcnt[type];
        /* outside the panel's span: target-only, and not held against the
         * match fraction (the panel may be a chunk of the chromosome) */
        int site, rc = 0;
        spin_match_t how = SPIN_MATCH_MISMATCH;
        spin_note_t why;
        if (pos < span0 || pos > span1) {
            ++st->n_outside;
            why = SPIN_NOTE_TARGET_ONLY;
        } else
            why = spin_match_record(p, pos, (const char *const *)rec->d.allele, rec->n_allele, is_typed, &site, &how);
        if (why != SPIN_NOTE_N) rc = spin_match_stats_note(st, why, chr, pos, tref, talt);
        else if (how != SPIN_MATCH_EXACT) rc = spin_match_stats_note(st, spin_match_recode_note(how), chr, pos, tref, talt);
        free(altl.s);
        if (rc < 0) goto err;
        if (why != SPIN_NOTE_N) continue;
        /* kept: read and check genotypes; a multi-allelic record gives one
         * typed site per ALT k (allele k -> 1, any other allele -> 0) */
        int nk = p->nalt[site];
        while (n_typ + nk > m_typ) {
            m_typ = m_typ ? m_typ * 2 : 256;
            typed_t *nt = realloc(typ, (size_t)m_typ * sizeof(*nt));
            if (!nt) goto oom;
            typ = nt;
            int8_t *nb = realloc(buf, (size_t)m_typ * t->n_hap);
            if (!nb) goto oom;
            buf = nb;
            uint8_t *np = realloc(phbuf, (size_t)m_typ * t->n_sample);
            if (!np) goto oom;
            phbuf = np;
            uint8_t *nl = realloc(plbuf, (size_t)m_typ * t->n_sample);
            if (!nl) goto oom;
            plbuf = nl;
        }
        int8_t *row = buf + (size_t)n_typ * t->n_hap;
        if (read_phased_gt(fn, r.hdr, rec, &target_gt, t->n_sample, t->samples, &gt, &ngt_arr, row,
                           &st->n_missing_gt, phbuf + (size_t)n_typ * t->n_sample, &t->n_unphased,
                           plbuf + (size_t)n_typ * t->n_sample, 0) < 0)
            goto err;
        for (int i = 0; i < t->n_sample && !any_haploid; ++i) any_haploid = plbuf[(size_t)n_typ * t->n_sample + i] != 2;
        if (spin_match_swaps(how))
            for (int h = 0; h < t->n_hap; ++h) row[h] = row[h] < 0 ? row[h] : (int8_t)(1 - row[h]);
        for (int k = nk; k >= 1; --k) { /* from the last ALT down: row itself becomes ALT 1 last */
            int8_t *rk = buf + (size_t)(n_typ + k - 1) * t->n_hap;
            if (nk > 1)
                for (int h = 0; h < t->n_hap; ++h) rk[h] = row[h] < 0 ? -1 : (int8_t)(row[h] == k);
            typ[n_typ + k - 1].site = site + k - 1, typ[n_typ + k - 1].row = (size_t)(n_typ + k - 1) * t->n_hap;
            if (k > 1)
                memcpy(plbuf + (size_t)(n_typ + k - 1) * t->n_sample, plbuf + (size_t)n_typ * t->n_sample,
                       (size_t)t->n_sample);
            is_typed[site + k - 1] = 1;
        }
        n_typ += nk;
        ++st->n_matched;
        int64_t *mcnt[SPIN_N_CLASS] = {&st->n_match_snp, &st->n_match_indel, &st->n_match_other, &st->n_match_multi};
        ++*mcnt[type];
        if (how == SPIN_MATCH_EXACT) ++st->n_exact;
    }
    if (ret < 0) goto err;
    st->n_missing_hapsite = (int64_t)n_typ * t->n_hap;

    /* refuse mismatched data before any model work */
    if (st->n_records == 0) {
        spin_error("target file '%s' has no records on contig %s%s%s (the reference panel's contig; %lld records "
                   "on other contigs): check the chromosome and --region",
                   fn, p->chrom, region ? " in region " : "", region ? (shown ? shown : region) : "",
                   (long long)st->n_other_contig);
        goto err;
    }
    int64_t denom = st->n_records - st->n_outside - st->n_duplicate;
    if (n_typ == 0 && denom <= 0 && st->n_outside > 0) {
        /* not a naming or build problem: the panel is too small (e.g. one site) or elsewhere */
        spin_error("none of the %s target records on %s lies within the reference panel's span %s:%lld-%lld, "
                   "which holds only %d site%s: the panel '%s' covers too little of the chromosome "
                   "(cut to another region, or filtered to a few sites?)",
                   fmt_int(num1, st->n_outside), p->chrom, p->chrom, (long long)span0, (long long)span1, p->n_site,
                   p->n_site == 1 ? "" : "s", p->fn);
        goto err;
    }
    if (n_typ == 0 || (denom > 0 && (double)st->n_matched < min_frac * (double)denom)) {
        if (denom <= 0) denom = st->n_records;
        spin_error("%s of %s target sites (%.2f%%) match the reference panel on %s (%lld not in the panel, %lld "
                   "with other alleles, %lld ambiguous A/T or C/G): different genome build or chromosome naming? "
                   "At least %.0f%% must match.",
                   fmt_int(num1, st->n_matched), fmt_int(num2, denom), 100.0 * (double)st->n_matched / (double)denom,
                   p->chrom, (long long)st->n_target_only, (long long)st->n_allele_mismatch,
                   (long long)st->n_palindromic, 100.0 * min_frac);
        goto err;
    }
    /* typed sites in panel order (target order can differ at a position
     * carrying several panel records) */
    qsort(typ, (size_t)n_typ, sizeof(*typ), cmp_typed);
    t->n_typed = t->m_typed = n_typ;
    size_t ng = (size_t)n_typ * t->n_sample;
    if (!(t->site = malloc((size_t)n_typ * sizeof(int))) || !(t->allele = malloc((size_t)n_typ * t->n_hap)) ||
        !(t->gt = malloc(ng)) || !(t->phased = malloc(ng)))
        goto oom;
    if (any_haploid && !(t->ploidy = malloc(ng))) goto oom;
    for (int i = 0; i < n_typ; ++i) {
        t->site[i] = typ[i].site;
        if (t->ploidy) memcpy(t->ploidy + (size_t)i * t->n_sample, plbuf + typ[i].row / 2, (size_t)t->n_sample);
        const int8_t *a = buf + typ[i].row;
        memcpy(t->allele + (size_t)i * t->n_hap, a, (size_t)t->n_hap);
        memcpy(t->phased + (size_t)i * t->n_sample, phbuf + typ[i].row / 2, (size_t)t->n_sample);
        int8_t *g = (int8_t *)t->gt + (size_t)i * t->n_sample;
        for (int j = 0; j < t->n_sample; ++j)
            g[j] = a[2 * j] < 0 || a[2 * j + 1] < 0 ? -1 : (int8_t)(a[2 * j] + a[2 * j + 1]);
    }
    if (t->ploidy) resolve_ploidy(t);
    free(typ);
    free(buf);
    free(phbuf);
    free(plbuf);
    free(is_typed);
    free(rchrom);
    free(gt);
    reader_close(&r);
    if (!st_out) spin_match_stats_destroy(st);
    return t;
oom:
    spin_error("out of memory reading targets '%s'", fn);
err:
    free(typ);
    free(buf);
    free(phbuf);
    free(plbuf);
    free(is_typed);
    free(rchrom);
    free(gt);
    reader_close(&r);
    spin_targets_destroy(t);
    if (!st_out) spin_match_stats_destroy(st);
    return NULL;
}
