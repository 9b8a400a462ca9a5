-- scenario: rename_column
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Renaming column 'sku' to 'article_number'
-- executed as: EXEC sp_rename @objname = ?, @newname = ?, @objtype = 'COLUMN'
-- with parameters: ('products.sku', 'article_number')
EXEC sp_rename @objname = N'products.sku', @newname = N'article_number', @objtype = 'COLUMN'
GO
-- Renaming column 'code' to 'key'
-- executed as: EXEC sp_rename @objname = ?, @newname = ?, @objtype = 'COLUMN'
-- with parameters: ('sales.everything.code', 'key')
EXEC sp_rename @objname = N'sales.everything.code', @newname = N'key', @objtype = 'COLUMN'
GO
