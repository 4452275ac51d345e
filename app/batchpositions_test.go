package app

import (
	"fmt"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

func TestPerPosition(t *testing.T) {
	b := func(id int) []byte { return fmt.Appendf(nil, "body%d", id) }
	ids := func(xs ...inventory.ProductID) []inventory.ProductID { return xs }
	tests := []struct {
		name      string
		req       []inventory.ProductID
		in        BatchResult
		bodies    string
		notFound  string
		unchanged bool
	}{
		{"no repeats: returned as is", ids(1, 9, 2), BatchResult{Bodies: [][]byte{b(1), b(2)}, NotFound: ids(9)}, "[body1 body2]", "[9]", true},
		{"repeated found ids", ids(7, 7, 8, 7), BatchResult{Bodies: [][]byte{b(7), b(8)}}, "[body7 body7 body8 body7]", "[]", false},
		{"repeated unknown ids", ids(9, 1, 9), BatchResult{Bodies: [][]byte{b(1)}, NotFound: ids(9)}, "[body1]", "[9 9]", false},
		{"both", ids(5, 9, 6, 5, 9, 6), BatchResult{Bodies: [][]byte{b(5), b(6)}, NotFound: ids(9)}, "[body5 body6 body5 body6]", "[9 9]", false},
		{"not GetBatch's answer", ids(1, 2, 3, 3), BatchResult{Bodies: [][]byte{b(1)}}, "[body1]", "[]", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.PerPosition(tc.req)
			var bodies []string
			for _, x := range got.Bodies {
				bodies = append(bodies, string(x))
			}
			if fmt.Sprint(bodies) != tc.bodies || fmt.Sprint(got.NotFound) != tc.notFound {
				t.Errorf("got %v %v, want %s %s", bodies, got.NotFound, tc.bodies, tc.notFound)
			}
			if tc.unchanged && len(got.Bodies) > 0 && &got.Bodies[0] != &tc.in.Bodies[0] {
				t.Error("copied a result it should return as is")
			}
		})
	}
}
