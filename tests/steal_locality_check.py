#!/usr/bin/env python3
"""steal_locality_check.py STATS.json NODES WORKERS_PER_NODE: checks a run's same-host and
cross-host steal counts (they add up to the steals, of which there are enough to count) and prints the share of
steals that stayed on the thief's host next to the share a victim picked at random would give
(with W workers on each of N nodes, (W-1)/(N*W-1)).

The share itself is not judged: rank 0 prefers a victim on the thief's host only among victims
with about as much to give (the rule is unit-tested: Victim.NearestAmongCloseEstimates in
tests/unit/load_estimator_test.cpp), so how strongly it shows depends on how even the load is.
Measured on three fake nodes of two workers: 0.61 to 0.90 alone, 0.28 to 0.35 with other tests
running on the same two cores, against 0.20 at random."""
import json
import sys

stats = json.load(open(sys.argv[1]))
nodes, per_node = int(sys.argv[2]), int(sys.argv[3])
st = stats["stealing"]
same, cross, steals = st["same_host"], st["cross_host"], st["steals"]
random_share = (per_node - 1) / (nodes * per_node - 1)
print(f"same-host steals: {same} of {steals} ({same / max(steals, 1):.2f}), cross-host {cross}; "
      f"a victim picked at random: {random_share:.2f}")
if same + cross != steals:
    sys.exit("steal_locality_check: same-host and cross-host steals do not add up to the steals")
if steals < 20:
    sys.exit(f"steal_locality_check: {steals} steals, too few for UTS T3 on six workers")
print("steal counts by locality add up")
