// Package kafkatest holds test helpers for the Kafka protocol: the Java
// client's partitioner hash, written out so that tests do not trust the
// code under test to pick it, and in-process brokers that require TLS and
// SASL, with certificates generated for the test.
//
// Tests only; it imports kfake and certtest, no production package.
package kafkatest

// Murmur2 is the hash Kafka's Java client (and so Debezium) partitions
// keyed records with.
func Murmur2(b []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
	)
	h := seed ^ uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> 24
		k *= m
		h = h*m ^ k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// Partition returns the partition the Java client's default partitioner
// picks for a key among n.
func Partition(key []byte, n int32) int32 { return int32(Murmur2(key)&0x7fffffff) % n }
