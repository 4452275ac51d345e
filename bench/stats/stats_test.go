package stats

import (
	"math"
	"testing"
	"time"
)

func TestSeries(t *testing.T) {
	s := Series{3, 1, 2, 10}
	if s.Median() != 2.5 || s.Min() != 1 || s.Max() != 10 {
		t.Errorf("median %v min %v max %v", s.Median(), s.Min(), s.Max())
	}
	if m := (Series{5, 1, 3}).Median(); m != 3 {
		t.Errorf("odd median %v", m)
	}
	if !math.IsNaN(Series(nil).Median()) {
		t.Error("empty median is not NaN")
	}
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]time.Duration{0.5: 5, 0.99: 10, 0.1: 1, 0: 1} {
		if got := Percentile(d, q); got != want {
			t.Errorf("percentile(%v) = %v, want %v", q, got, want)
		}
	}
}
