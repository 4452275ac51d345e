package httpapi

import (
	"bufio"
	"io"
	"iter"
	"net/http"
	"net/http/pprof"
	"strconv"

	"github.com/gintoki/gintoki/inventory"
)

// AdminHandler serves /debug/pprof/ for the admin address, and, when
// cachedIDs is not nil, /debug/cached-ids. It is never mounted on the API's
// address: profiles expose the process's memory and command line, a CPU
// profile or trace costs the server while it runs, and the key list is a
// sweep of the whole cache.
func AdminHandler(cachedIDs iter.Seq[inventory.ProductID]) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if cachedIDs != nil {
		mux.Handle("GET /debug/cached-ids", cachedIDsHandler(cachedIDs))
	}
	return mux
}

// CachedIDsHeader is the first line of /debug/cached-ids: a comment, as
// key lists allow, saying what follows.
const CachedIDsHeader = "# product ids cached by this node, one per line (gintoki serve --warm file:PATH reads this format)\n"

// cachedIDsHandler streams the cached product ids as plain text, one per
// line: the key-list format `gintoki serve --warm file:PATH` reads, so a
// new node can be warmed with what a running one holds. The list is
// written as the cache is swept, never held whole; a client that goes away
// stops the sweep at the next write error.
func cachedIDsHandler(ids iter.Seq[inventory.ProductID]) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		bw := bufio.NewWriterSize(w, 64<<10)
		if _, err := io.WriteString(bw, CachedIDsHeader); err != nil {
			return
		}
		line := make([]byte, 0, 24)
		for id := range ids {
			if r.Context().Err() != nil {
				return
			}
			line = append(strconv.AppendInt(line[:0], int64(id), 10), '\n')
			if _, err := bw.Write(line); err != nil {
				return
			}
		}
		_ = bw.Flush()
	})
}
