#pragma once
// Where a worker is in its life, as rank 0 sees it, and what moves it on. One total function
// gives the phase after each event, so that an event that does not apply (a goodbye from a
// worker already lost, a park of one retiring) changes nothing instead of corrupting the pool.
//
//   starting --spawn_completed--> active <--park / wake--> parked
//   starting --spawn_failed--> never_started --spawn_returned_late--> starting
//   starting, active, parked --retire--> retiring --goodbye--> retired
//   active, parked --goodbye--> ended
//   any phase it has not left --lost--> lost

#include <cstdint>

namespace tide::sched {

enum class worker_phase : std::uint8_t {
    starting,       // its spawn is under way: no link to it yet
    active,         // working or looking for work
    parked,         // idles at a slow poll, sent no work until woken
    retiring,       // told to finish for good; counted until it says goodbye
    ended,          // said goodbye (left on its own, or at the run's end)
    retired,        // said goodbye after it was told to retire
    lost,           // fell silent, or MPI could not reach it: it counts as dead
    never_started,  // its spawn failed, was given up on, or was cut off by the run's end
};

enum class phase_event : std::uint8_t {
    spawn_completed,      // linked: its processes are up
    spawn_failed,         // failed, given up on, or still under way at the run's end
    spawn_returned_late,  // a spawn given up on completed after all (it is retired at once)
    park,
    wake,
    retire,
    goodbye,
    lost,
};

constexpr bool has_left(worker_phase p) {
    return p == worker_phase::ended || p == worker_phase::retired || p == worker_phase::lost ||
           p == worker_phase::never_started;
}

constexpr worker_phase after(worker_phase p, phase_event e) {
    using P = worker_phase;
    switch (e) {
        case phase_event::spawn_completed:
            return p == P::starting ? P::active : p;
        case phase_event::spawn_failed:
            return p == P::starting ? P::never_started : p;
        case phase_event::spawn_returned_late:
            return p == P::never_started ? P::starting : p;
        case phase_event::park:
            return p == P::active ? P::parked : p;
        case phase_event::wake:
            return p == P::parked ? P::active : p;
        case phase_event::retire:
            return p == P::starting || p == P::active || p == P::parked ? P::retiring : p;
        case phase_event::goodbye:
            return p == P::retiring ? P::retired : p == P::active || p == P::parked ? P::ended : p;
        case phase_event::lost:
            return has_left(p) ? p : P::lost;
    }
    return p;
}

}  // namespace tide::sched
