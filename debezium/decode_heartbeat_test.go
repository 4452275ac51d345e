package debezium_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/inventory"
)

func TestDecodeHeartbeat(t *testing.T) {
	const topic = "__debezium-heartbeat.dbserver1"
	at := time.UnixMilli(1_700_000_000_123)
	for name, value := range map[string]string{
		"bare":    `{"ts_ms":1700000000123}`,
		"wrapped": `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat"},"payload":{"ts_ms":1700000000123}}`,
	} {
		c, err := debezium.Decoder{}.Decode(topic, []byte(`{"serverName":"dbserver1"}`), []byte(value))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if hb, ok := c.(inventory.Heartbeat); !ok || !hb.At.Equal(at) {
			t.Errorf("%s: %#v, want a heartbeat at %v", name, c, at)
		}
	}
	if c, err := (debezium.Decoder{}).Decode(topic, nil, nil); c != nil || err != nil {
		t.Errorf("tombstone: %v, %v; want nothing", c, err)
	}
	for _, bad := range []string{`{}`, `{"ts_ms":"soon"}`, `{"ts_ms":-5}`, `{"payload":{}}`, `not json`} {
		if _, err := (debezium.Decoder{}).Decode(topic, nil, []byte(bad)); !errors.Is(err, debezium.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", bad, err)
		}
	}
	// Another topic with the same event is a change event, and malformed.
	if _, err := (debezium.Decoder{}).Decode("dbserver1.inventory.warehouse", nil, []byte(`{"ts_ms":1}`)); !errors.Is(err, debezium.ErrMalformed) {
		t.Errorf("heartbeat on a table topic: %v, want ErrMalformed", err)
	}
}
