package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// expected renders each product as the database has it, in the form
// render gives a node's answer: "-" for not found, else "W1-5:17 W2-9:20"
// (active warehouses only, by code).
func expected(ctx context.Context, db *sql.DB, products int) (map[int64]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT s.product_id, w.code, w.is_active, s.qty_salable
		FROM warehouse_stock_item s JOIN warehouse w ON w.id = s.warehouse_id`)
	if err != nil {
		return nil, fmt.Errorf("read the database: %w", err)
	}
	defer rows.Close()
	lines := map[int64][]string{}
	for rows.Next() {
		var p, qty int64
		var code string
		var active bool
		if err := rows.Scan(&p, &code, &active, &qty); err != nil {
			return nil, fmt.Errorf("read the database: %w", err)
		}
		if _, ok := lines[p]; !ok {
			lines[p] = []string{}
		}
		if active {
			lines[p] = append(lines[p], fmt.Sprintf("%s:%d", code, qty))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the database: %w", err)
	}
	out := map[int64]string{}
	for p := int64(1); p <= int64(products)+5; p++ {
		ls, ok := lines[p]
		if !ok {
			out[p] = "-"
			continue
		}
		sort.Strings(ls)
		out[p] = strings.Join(ls, " ")
	}
	return out, nil
}

func render(pv productView) string {
	if !pv.Found {
		return "-"
	}
	ls := []string{}
	for _, r := range pv.Rows {
		ls = append(ls, fmt.Sprintf("%s:%d", warehouseCode(r.W, r.K), r.Qty))
	}
	sort.Strings(ls)
	return strings.Join(ls, " ")
}

// historyView renders the last committed state of each product as the
// history has it, in the form of expected: the history must agree with
// the database, or the checks would judge against a wrong truth.
func historyView(h *history) map[int64]string {
	out := map[int64]string{}
	for p := int64(1); p <= int64(h.products)+5; p++ {
		found, ls := false, []string{}
		for w := 1; w <= h.warehouses; w++ {
			vs, wvs := h.row(p, w), h.whs[w-1]
			if len(vs) == 0 || !vs[len(vs)-1].Live {
				continue
			}
			found = true
			if wv := wvs[len(wvs)-1]; wv.Live {
				ls = append(ls, fmt.Sprintf("%s:%d", warehouseCode(w, wv.Seq), vs[len(vs)-1].Seq))
			}
		}
		if !found {
			out[p] = "-"
			continue
		}
		sort.Strings(ls)
		out[p] = strings.Join(ls, " ")
	}
	return out
}

// converge waits until every node answers every product (and a few ids
// never written) as the database has it, or timeout passes; it returns one
// violation per node and product that still differs, and how long
// convergence took.
func converge(ctx context.Context, s *stack, h *history, timeout time.Duration) ([]violation, time.Duration, error) {
	start := time.Now()
	want, err := expected(ctx, s.sql, h.products)
	if err != nil {
		return nil, 0, err
	}
	for p, v := range historyView(h) {
		if want[p] != v {
			return nil, 0, fmt.Errorf("the writer's history disagrees with the database on p%d: %q, the database has %q", p, v, want[p])
		}
	}
	ids := make([]int64, 0, len(want))
	for p := range want {
		ids = append(ids, p)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for {
		var bad []violation
		for _, n := range s.nodes {
			got, err := batchAll(ctx, n, ids)
			if err != nil {
				bad = append(bad, violation{Kind: "divergence", Node: n.i, Msg: fmt.Sprintf("node%d: %v", n.i, err)})
				continue
			}
			for _, p := range ids {
				if got[p] != want[p] {
					bad = append(bad, violation{Kind: "divergence", Node: n.i, P: p,
						Msg: fmt.Sprintf("node%d p%d after quiescence: shows %q, the database has %q", n.i, p, got[p], want[p])})
				}
			}
		}
		if len(bad) == 0 || time.Since(start) > timeout {
			return bad, time.Since(start), nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// batchAll reads ids through n's batch endpoint, 100 at a time.
func batchAll(ctx context.Context, n *node, ids []int64) (map[int64]string, error) {
	got := map[int64]string{}
	for i := 0; i < len(ids); i += 100 {
		chunk := ids[i:min(i+100, len(ids))]
		body, _ := json.Marshal(map[string][]int64{"product_ids": chunk})
		req, err := http.NewRequestWithContext(ctx, "POST", n.http+"/v1/inventory:batchGet", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		resp, err := n.client.Do(req)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("batch: %s: %.200s", resp.Status, b)
		}
		pvs, err := parseAnswer(b, true)
		if err != nil {
			return nil, err
		}
		for _, pv := range pvs {
			got[pv.P] = render(pv)
		}
	}
	return got, nil
}
