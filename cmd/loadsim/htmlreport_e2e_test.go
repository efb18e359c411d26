package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireChromiumEnv makes the Chromium tests fail instead of skip when no
// chromium binary is found (.ci/run sets it after installing chromium).
const requireChromiumEnv = "LOADSIM_REQUIRE_CHROMIUM"

// chromiumOrSkip returns the path of Debian's chromium, skipping the test
// when it is absent (failing when LOADSIM_REQUIRE_CHROMIUM=1).
func chromiumOrSkip(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireChromiumEnv) == "1" {
		t.Fatalf("chromium not found on PATH and %s=1: install it (apt-get install chromium)", requireChromiumEnv)
	}
	t.Skipf("chromium not found on PATH; set %s=1 to make this a failure", requireChromiumEnv)
	return ""
}

// headless loads the page at path in headless Chromium and returns the DOM
// after the load event and Chromium's log (stderr), where console messages
// and uncaught exceptions appear as ":CONSOLE" lines.
func headless(t *testing.T, chromium, path string) (dom, log string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--disable-gpu", "--no-sandbox",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=5000", "--dump-dom", "file://"+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s --dump-dom file://%s: %v\nstderr:\n%s", chromium, path, err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// consoleErrors returns Chromium log lines that report console output or an
// uncaught exception. report.html runs no script, so any is an error.
func consoleErrors(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") {
			out = append(out, l)
		}
	}
	return out
}

// imageProbe is appended to a copy of report.html: after the load event it
// writes how many images the browser decoded (naturalWidth > 0) into the DOM.
const imageProbe = `<script>window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  var d = document.createElement("div"); d.id = "probe";
  d.setAttribute("data-loaded", ok); d.setAttribute("data-total", imgs.length);
  document.body.appendChild(d);
});</script>`

// TestReportHTMLInChromium simulates launch-day for two minutes and opens its
// report.html in headless Chromium: it loads with no console message or
// uncaught exception, shows the verdict, the tables and the six figures, and
// every figure decodes in the browser. A page with a console error and an
// uncaught exception checks that such errors are detected.
func TestReportHTMLInChromium(t *testing.T) {
	chromium := chromiumOrSkip(t)
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	opts := simulateOptions{Out: out, Seed: 5, SeedSet: true, Duration: 2 * time.Minute}
	if err := simulateScenario(context.Background(), "launch-day", opts, &stdout, &stderr); exitCodeOf(err) != exitOK && exitCodeOf(err) != exitThresholds {
		t.Fatalf("simulate launch-day: %v\nstderr:\n%s", err, stderr.String())
	}
	page := filepath.Join(out, "report.html")
	if !strings.HasSuffix(strings.TrimSpace(stdout.String()), "report: "+page) {
		t.Fatalf("stdout does not end with the report's path %s:\n%s", page, stdout.String())
	}

	dom, log := headless(t, chromium, page)
	if errs := consoleErrors(log); len(errs) > 0 {
		t.Errorf("report.html logged console errors in Chromium:\n%s", strings.Join(errs, "\n"))
	}
	for _, want := range []string{`id="verdict"`, `<table class="summary">`, `<table class="thresholds">`, `<table class="timings">`,
		`<dt>engine</dt><dd>simulated</dd>`, `<dt>seed</dt><dd>5</dd>`, `id="scenario"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("Chromium's DOM of report.html lacks %q", want)
		}
	}
	if n := strings.Count(dom, `<img src="data:image/png;base64,`); n != 6 {
		t.Errorf("Chromium's DOM of report.html has %d inline PNG figures; want 6", n)
	}

	// The same page with a probe that counts the images the browser decoded.
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	probed := filepath.Join(t.TempDir(), "probed.html")
	if err := os.WriteFile(probed, bytes.Replace(b, []byte("</body>"), []byte(imageProbe+"</body>"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, log = headless(t, chromium, probed)
	m := regexp.MustCompile(`id="probe" data-loaded="(\d+)" data-total="(\d+)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the image probe did not run in Chromium; DOM tail:\n%s\nlog:\n%s", tail(dom, 500), log)
	}
	loaded, _ := strconv.Atoi(m[1])
	total, _ := strconv.Atoi(m[2])
	if total != 6 || loaded != total {
		t.Errorf("Chromium decoded %d of %d images of report.html; want 6 of 6", loaded, total)
	}

	// Negative control: the detector sees a console error and an exception.
	bad := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(bad, []byte(`<!DOCTYPE html><html><body><script>console.error("boom"); throw new Error("kaboom")</script></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, log = headless(t, chromium, bad)
	if errs := consoleErrors(log); len(errs) < 2 {
		t.Errorf("consoleErrors found %d errors on a page with console.error and an uncaught exception; want 2:\n%s", len(errs), log)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
