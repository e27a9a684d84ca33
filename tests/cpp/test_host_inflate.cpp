#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bbi_builder.hpp"
#include "stages/host_inflate.hpp"

using namespace bwl::stages;
using namespace bwl::test;

namespace {
Bytes sample_bytes(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 7919) % 251);
  return b;
}
}  // namespace

TEST(HostInflate, BackendIsNamed) {
  const std::string name = HostInflater::backend_name();
  EXPECT_TRUE(name == "libdeflate" || name == "zlib") << name;
}

TEST(HostInflate, RoundTripsZlibStreams) {
  HostInflater inflater;
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{100000}}) {
    const Bytes raw = sample_bytes(n);
    const Bytes packed = zlib_compress(raw);
    Bytes out(n + 16);
    size_t written = 0;
    ASSERT_EQ(inflater.inflate_zlib(packed.data(), packed.size(), out.data(), out.size(), &written), InflateStatus::Ok);
    out.resize(written);
    EXPECT_EQ(out, raw);
  }
}

TEST(HostInflate, OutputLargerThanCapacityIsOverflow) {
  HostInflater inflater;
  const Bytes packed = zlib_compress(sample_bytes(5000));
  Bytes out(4999);
  size_t written = 0;
  EXPECT_EQ(inflater.inflate_zlib(packed.data(), packed.size(), out.data(), out.size(), &written),
            InflateStatus::OutputOverflow);
}

TEST(HostInflate, CorruptOrTruncatedStreamsAreCorrupt) {
  HostInflater inflater;
  const Bytes packed = zlib_compress(sample_bytes(5000));
  Bytes out(6000);
  size_t written = 0;
  Bytes bad_header = packed;
  bad_header[0] = 0x00;
  EXPECT_EQ(inflater.inflate_zlib(bad_header.data(), bad_header.size(), out.data(), out.size(), &written),
            InflateStatus::Corrupt);
  Bytes truncated(packed.begin(), packed.begin() + static_cast<long>(packed.size() / 2));
  EXPECT_EQ(inflater.inflate_zlib(truncated.data(), truncated.size(), out.data(), out.size(), &written),
            InflateStatus::Corrupt);
  Bytes bad_checksum = packed;
  bad_checksum.back() ^= 0xFF;
  EXPECT_EQ(inflater.inflate_zlib(bad_checksum.data(), bad_checksum.size(), out.data(), out.size(), &written),
            InflateStatus::Corrupt);
}
