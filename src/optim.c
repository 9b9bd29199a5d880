/* optim.c -- AdamW with global-norm clipping, and the learning-rate schedule. */
#include <math.h>

#include "nn.h"

void nn_adam_default(nn_adam_opt_t *o)
{
    o->lr = 1e-3f, o->beta1 = 0.9f, o->beta2 = 0.999f, o->eps = 1e-8f, o->wd = 0.0f, o->clip = 1.0f;
}

/* The norm is summed in double in index order, so the update is bit-identical
 * for a given gradient whatever produced it. */
double nn_adam_step(size_t n, float *w, float *g, float *m, float *v, const uint8_t *decay_mask,
                    const nn_adam_opt_t *o, float lr, int64_t t)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
    double norm = sqrt(ss);
    float gs = 1.0f;
    if (o->clip > 0 && norm > o->clip) gs = (float)(o->clip / norm);
    double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
    float a = (float)(lr / bc1), sb2 = (float)(1.0 / sqrt(bc2));
    float b1 = o->beta1, b2 = o->beta2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gs;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        if (o->wd > 0 && (!decay_mask || decay_mask[i])) w[i] -= lr * o->wd * w[i]; /* decoupled (AdamW) */
        w[i] -= a * m[i] / (sqrtf(v[i]) * sb2 + o->eps);
    }
    return norm;
}

float nn_lr_schedule(int64_t step, int64_t warmup, int64_t total, float lr_max, float lr_min)
{
    if (step < 0) step = 0;
    if (warmup > 0 && step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (step >= total) return lr_min;
    double span = (double)(total - warmup);
    double x = span > 0 ? (double)(step - warmup) / span : 1.0;
    return lr_min + (lr_max - lr_min) * (float)(0.5 * (1.0 + cos(M_PI * x)));
}
