-- Every month's sales, in one table.
CREATE OR REPLACE TABLE sales_all AS
SELECT * FROM read_csv('data/sales-*.csv', header = true, columns = {
  'date': 'DATE', 'region': 'VARCHAR', 'product': 'VARCHAR', 'units': 'INTEGER', 'unit_price': 'DOUBLE'
});
SELECT count(*) AS rows FROM sales_all;
