#include "thread.h"

#include <sched.h>

#include <cerrno>
#include <exception>
#include <memory>
#include <system_error>

namespace pptool {

struct Thread::Start {
  std::unique_ptr<Task> task;
  cpu_set_t allowed;  // the starter's CPUs, given back to the new thread once it runs
  bool narrowed = false;
};

void* Thread::entry(void* arg) noexcept {
  std::unique_ptr<Start> s(static_cast<Start*>(arg));
  if (s->narrowed) (void)::pthread_setaffinity_np(::pthread_self(), sizeof s->allowed, &s->allowed);
  s->task->run();
  return nullptr;
}

void Thread::start(std::unique_ptr<Task> task) {
  auto s = std::make_unique<Start>();
  s->task = std::move(task);
  pthread_attr_t attr;
  if (int e = ::pthread_attr_init(&attr); e != 0)
    throw std::system_error(e, std::generic_category(), "pthread_attr_init");
  int here = ::sched_getcpu();
  if (here >= 0 && ::pthread_getaffinity_np(::pthread_self(), sizeof s->allowed, &s->allowed) == 0) {
    cpu_set_t elsewhere = s->allowed;
    CPU_CLR(here, &elsewhere);
    if (CPU_COUNT(&elsewhere) > 0 && ::pthread_attr_setaffinity_np(&attr, sizeof elsewhere, &elsewhere) == 0)
      s->narrowed = true;
  }
  int e = ::pthread_create(&id_, &attr, entry, s.get());
  ::pthread_attr_destroy(&attr);
  if (e != 0) throw std::system_error(e, std::generic_category(), "pthread_create");
  s.release();  // entry() owns it now
  running_ = true;
}

Thread& Thread::operator=(Thread&& o) noexcept {
  if (running_) std::terminate();
  id_ = o.id_;
  running_ = o.running_;
  o.running_ = false;
  return *this;
}

Thread::~Thread() {
  if (running_) std::terminate();
}

void Thread::join() {
  if (!running_) throw std::system_error(EINVAL, std::generic_category(), "join of a thread not running");
  if (int e = ::pthread_join(id_, nullptr); e != 0) throw std::system_error(e, std::generic_category(), "pthread_join");
  running_ = false;
}

void Thread::detach() {
  if (!running_) throw std::system_error(EINVAL, std::generic_category(), "detach of a thread not running");
  if (int e = ::pthread_detach(id_); e != 0) throw std::system_error(e, std::generic_category(), "pthread_detach");
  running_ = false;
}

}  // namespace pptool
