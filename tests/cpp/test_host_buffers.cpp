// tensor/host_buffers: released tensor memory is handed out again for the same size, within a
// bound, so that batch after batch of one shape costs no new pages.
#include "tensor/host_buffers.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <memory>
#include <vector>

#include "tensor/tensor.hpp"

using bwl::allocate_host_buffer;
using bwl::idle_host_buffer_bytes;

TEST(HostBuffers, AReleasedBufferIsHandedOutAgainForTheSameSize) {
  const size_t bytes = bwl::kMinRecycledBytes + 100;  // rounded up to the alignment
  const size_t idle_before = idle_host_buffer_bytes();
  void* first = nullptr;
  {
    std::shared_ptr<void> a = allocate_host_buffer(bytes);
    first = a.get();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % bwl::kHostBufferAlign, 0u);
  }
  EXPECT_GT(idle_host_buffer_bytes(), idle_before);
  std::shared_ptr<void> again = allocate_host_buffer(bytes);
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(idle_host_buffer_bytes(), idle_before);
  std::shared_ptr<void> other = allocate_host_buffer(bytes + 4096);  // another size: not that one
  EXPECT_NE(other.get(), first);
}

TEST(HostBuffers, SmallBuffersAreNotKept) {
  const size_t idle_before = idle_host_buffer_bytes();
  { std::shared_ptr<void> small = allocate_host_buffer(1000); }
  { std::shared_ptr<void> empty = allocate_host_buffer(0); }
  EXPECT_EQ(idle_host_buffer_bytes(), idle_before);
}

TEST(HostBuffers, IdleBuffersNeverExceedTheBound) {
  {
    std::vector<std::shared_ptr<void>> many;
    for (size_t i = 0; i < 2 * bwl::kMaxIdleBytes / bwl::kMinRecycledBytes; ++i) {
      many.push_back(allocate_host_buffer(bwl::kMinRecycledBytes * 2));
    }
  }  // all released at once: twice the bound
  EXPECT_LE(idle_host_buffer_bytes(), bwl::kMaxIdleBytes);
}

TEST(HostBuffers, IdleBuffersNeverExceedTheCount) {
  // Buffers of a page: far more than kMaxIdleBuffers fit in the bytes bound; the count bounds them.
  {
    std::vector<std::shared_ptr<void>> many;
    for (size_t i = 0; i < 3 * bwl::kMaxIdleBuffers; ++i) many.push_back(allocate_host_buffer(bwl::kMinRecycledBytes));
  }
  EXPECT_LE(idle_host_buffer_bytes(), bwl::kMaxIdleBuffers * bwl::kMinRecycledBytes);
  EXPECT_GE(idle_host_buffer_bytes(), bwl::kMinRecycledBytes);
}

TEST(HostBuffers, IdleBuffersOfAnOldShapeMakeWayForANewOne) {
  // Fill the idle list with buffers of one size, then release one of another: the oldest go, the
  // new one is kept, and a request of the new size gets it back.
  const size_t old_size = bwl::kMinRecycledBytes * 4;
  {
    std::vector<std::shared_ptr<void>> old;
    for (size_t i = 0; i < bwl::kMaxIdleBytes / old_size + 1; ++i) old.push_back(allocate_host_buffer(old_size));
  }
  const size_t new_size = bwl::kMinRecycledBytes * 3;
  void* released = nullptr;
  {
    std::shared_ptr<void> fresh = allocate_host_buffer(new_size);
    released = fresh.get();
  }
  EXPECT_LE(idle_host_buffer_bytes(), bwl::kMaxIdleBytes);
  EXPECT_EQ(allocate_host_buffer(new_size).get(), released);
}

namespace {

// The system's transparent-huge-page mode: "always", "madvise", "never", or "" where it has none.
std::string thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  const size_t open = line.find('['), close = line.find(']');
  return open == std::string::npos || close == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

// The "THPeligible" field of the mapping of this process that holds `p` (-1 when none says).
int thp_eligible(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const uintptr_t at = reinterpret_cast<uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (line.find(':') > line.find(' ') && head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= at && at < hi;
    } else if (inside && line.rfind("THPeligible:", 0) == 0) {
      return std::stoi(line.substr(std::strlen("THPeligible:")));
    }
  }
  return -1;
}

}  // namespace

TEST(HostBuffers, LargeBuffersAreHugePageAlignedAndAdvisedForHugePages) {
  // A 50,000 x 1 kb float batch is 200 MB: with 4 KiB pages its first touch is 50,000 faults.
  const size_t bytes = 3 * bwl::kHugePageBytes + 12345;
  std::shared_ptr<void> big = allocate_host_buffer(bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.get()) % bwl::kHugePageBytes, 0u);
  std::memset(big.get(), 0x5a, bytes);  // the whole size is usable
  EXPECT_EQ(static_cast<unsigned char*>(big.get())[bytes - 1], 0x5a);
  // The advice shows in smaps where the kernel reports it (THPeligible, Linux 5.0 and later) and
  // the system offers huge pages at all; elsewhere only the alignment above is the library's.
  const std::string mode = thp_mode();
  const int eligible = thp_eligible(big.get());
  if (eligible != -1 && (mode == "always" || mode == "madvise")) {
    EXPECT_EQ(eligible, 1) << "THP mode " << mode;
  } else if (eligible != -1) {
    EXPECT_EQ(eligible, 0) << "THP mode '" << mode << "' offers no huge pages";
  }
}

TEST(HostBuffers, ALargeReleasedBufferIsKeptLazilyFreedAndHandedOutAgain) {
  // Larger than an idle buffer may be: not counted as idle, but kept (madvise MADV_FREE) for the
  // next request of its size, kMaxLazyBuffers at most.
  const size_t bytes = bwl::kMaxIdleBufferBytes + bwl::kHugePageBytes;
  const size_t idle_before = idle_host_buffer_bytes();
  void* first = nullptr;
  {
    std::shared_ptr<void> a = allocate_host_buffer(bytes);
    first = a.get();
    static_cast<unsigned char*>(a.get())[bytes - 1] = 1;
  }
  EXPECT_EQ(idle_host_buffer_bytes(), idle_before);
  EXPECT_GE(bwl::lazily_freed_host_buffers(), 1u);
  std::shared_ptr<void> again = allocate_host_buffer(bytes);
  EXPECT_EQ(again.get(), first);
  std::memset(again.get(), 0x33, bytes);  // usable whole, whether the kernel took the pages or not
  EXPECT_EQ(static_cast<unsigned char*>(again.get())[bytes - 1], 0x33);
  {
    std::vector<std::shared_ptr<void>> many;
    for (size_t i = 0; i < bwl::kMaxLazyBuffers + 2; ++i) many.push_back(allocate_host_buffer(bytes + i * 4096));
  }
  EXPECT_EQ(bwl::lazily_freed_host_buffers(), bwl::kMaxLazyBuffers);
}

TEST(HostBuffers, ALargeBufferIsNotPushedOutBySmallOnesNorPushesThemOut) {
  // A batch of 64 MiB released between batches of 1 MiB (a benchmark's interleaved shapes, a
  // training loop's values and sequences): the large one is kept lazily freed, not idle, and
  // taken back from there after the small ones came and went; the small ones stay idle. Counted,
  // not compared by address (the system may place a fresh mapping where a freed one was).
  const size_t large = bwl::kMaxIdleBytes, small = size_t{1} << 20;
  { std::shared_ptr<void> a = allocate_host_buffer(large); }
  const size_t lazy = bwl::lazily_freed_host_buffers();
  ASSERT_GE(lazy, 1u);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i) {
      const size_t idle_before = idle_host_buffer_bytes();
      std::shared_ptr<void> b = allocate_host_buffer(small);
      if (round > 0 || i > 0) EXPECT_EQ(idle_host_buffer_bytes(), idle_before - small);  // taken from idle
    }
    EXPECT_EQ(bwl::lazily_freed_host_buffers(), lazy) << round;  // the small ones left it alone
    {
      std::shared_ptr<void> a = allocate_host_buffer(large);
      EXPECT_EQ(bwl::lazily_freed_host_buffers(), lazy - 1) << round;  // taken back
    }
    EXPECT_EQ(bwl::lazily_freed_host_buffers(), lazy) << round;
  }
  EXPECT_LE(idle_host_buffer_bytes(), bwl::kMaxIdleBytes);
}

TEST(HostBuffers, TwoAlternatingLargeShapesAreBothKept) {
  // Values and sequences of a training batch, each larger than an idle buffer may be and together
  // more than the idle bound: both are kept lazily freed, and each is taken back from there (a
  // pointer compared alone could match a fresh mapping the system placed at the same address).
  const size_t values = 40u << 20, sequences = 30u << 20;
  {
    std::shared_ptr<void> v = allocate_host_buffer(values);
    std::shared_ptr<void> q = allocate_host_buffer(sequences);
  }
  const size_t kept = bwl::lazily_freed_host_buffers();
  ASSERT_GE(kept, 2u);
  std::shared_ptr<void> v = allocate_host_buffer(values);
  EXPECT_EQ(bwl::lazily_freed_host_buffers(), kept - 1);
  std::shared_ptr<void> q = allocate_host_buffer(sequences);
  EXPECT_EQ(bwl::lazily_freed_host_buffers(), kept - 2);
}

TEST(HostBuffers, TensorViewsKeepTheirBufferUntilTheLastGoes) {
  auto tensor = std::make_shared<bwl::HostTensor>(std::vector<int64_t>{64, 1024, 4}, bwl::DType::Float32);
  static_cast<float*>(tensor->data())[64 * 1024 * 4 - 1] = 7.0f;
  std::shared_ptr<bwl::HostTensor> last_rows = tensor->rows(63, 64);
  void* storage = tensor->data();
  tensor.reset();
  // The view still owns the buffer: a new tensor of the same size must not get it.
  auto fresh = std::make_shared<bwl::HostTensor>(std::vector<int64_t>{64, 1024, 4}, bwl::DType::Float32);
  EXPECT_NE(fresh->data(), storage);
  EXPECT_EQ(static_cast<float*>(last_rows->data())[1024 * 4 - 1], 7.0f);
}

TEST(HostBuffers, AForkedChildStartsWithItsOwnIdleList) {
  // The child must not wait on a lock another thread of the parent held at the fork: it gets a
  // new, empty list (pthread_atfork), and allocates and recycles as the parent does.
  { std::shared_ptr<void> parked = allocate_host_buffer(bwl::kMinRecycledBytes); }
  ASSERT_GT(idle_host_buffer_bytes(), 0u);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    bool ok = idle_host_buffer_bytes() == 0;
    { std::shared_ptr<void> b = allocate_host_buffer(bwl::kMinRecycledBytes); }
    ok = ok && idle_host_buffer_bytes() == bwl::kMinRecycledBytes;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}
