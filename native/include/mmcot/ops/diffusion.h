/* Diffusion (DDPM/DDIM) elementwise ops. The noise schedule is a table tensor [2, T] (f32)
 * holding alpha_bar_t (the cumulative product of 1 - beta) as a double split in two floats:
 * row 0 = hi = (float)alpha_bar, row 1 = lo = (float)(alpha_bar - hi), so hi + lo gives about
 * 48 bits. Coefficients are computed per row in double from hi + lo: f32 alone would make
 * 1 - alpha_bar_t / alpha_bar_prev lose most of its digits both near alpha_bar = 1 (early
 * steps) and near 0 (late steps). Timesteps are per row: t has the leading dims of x (x has
 * shape t.shape + [D]). */
#ifndef MMCOT_OPS_DIFFUSION_H
#define MMCOT_OPS_DIFFUSION_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

/* out = sqrt(ab_t) * x0 + sqrt(1 - ab_t) * noise per row (t: i32 in [0, T)). Either x0 or noise
 * may be NULL (its term is dropped): that is also the backward, since d out / d x0 = sqrt(ab_t)
 * and d out / d noise = sqrt(1 - ab_t). */
mm_status mm_q_sample(const mm_tensor* x0, const mm_tensor* t, const mm_tensor* noise, const mm_tensor* table, mm_tensor** out);

/* One reverse step from t to t_prev (per row; -1 <= t_prev < t, and t_prev = -1 means
 * alpha_bar = 1, i.e. the step to x0), the generalised DDIM update of Song et al. 2021:
 *   x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t)
 *   sigma  = eta * sqrt((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev))
 *   x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma^2) eps + sigma * noise_scale * noise
 * eta = 1 is DDPM's ancestral step (sigma^2 is the posterior variance, and the mean equals the
 * posterior mean); eta = 0 is deterministic DDIM. noise may be NULL (no noise term). The per-row
 * coefficients are computed in double. */
mm_status mm_diffusion_step(const mm_tensor* xt, const mm_tensor* eps, const mm_tensor* t, const mm_tensor* t_prev, const mm_tensor* table,
                            const mm_tensor* noise, double eta, double noise_scale, mm_tensor** out);

/* Sinusoidal embedding of t (f32 or i32, any shape) -> t.shape + [dim]: with half = dim / 2 and
 * freq_i = max_period^(-i / half), out = [cos(t * freq_0..half-1), sin(t * freq_0..half-1)]
 * (cosines first, as in DiT and MAR), and a zero last column when dim is odd. */
mm_status mm_timestep_embedding(const mm_tensor* t, int64_t dim, double max_period, mm_tensor** out);

#ifdef __cplusplus
}
#endif
#endif
