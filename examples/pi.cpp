// Monte Carlo estimate of pi, split into many independent tasks.
//   mpirun -n 3 build/examples/pi [samples_per_task] [tasks]

#include <tide/tide.hpp>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

// Counts how many of `samples` random points in the unit square fall inside the quarter circle.
// Each task gets its own seed, so the estimate is the same on any number of ranks.
std::uint64_t hits_in_circle(std::uint64_t seed, std::uint64_t samples) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::uint64_t hits = 0;
    for (std::uint64_t i = 0; i < samples; ++i) {
        const double x = unit(rng), y = unit(rng);
        hits += x * x + y * y <= 1.0;
    }
    return hits;
}
TIDE_TASK(hits_in_circle);

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) {
        const auto& args = d.args();
        const std::uint64_t samples = args.size() > 1 ? std::stoull(args[1]) : 200000;
        const std::uint64_t tasks = args.size() > 2 ? std::stoull(args[2]) : 400;

        std::vector<std::tuple<std::uint64_t, std::uint64_t>> work;
        for (std::uint64_t t = 0; t < tasks; ++t) work.emplace_back(1000 + t, samples);
        const auto hits = d.map(hits_in_circle, work);

        std::uint64_t total = 0;
        for (auto h : hits) total += h;
        const double pi = 4.0 * static_cast<double>(total) / static_cast<double>(samples * tasks);
        std::cout << "pi ~= " << pi << " (error " << std::abs(pi - std::numbers::pi) << ") from "
                  << samples * tasks << " samples in " << tasks << " tasks on " << d.workers()
                  << " worker(s)\n";
        return std::abs(pi - std::numbers::pi) < 0.01 ? 0 : 1;
    });
}
