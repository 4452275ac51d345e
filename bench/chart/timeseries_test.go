package chart

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
)

func TestTimeSeries(t *testing.T) {
	var b bytes.Buffer
	x := []float64{0.5, 1.5, 2.5, 3.5}
	err := TimeSeries(&b, "latency across restarts", "s", "ms", []Line{
		{Label: "p50", X: x, Y: []float64{1, 2, math.NaN(), 1}},
		{Label: "p99", X: x, Y: []float64{5, 9, 20, 6}},
	}, []Band{{Label: "node1", From: 1, To: 3}})
	if err != nil {
		t.Fatal(err)
	}
	wellFormedSVG(t, b.Bytes(), "latency across restarts", "p50", "p99", "node1")
	if err := TimeSeries(io.Discard, "empty", "s", "ms", []Line{{Label: "p99", X: x, Y: []float64{math.NaN(), 0, 0, 0}}}, nil); !errors.Is(err, ErrNoData) {
		t.Errorf("nothing to draw: err = %v, want ErrNoData", err)
	}
}
