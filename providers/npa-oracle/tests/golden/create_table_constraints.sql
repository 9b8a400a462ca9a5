-- scenario create_table_constraints: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Creating table 'order_lines'
CREATE TABLE order_lines (
	id INTEGER NOT NULL, 
	order_id INTEGER NOT NULL, 
	product_id INTEGER, 
	parent_id INTEGER, 
	qty INTEGER DEFAULT 1 NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE, 
	CONSTRAINT uq_lines_order_product UNIQUE (order_id, product_id), 
	CONSTRAINT ck_lines_qty CHECK (qty > 0), 
	CONSTRAINT fk_lines_product FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE SET NULL, 
	CONSTRAINT fk_lines_parent FOREIGN KEY(parent_id) REFERENCES order_lines (id)
);
