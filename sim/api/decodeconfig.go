package api

import (
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// DecodeConfig strictly decodes a YAML document whose top level is `api:`
// (the file read by `loadsim mock --config`). Unknown fields, wrong types and
// bad durations or sizes are errors carrying line numbers. An empty document
// gives the zero Config. It does not Resolve: call Config.Resolve next.
func DecodeConfig(r io.Reader) (Config, error) {
	var doc struct {
		API Config `yaml:"api"`
	}
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, nil
		}
		return Config{}, fmt.Errorf("decode api config (top level must be `api:`; see the api section of the scenario reference): %w", err)
	}
	return doc.API, nil
}
