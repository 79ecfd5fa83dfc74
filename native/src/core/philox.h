// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
// conversions to uniform/normal floats. One header for host and device so the CPU and CUDA
// backends produce the same numbers for the same (seed, offset).
#pragma once
#include <stdint.h>

#if defined(__CUDACC__)
#define MM_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define MM_HOST_DEVICE inline
#endif

namespace mm {

struct Philox4 {
  uint32_t v[4];
};

MM_HOST_DEVICE void mulhilo32(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t product = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(product >> 32);
  *lo = static_cast<uint32_t>(product);
}

MM_HOST_DEVICE Philox4 philox4x32_10(Philox4 ctr, uint32_t key0, uint32_t key1) {
  const uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  const uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; round++) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(kMul0, ctr.v[0], &hi0, &lo0);
    mulhilo32(kMul1, ctr.v[2], &hi1, &lo1);
    Philox4 next;
    next.v[0] = hi1 ^ ctr.v[1] ^ key0;
    next.v[1] = lo1;
    next.v[2] = hi0 ^ ctr.v[3] ^ key1;
    next.v[3] = lo0;
    ctr = next;
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return ctr;
}

// Block `index` of the stream for `seed`: counter = (offset + index) as a 64-bit value in the
// low words; the key is the seed.
MM_HOST_DEVICE Philox4 philox_block(uint64_t seed, uint64_t block) {
  Philox4 ctr;
  ctr.v[0] = static_cast<uint32_t>(block);
  ctr.v[1] = static_cast<uint32_t>(block >> 32);
  ctr.v[2] = 0;
  ctr.v[3] = 0;
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, 1) with 24 random bits (exactly representable in f32).
MM_HOST_DEVICE float u32_to_unit(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
// Uniform in (0, 1]: safe for log() in Box-Muller.
MM_HOST_DEVICE float u32_to_unit_open0(uint32_t x) {
  return static_cast<float>((x >> 8) + 1) * (1.0f / 16777216.0f);
}

// Element i of a normal fill uses lanes (2*(i%4/2), +1) of block i/4: lanes 0,1 make a
// Box-Muller pair giving elements 4b, 4b+1; lanes 2,3 make 4b+2, 4b+3.
MM_HOST_DEVICE float philox_normal_lane(const Philox4& r, int lane) {
  const int pair = lane & 2;
  const float u1 = u32_to_unit_open0(r.v[pair]);
  const float u2 = u32_to_unit(r.v[pair + 1]);
#if defined(__CUDA_ARCH__)
  const float radius = sqrtf(-2.0f * logf(u1));
  float s, c;
  sincospif(2.0f * u2, &s, &c);
#else
  // double on the host: correctly rounded enough that CPU and GPU agree to ~1 ulp of f32
  const double radius = __builtin_sqrt(-2.0 * __builtin_log(static_cast<double>(u1)));
  const double angle = 6.283185307179586 * static_cast<double>(u2);
  const double s = __builtin_sin(angle), c = __builtin_cos(angle);
#endif
  return static_cast<float>((lane & 1) ? radius * s : radius * c);
}

}  // namespace mm
