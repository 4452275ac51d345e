package main

import (
	"errors"

	"github.com/gintoki/gintoki/debezium"
)

// rejectReasons are the reasons decodeReason gives.
var rejectReasons = []string{"unknown_table", "malformed"}

// decodeReason names why the feed rejected a record, for
// gintoki_changes_rejected_total{reason}.
func decodeReason(err error) string {
	if errors.Is(err, debezium.ErrUnknownTable) {
		return "unknown_table"
	}
	return "malformed"
}
