// Late in a job, a worker that joined the pool when a task could no longer finish before the
// end does not start it, while quick tasks run on it; a worker that was there from the start
// takes it; and once the end has passed, the held task runs after all.
//
//   deadline SLOW_SECONDS leave|until-end   (with --tide-walltime, or in a Slurm job)
//
// 1. Runs slow(S) once, so rank 0 knows that slow takes S seconds.
// 2. Waits until 0.9 S is left: a slow task started now could not finish.
// 3. Submits slow(S) and four quick tasks, waits for the quick ones, then watches rank 0's
//    queue for a second (leave: a batch job is killed at its end) or until the end
//    (until-end): "slow task held back" if slow stayed queued all along, else "slow task
//    started". Unless it leaves, it then waits for the slow task.

#include <tide/tide.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
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
        const auto& a = d.args();
        if (a.size() != 3 || (a[2] != "leave" && a[2] != "until-end")) {
            std::fprintf(stderr, "usage: deadline SLOW_SECONDS leave|until-end\n");
            return 2;
        }
        const double s = std::atof(a[1].c_str());
        const bool until_end = a[2] == "until-end";
        const auto left = d.time_left();
        if (!left) {
            std::fprintf(stderr, "deadline: no time limit is known (--tide-walltime, Slurm)\n");
            return 3;
        }
        std::printf("time left at the start: %.1f s\n", left->count());
        std::fflush(stdout);
        if (d.submit(slow, s).get() != s) return 4;
        while (d.time_left()->count() > 0.9 * s) std::this_thread::sleep_for(seconds(0.02));

        const double late = d.time_left()->count();
        auto held = d.submit(slow, s);
        std::vector<tide::future<int>> quicks;
        for (int i = 0; i < 4; ++i) quicks.push_back(d.submit(quick, i));
        for (int i = 0; i < 4; ++i)
            if (quicks[static_cast<std::size_t>(i)].get() != i + 1) return 5;
        // At least one look: the quick tasks may have come back only after the end.
        bool stayed_queued = true;
        const auto watch_from = std::chrono::steady_clock::now();
        do {
            stayed_queued = d.load().central_queued == 1 && !held.ready();
            std::this_thread::sleep_for(seconds(0.02));
        } while (stayed_queued &&
                 (until_end ? d.time_left()->count() > 0
                            : std::chrono::steady_clock::now() - watch_from < seconds(1)));
        std::printf("submitted with %.1f s left; quick tasks done; slow task %s; %d worker(s)\n",
                    late, stayed_queued ? "held back" : "started", d.workers());
        std::fflush(stdout);
        if (!until_end && stayed_queued) return 0;
        if (held.get() != s) return 6;
        std::printf("slow task done %.1f s after the end\n", -d.time_left()->count());
        return 0;
    });
}
