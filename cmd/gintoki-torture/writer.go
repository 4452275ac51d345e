package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// writer commits the model's transactions one at a time, so sequence order
// is commit order for every row, and records each commit in the history
// with the times COMMIT was sent and returned.
type writer struct {
	db    *sql.DB
	m     *model
	h     *history
	rng   *rand.Rand
	clock func() time.Duration // time since the run started
	rate  int                  // transactions per second

	committed, failed, uncertain int
}

// seed writes the model's initial rows and records them as the history's
// seed versions.
func (wr *writer) seed(db *sql.DB) error {
	if _, err := db.Exec(seedSQL(wr.m)); err != nil {
		return err
	}
	at := wr.clock()
	for w := 1; w <= wr.m.warehouses; w++ {
		wr.h.addWarehouse(w, version{Seq: wr.m.whSeq[w-1], Live: wr.m.whLive[w-1], Sent: at, Done: at})
	}
	for p := int64(1); p <= int64(wr.m.products); p++ {
		for w := 1; w <= wr.m.warehouses; w++ {
			if q := wr.m.qty(p, w); q > 0 {
				wr.h.addRow(p, w, version{Seq: q, Live: true, Sent: at, Done: at})
			}
		}
	}
	return nil
}

// warmUp commits one transaction that renames warehouse 1 and updates a
// row of product 1, so that the relay creates both change topics, as in
// a deployment that has run before.
func (wr *writer) warmUp(ctx context.Context) error {
	m := wr.m
	w := 1
	for ; w < m.warehouses && m.qty(1, w) == 0; w++ {
	}
	cs := []change{{W: 1, Wh: true, Live: m.whLive[0], Seq: m.seq + 1}, {P: 1, W: w, Live: true, Prev: m.qty(1, w), Seq: m.seq + 2}}
	m.seq += 2
	sent, done, err := wr.commit(ctx, cs)
	if err != nil {
		return fmt.Errorf("warm-up write: %w", err)
	}
	wr.record(cs, sent, done, false)
	return nil
}

// run writes until ctx ends. A transaction that fails before COMMIT is
// rolled back and forgotten; one whose COMMIT fails is checked once the
// database answers again, and recorded if it did commit.
func (wr *writer) run(ctx context.Context) error {
	tick := time.NewTicker(time.Second / time.Duration(wr.rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		cs := wr.m.next(wr.rng)
		sent, done, err := wr.commit(ctx, cs)
		var commitErr *commitError
		switch {
		case errors.As(err, &commitErr):
			wr.uncertain++
			vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			ok, at, verr := wr.verify(vctx, cs)
			cancel()
			if verr != nil {
				return verr
			}
			if ok {
				wr.record(cs, sent, at, true)
			} else {
				wr.failed++
			}
		case err != nil:
			wr.failed++
			if ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond) // the database is down: do not spin
			}
		default:
			wr.record(cs, sent, done, false)
		}
	}
}

// commitError is a failed COMMIT: the transaction may or may not have
// committed.
type commitError struct{ err error }

func (e *commitError) Error() string { return "commit: " + e.err.Error() }

func (wr *writer) commit(ctx context.Context, cs []change) (sent, done time.Duration, err error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	tx, err := wr.db.BeginTx(cctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("begin: %w", err)
	}
	for _, c := range cs {
		res, err := tx.ExecContext(cctx, c.sql())
		if err != nil {
			_ = tx.Rollback()
			return 0, 0, fmt.Errorf("%s: %w", c.sql(), err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			_ = tx.Rollback()
			return 0, 0, fmt.Errorf("%s: %d rows affected, want 1 (%v): the writer's model is wrong", c.sql(), n, err)
		}
	}
	sent = wr.clock()
	if err := tx.Commit(); err != nil {
		return sent, 0, &commitError{err}
	}
	return sent, wr.clock(), nil
}

// verify learns whether a transaction whose COMMIT failed committed, by
// reading its first change back once the database answers (transactions
// are atomic).
func (wr *writer) verify(ctx context.Context, cs []change) (bool, time.Duration, error) {
	c := cs[0]
	for {
		var got sql.NullString
		var err error
		switch {
		case c.Wh:
			err = wr.db.QueryRowContext(ctx, "SELECT code FROM warehouse WHERE id = ?", c.W).Scan(&got)
		default:
			err = wr.db.QueryRowContext(ctx, "SELECT qty_salable FROM warehouse_stock_item WHERE product_id = ? AND warehouse_id = ?", c.P, c.W).Scan(&got)
			if errors.Is(err, sql.ErrNoRows) {
				err = nil
			}
		}
		if err == nil {
			var ok bool
			switch {
			case c.Wh:
				ok = got.String == warehouseCode(c.W, c.Seq)
			case c.Live:
				ok = got.String == fmt.Sprint(c.Seq)
			default:
				ok = !got.Valid
			}
			return ok, wr.clock(), nil
		}
		if ctx.Err() != nil {
			return false, 0, fmt.Errorf("outcome of a failed COMMIT still unknown after 2 minutes: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (wr *writer) record(cs []change, sent, done time.Duration, uncertain bool) {
	wr.m.apply(cs)
	wr.h.txs = append(wr.h.txs, tx{Sent: sent, Done: done, Uncertain: uncertain, What: describe(cs)})
	id := len(wr.h.txs) - 1
	for _, c := range cs {
		v := version{Seq: c.Seq, Live: c.Live, Prev: c.Prev, Tx: id, Sent: sent, Done: done}
		if c.Wh {
			wr.h.addWarehouse(c.W, v)
		} else {
			wr.h.addRow(c.P, c.W, v)
		}
	}
	wr.committed++
}
