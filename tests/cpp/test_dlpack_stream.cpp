// __dlpack__'s stream argument as the CUDA backend reads it (tensor/dlpack_stream.hpp).
#include <gtest/gtest.h>

#include <cstdint>

#include "common/errors.hpp"
#include "tensor/dlpack_stream.hpp"

namespace {

using bwl::DlpackStream;

DlpackStream kind(int64_t s) { return bwl::dlpack_stream_kind(&s); }

TEST(DlpackStream, MapsTheArrayApiValues) {
  EXPECT_EQ(bwl::dlpack_stream_kind(nullptr), DlpackStream::Legacy);
  EXPECT_EQ(kind(-1), DlpackStream::NoSync);
  EXPECT_EQ(kind(1), DlpackStream::Legacy);
  EXPECT_EQ(kind(2), DlpackStream::PerThread);
  EXPECT_EQ(kind(0x7f00deadbeef), DlpackStream::Handle);
}

TEST(DlpackStream, ZeroIsTheLegacyStreamAsInCuPy) { EXPECT_EQ(kind(0), DlpackStream::Legacy); }

TEST(DlpackStream, OtherNegativeValuesAreRefused) {
  EXPECT_THROW(kind(-2), bwl::InvalidArgument);
  EXPECT_THROW(kind(INT64_MIN), bwl::InvalidArgument);
}

}  // namespace
