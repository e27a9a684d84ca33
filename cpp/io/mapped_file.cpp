#include "io/mapped_file.hpp"

#include <signal.h>
#include <sys/mman.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

namespace bwl::io {
namespace {

// This thread's guarded read: where to jump back to and the mapping it reads. The handler reads
// them only for a kernel-raised fault while g_armed says some thread is in a guarded read; the
// faulting thread is then almost always that one, whose TLS block exists (it armed), so the read
// allocates nothing. (The exception: an unrelated fault on a thread that never armed, at that
// moment; that process is ending with the fault anyway.)
thread_local sigjmp_buf* t_jump = nullptr;
thread_local const char* t_begin = nullptr;
thread_local const char* t_end = nullptr;
std::atomic<int> g_armed{0};  // threads inside a guarded read

struct sigaction g_previous {};  // the SIGBUS handling ours replaced, for what is not ours
bool g_installed = false;        // under g_install_mutex
std::mutex g_install_mutex;
thread_local bool t_chaining = false;  // this thread is inside g_previous, called from ours

void default_action(int signal_number) {
  // The default action (a fault's SIGBUS cannot be ignored: the kernel forces it), now.
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void on_sigbus(int signal_number, siginfo_t* info, void* context) {
  // Ours: a fault (si_code > 0: raised by the kernel, not sent) at an address of the mapping this
  // thread is reading under a guard.
  if (info != nullptr && info->si_code > 0 && g_armed.load(std::memory_order_relaxed) > 0) {
    const char* address = static_cast<const char*>(info->si_addr);
    if (sigjmp_buf* jump = t_jump; jump != nullptr && address >= t_begin && address < t_end) {
      t_jump = nullptr;
      g_armed.fetch_sub(1, std::memory_order_relaxed);
      siglongjmp(*jump, 1);  // SA_NODEFER: SIGBUS is not left blocked by the jump
    }
  }
  // Not ours: what would have happened without this handler. A previous handler that calls back
  // into ours (it chained to ours, and was then put behind it by reclaim_handler) is a loop:
  // the default action ends it.
  if (t_chaining) {
    default_action(signal_number);
    return;
  }
  t_chaining = true;
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) g_previous.sa_sigaction(signal_number, info, context);
  } else if (g_previous.sa_handler == SIG_IGN && (info == nullptr || info->si_code <= 0)) {
    // a sent one, ignored
  } else if (g_previous.sa_handler == SIG_DFL || g_previous.sa_handler == SIG_IGN) {
    default_action(signal_number);
  } else {
    g_previous.sa_handler(signal_number);
  }
  t_chaining = false;
}

// Puts on_sigbus in front, keeping what was there as g_previous. Under g_install_mutex.
void install_locked() {
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  struct sigaction displaced {};
  ::sigaction(SIGBUS, nullptr, &displaced);
  g_previous = displaced;  // before ours is live, so that ours never chains to a stale one
  ::sigaction(SIGBUS, &action, nullptr);
  g_installed = true;
}

void install_handler() {
  std::lock_guard<std::mutex> lock(g_install_mutex);
  if (!g_installed) install_locked();
}

}  // namespace

bool fault_guard::reclaim_handler() {
  std::lock_guard<std::mutex> lock(g_install_mutex);
  if (!g_installed) return false;
  struct sigaction current {};
  ::sigaction(SIGBUS, nullptr, &current);
  if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_sigbus) return false;
  install_locked();
  return true;
}

void fault_guard::arm(sigjmp_buf* jump, const void* begin, uint64_t size) {
  if (t_jump != nullptr) throw std::logic_error("a guarded read of a mapped file inside another");
  t_begin = static_cast<const char*>(begin);
  t_end = t_begin + size;
  t_jump = jump;
  g_armed.fetch_add(1, std::memory_order_relaxed);
}

void fault_guard::disarm() {
  t_jump = nullptr;
  g_armed.fetch_sub(1, std::memory_order_relaxed);
}

MappedFile::MappedFile(const RandomAccessFile& file, Access access) : size_(file.size()) {
  if (size_ == 0) return;
  // The mapping keeps the file itself: the descriptor is needed only while mapping.
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, RandomAccessFile::Lease(file).fd(), 0);
  if (p == MAP_FAILED) return;  // e.g. a file system without mmap: pread serves
  install_handler();
  // Sequential: no madvise. The default read-around serves a FASTA not yet in the page cache as
  // pread's read-ahead did, and MADV_RANDOM measured no smaller footprint for it (a fault maps
  // the page cache's whole large folio around the page, up to hundreds of KB on ext4). Random:
  // 16 bigWigs not in the page cache, 320 scattered 1 kb windows: 38 MB read from disk against
  // 129-171 MB with the default and 55-65 MB by pread; in the page cache, no difference.
  if (access == Access::Random) ::madvise(p, size_, MADV_RANDOM);  // advice: its failure changes nothing
  data_ = p;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace bwl::io
