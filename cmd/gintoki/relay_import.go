package main

import (
	"context"
	"log/slog"

	"github.com/gintoki/gintoki/relay"
)

// importingCheckpoint is the relay's checkpoint (the Kafka topic) that,
// while it holds no position, takes the one in a file written by relays
// before the position moved to Kafka, so that an upgrade skips nothing. The
// file is only read: once the relay has saved a position to the topic, the
// file no longer matters.
type importingCheckpoint struct {
	relay.Checkpoint
	file *relay.FileCheckpoint
	log  *slog.Logger
}

// Load implements relay.Checkpoint.
func (c *importingCheckpoint) Load(ctx context.Context) (relay.BinlogPosition, error) {
	p, err := c.Checkpoint.Load(ctx)
	if err != nil || !p.IsZero() {
		return p, err
	}
	p, err = c.file.Load(ctx)
	if err == nil && !p.IsZero() {
		c.log.Warn("no position in the checkpoint topic: resuming from the checkpoint file", "file", p.File, "pos", p.Pos)
	}
	return p, err
}
