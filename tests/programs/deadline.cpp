// Late in a job, a worker that joined the pool when a task could no longer finish before the
// end does not start it, while quick tasks run on it; a worker that was there from the start
// takes it; and once the end has passed, the held task runs after all.
//
//   deadline SLOW_SECONDS leave|until-end   (with --tide-walltime, or in a Slurm job)
//
// 1. Runs slow(S) once, so rank 0 knows that slow takes S seconds.
// 2. Waits until 0.9 S is left: a slow task started now could not finish.
// 3. Submits slow(S) and four quick tasks and watches rank 0's queue: a worker joins and takes
//    the quick tasks (the queue drops to one task), while slow stays queued until the end
//    (until-end), or for a second after that (leave: a batch job is killed at its end):
//    "slow task held back", else "slow task started". The watch does not wait for the quick
//    tasks' results, which a new worker on a loaded machine may send only after the end.
//    Unless it leaves, it then waits for every task.

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
        // What rank 0's queue shows before the end: an observation counts only if the end had
        // not passed when it was made (rank 0 releases the slow task at the end).
        bool quick_taken = false, stayed_queued = true;
        std::chrono::steady_clock::time_point taken_at;
        for (;;) {
            const std::size_t queued = d.load().central_queued;
            const bool ready = held.ready();
            const auto now = std::chrono::steady_clock::now();
            if (d.time_left()->count() <= 0) break;
            if (ready || queued == 0) {
                quick_taken = true;
                stayed_queued = false;
                break;
            }
            if (queued == 1 && !quick_taken) {
                quick_taken = true;
                taken_at = now;
            }
            if (!until_end && quick_taken && now - taken_at >= seconds(1)) break;
            std::this_thread::sleep_for(seconds(0.02));
        }
        std::printf("submitted with %.1f s left; %s; slow task %s; %d worker(s)\n", late,
                    quick_taken ? "quick tasks taken" : "no worker took the quick tasks",
                    !stayed_queued ? "started"
                    : quick_taken  ? "held back"
                                   : "not judged",
                    d.workers());
        std::fflush(stdout);
        if (!until_end && stayed_queued) return 0;
        for (int i = 0; i < 4; ++i)
            if (quicks[static_cast<std::size_t>(i)].get() != i + 1) return 5;
        if (held.get() != s) return 6;
        std::printf("slow task done %.1f s after the end\n", -d.time_left()->count());
        return 0;
    });
}
