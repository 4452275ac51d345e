package promexport

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestDelayHistograms(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay *Delay
	}{
		{"gintoki_change_apply_delay_seconds", NewChangeApplyDelay()},
		{"gintoki_relay_commit_to_ack_seconds", NewRelayAckDelay()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.delay.ObserveDuration(3 * time.Millisecond)
			tc.delay.ObserveDuration(40 * time.Second) // beyond the last bucket: +Inf
			want := `
				` + tc.name + `_bucket{le="0.001"} 0
				` + tc.name + `_bucket{le="0.0025"} 0
				` + tc.name + `_bucket{le="0.005"} 1
				` + tc.name + `_bucket{le="0.0075"} 1
				` + tc.name + `_bucket{le="0.01"} 1
				` + tc.name + `_bucket{le="0.015"} 1
				` + tc.name + `_bucket{le="0.02"} 1
				` + tc.name + `_bucket{le="0.025"} 1
				` + tc.name + `_bucket{le="0.05"} 1
				` + tc.name + `_bucket{le="0.1"} 1
				` + tc.name + `_bucket{le="0.25"} 1
				` + tc.name + `_bucket{le="0.5"} 1
				` + tc.name + `_bucket{le="1"} 1
				` + tc.name + `_bucket{le="2.5"} 1
				` + tc.name + `_bucket{le="5"} 1
				` + tc.name + `_bucket{le="10"} 1
				` + tc.name + `_bucket{le="30"} 1
				` + tc.name + `_bucket{le="+Inf"} 2
				` + tc.name + `_sum 40.003
				` + tc.name + `_count 2
			`
			if err := testutil.CollectAndCompare(tc.delay, expose(t, want)); err != nil {
				t.Error(err)
			}
			lint(t, tc.delay)
		})
	}
}
