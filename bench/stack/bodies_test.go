package stack

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestBodiesRoundTrip(t *testing.T) {
	want := map[int64][]byte{1: []byte(`{"product_id":1}`), 300: {}, 1 << 40: bytes.Repeat([]byte("x"), 70_000)}
	path := filepath.Join(t.TempDir(), "b")
	if err := WriteBodies(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBodies(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d bodies, want %d", len(got), len(want))
	}
	for id, b := range want {
		if !bytes.Equal(got[id], b) {
			t.Errorf("body %d differs", id)
		}
	}

	raw, _ := os.ReadFile(path)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated", raw[:len(raw)-1]},
		{"not a bodies file", []byte("hello")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "b")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadBodies(p); err == nil {
				t.Error("no error")
			}
		})
	}
}
