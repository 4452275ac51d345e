-- Gintoki's source tables. Gintoki only reads them; this file is what the
-- local stack and the tests create.
CREATE TABLE IF NOT EXISTS warehouse (
  id        INT         NOT NULL PRIMARY KEY,
  code      VARCHAR(32) NOT NULL UNIQUE,
  is_active TINYINT(1)  NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS warehouse_stock_item (
  product_id   BIGINT NOT NULL,
  warehouse_id INT    NOT NULL,
  qty_salable  INT    NOT NULL,
  PRIMARY KEY (product_id, warehouse_id),
  KEY warehouse_id (warehouse_id)
) ENGINE=InnoDB;
