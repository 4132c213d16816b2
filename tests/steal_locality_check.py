#!/usr/bin/env python3
"""steal_locality_check.py STATS.json NODES WORKERS_PER_NODE: passes when the run's steals went
to a victim on the thief's own host half again as often as a victim picked at random would (with
W workers on each of N nodes, a random victim is on the thief's host (W-1)/(N*W-1) of the time).
The preference is soft (a nearer victim only among those with about as much to give), so how
strong it shows depends on how even the load is: 0.35 to 0.90 of steals for 0.20 at random on
three nodes of two workers, the lowest on a loaded machine. Prints the counts either way."""
import json
import sys

stats = json.load(open(sys.argv[1]))
nodes, per_node = int(sys.argv[2]), int(sys.argv[3])
st = stats["stealing"]
same, cross = st["same_host"], st["cross_host"]
if same + cross != st["steals"] or st["steals"] < 20:
    sys.exit(f"steal_locality_check: {st['steals']} steals, {same} same-host + {cross} "
             "cross-host: too few to judge, or the counts do not add up")
random_share = (per_node - 1) / (nodes * per_node - 1)
share = same / st["steals"]
print(f"same-host steals: {same} of {st['steals']} ({share:.2f}), cross-host {cross}; "
      f"a victim picked at random: {random_share:.2f}")
if share <= 1.5 * random_share:
    sys.exit("steal_locality_check: stealing does not prefer the thief's own host")
print("stealing prefers the thief's own host")
