-- scenario: execute
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Executing SQL: UPDATE products SET price = price * 1.1 WHERE [name] LIKE N'
UPDATE products SET price = price * 1.1 WHERE [name] LIKE N'%;%'
GO
DELETE FROM products WHERE id = 3
GO
-- Creating view 'v_products'
CREATE VIEW v_products AS SELECT id, name FROM products
GO
CREATE PROCEDURE p_touch AS
BEGIN
    SET NOCOUNT ON;
    UPDATE products SET name = name;
END
GO
