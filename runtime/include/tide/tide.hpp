#pragma once
// The only header a tide program needs.
//
// Tasks are plain functions over cereal-serializable types, registered by name:
//     double area(double r) { return 3.14159 * r * r; }
//     TIDE_TASK(area);
// and submitted from the driver that runs on rank 0:
//     return tide::run(argc, argv, [](tide::driver& d) { d.submit(area, 2.0).get(); });

#include "tide/detail/registry.hpp"
#include "tide/driver.hpp"
#include "tide/error.hpp"
#include "tide/future.hpp"
#include "tide/graph.hpp"
#include "tide/run.hpp"
#include "tide/stats.hpp"
#include "tide/submit.hpp"
