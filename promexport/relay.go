package promexport

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/relay"
)

var (
	descRelayTx         = desc("gintoki_relay_transactions_total", "Transactions read from the change stream that had row changes to publish.")
	descRelayChanges    = desc("gintoki_relay_changes_total", "Row changes read from those transactions.")
	descRelayPublished  = desc("gintoki_relay_messages_published_total", "Messages handed to the broker client.")
	descRelayAcked      = desc("gintoki_relay_messages_acked_total", "Messages the broker acknowledged.")
	descRelayInFlight   = desc("gintoki_relay_messages_in_flight", "Messages published and not yet acknowledged.")
	descRelayCPSaves    = desc("gintoki_relay_checkpoint_saves_total", "Stream positions saved to the checkpoint.")
	descRelayCPErrors   = desc("gintoki_relay_checkpoint_errors_total", "Failed checkpoint saves (retried).")
	descRelayHeartbeats = desc("gintoki_relay_heartbeats_total", "Heartbeat messages the broker acknowledged.")
	descRelayStreaming  = desc("gintoki_relay_streaming", "1 while the change stream is open, else 0.")
	descRelayLeader     = desc("gintoki_relay_leader", "1 while this relay holds the leader lock and so is the one that publishes, 0 while it stands by. Across a relay pair the sum should be 1.")
	descRelayTerms      = desc("gintoki_relay_leader_terms_total", "Times this relay became the leader.")
	descRelayLost       = desc("gintoki_relay_leader_lost_total", "Times this relay lost the leader lock while relaying (and stopped publishing).")
	descRelayCaughtUp   = desc("gintoki_relay_caught_up_timestamp_seconds", "Time up to which every transaction committed in the database has been read and handed to the broker client (0: not yet); time() minus it is the relay's lag.")
	descRelayLastCommit = desc("gintoki_relay_last_commit_timestamp_seconds", "Commit time of the last transaction read with row changes to publish (0: none yet).")
)

// RelayCollector exports the relay's counters.
type RelayCollector struct{ stats *relay.Stats }

// NewRelayCollector returns a collector of the relay's counters (from
// relay.Relay.Stats).
func NewRelayCollector(st *relay.Stats) *RelayCollector { return &RelayCollector{stats: st} }

// Describe implements prometheus.Collector.
func (c *RelayCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, descRelayTx, descRelayChanges, descRelayPublished, descRelayAcked, descRelayInFlight, descRelayCPSaves,
		descRelayCPErrors, descRelayHeartbeats, descRelayStreaming, descRelayLeader, descRelayTerms, descRelayLost,
		descRelayCaughtUp, descRelayLastCommit)
}

// Collect implements prometheus.Collector.
func (c *RelayCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats
	published, acked := st.Published.Load(), st.Acked.Load()
	ch <- counter(descRelayTx, float64(st.Transactions.Load()))
	ch <- counter(descRelayChanges, float64(st.Changes.Load()))
	ch <- counter(descRelayPublished, float64(published))
	ch <- counter(descRelayAcked, float64(acked))
	ch <- gauge(descRelayInFlight, float64(published)-float64(acked))
	ch <- counter(descRelayCPSaves, float64(st.CheckpointSaves.Load()))
	ch <- counter(descRelayCPErrors, float64(st.CheckpointErrors.Load()))
	ch <- counter(descRelayHeartbeats, float64(st.Heartbeats.Load()))
	ch <- gauge(descRelayStreaming, bool01(st.Streaming()))
	ch <- gauge(descRelayLeader, bool01(st.Leader()))
	ch <- counter(descRelayTerms, float64(st.Terms.Load()))
	ch <- counter(descRelayLost, float64(st.LeasesLost.Load()))
	ch <- gauge(descRelayCaughtUp, unixSeconds(st.CaughtUp()))
	ch <- gauge(descRelayLastCommit, unixSeconds(st.LastCommit()))
}

// unixSeconds is t as seconds since the epoch, or 0 if t is zero (never).
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
