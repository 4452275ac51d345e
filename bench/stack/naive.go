package stack

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// naiveSQL is the naive server's one query per request: the product's
// stock rows joined with their warehouses, through the stock table's
// primary key (product_id first) and the warehouse's.
const naiveSQL = "SELECT w.code, w.is_active, s.qty_salable FROM warehouse_stock_item s " +
	"JOIN warehouse w ON w.id = s.warehouse_id WHERE s.product_id = ? ORDER BY w.code"

// ServeNaiveHTTP is the naive server: the server a cache must beat on
// misses. Plain net/http and database/sql, one indexed join per request
// (naiveSQL, prepared on db), no cache, no snapshot transaction, no change
// stream; the same JSON as the service's GET /v1/products/{id}/inventory.
// It serves on ln until ctx ends.
func ServeNaiveHTTP(ctx context.Context, ln net.Listener, db *sql.DB) error {
	stmt, err := db.PrepareContext(ctx, naiveSQL)
	if err != nil {
		ln.Close()
		return fmt.Errorf("naive-http: prepare: %w", err)
	}
	defer stmt.Close()
	return serveUntilDone(ctx, "naive-http", ln, naiveHandler(stmt))
}

// naiveHandler answers GET /v1/products/{id}/inventory with one query of
// stmt (naiveSQL) per request: 404 for a product without stock rows, the
// active warehouses sorted by code otherwise (an empty list if none is
// active), as the service does.
func naiveHandler(stmt *sql.Stmt) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/products/{product_id}/inventory", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("product_id"), 10, 64)
		if err != nil || id <= 0 {
			http.Error(w, "bad product id", http.StatusBadRequest)
			return
		}
		body, found, err := naiveRead(r.Context(), stmt, id)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		case !found:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":{"code":404,"status":"NOT_FOUND","message":"product %d not found"}}`, id)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := naiveRead(r.Context(), stmt, 1); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	return mux
}

// naiveRead runs the query for product id and renders its answer.
func naiveRead(ctx context.Context, stmt *sql.Stmt, id int64) (body []byte, found bool, err error) {
	rows, err := stmt.QueryContext(ctx, id)
	if err != nil {
		return nil, false, fmt.Errorf("product %d: %w", id, err)
	}
	defer rows.Close()
	body = append(body, `{"product_id":`...)
	body = strconv.AppendInt(body, id, 10)
	body = append(body, `,"warehouses":[`...)
	n := 0
	for rows.Next() {
		var (
			code   string
			active int64
			qty    int64
		)
		if err := rows.Scan(&code, &active, &qty); err != nil {
			return nil, false, fmt.Errorf("product %d: %w", id, err)
		}
		found = true
		if active == 0 {
			continue
		}
		if n > 0 {
			body = append(body, ',')
		}
		n++
		c, _ := json.Marshal(code) // a string always marshals
		body = append(body, `{"warehouse_code":`...)
		body = append(body, c...)
		body = append(body, `,"qty_salable":`...)
		body = strconv.AppendInt(body, qty, 10)
		body = append(body, '}')
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("product %d: %w", id, err)
	}
	return append(body, "]}"...), found, nil
}
