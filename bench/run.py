"""The measurements behind BENCHMARKS.md, run by scripts/bench against a portal it started.

Prints Markdown on stdout (scripts/bench writes it into BENCHMARKS.md) and the query plans
on stderr. Every figure comes from a load tool on loopback (wrk) or from PostgreSQL itself;
nothing here is estimated.

Environment: PORTAL_URL, DATABASE_URL, PORTAL_PID, BIN (the release binary), ADMIN_PHONE,
ADMIN_PASSWORD, BOT_TOKEN, DURATION (seconds per wrk run), ROOT (the repository).
"""
import glob, json, os, re, subprocess, sys, tempfile, time, urllib.parse, urllib.request

URL = os.environ["PORTAL_URL"]
DB = os.environ["DATABASE_URL"]
PID = os.environ["PORTAL_PID"]
BIN = os.environ["BIN"]
ROOT = os.environ["ROOT"]
DURATION = int(os.environ.get("DURATION", "10"))
SECTIONS = set(os.environ.get("BENCH_SECTIONS", "users,dashboard,telegram,ingest").split(","))
BENCH = os.path.join(ROOT, "bench")
TMP = tempfile.mkdtemp(prefix="portal-bench-")
out = []


def say(line=""):
    out.append(line)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def psql(sql, *args):
    return subprocess.run(
        ["psql", DB, "-X", "-At", "-v", "ON_ERROR_STOP=1", *args, "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def rss_kib(field):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {PID}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


opener = urllib.request.build_opener(NoRedirect)


def login(phone, password):
    body = urllib.parse.urlencode({"phone": phone, "password": password}).encode()
    req = urllib.request.Request(URL + "/login", data=body, method="POST",
                                 headers={"Origin": URL, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        res = opener.open(req)
    except urllib.error.HTTPError as e:
        res = e
    for k, v in res.headers.items():
        if k.lower() == "set-cookie" and v.startswith("portal_session="):
            return v.split(";")[0]
    sys.exit(f"bench: sign-in as {phone} failed ({res.status})")


def get(path, cookie):
    req = urllib.request.Request(URL + path, headers={"Cookie": cookie})
    with opener.open(req) as res:
        return res.read().decode()


def next_link(html, link_id):
    m = re.search(r'<a href="([^"]+)" id="' + link_id + '"', html)
    return m.group(1).replace("&amp;", "&") if m else None


def wrk(path, cookie=None, threads=1, conns=1, script=None, env=None, duration=None):
    """Runs wrk; returns (requests/s, p50 ms, p99 ms). A non-2xx/3xx answer fails the run."""
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration or DURATION}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    if script:
        cmd += ["-s", script]
    cmd.append(URL + path)
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    text = res.stdout
    if res.returncode != 0 or "Non-2xx" in text or re.search(r"non_2xx_3xx=[1-9]", text):
        sys.exit(f"bench: wrk on {path} failed:\n{text}\n{res.stderr}")

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    return rps, ms("50"), ms("99")


def sqlx_query(*needles):
    """The text of the one compile-checked query holding every needle (from .sqlx/)."""
    found = []
    for f in glob.glob(os.path.join(ROOT, ".sqlx", "*.json")):
        q = json.load(open(f))["query"]
        if all(n in q for n in needles):
            found.append(q)
    if len(found) != 1:
        sys.exit(f"bench: {len(found)} queries match {needles}")
    return found[0]


def explain(title, sql, params):
    """EXPLAIN (ANALYZE, BUFFERS) of the application's own query text with its parameters,
    planned the way the portal's connections plan it (custom plans)."""
    lits = ", ".join("NULL" if p is None else "'" + str(p).replace("'", "''") + "'" for p in params)
    args = f"({lits})" if params else ""
    script = (f"SET plan_cache_mode = force_custom_plan;\nPREPARE q AS {sql};\n"
              f"\\o /dev/null\nEXECUTE q{args};\n\\o\nEXPLAIN (ANALYZE, BUFFERS) EXECUTE q{args};\n")
    plan = subprocess.run(["psql", DB, "-X", "-q", "-v", "ON_ERROR_STOP=1"],
                          input=script, capture_output=True, text=True)
    if plan.returncode != 0:
        sys.exit(f"bench: EXPLAIN of {title} failed: {plan.stderr}")
    print(f"\n== EXPLAIN (ANALYZE, BUFFERS): {title}\n{plan.stdout}", file=sys.stderr)
    m = re.search(r"Execution Time: ([\d.]+) ms", plan.stdout)
    return float(m.group(1)) if m else None


def row(name, path, cookie, target=None, **kw):
    # wrk counts a redirect as success: make sure this is the page itself (urllib raises on
    # anything but 2xx here, since redirects are not followed).
    get(path, cookie)
    rps, p50, p99 = wrk(path, cookie, **kw)
    log(f"{name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, {rps:.0f} req/s")
    say(f"| {name} | `{path[:90]}{'…' if len(path) > 90 else ''}` | {p50:.2f} | {p99:.2f} | {rps:.0f} | {target or ''} |")
    return p50, p99


def main():
    users = int(psql('SELECT count(*) FROM "User"'))
    events = int(psql('SELECT count(*) FROM "EventLog"'))
    cookie = login(os.environ["ADMIN_PHONE"], os.environ["ADMIN_PASSWORD"])
    say(f"Database: {users:,} users, {events:,} events. wrk runs {DURATION} s each, one connection "
        "unless stated (so the latency is the server's own time plus loopback).")
    say()

    if "users" in SECTIONS:
        users_section(cookie)
    if "dashboard" in SECTIONS:
        dashboard_section(cookie)
    if "telegram" in SECTIONS:
        telegram_section()
    if "ingest" in SECTIONS:
        ingest_section()
    print("\n".join(out))


def busiest_user():
    return psql('SELECT "userId" FROM "EventLog" GROUP BY 1 ORDER BY count(*) DESC LIMIT 1')


def users_section(cookie):
    say("### Users pages")
    say()
    say("| what | request | p50 ms | p99 ms | req/s | target |")
    say("| --- | --- | ---: | ---: | ---: | --- |")
    base = "/admin/users?source=TELEGRAM&region=UZ"
    row("list, source + region, first page", base, cookie, "p50 ≤ 5, p99 ≤ 20")
    # Follow the real "Older" links 10,000 rows deep (50 pages of 200).
    path = base + "&per_page=200"
    for _ in range(50):
        path = next_link(get(path, cookie), "next-page")
        if path is None:
            sys.exit("bench: fewer than 10,000 TELEGRAM/UZ users to page through")
    deep = path.replace("per_page=200", "per_page=50")
    row("list, source + region, 10,000 rows deep", deep, cookie, "p50 ≤ 5, p99 ≤ 20")
    row("list, everyone (with the source × region pivot)", "/admin/users", cookie)
    row("search, 4-letter substring", "/admin/users?q=ahzo", cookie, "p50 ≤ 20")
    row("search, Cyrillic name", "/admin/users?q=" + urllib.parse.quote("Шахзод"), cookie)
    row("sort by name, first page", "/admin/users?sort=name", cookie, "(not held to a target)")
    top = busiest_user()
    top_n = int(psql(f"SELECT count(*) FROM \"EventLog\" WHERE \"userId\" = '{top}'"))
    row(f"timeline of the busiest user ({top_n:,} events), first page", f"/admin/users/{top}", cookie, "p50 ≤ 5")
    deep_ev = psql(f"SELECT \"id\" FROM \"EventLog\" WHERE \"userId\" = '{top}' "
                   "ORDER BY \"createdAt\" DESC, \"id\" DESC OFFSET 50000 LIMIT 1")
    row("timeline, 50,000 events deep", f"/admin/users/{top}?at={deep_ev}", cookie, "p50 ≤ 5")
    say()
    list_sql = sqlx_query('FROM "User"', "LIMIT $22")
    nulls = [None] * 25
    p = list(nulls)
    p[0], p[1], p[8], p[16], p[17], p[21] = "TELEGRAM", "UZ", "false", "false", "false", 51
    t_list = explain("users list, source + region, first page", list_sql, p)
    pivot_sql = sqlx_query('FROM "UserCountDelta" GROUP BY 1, 2')
    t_pivot = explain("source × region pivot (rollup)", pivot_sql, [])
    fold = psql("SELECT portal_fold('ahzo')")
    p = list(nulls)
    p[8], p[9], p[16], p[17], p[21] = "true", f"%{fold}%", "false", "false", 51
    t_search = explain("search, 4-letter substring", list_sql, p)
    tl_sql = sqlx_query('FROM "EventLog"', 'WHERE "userId" = $1', "LIMIT $9")
    t_tl = explain("timeline, first page", tl_sql, [top] + [None] * 7 + [51, None, None, "true"])
    say(f"Query execution inside PostgreSQL (EXPLAIN ANALYZE, printed in full by `scripts/bench`): "
        f"list {t_list:.2f} ms, pivot {t_pivot:.2f} ms, search {t_search:.2f} ms, timeline {t_tl:.2f} ms.")
    say()
    say("A search page's time is mostly its capped count (up to 10,001 trigram matches, each "
        "rechecked on its heap page), which runs beside the page's list query and the pivot, "
        "each on its own connection; a user's page reads its profile, timeline, staff actions "
        "and sessions side by side the same way.")
    say()

    # Memory: the peak under the page load above, then a full CSV export.
    peak_load = rss_kib("VmHWM")
    t0 = time.time()
    req = urllib.request.Request(URL + "/admin/users/export.csv", headers={"Cookie": cookie})
    n_bytes = n_lines = 0
    with opener.open(req) as res:
        while True:
            chunk = res.read(1 << 20)
            if not chunk:
                break
            n_bytes += len(chunk)
            n_lines += chunk.count(b"\n")
    export_s = time.time() - t0
    peak_export = rss_kib("VmHWM")
    say("### Memory")
    say()
    say(f"- Peak RSS of the server after all the page loads above: **{peak_load / 1024:.1f} MB** (target ≤ 150 MB).")
    say(f"- Exporting all users as CSV ({n_lines - 1:,} rows, {n_bytes / 1e6:.0f} MB in {export_s:.1f} s) "
        f"raised the peak by **{(peak_export - peak_load) / 1024:.1f} MB** (target < 20 MB).")
    say()



def dashboard_section(cookie):
    top = busiest_user()
    say("### Dashboard and events explorer")
    say()
    say("| what | request | p50 ms | p99 ms | req/s | target |")
    say("| --- | --- | ---: | ---: | ---: | --- |")
    for period in (7, 30, 90):
        row(f"dashboard, {period} days", f"/admin?period={period}", cookie, "≤ 50")
    row("events, first page", "/admin/events", cookie, "≤ 10")
    row("events, one type", "/admin/events?type=PURCHASE", cookie, "≤ 10")
    row("events, one platform", "/admin/events?platform=MOBILE_APP", cookie, "≤ 10")
    row("events, one user", f"/admin/events?user={top}", cookie, "≤ 10")
    day = psql("SELECT to_char((now() AT TIME ZONE 'Asia/Tashkent')::date - 3, 'YYYY-MM-DD')")
    row("events, one day", f"/admin/events?from={day}&to={day}", cookie, "≤ 10")
    say()



def telegram_section():
    token = os.environ["BOT_TOKEN"]
    urls = os.path.join(TMP, "tg_urls.txt")
    subprocess.run(["python3", os.path.join(BENCH, "telegram_urls.py"), token, "400000", urls], check=True)
    rps, p50, p99 = wrk("/", threads=2, conns=8, script=os.path.join(BENCH, "telegram_urls.lua"),
                        env={"URLS_FILE": urls, "WRK_THREADS": "2"})
    pg = subprocess.run(["pgbench", "-n", "-M", "prepared", "-f", os.path.join(BENCH, "telegram_signin.sql"), "-c", "8", "-j", "2",
                         "-T", str(DURATION), DB], capture_output=True, text=True)
    if pg.returncode != 0:
        sys.exit(f"bench: pgbench failed: {pg.stderr}")
    tps = float(re.search(r"tps = ([\d.]+)", pg.stdout).group(1))
    log(f"telegram callback {rps:.0f}/s, pgbench {tps:.0f}/s")
    say("### Telegram widget sign-in")
    say()
    say("| what | per second | p50 ms | p99 ms |")
    say("| --- | ---: | ---: | ---: |")
    say(f"| `GET /auth/telegram/callback` (verify, upsert, replay digest, session, event), wrk 8 connections | {rps:.0f} | {p50:.2f} | {p99:.2f} |")
    say(f"| the same SQL transaction by pgbench (`bench/telegram_signin.sql`), 8 clients | {tps:.0f} | | |")
    say()
    say(f"The portal reaches **{100 * rps / tps:.0f}%** of pgbench (target ≥ 80%).")
    say()



def ingest_section():
    key = None
    for line in subprocess.run([BIN, "api-key", "create", "--platform", "MOBILE_APP", "--name", "bench"],
                               check=True, capture_output=True, text=True).stdout.splitlines():
        if line.startswith("key: "):
            key = line[5:]
    bodies = os.path.join(TMP, "bodies.jsonl")
    subprocess.run(["python3", os.path.join(BENCH, "ingest_bodies.py"), DB, "400", bodies, "500"], check=True)
    before = int(psql('SELECT count(*) FROM "EventLog"'))
    rps, p50, p99 = wrk("/api/v1/events", threads=2, conns=4, script=os.path.join(BENCH, "ingest.lua"),
                        env={"BODIES_FILE": bodies, "API_KEY": key, "WRK_THREADS": "2"})
    written = int(psql('SELECT count(*) FROM "EventLog"')) - before
    api_rate = rps * 500
    # The same rows through COPY: the bodies as CSV, into "EventLog" by psql.
    csv_path = os.path.join(TMP, "events.csv")
    n_rows = 0
    with open(bodies) as src, open(csv_path, "w") as dst:
        for line in src:
            for e in json.loads(line)["events"]:
                meta = json.dumps(e["metadata"]).replace('"', '""')
                dst.write(f'{uuid4()},{e["userId"]},{e["eventType"]},MOBILE_APP,"{meta}",{e["ipAddress"]},{e["userAgent"]},'
                          f'{time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}\n')
                n_rows += 1
    t0 = time.time()
    psql("\\copy \"EventLog\" (\"id\", \"userId\", \"eventType\", \"platform\", \"metadata\", \"ipAddress\", "
         f"\"userAgent\", \"createdAt\") FROM '{csv_path}' WITH (FORMAT csv)")
    copy_rate = n_rows / (time.time() - t0)
    log(f"ingest {api_rate:.0f} events/s, COPY {copy_rate:.0f} rows/s")
    say("### Event ingestion")
    say()
    say("| what | events per second | p50 ms | p99 ms |")
    say("| --- | ---: | ---: | ---: |")
    say(f"| `POST /api/v1/events`, batches of 500, wrk 4 connections ({written:,} rows written) | {api_rate:.0f} | {p50:.1f} | {p99:.1f} |")
    say(f"| psql `\\copy` of {n_rows:,} such rows into \"EventLog\" | {copy_rate:.0f} | | |")
    say()
    say(f"The API reaches **{100 * api_rate / copy_rate:.0f}%** of the COPY rate (target ≥ 50%).")


def uuid4():
    import uuid
    return str(uuid.uuid4())


if __name__ == "__main__":
    main()
