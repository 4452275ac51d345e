package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// model is the writer's picture of the database: which rows exist with
// which qty, and each warehouse's code suffix and activity. It only moves
// when a transaction is known to have committed.
type model struct {
	products, warehouses, hot int
	seq                       int64   // the last sequence number handed out
	qtys                      []int64 // [p*warehouses + w-1]; 0: no row
	whSeq                     []int64
	whLive                    []bool
}

// A change is one row or warehouse write of a transaction.
type change struct {
	P    int64 // product (rows only)
	W    int
	Wh   bool  // a warehouse change
	Live bool  // row present / warehouse active afterwards
	Seq  int64 // its sequence number
	Prev int64 // row: the qty before (0: no row)
}

// newModel draws the seed data: most products stocked in one to three
// warehouses, a tenth with no row at all (read as not found until the
// writer inserts one), the last warehouse inactive.
func newModel(products, warehouses, hot int, rng *rand.Rand) *model {
	m := &model{products: products, warehouses: warehouses, hot: hot,
		qtys: make([]int64, (products+1)*warehouses), whSeq: make([]int64, warehouses), whLive: make([]bool, warehouses)}
	for w := 1; w <= warehouses; w++ {
		m.seq++
		m.whSeq[w-1], m.whLive[w-1] = m.seq, w < warehouses
	}
	for p := 1; p <= products; p++ {
		if p > hot && rng.IntN(10) == 0 {
			continue
		}
		for range 1 + rng.IntN(3) {
			m.seq++
			m.qtys[p*warehouses+rng.IntN(warehouses)] = m.seq
		}
	}
	return m
}

func (m *model) qty(p int64, w int) int64 { return m.qtys[int(p)*m.warehouses+w-1] }

// apply records committed changes.
func (m *model) apply(cs []change) {
	for _, c := range cs {
		switch {
		case c.Wh:
			m.whSeq[c.W-1], m.whLive[c.W-1] = c.Seq, c.Live
		case c.Live:
			m.qtys[int(c.P)*m.warehouses+c.W-1] = c.Seq
		default:
			m.qtys[int(c.P)*m.warehouses+c.W-1] = 0
		}
	}
}

// next draws the changes of the next transaction: hot-key updates,
// multi-row and multi-product updates, inserts (re-inserts of deleted
// rows among them), deletes, and warehouse activations, deactivations
// and renames. Sequence numbers are taken in order; a transaction that
// does not commit leaves gaps, which are harmless.
func (m *model) next(rng *rand.Rand) []change {
	var cs []change
	touched := map[[2]int64]bool{}
	add := func(c change) {
		k := [2]int64{c.P, int64(c.W)}
		if c.Wh {
			k[0] = -1
		}
		if touched[k] {
			return
		}
		touched[k] = true
		m.seq++
		c.Seq = m.seq
		cs = append(cs, c)
	}
	product := func(hot bool) int64 {
		if hot {
			return 1 + rng.Int64N(int64(m.hot))
		}
		return 1 + rng.Int64N(int64(m.products))
	}
	// write sets row (p, some warehouse) present: an update of a live row
	// if it has one (or wantLive is false), else an insert.
	upsert := func(p int64) {
		var live []int
		for w := 1; w <= m.warehouses; w++ {
			if m.qty(p, w) > 0 {
				live = append(live, w)
			}
		}
		w := 1 + rng.IntN(m.warehouses)
		if len(live) > 0 && rng.IntN(4) > 0 {
			w = live[rng.IntN(len(live))]
		}
		add(change{P: p, W: w, Live: true, Prev: m.qty(p, w)})
	}
	switch r := rng.IntN(100); {
	case r < 35:
		upsert(product(true))
	case r < 60:
		for range 2 + rng.IntN(3) {
			upsert(product(rng.IntN(4) == 0))
		}
	case r < 75:
		p, w := product(rng.IntN(3) == 0), 1+rng.IntN(m.warehouses)
		add(change{P: p, W: w, Live: true, Prev: m.qty(p, w)})
	case r < 88:
		p := product(rng.IntN(3) == 0)
		for w := 1; w <= m.warehouses; w++ {
			if q := m.qty(p, w); q > 0 {
				add(change{P: p, W: w, Live: false, Prev: q})
				break
			}
		}
		if len(cs) == 0 {
			upsert(p)
		}
	case r < 91:
		w := 1 + rng.IntN(m.warehouses)
		live := m.whLive[w-1]
		if rng.IntN(3) > 0 {
			live = !live
		}
		add(change{W: w, Wh: true, Live: live})
		if rng.IntN(2) == 0 {
			upsert(product(true))
		}
	default:
		upsert(product(false))
	}
	return cs
}

// sql is the statement that makes change c.
func (c change) sql() string {
	switch {
	case c.Wh:
		return fmt.Sprintf("UPDATE warehouse SET code = '%s', is_active = %d WHERE id = %d", warehouseCode(c.W, c.Seq), b2i(c.Live), c.W)
	case c.Live && c.Prev == 0:
		return fmt.Sprintf("INSERT INTO warehouse_stock_item (product_id, warehouse_id, qty_salable) VALUES (%d, %d, %d)", c.P, c.W, c.Seq)
	case c.Live:
		return fmt.Sprintf("UPDATE warehouse_stock_item SET qty_salable = %d WHERE product_id = %d AND warehouse_id = %d", c.Seq, c.P, c.W)
	default:
		return fmt.Sprintf("DELETE FROM warehouse_stock_item WHERE product_id = %d AND warehouse_id = %d", c.P, c.W)
	}
}

// describe is a transaction's changes in a timeline: "p3/w2=17 -p4/w1 W2-19(off)".
func describe(cs []change) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case c.Wh:
			fmt.Fprintf(&b, "%s(%s)", warehouseCode(c.W, c.Seq), map[bool]string{true: "on", false: "off"}[c.Live])
		case c.Live && c.Prev == 0:
			fmt.Fprintf(&b, "+p%d/w%d=%d", c.P, c.W, c.Seq)
		case c.Live:
			fmt.Fprintf(&b, "p%d/w%d=%d", c.P, c.W, c.Seq)
		default:
			fmt.Fprintf(&b, "-p%d/w%d(#%d)", c.P, c.W, c.Seq)
		}
	}
	return b.String()
}
