package binlog

import (
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
)

func TestCommitTime(t *testing.T) {
	h := &replication.EventHeader{Timestamp: 1_700_000_000}
	sec := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name       string
		read, want time.Time
	}{
		{"live: the read time", sec.Add(250 * time.Millisecond), sec.Add(250 * time.Millisecond)},
		{"catching up: the header", sec.Add(3 * time.Second), sec},
		{"clock skew: the header", sec.Add(-time.Millisecond), sec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := commitTime(h, tc.read); !got.Equal(tc.want) {
				t.Errorf("commitTime(read %v) = %v, want %v", tc.read, got, tc.want)
			}
		})
	}
}
