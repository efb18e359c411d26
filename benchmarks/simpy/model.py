#!/usr/bin/python3
"""The benchmarks/simpy/scenario.yaml scenario written in SimPy 2 (Debian's
python3-simpy, `import SimPy`), to compare with `loadsim simulate`.

One SimPy Process per logical request; one source Process per tenant
activates them at the scenario's constant-rate arrival times (k/rate for
k/rate < duration, as scenario.Constant.Due). The API model is sim/api's,
as far as this scenario's requests reach it (all valid, on a known key and
model; no incidents, no capacity limit, no internal faults):

- fixed-window quotas per key, aligned to the UTC minute and the UTC day
  (the run starts at midnight): requests and tokens per minute and per day
  of the key's tier, -1 unlimited. An attempt is admitted when it fits every
  limited window, and then consumes 1 request and its tokens from each;
  otherwise 429 with Retry-After = ceil(seconds until the latest exhausted
  window ends) (at least 1), and nothing consumed;
- every answer carries the X-RateLimit-* values (tier, limit and remaining
  of the minute and the day, counting this request), which the client reads
  into its record as loadsim's does;
- an admitted attempt calls the upstream: log-normal latency (median 80 ms,
  p99 400 ms); a latency of 2 s or more is an upstream timeout (500 after
  2 s), a failure for the circuit breaker;
- the circuit breaker, closed: over the completed calls of the last 10 s
  (window), it opens when at least 20 (min_requests) completed and half or
  more (failure_ratio 0.5) failed. This scenario never opens it (the model
  stops with an error if it does: open and half-open are not written here);
- every response reaches the client after the latency plus the 2 ms network
  round trip (client.network_rtt's default).

The client (the scenario's strategy): retry 429 only, at most 4 attempts;
the n-th retry (n = 0 first) waits max(u * min(cap, base * 2^n), Retry-After)
with u uniform in [0, 1) (full jitter, Retry-After a floor). Requests run to
their end after the duration (loadsim simulate's default drain).

With --minimal, only the minute window's request count is kept, and neither
the rate-limit values nor the breaker are computed: the model this
benchmark used before 2026-11-27 18:00 UTC (same counts, less work per
attempt), kept to compare with earlier figures.

Prints one JSON object: attempts by status, requests by outcome, events and
the wall time of the simulation proper (setup and printing excluded).
"""

import collections
import heapq
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
DAY = 86400.0  # s
TOKENS = 100  # per request (the mix's tokens: 100)
BREAKER_WINDOW, MIN_REQUESTS, FAILURE_RATIO = 10.0, 20, 0.5

BASE, MULT, CAP, MAX_ATTEMPTS = 0.200, 2.0, 20.0, 4

# name, arrivals per second, requests per minute (tier1, tier3)
TENANTS = [("flood", 10.0, 60), ("steady", 5.0, 250)]
# per tenant: tier, then (requests, tokens) per minute and per day, -1 unlimited
TIERS = [("tier1", (60, 250000), (5000, -1)), ("tier3", (250, 1000000), (50000, -1))]


class Stats:
    def __init__(self):
        self.by_status = {}
        self.outcomes = {"succeeded": 0, "gave_up": 0, "failed_permanent": 0}
        self.requests = 0
        self.events = 0
        self.limits = None  # the last answer's X-RateLimit-* values


class Window:
    """One fixed window of one key: requests and tokens used in window idx."""

    __slots__ = ("span", "req", "tok", "idx", "used", "tokens")

    def __init__(self, span, limit):
        self.span = span
        self.req, self.tok = limit  # requests, tokens; -1 unlimited
        self.idx, self.used, self.tokens = -1, 0, 0

    def wait(self, now, tokens):
        """Rolls the window to now's; 0 when 1 request of tokens fits, else
        the seconds until the window ends."""
        idx = int(now // self.span)
        if idx != self.idx:
            self.idx, self.used, self.tokens = idx, 0, 0
        if (0 <= self.req <= self.used) or (0 <= self.tok < self.tokens + tokens):
            return (idx + 1) * self.span - now
        return 0.0


class Breaker:
    """The circuit breaker while closed: completed calls of the last window."""

    def __init__(self):
        self.pending = []  # heap of (end, failed) of calls in flight
        self.done = collections.deque()  # (end, failed) of completed calls, by end
        self.failed = 0

    def advance(self, now):
        pending, done = self.pending, self.done
        while pending and pending[0][0] <= now:
            call = heapq.heappop(pending)
            done.append(call)
            self.failed += call[1]
        horizon = now - BREAKER_WINDOW
        while done and done[0][0] <= horizon:
            self.failed -= done.popleft()[1]
        # Opens at ≥ min_requests calls, ≥ failure_ratio of them failed.
        if self.failed and len(done) >= MIN_REQUESTS and self.failed >= FAILURE_RATIO * len(done):
            raise SystemExit("model.py: the breaker would open; open and half-open are not modelled")

    def start(self, end, failed):
        heapq.heappush(self.pending, (end, failed))


class API:
    """The quota, upstream and breaker model (see the module's doc)."""

    def __init__(self, rng, minimal):
        self.rng, self.minimal = rng, minimal
        self.win = [-1] * len(TENANTS)
        self.used = [0] * len(TENANTS)
        self.minute = [Window(WINDOW, t[1]) for t in TIERS]
        self.day = [Window(DAY, t[2]) for t in TIERS]
        self.breaker = Breaker()

    def handle(self, tenant, now):
        """Returns (status, retry_after_s or None, latency_s, limits) of an attempt sent at now."""
        if self.minimal:
            return self.handle_minimal(tenant, now)
        self.breaker.advance(now)
        mw, dw = self.minute[tenant], self.day[tenant]
        wait, day_wait = mw.wait(now, TOKENS), dw.wait(now, TOKENS)
        if day_wait > wait:
            wait = day_wait
        if wait > 0:
            return 429, max(1, math.ceil(wait - 1e-9)), 0.0, self.limits(tenant)
        mw.used += 1
        mw.tokens += TOKENS
        dw.used += 1
        dw.tokens += TOKENS
        limits = self.limits(tenant)
        lat = math.exp(MU + SIGMA * self.rng.gauss(0.0, 1.0))
        if lat >= TIMEOUT:
            self.breaker.start(now + TIMEOUT, 1)
            return 500, None, TIMEOUT, limits
        self.breaker.start(now + lat, 0)
        return 200, None, lat, limits

    def limits(self, tenant):
        """The X-RateLimit-* values: tier, limit and remaining per minute and day."""
        mw, dw = self.minute[tenant], self.day[tenant]
        rm, rd = mw.req - mw.used, dw.req - dw.used
        return (TIERS[tenant][0], mw.req, -1 if mw.req < 0 else rm if rm > 0 else 0,
                dw.req, -1 if dw.req < 0 else rd if rd > 0 else 0)

    def handle_minimal(self, tenant, now):
        idx = int(now // WINDOW)
        if idx != self.win[tenant]:
            self.win[tenant], self.used[tenant] = idx, 0
        if self.used[tenant] >= TENANTS[tenant][2]:
            left = (idx + 1) * WINDOW - now
            return 429, max(1, math.ceil(left - 1e-9)), 0.0, None
        self.used[tenant] += 1
        lat = math.exp(MU + SIGMA * self.rng.gauss(0.0, 1.0))
        if lat >= TIMEOUT:
            return 500, None, TIMEOUT, None
        return 200, None, lat, None


class Request(Process):
    def __init__(self, sim, api, stats, rng, tenant):
        Process.__init__(self, sim=sim)
        self.api, self.stats, self.rng, self.tenant = api, stats, rng, tenant

    def run(self):
        st = self.stats
        attempts = 0
        while True:
            attempts += 1
            status, ra, lat, limits = self.api.handle(self.tenant, self.sim.now())
            yield hold, self, lat + RTT
            st.events += 1
            st.by_status[status] = st.by_status.get(status, 0) + 1
            if limits is not None:
                st.limits = limits  # the record's rate-limit values
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
    args = sys.argv[1:]
    minimal = "--minimal" in args
    args = [a for a in args if a != "--minimal"]
    seed = int(args[0]) if args else 1
    rng = random.Random(seed)
    stats = Stats()
    sim = Simulation()
    sim.initialize()
    api = API(rng, minimal)
    for i in range(len(TENANTS)):
        s = Source(sim, api, stats, rng, i)
        sim.activate(s, s.run())
    began = time.perf_counter()
    sim.simulate(until=DURATION + 86400.0)
    wall = time.perf_counter() - began
    json.dump({"engine": "simpy", "model": "minimal" if minimal else "full", "seed": seed, "wall_seconds": wall, "simulated_seconds": sim.now(),
               "events": stats.events, "requests": stats.requests,
               "attempts": sum(stats.by_status.values()),
               "by_status": {str(k): v for k, v in sorted(stats.by_status.items())},
               "outcomes": stats.outcomes}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
