/* modelio.c -- the model file, and the optimiser state of a training checkpoint
 * (at the end of this file).
 *
 * Layout (all integers and floats little-endian):
 *   "SPINMODL"                      magic, 8 bytes
 *   u32 version                     = SPIN_MODEL_VERSION
 *   u32 n_setting, then per setting: u16 name length, name, i32 value
 *                                   (named, so a reader refuses settings it does not know)
 *   provenance: str command, str data, u64 seed, i64 steps, f64 wall_s
 *                                   (str = u32 length + bytes)
 *   u32 n_tensor, then per tensor:  u16 name length, name, u32 ndim, ndim x u32 shape
 *   f32 data of every tensor in table order
 *   u32 CRC32 (zlib) of every byte before it
 * The model checksum is that CRC32 as 8 hex digits.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "model.h"

#define SPIN_MODEL_VERSION 1u
static const char MAGIC[8] = {'S', 'P', 'I', 'N', 'M', 'O', 'D', 'L'};

/* ---------------- growable byte buffer ---------------- */

typedef struct {
    uint8_t *b;
    size_t n, m;
    int err;
} wbuf_t;

static void put(wbuf_t *w, const void *p, size_t n)
{
    if (w->err) return;
    if (w->n + n > w->m) {
        size_t nm = w->m ? w->m : 4096;
        while (nm < w->n + n) nm *= 2;
        uint8_t *t = realloc(w->b, nm);
        if (!t) {
            w->err = 1;
            return;
        }
        w->b = t, w->m = nm;
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void put_u16(wbuf_t *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(w, b, 2);
}
static void put_u32(wbuf_t *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}
static void put_u64(wbuf_t *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}
static void put_str(wbuf_t *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u32(w, (uint32_t)n);
    if (n) put(w, s, n);
}
static void put_name(wbuf_t *w, const char *s)
{
    size_t n = strlen(s);
    put_u16(w, (uint16_t)n);
    put(w, s, n);
}

static uint32_t crc_of(const uint8_t *b, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, k);
        b += k, n -= k;
    }
    return (uint32_t)c;
}

/* ---------------- settings ---------------- */

typedef struct {
    const char *name;
    size_t off;
    int opt, dflt; /* optional: a file without it (written before it existed) means dflt */
} setting_t;
#define S(x) {#x, offsetof(spin_config_t, x), 0, 0}
static const setting_t settings[] = {S(e), S(heads), S(k), S(h), S(L), S(ffn), S(w), S(c), S(K), S(enc_rows),
                                     {"hmm", offsetof(spin_config_t, hmm), 1, 0},
                                     {"seg", offsetof(spin_config_t, seg), 1, 0},
                                     {"pbwt_p", offsetof(spin_config_t, pbwt_p), 1, 0}};
#undef S
#define N_SETTING (int)(sizeof(settings) / sizeof(settings[0]))

/* ---------------- save ---------------- */

int spin_model_save(const spin_model_t *m, const char *fn)
{
    wbuf_t w = {0};
    put(&w, MAGIC, 8);
    put_u32(&w, SPIN_MODEL_VERSION);
    put_u32(&w, N_SETTING);
    for (int i = 0; i < N_SETTING; ++i) {
        put_name(&w, settings[i].name);
        put_u32(&w, (uint32_t) * (const int *)((const char *)&m->cfg + settings[i].off));
    }
    put_str(&w, m->prov.command);
    put_str(&w, m->prov.data);
    put_u64(&w, m->prov.seed);
    put_u64(&w, (uint64_t)m->prov.steps);
    uint64_t wb;
    memcpy(&wb, &m->prov.wall_s, 8);
    put_u64(&w, wb);
    put_u32(&w, (uint32_t)m->n_tensor);
    for (int i = 0; i < m->n_tensor; ++i) {
        const spin_tensor_t *t = &m->tensor[i];
        put_name(&w, t->name);
        put_u32(&w, (uint32_t)t->ndim);
        for (int j = 0; j < t->ndim; ++j) put_u32(&w, (uint32_t)t->shape[j]);
    }
    for (int i = 0; i < m->n_tensor; ++i) {
        const spin_tensor_t *t = &m->tensor[i];
        for (int64_t j = 0; j < t->size; ++j) {
            uint32_t u;
            memcpy(&u, &m->w[t->offset + j], 4);
            put_u32(&w, u);
        }
    }
    if (w.err) {
        free(w.b);
        spin_error("out of memory writing model %s", fn);
        return -1;
    }
    uint32_t crc = crc_of(w.b, w.n);
    put_u32(&w, crc);
    if (w.err) {
        free(w.b);
        spin_error("out of memory writing model %s", fn);
        return -1;
    }
    /* atomic: write a temp file in the same directory, then rename over fn */
    size_t ln = strlen(fn);
    char *tmp = malloc(ln + 16);
    if (!tmp) {
        free(w.b);
        spin_error("out of memory writing model %s", fn);
        return -1;
    }
    snprintf(tmp, ln + 16, "%s.tmpXXXXXX", fn);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        spin_error("cannot create a temporary file next to %s: %s", fn, strerror(errno));
        free(tmp);
        free(w.b);
        return -1;
    }
    spin_fchmod_default(fd);
    FILE *fp = fdopen(fd, "wb");
    int ok = fp && fwrite(w.b, 1, w.n, fp) == w.n;
    if (fp) ok = (fflush(fp) == 0) && ok, ok = (fsync(fileno(fp)) == 0) && ok, ok = (fclose(fp) == 0) && ok;
    else close(fd);
    if (!ok) {
        spin_error("cannot write model %s: %s", fn, strerror(errno));
        unlink(tmp);
        free(tmp);
        free(w.b);
        return -1;
    }
    if (rename(tmp, fn) < 0) {
        spin_error("cannot rename %s to %s: %s", tmp, fn, strerror(errno));
        unlink(tmp);
        free(tmp);
        free(w.b);
        return -1;
    }
    free(tmp);
    free(w.b);
    spin_model_set_checksum((spin_model_t *)m, crc);
    return 0;
}

/* ---------------- load ---------------- */

typedef struct {
    const uint8_t *b;
    size_t n, p;
    int short_;
} rbuf_t;

static const uint8_t *get(rbuf_t *r, size_t n)
{
    if (r->short_ || r->n - r->p < n) {
        r->short_ = 1;
        return NULL;
    }
    const uint8_t *q = r->b + r->p;
    r->p += n;
    return q;
}
static uint32_t get_u32(rbuf_t *r)
{
    const uint8_t *q = get(r, 4);
    return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
}
static uint16_t get_u16(rbuf_t *r)
{
    const uint8_t *q = get(r, 2);
    return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}
static uint64_t get_u64(rbuf_t *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}
/* name into out[cap]; names longer than cap-1 are refused by the caller */
static int get_name(rbuf_t *r, char *out, size_t cap)
{
    uint16_t n = get_u16(r);
    const uint8_t *q = get(r, n);
    if (!q) return -1;
    if (n >= cap) return -2;
    memcpy(out, q, n);
    out[n] = 0;
    return 0;
}
static char *get_str(rbuf_t *r)
{
    uint32_t n = get_u32(r);
    const uint8_t *q = get(r, n);
    if (!q) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    memcpy(s, q, n);
    s[n] = 0;
    return s;
}

/* 1 if the trailing CRC32 matches the bytes before it */
static int crc_ok(const uint8_t *b, size_t n)
{
    if (n < 12) return 0;
    const uint8_t *q = b + n - 4;
    uint32_t st = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    return crc_of(b, n - 4) == st;
}

/* A header that does not make sense is reported as corruption when the CRC says so. */
#define BAD_HEADER(...)                                                                           \
    do {                                                                                          \
        if (!crc_ok(b, n)) {                                                                      \
            spin_error("%s is corrupt or truncated: CRC32 mismatch and an unreadable header", fn); \
        } else                                                                                    \
            spin_error(__VA_ARGS__);                                                              \
        goto fail;                                                                                \
    } while (0)

static uint8_t *slurp(const char *fn, size_t *n)
{
    FILE *fp = fopen(fn, "rb");
    if (!fp) {
        spin_error("cannot open model %s: %s", fn, strerror(errno));
        return NULL;
    }
    struct stat st; /* fopen accepts a directory and fread then fails with EISDIR */
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        spin_error("cannot read model %s: it is a directory (give the model file, e.g. %s/default.spin)", fn, fn);
        fclose(fp);
        return NULL;
    }
    size_t m = 1 << 16, k = 0;
    uint8_t *b = malloc(m);
    errno = 0;
    while (b) {
        size_t r = fread(b + k, 1, m - k, fp);
        k += r;
        if (k < m) break;
        uint8_t *t = realloc(b, m * 2);
        if (!t) {
            free(b);
            b = NULL;
            break;
        }
        b = t, m *= 2;
    }
    int err = ferror(fp) ? (errno ? errno : EIO) : 0;
    fclose(fp);
    if (!b || err) {
        spin_error("cannot read model %s: %s", fn, b ? strerror(err) : "out of memory");
        free(b);
        return NULL;
    }
    *n = k;
    return b;
}

spin_model_t *spin_model_load(const char *fn)
{
    size_t n;
    uint8_t *b = slurp(fn, &n);
    if (!b) return NULL;
    spin_model_t *m = NULL;
    char *cmd = NULL, *data = NULL;
    rbuf_t r = {b, n, 0, 0};
    if (n < 8 || memcmp(b, MAGIC, 8) != 0) {
        spin_error("%s is not a spin-impute model file (bad magic)", fn);
        goto fail;
    }
    r.p = 8;
    uint32_t ver = get_u32(&r);
    if (r.short_) goto truncated;
    if (ver != SPIN_MODEL_VERSION) {
        spin_error("%s: unsupported model format version %u (this spin-impute reads version %u); "
                   "use the spin-impute release that wrote it or retrain",
                   fn, ver, SPIN_MODEL_VERSION);
        goto fail;
    }
    spin_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    int seen[N_SETTING] = {0};
    uint32_t ns = get_u32(&r);
    for (uint32_t i = 0; i < ns && !r.short_; ++i) {
        char nm[64];
        int rc = get_name(&r, nm, sizeof(nm));
        int32_t v = (int32_t)get_u32(&r);
        if (r.short_) break;
        int j = 0;
        while (j < N_SETTING && (rc < 0 || strcmp(settings[j].name, nm) != 0)) ++j;
        if (j == N_SETTING) {
            BAD_HEADER("%s: unknown model setting '%s' (written by a newer spin-impute?)", fn,
                       rc < 0 ? "(too long)" : nm);
        }
        *(int *)((char *)&cfg + settings[j].off) = v;
        seen[j] = 1;
    }
    if (r.short_) goto truncated;
    for (int j = 0; j < N_SETTING; ++j)
        if (!seen[j] && settings[j].opt) {
            *(int *)((char *)&cfg + settings[j].off) = settings[j].dflt;
        } else if (!seen[j]) {
            BAD_HEADER("%s: model setting '%s' is missing", fn, settings[j].name);
        }
    spin_provenance_t prov;
    memset(&prov, 0, sizeof(prov));
    cmd = get_str(&r);
    data = get_str(&r);
    prov.seed = get_u64(&r);
    prov.steps = (int64_t)get_u64(&r);
    uint64_t wb = get_u64(&r);
    memcpy(&prov.wall_s, &wb, 8);
    if (r.short_) goto truncated;
    if (!cmd || !data) {
        spin_error("out of memory reading %s", fn);
        goto fail;
    }
    prov.command = cmd, prov.data = data;
    uint32_t nt = get_u32(&r);
    if (r.short_) goto truncated;
    if (spin_config_check(&cfg) < 0) BAD_HEADER("%s: the model settings are invalid (see above)", fn);
    /* check what the settings ask for against the file size before allocating
     * it: a 1 KB header can ask for gigabytes */
    int64_t np = spin_config_n_params(&cfg);
    if (np < 0) BAD_HEADER("%s: the model settings are invalid (see above)", fn);
    if ((uint64_t)np > (n - r.p) / 4) {
        spin_error("%s is corrupt or truncated: its settings need %lld parameters (%.1f MB), but the file has "
                   "only %zu bytes",
                   fn, (long long)np, (double)np * 4 / 1e6, n);
        goto fail;
    }
    m = spin_model_alloc(&cfg);
    if (!m) goto fail;
    if (spin_model_set_provenance(m, &prov) < 0) goto fail;
    if ((int64_t)nt != m->n_tensor) {
        BAD_HEADER("%s: %u tensors, but its settings imply %d: the file is inconsistent", fn, nt,
                   m->n_tensor);
    }
    for (uint32_t i = 0; i < nt; ++i) {
        char nm[64];
        int rc = get_name(&r, nm, sizeof(nm));
        uint32_t nd = get_u32(&r);
        uint32_t sh[4] = {0, 0, 0, 0};
        if (nd > 4 && !r.short_) BAD_HEADER("%s: tensor %u has %u dimensions (at most 4)", fn, i, nd);
        for (uint32_t j = 0; j < nd; ++j) sh[j] = get_u32(&r);
        if (r.short_) goto truncated;
        const spin_tensor_t *t = &m->tensor[i];
        int same = rc == 0 && strcmp(nm, t->name) == 0 && (int)nd == t->ndim;
        for (int j = 0; same && j < t->ndim; ++j) same = (int)sh[j] == t->shape[j];
        if (!same)
            BAD_HEADER("%s: tensor %u is '%s' [%u x %u], but the settings imply '%s' [%d x %d]: "
                       "the file is inconsistent",
                       fn, i, rc == 0 ? nm : "?", sh[0], sh[1], t->name, t->shape[0], t->shape[1]);
    }
    size_t expect = r.p + (size_t)m->n_params * 4 + 4;
    if (n < expect) {
        spin_error("%s is truncated: expected %zu bytes, the file has %zu", fn, expect, n);
        goto fail;
    }
    if (n > expect) {
        spin_error("%s is corrupt: %zu bytes of trailing data after the model", fn, n - expect);
        goto fail;
    }
    uint32_t crc = crc_of(b, n - 4);
    r.p = n - 4;
    uint32_t stored = get_u32(&r);
    if (crc != stored) {
        spin_error("%s is corrupt: CRC32 mismatch (stored %08x, computed %08x); re-download or retrain it",
                   fn, (unsigned)stored, (unsigned)crc);
        goto fail;
    }
    const uint8_t *q = b + (expect - 4 - (size_t)m->n_params * 4);
    for (int64_t i = 0; i < m->n_params; ++i, q += 4) {
        uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        memcpy(&m->w[i], &u, 4);
    }
    spin_model_set_checksum(m, crc);
    free(cmd);
    free(data);
    free(b);
    return m;
truncated:
    spin_error("%s is truncated: it ends inside the header (%zu bytes)", fn, n);
fail:
    free(cmd);
    free(data);
    free(b);
    spin_model_destroy(m);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Training checkpoints: the optimiser state beside a model file        */
/* ------------------------------------------------------------------ */

/* Layout: "SPINCKPT", spin_ckpt_hdr_t as in memory, int64 n, float mv[2n]
 * (Adam moments), float best[n] (best weights so far), uint32 CRC32 of
 * header, mv and best. Little-endian hosts only (configure refuses others). */

int spin_ckpt_state_write(const char *fn, const spin_ckpt_hdr_t *h, int64_t n, const float *mv, const float *best)
{
    size_t len = strlen(fn) + 16;
    char *tmp = malloc(len);
    if (!tmp) return -1;
    snprintf(tmp, len, "%s.tmp", fn);
    FILE *fp = fopen(tmp, "wb");
    int ok = fp != NULL;
    uLong crc = crc32(0L, Z_NULL, 0);
    if (ok) ok = fwrite("SPINCKPT", 1, 8, fp) == 8 && fwrite(h, sizeof(*h), 1, fp) == 1 && fwrite(&n, 8, 1, fp) == 1 &&
                 fwrite(mv, sizeof(float), (size_t)(2 * n), fp) == (size_t)(2 * n) &&
                 fwrite(best, sizeof(float), (size_t)n, fp) == (size_t)n;
    if (ok) {
        crc = crc32(crc, (const Bytef *)h, sizeof(*h));
        crc = crc32(crc, (const Bytef *)mv, (uInt)(2 * n * sizeof(float)));
        crc = crc32(crc, (const Bytef *)best, (uInt)(n * sizeof(float)));
        uint32_t c32 = (uint32_t)crc;
        ok = fwrite(&c32, 4, 1, fp) == 1;
    }
    if (fp && fclose(fp) != 0) ok = 0;
    if (ok && rename(tmp, fn) != 0) ok = 0;
    if (!ok) {
        spin_error("cannot write the checkpoint state %s: %s", fn, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

int spin_ckpt_state_read(const char *fn, spin_ckpt_hdr_t *h, int64_t n, float *mv, float *best)
{
    FILE *fp = fopen(fn, "rb");
    if (!fp) {
        spin_error("cannot open the checkpoint state %s: %s", fn, strerror(errno));
        return -1;
    }
    char magic[8];
    int64_t n2 = 0;
    uint32_t c32 = 0;
    int ok = fread(magic, 1, 8, fp) == 8 && memcmp(magic, "SPINCKPT", 8) == 0 && fread(h, sizeof(*h), 1, fp) == 1 &&
             fread(&n2, 8, 1, fp) == 1 && n2 == n && fread(mv, sizeof(float), (size_t)(2 * n), fp) == (size_t)(2 * n) &&
             fread(best, sizeof(float), (size_t)n, fp) == (size_t)n && fread(&c32, 4, 1, fp) == 1;
    fclose(fp);
    if (ok) {
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, (const Bytef *)h, sizeof(*h));
        crc = crc32(crc, (const Bytef *)mv, (uInt)(2 * n * sizeof(float)));
        crc = crc32(crc, (const Bytef *)best, (uInt)(n * sizeof(float)));
        ok = (uint32_t)crc == c32;
    }
    if (!ok) spin_error("%s: not a checkpoint state for this model, truncated or corrupt", fn);
    return ok ? 0 : -1;
}

char *spin_ckpt_state_name(const char *ckpt)
{
    size_t n = strlen(ckpt) + 8;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s.state", ckpt);
    return s;
}
