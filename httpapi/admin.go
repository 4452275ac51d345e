package httpapi

import (
	"net/http"
	"net/http/pprof"
)

// AdminHandler serves /debug/pprof/ for the admin address. It is never
// mounted on the API's address: profiles expose the process's memory and
// command line, and a CPU profile or trace costs the server while it runs.
func AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
