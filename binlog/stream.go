package binlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-sql-driver/mysql"

	"github.com/gintoki/gintoki/relay"
)

// Reconnection backoff: the first retry comes soon (a restart takes a
// second or two), later ones less often.
const (
	reconnectMinDelay = 250 * time.Millisecond
	reconnectMaxDelay = 5 * time.Second
)

// stream assembles binlog events into transactions. The syncer runs a
// goroutine of its own that reads the connection until Close, or until the
// connection fails, when it reports the error and ends; everything else
// belongs to the one goroutine calling Next.
type stream struct {
	src      *Source
	syncer   *replication.BinlogSyncer // nil while reconnecting
	events   *replication.BinlogStreamer
	database string
	tables   map[string]bool
	resume   relay.BinlogPosition // end of the last whole transaction: where a reconnection starts
	partSize int                  // a transaction's changes are handed on in parts of about this many

	pending []*replication.BinlogEvent // events unpacked from a compressed transaction, not yet handled
	file    string                     // current binlog file, from the last RotateEvent
	gtid    string                     // GTID of the open transaction
	inGroup bool                       // inside BEGIN … COMMIT/XID, so other queries do not commit
	changes []relay.RowChange          // row changes of the open transaction
	// shapes caches what each table map event says; the table maps of a
	// transaction are logged anew in every transaction, so the cache is
	// cleared at each commit.
	shapes map[*replication.TableMapEvent]tableShape
	// returned is the commit time of the last transaction Next returned;
	// it becomes caughtUp when Next is called again, that is once the
	// caller has handed that transaction on.
	returned time.Time
	// caughtUp is the latest time up to which every transaction the source
	// committed has been returned and handed on (Unix nanoseconds; 0: none
	// yet). The only field read by other goroutines.
	caughtUp atomic.Int64
}

var _ relay.Stream = (*stream)(nil)

// CaughtUpAt implements relay.Stream: the later of the commit time of the
// last transaction handed on (any transaction, relayed tables or not) and
// the receipt of the last heartbeat between transactions. The server sends
// a heartbeat only when it has had nothing to send for the heartbeat
// period, and sends transactions in commit order.
func (s *stream) CaughtUpAt() time.Time {
	if ns := s.caughtUp.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// markCaughtUp moves caughtUp forward to t.
func (s *stream) markCaughtUp(t time.Time) {
	if ns := t.UnixNano(); ns > s.caughtUp.Load() {
		s.caughtUp.Store(ns) // only the goroutine calling Next writes it
	}
}

// Close implements relay.Stream.
func (s *stream) Close() error {
	if s.syncer != nil {
		s.syncer.Close()
		s.syncer = nil
	}
	return nil
}

// Next implements relay.Stream: it returns at the commit of the next
// transaction, or of the next statement that commits on its own (DDL),
// whether or not it changed a relayed table. When the connection is lost
// (the server restarts, say) it reconnects, checks the server again and
// goes on from the end of the last transaction it returned, so a
// transaction is never split across connections.
func (s *stream) Next(ctx context.Context) (relay.Transaction, error) {
	if !s.returned.IsZero() {
		s.markCaughtUp(s.returned)
		s.returned = time.Time{}
	}
	for {
		ev, err := s.next(ctx)
		if err != nil {
			return relay.Transaction{}, err
		}
		tx, ready, err := s.handle(ev)
		if err != nil {
			return relay.Transaction{}, err
		}
		if ready {
			if !tx.More {
				s.resume = tx.End
			}
			return tx, nil
		}
	}
}

func (s *stream) next(ctx context.Context) (*replication.BinlogEvent, error) {
	if len(s.pending) > 0 {
		ev := s.pending[0]
		s.pending = s.pending[1:]
		return ev, nil
	}
	for {
		ev, err := s.events.GetEvent(ctx)
		if err == nil {
			return ev, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read binlog: %w", ctx.Err())
		}
		if fatal(err) {
			return nil, fmt.Errorf("read binlog after %v: %w", s.resume, err)
		}
		if err := s.reconnect(ctx, err); err != nil {
			return nil, err
		}
	}
}

// reconnect replaces a failed connection, retrying with backoff until it
// succeeds, ctx ends or the server refuses for good (a purged binlog file,
// bad credentials, a failed Preflight).
func (s *stream) reconnect(ctx context.Context, cause error) error {
	// The failed syncer's goroutine has ended. It is dropped rather than
	// closed: Close would KILL its old connection id on whichever server
	// now answers, which after a restart may be another client's
	// connection. The server drops the old dump thread itself when a
	// replica with the same server id registers again.
	s.syncer, s.events = nil, nil
	s.pending, s.changes, s.gtid, s.inGroup = nil, nil, "", false
	clear(s.shapes)
	delay := reconnectMinDelay
	for attempt := 1; ; attempt++ {
		s.src.log.Warn("binlog connection lost; reconnecting", "error", cause.Error(), "attempt", attempt,
			"file", s.resume.File, "pos", s.resume.Pos, "delay", delay)
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("reconnect to binlog: %w", ctx.Err())
		case <-timer.C:
		}
		syncer, events, _, err := s.src.dial(ctx, s.resume)
		if err == nil {
			s.syncer, s.events = syncer, events
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("reconnect to binlog: %w", ctx.Err())
		}
		if fatal(err) {
			return fmt.Errorf("reconnect to binlog at %v: %w", s.resume, err)
		}
		cause = err
		delay = min(2*delay, reconnectMaxDelay)
	}
}

// fatal reports whether err will not go away by reconnecting.
func fatal(err error) bool {
	var se *SettingError
	var pe *PurgedError
	var ee *replication.EventError // an event go-mysql cannot decode would fail again
	if errors.As(err, &se) || errors.As(err, &pe) || errors.As(err, &ee) {
		return true
	}
	var me *gomysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case gomysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, // e.g. the file was purged
			gomysql.ER_ACCESS_DENIED_ERROR, gomysql.ER_DBACCESS_DENIED_ERROR,
			gomysql.ER_SPECIFIC_ACCESS_DENIED_ERROR:
			return true
		}
	}
	var de *mysql.MySQLError
	if errors.As(err, &de) {
		switch de.Number {
		case gomysql.ER_ACCESS_DENIED_ERROR, gomysql.ER_DBACCESS_DENIED_ERROR,
			gomysql.ER_SPECIFIC_ACCESS_DENIED_ERROR:
			return true
		}
	}
	return false
}

// handle applies one event; ready is true when it ended a transaction, or
// filled a part of a large one (tx.More).
func (s *stream) handle(ev *replication.BinlogEvent) (tx relay.Transaction, ready bool, err error) {
	h := ev.Header
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		// Both the real rotate at the end of a file and the artificial one
		// the server sends first on every (re)connection name the file the
		// following events are in.
		s.file = string(e.NextLogName)
	case *replication.MariadbGTIDEvent:
		s.begin(e.GTID.String(), !e.IsStandalone())
	case *replication.GTIDEvent:
		gtid := ""
		if e.GNO != 0 { // 0: an anonymous transaction (gtid_mode OFF)
			if set, err := e.GTIDNext(); err == nil {
				gtid = set.String()
			}
		}
		s.begin(gtid, false) // MySQL logs an explicit BEGIN
	case *replication.QueryEvent:
		switch q := strings.TrimSpace(string(e.Query)); {
		case strings.EqualFold(q, "BEGIN"):
			s.inGroup = true
		case strings.EqualFold(q, "COMMIT"), !s.inGroup:
			// COMMIT ends a group of non-transactional writes; outside a
			// group a query (DDL) commits on its own.
			tx, err = s.commit(h)
			return tx, err == nil, err
		case strings.EqualFold(q, "ROLLBACK"):
			s.changes = nil
			tx, err = s.commit(h)
			return tx, err == nil, err
		}
	case *replication.XIDEvent:
		tx, err = s.commit(h)
		return tx, err == nil, err
	case *replication.RowsEvent:
		if err := s.rows(h, e); err != nil {
			return tx, false, err
		}
		if len(s.changes) >= s.partSize {
			return s.part(h), true, nil
		}
	case *replication.TransactionPayloadEvent:
		s.pending = append(s.pending, e.Events...)
	case *replication.HeartbeatEvent:
		if !s.inGroup && s.gtid == "" && len(s.changes) == 0 && len(s.pending) == 0 {
			s.markCaughtUp(time.Now())
		}
	}
	return tx, false, nil
}

func (s *stream) begin(gtid string, group bool) {
	s.gtid, s.inGroup, s.changes = gtid, group, nil
}

// commit closes the open transaction at the event h, whose end is where
// reading resumes after it.
// commitTime is the transaction's commit time as precisely as the relay
// can tell. The binlog header holds whole seconds; when the commit event is
// read within the second it names (reading live), the moment it is read is
// a millisecond-precise bound just after the commit, and is used instead.
// Events read later (catching up) keep the header's second.
func commitTime(h *replication.EventHeader, read time.Time) time.Time {
	at := time.Unix(int64(h.Timestamp), 0)
	if d := read.Sub(at); d >= 0 && d < time.Second {
		return read
	}
	return at
}

// part hands on the changes read so far of a transaction not yet ended, so
// that a large transaction never sits whole in memory. Its commit time is
// not known yet (the commit event comes last); the parts carry the time of
// the rows event that filled them, as commitTime reads it.
func (s *stream) part(h *replication.EventHeader) relay.Transaction {
	at := commitTime(h, time.Now())
	for i := range s.changes {
		s.changes[i].Source.Time = at
	}
	tx := relay.Transaction{Changes: s.changes, More: true}
	s.changes = make([]relay.RowChange, 0, s.partSize)
	return tx
}

func (s *stream) commit(h *replication.EventHeader) (relay.Transaction, error) {
	if h.LogPos == 0 || s.file == "" {
		return relay.Transaction{}, fmt.Errorf("commit event at unknown position (file %q, log_pos %d)", s.file, h.LogPos)
	}
	at := commitTime(h, time.Now())
	s.returned = at // Next returns tx
	for i := range s.changes {
		s.changes[i].Source.Time = at
	}
	tx := relay.Transaction{Changes: s.changes, End: relay.BinlogPosition{File: s.file, Pos: uint64(h.LogPos)}}
	s.gtid, s.inGroup, s.changes = "", false, nil
	clear(s.shapes)
	return tx, nil
}

// rows adds the row changes of a rows event on a relayed table.
func (s *stream) rows(h *replication.EventHeader, e *replication.RowsEvent) error {
	t := e.Table
	if t == nil || string(t.Schema) != s.database || !s.tables[string(t.Table)] {
		return nil
	}
	shape, ok := s.shapes[t]
	if !ok {
		var err error
		if shape, err = shapeOf(t); err != nil {
			return err
		}
		s.shapes[t] = shape
	}
	var op byte
	step := 1
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		op = relay.OpCreate
	case replication.EnumRowsEventTypeUpdate:
		op, step = relay.OpUpdate, 2
	case replication.EnumRowsEventTypeDelete:
		op = relay.OpDelete
	default:
		return fmt.Errorf("%s.%s: unexpected rows event %v", t.Schema, t.Table, h.EventType)
	}
	if len(e.Rows)%step != 0 || len(e.SkippedColumns) != len(e.Rows) {
		return fmt.Errorf("%s.%s: update event with %d row images", t.Schema, t.Table, len(e.Rows))
	}
	// The event's start: LogPos is where the next event begins.
	start := uint64(h.LogPos)
	if h.LogPos >= h.EventSize {
		start -= uint64(h.EventSize)
	}
	for i := 0; i < len(e.Rows); i += step {
		c := relay.RowChange{
			Database: s.database,
			Table:    shape.table,
			Op:       op,
			Key:      shape.key,
			Columns:  shape.columns,
			Source: relay.SourceInfo{
				File: s.file, Pos: start, Row: uint32(i / step), GTID: s.gtid, ServerID: h.ServerID,
			},
		}
		img, err := shape.image(e.Rows[i], e.SkippedColumns[i])
		if err != nil {
			return fmt.Errorf("%s.%s at %s:%d: %w", t.Schema, t.Table, s.file, start, err)
		}
		switch op {
		case relay.OpCreate:
			c.After = img
		case relay.OpDelete:
			c.Before = img
		case relay.OpUpdate:
			c.Before = img
			if c.After, err = shape.image(e.Rows[i+1], e.SkippedColumns[i+1]); err != nil {
				return fmt.Errorf("%s.%s at %s:%d: %w", t.Schema, t.Table, s.file, start, err)
			}
		}
		s.changes = append(s.changes, c)
	}
	return nil
}
