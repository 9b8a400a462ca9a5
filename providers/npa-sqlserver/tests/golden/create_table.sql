-- scenario: create_table
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Creating table 'products'
CREATE TABLE products (
	id INTEGER NOT NULL IDENTITY, 
	sku NVARCHAR(40) NOT NULL, 
	name NVARCHAR(200) NOT NULL DEFAULT N'unnamed', 
	description NVARCHAR(max) NULL, 
	price NUMERIC(10, 2) NOT NULL DEFAULT 0, 
	created_at DATETIME2 NOT NULL DEFAULT CURRENT_TIMESTAMP, 
	active BIT NOT NULL DEFAULT 1, 
	category_id INTEGER NULL, 
	barcode NVARCHAR(32) NULL, 
	PRIMARY KEY (id), 
	UNIQUE (sku), 
	FOREIGN KEY(category_id) REFERENCES categories (id) ON DELETE NO ACTION, 
	CONSTRAINT ck_products_price CHECK (price >= 0)
)
GO
CREATE UNIQUE INDEX ix_products_barcode ON products (barcode) WHERE barcode IS NOT NULL
GO
CREATE INDEX ix_products_category_id ON products (category_id)
GO
