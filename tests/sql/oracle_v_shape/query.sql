-- Oracle Database Data Warehousing Guide, "SQL for Pattern Matching",
-- example 1: V shapes in a stock's price, a start row, one or more rows
-- each below the one before, then one or more each above the one before
-- (PREV is the row just before). Oracle's table has no CREATE TABLE here:
-- the import takes symbol as the key (a string), tstamp as the time and
-- price as a double. Oracle's result for ACME over 1-20 April 2011:
--   05-APR-11 06-APR-11 10-APR-11
--   10-APR-11 12-APR-11 13-APR-11
--   14-APR-11 16-APR-11 18-APR-11
SELECT *
FROM Ticker MATCH_RECOGNIZE (
     PARTITION BY symbol
     ORDER BY tstamp
     MEASURES  STRT.tstamp AS start_tstamp,
               LAST(DOWN.tstamp) AS bottom_tstamp,
               LAST(UP.tstamp) AS end_tstamp
     ONE ROW PER MATCH
     AFTER MATCH SKIP TO LAST UP
     PATTERN (STRT DOWN+ UP+)
     DEFINE
        DOWN AS DOWN.price < PREV(DOWN.price),
        UP AS UP.price > PREV(UP.price)
     ) MR
ORDER BY MR.symbol, MR.start_tstamp;
