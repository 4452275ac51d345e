package main

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// A burst of misses of different keys never opens more database
// connections than --fill-queries plus the 3 the help promises (readiness,
// upkeep, the inspector). The node connects as a user MariaDB refuses any
// connection beyond that bound (MAX_USER_CONNECTIONS): one more would fail
// its query and the request with it. Every miss of the burst must be
// answered correctly, from queries that gathered the misses.
func TestMissBurstStaysWithinConnectionBound(t *testing.T) {
	const fillQueries, products, burst = 2, 2000, 600
	db := mariadbtest.Start(t)
	seedSmall(t, db, products)
	db.Exec(t, fmt.Sprintf(`CREATE USER 'bounded'@'%%' IDENTIFIED BY 'pw' WITH MAX_USER_CONNECTIONS %d;
		GRANT SELECT ON inventory.* TO 'bounded'@'%%'`, fillQueries+3))
	broker := startBroker(t, 3, testTopics...)
	n := startNode(t, "bounded:pw@tcp("+db.Addr()+")/inventory", broker, func(c *serveConfig) {
		c.FillQueries = fillQueries
		c.LoadTimeout = 30 * time.Second // a slow machine must not fail a fill: only a refused connection may
		c.InspectRate = 50               // the inspector's reads share the pool
	})

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = burst
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	defer tr.CloseIdleConnections()
	selects := db.QueryCount(t, "Com_select")
	codes, bodies := make([]int, burst), make([]string, burst)
	errs := make([]error, burst)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() {
			<-release
			resp, err := client.Get(fmt.Sprintf("%s/v1/products/%d/inventory", n.http, i+1))
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			codes[i], bodies[i], errs[i] = resp.StatusCode, string(b), err
		})
	}
	close(release)
	wg.Wait()
	queries := db.QueryCount(t, "Com_select") - selects

	for i := range burst {
		id := int64(i + 1)
		if errs[i] != nil {
			t.Fatalf("product %d: %v", id, errs[i])
		}
		want, _ := inventoryFromSQL(t, db, id)
		if codes[i] != http.StatusOK || bodies[i] != want {
			t.Fatalf("product %d: %d %s\nwant %s (a connection over the bound fails the fill)", id, codes[i], bodies[i], want)
		}
	}
	// The inspector adds a few reads of its own; the misses must have
	// gathered into far fewer queries than there were misses.
	if queries > burst/4 {
		t.Fatalf("%d queries for %d concurrent misses: they did not gather", queries, burst)
	}
	t.Logf("%d concurrent misses answered with %d SELECTs over at most %d connections", burst, queries, fillQueries+3)
}
