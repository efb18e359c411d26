// Command loadsim sizes Compresr API tiers and benchmarks client retry
// strategies against a faithful model of the API: a mock server (`loadsim
// mock`), live load runs and a virtual-time simulator. Run `loadsim --help`
// for the commands.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
