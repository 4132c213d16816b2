// The registry and the executor: a task runs from its wire form exactly as on a worker, and
// every kind of bad input becomes a status with a readable message.

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "exec/executor.hpp"
#include "tide/tide.hpp"

namespace {

struct point {
    double x = 0, y = 0;
    std::string label;
    template <class A>
    void serialize(A& ar) {
        ar(x, y, label);
    }
    bool operator==(const point&) const = default;
};

int add(int a, int b) { return a + b; }
TIDE_TASK(add);

point mirror(const point& p) { return {p.y, p.x, p.label + "'"}; }
TIDE_TASK_NAMED(mirror, "geometry::mirror");

std::map<std::string, int> count_words(const std::vector<std::string>& words) {
    std::map<std::string, int> counts;
    for (const auto& w : words) ++counts[w];
    return counts;
}
TIDE_TASK(count_words);

int always_throws(int) { throw std::invalid_argument("bad input"); }
TIDE_TASK(always_throws);

int throws_int(int) { throw 42; }
TIDE_TASK(throws_int);

void no_result(int) {}
TIDE_TASK(no_result);

// Overloads: each registered under its own name by naming the one meant.
int scale(int x) { return 2 * x; }
double scale(double x) { return 0.5 * x; }
TIDE_TASK_NAMED(static_cast<int (*)(int)>(scale), "scale_int");
TIDE_TASK_NAMED(static_cast<double (*)(double)>(scale), "scale_double");

using tide::detail::bytes;
using tide::sched::outcome;

template <class R, class... P, class... A>
outcome run_task(R (*fn)(P...), bytes& out, A&&... args) {
    const auto* e = tide::detail::registry::instance().by_function(
        reinterpret_cast<tide::detail::erased_fn>(fn));
    EXPECT_NE(e, nullptr);
    bytes in;
    tide::detail::append_values(in, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...));
    return tide::detail::execute(e->name_hash, e->sig->hash, in, out);
}

std::string text(const bytes& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

}  // namespace

TEST(Registry, LooksUpByNameHashAndFunction) {
    auto& r = tide::detail::registry::instance();
    const auto* by_name = r.by_name("add");
    ASSERT_NE(by_name, nullptr);
    EXPECT_EQ(by_name, r.by_hash(tide::detail::fnv1a("add")));
    EXPECT_EQ(by_name, r.by_function(reinterpret_cast<tide::detail::erased_fn>(&add)));
    EXPECT_EQ(by_name->sig->text, "int(int, int)");
    ASSERT_NE(r.by_name("geometry::mirror"), nullptr);
    EXPECT_EQ(r.by_name("mirror"), nullptr);
    EXPECT_EQ(r.by_name("nothing"), nullptr);
}

TEST(Registry, OverloadsRegisterUnderTheirOwnNames) {
    auto& r = tide::detail::registry::instance();
    ASSERT_NE(r.by_name("scale_int"), nullptr);
    ASSERT_NE(r.by_name("scale_double"), nullptr);
    EXPECT_EQ(r.by_name("scale_int")->sig->text, "int(int)");
    EXPECT_EQ(r.by_name("scale_double")->sig->text, "double(double)");
    bytes out;
    ASSERT_EQ(run_task(static_cast<double (*)(double)>(scale), out, 3.0), outcome::ok);
    EXPECT_EQ(tide::detail::read_value<double>(out), 1.5);
}

TEST(Registry, SameFunctionTwiceIsFineAnotherUnderSameNameIsNot) {
    auto& r = tide::detail::registry::instance();
    EXPECT_EQ(&tide::detail::register_task("add", &add), r.by_name("add"));
    EXPECT_THROW(tide::detail::register_task("add", &always_throws), tide::error);
}

TEST(Executor, RunsTasksOfAllShapes) {
    bytes out;
    ASSERT_EQ(run_task(add, out, 2, 40), outcome::ok);
    EXPECT_EQ(tide::detail::read_value<int>(out), 42);

    out.clear();
    const point p{1.5, -2, "p"};
    ASSERT_EQ(run_task(mirror, out, p), outcome::ok);
    EXPECT_EQ(tide::detail::read_value<point>(out), (point{-2, 1.5, "p'"}));

    out.clear();
    ASSERT_EQ(run_task(count_words, out, std::vector<std::string>{"a", "b", "a"}), outcome::ok);
    const auto counts = tide::detail::read_value<std::map<std::string, int>>(out);
    EXPECT_EQ(counts.at("a"), 2);
    EXPECT_EQ(counts.at("b"), 1);

    out.clear();
    ASSERT_EQ(run_task(no_result, out, 1), outcome::ok);
    EXPECT_TRUE(out.empty());
}

TEST(Executor, ExceptionsBecomeErrorsWithTheirMessage) {
    bytes out;
    EXPECT_EQ(run_task(always_throws, out, 1), outcome::threw);
    EXPECT_EQ(text(out), "bad input");
    out.clear();
    EXPECT_EQ(run_task(throws_int, out, 1), outcome::threw);
    EXPECT_NE(text(out).find("not derived from std::exception"), std::string::npos);
}

TEST(Executor, UnknownNameIsReported) {
    bytes out;
    EXPECT_EQ(tide::detail::execute(12345, 0, {}, out), outcome::unknown_task);
    EXPECT_FALSE(out.empty());
}

TEST(Executor, SignatureMismatchIsReported) {
    const auto* e = tide::detail::registry::instance().by_name("add");
    bytes in, out;
    tide::detail::append_values(in, std::tuple<std::string>("x"));
    EXPECT_EQ(tide::detail::execute(e->name_hash, e->sig->hash + 1, in, out),
              outcome::bad_arguments);
    EXPECT_NE(text(out).find("int(int, int)"), std::string::npos);
}

TEST(Executor, MalformedArgumentsAreReportedNotTrusted) {
    const auto* e = tide::detail::registry::instance().by_name("count_words");
    bytes good;
    tide::detail::append_values(good,
                                std::tuple<std::vector<std::string>>({"alpha", "beta", "gamma"}));
    // Every truncation, and trailing garbage, is bad_arguments — never a crash or a wrong result.
    for (std::size_t n = 0; n < good.size(); ++n) {
        bytes out;
        EXPECT_EQ(tide::detail::execute(e->name_hash, e->sig->hash, std::span(good).first(n), out),
                  outcome::bad_arguments)
            << n;
    }
    bytes longer = good;
    longer.push_back(std::byte{7});
    bytes out;
    EXPECT_EQ(tide::detail::execute(e->name_hash, e->sig->hash, longer, out),
              outcome::bad_arguments);
    // A vector length field claiming 2^60 elements.
    bytes lying;
    tide::detail::append_values(lying, std::uint64_t{1} << 60);
    out.clear();
    EXPECT_EQ(tide::detail::execute(e->name_hash, e->sig->hash, lying, out),
              outcome::bad_arguments);
}
