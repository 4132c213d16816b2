#!/usr/bin/env bash
# bindings_check.sh MODE WORKERS -- COMMAND...: runs tests/programs/where under COMMAND and checks
# the CPU affinity of its WORKERS worker processes, read by rank 0 from /proc/<pid>/status:
#   distinct      each worker on one core of its own
#   unbound       each worker may run anywhere this script may (nothing bound)
#   within=LIST   each worker within LIST (a binding it was started with)
#   warn-once     exactly one warning that workers share cores
set -uo pipefail
mode=$1 want=$2
shift 3  # MODE WORKERS --
out=$("$@" 2>&1)
code=$?
printf '%s\n' "$out"
fail() { echo "bindings_check.sh: $*" >&2; exit 1; }
[ "$code" -eq 0 ] || fail "exit code $code"
mapfile -t cpus < <(sed -n 's/^worker pid=[0-9]* cpus=//p' <<<"$out")
[ "${#cpus[@]}" -eq "$want" ] || fail "${#cpus[@]} worker processes ran tasks, wanted $want"
expand() {  # "0-2,5" -> "0 1 2 5"
    local part out=()
    IFS=, read -ra parts <<<"$1"
    for part in "${parts[@]}"; do
        if [[ $part == *-* ]]; then out+=($(seq "${part%-*}" "${part#*-}")); else out+=("$part"); fi
    done
    echo "${out[@]}"
}
mine=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
case $mode in
    distinct)
        for c in "${cpus[@]}"; do [[ $c =~ ^[0-9]+$ ]] || fail "a worker is not on one core: $c"; done
        [ "$(printf '%s\n' "${cpus[@]}" | sort -u | wc -l)" -eq "$want" ] || fail "workers share a core: ${cpus[*]}"
        ;;
    unbound)
        for c in "${cpus[@]}"; do [ "$c" = "$mine" ] || fail "a worker is bound to $c (free: $mine)"; done
        ;;
    within=*)
        allowed=" $(expand "${mode#within=}") "
        for c in "${cpus[@]}"; do
            for cpu in $(expand "$c"); do [[ $allowed == *" $cpu "* ]] || fail "a worker runs on $cpu, outside ${mode#within=}"; done
        done
        ;;
    warn-once)
        n=$(grep -c "workers share cores" <<<"$out")
        [ "$n" -eq 1 ] || fail "the sharing warning appeared $n times"
        ;;
    *) fail "unknown mode $mode" ;;
esac
echo "bindings_check.sh: $mode holds for ${cpus[*]}"
