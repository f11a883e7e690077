"""A bar chart of revenue by region, as text: a command task that reads its upstream result."""
import json
import os

params = json.loads(os.environ["LITTLEPIPES_PARAMS"])
with open(os.environ["LITTLEPIPES_UPSTREAM"]) as upstream:
    by_region = json.load(upstream)["ByRegion"]
[output] = json.loads(os.environ["LITTLEPIPES_OUTPUTS"])

widest = max(row["revenue"] for row in by_region)
lines = []
for row in by_region:
    bar = "#" * round(params["width"] * row["revenue"] / widest)
    lines.append(f"{row['region']:<6} {bar} {row['revenue']:.2f}")
os.makedirs(os.path.dirname(output), exist_ok=True)
with open(output, "w") as chart:
    chart.write("\n".join(lines) + "\n")
print(f"wrote {len(lines)} bars to {output}")
