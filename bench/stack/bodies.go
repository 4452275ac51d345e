package stack

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// bodiesMagic starts a bodies file: the pre-encoded response bodies the
// bare baselines serve, fetched from the service once.
const bodiesMagic = "GINTOKI-BODIES-1\n"

// WriteBodies writes bodies (product id → encoded body) to path, in id
// order: the magic line, then for each product its id and body length as
// uvarints and the body.
func WriteBodies(path string, bodies map[int64][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write bodies: %w", err)
	}
	w := bufio.NewWriter(f)
	_, _ = w.WriteString(bodiesMagic)
	var hdr [2 * binary.MaxVarintLen64]byte
	for _, id := range slices.Sorted(maps.Keys(bodies)) {
		n := binary.PutUvarint(hdr[:], uint64(id))
		n += binary.PutUvarint(hdr[n:], uint64(len(bodies[id])))
		_, _ = w.Write(hdr[:n])
		_, _ = w.Write(bodies[id])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write bodies %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write bodies %s: %w", path, err)
	}
	return nil
}

// ReadBodies reads a file written by writeBodies.
func ReadBodies(path string) (map[int64][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read bodies: %w", err)
	}
	defer f.Close()
	bodies, err := decodeBodies(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read bodies %s: %w", path, err)
	}
	return bodies, nil
}

func decodeBodies(r *bufio.Reader) (map[int64][]byte, error) {
	magic := make([]byte, len(bodiesMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != bodiesMagic {
		return nil, errors.New("not a bodies file")
	}
	bodies := map[int64][]byte{}
	for {
		id, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			return bodies, nil
		}
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", len(bodies), err)
		}
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", len(bodies), noEOF(err))
		}
		if n > 1<<24 {
			return nil, fmt.Errorf("record %d: body of %d bytes", len(bodies), n)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(bodies), noEOF(err))
		}
		bodies[int64(id)] = b
	}
}

// noEOF turns a clean EOF in the middle of a record into ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
