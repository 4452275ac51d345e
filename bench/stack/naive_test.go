package stack

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// The naive server answers as the service does: active warehouses sorted
// by code, an empty list for a product stocked only in inactive ones, 404
// for a product without stock rows.
func TestNaiveServer(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'WH-MAD',1),(2,'WH-AMS',1),(3,'WH-VIE',0);
		INSERT INTO warehouse_stock_item VALUES (7,1,5),(7,2,9),(7,3,4),(8,3,1)`)
	stmt, err := db.DB(t, "inventory").PrepareContext(context.Background(), naiveSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	srv := httptest.NewServer(naiveHandler(stmt))
	defer srv.Close()
	for path, want := range map[string]struct {
		code int
		body string
	}{
		"/v1/products/7/inventory": {200, `{"product_id":7,"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":9},{"warehouse_code":"WH-MAD","qty_salable":5}]}`},
		"/v1/products/8/inventory": {200, `{"product_id":8,"warehouses":[]}`},
		"/v1/products/9/inventory": {404, `{"error":{"code":404,"status":"NOT_FOUND","message":"product 9 not found"}}`},
		"/v1/products/x/inventory": {400, "bad product id\n"},
		"/readyz":                  {200, "ready\n"},
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.code || string(body) != want.body {
			t.Errorf("GET %s = %d %s, want %d %s", path, resp.StatusCode, body, want.code, want.body)
		}
	}
}
