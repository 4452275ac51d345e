package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/prometheus/client_golang/prometheus"
)

// servedSpec fetches /openapi.yaml from s and validates it as an OpenAPI
// 3 document.
func servedSpec(t *testing.T, s http.Handler) *openapi3.T {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.yaml", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /openapi.yaml = %d", rec.Code)
	}
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("parse the served OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served OpenAPI document is not valid: %v", err)
	}
	return doc
}

func TestOpenAPIValid(t *testing.T) {
	servedSpec(t, New(catalog(), Config{}, slog.New(slog.DiscardHandler), nil))
}

// TestOpenAPIMatchesRoutes checks that every route the server registers is
// described, that every described operation is answered by a route of its
// own, and that the answers conform to the described responses.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := New(catalog(), Config{Gatherer: prometheus.NewRegistry()}, slog.New(slog.DiscardHandler), nil)
	doc := servedSpec(t, s)
	var described []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, method+" "+path)
		}
	}
	slices.Sort(described)
	served := slices.Sorted(slices.Values(s.routes))
	if !slices.Equal(described, served) {
		t.Fatalf("described operations %q\nserved routes        %q", described, served)
	}

	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	// A request per described response that the test can provoke.
	requests := []struct {
		method, target, body string
		status               int
	}{
		{"GET", "/v1/products/7/inventory", "", 200},
		{"GET", "/v1/products/700/inventory", "", 404},
		{"GET", "/v1/products/0/inventory", "", 400},
		{"POST", "/v1/products/7/inventory", "", 405},
		{"GET", "/cache?product_id=7", "", 200},
		{"GET", "/cache?product_id=700", "", 404},
		{"POST", "/v1/inventory:batchGet", `{"product_ids":[7,700,7]}`, 200},
		{"POST", "/v1/inventory:batchGet", `{"product_ids":[0]}`, 400},
		{"GET", "/v1/inventory:batchGet", "", 405},
		{"GET", "/healthz", "", 200},
		{"GET", "/readyz", "", 200},
		{"GET", "/metrics", "", 200},
		{"GET", "/openapi.yaml", "", 200},
	}
	answered := map[string]bool{}
	for _, tc := range requests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Errorf("%s %s = %d, want %d", tc.method, tc.target, rec.Code, tc.status)
				return
			}
			route, params, err := router.FindRoute(req)
			if tc.status == 405 {
				// The router knows the path but not the method: the 405 is
				// described as the operations' shared error response.
				if err == nil {
					t.Errorf("%s %s: the description has the operation the server refuses", tc.method, tc.target)
				}
				return
			}
			if err != nil {
				t.Errorf("%s %s: not described: %v", tc.method, tc.target, err)
				return
			}
			answered[route.Method+" "+route.Path] = true
			in := &openapi3filter.RequestValidationInput{Request: httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body)), PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			in.Request.Header = req.Header
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && tc.status < 400 {
				t.Errorf("%s %s: the request does not match the description: %v", tc.method, tc.target, err)
			}
			resp := rec.Result()
			body, _ := io.ReadAll(resp.Body)
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
				Options: &openapi3filter.Options{IncludeResponseStatus: true}}
			out.SetBodyBytes(body)
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("%s %s: the %d response does not match the description: %v", tc.method, tc.target, resp.StatusCode, err)
			}
		})
	}
	for _, op := range described {
		if !answered[op] {
			t.Errorf("described operation %s not exercised by this test", op)
		}
	}
}
