package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gintoki/gintoki/inventory"
)

// methods are the methods a route can answer; HEAD comes with every GET
// route (net/http's ServeMux matches HEAD to GET patterns and the server
// drops the body).
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}

// handleNoRoute answers a request no route took: 405 with an Allow header
// if the path has routes for other methods, else 404. It runs only off the
// hit path.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request, _ string) int {
	var allow []string
	probe := r.Clone(r.Context())
	for _, m := range methods {
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", strings.Join(append(allow, http.MethodOptions), ", "))
			w.WriteHeader(http.StatusNoContent)
			return http.StatusNoContent
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		// UNIMPLEMENTED is what a gRPC client gets for a method the
		// server does not have.
		return writeErrorBody(w, http.StatusMethodNotAllowed, "UNIMPLEMENTED", fmt.Sprintf("method %s is not allowed on %s; allowed: %s",
			quotePrefix(r.Method), quotePrefix(r.URL.Path), strings.Join(allow, ", ")))
	}
	return writeError(w, inventory.Errorf(inventory.CodeNotFound, "no route for %s %s", quotePrefix(r.Method), quotePrefix(r.URL.Path)))
}
