-- patterns/card_testing.cep's fraud written as SQL, with a CREATE TABLE
-- giving the field types: three or more tiny approved authorisations
-- back to back (a reluctant {3,}?, as the pattern file's), then a large
-- approved one not at a test merchant, within 30 minutes, the probes
-- summing to less than 10 and the cash-out within 20 minutes of the first
-- probe. Cards: c1 probes 1.00 1.50 0.99 1.20 then 950.00: a match (the
-- match from the first probe; the later starts are skipped past). c2:
-- two probes only, then 700.00: no match. c3: three probes, a 25.00
-- purchase in between, then 800.00: no match (rows must be consecutive).
-- c4: three probes then 600.00 at 'online-test-shop': no match (LIKE).
CREATE TABLE auths (
  card      VARCHAR(19),
  amount    DECIMAL(10, 2),
  merchant  VARCHAR(64),
  result    VARCHAR(16),
  ts        TIMESTAMP(3)
);

SELECT *
FROM auths
  MATCH_RECOGNIZE (
    PARTITION BY card
    ORDER BY ts
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (PROBE{3,}? CASHOUT) WITHIN INTERVAL '30' MINUTE
    DEFINE
      PROBE AS PROBE.amount <= 2.00 AND result = 'approved',
      CASHOUT AS amount >= 500 AND result IN ('approved', 'settled')
        AND merchant NOT LIKE 'online-test%'
        AND SUM(PROBE.amount) < 10
        AND ts - FIRST(PROBE.ts) <= INTERVAL '20' MINUTE
  );
