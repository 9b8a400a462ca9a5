-- scenario: partial_index
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Creating index 'ix_products_open'
CREATE UNIQUE INDEX ix_products_open ON products (name) WHERE active = 1
GO
