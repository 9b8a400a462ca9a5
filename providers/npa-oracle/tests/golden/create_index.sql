-- scenario create_index: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Creating index 'ix_products_name'
CREATE INDEX ix_products_name ON products (name);
-- Creating index 'ux_products_code_status'
CREATE UNIQUE INDEX ux_products_code_status ON products (code, status);
-- Creating index 'ix_audit_at'
CREATE INDEX sales.ix_audit_at ON sales.audit (at);
