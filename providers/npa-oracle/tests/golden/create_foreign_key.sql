-- scenario create_foreign_key: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Adding foreign key 'fk_lines_order'
ALTER TABLE order_lines ADD CONSTRAINT fk_lines_order FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE;
-- Adding foreign key 'fk_lines_product'
ALTER TABLE order_lines ADD CONSTRAINT fk_lines_product FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE SET NULL;
-- Adding foreign key 'fk_lines_batch'
ALTER TABLE order_lines ADD CONSTRAINT fk_lines_batch FOREIGN KEY(batch_id, batch_no) REFERENCES batches (id, no);
-- Adding foreign key 'fk_audit_user'
ALTER TABLE sales.audit ADD CONSTRAINT fk_audit_user FOREIGN KEY(user_id) REFERENCES hr.users (id);
