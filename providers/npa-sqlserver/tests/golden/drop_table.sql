-- scenario: drop_table
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Dropping table 'products'
DROP TABLE products
GO
-- Dropping table 'everything'
DROP TABLE sales.everything
GO
