package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FileCheckpoint keeps the position in a small JSON file. Save writes a
// temporary file in the same directory, syncs it and renames it over the
// old one, so a crash leaves either the old position or the new one, never
// a torn file.
type FileCheckpoint struct {
	path string
}

var _ Checkpoint = (*FileCheckpoint)(nil)

// NewFileCheckpoint returns a store for the file at path. The file and its
// directory are created by the first Save.
func NewFileCheckpoint(path string) *FileCheckpoint { return &FileCheckpoint{path: path} }

// fileCheckpoint is the file's format. SavedAt is for people reading it.
type fileCheckpoint struct {
	File    string    `json:"file"`
	Pos     uint64    `json:"pos"`
	SavedAt time.Time `json:"saved_at"`
}

// Load implements Checkpoint. A missing file is no position.
func (f *FileCheckpoint) Load(ctx context.Context) (BinlogPosition, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return BinlogPosition{}, nil
	}
	if err != nil {
		return BinlogPosition{}, fmt.Errorf("read checkpoint: %w", err)
	}
	var c fileCheckpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return BinlogPosition{}, fmt.Errorf("parse checkpoint %s: %w", f.path, err)
	}
	if c.File == "" {
		return BinlogPosition{}, fmt.Errorf("checkpoint %s names no binlog file", f.path)
	}
	return BinlogPosition{File: c.File, Pos: c.Pos}, nil
}

// Save implements Checkpoint.
func (f *FileCheckpoint) Save(ctx context.Context, p BinlogPosition) error {
	b, err := json.Marshal(fileCheckpoint{File: p.File, Pos: p.Pos, SavedAt: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create checkpoint directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(f.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write temporary checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync temporary checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temporary checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("replace checkpoint: %w", err)
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
