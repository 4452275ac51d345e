package stack

import (
	"fmt"
	"net"
	"strconv"
)

// PortOf returns addr's port, which must leave room for the ports the
// benchmark derives from it (ShiftPort).
func PortOf(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("address %q: %w", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535-3 {
		return 0, fmt.Errorf("address %q: port must be 1..65532", addr)
	}
	return n, nil
}

// ShiftPort returns addr with its port moved by d (addr was validated).
func ShiftPort(addr string, d int) string {
	host, _, _ := net.SplitHostPort(addr)
	p, _ := PortOf(addr)
	return net.JoinHostPort(host, strconv.Itoa(p+d))
}
