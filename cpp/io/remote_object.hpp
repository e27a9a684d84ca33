#pragma once
// A remote object (S3, GCS, Azure, HTTP(S)) read as a ByteSource. The core fetches nothing
// itself: a RangeFetcher does (the Python layer's, which drives a well-kept object-store client;
// bigwig_loader/remote.py). What the core owns is *what* to fetch and *when*: the ranges a batch
// or an open will read, merged and fetched in one concurrent round (fetch_round), then served to
// read_exact from memory.
//
// Invariant: every fetch is conditional on the ETag recorded at open, so bytes of two versions
// of an object never meet in one source: a changed object makes the fetch fail (FileChanged),
// whether or not other blocks of it are cached.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/byte_source.hpp"

namespace bwl::io {

class RemoteObject;

// One object's share of a fetch round: the ranges wanted (merged, increasing, disjoint) and,
// once the fetcher returns, one span per range with exactly its bytes.
struct ObjectFetch {
  const RemoteObject* object = nullptr;
  std::vector<ByteRange> ranges;
  std::vector<std::shared_ptr<const FetchedSpan>> spans;
};

// Fetches byte ranges of remote objects. fetch() gets a whole round (every object's ranges) and
// may run them all at once; it fills each ObjectFetch's spans or throws: FileNotFound (the
// object is gone), FileChanged (its ETag differs from the one recorded at open), PermissionDenied
// or Error (after its retries), each naming the URL. Called from any thread.
class RangeFetcher {
 public:
  virtual ~RangeFetcher() = default;
  virtual void fetch(std::vector<ObjectFetch>& round) = 0;
};

// Ranges of one object closer than this are fetched as one: a request costs a round trip, a
// gap's bytes only bandwidth. Measured in benchmarks/remote.py (RESULTS.md, "Remote reads").
constexpr uint64_t kMergeGapBytes = 64u << 10;
// No merged range grows past this (unless one wanted range is larger by itself), so that one
// slow request does not hold back a whole batch and memory per request stays bounded.
constexpr uint64_t kMaxMergedRangeBytes = 8u << 20;

// `ranges` sorted and merged: overlapping, adjacent, or within `gap` bytes of each other.
std::vector<ByteRange> merge_ranges(std::vector<ByteRange> ranges, uint64_t gap = kMergeGapBytes,
                                    uint64_t max_bytes = kMaxMergedRangeBytes);

class RemoteObject final : public ByteSource {
 public:
  // `size` and `etag` as the store reported them at open (the first response).
  RemoteObject(std::string url, uint64_t size, std::string etag, std::shared_ptr<RangeFetcher> fetcher);

  bool is_remote() const override { return true; }
  const std::string& etag() const { return etag_; }
  RangeFetcher& fetcher() const { return *fetcher_; }

  // From a live fetched span that covers the range; otherwise one fetch of just that range
  // (correct, but a round trip: callers that know what they will read call read_ahead first).
  void read_exact(uint64_t offset, size_t length, void* dst, const char* what) const override;
  // Nothing to ask: every fetch is conditional on the ETag (the invariant above).
  void check_unchanged() const override {}
  std::shared_ptr<const FetchedSpan> span_covering(uint64_t offset, uint64_t length) const override;
  // Fetches those of `ranges` that no live span covers yet (kept ones from the open included).
  FetchHold read_ahead(const std::vector<ByteRange>& ranges) const override;

  // Keeps bytes fetched before this object existed (the open's first read) until release_kept.
  void keep(uint64_t offset, std::vector<uint8_t> bytes);
  void release_kept();

  // Serves reads from `spans` while someone else holds them (fetch_round's caller).
  void offer(const std::vector<std::shared_ptr<const FetchedSpan>>& spans) const;

 private:
  // Those of `ranges` that no live or kept span covers.
  std::vector<ByteRange> missing(const std::vector<ByteRange>& ranges) const;

  std::string etag_;
  std::shared_ptr<RangeFetcher> fetcher_;
  mutable std::mutex mutex_;
  mutable std::vector<std::weak_ptr<const FetchedSpan>> offered_;
  std::vector<std::shared_ptr<const FetchedSpan>> kept_;
};

// Fetches every object's ranges (merged per object) in one round per fetcher, offers the spans to
// their objects and returns what keeps them alive. Objects with no ranges are skipped.
FetchHold fetch_round(std::vector<ObjectFetch> round);

}  // namespace bwl::io
