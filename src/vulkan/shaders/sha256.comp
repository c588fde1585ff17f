// SPDX-License-Identifier: MIT
#version 460
// SHA-256 (FIPS 180-4) of many messages: the Vulkan form of the CUDA kernel (src/ops/sha256_kernel.cuh
// and sha256_core.hpp say why it is built this way). One invocation hashes one message at a
// time and every invocation compresses exactly one block per pass of the subgroup's loop: one
// that finishes its message stores the digest and takes the subgroup's next message at once
// (a ballot hands them out in lane order), so divergence never grows with message length.
// A block is assembled from the four or five aligned 16-byte granules it overlaps.
//
// Work: workgroup w takes messages [w * per_group, (w + 1) * per_group); its subgroups split that
// run evenly, whatever subgroup size the device picks.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_vote : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
// Where messages are: 0 every message `length` bytes, packed from byte `first`; 1 n + 1 offsets
// relative to byte `first` (checked by the host); 2 n + 1 absolute 64-bit offsets (lo, hi word
// pairs), not checked: clamped into the data, so a bad one gives a meaningless digest, never a
// read outside it.
layout(constant_id = 1) const uint OFFSETS = 1;

layout(std430, set = 0, binding = 0) readonly restrict buffer Data { uvec4 granules[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer Offsets { uint offs[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer Digests { uvec4 digests[]; };
layout(push_constant) uniform Push {
  uint n;
  uint per_group;
  uint data_bytes;
  uint first;
  uint msg_length;
} p;

const uint K[64] = uint[](
  0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
  0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
  0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
  0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
  0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
  0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
  0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
  0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u);

uint rotr(uint x, uint n) { return (x >> n) | (x << (32u - n)); }
uint bswap(uint x) { return (x << 24) | ((x & 0xff00u) << 8) | ((x >> 8) & 0xff00u) | (x >> 24); }

void compress(inout uint s[8], inout uint w[16]) {
  uint a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  [[unroll]] for (int t = 0; t < 64; ++t) {
    if (t >= 16) {
      const uint w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      const uint s0 = rotr(w15, 7u) ^ rotr(w15, 18u) ^ (w15 >> 3);
      const uint s1 = rotr(w2, 17u) ^ rotr(w2, 19u) ^ (w2 >> 10);
      w[t & 15] += s0 + s1 + w[(t - 7) & 15];
    }
    const uint t1 = h + (rotr(e, 6u) ^ rotr(e, 11u) ^ rotr(e, 25u)) + ((e & f) ^ (~e & g)) + K[t] + w[t & 15];
    const uint t2 = (rotr(a, 2u) ^ rotr(a, 13u) ^ rotr(a, 22u)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

// Block `block` of the message of `len` bytes at byte `start`, as big-endian words with the
// padding applied. Reads only granules holding bytes of this block's message data.
void load_block(uint start, uint len, uint block, out uint w[16]) {
  const uint pos = start + 64u * block;
  // Message bytes left from this block's first byte, clamped to [-64, 64].
  const uint done = 64u * block;
  const int rem = len >= done ? int(min(len - done, 64u)) : -int(min(done - len, 64u));
  const uint o = pos & 15u;
  const uint g0 = pos >> 4;
  uint u[20];
  [[unroll]] for (int j = 0; j < 5; ++j) {
    const uvec4 q = 16 * j < int(o) + rem ? granules[g0 + uint(j)] : uvec4(0u);
    u[4 * j] = q.x; u[4 * j + 1] = q.y; u[4 * j + 2] = q.z; u[4 * j + 3] = q.w;
  }
  if (o == 0u) {
    [[unroll]] for (int i = 0; i < 16; ++i) w[i] = bswap(u[i]);
  } else {
    // Shift by whole words with selects (no dynamic index, which would put the array in
    // memory), then by bytes.
    const uint k = o >> 2, sh = 8u * (o & 3u);
    uint v[18];
    [[unroll]] for (int i = 0; i < 18; ++i) v[i] = (k & 2u) != 0u ? u[i + 2] : u[i];
    [[unroll]] for (int i = 0; i < 17; ++i) v[i] = (k & 1u) != 0u ? v[i + 1] : v[i];
    [[unroll]] for (int i = 0; i < 16; ++i) w[i] = bswap(sh == 0u ? v[i] : (v[i] >> sh) | (v[i + 1] << (32u - sh)));
  }
  if (rem < 64) {
    [[unroll]] for (int i = 0; i < 16; ++i) {
      const int n = rem - 4 * i;  // message bytes in word i
      if (n <= 0) {
        w[i] = n == 0 ? 0x80000000u : 0u;
      } else if (n < 4) {
        w[i] = (w[i] & ~(0xffffffffu >> (8 * n))) | (0x80000000u >> (8 * n));
      }
    }
    if (rem < 56) {  // the last block carries the length in bits
      w[14] = len >> 29;
      w[15] = len << 3;
    }
  }
}

uint block_count(uint len) { return len / 64u + ((len & 63u) + 72u) / 64u; }

// The absolute offset i clamped into the data.
uint clamped(uint i) {
  const uint lo = offs[2u * i], hi = offs[2u * i + 1u];
  return hi != 0u || lo > p.data_bytes ? p.data_bytes : lo;
}

void message(uint i, out uint start, out uint len) {
  if (OFFSETS == 0u) {
    start = p.first + i * p.msg_length;
    len = p.msg_length;
  } else if (OFFSETS == 1u) {
    start = p.first + offs[i];
    len = offs[i + 1u] - offs[i];
  } else {
    const uint b = clamped(i), e = clamped(i + 1u);
    start = b;
    len = e > b ? e - b : 0u;
  }
}

void main() {
  const uint group_first = gl_WorkGroupID.x * p.per_group;
  if (group_first >= p.n) return;
  const uint group_last = min(group_first + p.per_group, p.n);
  const uint per_subgroup = (group_last - group_first + gl_NumSubgroups - 1u) / gl_NumSubgroups;
  const uint first = group_first + gl_SubgroupID * per_subgroup;
  if (first >= group_last) return;  // uniform in the subgroup
  const uint last = min(first + per_subgroup, group_last);

  uint next = first + gl_SubgroupSize;  // the subgroup's next message to hand out
  uint m = first + gl_SubgroupInvocationID;
  bool busy = m < last;
  uint state[8], start = 0u, len = 0u, block = 0u, blocks = 0u;
  if (busy) {
    message(m, start, len);
    blocks = block_count(len);
    state = uint[](0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u);
  }
  while (subgroupAny(busy)) {
    bool finished = false;
    if (busy) {
      uint w[16];
      load_block(start, len, block, w);
      compress(state, w);
      finished = ++block == blocks;
    }
    const uvec4 ballot = subgroupBallot(finished);
    if (finished) {
      digests[2u * m] = uvec4(bswap(state[0]), bswap(state[1]), bswap(state[2]), bswap(state[3]));
      digests[2u * m + 1u] = uvec4(bswap(state[4]), bswap(state[5]), bswap(state[6]), bswap(state[7]));
      m = next + subgroupBallotExclusiveBitCount(ballot);
      busy = m < last;
      if (busy) {
        message(m, start, len);
        block = 0u;
        blocks = block_count(len);
        state = uint[](0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u);
      }
    }
    next += subgroupBallotBitCount(ballot);
  }
}
