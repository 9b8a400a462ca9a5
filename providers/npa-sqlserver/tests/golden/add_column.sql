-- scenario: add_column
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Adding column 'weight'
ALTER TABLE products ADD weight FLOAT NULL
GO
-- Adding column 'stock'
ALTER TABLE products ADD stock INTEGER NOT NULL DEFAULT 0
GO
-- Adding column 'supplier_id'
ALTER TABLE products ADD supplier_id INTEGER NULL
GO
ALTER TABLE products ADD FOREIGN KEY(supplier_id) REFERENCES suppliers (id) ON DELETE SET NULL
GO
-- Adding column 'ean'
ALTER TABLE products ADD ean NVARCHAR(13) NULL
GO
ALTER TABLE products ADD UNIQUE (ean)
GO
-- Adding column 'origin'
ALTER TABLE products ADD origin NVARCHAR(2) NULL
GO
CREATE INDEX ix_products_origin ON products (origin)
GO
