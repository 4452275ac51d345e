package promexport

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// delayBuckets span a loopback pipeline's millisecond to a stalled one's
// half minute.
var delayBuckets = []float64{.001, .0025, .005, .0075, .01, .015, .02, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Delay is a histogram of delays observed as they happen (once per change
// or transaction), the one kind of metric here not read at scrape time.
// Register it as a collector; hand Observe to the part that measures.
type Delay struct{ prometheus.Histogram }

// NewChangeApplyDelay returns gintoki_change_apply_delay_seconds, for
// the change feed (app.FeedConfig.ObserveDelay).
func NewChangeApplyDelay() *Delay {
	return &Delay{prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gintoki_change_apply_delay_seconds",
		Help:    "Time from the source's commit (event source.ts_ms) to the change being applied on this node.",
		Buckets: delayBuckets,
	})}
}

// NewRelayAckDelay returns gintoki_relay_commit_to_ack_seconds, for the
// relay (relay.Config.AckDelay).
func NewRelayAckDelay() *Delay {
	return &Delay{prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gintoki_relay_commit_to_ack_seconds",
		Help:    "Time from a transaction's commit to the broker's acknowledgement of its last message.",
		Buckets: delayBuckets,
	})}
}

// ObserveDuration records one delay.
func (d *Delay) ObserveDuration(delay time.Duration) { d.Observe(delay.Seconds()) }
