package scenario

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// examplesFS holds the example scenarios (NAME.yaml) and their trace files.
//
//go:embed examples
var examplesFS embed.FS

// ExampleInfo describes an embedded example scenario.
type ExampleInfo struct {
	Name        string // what `loadsim run NAME` takes
	Description string // the file's description
}

// Examples lists the embedded examples by name.
func Examples() []ExampleInfo {
	var out []ExampleInfo
	for _, n := range exampleNames() {
		data, _ := fs.ReadFile(examplesFS, "examples/"+n+".yaml")
		var head struct {
			Description string `yaml:"description"`
		}
		_ = yaml.Unmarshal(data, &head) // examples are tested to decode
		out = append(out, ExampleInfo{Name: n, Description: head.Description})
	}
	return out
}

// exampleNames lists the examples' names, sorted.
func exampleNames() []string {
	entries, _ := fs.ReadDir(examplesFS, "examples")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Example returns the file of the embedded example name.
func Example(name string) ([]byte, error) {
	if strings.ContainsAny(name, "/\\.") || name == "" {
		return nil, fmt.Errorf("no example %q (examples: %s)", name, strings.Join(exampleNames(), ", "))
	}
	data, err := fs.ReadFile(examplesFS, "examples/"+name+".yaml")
	if err != nil {
		return nil, fmt.Errorf("no example %q (examples: %s)", name, strings.Join(exampleNames(), ", "))
	}
	return data, nil
}
