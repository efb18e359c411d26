#!/usr/bin/env bash
# Integration test against a real Prometheus and Pushgateway (issue 9): installs
# Debian's prometheus and prometheus-pushgateway when they are missing, then runs
# integration.TestPrometheus, which starts them on loopback ports, scrapes
# `loadsim mock` and a live `loadsim run`, pushes with --pushgateway and checks
# the values against summary.json. Everything it starts, it stops.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v prometheus >/dev/null || ! command -v prometheus-pushgateway >/dev/null; then
	sudo=""
	if [[ "$(id -u)" != 0 ]]; then
		sudo="sudo"
	fi
	echo "installing prometheus and prometheus-pushgateway (Debian packages)"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus prometheus-pushgateway >/dev/null
fi

start=$SECONDS
LOADSIM_INTEGRATION=1 go test -count=1 -v -run '^TestPrometheus$' ./cmd/loadsim/integration/
echo "integration: TestPrometheus took $((SECONDS - start)) s (install excluded)"
