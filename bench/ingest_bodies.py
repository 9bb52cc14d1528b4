"""Writes N request bodies for POST /api/v1/events, one JSON document per line, each a batch
of 500 events (default) for existing users read from the database. No client ids: every
post of a body writes new rows, so wrk can cycle through the file as long as it likes.

    python3 bench/ingest_bodies.py "$DATABASE_URL" 2000 /tmp/ingest_bodies.jsonl [500]

Needs `psql` on PATH (the user ids are read with it; no Python driver required).
"""
import json, random, subprocess, sys

url, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
per = int(sys.argv[4]) if len(sys.argv) > 4 else 500
ids = subprocess.run(
    ["psql", url, "-At", "-c", 'SELECT "id" FROM "User" ORDER BY random() LIMIT 10000'],
    check=True, capture_output=True, text=True,
).stdout.split()
if not ids:
    sys.exit("no users in the database; load demo data first (unified-portal seed …)")
rng = random.Random(42)
types = ["COURSE_START", "LESSON_DONE", "QUIZ_SUBMIT", "APP_OPEN", "PAGE_VIEW", "PURCHASE"]
with open(out, "w") as f:
    for _ in range(n):
        events = [
            {
                "userId": rng.choice(ids),
                "eventType": rng.choice(types),
                "metadata": {"lesson": rng.randrange(1, 500), "score": rng.randrange(0, 101)},
                "ipAddress": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "userAgent": "bench/1.0",
            }
            for _ in range(per)
        ]
        f.write(json.dumps({"events": events}, separators=(",", ":")) + "\n")
