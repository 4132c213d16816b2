// Late in a job, a task expected to outlast the time left is not started on a worker that rank
// 0 brought into the pool (spawned or woken), while tasks that fit still run; a worker that
// was there from the start takes it anyway.
//
//   deadline SLOW_SECONDS   (with --tide-walltime, or inside a Slurm job with a time limit)
//
// 1. Runs slow(S) once, so rank 0 knows that slow takes S seconds.
// 2. Waits until less than 3/4 S is left: a new slow task could not finish.
// 3. Submits slow(S) and four quick tasks, waits for the quick ones, then watches rank 0's
//    queue for a second: "slow task held back" if slow stayed queued all along, else "slow
//    task started" (and it waits for its result).

#include <tide/tide.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

double slow(double seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return seconds;
}
TIDE_TASK(slow);

int quick(int x) { return x + 1; }
TIDE_TASK(quick);

using seconds = std::chrono::duration<double>;

}  // namespace

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) {
        if (d.args().size() != 2) {
            std::fprintf(stderr, "usage: deadline SLOW_SECONDS\n");
            return 2;
        }
        const double s = std::atof(d.args()[1].c_str());
        const auto left = d.time_left();
        if (!left) {
            std::fprintf(stderr, "deadline: no time limit is known (--tide-walltime, Slurm)\n");
            return 3;
        }
        std::printf("time left at the start: %.1f s\n", left->count());
        std::fflush(stdout);
        if (d.submit(slow, s).get() != s) return 4;
        while (d.time_left()->count() > 0.75 * s) std::this_thread::sleep_for(seconds(0.05));

        const double late = d.time_left()->count();
        auto held = d.submit(slow, s);
        std::vector<tide::future<int>> quicks;
        for (int i = 0; i < 4; ++i) quicks.push_back(d.submit(quick, i));
        for (int i = 0; i < 4; ++i)
            if (quicks[static_cast<std::size_t>(i)].get() != i + 1) return 5;
        bool stayed_queued = true;
        for (auto until = std::chrono::steady_clock::now() + seconds(1);
             std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(seconds(0.05)))
            stayed_queued = stayed_queued && d.load().central_queued == 1 && !held.ready();
        std::printf("submitted with %.1f s left; quick tasks done; slow task %s; %d worker(s)\n",
                    late, stayed_queued ? "held back" : "started", d.workers());
        if (!stayed_queued && held.get() != s) return 6;
        return 0;
    });
}
