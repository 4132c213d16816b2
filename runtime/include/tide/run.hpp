#pragma once
// tide::run: the one call in main(). Rank 0 runs the driver function; every other rank serves
// tasks until the driver is done. Returns the process's exit code.
//
//   int main(int argc, char** argv) {
//       return tide::run(argc, argv, [](tide::driver& d) {
//           std::cout << d.submit(square, 7).get() << "\n";
//       });
//   }

#include <functional>
#include <type_traits>
#include <utility>

#include "tide/driver.hpp"

namespace tide {

namespace detail {
int run_main(int& argc, char** argv, const std::function<int(driver&)>& body);
}

// `body` takes a tide::driver& and returns void or int (the exit code of rank 0). --tide-* flags
// are removed from argc/argv before `body` sees them. Exit codes: the driver's (0 by default),
// 1 if it threw, 2 for a bad --tide-* flag or TIDE_* variable.
template <class F>
int run(int& argc, char** argv, F&& body) {
    return detail::run_main(argc, argv, [&body](driver& d) -> int {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, driver&>>) {
            body(d);
            return 0;
        } else {
            return static_cast<int>(body(d));
        }
    });
}

}  // namespace tide
