package relay

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestFileCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", "checkpoint.json")
	cp := NewFileCheckpoint(path)

	p, err := cp.Load(ctx)
	if err != nil || !p.IsZero() {
		t.Fatalf("Load of a missing file = %v, %v; want zero, nil", p, err)
	}
	for _, want := range []BinlogPosition{
		{File: "mysql-bin.000001", Pos: 1234},
		{File: "mysql-bin.000002", Pos: 4},
	} {
		if err := cp.Save(ctx, want); err != nil {
			t.Fatalf("Save: %v", err)
		}
		got, err := NewFileCheckpoint(path).Load(ctx)
		if err != nil || got != want {
			t.Fatalf("Load = %v, %v; want %v", got, err, want)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("checkpoint directory holds %d files, want only the checkpoint (no temporaries)", len(entries))
	}
}

func TestFileCheckpointRejectsGarbage(t *testing.T) {
	for name, content := range map[string]string{
		"not json": "{",
		"no file":  `{"pos": 4}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cp.json")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if p, err := NewFileCheckpoint(path).Load(context.Background()); err == nil {
				t.Fatalf("Load = %v, nil; want an error", p)
			}
		})
	}
}
