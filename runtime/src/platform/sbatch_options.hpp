#pragma once
// Reading Slurm's words: the sbatch options a satellite is submitted with (what the policy needs
// of them: nodes and time limit), Slurm's time format, and sbatch --test-only's answer.

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace tide::detail {

// Whether `s` is a non-empty run of decimal digits (a job id, a time stamp, a count).
bool all_digits(const std::string& s);

// What the user's sbatch options ask of each satellite, as far as the policy needs it.
struct satellite_request {
    std::vector<std::string> options;  // the words, for sbatch
    std::size_t nodes = 1;             // -N/--nodes (the most, of a range)
    double time_limit = std::numeric_limits<double>::infinity();  // -t/--time, in seconds
};
// Splits and reads --tide-satellite-sbatch. Throws std::invalid_argument with the reason for a
// node count or a time it cannot read.
satellite_request parse_satellite_options(const std::string& options);
// Seconds of a Slurm time ("MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS";
// "UNLIMITED"/"INFINITE" is infinite); none if it does not parse.
std::optional<double> parse_slurm_time(const std::string& text);
// When sbatch --test-only says a job would start ("... to start at 2026-12-05T15:50:00 ..."),
// in seconds from `now_epoch`; none if it does not say.
std::optional<double> parse_test_only_start(const std::string& text, long long now_epoch);

}  // namespace tide::detail
