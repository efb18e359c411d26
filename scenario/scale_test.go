package scenario

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestScaleTenant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		example string
		tenant  int
		factor  float64
	}{
		{"quota-exhaustion", 0, 2},   // constant rate doubled
		{"quota-exhaustion", 1, 0.5}, // step rates halved
		{"demo", 0, 3},               // ramp from/to tripled
		{"launch-day", 0, 1.5},       // whatever launch-day's first profile is
	} {
		sc, err := Load(tc.example)
		if err != nil {
			t.Fatalf("Load(%q): %v", tc.example, err)
		}
		before := sc.Profile(tc.tenant, 0).Hits(sc.Duration)
		scaled, err := sc.ScaleTenant(tc.tenant, tc.factor)
		if err != nil {
			t.Fatalf("%s.ScaleTenant(%d, %g): %v", tc.example, tc.tenant, tc.factor, err)
		}
		got := scaled.Profile(tc.tenant, 0).Hits(sc.Duration)
		if want := before * tc.factor; math.Abs(got-want) > 0.01*want+1 {
			t.Errorf("%s.ScaleTenant(%d, %g): hits %g; want %g", tc.example, tc.tenant, tc.factor, got, want)
		}
		if again := sc.Profile(tc.tenant, 0).Hits(sc.Duration); again != before {
			t.Errorf("%s.ScaleTenant(%d, %g) changed the original: hits %g; want %g", tc.example, tc.tenant, tc.factor, again, before)
		}
		for j := range sc.Tenants {
			if j == tc.tenant {
				continue
			}
			if a, b := sc.Profile(j, 0).Hits(sc.Duration), scaled.Profile(j, 0).Hits(sc.Duration); a != b {
				t.Errorf("%s.ScaleTenant(%d, %g) changed tenant %d: hits %g; want %g", tc.example, tc.tenant, tc.factor, j, b, a)
			}
		}
	}
}

func TestScaleTenantTrace(t *testing.T) {
	t.Parallel()
	sc, err := Load("trace-replay")
	if err != nil {
		t.Fatal(err)
	}
	scaled, err := sc.ScaleTenant(0, 2)
	if err != nil {
		t.Fatalf("ScaleTenant(0, 2): %v", err)
	}
	tr, _ := sc.Trace(0)
	st, _ := scaled.Trace(0)
	if st.Len() != tr.Len() {
		t.Fatalf("ScaleTenant(0, 2): %d trace rows; want %d", st.Len(), tr.Len())
	}
	for k := uint64(0); k < uint64(tr.Len()); k++ {
		a, _ := tr.Due(k)
		b, _ := st.Due(k)
		if want := time.Duration(float64(a) / 2); b != want {
			t.Fatalf("ScaleTenant(0, 2): row %d due at %s; want %s", k, b, want)
		}
	}
	if got, want := *scaled.Tenants[0].Traffic.Profile.Speed, 2*(*sc.Tenants[0].Traffic.Profile.Speed); got != want {
		t.Errorf("ScaleTenant(0, 2): speed %g; want %g", got, want)
	}
	if !strings.Contains(st.String(), "×4") {
		t.Errorf("ScaleTenant(0, 2): trace %s; want speed ×4", st)
	}
}

func TestScaleTenantErrors(t *testing.T) {
	t.Parallel()
	sc, err := Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tenant int
		factor float64
		want   string
	}{
		{5, 2, "has 2 tenants"},              // no such tenant
		{0, 0, "factor must be in"},          // zero
		{0, -1, "factor must be in"},         // negative
		{0, math.NaN(), "factor must be in"}, // NaN
		{0, 1e7, "factor must be in"},        // beyond MaxScale
	} {
		_, err := sc.ScaleTenant(tc.tenant, tc.factor)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ScaleTenant(%d, %g) = %v; want an error containing %q", tc.tenant, tc.factor, err, tc.want)
		}
	}
}
