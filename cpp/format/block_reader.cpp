#include "format/block_reader.hpp"

namespace bwl::format {

BlockScratch& thread_block_scratch() {
  thread_local BlockScratch scratch;
  return scratch;
}

}  // namespace bwl::format
