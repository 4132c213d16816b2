// Naive recursive Fibonacci with one task per call above a cutoff: the smallest program that
// shows nested tasks (tasks submitting tasks and waiting for them) and work stealing.
//   mpirun -n 3 build/examples/fib 32 [cutoff] [--sequential]

#include <tide/tide.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

std::uint64_t fib_serial(int n) {
    return n < 2 ? static_cast<std::uint64_t>(n) : fib_serial(n - 1) + fib_serial(n - 2);
}

// Below the cutoff a call is too small to be worth a task: plain recursion.
std::uint64_t fib(int n, int cutoff) {
    if (n < 2 || n <= cutoff) return fib_serial(n);
    auto a = tide::submit(fib, n - 1, cutoff);
    auto b = tide::submit(fib, n - 2, cutoff);
    return a.get() + b.get();
}
TIDE_TASK(fib);

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) {
        const auto& args = d.args();
        int n = 30, cutoff = 15;
        bool sequential = false;
        std::size_t positional = 0;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--sequential") {
                sequential = true;
            } else if (positional++ == 0) {
                n = std::stoi(args[i]);
            } else {
                cutoff = std::stoi(args[i]);
            }
        }
        const auto start = std::chrono::steady_clock::now();
        const std::uint64_t value = sequential ? fib_serial(n) : d.submit(fib, n, cutoff).get();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cout << "fib(" << n << ") = " << value << "\n";
        std::cout << "time_s=" << seconds << " workers=" << d.workers() << " "
                  << tide::to_string(d.load().stealing) << "\n";
        return 0;
    });
}
