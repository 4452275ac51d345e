package reqlatency

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type key struct {
	route string
	code  int
}

func TestHistogram(t *testing.T) {
	calls := 0
	h := New("http", func(k key) (string, string) {
		calls++
		return k.route, map[int]string{200: "200", 404: "404"}[k.code]
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.Collector())
	for range 3 {
		h.Observer(key{"get", 200}).Observe(0.001)
	}
	h.Observer(key{"get", 404}).Observe(0.002)
	if calls != 2 {
		t.Errorf("labels called %d times for 2 keys, want 2 (observers cached)", calls)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "gintoki_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + " "
			}
			got[labels] = m.GetHistogram().GetSampleCount()
		}
	}
	want := map[string]uint64{
		"code=200 route=get transport=http ": 3,
		"code=404 route=get transport=http ": 1,
	}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("series %q: %d samples, want %d (all: %v)", k, got[k], n, got)
		}
	}
}
