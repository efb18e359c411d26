#!/usr/bin/python3
"""The benchmarks/simpy/scenario.yaml scenario written in SimPy 2 (Debian's
python3-simpy, `import SimPy`), to compare with `loadsim simulate`.

One SimPy Process per logical request; one source Process per tenant
activates them at the scenario's constant-rate arrival times (k/rate for
k/rate < duration, as scenario.Constant.Due). The API model is the part of
sim/api this scenario exercises:

- a fixed-window quota per key and UTC minute (the run starts at midnight, so
  windows start at multiples of 60 s): an attempt is admitted while the
  window holds fewer than requests_per_minute admitted attempts; otherwise
  429 with Retry-After = ceil(seconds to the window's end) (at least 1) and
  nothing consumed;
- an admitted attempt calls the upstream: log-normal latency (median 80 ms,
  p99 400 ms); a latency of 2 s or more is an upstream timeout (500 after
  2 s);
- every response reaches the client after the latency plus the 2 ms network
  round trip (client.network_rtt's default).

The client (the scenario's strategy): retry 429 only, at most 4 attempts;
the n-th retry (n = 0 first) waits max(u * min(cap, base * 2^n), Retry-After)
with u uniform in [0, 1) (full jitter, Retry-After a floor). Requests run to
their end after the duration (loadsim simulate's default drain).

Prints one JSON object: attempts by status, requests by outcome, events and
the wall time of the simulation proper (setup and printing excluded).
"""

import json
import math
import random
import sys
import time

from SimPy.Simulation import Process, Simulation, hold

DURATION = 3600.0  # s
RTT = 0.002  # s
MEDIAN, P99 = 0.080, 0.400  # s
Z99 = 2.3263478740408408
MU = math.log(MEDIAN)
SIGMA = (math.log(P99) - MU) / Z99
TIMEOUT = 2.0  # upstream timeout, s
WINDOW = 60.0  # s

BASE, MULT, CAP, MAX_ATTEMPTS = 0.200, 2.0, 20.0, 4

# name, arrivals per second, requests per minute (tier1, tier3)
TENANTS = [("flood", 10.0, 60), ("steady", 5.0, 250)]


class Stats:
    def __init__(self):
        self.by_status = {}
        self.outcomes = {"succeeded": 0, "gave_up": 0, "failed_permanent": 0}
        self.requests = 0
        self.events = 0


class API:
    """The quota and upstream model: one fixed window per tenant."""

    def __init__(self, rng):
        self.rng = rng
        self.win = [-1] * len(TENANTS)
        self.used = [0] * len(TENANTS)

    def handle(self, tenant, now):
        """Returns (status, retry_after_s or None, latency_s) of an attempt sent at now."""
        idx = int(now // WINDOW)
        if idx != self.win[tenant]:
            self.win[tenant], self.used[tenant] = idx, 0
        if self.used[tenant] >= TENANTS[tenant][2]:
            left = (idx + 1) * WINDOW - now
            return 429, max(1, math.ceil(left - 1e-9)), 0.0
        self.used[tenant] += 1
        lat = math.exp(MU + SIGMA * self.rng.gauss(0.0, 1.0))
        if lat >= TIMEOUT:
            return 500, None, TIMEOUT
        return 200, None, lat


class Request(Process):
    def __init__(self, sim, api, stats, rng, tenant):
        Process.__init__(self, sim=sim)
        self.api, self.stats, self.rng, self.tenant = api, stats, rng, tenant

    def run(self):
        st = self.stats
        attempts = 0
        while True:
            attempts += 1
            status, ra, lat = self.api.handle(self.tenant, self.sim.now())
            yield hold, self, lat + RTT
            st.events += 1
            st.by_status[status] = st.by_status.get(status, 0) + 1
            if status == 200:
                st.outcomes["succeeded"] += 1
                return
            if status != 429:
                st.outcomes["failed_permanent"] += 1
                return
            if attempts >= MAX_ATTEMPTS:
                st.outcomes["gave_up"] += 1
                return
            delay = self.rng.random() * min(CAP, BASE * MULT ** (attempts - 1))
            delay = max(delay, float(ra))
            yield hold, self, delay
            st.events += 1


class Source(Process):
    """Activates tenant's requests at k/rate for k/rate < DURATION."""

    def __init__(self, sim, api, stats, rng, tenant):
        Process.__init__(self, sim=sim)
        self.api, self.stats, self.rng, self.tenant = api, stats, rng, tenant

    def run(self):
        rate = TENANTS[self.tenant][1]
        k = 0
        while True:
            at = k / rate
            if at >= DURATION:
                return
            if at > self.sim.now():
                yield hold, self, at - self.sim.now()
            r = Request(self.sim, self.api, self.stats, self.rng, self.tenant)
            self.sim.activate(r, r.run())
            self.stats.requests += 1
            self.stats.events += 1
            k += 1


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    rng = random.Random(seed)
    stats = Stats()
    sim = Simulation()
    sim.initialize()
    api = API(rng)
    for i in range(len(TENANTS)):
        s = Source(sim, api, stats, rng, i)
        sim.activate(s, s.run())
    began = time.perf_counter()
    sim.simulate(until=DURATION + 86400.0)
    wall = time.perf_counter() - began
    json.dump({"engine": "simpy", "seed": seed, "wall_seconds": wall, "simulated_seconds": sim.now(),
               "events": stats.events, "requests": stats.requests,
               "attempts": sum(stats.by_status.values()),
               "by_status": {str(k): v for k, v in sorted(stats.by_status.items())},
               "outcomes": stats.outcomes}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
