"""Writes N distinct Login Widget callback paths signed with the bot token, one per line,
for wrk (each sign-in link may be used once)."""
import hashlib, hmac, sys, time, urllib.parse

token, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
secret = hashlib.sha256(token.encode()).digest()
now = int(time.time())
with open(out, "w") as f:
    for i in range(n):
        fields = {
            "id": str(1_000_000_000 + i % 100_000),
            "first_name": "Bench",
            "last_name": f"User {i}",
            "username": "bench_user",
            "auth_date": str(now),
        }
        check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
        fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
        f.write("/auth/telegram/callback?" + urllib.parse.urlencode(fields) + "\n")
