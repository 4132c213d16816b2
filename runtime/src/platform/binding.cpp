#include "platform/binding.hpp"

#include <hwloc.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tide/error.hpp"

namespace tide::detail {

namespace {

// A bitmap that frees itself.
struct bitmap {
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    ~bitmap() { hwloc_bitmap_free(b); }
    bitmap() = default;
    bitmap(const bitmap&) = delete;
    bitmap& operator=(const bitmap&) = delete;
};

std::string list_of(hwloc_const_bitmap_t set) {
    char* text = nullptr;
    if (hwloc_bitmap_list_asprintf(&text, set) < 0 || !text) return "?";
    std::string out(text);
    std::free(text);
    return out;
}

std::vector<int> ids_of(hwloc_const_bitmap_t set) {
    std::vector<int> ids;
    for (int id = hwloc_bitmap_first(set); id >= 0; id = hwloc_bitmap_next(set, id))
        ids.push_back(id);
    return ids;
}

int index_or_logical(hwloc_obj_t obj) {
    if (!obj) return 0;
    return obj->os_index != HWLOC_UNKNOWN_INDEX ? static_cast<int>(obj->os_index)
                                                : static_cast<int>(obj->logical_index);
}

std::string plural(int n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

struct machine_binding::impl {
    hwloc_topology_t topology = nullptr;
};

machine_binding::machine_binding() : impl_(std::make_unique<impl>()) {
    hwloc_topology_t& topo = impl_->topology;
    if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0) {
        if (topo) hwloc_topology_destroy(topo);
        topo = nullptr;
        throw error("tide: hwloc could not load this machine's topology: " +
                    std::string(std::strerror(errno)));
    }
    // What this process was given: the binding it started with, within what the OS allows.
    bitmap given;
    if (hwloc_get_cpubind(topo, given.b, HWLOC_CPUBIND_PROCESS) != 0)
        hwloc_bitmap_copy(given.b, hwloc_topology_get_allowed_cpuset(topo));
    hwloc_bitmap_and(given.b, given.b, hwloc_topology_get_allowed_cpuset(topo));
    view_.given = list_of(given.b);

    const int numa_count = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    const int core_count = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    int packages = 0, pus = 0;
    std::vector<int> numas_used;
    for (int i = 0; i < core_count; ++i) {
        hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(i));
        bitmap usable;
        hwloc_bitmap_and(usable.b, core->cpuset, given.b);
        if (hwloc_bitmap_iszero(usable.b)) continue;
        sched::core_info c;
        // The first PU of the whole core names it: unique on the host, whatever each
        // process was given.
        c.index = hwloc_bitmap_first(core->cpuset);
        c.pus = ids_of(usable.b);
        c.package = index_or_logical(hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, core));
        for (int n = 0; n < numa_count; ++n) {
            hwloc_obj_t node =
                hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(n));
            if (node->cpuset && hwloc_bitmap_intersects(node->cpuset, core->cpuset)) {
                c.numa = index_or_logical(node);
                break;
            }
        }
        if (std::find(numas_used.begin(), numas_used.end(), c.numa) == numas_used.end())
            numas_used.push_back(c.numa);
        pus += static_cast<int>(c.pus.size());
        view_.cores.push_back(std::move(c));
    }
    packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    view_.summary = plural(std::max(packages, 1), "package") + ", " +
                    plural(std::max(numa_count, 1), "NUMA node") + ", " +
                    plural(core_count, "core") + "; given " +
                    plural(static_cast<int>(view_.cores.size()), "core") + ", " + plural(pus, "PU");
}

machine_binding::~machine_binding() {
    if (impl_->topology) hwloc_topology_destroy(impl_->topology);
}

bind_outcome machine_binding::bind(const std::vector<int>& pus) {
    bind_outcome out;
    bitmap want;
    for (int pu : pus) hwloc_bitmap_set(want.b, static_cast<unsigned>(pu));
    if (hwloc_bitmap_iszero(want.b)) {
        out.error = "no processing unit to bind to";
        return out;
    }
    if (hwloc_set_cpubind(impl_->topology, want.b, HWLOC_CPUBIND_PROCESS) != 0) {
        out.error =
            "the OS refused binding to PUs " + list_of(want.b) + ": " + std::strerror(errno);
    }
    bitmap now;
    if (hwloc_get_cpubind(impl_->topology, now.b, HWLOC_CPUBIND_PROCESS) != 0) {
        if (out.error.empty())
            out.error = "the binding cannot be read back: " + std::string(std::strerror(errno));
        return out;
    }
    out.bound = list_of(now.b);
    if (out.error.empty() && !hwloc_bitmap_isequal(now.b, want.b))
        out.error = "asked for PUs " + list_of(want.b) + ", read back " + out.bound;
    out.ok = out.error.empty();
    return out;
}

}  // namespace tide::detail
