package relay

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// readAhead is how many transactions (or parts, of about binlog's part
// size each) the reading stage may hand on ahead of the publishing stage:
// enough that reading the binlog overlaps encoding and publishing, few
// enough that memory stays bounded.
const readAhead = 2

// read is the pipeline's producing half: it returns nil when ctx ends, or
// the error that stopped it. It runs two stages, each in a goroutine of its
// own, joined by a channel of readAhead transactions:
//
//   - fetch reads transactions (or parts of one) from the stream;
//   - publish encodes them and publishes them, in the order read, each
//     waiting for room in the in-flight window (backpressure from the
//     broker).
//
// A large transaction so goes through part by part as it is read, and
// memory does not grow with it. Order is kept: one goroutine publishes, in
// read order, so messages of one key are published in commit order, and
// the tracker sees transactions in read order, as the checkpoint needs.
//
// held is asked before every publish; once it says no, read publishes
// nothing more and returns nil (Run sees the lease lost).
func (r *Relay) read(ctx context.Context, stream Stream, t *tracker, held func() bool) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	parts := make(chan Transaction, readAhead)
	// The fetching goroutine is owned by read: it ends when ctx ends or the
	// stream fails, closing parts, and read waits for it before returning,
	// so that the stream is never read after read returns.
	fetched := make(chan error, 1)
	go func() { fetched <- r.fetch(ctx, stream, t, parts) }()
	err := r.publish(ctx, t, held, parts)
	stop()
	fetchErr := <-fetched
	if err == nil {
		err = fetchErr
	}
	return err
}

// fetch reads the stream into parts until ctx ends (it returns nil) or
// reading fails, then closes parts.
//
// Each transaction is counted in the tracker (queued) before it is sent,
// and so before Next is called again: from then on the stream counts it as
// handed on in CaughtUpAt, and Run's heartbeat must see it as in flight
// until the broker has it.
func (r *Relay) fetch(ctx context.Context, stream Stream, t *tracker, parts chan<- Transaction) error {
	defer close(parts)
	for {
		tx, err := stream.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read change stream: %w", err)
		}
		if !tx.More && tx.End.IsZero() {
			// The tracker would take it for a part and hold the checkpoint
			// back without a word.
			return errors.New("read change stream: a transaction's last part has no end position")
		}
		t.enqueue()
		select {
		case parts <- tx:
		case <-ctx.Done():
			return nil
		}
	}
}

// publish encodes and publishes the transactions of parts, in order,
// until parts is closed (it returns nil), ctx ends (nil), or encoding
// fails (the error).
func (r *Relay) publish(ctx context.Context, t *tracker, held func() bool, parts <-chan Transaction) error {
	var txMsgs uint64 // messages of the current transaction's parts so far
	for tx := range parts {
		// Usually one message per change; a delete adds a tombstone.
		msgs := make([]BrokerRecord, 0, len(tx.Changes)+len(tx.Changes)/8)
		for _, c := range tx.Changes {
			var err error
			if msgs, err = r.cfg.Encoder.Append(msgs, c); err != nil {
				return fmt.Errorf("encode change of %s.%s at %s:%d row %d: %w",
					c.Database, c.Table, c.Source.File, c.Source.Pos, c.Source.Row, err)
			}
		}
		if len(msgs) == 0 {
			if !tx.More {
				t.skip(tx.End)
				if txMsgs > 0 {
					r.stats.Transactions.Add(1)
				}
				txMsgs = 0
			}
			t.dequeue()
			continue
		}
		end := tx.End
		if tx.More {
			end = BinlogPosition{}
		}
		commit, n := tx.Changes[0].Source.Time, uint64(len(msgs))
		p, err := t.begin(ctx, end, commit, len(msgs))
		if err != nil {
			// ctx ended or an earlier publish failed; Run reports the latter.
			return nil
		}
		t.dequeue() // after begin: counted in flight all along
		if !held() {
			// Fenced between two confirmations of the lease; Run learns it
			// from Lost. The messages are not published, and the position
			// never moves past them.
			t.abandon(p)
			<-ctx.Done()
			return nil
		}
		txMsgs += n
		if !tx.More {
			r.stats.Transactions.Add(1)
			txMsgs = 0
		}
		r.stats.Changes.Add(uint64(len(tx.Changes)))
		r.stats.Published.Add(n)
		if !commit.IsZero() {
			r.stats.lastCommit.Store(commit.UnixNano())
		}
		last := !tx.More
		r.cfg.Publisher.Publish(ctx, msgs, func(err error) {
			t.finish(p, err)
			if err != nil {
				return
			}
			r.stats.Acked.Add(n)
			if last && r.cfg.AckDelay != nil && !commit.IsZero() {
				r.cfg.AckDelay(time.Since(commit))
			}
		})
	}
	return nil
}
