// A parameter sweep over a user struct: each task simulates a damped oscillator for one set of
// parameters and returns a summary; the driver gathers the results in submission order.
//   mpirun -n 3 build/examples/sweep

#include <tide/tide.hpp>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <vector>

struct oscillator {
    double stiffness = 1.0;
    double damping = 0.1;
    int steps = 10000;

    template <class Archive>
    void serialize(Archive& ar) {
        ar(stiffness, damping, steps);
    }
};

struct summary {
    oscillator params;
    double final_energy = 0;
    int zero_crossings = 0;

    template <class Archive>
    void serialize(Archive& ar) {
        ar(params, final_energy, zero_crossings);
    }
};

summary simulate(const oscillator& p) {
    const double dt = 1e-3;
    double x = 1.0, v = 0.0;
    summary s{p};
    for (int i = 0; i < p.steps; ++i) {
        const double a = -p.stiffness * x - p.damping * v;
        v += a * dt;  // semi-implicit Euler: stable for this problem
        const double next = x + v * dt;
        if ((x > 0) != (next > 0)) ++s.zero_crossings;
        x = next;
    }
    s.final_energy = 0.5 * v * v + 0.5 * p.stiffness * x * x;
    return s;
}
TIDE_TASK(simulate);

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) {
        std::vector<oscillator> grid;
        for (double k : {0.5, 1.0, 2.0, 4.0})
            for (double c : {0.0, 0.1, 0.5}) grid.push_back({k, c, 20000});

        auto futures = d.submit_all(simulate, grid);
        std::cout << std::fixed << std::setprecision(4) << "stiffness damping  energy  crossings\n";
        for (auto& f : futures) {
            const summary s = f.get();
            std::cout << std::setw(9) << s.params.stiffness << std::setw(8) << s.params.damping
                      << std::setw(8) << s.final_energy << std::setw(11) << s.zero_crossings
                      << "\n";
        }
        std::cout << grid.size() << " parameter sets on " << d.workers() << " worker(s)\n";
    });
}
