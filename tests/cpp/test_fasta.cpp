#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "fasta/fasta_file.hpp"
#include "fasta/one_hot.hpp"
#include "fasta/usable_windows.hpp"
#include "io/mapped_file.hpp"

using bwl::test::Bytes;
using bwl::test::TempFile;

namespace {
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
}  // namespace

TEST(Fasta, BuildsTheSamtoolsIndex) {
  TempFile tmp(text(">a desc\nACGTA\nCGTAC\nGT\n>b\nTTTT\n"));
  bwl::io::RandomAccessFile f(tmp.path());
  const auto records = bwl::fasta::build_fai(f);
  EXPECT_EQ(bwl::fasta::format_fai(records), "a\t12\t8\t5\t6\nb\t4\t26\t4\t5\n");
}

TEST(Fasta, ReadsAcrossLinesAndKeepsCase) {
  TempFile tmp(text(">a\r\nACGTa\r\ncgtAC\r\nGT\r\n"));
  bwl::fasta::FastaFile f(tmp.path());
  std::string out(9, '?');
  f.read(0, 2, 11, out.data());
  EXPECT_EQ(out, "GTacgtACG");
  EXPECT_THROW(f.read(0, 0, 13, out.data()), bwl::InvalidArgument);
}

TEST(Fasta, UnwrappedOneLineRecords) {
  TempFile tmp(text(">x\nACGTACGTACGTACGT\n>y\nGG"));
  bwl::fasta::FastaFile f(tmp.path());
  ASSERT_EQ(f.records().size(), 2u);
  EXPECT_EQ(f.records()[1].length, 2u);
  std::string out(2, '?');
  f.read(1, 0, 2, out.data());
  EXPECT_EQ(out, "GG");
}

TEST(Fasta, IrregularLinesAndStrayTextAreErrors) {
  TempFile irregular(text(">a\nACG\nACGT\n"));
  EXPECT_THROW(bwl::fasta::FastaFile f(irregular.path()), bwl::FormatError);
  TempFile headless(text("ACGT\n>a\nAC\n"));
  EXPECT_THROW(bwl::fasta::FastaFile f(headless.path()), bwl::FormatError);
  TempFile twice(text(">a\nAC\n>a\nAC\n"));
  EXPECT_THROW(bwl::fasta::FastaFile f(twice.path()), bwl::FormatError);
}

// Found by fuzz/fuzz_fasta.cpp: a lone carriage return was read as a base, and ended up in
// record names.
TEST(Fasta, ALoneCarriageReturnIsAnErrorNotABase) {
  TempFile lone(text(">x\rJACGT\r\nAC\r>a\n"));
  try {
    bwl::fasta::FastaFile f(lone.path());
    FAIL() << "read a FASTA with a lone carriage return";
  } catch (const bwl::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("carriage return inside a line"), std::string::npos) << e.what();
  }
  TempFile named(text(">x\ry\nAC\n"));
  bwl::fasta::FastaFile f(named.path());
  EXPECT_EQ(f.records()[0].name, "x") << "a name ends at whitespace, \\r included";
}

TEST(Fasta, UsableWindowsAreThoseInsideWithFewUnknownBasesInOrder) {
  // Record a: 13 bases over lines of 5 (NNNNN ACGTn cgT); record b: 4 bases.
  TempFile tmp(text(">a\nNNNNN\nACGTn\ncgT\n>b\nTTTT\n"));
  bwl::fasta::FastaFile f(tmp.path());
  //                          inside  1 N of 4  over the end  before 0  b: TTTT  2 N of 4  all N
  const int64_t records[] = {0, 0, 0, 0, 1, 0, 0};
  const int64_t starts[] = {5, 4, 10, -1, 0, 3, 0};
  int64_t kept[7];
  std::string bases(7 * 4, '?');
  // A quarter of unknown bases is allowed at 0.25 exactly (the limit is inclusive, as in Python).
  const size_t n = bwl::fasta::read_usable_windows(f, records, starts, 7, 4, 0.25, kept, bases.data(), 7);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(kept[0], 0);
  EXPECT_EQ(kept[1], 1);
  EXPECT_EQ(kept[2], 4);
  EXPECT_EQ(bases.substr(0, 12), "ACGTNACGTTTT");
  EXPECT_EQ(bwl::fasta::read_usable_windows(f, records, starts, 7, 4, 1.0, kept, bases.data(), 7), 5u);
  EXPECT_EQ(bwl::fasta::read_usable_windows(f, records, starts, 7, 4, 0.0, kept, bases.data(), 7), 2u);
  // A window of length 0 is inside wherever its start is, and has no unknown base.
  EXPECT_EQ(bwl::fasta::read_usable_windows(f, records, starts, 7, 0, 0.0, kept, bases.data(), 7), 6u);
}

TEST(Fasta, UsableWindowsRefuseARecordIdOutsideTheFile) {
  TempFile tmp(text(">a\nACGT\n"));
  bwl::fasta::FastaFile f(tmp.path());
  const int64_t records[] = {1};
  const int64_t starts[] = {0};
  int64_t kept[1];
  char bases[4];
  EXPECT_THROW(bwl::fasta::read_usable_windows(f, records, starts, 1, 4, 1.0, kept, bases, 1), bwl::InvalidArgument);
  const int64_t negative[] = {-1};
  EXPECT_THROW(bwl::fasta::read_usable_windows(f, negative, starts, 1, 4, 1.0, kept, bases, 1), bwl::InvalidArgument);
  EXPECT_THROW(bwl::fasta::read_usable_windows(f, starts, starts, 1, -1, 1.0, kept, bases, 1), bwl::InvalidArgument);
  // A fraction outside [0, 1], NaN above all (every comparison with it is false: it kept every
  // window), and more windows inside than the caller made room for.
  const int64_t zero[] = {0};
  for (double bad : {std::nan(""), -0.1, 1.5}) {
    EXPECT_THROW(bwl::fasta::read_usable_windows(f, zero, starts, 1, 4, bad, kept, bases, 1), bwl::InvalidArgument);
  }
  EXPECT_THROW(bwl::fasta::read_usable_windows(f, zero, starts, 1, 4, 1.0, kept, bases, 0), bwl::InvalidArgument);
  const int64_t two[] = {0, 0}, fits_once[] = {0, 1};
  EXPECT_EQ(bwl::fasta::count_windows_inside(f, two, fits_once, 2, 4), 1u);
  EXPECT_EQ(bwl::fasta::count_windows_inside(f, two, fits_once, 2, 400), 0u);
}

// Windows are prefetched ahead of their copy; starts at the ends of int64 are skipped windows, and
// neither their prefetch nor their bounds check may overflow (UBSan runs this).
TEST(Fasta, UsableWindowsAtTheEndsOfInt64AreSkipped) {
  TempFile tmp(text(">a\nACGT\n"));
  bwl::fasta::FastaFile f(tmp.path());
  const int64_t records[] = {0, 0, 0, 0};
  const int64_t starts[] = {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max() - 2, 0};
  int64_t kept[4];
  char bases[4 * 4];
  ASSERT_EQ(bwl::fasta::read_usable_windows(f, records, starts, 4, 4, 1.0, kept, bases, 4), 1u);
  EXPECT_EQ(kept[0], 3);
  f.prefetch(7, 0, 4);  // no such record, a range outside, an empty one: nothing happens
  f.prefetch(0, -4, 4);
  f.prefetch(0, 2, 9);
  f.prefetch(0, 3, 3);
}

// Bases are read from a memory map of the file. A file truncated after it was opened makes a
// read of the mapping past its new end raise SIGBUS: that read must end as the pread reader ends
// it (a FormatError naming the file), not kill the process; bases before the cut still read.
TEST(Fasta, AFileTruncatedWhileOpenIsAFormatErrorNotACrash) {
  std::string fasta = ">a\n";
  for (int line = 0; line < 1000; ++line) fasta += std::string(60, "ACGT"[line % 4]) + "\n";  // 61 kB: 15 pages
  TempFile tmp(text(fasta));
  bwl::fasta::FastaFile f(tmp.path());
  std::string out(10, '?');
  f.read(0, 59'000, 59'010, out.data());  // maps the last pages
  EXPECT_EQ(out, std::string(10, "ACGT"[59'000 / 60 % 4]));
  ASSERT_EQ(::truncate(tmp.path().c_str(), 100), 0);
  try {
    f.read(0, 59'000, 59'010, out.data());
    FAIL() << "read bases past the end of a truncated FASTA";
  } catch (const bwl::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated while reading FASTA bases"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(tmp.path()), std::string::npos) << e.what();
  }
  f.read(0, 0, 10, out.data());
  EXPECT_EQ(out, std::string(10, 'A'));
}

// Cut inside the page that holds the window: that page is still mapped, and reads as zeros past
// the new end (no SIGBUS). The zeros must not come back as bases either.
TEST(Fasta, AFileCutInsideTheLastPageIsAFormatErrorNotZeros) {
  std::string fasta = ">a\n";
  for (int line = 0; line < 1000; ++line) fasta += std::string(60, "ACGT"[line % 4]) + "\n";
  TempFile tmp(text(fasta));
  bwl::fasta::FastaFile f(tmp.path());
  const bwl::fasta::FastaRecord& r = f.records()[0];
  std::string out(20, '?');
  f.read(0, 30'000, 30'020, out.data());
  ASSERT_EQ(::truncate(tmp.path().c_str(), static_cast<off_t>(r.byte_of(30'010))), 0);  // the window's second half gone
  EXPECT_THROW(f.read(0, 30'000, 30'020, out.data()), bwl::FormatError);
  f.read(0, 30'000, 30'010, out.data());  // its first half is still there
  EXPECT_EQ(out.substr(0, 10), std::string(10, "ACGT"[30'000 / 60 % 4]));
}

// The SIGBUS handler only catches the reads it guards: any other bus error does what it did
// before the handler was installed (here: the default action, the process dies).
TEST(Fasta, ABusErrorOutsideAGuardedReadStillEndsTheProcess) {
  TempFile tmp(text(">a\nACGT\n"));
  bwl::fasta::FastaFile f(tmp.path());  // installs the handler
  EXPECT_DEATH(::raise(SIGBUS), "");
}

// A SIGBUS sent (kill, raise) while a read is guarded is not a fault of that read: it takes its
// old course (here the default action) instead of being taken for the read's fault.
TEST(Fasta, ASentBusErrorDuringAGuardedReadIsNotSwallowed) {
  TempFile tmp(text(">a\nACGT\n"));
  bwl::fasta::FastaFile f(tmp.path());
  EXPECT_DEATH(
      {
        sigjmp_buf jump;
        if (sigsetjmp(jump, 0) == 0) {
          static const char page[64] = {};
          bwl::io::fault_guard::arm(&jump, page, sizeof page);
          ::raise(SIGBUS);
        }
        std::exit(0);  // jumped back: swallowed
      },
      "");
}

// A handler installed after ours that ends the process on any bus error (torch's DataLoader
// workers install one): reclaim_handler puts ours back in front, and a truncated file's read is
// the reader's error again; other bus errors still reach the displaced handler. Run in a death
// test's child, whose exit status says what happened.
namespace {
void ends_with_status_7(int) { std::_Exit(7); }
}  // namespace

TEST(Fasta, ReclaimedHandlerGuardsReadsAgainAndKeepsTheDisplacedOne) {
  std::string fasta = ">a\n";
  for (int line = 0; line < 1000; ++line) fasta += std::string(60, 'A') + "\n";
  TempFile tmp(text(fasta));
  EXPECT_EXIT(
      {
        bwl::fasta::FastaFile f(tmp.path());
        std::string out(10, '?');
        f.read(0, 59'000, 59'010, out.data());
        ::signal(SIGBUS, ends_with_status_7);  // installed after ours, as torch's is
        if (!bwl::io::fault_guard::reclaim_handler()) std::_Exit(2);
        if (bwl::io::fault_guard::reclaim_handler()) std::_Exit(3);  // already in front: nothing to do
        if (::truncate(tmp.path().c_str(), 100) != 0) std::_Exit(4);
        try {
          f.read(0, 59'000, 59'010, out.data());
        } catch (const bwl::FormatError&) {
          ::raise(SIGBUS);  // not a guarded read's: to the displaced handler
        }
        std::_Exit(5);
      },
      ::testing::ExitedWithCode(7), "");
}

// A displaced handler that chains back to ours (Python's faulthandler does) must not loop: a
// bus error that is not ours ends in the default action.
namespace {
struct sigaction g_ours_before {};
void chains_back(int signal_number, siginfo_t* info, void* context) {
  g_ours_before.sa_sigaction(signal_number, info, context);
}
}  // namespace

TEST(Fasta, AHandlerChainingBackToOursDoesNotLoop) {
  TempFile tmp(text(">a\nACGT\n"));
  EXPECT_EXIT(
      {
        bwl::fasta::FastaFile f(tmp.path());
        struct sigaction chain {};
        chain.sa_sigaction = chains_back;
        chain.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&chain.sa_mask);
        ::sigaction(SIGBUS, &chain, &g_ours_before);
        bwl::io::fault_guard::reclaim_handler();
        ::raise(SIGBUS);
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGBUS), "");
}

TEST(Fasta, AStaleIndexIsRebuiltFromTheFile) {
  TempFile tmp(text(">a\nACGTACGTAC\nGT\n"));
  std::string fai_path = tmp.path() + ".fai";
  {
    bwl::fasta::FastaFile first(tmp.path());  // writes the index: 10 bases a line
    ASSERT_TRUE(first.built_index());
  }
  // Re-wrapped at 4 bases a line, the index left newer than the file (cp -p of an old FASTA).
  const std::string rewrapped = ">a\nACGT\nACGT\nACGT\n";
  FILE* out = std::fopen(tmp.path().c_str(), "wb");
  std::fwrite(rewrapped.data(), 1, rewrapped.size(), out);
  std::fclose(out);
  struct timespec times[2] = {{1, 0}, {1, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp.path().c_str(), times, 0), 0);
  bwl::fasta::FastaFile f(tmp.path());
  EXPECT_TRUE(f.built_index());
  std::string bases(12, '?');
  f.read(0, 0, 12, bases.data());
  EXPECT_EQ(bases, "ACGTACGTACGT");
  std::remove(fai_path.c_str());
}

TEST(Fasta, GuardedReadsDoNotNest) {
  sigjmp_buf outer, inner;
  static const char page[64] = {};
  bwl::io::fault_guard::arm(&outer, page, sizeof page);
  EXPECT_THROW(bwl::io::fault_guard::arm(&inner, page, sizeof page), std::logic_error);
  bwl::io::fault_guard::disarm();
}

TEST(OneHot, WeightsAndTypes) {
  const std::string bases = "AcgTNrbx";
  std::vector<float> f(bases.size() * 4);
  bwl::fasta::encode_one_hot(bases.data(), bases.size(), bwl::DType::Float32, f.data());
  EXPECT_EQ(std::vector<float>(f.begin(), f.begin() + 8), (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(std::vector<float>(f.begin() + 16, f.begin() + 20), (std::vector<float>{0.25f, 0.25f, 0.25f, 0.25f}));
  EXPECT_EQ(std::vector<float>(f.begin() + 20, f.begin() + 24), (std::vector<float>{0.5f, 0, 0.5f, 0}));
  EXPECT_EQ(std::vector<float>(f.begin() + 24, f.begin() + 28), (std::vector<float>{0, 0.333f, 0.333f, 0.333f}));
  EXPECT_EQ(std::vector<float>(f.begin() + 28, f.end()), (std::vector<float>{0, 0, 0, 0}));
  std::vector<uint8_t> u(bases.size() * 4);
  bwl::fasta::encode_one_hot(bases.data(), bases.size(), bwl::DType::UInt8, u.data());
  EXPECT_EQ(u[0] + u[5] + u[10] + u[15], 4);
  EXPECT_EQ(u[16] + u[17] + u[18] + u[19], 0);
  EXPECT_EQ(bwl::fasta::count_unknown(bases.data(), bases.size()), 4u);
}

// Outputs of 1 MiB and more are written with streaming stores when 16-byte aligned, others
// with ordinary ones: every byte of either equals the per-base encoding of a short output.
TEST(OneHot, LargeOutputsAlignedOrNotEqualThePerBaseEncoding) {
  std::string bases(70'000, 'A');  // 70,000 x 16 bytes: past the streaming threshold
  for (size_t i = 0; i < bases.size(); ++i) bases[i] = static_cast<char>((i * 2654435761u) >> 13);  // every byte value
  std::vector<float> expected(bases.size() * 4);
  for (size_t i = 0; i < bases.size(); ++i) {
    bwl::fasta::encode_one_hot(bases.data() + i, 1, bwl::DType::Float32, expected.data() + 4 * i);
  }
  std::vector<float> storage(bases.size() * 4 + 8);
  for (size_t shift : {size_t{0}, size_t{1}, size_t{2}, size_t{3}}) {  // floats: one of these is 16-byte aligned
    float* out = storage.data() + shift;
    std::fill(storage.begin(), storage.end(), -1.0f);
    bwl::fasta::encode_one_hot(bases.data(), bases.size(), bwl::DType::Float32, out);
    EXPECT_EQ(std::memcmp(out, expected.data(), expected.size() * sizeof(float)), 0) << "shift " << shift;
    EXPECT_EQ(out[expected.size()], -1.0f) << "wrote past the end, shift " << shift;
  }
}

TEST(OneHot, CountUnknownAgreesWithIsAcgtOnEveryByte) {
  // count_unknown compares 16 bytes at once; is_acgt is the definition (A, C, G, T in either case).
  std::string all(256, '\0');
  size_t expected = 0;
  for (int b = 0; b < 256; ++b) {
    all[static_cast<size_t>(b)] = static_cast<char>(b);
    expected += !bwl::fasta::is_acgt(static_cast<unsigned char>(b));
    EXPECT_EQ(bwl::fasta::count_unknown(all.data() + b, 1),
              bwl::fasta::is_acgt(static_cast<unsigned char>(b)) ? 0u : 1u)
        << b;
  }
  EXPECT_EQ(expected, 256u - 8u);
  EXPECT_EQ(bwl::fasta::count_unknown(all.data(), all.size()), expected);
  // Every length and offset around the 16-byte lanes and the 255-round flush: a long run of
  // every byte value, cut at many places.
  std::string many;
  for (int copy = 0; copy < 40; ++copy) many += all;  // 10,240 bytes: more than 255 rounds of 16
  for (size_t start : {size_t{0}, size_t{1}, size_t{15}, size_t{17}}) {
    for (size_t n : {size_t{0}, size_t{15}, size_t{16}, size_t{4079}, size_t{4080}, size_t{4097}, size_t{10000}}) {
      size_t want = 0;
      for (size_t i = start; i < start + n; ++i) want += !bwl::fasta::is_acgt(static_cast<unsigned char>(many[i]));
      EXPECT_EQ(bwl::fasta::count_unknown(many.data() + start, n), want) << start << " " << n;
    }
  }
}
