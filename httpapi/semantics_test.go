package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

// catalog answers ids below 100 with a body naming them; others are not
// found.
func catalog() fakeReader {
	return fakeReader{get: func(_ context.Context, id inventory.ProductID) ([]byte, error) {
		if err := id.Validate(); err != nil {
			return nil, err
		}
		if id < 100 {
			return fmt.Appendf(nil, `{"product_id":%d,"warehouses":[]}`, id), nil
		}
		return nil, inventory.Errorf(inventory.CodeNotFound, "product %d not found", int64(id))
	}}
}

func do(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	return rec
}

func TestMethodNotAllowed(t *testing.T) {
	s := New(catalog(), Config{}, slog.New(slog.DiscardHandler), nil)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"POST", "/v1/products/1/inventory", 405, "GET, HEAD"},
		{"PUT", "/v1/products/1/inventory", 405, "GET, HEAD"},
		{"DELETE", "/cache?product_id=1", 405, "GET, HEAD"},
		{"GET", "/v1/inventory:batchGet", 405, "POST"},
		{"PATCH", "/readyz", 405, "GET, HEAD"},
		{"OPTIONS", "/v1/products/1/inventory", 204, "GET, HEAD, OPTIONS"},
		{"POST", "/nowhere", 404, ""},
		{"GET", "/v1/products/1", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := do(t, s, tc.method, tc.path, "")
			if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow {
				t.Errorf("%s %s = %d Allow %q, want %d Allow %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.status, tc.allow)
			}
			if tc.status == 405 && !strings.Contains(rec.Body.String(), `"code":405`) {
				t.Errorf("%s %s: body %s", tc.method, tc.path, rec.Body)
			}
		})
	}
}

func TestHead(t *testing.T) {
	s := New(catalog(), Config{Gatherer: nil}, slog.New(slog.DiscardHandler), nil)
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, path := range []string{"/v1/products/7/inventory", "/cache?product_id=7", "/healthz", "/readyz", "/openapi.yaml", "/v1/products/700/inventory"} {
		get, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		get.Body.Close()
		head, err := http.Head(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		head.Body.Close()
		if head.StatusCode != get.StatusCode || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s = %d %q, GET = %d %q", path, head.StatusCode, head.Header.Get("Content-Type"), get.StatusCode, get.Header.Get("Content-Type"))
		}
	}
}

func TestBatchParsing(t *testing.T) {
	s := New(catalog(), Config{MaxBodyBytes: 1 << 10}, slog.New(slog.DiscardHandler), nil)
	tests := []struct {
		body   string
		status int
		want   string // the body for 200, a part of the message otherwise
	}{
		{`{"product_ids":[1]}`, 200, `{"products":[{"product_id":1,"warehouses":[]}],"not_found":[]}`},
		{" \n{\"product_ids\":[1]}\r\n\t ", 200, `{"products":[{"product_id":1,"warehouses":[]}],"not_found":[]}`},
		{`{"product_ids":[1]}}`, 400, "1 bytes after the JSON value"},
		{`{"product_ids":[1]}]`, 400, "after the JSON value"},
		{`{"product_ids":[1]}{"product_ids":[2]}`, 400, "after the JSON value"},
		{`{"product_ids":[1]} x`, 400, "after the JSON value"},
		{``, 400, "empty body"},
		{`{"product_ids":[1]`, 400, "truncated JSON"},
		{`{}`, 400, "product_ids is required"},
		{`{"product_ids":[]}`, 400, "batch is empty"},
		{`{"product_ids":["1"]}`, 400, "must be int64"},
		{`{"product_ids":[1.5]}`, 400, "must be int64"},
		{`{"product_ids":[99999999999999999999]}`, 400, "must be int64"},
		{`[1]`, 400, "must be a JSON object"},
		{`{"product_ids":[1],"x":1}`, 400, "unknown field"},
		{`{"product_ids":[1]}` + strings.Repeat(" ", 2000), 400, "over 1024 bytes"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%.40q", tc.body), func(t *testing.T) {
			rec := do(t, s, "POST", "/v1/inventory:batchGet", tc.body)
			if rec.Code != tc.status {
				t.Errorf("%.40q: %d %s, want %d", tc.body, rec.Code, rec.Body, tc.status)
				return
			}
			if tc.status == 200 && rec.Body.String() != tc.want || tc.status != 200 && !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("%.40q: %s, want %s", tc.body, rec.Body, tc.want)
			}
		})
	}
}

// Duplicate ids are answered per position: a client can zip its request
// with products and not_found without deduplicating first.
func TestBatchDuplicatesPerPosition(t *testing.T) {
	s := New(catalog(), Config{}, slog.New(slog.DiscardHandler), nil)
	rec := do(t, s, "POST", "/v1/inventory:batchGet", `{"product_ids":[7,7,500,8,7,500]}`)
	var got struct {
		Products []struct {
			ProductID int64 `json:"product_id"`
		} `json:"products"`
		NotFound []int64 `json:"not_found"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	var ids []int64
	for _, p := range got.Products {
		ids = append(ids, p.ProductID)
	}
	if fmt.Sprint(ids) != "[7 7 8 7]" || fmt.Sprint(got.NotFound) != "[500 500]" {
		t.Fatalf("products %v not_found %v, want [7 7 8 7] and [500 500]", ids, got.NotFound)
	}
}

func TestErrorsQuoteShortPrefix(t *testing.T) {
	s := New(catalog(), Config{MaxBodyBytes: 4 << 20}, slog.New(slog.DiscardHandler), nil)
	huge := strings.Repeat("9", 900<<10)
	field := strings.Repeat("f", 900<<10)
	for _, tc := range []struct{ name, method, target, body string }{
		{"huge id", "GET", "/v1/products/" + huge + "/inventory", ""},
		{"huge bad id", "GET", "/v1/products/x" + huge + "/inventory", ""},
		{"huge cache id", "GET", "/cache?product_id=" + huge, ""},
		{"huge bad escape", "GET", "/cache?product_id=%zz" + huge, ""},
		{"huge unknown path", "GET", "/nowhere/" + huge, ""},
		{"huge id, wrong method", "POST", "/v1/products/" + huge + "/inventory", ""},
		{"huge unknown field", "POST", "/v1/inventory:batchGet", `{"` + field + `":1}`},
		{"huge trailing data", "POST", "/v1/inventory:batchGet", `{"product_ids":[1]}` + field},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, s, tc.method, tc.target, tc.body)
			if rec.Code < 400 || rec.Body.Len() > 400 {
				t.Errorf("%s %.40s…: %d with a %d-byte body: %.300s", tc.method, tc.target, rec.Code, rec.Body.Len(), rec.Body)
			}
		})
	}
}
