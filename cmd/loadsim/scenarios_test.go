package main

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/loadsim/loadsim/scenario"
)

func execScenarios(args ...string) (string, error) {
	var out, errw bytes.Buffer
	cmd := newScenariosCmd(&out, &errw)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errw)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func TestScenariosCmd(t *testing.T) {
	t.Parallel()
	launch, _ := scenario.Example("launch-day")
	tests := []struct {
		args  []string
		want  string // regular expression matched against stdout ("" = none expected)
		exact []byte // whole stdout, when set
		usage bool   // a usage error (exit 2)
	}{
		// the list names every example with its description
		{args: nil, want: `(?m)^launch-day +Two tenants ramp up`},
		// the list includes the demo
		{args: nil, want: `(?m)^demo +20 s, two tenants`},
		// list is the same list
		{args: []string{"list"}, want: `(?m)^launch-day +Two tenants ramp up`},
		// list takes no argument
		{args: []string{"list", "demo"}, usage: true},
		// show prints the file byte for byte
		{args: []string{"show", "launch-day"}, exact: launch},
		// show of an unknown example
		{args: []string{"show", "nope"}, usage: true},
		// show without a name
		{args: []string{"show"}, usage: true},
	}
	for _, tc := range tests {
		out, err := execScenarios(tc.args...)
		var ue usageError
		if tc.usage != errors.As(err, &ue) || (!tc.usage && err != nil) {
			t.Errorf("scenarios %q: err = %v; want usage error: %t", tc.args, err, tc.usage)
		}
		if tc.want != "" && !regexp.MustCompile(tc.want).MatchString(out) {
			t.Errorf("scenarios %q:\n%s\nwant %q", tc.args, out, tc.want)
		}
		if tc.exact != nil && !bytes.Equal([]byte(out), tc.exact) {
			t.Errorf("scenarios %q printed %d bytes; want the %d bytes of the file", tc.args, len(out), len(tc.exact))
		}
	}
}
