#pragma once
// One-hot encoding of DNA, channels A, C, G, T, with the reference's IUPAC weights:
//   A C G T -> one channel 1;  R Y K M S W -> two channels 0.5;
//   B D H V -> three channels 0.333 (the reference's literal value);  N -> four channels 0.25.
// Lowercase (soft-masked) letters encode like uppercase. Any other byte encodes as all zeros.
// uint8 output is the hard one-hot: 1 on the channel of A, C, G, T, zeros for everything else.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tensor/tensor.hpp"

namespace bwl::fasta {

// Encodes n bases into out[n][4] of `dtype` (float32, bfloat16 or uint8).
void encode_one_hot(const char* bases, size_t n, DType dtype, void* out);

// A new (batch, length, 4) tensor of `dtype` encoding bases[batch][length].
std::shared_ptr<HostTensor> one_hot_rows(const uint8_t* bases, size_t batch, int64_t length, DType dtype);

// True for A, C, G, T in either case.
inline bool is_acgt(unsigned char b) {
  b = static_cast<unsigned char>(b & 0xDF);  // to uppercase for letters
  return b == 'A' || b == 'C' || b == 'G' || b == 'T';
}

// Bases that are not A, C, G or T (in either case).
size_t count_unknown(const char* bases, size_t n);

}  // namespace bwl::fasta
