CREATE TABLE items (id int PRIMARY KEY, sku varchar(20) NOT NULL, name varchar(100), price decimal(10,2) NOT NULL,
                    in_stock int NOT NULL, updated_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3));
INSERT INTO items (id, sku, name, price, in_stock)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
  SELECT i, CONCAT('SKU-', i), CONCAT('item ', i), ROUND(RAND() * 100, 2), FLOOR(RAND() * 50) FROM n;
