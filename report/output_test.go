package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s\nwant:\n%s", name, got, want)
	}
}

// goldenSummary is the summary of a fixed synthetic stream with thresholds,
// one of them failing.
func goldenSummary(t *testing.T) (*Summary, *Series) {
	t.Helper()
	var ths []Threshold
	for _, e := range []string{"success_rate >= 50%", "time_to_success_p99 <= 2s", "tenant(web).amplification <= 2",
		"status_503 > 0", "tenant(nobody).amplification <= 2"} {
		th, err := ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	r := newTestRecorder(20 * time.Second)
	feed(r, synth(8, 1500))
	se, err := r.Series()
	if err != nil {
		t.Fatal(err)
	}
	return r.Summary(testMeta(ths...)), se
}

func TestSummaryMarkdownGolden(t *testing.T) {
	s, _ := goldenSummary(t)
	var b bytes.Buffer
	if err := s.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.md", b.Bytes())
}

func TestSummaryTextGolden(t *testing.T) {
	s, _ := goldenSummary(t)
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.txt", b.Bytes())
}

func TestSummaryJSONGolden(t *testing.T) {
	s, _ := goldenSummary(t)
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.json", b.Bytes())
}

func TestWriteOutputsRoundTrip(t *testing.T) {
	t.Parallel()
	s, se := goldenSummary(t)
	dir := filepath.Join(t.TempDir(), "out", "run-1")
	scenario := []byte("name: synthetic\n")
	if err := WriteOutputs(dir, s, se, scenario); err != nil {
		t.Fatalf("WriteOutputs: %v", err)
	}
	for _, f := range []string{SummaryJSONFile, SummaryMarkdownFile, SeriesJSONFile, ScenarioFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("output %s: %v (size %v); want a non-empty file", f, err, fi)
		}
	}
	gotSum, err := ReadSummary(filepath.Join(dir, SummaryJSONFile))
	if err != nil {
		t.Fatalf("ReadSummary: %v", err)
	}
	if !reflect.DeepEqual(gotSum, s) {
		t.Errorf("ReadSummary = %+v; want %+v", gotSum, s)
	}
	gotSe, err := ReadSeries(filepath.Join(dir, SeriesJSONFile))
	if err != nil {
		t.Fatalf("ReadSeries: %v", err)
	}
	if !reflect.DeepEqual(gotSe, se) {
		t.Error("ReadSeries differs from the series written")
	}
	// The series read back gives the same summary.
	again, err := gotSe.Summary(testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if again.Requests != s.Requests || again.TimeToSuccess != s.TimeToSuccess {
		t.Errorf("summary from series.json = %+v %+v; want %+v %+v", again.Requests, again.TimeToSuccess, s.Requests, s.TimeToSuccess)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ScenarioFile)); !bytes.Equal(got, scenario) {
		t.Errorf("scenario.yaml = %q; want %q", got, scenario)
	}
}

func TestReadSeriesErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"bad.json", "{", "read series"},                                                // not JSON
		{"v2.json", `{"version":2,"bucket_seconds":1}`, "this loadsim reads version 1"}, // future version
		{"zero.json", `{"version":1,"bucket_seconds":0}`, "bucket_seconds must be > 0"}, // no width
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSeries(p); err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
			t.Errorf("ReadSeries(%s) error = %v; want one containing %q", tt.content, err, tt.want)
		}
	}
	if _, err := ReadSeries(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("ReadSeries(missing file) = nil error")
	}
}
