// The hwloc side of binding on this very machine: the cores this process may use, a binding
// that holds when read back, and one the OS refuses, reported rather than thrown.

#include <gtest/gtest.h>

#include "platform/binding.hpp"

using tide::detail::machine_binding;

TEST(Binding, BindsToOneCoreAndReadsItBackThenRefusesAMissingOne) {
    machine_binding machine;
    const auto& view = machine.view();
    ASSERT_FALSE(view.cores.empty()) << view.summary;
    EXPECT_NE(view.summary.find("core"), std::string::npos);
    const auto given = tide::sched::from_list(view.given);

    const auto& first = view.cores.front();
    const auto ok = machine.bind(first.pus);
    EXPECT_TRUE(ok.ok) << ok.error;
    EXPECT_EQ(ok.bound, tide::sched::to_list(first.pus));

    // PU 4095 exists on no machine this runs on: the OS refuses, the binding stays as it was.
    const auto refused = machine.bind({4095});
    EXPECT_FALSE(refused.ok);
    EXPECT_NE(refused.error.find("4095"), std::string::npos) << refused.error;
    EXPECT_EQ(refused.bound, tide::sched::to_list(first.pus));

    EXPECT_FALSE(machine.bind({}).ok);
    // Leave the test process where it started, for the tests after this one.
    EXPECT_TRUE(machine.bind(given).ok);
}
