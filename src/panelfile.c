/* panelfile.c -- the prepared-panel file: write (from a VCF/BCF through
 * spin_panel_read), read (whole contig or the blocks of a region), verify.
 * The layout is in panelfile.h. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>

#include "match.h"
#include "panelfile.h"
#include "vcfin.h"

static const uint8_t MAGIC[8] = {'S', 'P', 'I', 'N', 'P', 'A', 'N', 'L'};
static const uint8_t END_MAGIC[8] = {'S', 'P', 'I', 'N', 'P', 'E', 'N', 'D'};
#define HEAD_LEN 16
#define FOOT_LEN 32

/* haplotype encodings of one site */
enum { HAP_DENSE = 0, HAP_ALT_LIST = 1, HAP_REF_LIST = 2 };

/* ------------------------------------------------------------------ */
/* Little-endian byte buffer and cursor                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    uint8_t *b;
    size_t n, m;
    int err; /* out of memory: every later put is a no-op */
} buf_t;

static uint8_t *buf_room(buf_t *w, size_t k)
{
    if (w->err) return NULL;
    if (w->n + k > w->m) {
        size_t m = w->m ? w->m : 4096;
        while (m < w->n + k) m *= 2;
        uint8_t *t = realloc(w->b, m);
        if (!t) {
            w->err = 1;
            return NULL;
        }
        w->b = t, w->m = m;
    }
    return w->b + w->n;
}
static void put(buf_t *w, const void *p, size_t k)
{
    uint8_t *d = buf_room(w, k);
    if (!d) return;
    if (k) memcpy(d, p, k);
    w->n += k;
}
static void put_u8(buf_t *w, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(w, &b, 1);
}
static void le32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; ++i) b[i] = (uint8_t)(v >> (8 * i));
}
static void le64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; ++i) b[i] = (uint8_t)(v >> (8 * i));
}
static void put_u32(buf_t *w, uint32_t v)
{
    uint8_t b[4];
    le32(b, v);
    put(w, b, 4);
}
static void put_u64(buf_t *w, uint64_t v)
{
    uint8_t b[8];
    le64(b, v);
    put(w, b, 8);
}
/* unsigned LEB128: 7 bits a byte, low first */
static void put_var(buf_t *w, uint64_t v)
{
    uint8_t b[10];
    int k = 0;
    do {
        b[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[k] |= 0x80;
        ++k;
    } while (v);
    put(w, b, (size_t)k);
}
static int var_len(uint64_t v)
{
    int k = 1;
    while (v >>= 7) ++k;
    return k;
}
static void put_str(buf_t *w, const char *s)
{
    size_t k = strlen(s);
    put_var(w, k);
    put(w, s, k);
}

typedef struct {
    const uint8_t *p, *end;
    int err; /* read past the end, or a malformed varint */
} cur_t;

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t rd64(const uint8_t *b) { return (uint64_t)rd32(b) | (uint64_t)rd32(b + 4) << 32; }
static const uint8_t *get(cur_t *c, size_t k)
{
    if (c->err || (size_t)(c->end - c->p) < k) {
        c->err = 1;
        return NULL;
    }
    const uint8_t *r = c->p;
    c->p += k;
    return r;
}
static unsigned get_u8(cur_t *c)
{
    const uint8_t *b = get(c, 1);
    return b ? *b : 0;
}
static uint32_t get_u32(cur_t *c)
{
    const uint8_t *b = get(c, 4);
    return b ? rd32(b) : 0;
}
static uint64_t get_u64(cur_t *c)
{
    const uint8_t *b = get(c, 8);
    return b ? rd64(b) : 0;
}
static uint64_t get_var(cur_t *c)
{
    uint64_t v = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (c->err || c->p >= c->end) break;
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) return v;
    }
    c->err = 1;
    return 0;
}
/* A string as pointer and length into the cursor's bytes (not NUL-terminated). */
static const char *get_str(cur_t *c, size_t *len)
{
    uint64_t k = get_var(c);
    if (c->err || k > (uint64_t)(c->end - c->p)) {
        c->err = 1;
        *len = 0;
        return "";
    }
    *len = (size_t)k;
    return (const char *)get(c, (size_t)k);
}
static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n), d[n] = 0;
    return d;
}

static uint32_t crc_more(uint32_t crc, const uint8_t *b, size_t n)
{
    uLong c = crc;
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, k);
        b += k, n -= k;
    }
    return (uint32_t)c;
}
static uint32_t crc_of(const uint8_t *b, size_t n) { return crc_more((uint32_t)crc32(0L, Z_NULL, 0), b, n); }

/* pread until n bytes or an error/end; 0 ok, -1 otherwise */
static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *b = buf;
    while (n) {
        ssize_t r = pread(fd, b, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        b += r, n -= (size_t)r, off += (uint64_t)r;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The index in memory                                                  */
/* ------------------------------------------------------------------ */

typedef struct {
    int64_t pos_lo, pos_hi;  /* range of the positions of its sites and REF-only records */
    int64_t first_site;      /* contig site index of its first site */
    uint32_t n_site, n_mono;
    uint64_t off;            /* file offset of the compressed bytes */
    uint32_t clen, rlen, crc;/* compressed and raw lengths, CRC32 of the compressed bytes */
} pblock_t;

typedef struct {
    char *name;
    int64_t chrom_len, n_site, n_mono, n_skip_mono;
    int64_t n_rec[SPIN_N_CLASS];
    uint32_t n_block, m_block;
    pblock_t *blk;
} pcontig_t;

typedef struct {
    const char *fn;
    int fd;
    int64_t size;
    uint32_t n_sample, n_hap;
    bcf_hdr_t *hdr;
    uint32_t n_contig;
    pcontig_t *ctg;
} pfile_t;

static void pfile_close(pfile_t *f)
{
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    if (f->hdr) bcf_hdr_destroy(f->hdr);
    for (uint32_t i = 0; i < f->n_contig; ++i) free(f->ctg[i].name), free(f->ctg[i].blk);
    free(f->ctg);
    free(f);
}

int spin_panelfile_detect(const char *fn)
{
    struct stat st;
    if (!fn || strcmp(fn, "-") == 0 || stat(fn, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    int fd = open(fn, O_RDONLY);
    if (fd < 0) return 0;
    uint8_t b[8];
    int hit = pread_all(fd, b, 8, 0) == 0 && memcmp(b, MAGIC, 8) == 0;
    if (!hit && st.st_size >= HEAD_LEN + FOOT_LEN)
        hit = pread_all(fd, b, 8, (uint64_t)st.st_size - 8) == 0 && memcmp(b, END_MAGIC, 8) == 0;
    close(fd);
    return hit;
}

/* Opens and verifies prepared panel fn: magic, version, end marker, header
 * CRC, size, header contents. quiet: no messages (spin_panelfile_header). */
static pfile_t *pfile_open(const char *fn, int quiet)
{
#define FAIL(...)                                                                                                   \
    do {                                                                                                            \
        if (!quiet) spin_error(__VA_ARGS__);                                                                        \
        goto err;                                                                                                   \
    } while (0)
    pfile_t *f = calloc(1, sizeof(*f));
    uint8_t head[HEAD_LEN], foot[FOOT_LEN], *hb = NULL;
    char *text = NULL;
    struct stat st;
    if (!f) FAIL("out of memory opening '%s'", fn);
    f->fn = fn;
    if ((f->fd = open(fn, O_RDONLY)) < 0 || fstat(f->fd, &st) != 0)
        FAIL("cannot open prepared panel '%s': %s", fn, strerror(errno));
    f->size = (int64_t)st.st_size;
    if (f->size < HEAD_LEN + FOOT_LEN || pread_all(f->fd, head, HEAD_LEN, 0) < 0 ||
        pread_all(f->fd, foot, FOOT_LEN, (uint64_t)f->size - FOOT_LEN) < 0)
        FAIL("prepared panel '%s' is truncated (%lld bytes, shorter than its fixed head and end): prepare it again "
             "with `spin-impute prepare`",
             fn, (long long)f->size);
    int head_ok = memcmp(head, MAGIC, 8) == 0, end_ok = memcmp(foot + FOOT_LEN - 8, END_MAGIC, 8) == 0;
    if (!head_ok)
        FAIL("'%s' has a prepared panel's end marker but not its magic (first 8 bytes): the file is corrupt; "
             "prepare it again with `spin-impute prepare`",
             fn);
    uint32_t version = rd32(head + 8);
    if (version != SPIN_PANELFILE_VERSION)
        FAIL("'%s' is a prepared panel of format version %u, but spin-impute %s reads version %d: prepare it "
             "again from the VCF/BCF with this spin-impute (`spin-impute prepare`)",
             fn, version, spin_version(), SPIN_PANELFILE_VERSION);
    if (!end_ok)
        FAIL("prepared panel '%s' is truncated or incomplete (%lld bytes, no end marker): prepare it again with "
             "`spin-impute prepare`",
             fn, (long long)f->size);
    uint64_t hoff = rd64(foot), hlen = rd64(foot + 8);
    if (hoff < HEAD_LEN || hlen > (uint64_t)f->size || hoff > (uint64_t)f->size - FOOT_LEN - hlen ||
        hoff + hlen + FOOT_LEN != (uint64_t)f->size)
        FAIL("prepared panel '%s' is corrupt or truncated: its end says the header takes %llu bytes at offset %llu "
             "of a %lld-byte file",
             fn, (unsigned long long)hlen, (unsigned long long)hoff, (long long)f->size);
    if (!(hb = malloc(hlen ? hlen : 1))) FAIL("out of memory reading '%s'", fn);
    if (pread_all(f->fd, hb, hlen, hoff) < 0) FAIL("cannot read the header of '%s': %s", fn, strerror(errno));
    uint32_t crc = crc_more(crc_more(crc_of(head, HEAD_LEN), hb, hlen), foot, 16), want = rd32(foot + 16);
    if (crc != want)
        FAIL("prepared panel '%s' is corrupt: its header fails the CRC32 check (stored %08x, computed %08x); "
             "prepare it again with `spin-impute prepare`",
             fn, want, crc);
    cur_t c = {hb, hb + hlen, 0};
    int64_t fsize = (int64_t)get_u64(&c);
    if (fsize != f->size)
        FAIL("prepared panel '%s' has %lld bytes but was written with %lld: truncated or extended; prepare it "
             "again",
             fn, (long long)f->size, (long long)fsize);
    f->n_sample = get_u32(&c), f->n_hap = get_u32(&c);
    uint64_t tlen = get_u64(&c);
    const uint8_t *tb = get(&c, c.err || tlen > (uint64_t)(c.end - c.p) ? (size_t)-1 : (size_t)tlen);
    if (c.err || !(text = dup_n((const char *)tb, (size_t)tlen))) FAIL("prepared panel '%s': malformed header", fn);
    if (!(f->hdr = bcf_hdr_init("r")) || bcf_hdr_parse(f->hdr, text) < 0 || bcf_hdr_sync(f->hdr) < 0)
        FAIL("prepared panel '%s': its stored VCF header does not parse", fn);
    if ((uint32_t)bcf_hdr_nsamples(f->hdr) != f->n_sample || f->n_hap != 2 * f->n_sample || f->n_sample == 0)
        FAIL("prepared panel '%s': malformed header (%u samples, %d in the VCF header)", fn, f->n_sample,
             bcf_hdr_nsamples(f->hdr));
    uint64_t expect_off = HEAD_LEN; /* blocks tile [HEAD_LEN, hoff) in index order: every byte is CRC-checked */
    f->n_contig = get_u32(&c);
    if (c.err || f->n_contig > (uint32_t)(c.end - c.p) || !(f->ctg = calloc(f->n_contig + 1, sizeof(*f->ctg))))
        FAIL("prepared panel '%s': malformed header (contig table)", fn);
    for (uint32_t i = 0; i < f->n_contig; ++i) {
        pcontig_t *g = &f->ctg[i];
        size_t nl;
        const char *name = get_str(&c, &nl);
        if (c.err || !(g->name = dup_n(name, nl))) FAIL("prepared panel '%s': malformed header (contig %u)", fn, i);
        g->chrom_len = (int64_t)get_u64(&c), g->n_site = (int64_t)get_u64(&c), g->n_mono = (int64_t)get_u64(&c);
        g->n_skip_mono = (int64_t)get_u64(&c);
        for (int k = 0; k < SPIN_N_CLASS; ++k) g->n_rec[k] = (int64_t)get_u64(&c);
        g->n_block = get_u32(&c);
        if (c.err || g->n_block > (uint32_t)(c.end - c.p) / 52 || g->n_site < 0 || g->n_site > INT32_MAX ||
            g->n_mono < 0 || g->n_mono > INT32_MAX || !(g->blk = calloc(g->n_block + 1, sizeof(*g->blk))))
            FAIL("prepared panel '%s': malformed header (contig %s)", fn, g->name);
        int64_t next = 0, n_mono = 0;
        for (uint32_t b = 0; b < g->n_block; ++b) {
            pblock_t *k = &g->blk[b];
            k->pos_lo = (int64_t)get_u64(&c), k->pos_hi = (int64_t)get_u64(&c), k->first_site = (int64_t)get_u64(&c);
            k->n_site = get_u32(&c), k->n_mono = get_u32(&c);
            k->off = get_u64(&c), k->clen = get_u32(&c), k->rlen = get_u32(&c), k->crc = get_u32(&c);
            /* blocks tile the contig's sites in order and lie between the head and the header */
            if (c.err || k->first_site != next || k->pos_lo > k->pos_hi || k->off != expect_off ||
                k->off > hoff || k->clen > hoff - k->off)
                FAIL("prepared panel '%s': malformed header (block %u of contig %s)", fn, b, g->name);
            next += k->n_site, n_mono += k->n_mono, expect_off += k->clen;
        }
        if (next != g->n_site || n_mono != g->n_mono)
            FAIL("prepared panel '%s': malformed header (contig %s: blocks hold %lld sites, %lld expected)", fn,
                 g->name, (long long)next, (long long)g->n_site);
    }
    if (c.err || c.p != c.end || expect_off != hoff)
        FAIL("prepared panel '%s': malformed header (%s)", fn,
             c.err ? "short" : c.p != c.end ? "trailing bytes" : "blocks do not fill the file");
    free(hb);
    free(text);
    return f;
err:
    free(hb);
    free(text);
    pfile_close(f);
    return NULL;
#undef FAIL
}

bcf_hdr_t *spin_panelfile_header(const char *fn)
{
    if (!spin_panelfile_detect(fn)) return NULL;
    pfile_t *f = pfile_open(fn, 1);
    if (!f) return NULL;
    bcf_hdr_t *h = f->hdr;
    f->hdr = NULL;
    pfile_close(f);
    return h;
}

int64_t spin_panelfile_bits(const char *fn)
{
    pfile_t *f = pfile_open(fn, 1);
    if (!f) return -1;
    int64_t n = 0;
    for (uint32_t i = 0; i < f->n_contig; ++i) n += f->ctg[i].n_site;
    n *= (int64_t)((f->n_hap + 63) / 64) * 64;
    pfile_close(f);
    return n;
}

int spin_panelfile_contigs(const char *fn, char ***names, int *n)
{
    *names = NULL, *n = 0;
    pfile_t *f = pfile_open(fn, 0);
    if (!f) return -1;
    char **v = calloc(f->n_contig + 1, sizeof(char *));
    int ok = v != NULL;
    for (uint32_t i = 0; ok && i < f->n_contig; ++i) ok = (v[i] = strdup(f->ctg[i].name)) != NULL;
    if (!ok) {
        spin_error("out of memory");
        for (uint32_t i = 0; v && i < f->n_contig; ++i) free(v[i]);
        free(v);
        pfile_close(f);
        return -1;
    }
    *names = v, *n = (int)f->n_contig;
    pfile_close(f);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading blocks into a panel                                          */
/* ------------------------------------------------------------------ */

/* Appends block b's sites and REF-only records with from <= pos <= to to p,
 * whose arrays have room for them (sized from the index). raw/comp: scratch
 * of at least b->rlen / b->clen bytes. 0, or -1 with a message. */
static int block_load(const pfile_t *f, const pcontig_t *g, uint32_t bi, int64_t from, int64_t to, spin_panel_t *p,
                      uint8_t *comp, uint8_t *raw, int sites_only)
{
    const pblock_t *b = &g->blk[bi];
    const char *why = NULL;
    char zwhy[64];
    if (pread_all(f->fd, comp, b->clen, b->off) < 0) {
        spin_error("cannot read block %u of contig %s from '%s': %s", bi, g->name, f->fn,
                   errno ? strerror(errno) : "short read");
        return -1;
    }
    uint32_t crc = crc_of(comp, b->clen);
    if (crc != b->crc) {
        spin_error("prepared panel '%s' is corrupt: block %u of contig %s (%s:%lld-%lld) fails the CRC32 check "
                   "(stored %08x, computed %08x); prepare it again with `spin-impute prepare`",
                   f->fn, bi, g->name, g->name, (long long)b->pos_lo, (long long)b->pos_hi, b->crc, crc);
        return -1;
    }
    uLongf rl = b->rlen;
    int zr = uncompress(raw, &rl, comp, b->clen);
    if (zr != Z_OK || rl != b->rlen) {
        snprintf(zwhy, sizeof(zwhy), "zlib: %s", zr != Z_OK ? zError(zr) : "wrong length");
        why = zwhy;
        goto bad;
    }
    cur_t c = {raw, raw + b->rlen, 0};
    const int ns = (int)b->n_site, s_base = p->n_site;
    /* positions first: which of the block's sites lie in [from, to] */
    int k0 = ns, k1 = ns;
    int64_t pos = 0;
    for (int k = 0; k < ns; ++k) {
        int64_t d = (int64_t)get_var(&c);
        pos += d;
        if (pos < b->pos_lo || pos > b->pos_hi || (k > 0 && d < 0)) {
            why = "position outside the block's range or out of order";
            goto bad;
        }
        if (pos >= from && pos <= to) {
            if (k0 == ns) k0 = k;
            else if (k != k1) {
                why = "positions out of order";
                goto bad;
            }
            k1 = k + 1;
            p->pos[p->n_site++] = pos;
        }
    }
    if (k0 == ns) k1 = ns;
    int nk = k1 - k0;
    /* ALT index and count, record class */
    for (int k = 0; k < ns; ++k) {
        uint64_t ialt = get_var(&c), nalt = get_var(&c);
        unsigned cls = ialt == 1 ? get_u8(&c) : 0;
        if (ialt < 1 || ialt > nalt || nalt > UINT16_MAX || cls >= SPIN_N_CLASS) {
            why = "bad ALT index, count or record class";
            goto bad;
        }
        if (k < k0 || k >= k1) continue;
        int s = s_base + k - k0;
        p->ialt[s] = (uint16_t)ialt, p->nalt[s] = (uint16_t)nalt;
        if (ialt == 1) {
            int64_t *cnt[SPIN_N_CLASS] = {&p->n_rec_snp, &p->n_rec_indel, &p->n_rec_other, &p->n_rec_multi};
            ++*cnt[cls];
        }
    }
    for (int k = 0; k < ns; ++k) {
        size_t l;
        const char *id = get_str(&c, &l);
        if (k < k0 || k >= k1 || c.err || sites_only) continue;
        if (!(p->id[s_base + k - k0] = dup_n(id, l))) goto oom;
    }
    for (int k = 0; k < ns; ++k) {
        size_t lr, la;
        const char *r = get_str(&c, &lr), *a = get_str(&c, &la);
        if (k < k0 || k >= k1 || c.err) continue;
        if (memchr(r, 0, lr) || memchr(a, 0, la) || !lr || !la) {
            why = "empty allele";
            goto bad;
        }
        size_t off = p->n_astr;
        if (off + lr + la + 2 > p->m_astr) {
            size_t m = p->m_astr ? p->m_astr : 4096;
            while (m < off + lr + la + 2) m *= 2;
            char *v = realloc(p->astr, m);
            if (!v) goto oom;
            p->astr = v, p->m_astr = m;
        }
        memcpy(p->astr + off, r, lr), p->astr[off + lr] = 0;
        memcpy(p->astr + off + lr + 1, a, la), p->astr[off + lr + 1 + la] = 0;
        p->aoff[s_base + k - k0] = off;
        p->n_astr += lr + la + 2;
    }
    /* REF-only records: the one at contig site index gs comes after the first
     * gs sites, i.e. after the kept sites with a smaller index (those form
     * one run of indices, so this equals the VCF reader's count) */
    int64_t mpos = 0;
    for (uint32_t m = 0; m < b->n_mono; ++m) {
        mpos += (int64_t)get_var(&c);
        int64_t ks = (int64_t)get_var(&c);
        size_t li, lr;
        const char *id = get_str(&c, &li), *ref = get_str(&c, &lr);
        if (c.err || ks > ns || mpos < b->pos_lo || mpos > b->pos_hi) {
            why = "bad REF-only record";
            goto bad;
        }
        if (mpos < from || mpos > to) continue;
        int i = p->n_mono;
        int64_t before = ks < k0 ? 0 : ks > k1 ? nk : ks - k0;
        p->mono_pos[i] = mpos, p->mono_site[i] = s_base + (int)before;
        p->mono_id[i] = dup_n(id, li), p->mono_ref[i] = dup_n(ref, lr);
        ++p->n_mono;
        if (!p->mono_id[i] || !p->mono_ref[i]) goto oom;
    }
    if (sites_only) { /* the haplotypes follow: not needed */
        if (c.err) {
            why = "short block";
            goto bad;
        }
        for (int s = s_base; s < p->n_site; ++s) p->cm[s] = (double)p->pos[s] * 1e-6, p->af[s] = 0;
        return 0;
    }
    /* haplotypes */
    const size_t nb = ((size_t)p->n_hap + 7) / 8;
    for (int k = 0; k < ns && !c.err; ++k) {
        unsigned enc = get_u8(&c);
        int keep = k >= k0 && k < k1;
        uint64_t *row = keep ? p->hap + (size_t)(s_base + k - k0) * p->nw : NULL;
        if (enc == HAP_DENSE) {
            const uint8_t *d = get(&c, nb);
            if (!keep || !d) continue;
            for (size_t j = 0; j < nb; ++j) row[j >> 3] |= (uint64_t)d[j] << (8 * (j & 7));
            if (p->n_hap & 63 && row[p->nw - 1] >> (p->n_hap & 63)) {
                why = "haplotype bits beyond the last haplotype";
                goto bad;
            }
        } else if (enc == HAP_ALT_LIST || enc == HAP_REF_LIST) {
            uint64_t n = get_var(&c), h = 0;
            if (n > (uint64_t)p->n_hap) {
                why = "bad haplotype list";
                goto bad;
            }
            if (keep && enc == HAP_REF_LIST) {
                memset(row, 0xff, (size_t)p->nw * sizeof(uint64_t));
                if (p->n_hap & 63) row[p->nw - 1] = (1ULL << (p->n_hap & 63)) - 1;
            }
            for (uint64_t j = 0; j < n; ++j) {
                h += get_var(&c) + (j > 0);
                if (h >= (uint64_t)p->n_hap) {
                    why = "haplotype index out of range";
                    goto bad;
                }
                if (keep) row[h >> 6] ^= 1ULL << (h & 63);
            }
        } else {
            why = "unknown haplotype encoding";
            goto bad;
        }
    }
    /* haploid genotypes (version 2): a flag, then per site the haploid samples and those carrying the ALT */
    unsigned has_h1 = get_u8(&c);
    if (has_h1 > 1) {
        why = "bad haploid flag";
        goto bad;
    }
    if (has_h1 && nk > 0 && !p->n_haploid && spin_panel_haploid_init(p) < 0) goto oom;
    for (int k = 0; has_h1 && k < ns && !c.err; ++k) {
        uint64_t n1 = get_var(&c), n1a = get_var(&c);
        if (n1 > (uint64_t)p->n_sample || n1a > n1) {
            why = "bad haploid counts";
            goto bad;
        }
        if (k >= k0 && k < k1) p->n_haploid[s_base + k - k0] = (int)n1, p->n_haploid_alt[s_base + k - k0] = (int)n1a;
    }
    if (c.err || c.p != c.end) {
        why = c.err ? "short block" : "trailing bytes";
        goto bad;
    }
    for (int s = s_base; s < p->n_site; ++s) {
        const uint64_t *row = p->hap + (size_t)s * p->nw;
        int n_alt = 0;
        for (int j = 0; j < p->nw; ++j) n_alt += __builtin_popcountll(row[j]);
        p->cm[s] = (double)p->pos[s] * 1e-6; /* as the VCF reader: 1 cM/Mb until spin_panel_set_map */
        int n1 = p->n_haploid ? p->n_haploid[s] : 0, n1a = p->n_haploid ? p->n_haploid_alt[s] : 0;
        if (2 * n1a > n_alt) {
            why = "haploid ALT count above the ALT haplotypes";
            goto bad;
        }
        p->af[s] = spin_panel_site_af(n_alt, p->n_hap, n1, n1a);
    }
    return 0;
oom:
    spin_error("out of memory reading '%s'", f->fn);
    return -1;
bad:
    spin_error("prepared panel '%s' is corrupt: block %u of contig %s (%s:%lld-%lld) is malformed (%s) although its "
               "CRC32 matches; prepare it again with `spin-impute prepare`",
               f->fn, bi, g->name, g->name, (long long)b->pos_lo, (long long)b->pos_hi, why);
    return -1;
}

spin_panel_t *spin_panelfile_read(const char *fn, const char *region, const char *shown)
{
    return spin_panelfile_read_flags(fn, region, shown, 0);
}

spin_panel_t *spin_panelfile_read_flags(const char *fn, const char *region, const char *shown, int flags)
{
    const int sites_only = flags & SPIN_PANEL_SITES_ONLY;
    pfile_t *f = NULL;
    spin_panel_t *p = NULL;
    char *rchrom = NULL;
    uint8_t *comp = NULL, *raw = NULL;
    int64_t from = 0, to = INT64_MAX;
    const pcontig_t *g = NULL;
    if (!(f = pfile_open(fn, 0))) return NULL;
    if (!(p = calloc(1, sizeof(*p))) || !(p->fn = strdup(fn))) goto oom;
    p->n_sample = (int)f->n_sample, p->n_hap = (int)f->n_hap, p->nw = sites_only ? 0 : (p->n_hap + 63) / 64;
    if (!(p->samples = calloc((size_t)p->n_sample, sizeof(char *)))) goto oom;
    for (int i = 0; i < p->n_sample; ++i)
        if (!(p->samples[i] = strdup(f->hdr->samples[i]))) goto oom;
    if (region) {
        if (spin_region_parse(region, &rchrom, &from, &to) < 0) goto err;
        /* the header's contig as the VCF reader finds it: exact name, else up to a "chr" prefix */
        int tid = bcf_hdr_name2id(f->hdr, rchrom);
        for (int i = 0; tid < 0 && i < f->hdr->n[BCF_DT_CTG]; ++i)
            if (spin_chrom_equal(f->hdr->id[BCF_DT_CTG][i].key, rchrom)) tid = i;
        if (tid < 0) {
            spin_error("region contig '%s' is not in the header of '%s'", rchrom, fn);
            goto err;
        }
        const char *name = bcf_hdr_id2name(f->hdr, tid);
        for (uint32_t i = 0; i < f->n_contig && !g; ++i)
            if (strcmp(f->ctg[i].name, name) == 0) g = &f->ctg[i];
        if (!g) {
            spin_error("reference panel '%s' has no records with an ALT allele in region %s", fn,
                       shown ? shown : region);
            goto err;
        }
    } else {
        if (f->n_contig > 1) {
            spin_error("reference panel '%s' holds several contigs (%s, %s): use --region CHR or CHR:FROM-TO, or "
                       "split it per chromosome",
                       fn, f->ctg[0].name, f->ctg[1].name);
            goto err;
        }
        if (f->n_contig == 0) {
            spin_error("reference panel '%s' has no records with an ALT allele", fn);
            goto err;
        }
        g = &f->ctg[0];
    }
    /* room for every site and REF-only record of the blocks that meet [from, to] */
    int64_t max_site = 0, max_mono = 0;
    uint32_t max_c = 1, max_r = 1;
    for (uint32_t i = 0; i < g->n_block; ++i) {
        const pblock_t *b = &g->blk[i];
        if (b->pos_hi < from || b->pos_lo > to) continue;
        max_site += b->n_site, max_mono += b->n_mono;
        if (b->clen > max_c) max_c = b->clen;
        if (b->rlen > max_r) max_r = b->rlen;
    }
    size_t ms = max_site ? (size_t)max_site : 1;
    p->m_site = (int)ms;
    if (!(p->pos = malloc(ms * sizeof(int64_t))) || !(p->id = calloc(ms, sizeof(char *))) ||
        !(p->aoff = malloc(ms * sizeof(size_t))) || !(p->ialt = malloc(ms * sizeof(uint16_t))) ||
        !(p->nalt = malloc(ms * sizeof(uint16_t))) || !(p->cm = malloc(ms * sizeof(double))) ||
        !(p->af = malloc(ms * sizeof(float))) ||
        (!sites_only && !(p->hap = calloc(ms * (size_t)p->nw, sizeof(uint64_t)))) ||
        !(comp = malloc(max_c)) || !(raw = malloc(max_r)))
        goto oom;
    if (max_mono > 0) {
        size_t mm = (size_t)max_mono;
        p->m_mono = (int)mm;
        if (!(p->mono_pos = malloc(mm * sizeof(int64_t))) || !(p->mono_id = calloc(mm, sizeof(char *))) ||
            !(p->mono_ref = calloc(mm, sizeof(char *))) || !(p->mono_site = malloc(mm * sizeof(int))))
            goto oom;
    }
    for (uint32_t i = 0; i < g->n_block; ++i) {
        const pblock_t *b = &g->blk[i];
        if (b->pos_hi < from || b->pos_lo > to) continue;
        if (block_load(f, g, i, from, to, p, comp, raw, sites_only) < 0) goto err;
    }
    if (p->n_site == 0) {
        if (region)
            spin_error("reference panel '%s' has no records with an ALT allele in region %s", fn, shown ? shown : region);
        else spin_error("reference panel '%s' has no records with an ALT allele", fn);
        goto err;
    }
    if (!region) {
        p->n_skip_mono = g->n_skip_mono;
        int64_t *cnt[SPIN_N_CLASS] = {&p->n_rec_snp, &p->n_rec_indel, &p->n_rec_other, &p->n_rec_multi};
        for (int k = 0; k < SPIN_N_CLASS; ++k)
            if (*cnt[k] != g->n_rec[k] || p->n_site != g->n_site || p->n_mono != g->n_mono) {
                spin_error("prepared panel '%s' is corrupt: its blocks disagree with the header's record counts", fn);
                goto err;
            }
    }
    if (!(p->chrom = strdup(g->name))) goto oom;
    p->chrom_len = g->chrom_len;
    if (!(flags & SPIN_PANEL_QUIET)) spin_panel_log_counts(p, fn, " (prepared)");
    free(rchrom);
    free(comp), free(raw);
    pfile_close(f);
    return p;
oom:
    spin_error("out of memory reading reference panel '%s'", fn);
err:
    free(rchrom);
    free(comp), free(raw);
    pfile_close(f);
    spin_panel_destroy(p);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */
/* ------------------------------------------------------------------ */

/* Encodes sites [s0, s1) and REF-only records [m0, m1) of p as one raw block. */
static void block_encode(const spin_panel_t *p, int s0, int s1, int m0, int m1, buf_t *w, int64_t *n_sparse)
{
    int64_t prev = 0;
    for (int s = s0; s < s1; ++s) put_var(w, (uint64_t)(p->pos[s] - prev)), prev = p->pos[s];
    for (int s = s0; s < s1; ++s) {
        put_var(w, p->ialt[s]), put_var(w, p->nalt[s]);
        if (p->ialt[s] == 1) {
            const char *al[INT8_MAX + 1];
            al[0] = spin_panel_ref(p, s);
            for (int k = 0; k < p->nalt[s] && s + k < p->n_site; ++k) al[k + 1] = spin_panel_alt(p, s + k);
            put_u8(w, (unsigned)spin_allele_class(al, p->nalt[s] + 1));
        }
    }
    for (int s = s0; s < s1; ++s) put_str(w, p->id[s] ? p->id[s] : ".");
    for (int s = s0; s < s1; ++s) put_str(w, spin_panel_ref(p, s)), put_str(w, spin_panel_alt(p, s));
    prev = 0;
    for (int m = m0; m < m1; ++m) {
        put_var(w, (uint64_t)(p->mono_pos[m] - prev)), prev = p->mono_pos[m];
        put_var(w, (uint64_t)(p->mono_site[m] - s0));
        put_str(w, p->mono_id[m]), put_str(w, p->mono_ref[m]);
    }
    const size_t nb = ((size_t)p->n_hap + 7) / 8;
    for (int s = s0; s < s1; ++s) {
        const uint64_t *row = p->hap + (size_t)s * p->nw;
        int n_alt = 0;
        for (int j = 0; j < p->nw; ++j) n_alt += __builtin_popcountll(row[j]);
        /* list the minor allele's carriers when that is shorter than the bitset */
        int ref_list = 2 * n_alt > p->n_hap;
        uint64_t flip = ref_list ? ~0ULL : 0, tail = p->n_hap & 63 ? (1ULL << (p->n_hap & 63)) - 1 : ~0ULL;
        size_t cost = (size_t)var_len((uint64_t)(ref_list ? p->n_hap - n_alt : n_alt));
        int64_t last = -1;
        for (int j = 0; j < p->nw && cost < nb; ++j) /* the carriers' bits, word by word */
            for (uint64_t x = (row[j] ^ flip) & (j == p->nw - 1 ? tail : ~0ULL); x && cost < nb; x &= x - 1) {
                int64_t h = (int64_t)j * 64 + __builtin_ctzll(x);
                cost += (size_t)var_len((uint64_t)(h - last - 1)), last = h;
            }
        if (cost >= nb) {
            put_u8(w, HAP_DENSE);
            uint8_t *d = buf_room(w, nb);
            if (!d) return;
            for (size_t j = 0; j < nb; ++j) d[j] = (uint8_t)(row[j >> 3] >> (8 * (j & 7)));
            w->n += nb;
            continue;
        }
        ++*n_sparse;
        put_u8(w, ref_list ? HAP_REF_LIST : HAP_ALT_LIST);
        put_var(w, (uint64_t)(ref_list ? p->n_hap - n_alt : n_alt));
        last = -1;
        for (int j = 0; j < p->nw; ++j)
            for (uint64_t x = (row[j] ^ flip) & (j == p->nw - 1 ? tail : ~0ULL); x; x &= x - 1) {
                int64_t h = (int64_t)j * 64 + __builtin_ctzll(x);
                put_var(w, (uint64_t)(h - last - 1)), last = h;
            }
    }
    int has_h1 = 0;
    for (int s = s0; s < s1 && p->n_haploid && !has_h1; ++s) has_h1 = p->n_haploid[s] > 0;
    put_u8(w, (unsigned)has_h1);
    for (int s = s0; s < s1 && has_h1; ++s) put_var(w, (uint64_t)p->n_haploid[s]), put_var(w, (uint64_t)p->n_haploid_alt[s]);
}

/* fwrite of everything, 0 or -1 */
static int write_all(FILE *fp, const void *b, size_t n) { return n == 0 || fwrite(b, 1, n, fp) == n ? 0 : -1; }

/* Encodes contig panel p as blocks appended to fp at *off, filling g. */
static int contig_write(const spin_panel_t *p, FILE *fp, uint64_t *off, int level, pcontig_t *g, const char *out,
                        int64_t *n_sparse)
{
    buf_t raw = {0};
    uint8_t *comp = NULL;
    uLongf mc = 0;
    int ret = -1;
    g->chrom_len = p->chrom_len, g->n_site = p->n_site, g->n_mono = p->n_mono, g->n_skip_mono = p->n_skip_mono;
    g->n_rec[SPIN_CLASS_SNP] = p->n_rec_snp, g->n_rec[SPIN_CLASS_INDEL] = p->n_rec_indel;
    g->n_rec[SPIN_CLASS_OTHER] = p->n_rec_other, g->n_rec[SPIN_CLASS_MULTI] = p->n_rec_multi;
    g->m_block = (uint32_t)((p->n_site + SPIN_PANELFILE_BLOCK_SITES - 1) / SPIN_PANELFILE_BLOCK_SITES);
    if (!(g->blk = calloc(g->m_block + 1, sizeof(*g->blk))) || !(g->name = strdup(p->chrom))) goto oom;
    int m = 0;
    for (int s0 = 0; s0 < p->n_site; s0 += SPIN_PANELFILE_BLOCK_SITES) {
        int s1 = s0 + SPIN_PANELFILE_BLOCK_SITES < p->n_site ? s0 + SPIN_PANELFILE_BLOCK_SITES : p->n_site;
        /* a REF-only record after the last site goes with the last block */
        int m0 = m;
        while (m < p->n_mono && (p->mono_site[m] < s1 || s1 == p->n_site)) ++m;
        pblock_t *b = &g->blk[g->n_block];
        b->first_site = s0, b->n_site = (uint32_t)(s1 - s0), b->n_mono = (uint32_t)(m - m0);
        b->pos_lo = p->pos[s0], b->pos_hi = p->pos[s1 - 1];
        for (int i = m0; i < m; ++i) {
            if (p->mono_pos[i] < b->pos_lo) b->pos_lo = p->mono_pos[i];
            if (p->mono_pos[i] > b->pos_hi) b->pos_hi = p->mono_pos[i];
        }
        raw.n = 0;
        block_encode(p, s0, s1, m0, m, &raw, n_sparse);
        if (raw.err || raw.n > UINT32_MAX) goto oom;
        uLongf cl = compressBound((uLong)raw.n);
        if (cl > mc) {
            uint8_t *t = realloc(comp, cl);
            if (!t) goto oom;
            comp = t, mc = cl;
        }
        if (compress2(comp, &cl, raw.b, (uLong)raw.n, level) != Z_OK || cl > UINT32_MAX) {
            spin_error("zlib cannot compress a block of %s", out);
            goto end;
        }
        b->off = *off, b->clen = (uint32_t)cl, b->rlen = (uint32_t)raw.n, b->crc = crc_of(comp, cl);
        if (write_all(fp, comp, cl) < 0) {
            spin_error("cannot write %s: %s", out, strerror(errno));
            goto end;
        }
        *off += cl;
        ++g->n_block;
    }
    ret = 0;
    goto end;
oom:
    spin_error("out of memory writing %s", out);
end:
    free(raw.b);
    free(comp);
    return ret;
}

/* 1 if the index has a record on contig `name` (an index may list contigs
 * without records, e.g. every ##contig of a BCF's header), 0 if not. */
static int index_has_records(htsFile *fp, bcf_hdr_t *h, hts_idx_t *idx, tbx_t *tbx, const char *name)
{
    hts_itr_t *itr = NULL;
    int has = 0;
    if (idx) {
        int tid = bcf_hdr_name2id(h, name);
        uint64_t m = 0, u = 0;
        if (tid >= 0 && hts_idx_get_stat(idx, tid, &m, &u) == 0) return m + u > 0;
        if (tid < 0 || !(itr = bcf_itr_queryi(idx, tid, 0, HTS_POS_MAX))) return 0;
        bcf1_t *rec = bcf_init();
        has = rec && bcf_itr_next(fp, itr, rec) >= 0;
        bcf_destroy(rec);
    } else {
        int tid = tbx_name2id(tbx, name);
        if (tid < 0 || !(itr = tbx_itr_queryi(tbx, tid, 0, HTS_POS_MAX))) return 0;
        kstring_t ks = {0, 0, NULL};
        has = tbx_itr_next(fp, tbx, itr, &ks) >= 0;
        free(ks.s);
    }
    hts_itr_destroy(itr);
    return has;
}

/* The contigs with records, from in_fn's index, in index order (NULL *names:
 * no index). */
static int index_contigs(const char *fn, htsFile *fp, bcf_hdr_t *h, char ***names, int *n)
{
    const htsFormat *fmt = hts_get_format(fp);
    hts_idx_t *idx = NULL;
    tbx_t *tbx = NULL;
    const char **v = NULL;
    int nv = 0;
    *names = NULL, *n = 0;
    if (fmt->format == bcf) idx = hts_idx_load3(fn, NULL, HTS_FMT_CSI, HTS_IDX_SILENT_FAIL);
    else if (fmt->compression == bgzf) tbx = tbx_index_load3(fn, NULL, HTS_IDX_SILENT_FAIL);
    if (idx) v = bcf_index_seqnames(idx, h, &nv);
    else if (tbx) v = tbx_seqnames(tbx, &nv);
    else return 0;
    int ok = (v != NULL || nv == 0) && (*names = calloc((size_t)nv + 1, sizeof(char *))) != NULL;
    for (int i = 0; ok && i < nv; ++i)
        if (index_has_records(fp, h, idx, tbx, v[i])) ok = ((*names)[(*n)++] = strdup(v[i])) != NULL;
    free(v);
    if (idx) hts_idx_destroy(idx);
    if (tbx) tbx_destroy(tbx);
    if (!ok) {
        spin_error("cannot list the contigs of the index of '%s'", fn);
        return -1;
    }
    return 0;
}

int spin_panelfile_write(const char *in_fn, const char *out_fn, int n_threads, int level,
                         spin_panelfile_info_t *info)
{
    htsFile *hf = NULL;
    bcf_hdr_t *h = NULL;
    kstring_t text = {0, 0, NULL};
    char **names = NULL, *tmp = NULL, region[1024];
    int n_names = 0, ret = -1, fd = -1;
    FILE *fp = NULL;
    buf_t hb = {0};
    pfile_t pf = {0};
    spin_panelfile_info_t inf = {0};
    spin_panel_t *p = NULL;
    struct stat si, so;
    pf.fd = -1;
    if (level < 1 || level > 9) {
        spin_error("compression level %d is not in 1..9", level);
        return -1;
    }
    if (spin_panelfile_detect(in_fn)) {
        spin_error("'%s' is a prepared panel already: give the VCF/BCF it was made from", in_fn);
        return -1;
    }
    if (!(hf = hts_open(in_fn, "r"))) {
        spin_error("cannot open '%s': %s", in_fn, errno ? strerror(errno) : "unknown error");
        return -1;
    }
    enum htsExactFormat fm = hts_get_format(hf)->format;
    if (fm != vcf && fm != bcf) {
        spin_error("'%s' is not a VCF or BCF file", in_fn);
        goto end;
    }
    if (!(h = bcf_hdr_read(hf))) {
        spin_error("cannot read the VCF/BCF header of '%s'", in_fn);
        goto end;
    }
    if (bcf_hdr_format(h, 0, &text) < 0) goto oom;
    if (index_contigs(in_fn, hf, h, &names, &n_names) < 0) goto end;
    if (stat(in_fn, &si) == 0 && stat(out_fn, &so) == 0) {
        if (si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            spin_error("output file %s is the input file %s: refusing to overwrite an input", out_fn, in_fn);
            goto end;
        }
        if (S_ISDIR(so.st_mode)) {
            spin_error("cannot write %s: it is a directory", out_fn);
            goto end;
        }
    }
    /* a temporary in the output's directory, renamed onto out_fn when complete */
    const char *slash = strrchr(out_fn, '/');
    size_t dl = slash ? (size_t)(slash - out_fn + 1) : 0, tl = strlen(out_fn) + 16;
    if (!(tmp = malloc(tl))) goto oom;
    snprintf(tmp, tl, "%.*s.%s.tmp.XXXXXX", (int)dl, out_fn, slash ? slash + 1 : out_fn);
    if ((fd = mkstemp(tmp)) < 0) {
        spin_error("cannot create a temporary file next to %s: %s", out_fn, strerror(errno));
        free(tmp), tmp = NULL;
        goto end;
    }
    spin_fchmod_default(fd);
    if (!(fp = fdopen(fd, "wb"))) {
        spin_error("cannot write %s: %s", out_fn, strerror(errno));
        close(fd);
        goto end;
    }
    uint8_t head[HEAD_LEN] = {0};
    memcpy(head, MAGIC, 8), le32(head + 8, SPIN_PANELFILE_VERSION);
    if (write_all(fp, head, HEAD_LEN) < 0) {
        spin_error("cannot write %s: %s", out_fn, strerror(errno));
        goto end;
    }
    if (names && n_names == 0) {
        spin_error("the index of '%s' lists no contig with records", in_fn);
        goto end;
    }
    uint64_t off = HEAD_LEN;
    /* one contig: read the whole file, as a run does (also when its records
     * name a contig the header does not declare, which a region cannot find) */
    if (names && n_names == 1) free(names[0]), free(names), names = NULL, n_names = 0;
    int n_read = names ? n_names : 1;
    if (!(pf.ctg = calloc((size_t)n_read + 1, sizeof(*pf.ctg)))) goto oom;
    for (int i = 0; i < n_read; ++i) {
        /* "NAME:1-": the last colon ends the name, so names with colons work too */
        if (names) snprintf(region, sizeof(region), "%s:1-", names[i]);
        if (names && strlen(names[i]) + 4 > sizeof(region)) {
            spin_error("contig name '%.40s...' of '%s' is too long", names[i], in_fn);
            goto end;
        }
        if (!(p = spin_panel_read(in_fn, names ? region : NULL, n_threads))) goto end;
        if (p->n_sample != bcf_hdr_nsamples(h)) {
            spin_error("internal: '%s' read with %d samples, its header has %d", in_fn, p->n_sample,
                       bcf_hdr_nsamples(h));
            goto end;
        }
        if (contig_write(p, fp, &off, level, &pf.ctg[pf.n_contig++], out_fn, &inf.n_sparse) < 0) goto end;
        inf.n_site += p->n_site, inf.n_mono += p->n_mono, inf.raw_bits += (int64_t)p->n_site * p->n_hap;
        inf.n_block += pf.ctg[pf.n_contig - 1].n_block;
        spin_panel_destroy(p);
        p = NULL;
    }
    /* the header, then the footer pointing at it */
    put_u64(&hb, 0); /* the file size, set below */
    put_u32(&hb, (uint32_t)bcf_hdr_nsamples(h)), put_u32(&hb, 2 * (uint32_t)bcf_hdr_nsamples(h));
    put_u64(&hb, text.l), put(&hb, text.s, text.l);
    put_u32(&hb, pf.n_contig);
    for (uint32_t i = 0; i < pf.n_contig; ++i) {
        const pcontig_t *g = &pf.ctg[i];
        put_str(&hb, g->name);
        put_u64(&hb, (uint64_t)g->chrom_len), put_u64(&hb, (uint64_t)g->n_site), put_u64(&hb, (uint64_t)g->n_mono);
        put_u64(&hb, (uint64_t)g->n_skip_mono);
        for (int k = 0; k < SPIN_N_CLASS; ++k) put_u64(&hb, (uint64_t)g->n_rec[k]);
        put_u32(&hb, g->n_block);
        for (uint32_t b = 0; b < g->n_block; ++b) {
            const pblock_t *k = &g->blk[b];
            put_u64(&hb, (uint64_t)k->pos_lo), put_u64(&hb, (uint64_t)k->pos_hi), put_u64(&hb, (uint64_t)k->first_site);
            put_u32(&hb, k->n_site), put_u32(&hb, k->n_mono);
            put_u64(&hb, k->off), put_u32(&hb, k->clen), put_u32(&hb, k->rlen), put_u32(&hb, k->crc);
        }
    }
    if (hb.err) goto oom;
    uint64_t size = off + hb.n + FOOT_LEN;
    le64(hb.b, size);
    uint8_t foot[FOOT_LEN] = {0};
    le64(foot, off), le64(foot + 8, hb.n);
    le32(foot + 16, crc_more(crc_more(crc_of(head, HEAD_LEN), hb.b, hb.n), foot, 16));
    memcpy(foot + FOOT_LEN - 8, END_MAGIC, 8);
    if (write_all(fp, hb.b, hb.n) < 0 || write_all(fp, foot, FOOT_LEN) < 0 || fflush(fp) != 0 || fsync(fd) != 0) {
        spin_error("cannot write %s: %s", out_fn, strerror(errno));
        goto end;
    }
    int cr = fclose(fp);
    fp = NULL;
    if (cr != 0) {
        spin_error("cannot write %s: %s", out_fn, strerror(errno));
        goto end;
    }
    if (rename(tmp, out_fn) != 0) {
        spin_error("cannot rename the finished file to %s: %s", out_fn, strerror(errno));
        goto end;
    }
    free(tmp), tmp = NULL;
    inf.n_contig = (int)pf.n_contig, inf.bytes = (int64_t)size;
    if (info) *info = inf;
    ret = 0;
    goto end;
oom:
    spin_error("out of memory preparing %s", out_fn);
end:
    if (fp) fclose(fp);
    if (tmp) unlink(tmp), free(tmp);
    spin_panel_destroy(p);
    for (int i = 0; i < n_names; ++i) free(names[i]);
    free(names);
    for (uint32_t i = 0; i < pf.n_contig; ++i) free(pf.ctg[i].name), free(pf.ctg[i].blk);
    free(pf.ctg);
    free(hb.b);
    free(text.s);
    if (h) bcf_hdr_destroy(h);
    if (hf) hts_close(hf);
    return ret;
}
