// Writes the fuzzers' seed corpora: small valid inputs of every shape the readers handle, so
// that fuzzing starts from the formats' real structure. Usage: make_seed_corpora OUT_DIR, which
// gets one directory per target (OUT_DIR/fuzz_bigwig_reader, ...). Built with the targets
// (fuzz/CMakeLists.txt); the bigWigs come from the C++ tests' builder (tests/cpp/bbi_builder.hpp).
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bbi_builder.hpp"

using namespace bwl::test;

namespace {

void save(const std::string& dir, const std::string& name, const Bytes& bytes) {
  ::mkdir(dir.c_str(), 0755);
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::perror((dir + "/" + name).c_str());
    std::exit(1);
  }
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::vector<std::pair<std::string, FileSpec>> bigwig_specs() {
  std::vector<std::pair<std::string, FileSpec>> specs;
  FileSpec bedgraph;
  bedgraph.chroms = {{"chr1", 1000}, {"chr2", 300}};
  bedgraph.blocks.push_back(Block{bedgraph_section(0, {{0, 10, 1.5f}, {20, 30, -2.0f}, {30, 31, 7.0f}}), 0, 0, 0, 31});
  bedgraph.blocks.push_back(Block{bedgraph_section(0, {{100, 200, 3.0f}}), 0, 100, 0, 200});
  bedgraph.blocks.push_back(Block{bedgraph_section(1, {{5, 250, 0.25f}}), 1, 5, 1, 250});
  specs.emplace_back("bedgraph_compressed.bw", bedgraph);
  FileSpec raw = bedgraph;
  raw.compressed = false;
  specs.emplace_back("bedgraph_uncompressed.bw", raw);

  FileSpec steps;
  steps.chroms = {{"chrA", 500}, {"chrB", 500}, {"chrC", 64}};
  steps.blocks.push_back(Block{concat({varstep_section(0, 5, {{0, 1.0f}, {10, 2.0f}, {40, NAN}}),
                                       fixedstep_section(1, 0, 10, 10, {3.0f, 4.0f, 5.0f})}),
                               0, 0, 1, 30});
  steps.blocks.push_back(Block{fixedstep_section(2, 4, 8, 4, {1.0f, 2.0f, 3.0f, 4.0f}), 2, 4, 2, 32});
  steps.add_zoom_level = true;
  specs.emplace_back("var_fixed_step_zoom.bw", steps);

  FileSpec deep = bedgraph;
  deep.chroms = {{"c1", 100}, {"c2", 100}, {"c3", 100}, {"c4", 100}, {"c5", 100}};
  deep.blocks.clear();
  for (uint32_t c = 0; c < 5; ++c) {
    deep.blocks.push_back(Block{bedgraph_section(c, {{0, 50, float(c)}}), c, 0, c, 50});
    deep.blocks.push_back(Block{bedgraph_section(c, {{60, 70, float(c) + 0.5f}}), c, 60, c, 70});
  }
  deep.chrom_tree_block_size = 2;
  deep.rtree_block_size = 2;
  specs.emplace_back("deep_trees.bw", deep);

  FileSpec v1 = bedgraph;
  v1.version = 1;
  specs.emplace_back("version1.bw", v1);

  FileSpec empty;
  empty.chroms = {{"chrE", 10}};
  specs.emplace_back("no_blocks.bw", empty);
  return specs;
}

void bigwig_seeds(const std::string& out) {
  const std::string dir = out + "/fuzz_bigwig_reader";
  for (const auto& [name, spec] : bigwig_specs()) save(dir, name, build_bigwig(spec));
}

Bytes sections_sample() {
  return concat({bedgraph_section(0, {{0, 10, 1.5f}, {12, 30, -2.0f}}), varstep_section(1, 3, {{0, 1.0f}, {7, 2.0f}}),
                 fixedstep_section(2, 100, 5, 5, {1.0f, 2.0f, NAN, 4.0f})});
}

void inflate_seeds(const std::string& out) {
  const std::string dir = out + "/fuzz_inflate";
  const std::vector<std::pair<std::string, Bytes>> payloads = {
      {"sections", sections_sample()},
      {"text", text(std::string(40, 'a') + "the signal track of chromatin accessibility, again and again and again\n")},
      {"zeros", Bytes(3000, 0)},
      {"empty", Bytes()},
  };
  for (const auto& [name, payload] : payloads) {
    for (int level : {0, 1, 6, 9}) {
      uLongf len = compressBound(static_cast<uLong>(payload.size()));
      Bytes z(len);
      if (compress2(z.data(), &len, payload.data(), static_cast<uLong>(payload.size()), level) != Z_OK) std::exit(1);
      z.resize(len);
      Bytes seed = {255};  // capacity byte: 64 KiB
      seed.insert(seed.end(), z.begin(), z.end());
      save(dir, name + "_level" + std::to_string(level), seed);
      seed[0] = 1;  // capacity 64 bytes: overflows for most payloads
      save(dir, name + "_level" + std::to_string(level) + "_small", seed);
    }
  }
}

void decode_fill_seeds(const std::string& out) {
  const std::string dir = out + "/fuzz_decode_fill";
  // Query: start 0 (or -8), chrom 0..2, window sizes 1 and 4, 64 cells, clip [0, 2^16).
  for (uint8_t chrom : {0, 1, 2}) {
    for (uint8_t window : {0, 3}) {
      Bytes seed;
      put_u32(seed, chrom == 1 ? static_cast<uint32_t>(-8) : 0);
      put_u8(seed, chrom);
      put_u8(seed, window);
      put_u16(seed, 64);
      put_u32(seed, 0);
      put_u32(seed, 1u << 16);
      const Bytes block = sections_sample();
      seed.insert(seed.end(), block.begin(), block.end());
      save(dir, "chrom" + std::to_string(chrom) + "_window" + std::to_string(window + 1), seed);
    }
  }
}

void fasta_seeds(const std::string& out) {
  const std::string dir = out + "/fuzz_fasta";
  save(dir, "wrapped.fa", text(">chr1 first\nACGTACGTAC\nGTNNNNacgt\nAC\n>chr2\nTTTT\n"));
  save(dir, "unwrapped.fa", text(">a\nACGTNACGTN\n>b\n\n>c\nG\n"));
  save(dir, "crlf.fa", text(">x\r\nACGT\r\nAC\r\n>y\r\nNNNN\r\n"));
  save(dir, "no_final_newline.fa", text(">only\nACGTRYKMBDHVacgt"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  ::mkdir(out.c_str(), 0755);
  bigwig_seeds(out);
  inflate_seeds(out);
  decode_fill_seeds(out);
  fasta_seeds(out);
  return 0;
}
