#!/usr/bin/env python3
"""Writes transactions.csv for examples/fraud_demo: a day of card
authorisations (seeded, deterministic) with card-testing frauds planted in it,
and near misses that must not match. Run: python3 make_transactions.py"""
import random

rng = random.Random(20261125)
T0 = 1764547200000  # 2025-12-01T00:00:00Z, milliseconds
MIN = 60_000
merchants = ["grocer", "fuel", "books", "cafe", "pharmacy", "electronics",
             "travel", "apparel", "hardware", "streaming"]
rows = []  # (ts, card, amount, merchant, result)


def card(i):
    return f"4000-0000-{i // 10000:04d}-{i % 10000:04d}"


# Ordinary traffic: 200 cards, amounts 5..300, almost all approved.
for _ in range(5000):
    c = card(rng.randrange(200))
    ts = T0 + rng.randrange(24 * 60 * MIN)
    amount = round(rng.uniform(5, 300), 2)
    result = "approved" if rng.random() > 0.03 else "declined"
    rows.append((ts, c, amount, rng.choice(merchants), result))


def probes(c, start, n, gap_min=1):
    for k in range(n):
        rows.append((start + k * gap_min * MIN + rng.randrange(30_000), c,
                     round(rng.uniform(0.5, 1.99), 2), "online-test", "approved"))
    return start + n * gap_min * MIN


# Frauds: 3-6 tiny probes, then a large approved purchase within 30 minutes.
for i, n in enumerate([3, 4, 5, 3, 6, 4]):
    c = card(1000 + i)
    start = T0 + (2 + 3 * i) * 60 * MIN
    end = probes(c, start, n)
    rows.append((end + 5 * MIN, c, round(rng.uniform(600, 2500), 2),
                 "electronics", "approved"))

# Near misses that must not match:
c = card(2000)  # a refund between the probes and the purchase
end = probes(c, T0 + 4 * 60 * MIN, 4)
rows.append((end + MIN, c, 1.50, "online-test", "refund"))
rows.append((end + 3 * MIN, c, 900.00, "electronics", "approved"))
c = card(2001)  # the purchase comes 50 minutes after the first probe
end = probes(c, T0 + 6 * 60 * MIN, 3)
rows.append((end + 47 * MIN, c, 1200.00, "travel", "approved"))
c = card(2002)  # only two probes
end = probes(c, T0 + 8 * 60 * MIN, 2)
rows.append((end + 2 * MIN, c, 800.00, "electronics", "approved"))
c = card(2003)  # the large purchase is declined
end = probes(c, T0 + 10 * 60 * MIN, 5)
rows.append((end + 2 * MIN, c, 1500.00, "electronics", "declined"))

rows.sort()
with open("transactions.csv", "w") as f:
    f.write("card,amount,merchant,result,ts\n")
    for ts, c, amount, merchant, result in rows:
        f.write(f"{c},{amount:.2f},{merchant},{result},{ts}\n")
print(f"wrote {len(rows)} transactions")
