#include "tree.hpp"

#include <openssl/evp.h>

#include <cmath>
#include <stdexcept>

namespace uts {

namespace {

constexpr int max_children = 100;  // the reference caps every node but a binomial root

// SHA-1 over the concatenation of two byte ranges, with one digest context per thread.
void sha1(const std::uint8_t* a, std::size_t na, const std::uint8_t* b, std::size_t nb,
          std::array<std::uint8_t, 20>& out) {
    struct context {
        EVP_MD* md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        ~context() {
            EVP_MD_CTX_free(ctx);
            EVP_MD_free(md);
        }
    };
    thread_local context c;
    unsigned int len = 0;
    if (!c.md || !c.ctx || !EVP_DigestInit_ex(c.ctx, c.md, nullptr) ||
        !EVP_DigestUpdate(c.ctx, a, na) || (nb > 0 && !EVP_DigestUpdate(c.ctx, b, nb)) ||
        !EVP_DigestFinal_ex(c.ctx, out.data(), &len))
        throw std::runtime_error("uts: SHA-1 from OpenSSL's libcrypto failed");
}

std::array<std::uint8_t, 4> big_endian(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

// The stream's next value: the digest's last four bytes, big-endian, as a non-negative int.
std::int32_t rng_rand(const node& n) {
    const auto& s = n.state;
    const std::uint32_t b = (std::uint32_t{s[16]} << 24) | (std::uint32_t{s[17]} << 16) |
                            (std::uint32_t{s[18]} << 8) | std::uint32_t{s[19]};
    return static_cast<std::int32_t>(b & 0x7fffffffu);
}

double to_probability(std::int32_t r) { return static_cast<double>(r) / 2147483648.0; }

int children_binomial(const node& n, const params& p) {
    return to_probability(rng_rand(n)) < p.nonleaf_prob ? p.nonleaf_bf : 0;
}

int children_geometric(const node& n, const params& p) {
    double b_i = p.b0;
    const int depth = n.height;
    if (depth > 0) {
        const double d = depth, mx = p.gen_mx;
        switch (p.shape) {
            case geo_shape::expdec:
                b_i = p.b0 * std::pow(d, -std::log(p.b0) / std::log(mx));
                break;
            case geo_shape::cyclic:
                b_i = depth > 5 * p.gen_mx
                          ? 0.0
                          : std::pow(p.b0, std::sin(2.0 * 3.141592653589793 * d / mx));
                break;
            case geo_shape::fixed:
                b_i = depth < p.gen_mx ? p.b0 : 0.0;
                break;
            case geo_shape::linear:
                b_i = p.b0 * (1.0 - d / mx);
                break;
        }
    }
    // The geometric distribution with mean b_i, sampled by inverting its CDF.
    const double prob = 1.0 / (1.0 + b_i);
    const double u = to_probability(rng_rand(n));
    return static_cast<int>(std::floor(std::log(1.0 - u) / std::log(1.0 - prob)));
}

template <class T, class Parse>
T flag_value(const std::string& flag, const std::string& value, const char* kind, Parse parse) {
    std::size_t used = 0;
    T v{};
    try {
        v = parse(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != value.size())
        throw std::invalid_argument("uts: " + flag + " wants " + kind + ", got '" + value + "'");
    return v;
}

int flag_int(const std::string& flag, const std::string& value) {
    return flag_value<int>(flag, value, "an integer", [](const std::string& s, std::size_t* used) {
        return std::stoi(s, used);
    });
}

double flag_double(const std::string& flag, const std::string& value) {
    return flag_value<double>(flag, value, "a number", [](const std::string& s, std::size_t* used) {
        return std::stod(s, used);
    });
}

}  // namespace

void counts::add(const counts& other) {
    nodes += other.nodes;
    leaves += other.leaves;
    if (other.depth > depth) depth = other.depth;
}

node root(const params& p) {
    node r;
    std::array<std::uint8_t, 16> zeros{};
    const auto seed = big_endian(static_cast<std::uint32_t>(p.root_id));
    sha1(zeros.data(), zeros.size(), seed.data(), seed.size(), r.state);
    return r;
}

int children_of(const node& n, const params& p) {
    int k = 0;
    switch (p.type) {
        case tree_type::binomial:
            k = n.height == 0 ? static_cast<int>(std::floor(p.b0)) : children_binomial(n, p);
            break;
        case tree_type::geometric:
            k = children_geometric(n, p);
            break;
        case tree_type::hybrid:
            k = n.height < p.shift_depth * p.gen_mx ? children_geometric(n, p)
                                                    : children_binomial(n, p);
            break;
        case tree_type::balanced:
            k = n.height < p.gen_mx ? static_cast<int>(p.b0) : 0;
            break;
    }
    if (n.height == 0 && p.type == tree_type::binomial) {
        const int root_bf = static_cast<int>(std::ceil(p.b0));
        if (k > root_bf) k = root_bf;
    } else if (p.type != tree_type::balanced && k > max_children) {
        k = max_children;
    }
    return k;
}

node child(const node& parent, int index, const params& p) {
    node c;
    c.height = parent.height + 1;
    const auto i = big_endian(static_cast<std::uint32_t>(index));
    for (int g = 0; g < p.granularity; ++g)
        sha1(parent.state.data(), parent.state.size(), i.data(), i.size(), c.state);
    return c;
}

counts count_sequential(const node& n, const params& p) {
    counts c;
    c.nodes = 1;
    c.depth = n.height;
    const int k = children_of(n, p);
    if (k == 0) c.leaves = 1;
    for (int i = 0; i < k; ++i) c.add(count_sequential(child(n, i, p), p));
    return c;
}

params parse(const std::vector<std::string>& args, bool& sequential) {
    params p;
    sequential = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& flag = args[i];
        if (flag == "--sequential") {
            sequential = true;
            continue;
        }
        if (flag.size() != 2 || flag[0] != '-' || i + 1 >= args.size())
            throw std::invalid_argument(
                "uts: unknown or incomplete argument '" + flag +
                "'; flags: -t -a -d -b -r -q -m -f -g -c VALUE, --sequential");
        const std::string& v = args[++i];
        switch (flag[1]) {
            case 't': {
                const int t = flag_int(flag, v);
                if (t < 0 || t > 3)
                    throw std::invalid_argument(
                        "uts: -t is 0 (binomial), 1 (geometric), 2 (hybrid) or 3 (balanced)");
                p.type = static_cast<tree_type>(t);
                break;
            }
            case 'a': {
                const int a = flag_int(flag, v);
                if (a < 0 || a > 3)
                    throw std::invalid_argument(
                        "uts: -a is 0 (linear), 1 (expdec), 2 (cyclic) or 3 (fixed)");
                p.shape = static_cast<geo_shape>(a);
                break;
            }
            case 'd':
                p.gen_mx = flag_int(flag, v);
                break;
            case 'b':
                p.b0 = flag_double(flag, v);
                break;
            case 'r':
                p.root_id = flag_int(flag, v);
                break;
            case 'q':
                p.nonleaf_prob = flag_double(flag, v);
                break;
            case 'm':
                p.nonleaf_bf = flag_int(flag, v);
                break;
            case 'f':
                p.shift_depth = flag_double(flag, v);
                break;
            case 'g':
                p.granularity = flag_int(flag, v);
                break;
            case 'c':
                p.chunk = flag_int(flag, v);
                break;
            default:
                throw std::invalid_argument("uts: unknown flag '" + flag + "'");
        }
    }
    if (p.gen_mx <= 0 || p.b0 < 0 || p.granularity < 1 || p.chunk < 1 || p.nonleaf_bf < 0 ||
        p.nonleaf_prob < 0 || p.nonleaf_prob > 1)
        throw std::invalid_argument(
            "uts: -d, -g and -c must be positive, -b and -m not negative, -q within [0, 1]");
    return p;
}

std::string describe(const params& p) {
    static const char* types[] = {"binomial", "geometric", "hybrid", "balanced"};
    static const char* shapes[] = {"linear", "expdec", "cyclic", "fixed"};
    std::string s = std::string("tree=") + types[static_cast<int>(p.type)];
    s += " b0=" + std::to_string(p.b0) + " root_id=" + std::to_string(p.root_id);
    if (p.type == tree_type::geometric || p.type == tree_type::hybrid)
        s += std::string(" shape=") + shapes[static_cast<int>(p.shape)] +
             " gen_mx=" + std::to_string(p.gen_mx);
    if (p.type == tree_type::binomial || p.type == tree_type::hybrid)
        s += " q=" + std::to_string(p.nonleaf_prob) + " m=" + std::to_string(p.nonleaf_bf);
    s += " granularity=" + std::to_string(p.granularity) + " chunk=" + std::to_string(p.chunk);
    return s;
}

}  // namespace uts
