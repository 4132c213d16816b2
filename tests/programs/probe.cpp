// A tiny tide program whose behaviour the command line picks, for tests of exit codes, flag
// handling and shutdown as a user would see them (run through mpirun by ctest).
//   probe ok | args | throw | exit N | leave-running S (returns while a task of S seconds runs,
//   or while the pool grows for it)

#include <tide/tide.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

int twice(int x) { return 2 * x; }
TIDE_TASK(twice);

int sleepy(double seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return 0;
}
TIDE_TASK(sleepy);

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) -> int {
        const auto& a = d.args();
        const std::string mode = a.size() > 1 ? a[1] : "ok";
        if (mode == "args") {
            std::cout << "args:";
            for (std::size_t i = 1; i < a.size(); ++i) std::cout << " " << a[i];
            std::cout << std::endl;
            return 0;
        }
        if (mode == "leave-running") {
            // Returns at once (the pool may still be growing for it: a spawn in flight).
            auto f = d.submit(sleepy, std::atof(a.at(2).c_str()));
            std::this_thread::sleep_for(std::chrono::milliseconds(200));  // it has started
            std::cout << "probe leaves a task running" << std::endl;
            return 0;
        }
        if (d.submit(twice, 21).get() != 42) return 9;
        if (mode == "throw") throw std::runtime_error("the driver gave up on purpose");
        if (mode == "exit") return std::atoi(a.at(2).c_str());
        std::cout << "probe ok on " << d.workers() << " worker(s)" << std::endl;
        return 0;
    });
}
