-- scenario: drop_index
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Dropping index 'ix_products_name'
DROP INDEX ix_products_name ON products
GO
-- Dropping index 'ux_everything_code'
DROP INDEX ux_everything_code ON sales.everything
GO
