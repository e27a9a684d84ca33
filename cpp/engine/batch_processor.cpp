#include "engine/batch_processor.hpp"

#include "common/errors.hpp"
#include "engine/block_fetch.hpp"
#include "fasta/one_hot.hpp"

namespace bwl::engine {

void BatchProcessor::load(const Collection& collection, const BatchRequest& request, void* out) {
  if (request.has_augmentations()) throw InvalidArgument("a request with augmentations loads into new tensors");
  const BatchPlan plan = this->plan(collection, request);
  const io::FetchHold fetched = fetch_remote_blocks(collection, plan);
  run(collection, request, plan, out);
}

LoadedBatch BatchProcessor::load(const Collection& collection, const BatchRequest& request) {
  const BatchPlan plan = this->plan(collection, request);
  // Released once the fill has read them (before the finishing step).
  io::FetchHold fetched = fetch_remote_blocks(collection, plan);
  std::shared_ptr<Tensor> values = fill_new_values(collection, request, plan);
  fetched.clear();
  smooth(*values, request.smoothing);
  if (!request.flip.empty()) flip(*values, request.flip, request.flip_tracks);
  LoadedBatch batch{values, nullptr};
  if (!request.bases.empty()) {
    batch.sequences = place_sequences(fasta::one_hot_rows(request.bases.data(), request.starts.size(),
                                                          request.sequence_length, request.sequence_dtype));
    // A flipped window's sequence is the reverse complement of its bases: the one-hot rows
    // reversed with the channels A, C, G, T reversed (tensor/transforms.hpp), bit for bit the
    // one-hot of the complemented bases, IUPAC codes included.
    static const std::vector<int64_t> kComplementChannels{3, 2, 1, 0};
    if (!request.flip.empty()) flip(*batch.sequences, request.flip, kComplementChannels);
  }
  return batch;
}

}  // namespace bwl::engine
