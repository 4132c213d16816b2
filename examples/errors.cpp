// What happens when tasks fail: the error reaches the caller as tide::task_error, with the task's
// name, the rank and host that ran it and the original message; other tasks and the run go on.
//   mpirun -n 3 build/examples/errors

#include <tide/tide.hpp>

#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>

double checked_sqrt(double x) {
    if (x < 0) throw std::domain_error("negative input " + std::to_string(x));
    return std::sqrt(x);
}
TIDE_TASK(checked_sqrt);

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) {
        auto futures = d.submit_all(checked_sqrt, std::vector{4.0, -1.0, 9.0});
        int failed = 0;
        for (auto& f : futures) {
            try {
                const double r = f.get();
                std::cout << "result: " << r << "\n";
            } catch (const tide::task_error& e) {
                ++failed;
                std::cout << "caught: " << e.what() << "\n"
                          << "  task " << e.task_name() << ", rank " << e.rank() << ", host "
                          << e.host() << ", message '" << e.message() << "'\n";
            }
        }

        // A task name no rank knows, and arguments of the wrong type, fail the same way.
        try {
            d.submit_named<double>("no_such_task", 1.0).get();
        } catch (const tide::task_error& e) {
            ++failed;
            std::cout << "caught: " << e.what() << "\n";
        }
        try {
            d.submit_named<double>("checked_sqrt", std::string("four")).get();
        } catch (const tide::task_error& e) {
            ++failed;
            std::cout << "caught: " << e.what() << "\n";
        }
        std::cout << failed << " failures handled; the run carries on\n";
    });
}
