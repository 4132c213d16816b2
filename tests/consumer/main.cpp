#include <tide/tide.hpp>

#include <iostream>

long triangle(long n) { return n * (n + 1) / 2; }
TIDE_TASK(triangle);

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) {
        long total = 0;
        for (long t : d.map(triangle, std::vector<long>{1, 2, 3, 4})) total += t;
        std::cout << "consumer total " << total << std::endl;  // 1 + 3 + 6 + 10
    });
}
