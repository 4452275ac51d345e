package app

import "github.com/gintoki/gintoki/inventory"

// PerPosition turns r, GetBatch's answer to ids, into an answer position by
// position: Bodies holds one body per position of a found id and NotFound
// one id per position of an unknown one, both in request order, so a
// request for [7, 7, 9] with 9 unknown gets 7's body twice and 9 once.
// GetBatch itself reads each distinct id once.
//
// A request without repeated ids is returned as it is, without a map or a
// copy: the check costs one comparison, so the common case pays nothing.
func (r BatchResult) PerPosition(ids []inventory.ProductID) BatchResult {
	if len(r.Bodies)+len(r.NotFound) >= len(ids) {
		return r
	}
	unknown := make(map[inventory.ProductID]struct{}, len(r.NotFound))
	for _, id := range r.NotFound {
		unknown[id] = struct{}{}
	}
	// Bodies are in the order of their id's first appearance among the
	// found ids.
	body := make(map[inventory.ProductID][]byte, len(r.Bodies))
	next := 0
	out := BatchResult{Bodies: make([][]byte, 0, len(ids)-len(r.NotFound)), Stale: r.Stale}
	for _, id := range ids {
		if _, ok := unknown[id]; ok {
			out.NotFound = append(out.NotFound, id)
			continue
		}
		b, seen := body[id]
		if !seen {
			if next == len(r.Bodies) {
				return r // not GetBatch's answer to ids
			}
			b, next = r.Bodies[next], next+1
			body[id] = b
		}
		out.Bodies = append(out.Bodies, b)
	}
	return out
}
