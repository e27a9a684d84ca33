#include "io/remote_object.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "common/errors.hpp"

namespace bwl::io {

std::vector<ByteRange> merge_ranges(std::vector<ByteRange> ranges, uint64_t gap, uint64_t max_bytes) {
  std::sort(ranges.begin(), ranges.end(), [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  std::vector<ByteRange> merged;
  for (const ByteRange& r : ranges) {
    if (r.length == 0) continue;
    if (!merged.empty()) {
      ByteRange& last = merged.back();
      const uint64_t end = std::max(last.end(), r.end());
      if (r.offset <= last.end() + gap && end - last.offset <= max_bytes) {
        last.length = end - last.offset;
        continue;
      }
      if (r.end() <= last.end()) continue;  // inside a range already too large to grow
    }
    merged.push_back(r);
  }
  return merged;
}

RemoteObject::RemoteObject(std::string url, uint64_t size, std::string etag, std::shared_ptr<RangeFetcher> fetcher)
    : ByteSource(std::move(url)), etag_(std::move(etag)), fetcher_(std::move(fetcher)) {
  size_ = size;
  if (!fetcher_) throw InvalidArgument(path() + ": a remote object needs a range fetcher");
}

std::shared_ptr<const FetchedSpan> RemoteObject::span_covering(uint64_t offset, uint64_t length) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto covers = [&](const FetchedSpan& s) {
    return offset >= s.offset && offset + length <= s.offset + s.bytes.size();
  };
  for (const auto& s : kept_) {
    if (covers(*s)) return s;
  }
  // Spans whose holders are gone are dropped while looking: the list stays as short as the
  // batches in flight.
  std::shared_ptr<const FetchedSpan> found;
  size_t live = 0;
  for (size_t i = 0; i < offered_.size(); ++i) {
    std::shared_ptr<const FetchedSpan> s = offered_[i].lock();
    if (!s) continue;
    if (!found && covers(*s)) found = s;
    offered_[live++] = offered_[i];
  }
  offered_.resize(live);
  return found;
}

void RemoteObject::read_exact(uint64_t offset, size_t length, void* dst, const char* what) const {
  check_range(offset, length, what);
  auto* out = static_cast<uint8_t*>(dst);
  const uint64_t end = offset + length;
  uint64_t at = offset;
  // From live spans, piece by piece (a read may straddle two fetched ranges).
  while (at < end) {
    const std::shared_ptr<const FetchedSpan> span = span_covering(at, 1);
    if (!span) break;
    const uint64_t upto = std::min<uint64_t>(end, span->offset + span->bytes.size());
    std::memcpy(out + (at - offset), span->bytes.data() + (at - span->offset), upto - at);
    at = upto;
  }
  if (at == end) return;
  // The rest: one fetch (a round trip; callers that know what they will read call read_ahead).
  std::vector<ObjectFetch> round(1);
  round[0].object = this;
  round[0].ranges.push_back(ByteRange{at, end - at});
  fetcher_->fetch(round);
  if (round[0].spans.size() != 1 || round[0].spans[0]->bytes.size() != end - at) {
    throw Error(path() + ": the range fetcher returned another number of bytes than asked for " + what);
  }
  std::memcpy(out + (at - offset), round[0].spans[0]->bytes.data(), end - at);
}

FetchHold RemoteObject::read_ahead(const std::vector<ByteRange>& ranges) const {
  std::vector<ObjectFetch> round(1);
  round[0].object = this;
  round[0].ranges = missing(ranges);
  return fetch_round(std::move(round));
}

std::vector<ByteRange> RemoteObject::missing(const std::vector<ByteRange>& ranges) const {
  std::vector<std::shared_ptr<const FetchedSpan>> spans;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    spans = kept_;
    for (const auto& w : offered_) {
      if (auto s = w.lock()) spans.push_back(std::move(s));
    }
  }
  std::vector<ByteRange> out;
  for (const ByteRange& r : ranges) {
    const bool covered = std::any_of(spans.begin(), spans.end(), [&](const auto& s) {
      return r.offset >= s->offset && r.end() <= s->offset + s->bytes.size();
    });
    if (!covered) out.push_back(r);
  }
  return out;
}

void RemoteObject::keep(uint64_t offset, std::vector<uint8_t> bytes) {
  auto span = std::make_shared<FetchedSpan>();
  span->offset = offset;
  span->bytes = std::move(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  kept_.push_back(std::move(span));
}

void RemoteObject::release_kept() {
  std::lock_guard<std::mutex> lock(mutex_);
  kept_.clear();
}

void RemoteObject::offer(const std::vector<std::shared_ptr<const FetchedSpan>>& spans) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& s : spans) offered_.push_back(s);
}

FetchHold fetch_round(std::vector<ObjectFetch> round) {
  // One call per fetcher (a collection has one), each with every object's merged ranges.
  std::map<RangeFetcher*, std::vector<ObjectFetch>> by_fetcher;
  for (ObjectFetch& f : round) {
    for (const ByteRange& r : f.ranges) f.object->check_range(r.offset, r.length, "data blocks");
    f.ranges = merge_ranges(std::move(f.ranges));
    if (f.ranges.empty()) continue;
    by_fetcher[&f.object->fetcher()].push_back(std::move(f));
  }
  FetchHold hold;
  for (auto& [fetcher, fetches] : by_fetcher) {
    fetcher->fetch(fetches);
    for (const ObjectFetch& f : fetches) {
      if (f.spans.size() != f.ranges.size()) {
        throw Error(f.object->path() + ": the range fetcher returned " + std::to_string(f.spans.size()) +
                    " ranges for " + std::to_string(f.ranges.size()) + " asked");
      }
      for (size_t i = 0; i < f.spans.size(); ++i) {
        if (f.spans[i]->offset != f.ranges[i].offset || f.spans[i]->bytes.size() != f.ranges[i].length) {
          throw Error(f.object->path() + ": the range fetcher returned other bytes than asked for");
        }
      }
      f.object->offer(f.spans);
      hold.insert(hold.end(), f.spans.begin(), f.spans.end());
    }
  }
  return hold;
}

}  // namespace bwl::io
