package loadgen

import (
	"sync/atomic"
	"testing"
)

func TestFanOut(t *testing.T) {
	var n atomic.Int64
	Burst(100, func(int) { n.Add(1) })
	if n.Load() != 100 {
		t.Errorf("ran %d", n.Load())
	}
}
