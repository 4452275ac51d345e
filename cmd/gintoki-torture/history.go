package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A version is one committed state of a stock row or of a warehouse.
// Values make time visible: every write takes the next number of one global
// sequence, and that number is the row's qty_salable (or the suffix of the
// warehouse's code), so a value read back names the write it came from.
type version struct {
	Seq  int64 // the write's sequence number: the qty, or the code's suffix; for a row delete, a number no value uses
	Live bool  // row present / warehouse active
	Prev int64 // row delete: the qty it deleted (how the delete event names it)
	Tx   int   // index in history.txs; 0 for the seed data
	// Sent and Done bound the commit: COMMIT was sent at Sent and returned
	// at Done (for a commit whose outcome was learnt later, Done is when it
	// was learnt). A change may be visible from Sent and must be from Done.
	Sent, Done time.Duration
}

// A tx is one write transaction, for timelines.
type tx struct {
	Sent, Done time.Duration
	Uncertain  bool   // COMMIT failed; the outcome was checked afterwards
	What       string // e.g. "update p3/w2=17 p9/w1=18"
}

// history is every committed write, by row and warehouse, in commit order
// (one writer commits one transaction at a time, so sequence order is
// commit order). The writer owns it while the run lasts; the checks read it
// afterwards.
type history struct {
	products, warehouses int
	rows                 [][]version // [product*warehouses + warehouse-1]
	whs                  [][]version // [warehouse-1]
	txs                  []tx        // txs[0] is the seed
}

func newHistory(products, warehouses int) *history {
	return &history{
		products: products, warehouses: warehouses,
		rows: make([][]version, (products+1)*warehouses),
		whs:  make([][]version, warehouses),
		txs:  []tx{{What: "seed"}},
	}
}

// row returns the versions of row (p, w), nil for a product outside the
// range (ids the writer never uses).
func (h *history) row(p int64, w int) []version {
	if p < 1 || p > int64(h.products) || w < 1 || w > h.warehouses {
		return nil
	}
	return h.rows[int(p)*h.warehouses+w-1]
}

func (h *history) addRow(p int64, w int, v version) {
	i := int(p)*h.warehouses + w - 1
	h.rows[i] = append(h.rows[i], v)
}

func (h *history) addWarehouse(w int, v version) { h.whs[w-1] = append(h.whs[w-1], v) }

// warehouseCode is the code a warehouse has at version seq: "W<id>-<seq>".
func warehouseCode(w int, seq int64) string { return fmt.Sprintf("W%d-%d", w, seq) }

// parseWarehouseCode inverts warehouseCode.
func parseWarehouseCode(code string) (w int, seq int64, err error) {
	id, s, ok := strings.Cut(strings.TrimPrefix(code, "W"), "-")
	if !ok || !strings.HasPrefix(code, "W") {
		return 0, 0, fmt.Errorf("warehouse code %q is not W<id>-<seq>", code)
	}
	if w, err = strconv.Atoi(id); err != nil {
		return 0, 0, fmt.Errorf("warehouse code %q: %w", code, err)
	}
	if seq, err = strconv.ParseInt(s, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("warehouse code %q: %w", code, err)
	}
	return w, seq, nil
}

// find returns the index of the live version with sequence seq, or -1.
func find(vs []version, seq int64) int {
	i := sort.Search(len(vs), func(i int) bool { return vs[i].Seq >= seq })
	if i < len(vs) && vs[i].Seq == seq && vs[i].Live {
		return i
	}
	return -1
}

// lackAge is how old an answer sent at sent is when it shows version i of
// vs: the time since the next version (the oldest change it lacks) was
// committed, or 0 if it lacks none committed before it was sent. It also
// returns that next version's index (-1 if none).
func lackAge(vs []version, i int, sent time.Duration) (time.Duration, int) {
	if i+1 >= len(vs) {
		return 0, -1
	}
	return max(0, sent-vs[i+1].Done), i + 1
}

// lastDead returns the index of the latest version committed (sent)
// before recv in which the row or warehouse was absent: deleted or
// inactive; -1 for "before its first version".
func lastDead(vs []version, recv time.Duration) int {
	best := -1
	for i, v := range vs {
		if v.Sent >= recv {
			break
		}
		if !v.Live {
			best = i
		}
	}
	return best
}

// absentAge is how old an answer is that shows vs as absent, explained in
// the most favourable way (the latest absent state it could show): the age
// and the index of the oldest version it lacks (-1 if none).
func absentAge(vs []version, sent, recv time.Duration) (time.Duration, int) {
	return lackAge(vs, lastDead(vs, recv), sent)
}
