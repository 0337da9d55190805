CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, country text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), status text NOT NULL,
                     amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO customers (name, country) SELECT 'customer ' || g, (ARRAY['DE','FR','US','JP','BR'])[1 + g % 5] FROM generate_series(1, 500) g;
INSERT INTO orders (customer_id, status, amount)
  SELECT 1 + g % 500, (ARRAY['new','paid','shipped'])[1 + g % 3], round((random() * 200)::numeric, 2) FROM generate_series(1, 5000) g;
