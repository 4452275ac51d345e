// Package stats holds the few statistics the benchmark computes: a figure
// measured once per round of a comparison (Series, with its median and
// range), and nearest-rank percentiles of latency samples.
//
// It imports the standard library only, and no package of the harness:
// every other package of the harness may import it.
package stats

import (
	"math"
	"slices"
	"time"
)

// Series is one quantity measured once per round of a comparison.
type Series []float64

// Median is the middle value (the mean of the two middle ones for an even
// count), NaN for an empty series.
func (s Series) Median() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

// Min is the smallest value, NaN for an empty series.
func (s Series) Min() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return slices.Min(s)
}

// Max is the largest value, NaN for an empty series.
func (s Series) Max() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return slices.Max(s)
}

// Percentile returns the q-quantile (0..1) of sorted by the nearest-rank
// method, or 0 if there are none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// MS is a duration in milliseconds, for tables.
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
