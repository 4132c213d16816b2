// Open MPI's spawn hang, on demand: preloaded (LD_PRELOAD) into a tide program, this library
// stands in front of PMIx_Init, which MPI_Init calls, and stops the processes that rank 0
// spawned (those with --tide-spawned-base on their command line) there: the state Open MPI 4.1
// with PMIx 4 leaves a spawned child in about once in a few hundred spawns. The parent's
// MPI_Comm_spawn then waits in its connect/accept for good, as it does in the real hang. Every
// other process goes through untouched.
//
//   SPAWN_HANG_AT=before   stop before PMIx_Init (the server has not heard of it)
//   SPAWN_HANG_AT=inside   stop after PMIx_Init has registered it with its Open MPI daemon,
//                          still inside MPI_Init (its exit then counts as a process that
//                          ended without MPI_Finalize)
//   SPAWN_HANG_AT=MODE:S   go on after S seconds instead (a spawn that returns late)
//   SPAWN_HANG_ALL=1       every process stops, not only spawned ones (a start-up that hangs)
//   SPAWN_HANG_ONCE=DIR    only the first process spawned under each launcher (each mpirun, or
//                          a singleton's own daemon) stops; a file in DIR, named after the
//                          launcher's job family, marks that it has

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace {

bool spawned_by_tide() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    return cmdline.find("--tide-spawned-base") != std::string::npos;
}

// With SPAWN_HANG_ONCE: whether this is the first spawned process of its launcher. Open MPI
// numbers jobs by launcher (the family, the upper 16 bits of the job id) and job within it.
bool first_of_its_launcher(const char* dir) {
    const char* job = std::getenv("OMPI_MCA_ess_base_jobid");
    if (!job) return false;
    const std::string marker =
        std::string(dir) + "/family-" + std::to_string(std::strtoul(job, nullptr, 10) >> 16);
    const int fd = open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return false;
    close(fd);
    return true;
}

// Stops here if told to at `point` ("before" or "inside"): for ever, or for the seconds given.
void hang_if_told(const char* point) {
    const char* setting = std::getenv("SPAWN_HANG_AT");
    if (!setting || (!std::getenv("SPAWN_HANG_ALL") && !spawned_by_tide())) return;
    const std::string s(setting);
    const auto colon = s.find(':');
    if (s.substr(0, colon) != point) return;
    if (const char* once = std::getenv("SPAWN_HANG_ONCE"); once && !first_of_its_launcher(once))
        return;
    std::fprintf(stderr, "spawn_hang: pid %d stops %s PMIx_Init\n", static_cast<int>(getpid()),
                 point);
    if (colon == std::string::npos)
        for (;;) pause();
    std::this_thread::sleep_for(std::chrono::duration<double>(std::atof(s.c_str() + colon + 1)));
}

}  // namespace

extern "C" int PMIx_Init(void* proc, void* info, std::size_t ninfo) {
    using init_fn = int (*)(void*, void*, std::size_t);
    static const auto real = reinterpret_cast<init_fn>(dlsym(RTLD_NEXT, "PMIx_Init"));
    hang_if_told("before");
    const int rc = real(proc, info, ninfo);
    hang_if_told("inside");
    return rc;
}
