package mysql

import (
	"context"
	"fmt"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

var _ app.ProductLister = (*Store)(nil)

// ProductIDs implements app.ProductLister: one short query per page, a
// range scan of the stock table's primary key (product_id first), so no
// long transaction holds the database while a node warms.
func (s *Store) ProductIDs(ctx context.Context, after inventory.ProductID, limit int) ([]inventory.ProductID, error) {
	rows, err := s.db.QueryContext(ctx, s.listSQL, int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", classify(ctx, err))
	}
	defer rows.Close()
	ids := make([]inventory.ProductID, 0, limit)
	for rows.Next() {
		var id inventory.ProductID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list products: %w", classify(ctx, err))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list products: %w", classify(ctx, err))
	}
	return ids, nil
}
