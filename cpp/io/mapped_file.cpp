#include "io/mapped_file.hpp"

#include <signal.h>
#include <sys/mman.h>

#include <mutex>
#include <stdexcept>

namespace bwl::io {
namespace {

thread_local sigjmp_buf* t_armed = nullptr;
struct sigaction g_previous {};  // the SIGBUS handling before ours, written once

void on_sigbus(int signal_number, siginfo_t* info, void* context) {
  if (sigjmp_buf* jump = t_armed) {
    t_armed = nullptr;
    siglongjmp(*jump, 1);  // SA_NODEFER: SIGBUS is not left blocked by the jump
  }
  // Not a guarded read: do what would have been done without this handler.
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) g_previous.sa_sigaction(signal_number, info, context);
    return;
  }
  if (g_previous.sa_handler == SIG_DFL || g_previous.sa_handler == SIG_IGN) {
    // A fault's SIGBUS cannot be ignored (the kernel forces it): the default action, now.
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
    return;
  }
  g_previous.sa_handler(signal_number);
}

void install_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &g_previous);
  });
}

}  // namespace

void fault_guard::arm(sigjmp_buf* jump) {
  if (t_armed != nullptr) throw std::logic_error("a guarded read of a mapped file inside another");
  t_armed = jump;
}

void fault_guard::disarm() { t_armed = nullptr; }

MappedFile::MappedFile(const RandomAccessFile& file) : size_(file.size()) {
  if (size_ == 0) return;
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, file.descriptor(), 0);
  if (p == MAP_FAILED) return;  // e.g. a file system without mmap: pread serves
  install_handler();
  // No madvise: the default read-around serves a FASTA not yet in the page cache as pread's
  // read-ahead did, and MADV_RANDOM measured no smaller footprint (a fault maps the page cache's
  // whole large folio around the page, up to hundreds of KB on ext4).
  data_ = p;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace bwl::io
