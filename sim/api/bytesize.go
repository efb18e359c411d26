package api

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// byteUnits are the accepted size suffixes (case-insensitive): SI units are
// powers of 1000, IEC units (KiB, MiB, …) powers of 1024.
var byteUnits = [...]struct {
	name string
	mult int64
}{
	{"", 1}, {"b", 1},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
}

// ParseByteSize parses a size written as a non-negative integer number of
// bytes (`2048`) or an integer with a unit: B, KB, MB, GB, TB (powers of
// 1000) or KiB, MiB, GiB, TiB (powers of 1024), case-insensitive, optionally
// separated by a space (`10MiB`, `512 KiB`, `1MB`).
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a non-negative integer with an optional unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. 10MiB", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: number out of range", s)
	}
	unit := strings.TrimSpace(t[i:])
	for _, u := range byteUnits {
		if strings.EqualFold(unit, u.name) {
			if n > math.MaxInt64/u.mult {
				return 0, fmt.Errorf("size %q: too large", s)
			}
			return ByteSize(n * u.mult), nil
		}
	}
	return 0, fmt.Errorf("size %q: unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, unit)
}

// String formats the size with the largest IEC unit that divides it exactly
// (`10MiB`, `512KiB`), or as a plain number of bytes.
func (b ByteSize) String() string {
	for _, u := range [...]struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalYAML implements yaml.Unmarshaler: an integer or a string with a
// unit (see ParseByteSize). Errors carry the line number and the value.
func (b *ByteSize) UnmarshalYAML(value *yaml.Node) error {
	if value.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a size such as 10MiB or 2048, got a %s", value.Line, kindName(value.Kind))
	}
	v, err := ParseByteSize(value.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", value.Line, err)
	}
	*b = v
	return nil
}

// MarshalYAML implements yaml.Marshaler with the String form.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// UnmarshalJSON implements json.Unmarshaler: a JSON number of bytes or a
// string with a unit (see ParseByteSize).
func (b *ByteSize) UnmarshalJSON(data []byte) error {
	var s string
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("size %s: %w", data, err)
		}
	} else {
		s = string(data)
	}
	v, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalJSON implements json.Marshaler with the String form.
func (b ByteSize) MarshalJSON() ([]byte, error) { return json.Marshal(b.String()) }

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.AliasNode:
		return "alias"
	default:
		return "document"
	}
}
