package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/inventory"
)

// warmSource is what `gintoki serve --warm` loads before the node reports
// ready. It is a flag.Value; its zero value is off.
type warmSource struct {
	mode string // warmOff, warmAll, warmFile or warmPeer
	arg  string // the file's path or the peer's URL
}

const (
	warmOff  = "off"
	warmAll  = "all"
	warmFile = "file"
	warmPeer = "peer"
)

// cachedIDsPath is where a node's admin address lists its cached ids.
const cachedIDsPath = "/debug/cached-ids"

// on reports whether the node warms.
func (w warmSource) on() bool { return w.mode != "" && w.mode != warmOff }

func (w *warmSource) String() string {
	if w.arg != "" {
		return w.mode + ":" + w.arg
	}
	return w.mode
}

// Set parses off, all, file:PATH or peer:URL.
func (w *warmSource) Set(s string) error {
	mode, arg, _ := strings.Cut(s, ":")
	switch {
	case (s == warmOff || s == warmAll) && arg == "":
		*w = warmSource{mode: s}
	case mode == warmFile && arg != "":
		*w = warmSource{mode: mode, arg: arg}
	case mode == warmPeer:
		u, err := url.Parse(arg)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("peer:URL needs an http or https URL of a running node's admin address (--admin-addr), e.g. peer:http://10.0.0.5:6060, not %q", arg)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = cachedIDsPath
		}
		*w = warmSource{mode: mode, arg: u.String()}
	default:
		return fmt.Errorf("%q: want off, all, file:PATH or peer:URL", s)
	}
	return nil
}

// readKeyList reads a key list: one product id per line, blank lines and
// '#' comments (to the end of a line) ignored. It is the format of
// /debug/cached-ids. name says where the list comes from, for errors.
func readKeyList(r io.Reader, name string) ([]inventory.ProductID, error) {
	var ids []inventory.ProductID
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		v, err := strconv.ParseInt(line, 10, 64)
		if err != nil || inventory.ProductID(v).Validate() != nil {
			return nil, fmt.Errorf("%s line %d: %q is not a product id (a positive integer)", name, n, quoteShort(line))
		}
		ids = append(ids, inventory.ProductID(v))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return ids, nil
}

// quoteShort cuts s to 32 bytes, so an error never quotes a whole file.
func quoteShort(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// readKeyFile reads the key list of --warm file:PATH.
func readKeyFile(path string) ([]inventory.ProductID, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--warm file: %w", err)
	}
	defer f.Close()
	ids, err := readKeyList(f, path)
	if err != nil {
		return nil, fmt.Errorf("--warm file: %w", err)
	}
	return ids, nil
}

// fetchKeyList reads the key list a running node serves at u.
func fetchKeyList(ctx context.Context, client *http.Client, u string) ([]inventory.ProductID, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return readKeyList(resp.Body, u)
}

// warmer runs the warm start of `gintoki serve`.
type warmer struct {
	source   warmSource
	timeout  time.Duration
	rate     float64               // products per second, 0: unbounded
	ids      []inventory.ProductID // file:PATH's list, read before serving
	svc      *app.Service
	lister   app.ProductLister
	cache    *cache.Cache
	progress *app.WarmProgress // nil with --warm off
	client   *http.Client
	log      *slog.Logger
}

// run warms the cache, then marks the warm done whatever happened: the
// node becomes ready with what it loaded. A warm that fails (the database
// failing for a whole load; the node is then not ready anyway, for its
// fills failing) or outlives --warm-timeout is logged as a warning, not an
// error: a node that serves with a part of its cache warm is better than
// none. It never fails the node.
func (w *warmer) run(ctx context.Context) {
	if w.progress == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	ids, lister := w.ids, w.lister
	switch w.source.mode {
	case warmPeer:
		peerIDs, err := fetchKeyList(ctx, w.client, w.source.arg)
		if err != nil {
			// The first node of a fleet, or a peer restarting, has no list
			// to give: warm from the database instead of starting cold.
			w.log.Warn("cannot read the key list of the peer; warming every product instead", "peer", w.source.arg, "err", err)
			break
		}
		ids, lister = peerIDs, nil
		w.log.Info("key list read from the peer", "peer", w.source.arg, "products", len(ids))
	case warmFile:
		lister = nil
	}
	evictions := w.cache.Stats().Evictions
	full := func() bool { return w.cache.Stats().Evictions > evictions }
	w.log.Info("warming the cache before reporting ready", "source", w.source.String(), "timeout", w.timeout.String(), "rate", w.rate, "cache_bytes", w.cache.Stats().Bytes)
	err := w.svc.Warm(ctx, lister, ids, app.WarmConfig{Full: full, Rate: w.rate}, w.progress, w.log)
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		w.log.Warn("warm start timed out (--warm-timeout): ready with a partly warm cache; the rest fills on demand",
			"timeout", w.timeout.String(), "products", w.progress.Loaded.Load())
	case ctx.Err() != nil: // shutting down
	default:
		w.log.Warn("warm start failed: ready with a partly warm cache; the rest fills on demand", "err", err, "products", w.progress.Loaded.Load())
	}
}

// newWarmer builds the warm start from the flags; file:PATH's list is read
// now, so a bad file stops the node before it serves.
func newWarmer(cfg serveConfig, svc *app.Service, lister app.ProductLister, c *cache.Cache, log *slog.Logger) (*warmer, error) {
	w := &warmer{source: cfg.Warm, timeout: cfg.WarmTimeout, rate: cfg.WarmRate, svc: svc, lister: lister, cache: c,
		client: &http.Client{}, log: log}
	if cfg.NoCache || !cfg.Warm.on() {
		return w, nil
	}
	w.progress = new(app.WarmProgress)
	if cfg.Warm.mode == warmFile {
		var err error
		if w.ids, err = readKeyFile(cfg.Warm.arg); err != nil {
			return nil, err
		}
	}
	return w, nil
}
