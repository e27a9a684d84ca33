// The project's own inflate (what the CUDA kernel runs) against zlib, the reference: on streams
// written symbol by symbol, on streams zlib itself writes at every level and strategy, on every
// block of the real bigWig files, and on corrupted streams, which must fail cleanly.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "deflate_writer.hpp"
#include "real_data.hpp"
#include "format/bigwig_file.hpp"
#include "stages/portable_inflate.hpp"

using namespace bwl::stages;
using bwl::test::DeflateWriter;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr uint8_t kCanary = 0xA5;
constexpr size_t kCanaryBytes = 64;

struct Inflated {
  InflateStatus status;
  Bytes bytes;
};

// The portable inflate with `capacity` bytes of output, checking that nothing past it is written.
Inflated portable(const Bytes& stream, size_t capacity) {
  Bytes out(capacity + kCanaryBytes, kCanary);
  InflateTables tables;
  const InflateResult r = inflate_zlib_portable(stream.data(), static_cast<uint32_t>(stream.size()), out.data(),
                                                static_cast<uint32_t>(capacity), tables);
  for (size_t i = capacity; i < out.size(); ++i) {
    if (out[i] != kCanary) ADD_FAILURE() << "inflate wrote past its capacity at byte " << i;
  }
  out.resize(r.status == InflateStatus::Ok ? r.written : 0);
  return {r.status, out};
}

// The portable inflate writing to the first byte after an inaccessible page: a read or write
// before the output's start (a distance reaching too far back) faults instead of passing unseen.
InflateStatus portable_after_guard_page(const Bytes& stream, size_t capacity) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t bytes = page + (capacity + page - 1) / page * page + page;
  void* region = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) throw std::runtime_error("mmap");
  mprotect(region, page, PROT_NONE);
  InflateTables tables;
  const InflateResult r =
      inflate_zlib_portable(stream.data(), static_cast<uint32_t>(stream.size()), static_cast<uint8_t*>(region) + page,
                            static_cast<uint32_t>(capacity), tables);
  munmap(region, bytes);
  return r.status;
}

// zlib's verdict: Ok with the bytes, or not Ok.
Inflated reference(const Bytes& stream, size_t capacity) {
  Bytes out(capacity > 0 ? capacity : 1);
  uLongf out_len = static_cast<uLongf>(capacity);
  uLong in_len = static_cast<uLong>(stream.size());
  const int rc = uncompress2(out.data(), &out_len, stream.data(), &in_len);
  if (rc != Z_OK)
    return {rc == Z_BUF_ERROR && out_len == capacity ? InflateStatus::OutputOverflow : InflateStatus::Corrupt, {}};
  out.resize(out_len);
  return {InflateStatus::Ok, out};
}

void expect_same_as_zlib(const Bytes& stream, size_t capacity, const std::string& what) {
  const Inflated want = reference(stream, capacity);
  const Inflated got = portable(stream, capacity);
  ASSERT_EQ(want.status, InflateStatus::Ok) << what << ": zlib rejects the test's own stream";
  ASSERT_EQ(got.status, InflateStatus::Ok) << what << ": " << describe(got.status);
  ASSERT_EQ(got.bytes, want.bytes) << what;
}

Bytes compress(const Bytes& raw, int level, int strategy, int flush_every = 0, int flush = Z_NO_FLUSH) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 15, 9, strategy) != Z_OK) throw std::runtime_error("deflateInit2");
  Bytes out(deflateBound(&z, raw.size()) + 64 + (flush_every ? raw.size() / flush_every * 16 : 0));
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  size_t at = 0;
  const size_t step = flush_every > 0 ? static_cast<size_t>(flush_every) : raw.size();
  do {
    const size_t n = std::min(step, raw.size() - at);
    z.next_in = const_cast<Bytef*>(raw.data() + at);
    z.avail_in = static_cast<uInt>(n);
    at += n;
    const int mode = at == raw.size() ? Z_FINISH : flush;
    const int rc = deflate(&z, mode);
    if (rc != (mode == Z_FINISH ? Z_STREAM_END : Z_OK)) throw std::runtime_error("deflate");
  } while (at < raw.size());
  if (raw.empty() && deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate empty");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Inputs with different statistics: random bytes (stored/literal heavy), English-like text
// (dynamic codes, short matches), a bigWig-like bedGraph section (binary, long matches).
Bytes sample(const std::string& kind, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  if (kind == "random") {
    for (auto& x : b) x = static_cast<uint8_t>(rng());
  } else if (kind == "text") {
    const char* words[] = {"the ", "signal ", "track ", "of ", "chromatin ", "accessibility ", "bigwig ", "loader\n"};
    size_t i = 0;
    while (i < n) {
      const char* w = words[rng() % 8];
      for (; *w && i < n; ++w) b[i++] = static_cast<uint8_t>(*w);
    }
  } else {  // bedgraph-like items: start, end, value
    uint32_t pos = 1000;
    for (size_t i = 0; i + 12 <= n; i += 12) {
      const uint32_t len = 1 + rng() % 50;
      const float v = static_cast<float>(rng() % 8) * 0.5f;
      std::memcpy(&b[i], &pos, 4);
      pos += len;
      std::memcpy(&b[i + 4], &pos, 4);
      std::memcpy(&b[i + 8], &v, 4);
    }
  }
  return b;
}

}  // namespace

TEST(PortableInflate, StoredBlocksIncludingEmptyAndFull) {
  DeflateWriter w;
  w.stored_block({}, false);
  w.stored_block(sample("random", 65535, 1), false);
  w.stored_block(sample("text", 10, 2), false);
  w.stored_block({}, true);
  expect_same_as_zlib(w.finish(), 70000, "stored blocks");
}

TEST(PortableInflate, FixedBlocksWithEveryLengthAndFarthestDistance) {
  DeflateWriter w;
  w.begin_fixed_block(false);
  w.end_fixed_block();  // an empty fixed block
  w.begin_fixed_block(false);
  for (int i = 0; i < 256; ++i) w.literal(static_cast<uint8_t>(i));  // every literal, 8- and 9-bit codes
  w.match(3, 1);                                                     // shortest length, overlapping run
  w.match(258, 1);                                                   // longest length (its own symbol, 285)
  w.match(257, 256);                                                 // the longest length that uses extra bits
  w.end_fixed_block();
  w.stored_block(sample("random", 40000, 3), false);
  w.begin_fixed_block(true);
  for (uint32_t length = 3; length <= 258; ++length) w.match(length, 1 + (length * 97) % 32768);
  w.match(258, 32768);  // the farthest distance: the first byte of a full window back
  w.match(3, 32768);
  w.match(4, 24577);  // the base of the last distance code
  w.end_fixed_block();
  const Bytes stream = w.finish();
  expect_same_as_zlib(stream, w.plain().size(), "fixed blocks");
}

TEST(PortableInflate, EveryZlibLevelAndStrategyOnSeveralKindsOfData) {
  const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
  for (const std::string kind : {"random", "text", "bedgraph"}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{300}, size_t{70000}}) {
      const Bytes raw = sample(kind, n, static_cast<uint32_t>(n));
      for (int level = 0; level <= 9; ++level) {
        for (int strategy : strategies) {
          const Bytes stream = compress(raw, level, strategy);
          expect_same_as_zlib(stream, raw.size(),
                              kind + " n=" + std::to_string(n) + " level " + std::to_string(level) + " strategy " +
                                  std::to_string(strategy));
        }
      }
    }
  }
}

TEST(PortableInflate, FlushesMakeEmptyAndManyBlocks) {
  // Z_SYNC_FLUSH ends with an empty stored block, Z_PARTIAL_FLUSH with empty fixed blocks,
  // Z_FULL_FLUSH resets the window: each shape of block boundary zlib can make.
  const Bytes raw = sample("text", 50000, 7);
  for (int flush : {Z_SYNC_FLUSH, Z_PARTIAL_FLUSH, Z_FULL_FLUSH, Z_BLOCK}) {
    for (int every : {1, 100, 4096}) {
      expect_same_as_zlib(compress(raw, 6, Z_DEFAULT_STRATEGY, every, flush), raw.size(),
                          "flush " + std::to_string(flush) + " every " + std::to_string(every));
    }
  }
}

TEST(PortableInflate, DynamicBlocksAreExercised) {
  // The first block header's type bits (after the 2-byte zlib header): 2 = dynamic Huffman.
  const Bytes stream = compress(sample("text", 20000, 9), 6, Z_DEFAULT_STRATEGY);
  EXPECT_EQ((stream[2] >> 1) & 3, 2);
  expect_same_as_zlib(stream, 20000, "dynamic");
}

TEST(PortableInflate, EveryBlockOfTheRealBigWigFilesInflatesAsZlibDoes) {
  size_t compressed_files = 0, blocks = 0;
  for (const std::string& path : bwl::test::real_bigwig_paths()) {
    auto file = std::make_unique<bwl::format::BigWigFile>(path);
    if (!file->header().compressed()) continue;
    ++compressed_files;
    for (const bwl::format::DataBlock& block : file->block_index().blocks()) {
      Bytes stream(block.size);
      file->file().read_exact(block.offset, block.size, stream.data(), "data block");
      const size_t capacity = file->header().uncompress_buf_size;
      const Inflated want = reference(stream, capacity);
      const Inflated got = portable(stream, capacity);
      ASSERT_EQ(want.status, InflateStatus::Ok) << path << " block at " << block.offset;
      ASSERT_EQ(got.status, InflateStatus::Ok) << path << " block at " << block.offset;
      ASSERT_EQ(got.bytes, want.bytes) << path << " block at " << block.offset;
      ++blocks;
    }
  }
  EXPECT_GE(compressed_files, 8u);
  EXPECT_GE(blocks, 100u);
}

TEST(PortableInflate, OutputPastCapacityIsOverflowNotAWrite) {
  const Bytes raw = sample("bedgraph", 12000, 11);
  for (int level : {0, 1, 9}) {
    const Bytes stream = compress(raw, level, level == 1 ? Z_FIXED : Z_DEFAULT_STRATEGY);
    for (size_t capacity : {size_t{0}, size_t{1}, raw.size() / 2, raw.size() - 1}) {
      EXPECT_EQ(portable(stream, capacity).status, InflateStatus::OutputOverflow) << level << " " << capacity;
    }
    EXPECT_EQ(portable(stream, raw.size()).status, InflateStatus::Ok);
  }
}

TEST(PortableInflate, MalformedStreamsAreCorrupt) {
  const Bytes good = compress(sample("text", 5000, 13), 6, Z_DEFAULT_STRATEGY);
  auto corrupt = [](Bytes s) { return portable(s, 10000).status; };
  Bytes s = good;
  s[0] = 0x79;  // method 9
  EXPECT_EQ(corrupt(s), InflateStatus::Corrupt);
  s = good;
  s[1] ^= 1;  // header check bits
  EXPECT_EQ(corrupt(s), InflateStatus::Corrupt);
  s = {0x78, 0xBB, 0, 0, 0, 0, 0, 0, 0, 0};  // FDICT: a preset dictionary
  EXPECT_EQ(corrupt(s), InflateStatus::Corrupt);
  s = {0x78, 0x9C, 0x07, 0, 0, 0, 0, 0};  // block type 3
  EXPECT_EQ(corrupt(s), InflateStatus::Corrupt);
  s = {0x78, 0x9C, 0x01, 0x05, 0x00, 0xFB, 0xFF, 1, 2, 3, 4, 5, 0, 0, 0, 0};  // stored LEN != ~NLEN
  EXPECT_EQ(corrupt(s), InflateStatus::Corrupt);
  s = good;
  s.back() ^= 0x10;  // Adler-32
  EXPECT_EQ(corrupt(s), InflateStatus::Corrupt);
  {
    DeflateWriter w;  // a match reaching before the first byte: the writer refuses, so patch one
    w.begin_fixed_block(true);
    w.literal('a');
    w.match(3, 1);
    w.end_fixed_block();
    Bytes stream = w.finish();
    EXPECT_EQ(corrupt(stream), InflateStatus::Ok);
    // The match's distance code (5 bits after the 7-bit length code) made 2 instead of 1.
    // Bits: 3 header, 8 literal, 7 length symbol 257, then distance code 0 (00000).
    // Setting the distance code to 1 (reversed 5 bits: 10000) asks for distance 2 > 1 byte written.
    const size_t bit = 3 + 8 + 7 + 4;
    stream[2 + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_EQ(portable_after_guard_page(stream, 100), InflateStatus::Corrupt);
  }
  for (size_t n = 0; n < good.size(); ++n) {  // every truncation
    EXPECT_NE(portable(Bytes(good.begin(), good.begin() + static_cast<long>(n)), 10000).status, InflateStatus::Ok) << n;
  }
}

TEST(PortableInflate, DynamicHeaderErrorsAreCorrupt) {
  // Hand-built dynamic headers: bits are written least-significant first after 0x78 0x9C.
  auto stream_with_bits = [](const std::vector<std::pair<uint32_t, int>>& fields) {
    Bytes s = {0x78, 0x9C};
    uint32_t acc = 0;
    int n = 0;
    for (auto [v, bits] : fields) {
      for (int i = 0; i < bits; ++i) {
        acc |= ((v >> i) & 1u) << n;
        if (++n == 8) {
          s.push_back(static_cast<uint8_t>(acc));
          acc = 0;
          n = 0;
        }
      }
    }
    s.push_back(static_cast<uint8_t>(acc));
    for (int i = 0; i < 8; ++i) s.push_back(0);
    return s;
  };
  // HLIT = 287 symbols (over 286).
  EXPECT_EQ(portable(stream_with_bits({{1, 1}, {2, 2}, {30, 5}, {0, 5}, {0, 4}}), 100).status, InflateStatus::Corrupt);
  // Code-length code over-subscribed: four symbols of length 1.
  EXPECT_EQ(
      portable(stream_with_bits({{1, 1}, {2, 2}, {0, 5}, {0, 5}, {0, 4}, {1, 3}, {1, 3}, {1, 3}, {1, 3}}), 100).status,
      InflateStatus::Corrupt);
  // Code-length code incomplete: one symbol (16) of length 2.
  EXPECT_EQ(
      portable(stream_with_bits({{1, 1}, {2, 2}, {0, 5}, {0, 5}, {0, 4}, {2, 3}, {0, 3}, {0, 3}, {0, 3}}), 100).status,
      InflateStatus::Corrupt);
  // Code-length code {16: 1 bit, 17: 1 bit}; the first length is a repeat (16) with nothing before it.
  EXPECT_EQ(portable(stream_with_bits(
                         {{1, 1}, {2, 2}, {0, 5}, {0, 5}, {0, 4}, {1, 3}, {1, 3}, {0, 3}, {0, 3}, {0, 1}, {0, 2}}),
                     100)
                .status,
            InflateStatus::Corrupt);
  // Same code; 17 repeats zeros past HLIT + HDIST (258 lengths): 138-length runs of zeros... via 17 (3..10) many times
  // until the total exceeds, then no end-of-block code: corrupt either way.
  std::vector<std::pair<uint32_t, int>> zeros = {{1, 1}, {2, 2}, {0, 5}, {0, 5}, {0, 4},
                                                 {1, 3}, {1, 3}, {0, 3}, {0, 3}};
  for (int i = 0; i < 30; ++i) zeros.push_back({1, 1}), zeros.push_back({7, 3});  // 17: 10 zeros each
  EXPECT_EQ(portable(stream_with_bits(zeros), 100).status, InflateStatus::Corrupt);
}

TEST(PortableInflate, RandomCorruptionNeverCrashesAndAgreesWithZlib) {
  std::mt19937 rng(2024);
  const Bytes sources[] = {compress(sample("text", 30000, 1), 6, Z_DEFAULT_STRATEGY),
                           compress(sample("bedgraph", 30000, 2), 9, Z_DEFAULT_STRATEGY),
                           compress(sample("random", 3000, 3), 1, Z_FIXED)};
  size_t rejected = 0, total = 0;
  for (const Bytes& good : sources) {
    for (int trial = 0; trial < 400; ++trial) {
      Bytes s = good;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) s[rng() % s.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      const Inflated want = reference(s, 40000);
      const Inflated got = portable(s, 40000);
      ++total;
      if (want.status == InflateStatus::Ok) {
        EXPECT_EQ(got.status, InflateStatus::Ok);
        EXPECT_EQ(got.bytes, want.bytes);
      } else {
        EXPECT_NE(got.status, InflateStatus::Ok) << "zlib rejects a stream the portable inflate accepts";
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, total * 9 / 10);  // the checksum catches nearly every flip
}
