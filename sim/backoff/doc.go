// Package backoff holds the client retry strategies: delay shapes, jitter,
// Retry-After handling, retry budgets, adaptive throttling and a client-side
// circuit breaker, as pure functions of the attempt history, the last response,
// the time and a seeded RNG. It never sleeps: callers (sim/client in real time,
// sim/des in virtual time) wait the delays it chooses.
package backoff
