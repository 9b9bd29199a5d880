/* stats.c -- site-matching counters, excluded-site list, --stats TSV. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static const char *note_names[SPIN_NOTE_N] = {"swapped",  "flipped",   "flip_swapped", "palindromic_mismatch",
                                              "allele_mismatch", "target_only", "duplicate"};

const char *spin_note_name(spin_note_t r) { return (unsigned)r < SPIN_NOTE_N ? note_names[r] : "unknown"; }

spin_match_stats_t *spin_match_stats_init(void)
{
    spin_match_stats_t *st = calloc(1, sizeof(*st));
    if (!st) spin_error("out of memory");
    else st->n_panel_snp = st->n_panel_indel = st->n_panel_other = st->n_panel_multi = -1;
    return st;
}

void spin_match_stats_destroy(spin_match_stats_t *st)
{
    if (!st) return;
    for (int i = 0; i < st->n_note; ++i) {
        free(st->note[i].chrom);
        free(st->note[i].ref);
        free(st->note[i].alt);
    }
    free(st->note);
    free(st);
}

static int64_t *counter(spin_match_stats_t *st, spin_note_t r)
{
    switch (r) {
    case SPIN_NOTE_SWAPPED: return &st->n_swapped;
    case SPIN_NOTE_FLIPPED: return &st->n_flipped;
    case SPIN_NOTE_FLIP_SWAPPED: return &st->n_flip_swapped;
    case SPIN_NOTE_PALINDROMIC: return &st->n_palindromic;
    case SPIN_NOTE_ALLELE_MISMATCH: return &st->n_allele_mismatch;
    case SPIN_NOTE_TARGET_ONLY: return &st->n_target_only;
    case SPIN_NOTE_DUPLICATE: return &st->n_duplicate;
    default: return NULL;
    }
}

int spin_match_stats_note(spin_match_stats_t *st, spin_note_t reason, const char *chrom, int64_t pos,
                          const char *ref, const char *alt)
{
    int64_t *c = counter(st, reason);
    if (!c) return -1;
    ++*c;
    if (st->n_note == st->m_note) {
        int m = st->m_note ? st->m_note * 2 : 64;
        spin_site_note_t *n = realloc(st->note, (size_t)m * sizeof(*n));
        if (!n) goto oom;
        st->note = n, st->m_note = m;
    }
    spin_site_note_t *n = &st->note[st->n_note];
    n->chrom = strdup(chrom ? chrom : ".");
    n->ref = strdup(ref ? ref : ".");
    n->alt = strdup(alt ? alt : ".");
    n->pos = pos, n->reason = reason;
    if (!n->chrom || !n->ref || !n->alt) {
        free(n->chrom), free(n->ref), free(n->alt);
        goto oom;
    }
    ++st->n_note;
    return 0;
oom:
    spin_error("out of memory");
    return -1;
}

int spin_stats_write_tsv(const spin_match_stats_t *st, const char *fn)
{
    return spin_stats_write_tsv_as(st, fn, fn);
}

int spin_stats_write_tsv_as(const spin_match_stats_t *st, const char *path, const char *fn)
{
    if (!fn || !path || strcmp(fn, "-") == 0) {
        spin_error("--stats needs a file name (stdout carries the imputed VCF)");
        return -1;
    }
    FILE *fp = fopen(path, "w");
    if (!fp) {
        spin_error("cannot write stats file '%s': %s", fn, strerror(errno));
        return -1;
    }
    int ok = 1;
    ok &= fprintf(fp, "#category\tcount\n") > 0;
#define C(name, v) ok &= fprintf(fp, "%s\t%lld\n", name, (long long)(v)) > 0
    C("target_records", st->n_records);
    C("outside_panel_span", st->n_outside);
    C("matched", st->n_matched);
    C("exact", st->n_exact);
    C("swapped", st->n_swapped);
    C("flipped", st->n_flipped);
    C("flip_swapped", st->n_flip_swapped);
    C("palindromic_mismatch", st->n_palindromic);
    C("allele_mismatch", st->n_allele_mismatch);
    C("target_only", st->n_target_only);
    C("duplicate", st->n_duplicate);
    C("target_snp", st->n_rec_snp);
    C("target_indel", st->n_rec_indel);
    C("target_other", st->n_rec_other);
    C("target_multiallelic", st->n_rec_multi);
    C("matched_snp", st->n_match_snp);
    C("matched_indel", st->n_match_indel);
    C("matched_other", st->n_match_other);
    C("matched_multiallelic", st->n_match_multi);
    if (st->n_panel_snp >= 0) {
        C("panel_snp", st->n_panel_snp);
        C("panel_indel", st->n_panel_indel);
        C("panel_other", st->n_panel_other);
        C("panel_multiallelic", st->n_panel_multi);
    }
    C("missing_alleles", st->n_missing_gt);
    C("other_contig_records", st->n_other_contig);
#undef C
    ok &= fprintf(fp, "#chrom\tpos\tref\talt\treason\n") > 0;
    for (int i = 0; i < st->n_note && ok; ++i) {
        const spin_site_note_t *n = &st->note[i];
        ok &= fprintf(fp, "%s\t%lld\t%s\t%s\t%s\n", n->chrom, (long long)n->pos, n->ref, n->alt,
                      spin_note_name(n->reason)) > 0;
    }
    if (fclose(fp) != 0) ok = 0;
    if (!ok) {
        spin_error("failed writing stats file '%s': %s", fn, strerror(errno));
        return -1;
    }
    return 0;
}

void spin_stats_log_summary(const spin_match_stats_t *st)
{
    if (!st) return;
    spin_info("target sites: %lld records (%lld SNP, %lld indel, %lld symbolic/other, %lld multi-allelic), %lld "
              "typed (%lld exact, %lld REF/ALT swapped, %lld strand-flipped, %lld flipped+swapped; by type %lld SNP, "
              "%lld indel, %lld symbolic/other, %lld multi-allelic); dropped: %lld target-only, %lld allele "
              "mismatch, %lld ambiguous A/T,C/G, %lld duplicate; %lld missing alleles",
              (long long)st->n_records, (long long)st->n_rec_snp, (long long)st->n_rec_indel,
              (long long)st->n_rec_other, (long long)st->n_rec_multi, (long long)st->n_matched,
              (long long)st->n_exact, (long long)st->n_swapped, (long long)st->n_flipped,
              (long long)st->n_flip_swapped, (long long)st->n_match_snp, (long long)st->n_match_indel,
              (long long)st->n_match_other, (long long)st->n_match_multi, (long long)st->n_target_only,
              (long long)st->n_allele_mismatch, (long long)st->n_palindromic, (long long)st->n_duplicate,
              (long long)st->n_missing_gt);
    /* non-SNP records match only by identical REF and ALT: differently
     * normalised files (left-alignment, trimming, split vs joined ALTs) show
     * up as allele mismatches there */
    if (st->n_rec_snp < st->n_records && st->n_allele_mismatch > 0)
        spin_info("indel, symbolic and multi-allelic target records match the panel only with identical REF and "
                  "ALT alleles: normalise panel and targets the same way (`bcftools norm -f ref.fa`) if they "
                  "mismatch");
}
