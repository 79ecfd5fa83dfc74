// Attention kernels, written once over a vector type and compiled per ISA: the including file
// (cpu/attention_{avx512,avx2,generic}.cc) defines, inside an anonymous namespace,
//   struct Vec                         kWidth floats
//   kFwdVecs, kBwdVecs                 vectors of query rows per forward block, of keys per
//                                      backward block
//   kScoreRows, kPvRows, kBwdRows      register-tile heights (see the kernels below)
//   vzero vbroadcast vload vstore vload_partial vstore_partial (first n lanes) vadd vsub vmul
//   vdiv vfma vmax vmin vround vpow2i; vselect_lt(a, b, x, y) = a < b ? x : y per lane;
//   vhsum (sum of the lanes); vtranspose_tile(src, ss, dst, ds): dst[c*ds + r] = src[r*ss + c]
//   for a kWidth x kWidth tile
// and then includes this file. Nothing here has external linkage except through the Kernels
// table, so the same code compiled for different ISAs cannot be mixed up by the linker; no
// standard-library templates are used for the same reason.
//
// The main loops need no horizontal reductions and no vector tail over the head dimension D:
//  - Forward: the lanes are query rows ("queries in lanes"). Q^T is packed per block of rows;
//    S^T = K Q^T and O^T += V^T P^T are broadcasts of K/V elements times vectors of Q^T / P^T, so
//    every D, T and mask works with whole vectors, and the online-softmax statistics (running
//    max m and sum l per query) are plain vectors.
//  - Backward: the lanes are keys. K^T and V^T are packed per block of keys; S = Q K^T and
//    dP = dO V^T are broadcasts of Q/dO elements times K^T/V^T vectors, dK^T/dV^T accumulate
//    Q^T dS / dO^T P the same way, and dQ += dS K reads the key rows as vectors over D (a
//    zero-padded copy when D is not a multiple of kWidth).
//  - Decode (few query rows): vectorised over D with one horizontal sum per score.
// Nothing of size Tq x Tk is ever stored: scores live in one block of keys at a time.

static_assert(kFwdVecs == 1 || kFwdVecs == 2, "the forward's causal skip handles one or two vectors of rows");
constexpr int64_t kRowLanes = int64_t{kWidth} * kFwdVecs;  // forward: query rows per block
constexpr int64_t kKeyLanes = int64_t{kWidth} * kBwdVecs;  // backward: keys per block
constexpr int64_t kKeyBlock = 64;  // keys per online-softmax step (forward and decode)
constexpr float kNegInf = -__builtin_inff();

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// dst[c * ds + r] = src[r * ss + c] for r < rows, c < cols (whole tiles in registers).
inline void transpose(const float* src, int64_t ss, int64_t rows, int64_t cols, float* dst, int64_t ds) {
  int64_t r0 = 0;
  for (; r0 + kWidth <= rows; r0 += kWidth) {
    int64_t c0 = 0;
    for (; c0 + kWidth <= cols; c0 += kWidth) vtranspose_tile(src + r0 * ss + c0, ss, dst + c0 * ds + r0, ds);
    for (int64_t c = c0; c < cols; c++)
      for (int64_t r = r0; r < r0 + kWidth; r++) dst[c * ds + r] = src[r * ss + c];
  }
  for (int64_t r = r0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) dst[c * ds + r] = src[r * ss + c];
}

// exp(x) for x <= 88: relative error < 2.3e-7 (checked on a 1e-4 grid of [-87, 88]); exactly
// 0 below -87, so masked scores (-inf) give 0.
inline Vec vexp(Vec x) {
  const Vec lo = vbroadcast(-87.0f), hi = vbroadcast(88.0f);
  const Vec xc = vmin(hi, vmax(lo, x));  // operand order keeps NaN (x86 max/min return the 2nd)
  // x = n ln2 + r with |r| <= ln2/2; ln2 split in two so n * ln2_hi is exact.
  const Vec n = vround(vmul(xc, vbroadcast(1.44269504088896341f)));
  Vec r = vfma(n, vbroadcast(-0.693145751953125f), xc);
  r = vfma(n, vbroadcast(-1.428606765330187e-06f), r);
  // e^r: Taylor polynomial to r^6 (truncation < 1.3e-7 relative on |r| <= 0.347).
  Vec p = vbroadcast(1.0f / 720);
  p = vfma(p, r, vbroadcast(1.0f / 120));
  p = vfma(p, r, vbroadcast(1.0f / 24));
  p = vfma(p, r, vbroadcast(1.0f / 6));
  p = vfma(p, r, vbroadcast(0.5f));
  p = vfma(p, r, vbroadcast(1.0f));
  p = vfma(p, r, vbroadcast(1.0f));
  return vselect_lt(x, lo, vzero(), vmul(p, vpow2i(n)));
}

// A running max that is -inf (nothing seen yet) is replaced by 0 before subtracting, so rows
// that are fully masked so far give exp(-inf - 0) = 0 rather than NaN.
inline Vec finite_or_zero(Vec m) { return vselect_lt(m, vbroadcast(-3.0e38f), vzero(), m); }

// ---- forward: queries in lanes -------------------------------------------------------------

// St[r][lanes] = sum_d K[r][d] * Qt[d][lanes] for R key rows, vectors FIRST.. of the lanes (the
// lanes before are hidden from these keys by the causal mask and left unset).
template <int R, int FIRST>
inline void score_tile(const float* krows, int64_t D, const float* Qt, float* St) {
  Vec acc[R][kFwdVecs];
  for (int r = 0; r < R; r++)
    for (int n = FIRST; n < kFwdVecs; n++) acc[r][n] = vzero();
  for (int64_t d = 0; d < D; d++) {
    Vec qv[kFwdVecs];
    for (int n = FIRST; n < kFwdVecs; n++) qv[n] = vload(Qt + d * kRowLanes + n * kWidth);
    for (int r = 0; r < R; r++) {
      const Vec kv = vbroadcast(krows[r * D + d]);
      for (int n = FIRST; n < kFwdVecs; n++) acc[r][n] = vfma(kv, qv[n], acc[r][n]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int n = FIRST; n < kFwdVecs; n++) vstore(St + r * kRowLanes + n * kWidth, acc[r][n]);
}

template <int FIRST>
inline void score_rows(const float* krows, int64_t begin, int64_t end, int64_t D, const float* Qt, float* St) {
  int64_t j = begin;
  for (; j + kScoreRows <= end; j += kScoreRows) score_tile<kScoreRows, FIRST>(krows + j * D, D, Qt, St + j * kRowLanes);
  for (; j < end; j++) score_tile<1, FIRST>(krows + j * D, D, Qt, St + j * kRowLanes);
}

// S^T for key rows [0, nk); rows from `split` on only need the second vector of lanes.
inline void scores_transposed(const float* krows, int64_t nk, int64_t split, int64_t D, const float* Qt, float* St) {
  score_rows<0>(krows, 0, split, D, Qt, St);
  if constexpr (kFwdVecs == 2) score_rows<1>(krows, split, nk, D, Qt, St);
}

// Ot[d0 + r][lanes] = Ot[d0 + r] * alpha + sum_j V[j][d0 + r] * Pt[j][lanes] for R rows of O^T;
// keys from `split` on have P = 0 in the first vector of lanes and skip it.
template <int R>
inline void pv_tile(const float* vrows, int64_t nk, int64_t split, int64_t D, int64_t d0, const float* Pt, float* Ot, const Vec* alpha) {
  Vec acc[R][kFwdVecs];
  for (int r = 0; r < R; r++)
    for (int n = 0; n < kFwdVecs; n++) acc[r][n] = vmul(vload(Ot + (d0 + r) * kRowLanes + n * kWidth), alpha[n]);
  for (int64_t j = 0; j < split; j++) {
    Vec pv[kFwdVecs];
    for (int n = 0; n < kFwdVecs; n++) pv[n] = vload(Pt + j * kRowLanes + n * kWidth);
    const float* vj = vrows + j * D + d0;
    for (int r = 0; r < R; r++) {
      const Vec vb = vbroadcast(vj[r]);
      for (int n = 0; n < kFwdVecs; n++) acc[r][n] = vfma(vb, pv[n], acc[r][n]);
    }
  }
  if constexpr (kFwdVecs == 2) {
    for (int64_t j = split; j < nk; j++) {
      const Vec pv = vload(Pt + j * kRowLanes + kWidth);
      const float* vj = vrows + j * D + d0;
      for (int r = 0; r < R; r++) acc[r][1] = vfma(vbroadcast(vj[r]), pv, acc[r][1]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int n = 0; n < kFwdVecs; n++) vstore(Ot + (d0 + r) * kRowLanes + n * kWidth, acc[r][n]);
}

inline void pv_transposed(const float* vrows, int64_t nk, int64_t split, int64_t D, const float* Pt, float* Ot, const Vec* alpha) {
  int64_t d = 0;
  for (; d + kPvRows <= D; d += kPvRows) pv_tile<kPvRows>(vrows, nk, split, D, d, Pt, Ot, alpha);
  for (; d < D; d++) pv_tile<1>(vrows, nk, split, D, d, Pt, Ot, alpha);
}

size_t forward_scratch(const Problem& p) {
  // Qt [D][block], Ot [D][block], St [kKeyBlock][block], query positions [block]
  return static_cast<size_t>((2 * p.D + kKeyBlock + 1) * kRowLanes);
}

void forward_block(const Problem& p, const float* q, const float* k, const float* v, float* out, float* lse, int64_t b, int64_t hk,
                   int64_t row0, float* scratch) {
  const int64_t D = p.D, G = p.group(), n_rows = min64(kRowLanes, G * p.Tq - row0), offset = p.Tk - p.Tq;
  const int64_t group_row0 = (b * p.H + hk * G) * p.Tq;  // first row of the group in q/out/lse
  const float* kh = k + (b * p.Hkv + hk) * p.kv_rows * D;
  const float* vh = v + (b * p.Hkv + hk) * p.kv_rows * D;
  float* Qt = scratch;
  float* Ot = Qt + D * kRowLanes;
  float* St = Ot + D * kRowLanes;
  float* qpos = St + kKeyBlock * kRowLanes;  // query position of each lane (as float, for compares)

  // Pack Q^T (scaled); padding lanes get zeros and repeat the last row's position.
  transpose(q + (group_row0 + row0) * D, D, n_rows, D, Qt, kRowLanes);
  for (int64_t d = 0; d < D; d++) {
    float* qt = Qt + d * kRowLanes;
    for (int64_t lane = n_rows; lane < kRowLanes; lane++) qt[lane] = 0.0f;
    for (int n = 0; n < kFwdVecs; n++) vstore(qt + n * kWidth, vmul(vload(qt + n * kWidth), vbroadcast(p.scale)));
  }
  int64_t min_pos = p.Tq, max_pos = 0, first_vec_max = 0, later_min = p.Tq;
  for (int64_t lane = 0; lane < kRowLanes; lane++) {
    const int64_t pos = (row0 + (lane < n_rows ? lane : n_rows - 1)) % p.Tq;
    qpos[lane] = static_cast<float>(pos);
    min_pos = min64(min_pos, pos);
    max_pos = max64(max_pos, pos);
    if (lane < kWidth) first_vec_max = max64(first_vec_max, pos);
    else later_min = min64(later_min, pos);
  }
  // Causal: keys past first_vec_max + offset are hidden from every lane of the first vector;
  // when the later lanes sit at later positions (rows of one head), those keys skip it.
  const bool skip_first = kFwdVecs == 2 && p.causal && first_vec_max <= later_min;
  for (int64_t i = 0; i < D * kRowLanes; i++) Ot[i] = 0.0f;

  const int64_t key_end = p.causal ? min64(p.Tk, max_pos + offset + 1) : p.Tk;
  const float* mask = p.mask ? p.mask + b * p.mask_batch_stride : nullptr;
  Vec m[kFwdVecs], l[kFwdVecs], alpha[kFwdVecs];
  for (int n = 0; n < kFwdVecs; n++) {
    m[n] = vbroadcast(kNegInf);
    l[n] = vzero();
  }
  for (int64_t kb = 0; kb < key_end; kb += kKeyBlock) {
    const int64_t nk = min64(kKeyBlock, key_end - kb);
    const int64_t split = skip_first ? max64(0, min64(nk, first_vec_max + offset + 1 - kb)) : nk;
    scores_transposed(kh + kb * D, nk, split, D, Qt, St);
    // Causal: key j is hidden from the lanes whose position < j - offset; only the keys past
    // the smallest position's limit need the compare.
    if (p.causal) {
      for (int64_t j = max64(0, min_pos + offset + 1 - kb); j < nk; j++) {
        const Vec limit = vbroadcast(static_cast<float>(kb + j - offset));
        for (int n = 0; n < kFwdVecs; n++) {
          float* s = St + j * kRowLanes + n * kWidth;
          vstore(s, vselect_lt(vload(qpos + n * kWidth), limit, vbroadcast(kNegInf), vload(s)));
        }
      }
    }
    if (mask) {
      for (int64_t lane = 0; lane < n_rows; lane++) {
        const float* mrow = mask + static_cast<int64_t>(qpos[lane]) * p.Tk + kb;
        for (int64_t j = 0; j < nk; j++) St[j * kRowLanes + lane] += mrow[j];
      }
    }
    // Online softmax: new running max, rescale factor for what was accumulated, P = exp(S - m).
    Vec block_max[kFwdVecs], m_use[kFwdVecs], block_sum[kFwdVecs];
    for (int n = 0; n < kFwdVecs; n++) block_max[n] = vbroadcast(kNegInf);
    for (int64_t j = 0; j < nk; j++)
      for (int n = 0; n < kFwdVecs; n++) block_max[n] = vmax(block_max[n], vload(St + j * kRowLanes + n * kWidth));
    for (int n = 0; n < kFwdVecs; n++) {
      const Vec m_new = vmax(m[n], block_max[n]);
      m_use[n] = finite_or_zero(m_new);
      alpha[n] = vexp(vsub(m[n], m_use[n]));
      m[n] = m_new;
      block_sum[n] = vzero();
    }
    for (int64_t j = 0; j < nk; j++) {
      for (int n = 0; n < kFwdVecs; n++) {
        float* s = St + j * kRowLanes + n * kWidth;
        const Vec e = vexp(vsub(vload(s), m_use[n]));
        vstore(s, e);
        block_sum[n] = vadd(block_sum[n], e);
      }
    }
    for (int n = 0; n < kFwdVecs; n++) l[n] = vfma(l[n], alpha[n], block_sum[n]);
    pv_transposed(vh + kb * D, nk, split, D, St, Ot, alpha);
  }

  // out = O / l; lse = m + log(l). Rows that saw no key (l = 0) get zeros and lse = -inf.
  Vec inv[kFwdVecs];
  for (int n = 0; n < kFwdVecs; n++) inv[n] = vselect_lt(vzero(), l[n], vdiv(vbroadcast(1.0f), l[n]), vzero());
  for (int64_t d = 0; d < D; d++)
    for (int n = 0; n < kFwdVecs; n++) vstore(Ot + d * kRowLanes + n * kWidth, vmul(vload(Ot + d * kRowLanes + n * kWidth), inv[n]));
  transpose(Ot, kRowLanes, D, n_rows, out + (group_row0 + row0) * D, D);
  float ls[kRowLanes], ms[kRowLanes];
  for (int n = 0; n < kFwdVecs; n++) {
    vstore(ls + n * kWidth, l[n]);
    vstore(ms + n * kWidth, m[n]);
  }
  for (int64_t lane = 0; lane < n_rows; lane++) lse[group_row0 + row0 + lane] = ls[lane] > 0.0f ? ms[lane] + __builtin_logf(ls[lane]) : kNegInf;
}

// ---- decode: few query rows, vectorised over D ---------------------------------------------

constexpr int kDecodeRows = 4;

size_t decode_scratch(const Problem& p) {
  const int64_t Dp = round_up(p.D, kWidth);
  // Q rows (scaled, zero padded) and O accumulators [kDecodeRows][Dp]; scores [kDecodeRows][kKeyBlock]
  return static_cast<size_t>(2 * kDecodeRows * Dp + kDecodeRows * kKeyBlock);
}

template <int R>
void decode_rows(const Problem& p, const float* q, const float* k, const float* v, float* out, float* lse, int64_t b, int64_t hk,
                 int64_t row0, float* scratch) {
  const int64_t D = p.D, Dp = round_up(D, kWidth), G = p.group(), offset = p.Tk - p.Tq;
  const int64_t full = D / kWidth, tail = D - full * kWidth;  // whole vectors, then a partial one
  const int64_t group_row0 = (b * p.H + hk * G) * p.Tq;
  const float* kh = k + (b * p.Hkv + hk) * p.kv_rows * D;
  const float* vh = v + (b * p.Hkv + hk) * p.kv_rows * D;
  float* Qp = scratch;
  float* Op = Qp + kDecodeRows * Dp;
  float* S = Op + kDecodeRows * Dp;
  int64_t pos[R], key_end = 0;
  for (int r = 0; r < R; r++) {
    const float* src = q + (group_row0 + row0 + r) * D;
    for (int64_t d = 0; d < Dp; d++) {
      Qp[r * Dp + d] = d < D ? src[d] * p.scale : 0.0f;
      Op[r * Dp + d] = 0.0f;
    }
    pos[r] = (row0 + r) % p.Tq;
    key_end = max64(key_end, p.causal ? min64(p.Tk, pos[r] + offset + 1) : p.Tk);
  }
  const float* mask = p.mask ? p.mask + b * p.mask_batch_stride : nullptr;
  float m[R], l[R];
  for (int r = 0; r < R; r++) {
    m[r] = kNegInf;
    l[r] = 0.0f;
  }
  for (int64_t kb = 0; kb < key_end; kb += kKeyBlock) {
    const int64_t nk = min64(kKeyBlock, key_end - kb);
    for (int64_t j = 0; j < nk; j++) {
      const float* kj = kh + (kb + j) * D;
      Vec acc[R];
      for (int r = 0; r < R; r++) acc[r] = vzero();
      for (int64_t c = 0; c < full; c++) {
        const Vec kv = vload(kj + c * kWidth);
        for (int r = 0; r < R; r++) acc[r] = vfma(kv, vload(Qp + r * Dp + c * kWidth), acc[r]);
      }
      if (tail) {
        const Vec kv = vload_partial(kj + full * kWidth, tail);
        for (int r = 0; r < R; r++) acc[r] = vfma(kv, vload(Qp + r * Dp + full * kWidth), acc[r]);
      }
      for (int r = 0; r < R; r++) S[r * kKeyBlock + j] = vhsum(acc[r]);
    }
    float alpha[R];
    for (int r = 0; r < R; r++) {
      float* s = S + r * kKeyBlock;
      for (int64_t j = nk; j < kKeyBlock; j++) s[j] = kNegInf;  // whole vectors below
      if (p.causal)
        for (int64_t j = max64(0, pos[r] + offset + 1 - kb); j < nk; j++) s[j] = kNegInf;
      if (mask)
        for (int64_t j = 0; j < nk; j++) s[j] += mask[pos[r] * p.Tk + kb + j];
      float block_max = kNegInf;
      for (int64_t j = 0; j < nk; j++) block_max = s[j] > block_max ? s[j] : block_max;
      const float m_new = block_max > m[r] ? block_max : m[r];
      const float m_use = m_new == kNegInf ? 0.0f : m_new;
      Vec sum = vzero();
      for (int64_t j = 0; j < kKeyBlock; j += kWidth) {
        const Vec e = vexp(vsub(vload(s + j), vbroadcast(m_use)));
        vstore(s + j, e);
        sum = vadd(sum, e);
      }
      float a[kWidth];
      vstore(a, vexp(vbroadcast(m[r] - m_use)));
      alpha[r] = a[0];
      l[r] = l[r] * alpha[r] + vhsum(sum);
      m[r] = m_new;
    }
    // O = O * alpha + P V over whole vectors of D (the partial last vector reads only D floats).
    for (int64_t c = 0; c * kWidth < D; c++) {
      const int64_t width = c < full ? kWidth : tail;
      Vec acc[R];
      for (int r = 0; r < R; r++) acc[r] = vmul(vload(Op + r * Dp + c * kWidth), vbroadcast(alpha[r]));
      for (int64_t j = 0; j < nk; j++) {
        const float* vj = vh + (kb + j) * D + c * kWidth;
        const Vec vv = width == kWidth ? vload(vj) : vload_partial(vj, width);
        for (int r = 0; r < R; r++) acc[r] = vfma(vbroadcast(S[r * kKeyBlock + j]), vv, acc[r]);
      }
      for (int r = 0; r < R; r++) vstore(Op + r * Dp + c * kWidth, acc[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
    float* dst = out + (group_row0 + row0 + r) * D;
    for (int64_t d = 0; d < D; d++) dst[d] = Op[r * Dp + d] * inv;
    lse[group_row0 + row0 + r] = l[r] > 0.0f ? m[r] + __builtin_logf(l[r]) : kNegInf;
  }
}

void decode_block(const Problem& p, const float* q, const float* k, const float* v, float* out, float* lse, int64_t b, int64_t hk,
                  int64_t row0, int64_t n, float* scratch) {
  switch (n) {
    case 1: return decode_rows<1>(p, q, k, v, out, lse, b, hk, row0, scratch);
    case 2: return decode_rows<2>(p, q, k, v, out, lse, b, hk, row0, scratch);
    case 3: return decode_rows<3>(p, q, k, v, out, lse, b, hk, row0, scratch);
    default: return decode_rows<4>(p, q, k, v, out, lse, b, hk, row0, scratch);
  }
}

// ---- backward: keys in lanes ---------------------------------------------------------------

size_t backward_scratch(const Problem& p) {
  const int64_t Dp = round_up(p.D, kWidth);
  // Kt, Vt, dKt, dVt [D][block]; padded key rows Kp [block][Dp]; dS and mask tiles [kBwdRows][block]
  return static_cast<size_t>(4 * p.D * kKeyLanes + kKeyLanes * Dp + 2 * kBwdRows * kKeyLanes);
}

// dq rows += dS (the tile's rows, keys in lanes) times key rows Kp [nk][Dp], for NC vectors of D from
// column c0; the last vector of a row may be partial (dq rows are D long, not padded).
template <int NC>
inline void dq_tile(const float* dS, int rows, int64_t nk, const float* Kp, int64_t Dp, int64_t D, int64_t c0, float* dq) {
  Vec acc[kBwdRows][NC];
  for (int r = 0; r < kBwdRows; r++)
    for (int c = 0; c < NC; c++) acc[r][c] = vzero();
  for (int64_t j = 0; j < nk; j++) {
    Vec kv[NC];
    for (int c = 0; c < NC; c++) kv[c] = vload(Kp + j * Dp + c0 + c * kWidth);
    for (int r = 0; r < kBwdRows; r++) {
      const Vec s = vbroadcast(dS[r * kKeyLanes + j]);
      for (int c = 0; c < NC; c++) acc[r][c] = vfma(s, kv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < rows; r++) {
    for (int c = 0; c < NC; c++) {
      float* dst = dq + r * D + c0 + c * kWidth;
      const int64_t width = min64(kWidth, D - c0 - c * kWidth);
      if (width == kWidth) vstore(dst, vadd(vload(dst), acc[r][c]));
      else vstore_partial(dst, width, vadd(vload_partial(dst, width), acc[r][c]));
    }
  }
}

constexpr int kDqVecs = 4;  // vectors of D per dq tile

// One block of keys in the backward: its packed K^T, V^T, padded K rows, dK^T/dV^T accumulators.
struct KeyBlock {
  const float* Kt;   // [D][kKeyLanes]
  const float* Vt;   // [D][kKeyLanes]
  float* dKt;        // [D][kKeyLanes]
  float* dVt;        // [D][kKeyLanes]
  const float* Kp;   // key rows, [nk][Dp]
  float* dS_tile;    // [kBwdRows][kKeyLanes]
  float* mask_tile;  // [kBwdRows][kKeyLanes]
  const float* mask;  // this batch's mask, or null
  Vec jpos[kBwdVecs];  // key position of each lane
  int64_t j0, nk, Dp;
};

// Rows [i, i + rows) of one query head against the key block, for its first NV vectors of keys
// (the rest are hidden from every row of the tile by the causal mask, so they are skipped).
template <int NV>
void backward_rows(const Problem& p, const BackwardTensors& t, const KeyBlock& kb, int64_t head_row0, int64_t group_row0, int64_t i,
                   int rows, int64_t active_keys) {
  const int64_t D = p.D, offset = p.Tk - p.Tq;
  // Rows past the end read the last real row and are masked out entirely.
  const float* qr[kBwdRows];
  const float* dor[kBwdRows];
  Vec lse_use[kBwdRows], delta[kBwdRows], limit[kBwdRows];
  for (int r = 0; r < kBwdRows; r++) {
    const int64_t row = head_row0 + i + (r < rows ? r : rows - 1);
    qr[r] = t.q + row * D;
    dor[r] = t.dout + row * D;
    const float l = t.lse[row];
    lse_use[r] = vbroadcast(l == kNegInf ? __builtin_inff() : l);  // fully masked row: P = 0
    delta[r] = vbroadcast(t.delta[row - group_row0]);
    // Lanes with key position <= limit take part: inside the block and (causal) visible.
    int64_t last = kb.j0 + kb.nk - 1;
    if (p.causal) last = min64(last, i + r + offset);
    limit[r] = vbroadcast(r < rows ? static_cast<float>(last) : -1.0f);
  }
  if (kb.mask) {
    for (int r = 0; r < rows; r++) {
      const float* mrow = kb.mask + (i + r) * p.Tk + kb.j0;
      for (int64_t lane = 0; lane < kb.nk; lane++) kb.mask_tile[r * kKeyLanes + lane] = mrow[lane];
    }
  }

  // S = Q K^T and dP = dO V^T for the tile.
  Vec s[kBwdRows][NV], dp[kBwdRows][NV];
  for (int r = 0; r < kBwdRows; r++)
    for (int n = 0; n < NV; n++) s[r][n] = dp[r][n] = vzero();
  for (int64_t d = 0; d < D; d++) {
    Vec kv[NV], vv[NV];
    for (int n = 0; n < NV; n++) {
      kv[n] = vload(kb.Kt + d * kKeyLanes + n * kWidth);
      vv[n] = vload(kb.Vt + d * kKeyLanes + n * kWidth);
    }
    for (int r = 0; r < kBwdRows; r++) {
      const Vec qb = vbroadcast(qr[r][d]), ob = vbroadcast(dor[r][d]);
      for (int n = 0; n < NV; n++) {
        s[r][n] = vfma(qb, kv[n], s[r][n]);
        dp[r][n] = vfma(ob, vv[n], dp[r][n]);
      }
    }
  }
  // P = exp(S * scale + mask - lse) on visible lanes, 0 elsewhere; dS = P (dP - delta) * scale.
  const Vec scale = vbroadcast(p.scale);
  for (int r = 0; r < kBwdRows; r++) {
    for (int n = 0; n < NV; n++) {
      Vec x = vmul(s[r][n], scale);
      if (kb.mask) x = vadd(x, vload(kb.mask_tile + r * kKeyLanes + n * kWidth));
      const Vec e = vexp(vsub(x, lse_use[r]));
      s[r][n] = vselect_lt(limit[r], kb.jpos[n], vzero(), e);           // s now holds P
      dp[r][n] = vmul(vmul(s[r][n], vsub(dp[r][n], delta[r])), scale);  // dp now holds dS
      vstore(kb.dS_tile + r * kKeyLanes + n * kWidth, dp[r][n]);
    }
  }
  // dV^T += dO^T P and dK^T += Q^T dS (the scale is already in dS).
  for (int64_t d = 0; d < D; d++) {
    Vec dv[NV], dk[NV];
    for (int n = 0; n < NV; n++) {
      dv[n] = vload(kb.dVt + d * kKeyLanes + n * kWidth);
      dk[n] = vload(kb.dKt + d * kKeyLanes + n * kWidth);
    }
    for (int r = 0; r < kBwdRows; r++) {
      const Vec ob = vbroadcast(dor[r][d]), qb = vbroadcast(qr[r][d]);
      for (int n = 0; n < NV; n++) {
        dv[n] = vfma(ob, s[r][n], dv[n]);
        dk[n] = vfma(qb, dp[r][n], dk[n]);
      }
    }
    for (int n = 0; n < NV; n++) {
      vstore(kb.dVt + d * kKeyLanes + n * kWidth, dv[n]);
      vstore(kb.dKt + d * kKeyLanes + n * kWidth, dk[n]);
    }
  }
  // dQ += dS K over the keys some row of the tile sees.
  float* dq = t.dq + (head_row0 + i) * D;
  const int64_t Dp = kb.Dp;
  int64_t c0 = 0;
  for (; c0 + kDqVecs * kWidth <= Dp; c0 += kDqVecs * kWidth) dq_tile<kDqVecs>(kb.dS_tile, rows, active_keys, kb.Kp, Dp, D, c0, dq);
  switch ((Dp - c0) / kWidth) {
    case 1: dq_tile<1>(kb.dS_tile, rows, active_keys, kb.Kp, Dp, D, c0, dq); break;
    case 2: dq_tile<2>(kb.dS_tile, rows, active_keys, kb.Kp, Dp, D, c0, dq); break;
    case 3: dq_tile<3>(kb.dS_tile, rows, active_keys, kb.Kp, Dp, D, c0, dq); break;
    default: break;
  }
}

void backward_block(const Problem& p, const BackwardTensors& t, int64_t b, int64_t hk, int64_t key_block, float* scratch) {
  static_assert(kBwdVecs >= 1 && kBwdVecs <= 4, "backward_rows is dispatched for 1 to 4 vectors");
  const int64_t D = p.D, Dp = round_up(D, kWidth), G = p.group(), offset = p.Tk - p.Tq;
  const int64_t j0 = key_block * kKeyLanes, nk = min64(kKeyLanes, p.Tk - j0);
  const int64_t kv_row0 = (b * p.Hkv + hk) * p.kv_rows + j0;
  float* Kt = scratch;
  float* Vt = Kt + D * kKeyLanes;
  float* dKt = Vt + D * kKeyLanes;
  float* dVt = dKt + D * kKeyLanes;
  float* Kp = dVt + D * kKeyLanes;
  float* dS_tile = Kp + kKeyLanes * Dp;
  float* mask_tile = dS_tile + kBwdRows * kKeyLanes;

  // Pack K^T and V^T (lanes past the last key are zeros) and the K rows padded to Dp.
  transpose(t.k + kv_row0 * D, D, nk, D, Kt, kKeyLanes);
  transpose(t.v + kv_row0 * D, D, nk, D, Vt, kKeyLanes);
  for (int64_t d = 0; d < D; d++) {
    for (int64_t lane = nk; lane < kKeyLanes; lane++) Kt[d * kKeyLanes + lane] = Vt[d * kKeyLanes + lane] = 0.0f;
  }
  // dQ reads the key rows as whole vectors over D: straight from k when D fills them, else
  // from a zero-padded copy.
  const float* key_rows = t.k + kv_row0 * D;
  if (Dp != D) {
    for (int64_t lane = 0; lane < nk; lane++) {
      float* dst = Kp + lane * Dp;
      for (int64_t d = 0; d < D; d++) dst[d] = key_rows[lane * D + d];
      for (int64_t d = D; d < Dp; d++) dst[d] = 0.0f;
    }
    key_rows = Kp;
  }
  for (int64_t i = 0; i < D * kKeyLanes; i++) dKt[i] = dVt[i] = 0.0f;
  for (int64_t i = 0; i < kBwdRows * kKeyLanes; i++) mask_tile[i] = 0.0f;

  KeyBlock kb{Kt, Vt, dKt, dVt, key_rows, dS_tile, mask_tile, p.mask ? p.mask + b * p.mask_batch_stride : nullptr, {}, j0, nk, Dp};
  {
    float pos[kKeyLanes];
    for (int64_t lane = 0; lane < kKeyLanes; lane++) pos[lane] = static_cast<float>(j0 + lane);
    for (int n = 0; n < kBwdVecs; n++) kb.jpos[n] = vload(pos + n * kWidth);
  }
  const int64_t first_row = p.causal ? max64(0, j0 - offset) : 0;  // earlier queries see none of these keys
  const int64_t group_row0 = (b * p.H + hk * G) * p.Tq;
  for (int64_t g = 0; g < G; g++) {
    const int64_t head_row0 = group_row0 + g * p.Tq;
    for (int64_t i = first_row; i < p.Tq; i += kBwdRows) {
      const int rows = static_cast<int>(min64(kBwdRows, p.Tq - i));
      // Keys some row of the tile sees (causal: up to the last row's diagonal).
      const int64_t active = p.causal ? min64(nk, i + rows - 1 + offset - j0 + 1) : nk;
      switch ((active + kWidth - 1) / kWidth) {
        case 1: backward_rows<1>(p, t, kb, head_row0, group_row0, i, rows, active); break;
        case 2: if constexpr (kBwdVecs >= 2) backward_rows<2>(p, t, kb, head_row0, group_row0, i, rows, active); break;
        case 3: if constexpr (kBwdVecs >= 3) backward_rows<3>(p, t, kb, head_row0, group_row0, i, rows, active); break;
        default: if constexpr (kBwdVecs >= 4) backward_rows<4>(p, t, kb, head_row0, group_row0, i, rows, active); break;
      }
    }
  }
  transpose(dKt, kKeyLanes, D, nk, t.dk + kv_row0 * D, D);
  transpose(dVt, kKeyLanes, D, nk, t.dv + kv_row0 * D, D);
}

// out[r] = sum_d a[r][d] * b[r][d] (the backward's delta = rowsum(dout * out)).
void row_dots(const float* a, const float* b, int64_t rows, int64_t D, float* out) {
  const int64_t full = D / kWidth * kWidth;
  for (int64_t r = 0; r < rows; r++) {
    const float* ar = a + r * D;
    const float* br = b + r * D;
    Vec acc = vzero();
    for (int64_t d = 0; d < full; d += kWidth) acc = vfma(vload(ar + d), vload(br + d), acc);
    if (full < D) acc = vfma(vload_partial(ar + full, D - full), vload_partial(br + full, D - full), acc);
    out[r] = vhsum(acc);
  }
}

const Kernels* make_kernels(const char* name) {
  static const Kernels kernels{name,        kRowLanes,      kKeyLanes,      forward_scratch, forward_block,    kDecodeRows,
                               decode_scratch, decode_block, backward_scratch, backward_block, row_dots};
  return &kernels;
}
