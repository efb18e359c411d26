package api

import "strings"

// DemoKeyPrefix starts every demo key (cmp_demo_tier1 … cmp_demo_tier5,
// cmp_demo_expired, cmp_demo_revoked); Resolve adds them to every
// configuration.
const DemoKeyPrefix = "cmp_demo_"

// IsDemoKey reports whether key is one of the demo keys every resolved
// configuration knows (so adding it again under api.keys is an error).
func IsDemoKey(key string) bool {
	switch strings.TrimPrefix(key, DemoKeyPrefix) {
	case "tier1", "tier2", "tier3", "tier4", "tier5", "expired", "revoked":
		return strings.HasPrefix(key, DemoKeyPrefix)
	}
	return false
}
