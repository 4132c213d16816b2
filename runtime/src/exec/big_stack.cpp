#include "exec/big_stack.hpp"

#include <pthread.h>

#include <cstring>
#include <exception>

#include "platform/log.hpp"

namespace tide::detail {

namespace {
struct call {
    const std::function<int()>* fn;
    int result = 0;
    std::exception_ptr failure;
};

void* trampoline(void* arg) {
    auto* c = static_cast<call*>(arg);
    try {
        c->result = (*c->fn)();
    } catch (...) {
        c->failure = std::current_exception();
    }
    return nullptr;
}
}  // namespace

int run_with_stack(std::size_t bytes, const std::function<int()>& fn) {
    call c{&fn, 0, nullptr};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_t thread;
    int rc = pthread_attr_setstacksize(&attr, bytes);
    if (rc == 0) rc = pthread_create(&thread, &attr, &trampoline, &c);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        log().warn(
            "cannot start a thread with a {} MiB stack ({}); running tasks on the main "
            "thread's stack",
            bytes >> 20, std::strerror(rc));
        return fn();
    }
    pthread_join(thread, nullptr);
    if (c.failure) std::rethrow_exception(c.failure);
    return c.result;
}

}  // namespace tide::detail
