/* check_modelio.c -- model file: bit-identical round trip; truncated, corrupt,
 * wrong-magic, wrong-version and inconsistent files are refused. */
#include <check.h>

#include "check_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

static char dir[] = "/tmp/check_modelio_XXXXXX";
static char fn[256], fn2[256];

static spin_model_t *small_model(void)
{
    spin_config_t c;
    spin_config_default(&c);
    c.e = 8, c.heads = 2, c.k = 2, c.h = 3, c.L = 2, c.ffn = 2, c.w = 20, c.c = 4, c.K = 5, c.enc_rows = 64;
    spin_model_t *m = spin_model_init(&c, 99);
    ck_assert_ptr_nonnull(m);
    spin_provenance_t p = {"spin-impute train -o x.spin panel.bcf", "simulated panel, 100 samples", 99, 1234, 56.5};
    ck_assert_int_eq(spin_model_set_provenance(m, &p), 0);
    return m;
}

static unsigned char *read_all(const char *f, size_t *n)
{
    FILE *fp = fopen(f, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? sz : 1);
    ck_assert_int_eq(fread(b, 1, sz, fp), (size_t)sz);
    fclose(fp);
    *n = (size_t)sz;
    return b;
}

static void write_all(const char *f, const unsigned char *b, size_t n)
{
    FILE *fp = fopen(f, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(fn, sizeof(fn), "%s/m.spin", dir);
    snprintf(fn2, sizeof(fn2), "%s/bad.spin", dir);
}
static void teardown(void)
{
    unlink(fn);
    unlink(fn2);
    rmdir(dir);
    strcpy(dir, "/tmp/check_modelio_XXXXXX");
}

START_TEST(test_roundtrip)
{
    spin_model_t *m = small_model();
    ck_assert_str_eq(spin_model_checksum(m), "00000000");
    ck_assert_int_eq(spin_model_save(m, fn), 0);
    ck_assert_str_ne(spin_model_checksum(m), "00000000");
    spin_model_t *r = spin_model_load(fn);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(memcmp(&r->cfg, &m->cfg, sizeof(spin_config_t)), 0);
    ck_assert_int_eq(r->n_params, m->n_params);
    ck_assert_int_eq(memcmp(r->w, m->w, m->n_params * sizeof(float)), 0);
    ck_assert_str_eq(r->prov.command, m->prov.command);
    ck_assert_str_eq(r->prov.data, "simulated panel, 100 samples");
    ck_assert_int_eq(r->prov.seed, 99);
    ck_assert_int_eq(r->prov.steps, 1234);
    ck_assert(r->prov.wall_s == 56.5);
    ck_assert_str_eq(spin_model_checksum(r), spin_model_checksum(m));
    /* saving the loaded model gives the same bytes */
    ck_assert_int_eq(spin_model_save(r, fn2), 0);
    size_t n1, n2;
    unsigned char *b1 = read_all(fn, &n1), *b2 = read_all(fn2, &n2);
    ck_assert_int_eq(n1, n2);
    ck_assert_int_eq(memcmp(b1, b2, n1), 0);
    /* the checksum is the trailing CRC32, little-endian */
    char hex[9];
    snprintf(hex, sizeof(hex), "%02x%02x%02x%02x", b1[n1 - 1], b1[n1 - 2], b1[n1 - 3], b1[n1 - 4]);
    ck_assert_str_eq(hex, spin_model_checksum(m));
    /* magic and version at the start */
    ck_assert_int_eq(memcmp(b1, "SPINMODL", 8), 0);
    ck_assert_int_eq(b1[8], 1);
    ck_assert_int_eq(b1[9] | b1[10] | b1[11], 0);
    /* no temp files left next to it */
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "ls %s | grep -q tmp", dir);
    ck_assert_int_ne(system(cmd), 0);
    free(b1);
    free(b2);
    spin_model_destroy(m);
    spin_model_destroy(r);
}
END_TEST

START_TEST(test_refuse)
{
    spin_model_t *m = small_model();
    ck_assert_int_eq(spin_model_save(m, fn), 0);
    size_t n;
    unsigned char *b = read_all(fn, &n);
    /* truncated in the data, in the header, empty */
    write_all(fn2, b, n - 10);
    ck_assert_ptr_null(spin_model_load(fn2));
    write_all(fn2, b, 20);
    ck_assert_ptr_null(spin_model_load(fn2));
    write_all(fn2, b, 0);
    ck_assert_ptr_null(spin_model_load(fn2));
    /* one flipped byte in the data, in the provenance text, in the CRC */
    for (size_t off = 0; off < 3; ++off) {
        size_t at = off == 0 ? n / 2 : off == 1 ? 80 : n - 2;
        b[at] ^= 0x10;
        write_all(fn2, b, n);
        ck_assert_msg(spin_model_load(fn2) == NULL, "flipped byte at %zu accepted", at);
        b[at] ^= 0x10;
    }
    /* wrong magic */
    b[0] = 'X';
    write_all(fn2, b, n);
    ck_assert_ptr_null(spin_model_load(fn2));
    b[0] = 'S';
    /* wrong version */
    b[8] = 2;
    write_all(fn2, b, n);
    ck_assert_ptr_null(spin_model_load(fn2));
    b[8] = 1;
    /* trailing garbage */
    unsigned char *b3 = malloc(n + 4);
    memcpy(b3, b, n);
    memset(b3 + n, 0, 4);
    write_all(fn2, b3, n + 4);
    ck_assert_ptr_null(spin_model_load(fn2));
    free(b3);
    /* the untouched bytes still load (the test really restored them) */
    write_all(fn2, b, n);
    spin_model_t *r = spin_model_load(fn2);
    ck_assert_ptr_nonnull(r);
    spin_model_destroy(r);
    /* missing file */
    ck_assert_ptr_null(spin_model_load("/nonexistent/dir/m.spin"));
    free(b);
    spin_model_destroy(m);
}
END_TEST

/* A file whose CRC is right but whose tensor table disagrees with its settings. */
START_TEST(test_inconsistent)
{
    spin_model_t *m = small_model();
    /* rename a tensor in memory, then save: the CRC covers the wrong name */
    snprintf(m->tensor[3].name, sizeof(m->tensor[3].name), "tok.Z");
    ck_assert_int_eq(spin_model_save(m, fn), 0);
    ck_assert_ptr_null(spin_model_load(fn));
    spin_model_destroy(m);
    /* save atomically refuses an unwritable directory and leaves nothing */
    m = small_model();
    ck_assert_int_lt(spin_model_save(m, "/nonexistent/dir/m.spin"), 0);
    spin_model_destroy(m);
}
END_TEST

/* patches the i32 value of setting `name` in a saved model's bytes */
static void set_setting(unsigned char *b, size_t n, const char *name, int32_t v)
{
    size_t ln = strlen(name);
    for (size_t i = 16; i + 2 + ln + 4 <= n; i++)
        if (b[i] == ln && b[i + 1] == 0 && memcmp(b + i + 2, name, ln) == 0) {
            for (int k = 0; k < 4; k++) b[i + 2 + ln + k] = (unsigned char)((uint32_t)v >> (8 * k));
            return;
        }
    ck_abort_msg("setting %s not found", name);
}

/* A small file whose settings ask for gigabytes of parameters is refused by
 * its size before anything is allocated (it used to calloc them first). The
 * message is the proof: allocation first ends in "out of memory" or
 * "inconsistent", never in the size comparison. */
START_TEST(test_size_before_alloc)
{
    spin_model_t *m = small_model();
    ck_assert_int_eq(spin_model_save(m, fn), 0);
    spin_model_destroy(m);
    size_t n;
    unsigned char *b = read_all(fn, &n);
    ck_assert_uint_lt(n, 200000);
    set_setting(b, n, "e", 4096);
    set_setting(b, n, "h", 4096);
    set_setting(b, n, "L", 8);
    set_setting(b, n, "ffn", 16);
    write_all(fn2, b, n);
    free(b);
    char log[300];
    snprintf(log, sizeof(log), "%s/log", dir);
    fflush(stderr);
    int saved = dup(2);
    ck_assert_ptr_nonnull(freopen(log, "w", stderr));
    spin_verbose = SPIN_LOG_ERROR;
    ck_assert_ptr_null(spin_model_load(fn2));
    fflush(stderr);
    dup2(saved, 2);
    size_t ln;
    unsigned char *msg = read_all(log, &ln);
    msg = realloc(msg, ln + 1);
    msg[ln] = 0;
    ck_assert_msg(strstr((char *)msg, "settings need") != NULL, "message: %s", msg);
    free(msg);
    unlink(log);
}
END_TEST

/* --model DIR: "is a directory", not "I/O error" */
START_TEST(test_directory)
{
    char log[300];
    snprintf(log, sizeof(log), "%s/log", dir);
    fflush(stderr);
    int saved = dup(2);
    ck_assert_ptr_nonnull(freopen(log, "w", stderr));
    spin_verbose = SPIN_LOG_ERROR;
    ck_assert_ptr_null(spin_model_load(dir));
    fflush(stderr);
    dup2(saved, 2);
    size_t ln;
    unsigned char *msg = read_all(log, &ln);
    msg = realloc(msg, ln + 1);
    msg[ln] = 0;
    ck_assert_msg(strstr((char *)msg, "is a directory") != NULL, "message: %s", msg);
    free(msg);
    unlink(log);
}
END_TEST

int main(void)
{
    spin_verbose = 0;
    Suite *s = suite_create("modelio");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_refuse);
    tcase_add_test(tc, test_inconsistent);
    tcase_add_test(tc, test_size_before_alloc);
    tcase_add_test(tc, test_directory);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
