/* check_writer.c -- header strings, record values, VCF vs BCF, atomic -o. */
#include <check.h>

#include "check_util.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <htslib/vcf.h>

#include "writer.h"

static char dir[64];
static spin_panel_t panel;
static const char *const samples[2] = {"S1", "S2"};

static void setup(void)
{
    strcpy(dir, "/tmp/spin-writer-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    memset(&panel, 0, sizeof(panel));
    panel.chrom = "20";
    panel.chrom_len = 63025520;
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (getenv("KEEP")) return;
    ck_assert_int_eq(system(cmd), 0);
}

static int n_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))) n++;
    closedir(d);
    return n;
}

static const char *fn_dummy(void)
{
    static char b[128];
    snprintf(b, sizeof(b), "%s/new.vcf", dir);
    return b;
}

static spin_writer_opt_t opts(int gp, int ap, int nov)
{
    spin_writer_opt_t o;
    memset(&o, 0, sizeof(o));
    o.panel = &panel, o.n_sample = 2, o.samples = samples;
    o.gp = gp, o.ap = ap, o.no_version = nov;
    o.command = "spin-impute test", o.model_checksum = "deadbeef";
    return o;
}

/* typed site (observed 0|1, 1|1), imputed site, imputed monomorphic site */
static void write_three(const char *fn, char fmt, int gp, int ap, int nov, int index)
{
    spin_writer_opt_t o = opts(gp, ap, nov);
    o.write_index = index;
    spin_writer_t *w = spin_writer_open(fn, fmt, 1, &o);
    ck_assert_ptr_nonnull(w);
    float typed[4] = {0, 1, 1, 1}, imp[4] = {0.9f, 0.1f, 0.25f, 0.75f}, mono[4] = {0, 0, 0, 0};
    ck_assert_int_eq(spin_writer_site(w, "20", 100, "rs1", "A", "G", 0, typed, 4), 0);
    ck_assert_int_eq(spin_writer_site(w, "20", 200, ".", "C", "T", 1, imp, 4), 0);
    ck_assert_int_eq(spin_writer_site(w, "20", 300, ".", "G", "A", 1, mono, 4), 0);
    ck_assert_int_eq(spin_writer_close(w), 0);
}

static char *slurp_text(const char *fn)
{
    htsFile *fp = hts_open(fn, "r");
    ck_assert_ptr_nonnull(fp);
    kstring_t s = {0, 0, NULL}, out = {0, 0, NULL};
    while (hts_getline(fp, '\n', &s) >= 0) kputs(s.s, &out), kputc('\n', &out);
    hts_close(fp);
    free(s.s);
    return out.s;
}

START_TEST(test_vcf_text)
{
    char fn[128];
    snprintf(fn, sizeof(fn), "%s/out.vcf", dir);
    write_three(fn, 0, 1, 1, 1, 0);
    char *t = slurp_text(fn);
    /* Beagle's exact definitions */
    ck_assert_ptr_nonnull(strstr(t, "##INFO=<ID=DR2,Number=A,Type=Float,Description=\"Dosage R-Squared: estimated "
                                    "squared correlation between estimated REF dose [P(RA) + 2*P(RR)] and true REF dose\">"));
    ck_assert_ptr_nonnull(strstr(t, "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Estimated ALT Allele Frequencies\">"));
    ck_assert_ptr_nonnull(strstr(t, "##INFO=<ID=IMP,Number=0,Type=Flag,Description=\"Imputed marker\">"));
    ck_assert_ptr_nonnull(strstr(t, "##FORMAT=<ID=DS,Number=A,Type=Float,Description=\"estimated ALT dose [P(RA) + 2*P(AA)]\">"));
    ck_assert_ptr_nonnull(strstr(t, "##FORMAT=<ID=GP,Number=G,Type=Float,Description=\"Estimated Genotype Probability\">"));
    ck_assert_ptr_nonnull(strstr(t, "##FORMAT=<ID=AP1,Number=A,Type=Float,Description=\"estimated ALT dose on first haplotype\">"));
    ck_assert_ptr_nonnull(strstr(t, "##contig=<ID=20,length=63025520>"));
    /* --no-version: no date, version, command or model lines */
    ck_assert_ptr_null(strstr(t, "##filedate"));
    ck_assert_ptr_null(strstr(t, "##spin-imputeCommand"));
    ck_assert_ptr_null(strstr(t, "##spin-imputeVersion"));
    ck_assert_ptr_null(strstr(t, "##spin-imputeModel"));
    /* records, hand-computed:
     * typed: S = 3, Q = 3, N = 4: DR2 = (3 - 2.25)/(3 - 2.25) = 1, AF = 0.75
     * imputed: S = 2, Q = .81+.01+.0625+.5625 = 1.445, V = Q - S^2/N = .445, sum p(1-p) = .555,
     *   sum (p - .5)^2 p(1-p) = .0522375: DR2 = (.445^2 + .0522375) / (.445 (.75 * .555 + .445)) = .653
     *   (dosage.h), AF = .5;
     *   S1 DS 1, GP (.09, .82, .09); S2 DS 1, GP (.1875, .625, .1875) -> #.##: .19 .63 .19 */
    ck_assert_ptr_nonnull(strstr(t, "20\t100\trs1\tA\tG\t.\tPASS\tDR2=1.00;AF=0.7500\tGT:DS:AP1:AP2:GP\t"
                                    "0|1:1:0:1:0,1,0\t1|1:2:1:1:0,0,1\n"));
    ck_assert_ptr_nonnull(strstr(t, "20\t200\t.\tC\tT\t.\tPASS\tDR2=0.65;AF=0.5000;IMP\tGT:DS:AP1:AP2:GP\t"
                                    "1|0:1:0.9:0.1:0.09,0.82,0.09\t0|1:1:0.25:0.75:0.19,0.63,0.19\n"));
    ck_assert_ptr_nonnull(strstr(t, "20\t300\t.\tG\tA\t.\tPASS\tDR2=0.00;AF=0.0000;IMP\tGT:DS:AP1:AP2:GP\t"
                                    "0|0:0:0:0:1,0,0\t0|0:0:0:0:1,0,0\n"));
    free(t);
    ck_assert_int_eq(n_files(), 1); /* no temporary left */
}
END_TEST

/* a multi-allelic record: per-ALT DS/AP/AF/DR2, GP over all genotypes, GT the
 * most probable allele; haplotype 4's ALT probabilities (.6, .6) sum above 1
 * and are renormalised to (.5, .5), a tie that goes to the lower allele */
static void write_multi(const char *fn, char fmt)
{
    spin_writer_opt_t o = opts(1, 1, 1);
    spin_writer_t *w = spin_writer_open(fn, fmt, 1, &o);
    ck_assert_ptr_nonnull(w);
    float c[4] = {0.5f, 0, 0.2f, 0.6f}, del[4] = {0.3f, 0, 0.7f, 0.6f};
    const float *pk[2] = {c, del};
    const char *alt[2] = {"C", "<DEL>"};
    ck_assert_int_eq(spin_writer_site(w, "20", 100, ".", "AT", "A", 1, c, 4), 0);
    ck_assert_int_eq(spin_writer_record(w, "20", 400, ".", "A", alt, 2, 1, pk, 4), 0);
    ck_assert_int_eq(spin_writer_close(w), 0);
}

START_TEST(test_multiallelic_record)
{
    char fn[128];
    snprintf(fn, sizeof(fn), "%s/multi.vcf", dir);
    write_multi(fn, 'v');
    char *t = slurp_text(fn);
    ck_assert_ptr_nonnull(strstr(t, "\n20\t100\t.\tAT\tA\t.\tPASS\t"));
    /* DR2 (dosage.h): C p = (.5, 0, .2, .5): V = .54 - .36 = .18, sum v = .66, cv = .0216
     * -> (.0324 + .0216) / (.18 (.75 * .66 + .18)) = .444; <DEL> p = (.3, 0, .7, .5):
     * V = .83 - .5625 = .2675, sum v = .67, cv = .0272688 -> .0988250 / .205975 = .480 */
    ck_assert_ptr_nonnull(strstr(t, "20\t400\t.\tA\tC,<DEL>\t.\tPASS\tDR2=0.44,0.48;AF=0.3000,0.3750;IMP\t"
                                    "GT:DS:AP1:AP2:GP\t1|0:0.5,0.3:0.5,0.3:0,0:0.2,0.5,0,0.3,0,0\t"
                                    "2|1:0.7,1.2:0.2,0.7:0.5,0.5:0,0.05,0.1,0.05,0.45,0.35\n"));
    free(t);
    /* BCF parses the same line: three alleles, two DS values and six GP per sample */
    snprintf(fn, sizeof(fn), "%s/multi.bcf", dir);
    write_multi(fn, 'b');
    htsFile *fp = hts_open(fn, "r");
    ck_assert_ptr_nonnull(fp);
    bcf_hdr_t *h = bcf_hdr_read(fp);
    bcf1_t *rec = bcf_init();
    ck_assert_int_eq(bcf_read(fp, h, rec), 0);
    ck_assert_int_eq(bcf_read(fp, h, rec), 0);
    ck_assert_int_eq(rec->n_allele, 3);
    float *v = NULL;
    int nv = 0;
    ck_assert_int_eq(bcf_get_format_float(h, rec, "DS", &v, &nv), 4);
    ck_assert_float_eq_tol(v[3], 1.2f, 1e-6);
    ck_assert_int_eq(bcf_get_format_float(h, rec, "GP", &v, &nv), 12);
    ck_assert_int_eq(bcf_get_info_float(h, rec, "DR2", &v, &nv), 2);
    free(v);
    bcf_destroy(rec);
    bcf_hdr_destroy(h);
    hts_close(fp);
}
END_TEST

START_TEST(test_versioned_header)
{
    char fn[128];
    snprintf(fn, sizeof(fn), "%s/out.vcf.gz", dir);
    write_three(fn, 0, 0, 0, 0, 1);
    char *t = slurp_text(fn);
    ck_assert_ptr_nonnull(strstr(t, "##filedate="));
    ck_assert_ptr_nonnull(strstr(t, "##spin-imputeCommand=spin-impute test; Date="));
    ck_assert_ptr_nonnull(strstr(t, "##spin-imputeModel=crc32:deadbeef"));
    ck_assert_ptr_null(strstr(t, "ID=GP"));
    ck_assert_ptr_null(strstr(t, "ID=AP1"));
    ck_assert_ptr_nonnull(strstr(t, "GT:DS\t0|1:1\t1|1:2\n"));
    free(t);
    /* -W wrote a CSI index next to it */
    char idx[160];
    snprintf(idx, sizeof(idx), "%s.csi", fn);
    ck_assert_int_eq(access(idx, F_OK), 0);
    ck_assert_int_eq(n_files(), 2);
}
END_TEST

/* BCF carries the same values as VCF */
START_TEST(test_bcf_same)
{
    char fv[128], fb[128];
    snprintf(fv, sizeof(fv), "%s/a.vcf.gz", dir);
    snprintf(fb, sizeof(fb), "%s/a.bcf", dir);
    write_three(fv, 0, 1, 0, 1, 0);
    write_three(fb, 0, 1, 0, 1, 0);
    htsFile *a = hts_open(fv, "r"), *b = hts_open(fb, "r");
    ck_assert_int_eq(hts_get_format(b)->format, bcf);
    bcf_hdr_t *ha = bcf_hdr_read(a), *hb = bcf_hdr_read(b);
    bcf1_t *ra = bcf_init(), *rb = bcf_init();
    kstring_t sa = {0, 0, NULL}, sb = {0, 0, NULL};
    int n = 0;
    while (bcf_read(a, ha, ra) == 0) {
        ck_assert_int_eq(bcf_read(b, hb, rb), 0);
        sa.l = sb.l = 0;
        vcf_format(ha, ra, &sa), vcf_format(hb, rb, &sb);
        ck_assert_str_eq(sa.s, sb.s);
        n++;
    }
    ck_assert_int_eq(n, 3);
    free(sa.s), free(sb.s);
    bcf_destroy(ra), bcf_destroy(rb);
    bcf_hdr_destroy(ha), bcf_hdr_destroy(hb);
    hts_close(a), hts_close(b);
}
END_TEST

/* Many records (more than a block of every thread count; biallelic,
 * multi-allelic with renormalisation, REF-only), written with nt threads;
 * the caller's buffers change after every call, as a run's do. */
static void write_many(const char *fn, char fmt, int nt, spin_writer_times_t *times)
{
    spin_writer_opt_t o = opts(1, 1, 1);
    o.times = times;
    spin_writer_t *w = spin_writer_open(fn, fmt, nt, &o);
    ck_assert_ptr_nonnull(w);
    float a[4], b[4];
    const float *pk[2] = {a, b};
    const char *alt[2] = {"C", "<DEL>"};
    for (int i = 1; i <= 1500; i++) {
        for (int h = 0; h < 4; h++) a[h] = (float)((i * 7 + h * 13) % 101) / 100.0f, b[h] = (float)((i + h * 31) % 67) / 66.0f;
        char id[16];
        snprintf(id, sizeof(id), "rs%d", i);
        if (i % 11 == 0) ck_assert_int_eq(spin_writer_ref_only(w, "20", 10 * i, id, "T"), 0);
        else if (i % 5 == 0) ck_assert_int_eq(spin_writer_record(w, "20", 10 * i, id, "A", alt, 2, i & 1, pk, 4), 0);
        else ck_assert_int_eq(spin_writer_site(w, "20", 10 * i, i % 3 ? "." : id, "A", "G", i & 1, a, 4), 0);
        memset(a, 0xff, sizeof(a)), memset(b, 0xff, sizeof(b)); /* NaN: a writer still reading them would show it */
    }
    ck_assert_int_eq(spin_writer_close(w), 0);
}

static char *slurp_bytes(const char *fn, size_t *n)
{
    FILE *fp = fopen(fn, "rb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
    long len = ftell(fp);
    ck_assert_int_ge(len, 0);
    rewind(fp);
    char *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return b;
}

/* records formatted in parallel blocks, compressed by threads: the same
 * bytes as one thread writes, in every output form; the stage times add up */
START_TEST(test_threads_same_bytes)
{
    const char fmts[4] = {'v', 'z', 'b', 'u'};
    for (int f = 0; f < 4; f++) {
        char f1[128], fn[128];
        snprintf(f1, sizeof(f1), "%s/t1.%c", dir, fmts[f]);
        spin_writer_times_t t1 = {0, 0};
        write_many(f1, fmts[f], 1, &t1);
        ck_assert(t1.format_s > 0 && t1.write_s > 0);
        size_t n1, nn;
        char *b1 = slurp_bytes(f1, &n1);
        for (int nt = 2; nt <= 7; nt += 5) {
            snprintf(fn, sizeof(fn), "%s/t%d.%c", dir, nt, fmts[f]);
            write_many(fn, fmts[f], nt, NULL);
            char *bn = slurp_bytes(fn, &nn);
            ck_assert_uint_eq(nn, n1);
            ck_assert_int_eq(memcmp(bn, b1, n1), 0);
            free(bn);
        }
        if (fmts[f] == 'v') { /* the records are those written one by one */
            ck_assert_ptr_nonnull(strstr(b1, "20\t50\trs5\tA\tC,<DEL>\t.\tPASS\t"));
            ck_assert_ptr_nonnull(strstr(b1, "20\t110\trs11\tT\t.\t.\tPASS\tIMP\tGT:DS\t0|0\t0|0\n"));
            ck_assert_ptr_null(strstr(b1, "nan"));
        }
        free(b1);
    }
}
END_TEST

START_TEST(test_abort_leaves_nothing)
{
    char fn[128];
    snprintf(fn, sizeof(fn), "%s/partial.vcf.gz", dir);
    spin_writer_opt_t o = opts(0, 0, 1);
    spin_writer_t *w = spin_writer_open(fn, 0, 1, &o);
    ck_assert_ptr_nonnull(w);
    float p[4] = {0, 1, 0, 1};
    ck_assert_int_eq(spin_writer_site(w, "20", 100, ".", "A", "G", 0, p, 4), 0);
    ck_assert_int_eq(n_files(), 1); /* the temporary */
    spin_writer_abort(w);
    ck_assert_int_eq(n_files(), 0);
    ck_assert_int_ne(access(fn, F_OK), 0);
}
END_TEST

/* a non-finite or out-of-range P(ALT) is an error naming the site, never
 * written (a broken --map once gave DS -9.22e16 and AF nan, exit 0) */
START_TEST(test_nonfinite_refused)
{
    char fn[128];
    snprintf(fn, sizeof(fn), "%s/nan.vcf", dir);
    spin_writer_opt_t o = opts(0, 0, 1);
    spin_writer_t *w = spin_writer_open(fn, 'v', 1, &o);
    ck_assert_ptr_nonnull(w);
    float ok[4] = {0, 1, 0.5f, 0.25f}, bad[4] = {0, NAN, 0, 1}, big[4] = {0, 1, 3.0f, 0};
    ck_assert_int_eq(spin_writer_site(w, "20", 100, ".", "A", "G", 1, ok, 4), 0);
    ck_assert_int_lt(spin_writer_site(w, "20", 200, ".", "A", "G", 1, bad, 4), 0);
    ck_assert_int_lt(spin_writer_site(w, "20", 300, ".", "A", "G", 1, big, 4), 0);
    spin_writer_abort(w);
    ck_assert_int_eq(n_files(), 0);
}
END_TEST

/* -W: when the final rename fails, the index renamed before it is removed
 * again (it was left as an orphan .csi) */
START_TEST(test_rename_fail_no_orphan_index)
{
    char fn[128], idx[140];
    snprintf(fn, sizeof(fn), "%s/out.vcf.gz", dir);
    snprintf(idx, sizeof(idx), "%s.csi", fn);
    spin_writer_opt_t o = opts(0, 0, 1);
    o.write_index = 1;
    spin_writer_t *w = spin_writer_open(fn, 'z', 1, &o);
    ck_assert_ptr_nonnull(w);
    float p[4] = {0, 1, 0, 1};
    ck_assert_int_eq(spin_writer_site(w, "20", 100, ".", "A", "G", 0, p, 4), 0);
    ck_assert_int_eq(mkdir(fn, 0755), 0); /* rename(tmp, fn) now fails: fn is a directory */
    ck_assert_int_lt(spin_writer_close(w), 0);
    ck_assert_int_ne(access(idx, F_OK), 0);
    ck_assert_int_eq(n_files(), 1); /* only the directory */
}
END_TEST

/* a companion (--stats) appears with the output, or neither does */
START_TEST(test_companion)
{
    char fn[128], st[128];
    snprintf(fn, sizeof(fn), "%s/out.vcf", dir);
    snprintf(st, sizeof(st), "%s/stats.tsv", dir);
    spin_writer_opt_t o = opts(0, 0, 1);
    float p[4] = {0, 1, 0, 1};
    for (int ok = 0; ok < 2; ok++) {
        spin_writer_t *w = spin_writer_open(fn, 'v', 1, &o);
        ck_assert_ptr_nonnull(w);
        ck_assert_ptr_null(spin_writer_companion(w, fn)); /* the output itself */
        const char *tmp = spin_writer_companion(w, st);
        ck_assert_ptr_nonnull(tmp);
        ck_assert_str_ne(tmp, st);
        FILE *fp = fopen(tmp, "w");
        ck_assert_ptr_nonnull(fp);
        fputs("x\n", fp);
        fclose(fp);
        ck_assert_int_eq(spin_writer_site(w, "20", 100, ".", "A", "G", 0, p, 4), 0);
        ck_assert_int_eq(access(st, F_OK), -1);
        if (!ok) {
            spin_writer_abort(w);
            ck_assert_int_eq(n_files(), 0);
        } else {
            ck_assert_int_eq(spin_writer_close(w), 0);
            ck_assert_int_eq(access(st, F_OK), 0);
            ck_assert_int_eq(access(fn, F_OK), 0);
            ck_assert_int_eq(n_files(), 2);
        }
    }
}
END_TEST

/* -o naming an input, by another spelling or a hard link, is refused */
START_TEST(test_input_refused)
{
    char in[128], alias[128], other[128];
    snprintf(in, sizeof(in), "%s/in.vcf", dir);
    snprintf(alias, sizeof(alias), "%s/../%s/in.vcf", dir, strrchr(dir, '/') + 1);
    snprintf(other, sizeof(other), "%s/hard.vcf", dir);
    FILE *fp = fopen(in, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("keep\n", fp);
    fclose(fp);
    ck_assert_int_eq(link(in, other), 0);
    const char *inputs[3] = {"/nonexistent", NULL, in};
    spin_writer_opt_t o = opts(0, 0, 1);
    o.inputs = inputs, o.n_inputs = 3;
    ck_assert_ptr_null(spin_writer_open(alias, 'v', 1, &o));
    ck_assert_ptr_null(spin_writer_open(other, 'v', 1, &o));
    spin_writer_t *w = spin_writer_open(fn_dummy(), 'v', 1, &o);
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_null(spin_writer_companion(w, other)); /* --stats naming an input */
    spin_writer_abort(w);
    ck_assert_int_eq(n_files(), 2);
}
END_TEST

START_TEST(test_unwritable)
{
    spin_writer_opt_t o = opts(0, 0, 1);
    ck_assert_ptr_null(spin_writer_open("/nonexistent-dir/out.vcf.gz", 0, 1, &o));
    /* an index for stdout or plain VCF is refused */
    o.write_index = 1;
    char fn[128];
    snprintf(fn, sizeof(fn), "%s/x.vcf", dir);
    ck_assert_ptr_null(spin_writer_open(fn, 0, 1, &o));
    ck_assert_int_eq(n_files(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("writer");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_vcf_text);
    tcase_add_test(tc, test_versioned_header);
    tcase_add_test(tc, test_multiallelic_record);
    tcase_add_test(tc, test_bcf_same);
    tcase_add_test(tc, test_threads_same_bytes);
    tcase_add_test(tc, test_abort_leaves_nothing);
    tcase_add_test(tc, test_unwritable);
    tcase_add_test(tc, test_nonfinite_refused);
    tcase_add_test(tc, test_rename_fail_no_orphan_index);
    tcase_add_test(tc, test_companion);
    tcase_add_test(tc, test_input_refused);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
