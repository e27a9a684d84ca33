#include "format/block_survey.hpp"

#include <memory>
#include <unordered_map>

#include "common/errors.hpp"
#include "common/little_endian.hpp"
#include "common/scratch_buffer.hpp"
#include "format/block_reader.hpp"
#include "format/zoom_record.hpp"
#include "stages/host_inflate.hpp"
#include "stages/section_decode.hpp"

namespace bwl::format {
namespace {

// Turns a FormatError into a Problem: the survey names the path once per file, so a problem
// of this file keeps only what is wrong and where.
Problem problem_from(const FormatError& e, const std::string& path) {
  if (e.path() != path) return Problem{false, 0, e.what()};
  return Problem{e.offset().has_value(), e.offset().value_or(0), e.detail()};
}

Problem problem_at(uint64_t offset, std::string message) { return Problem{true, offset, std::move(message)}; }

// The per-file state of one walk: the file, its chromosome sizes by id, and reusable buffers.
class Surveyor {
 public:
  Surveyor(const BigWigFile& file, FileSurvey& out) : file_(file), out_(out) {
    for (const ChromInfo& c : file.chroms()) size_by_id_.emplace(c.id, c.size);
  }

  void data_blocks() {
    const std::vector<DataBlock>& blocks = file_.block_index().blocks();
    out_.blocks.reserve(blocks.size());
    for (const DataBlock& block : blocks) out_.blocks.push_back(data_block(block));
  }

  void zoom_levels() {
    for (const ZoomHeader& zoom : file_.header().zooms) {
      ZoomLevelFacts facts;
      facts.reduction_level = zoom.reduction_level;
      try {
        const BlockIndex index = BlockIndex::read(file_.file(), zoom.index_offset, file_.chroms());
        for (const DataBlock& block : index.blocks()) zoom_block(block, facts);
      } catch (const FormatError& e) {
        Problem p = problem_from(e, file_.path());
        p.message = "zoom level " + std::to_string(zoom.reduction_level) + ": " + p.message;
        out_.problems.push_back(std::move(p));
      }
      out_.zooms.push_back(facts);
    }
  }

 private:
  // Reads the block and, in a compressed file, inflates it (the one inflate step of the host
  // paths, so its problems read as a batch's errors do). Returns nullptr after recording a
  // problem; otherwise the block's bytes, `*size` of them.
  const uint8_t* load(const DataBlock& block, const char* what, size_t* size) {
    try {
      uint8_t* stored = fetched_.reserve(block.size);
      file_.file().read_exact(block.offset, block.size, stored, what);
      const BlockBytes bytes =
          inflate_block(file_.path(), file_.header(), block.offset, stored, block.size, inflated_, inflater_, what);
      *size = bytes.size;
      return bytes.data;
    } catch (const FormatError& e) {
      out_.problems.push_back(problem_from(e, file_.path()));
      return nullptr;
    }
  }

  DataBlockFacts data_block(const DataBlock& block) {
    DataBlockFacts facts;
    facts.offset = block.offset;
    facts.stored_bytes = block.size;
    size_t size = 0;
    const uint8_t* bytes = load(block, "data block", &size);
    if (bytes == nullptr) {
      facts.intact = false;
      return facts;
    }
    facts.inflated_bytes = size;
    const auto size32 = static_cast<uint32_t>(size);  // capped by kMaxUncompressBufSize
    const uint32_t capacity = stages::max_runs_in_block(size32);
    stages::Run* runs = runs_.reserve(capacity);
    const stages::DecodeResult result = stages::decode_block(bytes, size32, runs, capacity);
    // Sections before a bad one decoded; count them, then report the bad one.
    tally_sections(bytes, result.status == stages::DecodeStatus::Ok ? size32 : result.error_offset, facts);
    if (result.status != stages::DecodeStatus::Ok) {
      facts.intact = false;
      out_.problems.push_back(problem_at(block.offset, decode_failure(result)));
      return facts;
    }
    // Items of consecutive blocks must not overlap either (decode checks within a block).
    if (result.runs > 0) {
      const stages::Run& first = runs[0];
      if (have_previous_ &&
          (first.chrom_id < previous_chrom_ || (first.chrom_id == previous_chrom_ && first.start < previous_end_))) {
        facts.intact = false;
        out_.problems.push_back(
            problem_at(block.offset, overlapping_blocks_message(previous_offset_, block.offset) +
                                         ": its first item (chromosome id " + std::to_string(first.chrom_id) +
                                         ", bases " + std::to_string(first.start) + "-" + std::to_string(first.end) +
                                         ") starts before the previous block's items end (" +
                                         std::to_string(previous_end_) + ")"));
      }
      const stages::Run& last = runs[result.runs - 1];
      if (!have_previous_ || last.chrom_id != previous_chrom_) previous_end_ = 0;
      have_previous_ = true;
      previous_offset_ = block.offset;
      previous_chrom_ = last.chrom_id;
      for (uint32_t r = 0; r < result.runs; ++r) {
        if (runs[r].chrom_id == last.chrom_id && runs[r].end > previous_end_) previous_end_ = runs[r].end;
      }
    }
    // One problem per block is enough to point at it; the first bad item is named.
    for (uint32_t r = 0; r < result.runs; ++r) {
      const std::string bad = check_item(runs[r].chrom_id, runs[r].end);
      if (!bad.empty()) {
        facts.intact = false;
        out_.problems.push_back(problem_at(block.offset, "data block: " + bad));
        break;
      }
    }
    return facts;
  }

  // Section headers of bytes[0, size), which decode_block has already checked.
  void tally_sections(const uint8_t* bytes, uint32_t size, DataBlockFacts& facts) {
    uint32_t pos = 0;
    while (pos + stages::kSectionHeaderBytes <= size) {
      const stages::SectionHeader header = stages::read_section_header(bytes + pos);
      facts.sections += 1;
      facts.items += header.count;
      out_.sections_by_type[header.type - 1] += 1;
      out_.items_by_type[header.type - 1] += header.count;
      pos += stages::kSectionHeaderBytes + header.count * header.item_bytes;
    }
  }

  // Empty when an item on `chrom_id` ending at `end` fits the chromosome table; else what is wrong.
  std::string check_item(uint32_t chrom_id, uint64_t end) const {
    const auto it = size_by_id_.find(chrom_id);
    if (it == size_by_id_.end())
      return "item on chromosome id " + std::to_string(chrom_id) + ", which the chromosome tree lacks";
    if (end > it->second) {
      return "item ends at " + std::to_string(end) + ", past the end of its chromosome (size " +
             std::to_string(it->second) + ")";
    }
    return {};
  }

  void zoom_block(const DataBlock& block, ZoomLevelFacts& facts) {
    facts.blocks += 1;
    facts.stored_bytes += block.size;
    size_t size = 0;
    const uint8_t* bytes = load(block, "zoom block", &size);
    if (bytes == nullptr) return;
    facts.inflated_bytes += size;
    const std::string where = "zoom level " + std::to_string(facts.reduction_level) + ": ";
    if (size % kZoomRecordBytes != 0) {
      out_.problems.push_back(problem_at(block.offset, where + "zoom block of " + std::to_string(size) +
                                                           " bytes is not a whole number of 32-byte records"));
      return;
    }
    facts.records += size / kZoomRecordBytes;
    for (size_t at = 0; at < size; at += kZoomRecordBytes) {
      const ZoomRecord record = read_zoom_record(bytes + at);
      const std::string bad = check_item(record.chrom_id, record.end);
      if (!bad.empty()) {
        out_.problems.push_back(problem_at(block.offset, where + "zoom record: " + bad));
        return;
      }
    }
  }

  const BigWigFile& file_;
  FileSurvey& out_;
  std::unordered_map<uint32_t, uint32_t> size_by_id_;
  // The last decoded block's offset, its last chromosome and the furthest end of its items on it.
  bool have_previous_ = false;
  uint64_t previous_offset_ = 0;
  uint32_t previous_chrom_ = 0;
  uint32_t previous_end_ = 0;
  ScratchBuffer<uint8_t> fetched_;
  ScratchBuffer<uint8_t> inflated_;
  ScratchBuffer<stages::Run> runs_;
  stages::HostInflater inflater_;
};

}  // namespace

FileSurvey survey_file(const BigWigFile& file) {
  FileSurvey out;
  out.path = file.path();
  out.opened = true;
  Surveyor surveyor(file, out);
  surveyor.data_blocks();
  surveyor.zoom_levels();
  return out;
}

FileSurvey survey_file(const std::string& path) {
  std::unique_ptr<BigWigFile> file;
  try {
    file = std::make_unique<BigWigFile>(path);
  } catch (const FormatError& e) {
    FileSurvey out;
    out.path = path;
    out.problems.push_back(problem_from(e, path));
    return out;
  }
  return survey_file(*file);
}

}  // namespace bwl::format
