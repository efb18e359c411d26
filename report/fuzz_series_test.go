package report

import (
	"bytes"
	"testing"
	"time"
)

// FuzzReadSeries feeds arbitrary bytes to ReadSeries, as `loadsim report`
// reads a results directory someone may have edited or truncated: a file it
// accepts must never make Summary, MergeSeries or Rebucket panic, and a
// merge of a series with itself must double its attempts.
func FuzzReadSeries(f *testing.F) {
	r := newTestRecorder(time.Minute)
	feed(r, synth(1, 200))
	s, err := r.Series()
	if err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"version":1,"bucket_seconds":1,"circuit":[0,2],"tenants":[{"name":"a","buckets":[{}]}]}`))
	f.Add([]byte(`{"version":1,"bucket_seconds":1,"tenants":[{"name":"a","totals":{"requests":{"nope":1}}}]}`))
	f.Add([]byte(`{"version":1,"bucket_seconds":1,"tenants":[{"name":"a","totals":{"histograms":{"latency":"!!"}}}]}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSeries(writeFile(t, dir, "series.json", data))
		if err != nil {
			return
		}
		sum, err := s.Summary(testMeta())
		if err != nil {
			return
		}
		m, err := MergeSeries(s, s)
		if err != nil {
			return
		}
		msum, err := m.Summary(testMeta())
		if err != nil {
			t.Fatalf("Summary of a series merged with itself: %v (its own summary worked)", err)
		}
		if msum.Attempts.Total != 2*sum.Attempts.Total {
			t.Errorf("merged attempts %d; want 2 × %d", msum.Attempts.Total, sum.Attempts.Total)
		}
		if _, err := s.Rebucket(2); err != nil {
			return
		}
	})
}
