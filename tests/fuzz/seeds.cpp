// Writes the fuzz target's seed corpus: one file per decoder, each a real message made with
// the runtime's own encoders (selector byte, then the body). Checks that each one decodes.
//   tide_fuzz_seeds DIR

#include <cstdio>
#include <fstream>
#include <string>

#include "fuzz_decoders.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: tide_fuzz_seeds DIR\n");
        return 2;
    }
    int n = 0;
    for (const auto& [selector, body] : tide::fuzz::seed_messages()) {
        if (!tide::fuzz::decode_one(selector, body)) {
            std::fprintf(stderr, "seed for selector %d does not decode\n", selector);
            return 1;
        }
        std::ofstream out(std::string(argv[1]) + "/seed-" + std::to_string(n++), std::ios::binary);
        out.put(static_cast<char>(selector));
        out.write(reinterpret_cast<const char*>(body.data()),
                  static_cast<std::streamsize>(body.size()));
    }
    std::printf("%d seed messages written to %s\n", n, argv[1]);
    return 0;
}
