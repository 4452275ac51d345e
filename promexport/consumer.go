package promexport

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/kafka"
)

// Consumer is what ConsumerCollector reads of the change consumer.
type Consumer interface {
	// Status returns the consumer's current status.
	Status() kafka.Status
}

var _ Consumer = (*kafka.Consumer)(nil)

var (
	descLagRecords = prometheus.NewDesc("gintoki_consumer_lag_records", "Records not yet consumed, per partition, at the last probe.", []string{"topic", "partition"}, nil)
	descLagSeconds = prometheus.NewDesc("gintoki_consumer_lag_seconds", "Seconds since the partition was last known caught up: everything appended to it before then "+
		"has been consumed (up to the probe interval while it keeps up; since attaching if it has not caught up yet).", []string{"topic", "partition"}, nil)
	descAttached = desc("gintoki_consumer_attached", "1 when the change consumer is attached and its last probe of the broker succeeded.")
	descCaughtUp = desc("gintoki_consumer_caught_up", "1 once the consumer has read up to where the topics were when it attached.")
)

// ConsumerCollector exports the change consumer's state: per-partition
// lag, whether it is attached and whether it has caught up.
type ConsumerCollector struct {
	consumer Consumer
	now      func() time.Time
}

// NewConsumerCollector returns a collector of c's status.
func NewConsumerCollector(c Consumer) *ConsumerCollector {
	return &ConsumerCollector{consumer: c, now: time.Now}
}

// Describe implements prometheus.Collector.
func (c *ConsumerCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, descLagRecords, descLagSeconds, descAttached, descCaughtUp)
}

// Collect implements prometheus.Collector.
func (c *ConsumerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.consumer.Status()
	now := c.now()
	for _, p := range st.Partitions {
		part := strconv.Itoa(int(p.Partition))
		since := p.CaughtUpAt
		if since.IsZero() {
			since = st.AttachedAt
		}
		ch <- gauge(descLagRecords, float64(p.LagRecords), p.Topic, part)
		ch <- gauge(descLagSeconds, now.Sub(since).Seconds(), p.Topic, part)
	}
	ch <- gauge(descAttached, bool01(st.Attached && st.ProbeError == nil))
	ch <- gauge(descCaughtUp, bool01(st.CaughtUp))
}
