#include "tide/scheduler/worker_phase.hpp"

#include <gtest/gtest.h>

using namespace tide::sched;
using P = worker_phase;
using E = phase_event;

TEST(WorkerPhase, ASpawnedWorkerJoinsParksWakesRetiresAndIsRetired) {
    P p = P::starting;
    p = after(p, E::spawn_completed);
    EXPECT_EQ(p, P::active);
    p = after(p, E::park);
    EXPECT_EQ(p, P::parked);
    p = after(p, E::wake);
    EXPECT_EQ(p, P::active);
    p = after(after(p, E::park), E::retire);
    EXPECT_EQ(p, P::retiring);
    EXPECT_FALSE(has_left(p));  // counted until its goodbye
    p = after(p, E::goodbye);
    EXPECT_EQ(p, P::retired);
    EXPECT_TRUE(has_left(p));
}

TEST(WorkerPhase, AGoodbyeNotAskedForEndsTheWorker) {
    EXPECT_EQ(after(P::active, E::goodbye), P::ended);
    EXPECT_EQ(after(P::parked, E::goodbye), P::ended);
}

TEST(WorkerPhase, AFailedSpawnNeverStartsAndMayStillReturnLate) {
    const P failed = after(P::starting, E::spawn_failed);
    EXPECT_EQ(failed, P::never_started);
    EXPECT_TRUE(has_left(failed));
    const P back = after(failed, E::spawn_returned_late);
    EXPECT_EQ(back, P::starting);
    EXPECT_EQ(after(back, E::retire), P::retiring);  // linked only to be let go
}

TEST(WorkerPhase, AnyWorkerStillThereCanBeLostAndALostOneStaysLost) {
    for (P p : {P::starting, P::active, P::parked, P::retiring})
        EXPECT_EQ(after(p, E::lost), P::lost);
    for (E e : {E::spawn_completed, E::spawn_failed, E::spawn_returned_late, E::park, E::wake,
                E::retire, E::goodbye, E::lost})
        EXPECT_EQ(after(P::lost, e), P::lost);
}

TEST(WorkerPhase, EventsThatDoNotApplyChangeNothing) {
    EXPECT_EQ(after(P::retiring, E::park), P::retiring);  // a retiring worker is not parked
    EXPECT_EQ(after(P::retiring, E::wake), P::retiring);  // nor woken
    EXPECT_EQ(after(P::active, E::wake), P::active);
    EXPECT_EQ(after(P::parked, E::park), P::parked);
    EXPECT_EQ(after(P::starting, E::goodbye), P::starting);  // no link yet: nothing to hear
    EXPECT_EQ(after(P::ended, E::retire), P::ended);
    EXPECT_EQ(after(P::retired, E::lost), P::retired);  // gone for good already
    EXPECT_EQ(after(P::active, E::spawn_completed), P::active);
}
