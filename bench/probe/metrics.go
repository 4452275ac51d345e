package probe

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics is one scrape of a /metrics endpoint.
type Metrics map[string]*dto.MetricFamily

// Scrape reads the text exposition at url.
func Scrape(ctx context.Context, client *http.Client, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	m, err := parseMetrics(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return m, nil
}

// parseMetrics reads the Prometheus text exposition format.
func parseMetrics(r io.Reader) (Metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return mfs, nil
}

// Value returns the sum of a counter's or gauge's series (false if absent).
func (m Metrics) Value(name string) (float64, bool) {
	mf, ok := m[name]
	if !ok || len(mf.GetMetric()) == 0 {
		return 0, false
	}
	var v float64
	for _, x := range mf.GetMetric() {
		switch {
		case x.Counter != nil:
			v += x.GetCounter().GetValue()
		case x.Gauge != nil:
			v += x.GetGauge().GetValue()
		case x.Untyped != nil:
			v += x.GetUntyped().GetValue()
		}
	}
	return v, true
}

// HistCount returns the summed sample count of a histogram's series whose
// label has the given value (0 if there is none).
func (m Metrics) HistCount(name, label, value string) float64 {
	var n float64
	for _, x := range m[name].GetMetric() {
		for _, l := range x.GetLabel() {
			if l.GetName() == label && l.GetValue() == value && x.Histogram != nil {
				n += float64(x.GetHistogram().GetSampleCount())
			}
		}
	}
	return n
}

// Hist is a cumulative histogram: bucket upper bounds and counts.
type Hist struct {
	Bounds []float64 // ascending upper bounds, without +Inf
	Counts []uint64  // cumulative count of each bound
	Count  uint64
	Sum    float64
}

// Histogram returns a histogram's first series (false if absent).
func (m Metrics) Histogram(name string) (Hist, bool) {
	mf, ok := m[name]
	if !ok || len(mf.GetMetric()) == 0 || mf.GetMetric()[0].Histogram == nil {
		return Hist{}, false
	}
	h := mf.GetMetric()[0].GetHistogram()
	var out Hist
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), +1) {
			continue
		}
		out.Bounds = append(out.Bounds, b.GetUpperBound())
		out.Counts = append(out.Counts, b.GetCumulativeCount())
	}
	out.Count, out.Sum = h.GetSampleCount(), h.GetSampleSum()
	return out, true
}

// Summary returns a summary's quantiles, count and sum (false if absent).
func (m Metrics) Summary(name string) (quantiles map[float64]float64, count uint64, sum float64, ok bool) {
	mf, found := m[name]
	if !found || len(mf.GetMetric()) == 0 || mf.GetMetric()[0].Summary == nil {
		return nil, 0, 0, false
	}
	s := mf.GetMetric()[0].GetSummary()
	quantiles = map[float64]float64{}
	for _, q := range s.GetQuantile() {
		quantiles[q.GetQuantile()] = q.GetValue()
	}
	return quantiles, s.GetSampleCount(), s.GetSampleSum(), true
}

// Since returns the observations made between before and h (same buckets).
func (h Hist) Since(before Hist) Hist {
	if !slices.Equal(h.Bounds, before.Bounds) {
		return h
	}
	d := Hist{Bounds: h.Bounds, Counts: make([]uint64, len(h.Counts)), Count: h.Count - before.Count, Sum: h.Sum - before.Sum}
	for i := range h.Counts {
		d.Counts[i] = h.Counts[i] - before.Counts[i]
	}
	return d
}

// Quantile estimates the q-quantile as Prometheus' histogram_quantile
// does: linear interpolation inside the bucket that holds it (from 0 for
// the first bucket). It returns +Inf if the quantile is beyond the last
// finite bound, NaN without observations.
func (h Hist) Quantile(q float64) float64 {
	if h.Count == 0 {
		return math.NaN()
	}
	rank := q * float64(h.Count)
	lower, below := 0.0, uint64(0)
	for i, b := range h.Bounds {
		if float64(h.Counts[i]) >= rank {
			in := h.Counts[i] - below
			if in == 0 {
				return b
			}
			return lower + (b-lower)*(rank-float64(below))/float64(in)
		}
		lower, below = b, h.Counts[i]
	}
	return math.Inf(+1)
}

// BucketOf returns the bounds of the bucket that holds the q-quantile:
// the quantile is in (lo, hi]. hi is +Inf beyond the last finite bound;
// both are NaN without observations.
func (h Hist) BucketOf(q float64) (lo, hi float64) {
	if h.Count == 0 {
		return math.NaN(), math.NaN()
	}
	rank := q * float64(h.Count)
	for i, b := range h.Bounds {
		if float64(h.Counts[i]) >= rank {
			return lo, b
		}
		lo = b
	}
	return lo, math.Inf(+1)
}

// FractionWithin returns the share of observations at most bound (bound
// must be one of the bucket bounds; NaN otherwise or without observations).
func (h Hist) FractionWithin(bound float64) float64 {
	i := slices.Index(h.Bounds, bound)
	if i < 0 || h.Count == 0 {
		return math.NaN()
	}
	return float64(h.Counts[i]) / float64(h.Count)
}

// LabelOf returns the value of a series' label (empty if absent).
func LabelOf(labels []*dto.LabelPair, name string) string {
	for _, l := range labels {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
