// libFuzzer target: file bytes -> the FASTA reader (stages of fasta/fasta_file.hpp): the index
// built by one scan (no .fai is present), then reads of the start, the end and the whole of
// every record (capped). A malformed FASTA must end in bwl::Error; anything else is a finding.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "fasta/fasta_file.hpp"

namespace {

// The FASTA is a file on disk (the reader writes its .fai beside it), in $TMPDIR; scripts/fuzz.sh
// points that at a tmpfs where there is one, as writes there cost microseconds, not milliseconds.
std::string scratch_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/bwl_fuzz_fasta_" + std::to_string(::getpid()) + ".fa";
}

void write_file(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

constexpr uint64_t kMaxRead = 1 << 14;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = scratch_path();
  std::remove((path + ".fai").c_str());  // every input builds its own index
  write_file(path, data, size);
  try {
    bwl::fasta::FastaFile fasta(path);
    std::vector<char> bases;
    for (size_t r = 0; r < fasta.records().size(); ++r) {
      const bwl::fasta::FastaRecord& rec = fasta.records()[r];
      check(fasta.find(rec.name) >= 0, "a record's name does not find a record");
      const int64_t length = static_cast<int64_t>(rec.length);
      const int64_t n = static_cast<int64_t>(std::min<uint64_t>(rec.length, kMaxRead));
      bases.resize(static_cast<size_t>(n));
      fasta.read(r, 0, n, bases.data());
      fasta.read(r, length - n, length, bases.data());
      for (char b : bases) check(b != '\n' && b != '\r', "a line ending read as a base");
    }
    // The index written beside the FASTA reads back the same.
    bwl::fasta::FastaFile again(path);
    check(again.records().size() == fasta.records().size(), "the written .fai differs from the scan");
  } catch (const bwl::Error&) {
  }
  std::remove((path + ".fai").c_str());
  return 0;
}
