package promexport

import (
	"testing"

	"github.com/gintoki/gintoki/relay"
)

func TestRelayCollector(t *testing.T) {
	st := new(relay.Stats)
	checkCollector(t, NewRelayCollector(st), `
		gintoki_relay_transactions_total 0
		gintoki_relay_changes_total 0
		gintoki_relay_messages_published_total 0
		gintoki_relay_messages_acked_total 0
		gintoki_relay_messages_in_flight 0
		gintoki_relay_checkpoint_saves_total 0
		gintoki_relay_checkpoint_errors_total 0
		gintoki_relay_heartbeats_total 0
		gintoki_relay_streaming 0
		gintoki_relay_leader 0
		gintoki_relay_leader_terms_total 0
		gintoki_relay_leader_lost_total 0
		gintoki_relay_caught_up_timestamp_seconds 0
		gintoki_relay_last_commit_timestamp_seconds 0
	`)
	st.Transactions.Store(2)
	st.Changes.Store(5)
	st.Published.Store(7)
	st.Acked.Store(4)
	st.CheckpointSaves.Store(3)
	st.CheckpointErrors.Store(1)
	st.Heartbeats.Store(9)
	st.Terms.Store(2)
	st.LeasesLost.Store(1)
	checkCollector(t, NewRelayCollector(st), `
		gintoki_relay_transactions_total 2
		gintoki_relay_changes_total 5
		gintoki_relay_messages_published_total 7
		gintoki_relay_messages_acked_total 4
		gintoki_relay_messages_in_flight 3
		gintoki_relay_checkpoint_saves_total 3
		gintoki_relay_checkpoint_errors_total 1
		gintoki_relay_heartbeats_total 9
		gintoki_relay_streaming 0
		gintoki_relay_leader 0
		gintoki_relay_leader_terms_total 2
		gintoki_relay_leader_lost_total 1
		gintoki_relay_caught_up_timestamp_seconds 0
		gintoki_relay_last_commit_timestamp_seconds 0
	`)
}
