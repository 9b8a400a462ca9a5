-- scenario: data
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Executing SQL: UPDATE products SET name = :name WHERE sku = :sku AND [name]
-- executed as: UPDATE products SET name = ? WHERE sku = ? AND [name] LIKE N'%;%'
-- with parameters: ('It\'s; "new"', 'A-1')
UPDATE products SET name = N'It''s; "new"' WHERE sku = N'A-1' AND [name] LIKE N'%;%'
GO
-- Running Python fill_names(connection)
-- PYTHON STEP NOT IN THIS SCRIPT: fill_names(connection) runs here when 'npa migrate' applies the migration; SQL cannot hold Python code. Do its work by hand here, or apply this migration with npa.
GO
-- Backfilling 'products' in batches of 500 rows
-- executed as: UPDATE products SET price=price * 100, name=? WHERE active = 1
-- with parameters: ('repriced',)
-- Backfilling 'products' in batches of 500 rows at run time (the chunks depend on the rows); the same change as one statement:
UPDATE products SET price=price * 100, name=N'repriced' WHERE active = 1
GO
