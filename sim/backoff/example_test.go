package backoff_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/backoff"
)

// The first five decisions of every preset for a request that keeps getting
// 503 without Retry-After, with rand.NewPCG(1, 0). A stop reason
// replaces the delay when the preset stops.
func Example_firstFiveDelays() {
	t0 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, name := range backoff.PresetNames() {
		p, err := backoff.Config{Preset: name}.Resolve()
		if err != nil {
			panic(err)
		}
		s := p.NewState()
		rng := rand.NewPCG(1, 0)
		req := backoff.Request{Arrived: t0}
		now := t0
		var out []string
		for len(out) < 5 {
			if _, stop := s.Before(now, &req, rng); stop != sim.StopNone {
				out = append(out, stop.String())
				break
			}
			d := s.After(now, &req, &backoff.Response{Status: 503}, rng)
			if !d.Retry {
				out = append(out, d.Stop.String())
				break
			}
			out = append(out, d.Delay.Round(time.Millisecond).String())
			now = now.Add(d.Delay)
		}
		fmt.Printf("%-21s %s\n", name, strings.Join(out, " "))
	}
	// Output:
	// compresr-recommended  119ms 501ms 100ms 1.958s max_attempts
	// compresr-sdk          435ms 1s 1.55s max_attempts
	// aws-standard          477ms 2.004s max_attempts
	// aws-standard-2.1      12ms 50ms max_attempts
	// aws-adaptive          477ms 200ms throttled_locally
	// grpc                  24ms 100ms 20ms max_attempts
	// retryablehttp         1s 2s 4s 8s max_attempts
	// cenkalti              369ms 751ms 619ms 1.67s 3.164s
	// sre-throttled         119ms 50ms throttled_locally
	// brooker-none          5ms 10ms 20ms 40ms 80ms
	// brooker-full          1ms 5ms 1ms 20ms 60ms
	// brooker-equal         3ms 8ms 10ms 30ms 70ms
	// brooker-decorrelated  7ms 14ms 7ms 13ms 29ms
	// naive-immediate       0s 0s 0s 0s 0s
}
