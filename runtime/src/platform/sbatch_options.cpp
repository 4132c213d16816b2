#include "platform/sbatch_options.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <sstream>
#include <stdexcept>

namespace tide::detail {

namespace {

// Whole non-negative numbers separated by `sep`, or none.
std::optional<std::vector<long>> numbers(const std::string& text, char sep) {
    std::vector<long> out;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, sep)) {
        if (part.size() > 9 || !all_digits(part)) return std::nullopt;
        out.push_back(std::stol(part));
    }
    if (out.empty() || text.back() == sep) return std::nullopt;
    return out;
}

}  // namespace

bool all_digits(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::optional<double> parse_slurm_time(const std::string& text) {
    if (text == "UNLIMITED" || text == "INFINITE" || text == "infinite")
        return std::numeric_limits<double>::infinity();
    long days = 0;
    std::string clock_part = text;
    if (const auto dash = text.find('-'); dash != std::string::npos) {
        const auto d = numbers(text.substr(0, dash), ':');
        if (!d || d->size() != 1) return std::nullopt;
        days = d->front();
        clock_part = text.substr(dash + 1);
        const auto hms = numbers(clock_part, ':');
        if (!hms || hms->size() > 3) return std::nullopt;
        // D-HH, D-HH:MM, D-HH:MM:SS
        const long h = (*hms)[0], m = hms->size() > 1 ? (*hms)[1] : 0,
                   s = hms->size() > 2 ? (*hms)[2] : 0;
        return static_cast<double>(((days * 24 + h) * 60 + m) * 60 + s);
    }
    const auto parts = numbers(clock_part, ':');
    if (!parts || parts->size() > 3) return std::nullopt;
    const auto& p = *parts;
    // MM, MM:SS, HH:MM:SS
    if (p.size() == 1) return static_cast<double>(p[0] * 60);
    if (p.size() == 2) return static_cast<double>(p[0] * 60 + p[1]);
    return static_cast<double>((p[0] * 60 + p[1]) * 60 + p[2]);
}

satellite_request parse_satellite_options(const std::string& options) {
    satellite_request r;
    std::istringstream in(options);
    for (std::string w; in >> w;) r.options.push_back(w);
    // The value of an option given as "-X V", "-XV", "--long V" or "--long=V".
    const auto value_of = [&](std::size_t& i, const std::string& shrt,
                              const std::string& lng) -> std::optional<std::string> {
        const std::string& w = r.options[i];
        if (w == shrt || w == lng) {
            if (i + 1 >= r.options.size()) throw std::invalid_argument("'" + w + "' wants a value");
            return r.options[++i];
        }
        if (w.rfind(lng + "=", 0) == 0) return w.substr(lng.size() + 1);
        if (w.size() > shrt.size() && w.rfind(shrt, 0) == 0 && w[1] != '-')
            return w.substr(shrt.size());
        return std::nullopt;
    };
    for (std::size_t i = 0; i < r.options.size(); ++i) {
        if (auto v = value_of(i, "-N", "--nodes")) {
            // "2" or a range "1-3": the most it may get counts against the node limit.
            const std::string most =
                v->substr(v->find('-') == std::string::npos ? 0 : v->find('-') + 1);
            const auto n = numbers(most, ',');
            if (!n || n->size() != 1 || n->front() < 1)
                throw std::invalid_argument("cannot read the node count '" + *v + "'");
            r.nodes = static_cast<std::size_t>(n->front());
        } else if (auto t = value_of(i, "-t", "--time")) {
            const auto seconds = parse_slurm_time(*t);
            if (!seconds || *seconds <= 0)
                throw std::invalid_argument("cannot read the time limit '" + *t +
                                            "' (Slurm's forms: MM, MM:SS, HH:MM:SS, D-HH, "
                                            "D-HH:MM, D-HH:MM:SS)");
            r.time_limit = *seconds;
        }
    }
    return r;
}

std::optional<double> parse_test_only_start(const std::string& text, long long now_epoch) {
    const auto at = text.find(" to start at ");
    if (at == std::string::npos) return std::nullopt;
    std::tm when{};
    const std::string stamp = text.substr(at + 13, 19);
    if (!strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &when)) return std::nullopt;
    when.tm_isdst = -1;
    const auto epoch = static_cast<long long>(std::mktime(&when));
    return std::max(0.0, static_cast<double>(epoch - now_epoch));
}

}  // namespace tide::detail
