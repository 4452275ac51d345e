package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// fakeReader answers Get from a function.
type fakeReader struct {
	get func(ctx context.Context, id inventory.ProductID) ([]byte, error)
}

func (f fakeReader) Get(ctx context.Context, id inventory.ProductID, _ app.BodyFormat, dst []byte) ([]byte, bool, error) {
	b, err := f.get(ctx, id)
	return append(dst, b...), false, err
}

func (f fakeReader) GetBatch(ctx context.Context, ids []inventory.ProductID, _ app.BodyFormat) (app.BatchResult, error) {
	var res app.BatchResult
	if len(ids) == 0 {
		return res, inventory.Errorf(inventory.CodeInvalid, "batch is empty")
	}
	seen := map[inventory.ProductID]bool{}
	for _, id := range ids {
		if seen[id] { // app.Service reads each distinct id once
			continue
		}
		seen[id] = true
		b, err := f.get(ctx, id)
		switch {
		case err == nil:
			res.Bodies = append(res.Bodies, b)
		case inventory.ErrorCode(err) == inventory.CodeNotFound:
			res.NotFound = append(res.NotFound, id)
		default:
			return app.BatchResult{}, err
		}
	}
	return res, nil
}

func TestErrorMapping(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	s := New(fakeReader{get: func(ctx context.Context, id inventory.ProductID) ([]byte, error) {
		switch id {
		case 1:
			return []byte(`{"product_id":1,"warehouses":[]}`), nil
		case 2:
			return nil, inventory.Errorf(inventory.CodeNotFound, "product 2 not found")
		case 3:
			return nil, inventory.Errorf(inventory.CodeUnavailable, "database unavailable")
		case 4:
			return nil, context.DeadlineExceeded
		case 5:
			panic("boom")
		}
		return nil, io.ErrUnexpectedEOF // an unclassified error
	}}, Config{}, log, nil)
	tests := []struct {
		path   string
		status int
		name   string
	}{
		{"/v1/products/1/inventory", 200, ""},
		{"/v1/products/2/inventory", 404, "NOT_FOUND"},
		{"/v1/products/3/inventory", 503, "UNAVAILABLE"},
		{"/v1/products/4/inventory", 504, "DEADLINE_EXCEEDED"},
		{"/v1/products/5/inventory", 500, "INTERNAL"},
		{"/v1/products/6/inventory", 500, "INTERNAL"},
		{"/v1/products/x/inventory", 400, "INVALID_ARGUMENT"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", tc.path, nil)
			req.Header.Set("X-Request-Id", "rid-"+tc.path[13:14])
			s.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.name) {
				t.Errorf("GET %s = %d %s, want %d %s", tc.path, rec.Code, rec.Body, tc.status, tc.name)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("GET %s: content type %q", tc.path, ct)
			}
			if strings.Contains(rec.Body.String(), "boom") || strings.Contains(rec.Body.String(), "EOF") {
				t.Errorf("GET %s: internal detail reached the client: %s", tc.path, rec.Body)
			}
			if rec.Header().Get("X-Request-Id") != "rid-"+tc.path[13:14] {
				t.Errorf("GET %s: request id %q", tc.path, rec.Header().Get("X-Request-Id"))
			}
		})
	}
	if !strings.Contains(logs.String(), `"request_id":"rid-6"`) || !strings.Contains(logs.String(), "unexpected EOF") {
		t.Errorf("the internal error was not logged with its request id:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "panic in HTTP handler") || !strings.Contains(logs.String(), `"request_id":"rid-5"`) {
		t.Errorf("the panic was not logged with its request id:\n%s", logs.String())
	}
}

func TestStaleMark(t *testing.T) {
	s := New(fakeReader{get: func(context.Context, inventory.ProductID) ([]byte, error) { return []byte(`{}`), nil }},
		Config{Stale: func() bool { return true }}, slog.New(slog.DiscardHandler), nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/cache?product_id=1", nil))
	if rec.Code != 200 || rec.Header().Get("X-Gintoki-Stale") != "true" {
		t.Fatalf("stale response = %d, header %q", rec.Code, rec.Header().Get("X-Gintoki-Stale"))
	}
}

func TestReadiness(t *testing.T) {
	var logs bytes.Buffer
	ready := errors.New("ping db-7.internal:3306: connection refused")
	s := New(fakeReader{}, Config{Ready: func(context.Context) error { return ready }}, slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	for range 3 {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "not ready\n" {
			t.Fatalf("/readyz = %d %q, want 503 \"not ready\"", rec.Code, rec.Body)
		}
	}
	// The reason, which names an internal host, is logged once.
	if n := strings.Count(logs.String(), "db-7.internal"); n != 1 {
		t.Errorf("the reason was logged %d times, want once:\n%s", n, logs.String())
	}
	ready = fmt.Errorf("%w: 1234 products loaded", app.ErrWarming)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "warming\n" {
		t.Fatalf("/readyz while warming = %d %q, want 503 \"warming\"", rec.Code, rec.Body)
	}
	ready = nil
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 || rec.Body.String() != "ready\n" {
		t.Fatalf("/readyz = %d %q", rec.Code, rec.Body)
	}
}

// /debug/cached-ids streams the key list in the format --warm file: reads.
func TestCachedIDs(t *testing.T) {
	ids := func(yield func(inventory.ProductID) bool) {
		for _, id := range []inventory.ProductID{3, 1, 900000000001} {
			if !yield(id) {
				return
			}
		}
	}
	h := AdminHandler(ids)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/cached-ids", nil))
	if want := CachedIDsHeader + "3\n1\n900000000001\n"; rec.Code != 200 || rec.Body.String() != want {
		t.Fatalf("/debug/cached-ids = %d %q, want %q", rec.Code, rec.Body, want)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q", ct)
	}
	rec = httptest.NewRecorder()
	AdminHandler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/debug/cached-ids", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("/debug/cached-ids without a cache = %d", rec.Code)
	}
}

func TestJSONRenderer(t *testing.T) {
	inv := inventory.Inventory{Product: 7, Warehouses: []inventory.WarehouseStock{{Code: `A"B`, Qty: -1}, {Code: "Ü", Qty: 2}}}
	got := string(JSONRenderer{}.AppendInventory(nil, &inv))
	if want := `{"product_id":7,"warehouses":[{"warehouse_code":"A\"B","qty_salable":-1},{"warehouse_code":"Ü","qty_salable":2}]}`; got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if got := string(JSONRenderer{}.AppendInventory(nil, &inventory.Inventory{Product: 1})); got != `{"product_id":1,"warehouses":[]}` {
		t.Fatalf("empty: %s", got)
	}
}

// The renderer's string fast path writes what encoding/json writes.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "WH-AMS", `A"B`, `back\slash`, "tab\there", "<b>&", "Ü", "\x7f", "line\n", "\u2028"} {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}
