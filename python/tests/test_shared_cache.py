"""A Python process and a C process (`bazoola exec`) on one directory share
one segment: bzstat sees both pids, and each sees the other's writes."""
import json
import os
import subprocess

from bazoola import DB
from conftest import SCHEMA_TEXT, TABLES


class ExecProcess:
    """bazoola exec kept running: one request line in, one reply out."""

    def __init__(self, tool, directory, schema):
        self.p = subprocess.Popen([tool, "exec", str(directory), "--schema",
                                   str(schema)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def call(self, op):
        self.p.stdin.write(json.dumps(op) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        assert self.p.wait(30) == 0


def test_python_and_c_share_one_cache(tmp_path, bazoola_tool, bzstat_tool):
    d = tmp_path / "shared"
    schema = tmp_path / "schema.txt"
    schema.write_text(SCHEMA_TEXT)
    with DB(TABLES, base_dir=str(d), lock_mode="shared") as db:
        db.insert("authors", {"name": "from python"})
        c = ExecProcess(bazoola_tool, d, schema)
        try:
            # C reads Python's row, then writes one Python reads.
            assert c.call({"op": "find_by_id", "table": "authors", "id": 1}) \
                == {"ok": {"id": 1, "name": "from python"}}
            assert c.call({"op": "insert", "table": "authors",
                           "values": {"name": "from C"}}) \
                == {"ok": {"id": 2, "name": "from C"}}
            assert db.find_by_id("authors", 2)["name"] == "from C"

            st = subprocess.run([bzstat_tool, "--json", str(d)],
                                capture_output=True, text=True, timeout=30)
            assert st.returncode == 0, st.stderr
            seen = json.loads(st.stdout)
            pids = {p["pid"] for p in seen["processes"] if p["alive"]}
            assert {os.getpid(), c.p.pid} <= pids

            mine = db.stats()
            assert mine["segment"]["name"] == seen["segment"]["name"]
            assert {os.getpid(), c.p.pid} <= {
                p["pid"] for p in mine["processes"] if p["alive"]}
            assert mine["lock"]["acquisitions"] >= 3
        finally:
            c.close()
        assert c.p.pid not in {p["pid"] for p in db.stats()["processes"]
                               if p["alive"]}
