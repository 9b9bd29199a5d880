/* writer.c -- VCF/BCF writer: Beagle-compatible header and records, atomic -o. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/vcf.h>

#include "dosage.h"
#include "writer.h"

struct spin_writer_s {
    htsFile *fp;
    bcf_hdr_t *hdr;
    bcf1_t *rec;
    kstring_t line;
    char *fn;      /* requested name, NULL for stdout */
    char *tmp;     /* temporary name while writing */
    char fmt;
    int gp, ap, write_index, n_threads, n_sample;
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

static void writer_free(spin_writer_t *w)
{
    if (!w) return;
    if (w->rec) bcf_destroy(w->rec);
    if (w->hdr) bcf_hdr_destroy(w->hdr);
    free(w->line.s);
    free(w->fn), free(w->tmp);
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

spin_writer_t *spin_writer_open(const char *fn, char fmt, int n_threads, const spin_writer_opt_t *opt)
{
    spin_writer_t *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    if (fn && strcmp(fn, "-") == 0) fn = NULL;
    w->fmt = fmt ? fmt : infer_fmt(fn);
    w->gp = opt->gp, w->ap = opt->ap, w->write_index = opt->write_index;
    w->n_threads = n_threads, w->n_sample = opt->n_sample;
    const char *where = fn ? fn : "standard output";
    if (w->write_index && (!fn || w->fmt == 'v' || w->fmt == 'u')) {
        spin_error("an index (-W) needs an output file in bgzipped VCF or BCF form, not %s", where);
        goto fail;
    }
    if (fn) {
        if (!(w->fn = strdup(fn)) || !(w->tmp = make_temp(fn))) goto fail;
    }
    char mode[4] = "w";
    if (w->fmt == 'z') strcpy(mode, "wz");
    else if (w->fmt == 'b') strcpy(mode, "wb");
    else if (w->fmt == 'u') strcpy(mode, "wbu");
    if (!(w->fp = hts_open(w->tmp ? w->tmp : "-", mode))) {
        spin_error("cannot open %s for writing: %s", where, strerror(errno));
        goto fail;
    }
    if (n_threads > 1 && (w->fmt == 'z' || w->fmt == 'b')) hts_set_threads(w->fp, n_threads);
    if (build_header(w, opt) < 0) {
        spin_error("cannot build the output header for %s", where);
        goto fail;
    }
    if (bcf_hdr_write(w->fp, w->hdr) < 0) {
        spin_error("cannot write the header to %s: %s", where, strerror(errno));
        goto fail;
    }
    if (!(w->rec = bcf_init())) goto fail;
    return w;
fail:
    spin_writer_abort(w);
    return NULL;
}

int spin_writer_site(spin_writer_t *w, const char *chrom, int64_t pos, const char *id, char ref, char alt,
                     int imputed, const float *p_alt, int n_hap)
{
    kstring_t *s = &w->line;
    char b[24];
    double af, dr2;
    if (n_hap != 2 * w->n_sample) {
        spin_error("internal: %d haplotypes for %d samples at %s:%lld", n_hap, w->n_sample, chrom, (long long)pos);
        return -1;
    }
    /* P(ALT) must be a probability: a NaN or infinity (from a broken genetic
     * map or model) is an error naming the site, never "nan" in the output */
    for (int h = 0; h < n_hap; h++) {
        float p = p_alt[h];
        if (!(p >= -1e-3f && p <= 1.001f)) {
            spin_error("%s:%lld: the imputed ALT probability of sample %s haplotype %d is %g, not in [0, 1]; "
                       "refusing to write %s (check the --map genetic map and the model)",
                       chrom, (long long)pos, w->hdr->samples[h / 2], h % 2 + 1, (double)p,
                       w->fn ? w->fn : "standard output");
            return -1;
        }
    }
    spin_site_af_dr2(p_alt, n_hap, &af, &dr2);
    s->l = 0;
    ksprintf(s, "%s\t%lld\t%s\t%c\t%c\t.\tPASS\tDR2=%.2f;AF=%.4f%s\tGT:DS%s%s", chrom, (long long)pos,
             id && *id ? id : ".", ref, alt, dr2, af, imputed ? ";IMP" : "", w->ap ? ":AP1:AP2" : "",
             w->gp ? ":GP" : "");
    for (int i = 0; i < w->n_sample; i++) {
        double p1 = p_alt[2 * i], p2 = p_alt[2 * i + 1];
        kputc('\t', s);
        kputc('0' + spin_gt_allele(p1), s);
        kputc('|', s);
        kputc('0' + spin_gt_allele(p2), s);
        kputc(':', s);
        spin_fmt_dose(b, p1 + p2), kputs(b, s);
        if (w->ap) {
            kputc(':', s), spin_fmt_dose(b, p1), kputs(b, s);
            kputc(':', s), spin_fmt_dose(b, p2), kputs(b, s);
        }
        if (w->gp) {
            double gp[3];
            spin_gp(p1, p2, gp);
            for (int k = 0; k < 3; k++) kputc(k ? ',' : ':', s), spin_fmt_dose(b, gp[k]), kputs(b, s);
        }
    }
    int ret;
    if (w->fmt == 'v' || w->fmt == 'z') {
        kputc('\n', s);
        ret = vcf_write_line(w->fp, s);
    } else {
        ret = vcf_parse(s, w->hdr, w->rec);
        if (ret == 0) ret = bcf_write(w->fp, w->hdr, w->rec);
    }
    if (ret < 0) {
        spin_error("cannot write the record at %s:%lld to %s: %s", chrom, (long long)pos,
                   w->fn ? w->fn : "standard output", errno ? strerror(errno) : "write error");
        return -1;
    }
    return 0;
}

static void remove_temp(spin_writer_t *w)
{
    if (!w->tmp) return;
    unlink(w->tmp);
    size_t n = strlen(w->tmp) + 5;
    char *idx = malloc(n);
    if (idx) {
        snprintf(idx, n, "%s.csi", w->tmp);
        unlink(idx);
        free(idx);
    }
}

void spin_writer_abort(spin_writer_t *w)
{
    if (!w) return;
    if (w->fp) hts_close(w->fp);
    w->fp = NULL;
    remove_temp(w);
    writer_free(w);
}

int spin_writer_close(spin_writer_t *w)
{
    const char *where = w->fn ? w->fn : "standard output";
    int ret = hts_close(w->fp);
    w->fp = NULL;
    if (ret != 0) {
        spin_error("closing %s failed (disk full?): the output is incomplete", where);
        goto fail;
    }
    if (!w->fn) {
        if (fflush(stdout) == EOF) {
            spin_error("flushing standard output failed: %s", strerror(errno));
            goto fail;
        }
        writer_free(w);
        return 0;
    }
    if (w->write_index) {
        /* min_shift 14: a CSI index, as bcftools -W writes */
        if (bcf_index_build3(w->tmp, NULL, 14, w->n_threads) != 0) {
            spin_error("cannot build the index of %s", where);
            goto fail;
        }
        size_t n = strlen(w->tmp) + 5, m = strlen(w->fn) + 5;
        char *ti = malloc(n), *fi = malloc(m);
        int r = -1;
        if (ti && fi) {
            snprintf(ti, n, "%s.csi", w->tmp), snprintf(fi, m, "%s.csi", w->fn);
            r = rename(ti, fi);
            if (r != 0) spin_error("cannot rename the index to %s: %s", fi, strerror(errno));
        }
        free(ti), free(fi);
        if (r != 0) goto fail;
    }
    if (rename(w->tmp, w->fn) != 0) {
        spin_error("cannot rename the finished output to %s: %s", w->fn, strerror(errno));
        goto fail;
    }
    free(w->tmp);
    w->tmp = NULL;
    writer_free(w);
    return 0;
fail:
    remove_temp(w);
    writer_free(w);
    return -1;
}
