// A thread that starts on a CPU other than its starter's.
#pragma once

#include <pthread.h>

#include <memory>
#include <type_traits>
#include <utility>

namespace pptool {

// Like std::thread, but the new thread begins on another CPU than the one that starts it
// (when the process may use another), then may run on any CPU the starter could.
//
// Why: on the two-vCPU machines we measure on (Linux 6.18), a std::thread started by a
// busy thread waits 1-3 ms before it first runs: it is queued behind its starter, and the
// idle vCPU does not take it over sooner. Started on the other CPU it runs within about
// 60 us. A parallel export takes 14 ms in all, so that wait was a tenth of it.
class Thread {
 public:
  Thread() = default;
  // Runs fn() on the new thread (fn may be move-only). Throws std::system_error when no
  // thread can be made, as std::thread does.
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Thread>)
  explicit Thread(F fn) {
    start(std::make_unique<Body<F>>(std::move(fn)));
  }
  Thread(Thread&& o) noexcept : id_(o.id_), running_(o.running_) { o.running_ = false; }
  Thread& operator=(Thread&& o) noexcept;
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  // A thread neither joined nor detached ends the process, as with std::thread.
  ~Thread();

  bool joinable() const noexcept { return running_; }
  void join();
  void detach();

 private:
  struct Task {
    virtual ~Task() = default;
    virtual void run() = 0;
  };
  template <class F>
  struct Body final : Task {
    explicit Body(F f) : fn(std::move(f)) {}
    void run() override { fn(); }
    F fn;
  };
  struct Start;  // what the new thread is handed
  void start(std::unique_ptr<Task> task);
  static void* entry(void* arg) noexcept;  // an exception out of the task ends the process, as with std::thread

  pthread_t id_{};
  bool running_ = false;
};

}  // namespace pptool
