package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Events are named as committed changes are, from the relay's format and
// from Debezium's (with schemas, booleans).
func TestEventKey(t *testing.T) {
	for _, tc := range []struct{ file, topic, want string }{
		{"relay_stock_update", stockTopic, "row p42/w6=99"},
		{"stock_delete", stockTopic, "delete p1004/w3=40"},
		{"relay_warehouse_create", warehouseTopic, "warehouse WH-OSL active=0"},
		{"warehouse_update_bool", warehouseTopic, "warehouse WH-LIS active=0"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "debezium", "testdata", tc.file+".value.json"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := eventKey(tc.topic, b)
			if err != nil || got != tc.want {
				t.Errorf("eventKey = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := eventKey(stockTopic, []byte("{")); err == nil {
		t.Error("malformed event accepted")
	}
}
