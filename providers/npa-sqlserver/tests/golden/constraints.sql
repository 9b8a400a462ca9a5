-- scenario: constraints
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Adding primary key 'pk_orders'
ALTER TABLE orders ADD CONSTRAINT pk_orders PRIMARY KEY (id)
GO
-- Adding foreign key 'fk_orders_products'
ALTER TABLE orders ADD CONSTRAINT fk_orders_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE ON UPDATE NO ACTION
GO
-- Adding foreign key 'fk_orders_everything'
ALTER TABLE orders ADD CONSTRAINT fk_orders_everything FOREIGN KEY(code) REFERENCES sales.everything (code)
GO
-- Adding unique constraint 'uq_orders_number'
ALTER TABLE orders ADD CONSTRAINT uq_orders_number UNIQUE (number)
GO
-- Adding check constraint 'ck_orders_qty'
ALTER TABLE orders ADD CONSTRAINT ck_orders_qty CHECK (qty > 0 AND qty < 1000)
GO
-- Dropping constraint 'ck_orders_qty'
ALTER TABLE orders DROP CONSTRAINT ck_orders_qty
GO
-- Dropping constraint 'fk_orders_products'
ALTER TABLE orders DROP CONSTRAINT fk_orders_products
GO
-- Dropping constraint 'uq_orders_number'
ALTER TABLE orders DROP CONSTRAINT uq_orders_number
GO
