/* cmd_train.c -- `spin-impute train REF`: options -> spin_train_run. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train.h"

static void usage(FILE *fp, const spin_train_opt_t *d)
{
    const spin_config_t *c = &d->cfg;
    fprintf(fp,
            "\nUsage: spin-impute train [options] REF\n\n"
            "Trains a SPIN model, self-supervised, on a phased reference panel (VCF, VCF.gz or BCF):\n"
            "random windows, random array-like typed sets, masked haplotypes to impute.\n"
            "The model with the best validation mean per-variant r2 is written.\n\n"
            "Training:\n"
            "  -o, --output FILE        model file to write [%s]\n"
            "      --steps INT          optimisation steps [%lld]\n"
            "  -t, --threads INT        threads [%d]\n"
            "      --seed INT           random seed (same seed and threads: same model file) [%llu]\n"
            "      --map FILE           genetic map: PLINK (chrom id cM bp) or SHAPEIT5 (pos chr cM) [none: 1 cM/Mb]\n"
            "  -r, --region CHR:FROM-TO train on this region of an indexed panel\n"
            "      --val-samples INT    samples held out for validation [5%% of samples, at least 5]\n"
            "      --val-every INT      validate every INT steps [%d]\n"
            "      --val-windows INT    windows imputed per validation [%d]\n"
            "      --log-every INT      progress line every INT steps [%d]\n"
            "      --init MODEL         start from MODEL (fine-tune) instead of a fresh model\n"
            "      --checkpoint-every INT  write OUTPUT.ckpt (+ .state) every INT steps [off]\n"
            "      --resume CKPT        continue from a checkpoint written by --checkpoint-every\n"
            "      --lr FLOAT           peak learning rate (warm-up, then cosine) [%g]\n"
            "      --weight-decay FLOAT AdamW weight decay [%g]\n"
            "      --batch-ctx INT      context rows per step [%d]\n"
            "      --batch-q INT        query rows per step [%d]\n"
            "      --maf-weight FLOAT   weight sites by (MAF/0.5)^-FLOAT in the loss, 0 = off [%g]\n"
            "Model settings (for a fresh model; with --init, those given override the init model's and\n"
            "its weights carry over where their shapes still fit):\n"
            "      --embed INT          token embedding width e [%d]\n"
            "      --heads INT          attention heads [%d]\n"
            "      --latents INT        latents per row k [%d]\n"
            "      --inducing INT       inducing points per window h [%d]\n"
            "      --layers INT         SPIN layers L [%d]\n"
            "      --ffn INT            FFN expansion [%d]\n"
            "      --window INT         untyped SNPs per window w [%d]\n"
            "      --context INT        typed context SNPs on each side c [%d]\n"
            "      --neighbours INT     panel neighbours per target K [%d]\n"
            "      --enc-rows INT       panel rows encoded per window, 0 = all [%d]\n"
            "      --copy-hmm INT       1: weigh neighbours by a Li-Stephens posterior too, 0: IBS only [%d]\n"
            "      --segment INT        0: windows of w untyped SNPs; B: segments of B typed intervals with\n"
            "                           PBWT-chosen copy states (K caps them per target, w caps a training\n"
            "                           window's untyped SNPs) [%d]\n"
            "      --pbwt-p INT         segments: PBWT matches per direction per gap [%d]\n"
            "  -h, --help               this help\n\n",
            d->out_fn, (long long)d->steps, d->n_threads, (unsigned long long)d->seed, d->val_every, d->val_windows,
            d->log_every, d->lr, d->wd, d->n_ctx, d->n_q, d->maf_weight, c->e, c->heads, c->k, c->h, c->L, c->ffn, c->w, c->c, c->K,
            c->enc_rows, c->hmm, c->seg, c->pbwt_p);
}

static int num(const char *s, const char *opt, long lo, long hi, long *out)
{
    return cli_parse_long(s, "train", opt, lo, hi, out);
}

static int fnum(const char *s, const char *opt, double lo, double hi, float *out)
{
    double v;
    if (cli_parse_double(s, "train", opt, lo, hi, &v) < 0) return -1;
    *out = (float)v;
    return 0;
}

enum {
    O_STEPS = 256, O_SEED, O_MAP, O_VALS, O_VALE, O_VALW, O_LOGE, O_INIT, O_CKPT, O_RESUME, O_LR, O_WD, O_BCTX, O_BQ,
    O_MAFW, O_EMBED, O_HEADS, O_LAT, O_IND, O_LAY, O_FFN, O_WIN, O_CTX, O_NB, O_ENC, O_HMM, O_SEG, O_PBWTP
};

int main_train(int argc, char **argv)
{
    spin_train_opt_t o;
    spin_train_opt_default(&o);
    static const struct option lo[] = {
        {"output", required_argument, 0, 'o'}, {"steps", required_argument, 0, O_STEPS},
        {"threads", required_argument, 0, 't'}, {"seed", required_argument, 0, O_SEED},
        {"map", required_argument, 0, O_MAP}, {"region", required_argument, 0, 'r'},
        {"val-samples", required_argument, 0, O_VALS}, {"val-every", required_argument, 0, O_VALE},
        {"val-windows", required_argument, 0, O_VALW}, {"log-every", required_argument, 0, O_LOGE},
        {"init", required_argument, 0, O_INIT}, {"checkpoint-every", required_argument, 0, O_CKPT},
        {"resume", required_argument, 0, O_RESUME}, {"lr", required_argument, 0, O_LR},
        {"weight-decay", required_argument, 0, O_WD}, {"batch-ctx", required_argument, 0, O_BCTX},
        {"batch-q", required_argument, 0, O_BQ}, {"maf-weight", required_argument, 0, O_MAFW}, {"embed", required_argument, 0, O_EMBED},
        {"heads", required_argument, 0, O_HEADS}, {"latents", required_argument, 0, O_LAT},
        {"inducing", required_argument, 0, O_IND}, {"layers", required_argument, 0, O_LAY},
        {"ffn", required_argument, 0, O_FFN}, {"window", required_argument, 0, O_WIN},
        {"context", required_argument, 0, O_CTX}, {"neighbours", required_argument, 0, O_NB},
        {"enc-rows", required_argument, 0, O_ENC}, {"copy-hmm", required_argument, 0, O_HMM},
        {"segment", required_argument, 0, O_SEG}, {"pbwt-p", required_argument, 0, O_PBWTP}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:r:h", lo, NULL)) >= 0) {
        int bad = 0;
        switch (c) {
        case 'o': o.out_fn = optarg; break;
        case 't': bad = num(optarg, "--threads", 1, 1024, &v), o.n_threads = (int)v; break;
        case 'r': o.region = optarg; break;
        case O_STEPS: bad = num(optarg, "--steps", 1, 100000000L, &v), o.steps = v; break;
        case O_SEED: bad = num(optarg, "--seed", 0, 2147483647L, &v), o.seed = (uint64_t)v; break;
        case O_MAP: o.map_fn = optarg; break;
        case O_VALS: bad = num(optarg, "--val-samples", 1, 1000000, &v), o.val_samples = (int)v; break;
        case O_VALE: bad = num(optarg, "--val-every", 0, 100000000L, &v), o.val_every = (int)v; break;
        case O_VALW: bad = num(optarg, "--val-windows", 1, 1000000, &v), o.val_windows = (int)v; break;
        case O_LOGE: bad = num(optarg, "--log-every", 0, 100000000L, &v), o.log_every = (int)v; break;
        case O_INIT: o.init_fn = optarg; break;
        case O_CKPT: bad = num(optarg, "--checkpoint-every", 0, 100000000L, &v), o.checkpoint_every = (int)v; break;
        case O_RESUME: o.resume_fn = optarg; break;
        case O_LR: bad = fnum(optarg, "--lr", 1e-7, 1.0, &o.lr); break;
        case O_WD: bad = fnum(optarg, "--weight-decay", 0.0, 1.0, &o.wd); break;
        case O_BCTX: bad = num(optarg, "--batch-ctx", 8, 100000, &v), o.n_ctx = (int)v; break;
        case O_BQ: bad = num(optarg, "--batch-q", 1, 10000, &v), o.n_q = (int)v; break;
        case O_MAFW: bad = fnum(optarg, "--maf-weight", 0.0, 2.0, &o.maf_weight); break;
        case O_EMBED: bad = num(optarg, "--embed", 2, 1024, &v), o.cfg.e = (int)v; o.cfg_set |= SPIN_SET_E; break;
        case O_HEADS: bad = num(optarg, "--heads", 1, 64, &v), o.cfg.heads = (int)v; o.cfg_set |= SPIN_SET_HEADS; break;
        case O_LAT: bad = num(optarg, "--latents", 1, 256, &v), o.cfg.k = (int)v; o.cfg_set |= SPIN_SET_K; break;
        case O_IND: bad = num(optarg, "--inducing", 1, 1024, &v), o.cfg.h = (int)v; o.cfg_set |= SPIN_SET_H; break;
        case O_LAY: bad = num(optarg, "--layers", 1, 8, &v), o.cfg.L = (int)v; o.cfg_set |= SPIN_SET_L; break;
        case O_FFN: bad = num(optarg, "--ffn", 1, 16, &v), o.cfg.ffn = (int)v; o.cfg_set |= SPIN_SET_FFN; break;
        case O_WIN: bad = num(optarg, "--window", 8, 100000, &v), o.cfg.w = (int)v; o.cfg_set |= SPIN_SET_W; break;
        case O_CTX: bad = num(optarg, "--context", 0, 10000, &v), o.cfg.c = (int)v; o.cfg_set |= SPIN_SET_C; break;
        case O_NB: bad = num(optarg, "--neighbours", 0, 4096, &v), o.cfg.K = (int)v; o.cfg_set |= SPIN_SET_NBR_K; break;
        case O_ENC: bad = num(optarg, "--enc-rows", 0, 10000000, &v), o.cfg.enc_rows = (int)v; o.cfg_set |= SPIN_SET_ENC; break;
        case O_HMM: bad = num(optarg, "--copy-hmm", 0, 1, &v), o.cfg.hmm = (int)v; o.cfg_set |= SPIN_SET_HMM; break;
        case O_SEG: bad = num(optarg, "--segment", 0, 100000, &v), o.cfg.seg = (int)v; o.cfg_set |= SPIN_SET_SEG; break;
        case O_PBWTP: bad = num(optarg, "--pbwt-p", 1, 1024, &v), o.cfg.pbwt_p = (int)v; o.cfg_set |= SPIN_SET_PBWTP; break;
        case 'h': usage(stdout, &o); return SPIN_EXIT_OK;
        default: bad = 1;
        }
        if (bad) {
            fprintf(stderr, "Try 'spin-impute train --help'.\n");
            return SPIN_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "[E::train] expected one reference panel file\nTry 'spin-impute train --help'.\n");
        return SPIN_EXIT_USAGE;
    }
    if (o.init_fn && o.resume_fn) {
        fprintf(stderr, "[E::train] --init and --resume exclude each other\n");
        return SPIN_EXIT_USAGE;
    }
    if (o.cfg.e % o.cfg.heads) {
        fprintf(stderr, "[E::train] --embed (%d) must be a multiple of --heads (%d)\n", o.cfg.e, o.cfg.heads);
        return SPIN_EXIT_USAGE;
    }
    o.panel_fn = argv[optind];
    char *cmd = cli_command_line(argc, argv);
    o.command = cmd;
    int r = spin_train_run(&o);
    free(cmd);
    return r < 0 ? SPIN_EXIT_ERROR : SPIN_EXIT_OK;
}
