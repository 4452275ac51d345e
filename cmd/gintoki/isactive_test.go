package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// MySQL takes any non-zero TINYINT(1) as true, and so does Gintoki: a
// warehouse with is_active = 2 in the database lets a node load its
// directory and become ready, and an update to 2 relayed from the binlog
// makes a warehouse active on a running node.
func TestWarehouseActiveTwo(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 10) // warehouse 3, WH-CDG, inactive; product 1 is stocked there
	db.Exec(t, "UPDATE warehouse SET is_active = 2 WHERE id = 2")
	broker := newRestartableBroker(t, 3, testTopics...)
	startRelay(t, db, broker.addr())
	waitCheckpoint(t, broker.addr())

	n := startNode(t, db.DSN("inventory"), broker.addr()) // waits for /readyz
	expect := func(path, want string, present bool) {
		t.Helper()
		pollUntil(t, 20*time.Second, func() (bool, string) {
			code, body := n.get(t, path, nil)
			return code == 200 && strings.Contains(body, want) == present, body
		})
	}
	// Product 2 is stocked in warehouses 4, 1 and 2 (WH-BER, is_active 2).
	expect("/v1/products/2/inventory", "WH-BER", true)
	expect("/v1/products/1/inventory", "WH-CDG", false)
	db.Exec(t, "UPDATE warehouse SET is_active = 2 WHERE id = 3")
	expect("/v1/products/1/inventory", "WH-CDG", true)
	db.Exec(t, "UPDATE warehouse SET is_active = 0 WHERE id = 3")
	expect("/v1/products/1/inventory", "WH-CDG", false)
}
