"""`mktai serve`: real server processes on free loopback ports, real HTTP requests (httpx).

One store is trained once for the module (a small gbm propensity model on the bank sample, a
segments model on the transactions sample; the built-in sentiment model needs no training).
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="httpx is in the dev extra")
pytest.importorskip("fastapi", reason="mktai serve needs the serve extra")

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "sample_data" / "bank_sample.csv"
TRANSACTIONS = ROOT / "sample_data" / "transactions_sample.csv"
TOKEN = "test-token-0123456789abcdef"
DAILY = ROOT / "sample_data" / "daily_sales.csv"


def has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


HAS_RECOMMEND = has("mktai.api.recommend") and has("mktai.tasks.recommend")
HAS_FORECAST = has("mktai.api.forecast") and has("mktai.tasks.forecast") and DAILY.exists()
FAMILIES = ["recs"] * HAS_RECOMMEND + ["weekly"] * HAS_FORECAST


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    out.setdefault("MKTAI_THREADS", "1")
    out.pop("MKTAI_SERVE_TOKEN", None)
    return out


def cli(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "mktai.cli.app", *args], capture_output=True,
                          text=True, env=kwargs.pop("env", env()), timeout=120, **kwargs)  # fmt: skip
    if check:
        assert done.returncode == 0, done.stderr
    return done


class Server:
    """`python -m mktai.cli.app serve ...` on a free port; stderr kept for the access log."""

    def __init__(self, store: Path, *args: str, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = store.parent / f"serve-{self.port}.log"
        environment = {**env(), **(extra_env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mktai.cli.app", "serve", "--store", str(store),
             "--port", str(self.port), *args],
            env=environment, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"),
        )  # fmt: skip

    def wait(self, path: str = "/livez", timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.stderr()}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling interval, not a fixed wait
        raise AssertionError(f"{path} not 200 within {timeout} s: {self.stderr()}")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def access_lines(self, path: str) -> list[dict]:
        lines = [json.loads(x) for x in self.stderr().splitlines() if x.startswith("{")]
        return [x for x in lines if x.get("path") == path]

    def wait_for_access_line(self, path: str, *, after: int, timeout: float = 10.0) -> dict:
        """The access-log line of the request after the first `after` ones to `path`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.access_lines(path)
            if len(lines) > after:
                return lines[after]
            time.sleep(0.02)  # polling interval, not a fixed wait
        raise AssertionError(f"no access-log line for {path} within {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from mktai.api import train
    from mktai.store import Store

    root = tmp_path_factory.mktemp("serve") / "store"
    train("propensity", BANK, name="response", target="y", store=root, cv=0, seed=0,
          params={"max_iter": 25})  # fmt: skip
    train("segments", TRANSACTIONS, name="rfm", store=root, seed=0)
    if HAS_RECOMMEND:  # purchases -> EASE, on the first 6,000 lines to keep the fit short
        orders = root.parent / "orders.csv"
        orders.write_bytes(b"".join(TRANSACTIONS.read_bytes().splitlines(keepends=True)[:6000]))
        train("recommender", orders, name="recs", store=root, seed=0)
    if HAS_FORECAST:
        train("forecast", DAILY, name="weekly", store=root, seed=0, params={"horizon": 7})
    saved = Store(root)
    archive = saved.export("response@v1", root.parent / "response.tar.gz")
    saved.import_(archive)  # response@v2: same content, another version number
    saved.import_(archive, name="victim")  # tampered with while the server runs
    saved.tag("response@v1", "production")
    return root


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    served = ",".join(["response", "victim", "rfm", *FAMILIES])
    srv = Server(store, "--models", served, "--default-model", "response",
                 "--max-body", "512KB", "--max-rows", "20000")  # fmt: skip
    try:
        srv.wait("/readyz")
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def leads(tmp_path_factory) -> tuple[Path, list[dict[str, str]]]:
    """40 bank rows without the outcome, as a file and as records (cells as strings)."""
    with open(BANK, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))[:40]
    for row in rows:
        row.pop("y")
    path = tmp_path_factory.mktemp("leads") / "leads.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, rows


def typed(rows: list[dict[str, str]]) -> list[dict]:
    """The rows as a JSON client would send them: numbers as numbers."""
    out = []
    for row in rows:
        out.append({k: (int(v) if v.lstrip("-").isdigit() else v) for k, v in row.items()})
    return out


def scores(payload: dict) -> list[float]:
    return [p["score"] for p in payload["predictions"]]


# --------------------------------------------------------------------------- health, listing
def test_health_mlflow_probes_and_docs(client: httpx.Client) -> None:
    assert client.get("/livez").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    expected = {"built-in": "ok", "response": "ok", "victim": "ok", "rfm": "ok"}
    assert ready.json()["models"] == {**expected, **{name: "ok" for name in FAMILIES}}
    assert client.get("/ping").status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/version").text.strip()
    schema = client.get("/openapi.json").json()
    assert "/v1/models/{ref}/predict" in schema["paths"] and "/invocations" in schema["paths"]
    assert "swagger" in client.get("/docs").text.lower()


def test_models_list_and_show(client: httpx.Client) -> None:
    listed = client.get("/v1/models").json()
    refs = [m["ref"] for m in listed["models"]]
    assert refs == ["response@v2", "victim@v1", "rfm@v1", *[f"{f}@v1" for f in FAMILIES],
                    "built-in"]  # fmt: skip
    assert listed["default_model"] == "response"
    shown = client.get("/v1/models/response@v1")
    assert shown.status_code == 200 and shown.headers["x-mktai-model"] == "response@v1"
    body = shown.json()
    assert body["kind"] == "propensity" and body["target"] == "y"
    assert "age" in [c["name"] for c in body["input_schema"]["columns"]]
    missing = client.get("/v1/models/nope")
    assert missing.status_code == 404
    served = ", ".join(["response", "victim", "rfm", *FAMILIES])
    assert missing.json()["error"] == f"model 'nope' is not served here (served: {served})"
    assert client.get("/v1/models/response@v9").status_code == 404
    route = client.get("/no/such/route")
    assert route.status_code == 404 and route.json()["error"].startswith("no such endpoint")


# --------------------------------------------------------------------------- scoring
def test_predict_equals_the_cli(client: httpx.Client, store: Path, leads, tmp_path) -> None:
    path, rows = leads
    out = tmp_path / "scores.csv"
    cli("predict", "--model", "response@v1", str(path), "-o", str(out), "--store", str(store))
    with open(out, newline="", encoding="utf-8") as handle:
        expected = [(float(r["score"]), r["prediction"]) for r in csv.DictReader(handle)]

    as_json = client.post("/v1/models/response@v1/predict", json={"records": typed(rows)})
    assert as_json.status_code == 200, as_json.text
    body = as_json.json()
    assert body["model"] == "response@v1" and body["rows"] == 40 and body["rows_rejected"] == 0
    assert as_json.headers["x-mktai-model"] == "response@v1"
    assert as_json.headers["x-mktai-version"] == "1"
    got = [(p["score"], str(p["prediction"])) for p in body["predictions"]]
    assert [g[1] for g in got] == [e[1] for e in expected]
    assert [g[0] for g in got] == pytest.approx([e[0] for e in expected], rel=1e-12, abs=1e-15)

    as_csv = client.post("/v1/models/response@v1/predict", content=path.read_bytes(),
                         headers={"content-type": "text/csv"})  # fmt: skip
    assert as_csv.status_code == 200
    assert scores(as_csv.json()) == scores(body)
    # a malformed line is a reject with its row number and reason, the others are scored
    lines = path.read_bytes().splitlines(keepends=True)
    broken = b"".join([*lines[:3], lines[3].rstrip(b"\r\n") + b",extra,fields\r\n", *lines[4:6]])
    partial = client.post("/v1/models/response@v1/predict", content=broken,
                          headers={"content-type": "text/csv"})  # fmt: skip
    assert partial.status_code == 200, partial.text
    assert partial.json()["rows"] == 4 and partial.json()["rows_rejected"] == 1
    reject = partial.json()["rejects"][0]
    assert reject["row"] == 3 and reject["reason"].startswith("malformed line")
    assert scores(partial.json()) == scores(body)[:2] + scores(body)[3:5]
    # the order is the input order: reversed rows, reversed scores
    backwards = client.post("/v1/models/response@v1/predict", json={"records": typed(rows)[::-1]})
    assert scores(backwards.json()) == scores(body)[::-1]


def test_one_row_requests_score_like_the_batch_and_the_cli(
    client: httpx.Client, store: Path, leads, tmp_path
) -> None:
    """A stream of one-row requests (the server's fast path: reused plan, cached categories)
    gives each row the score it gets in a batch, and the score `mktai predict` writes for
    a file holding that one row."""
    path, rows = leads
    batch = client.post("/v1/models/response@v1/predict", json={"records": typed(rows[:8])})
    assert batch.status_code == 200, batch.text
    one_by_one = []
    for row in typed(rows[:8]):
        answer = client.post("/v1/models/response@v1/predict", json={"records": [row]})
        assert answer.status_code == 200 and answer.json()["rows"] == 1, answer.text
        one_by_one.append(answer.json()["predictions"][0])
    assert one_by_one == batch.json()["predictions"]  # the same numbers, exactly
    single = tmp_path / "one.csv"
    single.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:2]))
    out = tmp_path / "one-scored.csv"
    cli("predict", "--model", "response@v1", str(single), "-o", str(out), "--store", str(store))
    with open(out, newline="", encoding="utf-8") as handle:
        written = next(csv.DictReader(handle))
    assert float(written["score"]) == pytest.approx(one_by_one[0]["score"], rel=1e-12)
    assert written["prediction"] == str(one_by_one[0]["prediction"])


def test_mlflow_protocol(client: httpx.Client, leads) -> None:
    _path, rows = leads
    records = typed(rows[:5])
    columns = list(records[0])
    reference = scores(client.post("/v1/models/response/predict", json={"records": records}).json())
    payloads = [
        {
            "dataframe_split": {
                "columns": columns,
                "data": [[r[c] for c in columns] for r in records],
            }
        },
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": {c: [r[c] for r in records] for c in columns}},
        {"inputs": records, "params": {}},
    ]
    for payload in payloads:
        answer = client.post("/invocations", json=payload)
        assert answer.status_code == 200, (payload.keys(), answer.text)
        assert set(answer.json()) == {"predictions", "model"}
        assert [p["score"] for p in answer.json()["predictions"]] == reference
        assert answer.headers["x-mktai-model"] == "response@v2"
    both = client.post("/invocations", json={"instances": records, "inputs": records})
    assert both.status_code == 400 and "exactly one of" in both.json()["error"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows[:5])
    as_csv = client.post("/v1/models/response/invocations", content=buffer.getvalue(),
                         headers={"content-type": "text/csv"})  # fmt: skip
    assert [p["score"] for p in as_csv.json()["predictions"]] == reference


def test_the_quick_lane_answers_as_the_route(client: httpx.Client, leads) -> None:
    """A few JSON rows are answered before FastAPI's routing (mktai.serve.lane); the same body
    padded past the lane's limit takes the route: the same status, headers and body, for
    scores and for errors."""
    from mktai.serve.app import QUICK_BODY

    _path, rows = leads
    json_type = {"content-type": "application/json"}

    def both(path: str, body: str) -> tuple[httpx.Response, httpx.Response]:
        padded = body[:-1] + " " * (QUICK_BODY + 10) + "}"
        return (client.post(path, content=body, headers=json_type),
                client.post(path, content=padded, headers=json_type))  # fmt: skip

    records = json.dumps({"records": typed(rows[:3])})
    mlflow = json.dumps({"dataframe_records": typed(rows[:3])})
    for path, body in (("/v1/models/response/predict", records),
                       ("/v1/models/response@v1/invocations", mlflow),
                       ("/invocations", mlflow)):  # fmt: skip
        quick, routed = both(path, body)
        assert quick.status_code == routed.status_code == 200, (path, quick.text, routed.text)
        assert quick.json() == routed.json()
        for header in ("x-mktai-model", "x-mktai-version", "content-type"):
            assert quick.headers.get(header) == routed.headers.get(header), header
    for path, body in (("/v1/models/nope/predict", records),
                       ("/v1/models/response/predict", json.dumps({"records": [{"age": 41}]})),
                       ("/v1/models/response/predict", '{"records": [{"age": NaN}]}')):  # fmt: skip
        quick, routed = both(path, body)
        assert quick.status_code == routed.status_code and quick.status_code >= 400, path
        assert quick.json() == routed.json() and "error" in quick.json()
    # a plain CSV body (split without the CSV reader, bodies.plain_csv_cells) and the same
    # rows padded past the limit (read the full way) answer alike; so does the JSON body
    from mktai.serve.bodies import plain_csv_cells

    csv_type = {"content-type": "text/csv"}
    header = ",".join(rows[0])
    lines = [",".join(row.values()) for row in rows[:3]]
    body = "\n".join([header, *lines]) + "\n"
    assert plain_csv_cells(body.encode()) is not None
    padded = body[:-1] + " " * (QUICK_BODY + 10) + "\n"  # the last cell's value is trimmed
    for path in ("/v1/models/response/predict", "/v1/models/response@v1/invocations"):
        quick = client.post(path, content=body, headers=csv_type)
        routed = client.post(path, content=padded, headers=csv_type)
        assert quick.status_code == routed.status_code == 200, (path, quick.text)
        assert quick.json() == routed.json()
        for header_name in ("x-mktai-model", "x-mktai-version", "content-type"):
            assert quick.headers.get(header_name) == routed.headers.get(header_name)
    as_json = client.post("/v1/models/response/predict", content=records, headers=json_type)
    quick = client.post("/v1/models/response/predict", content=body, headers=csv_type)
    assert quick.json() == as_json.json()


def test_sentiment_builtin_and_routing(client: httpx.Client) -> None:
    # no content type, as `curl -d` sends it
    answer = client.post("/v1/sentiment", content='{"texts": ["Great product", "质量很差"]}',
                         headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == "built-in"
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative"]
    assert [p["lang"] for p in body["predictions"]] == ["en", "zh"]
    stored = client.post("/v1/models/built-in/sentiment", json={"texts": ["awful"]})
    assert stored.json()["predictions"][0]["label"] == "negative"
    mlflow = client.post("/v1/models/built-in/invocations", json={"inputs": ["awful", "great"]})
    assert [p["label"] for p in mlflow.json()["predictions"]] == ["negative", "positive"]
    wrong = client.post("/v1/models/response/sentiment", json={"texts": ["good"]})
    assert wrong.status_code == 400
    assert "not sentiment" in wrong.json()["error"]
    not_rows = client.post("/v1/models/rfm/predict", json={"records": [{"a": 1}]})
    assert not_rows.status_code == 400
    assert not_rows.json()["error"].startswith("rfm@v1 is a segments model")


def test_segment_route(client: httpx.Client, store: Path) -> None:
    lines = TRANSACTIONS.read_bytes().splitlines(keepends=True)
    body = b"".join(lines[:3000])  # under --max-body 512KB
    answer = client.post("/v1/models/rfm/segment", content=body,
                         headers={"content-type": "text/csv"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert payload["model"] == "rfm@v1"
    customers = payload["customers"]
    ids = {str(c["customer"]) for c in customers}
    with open(TRANSACTIONS, newline="", encoding="utf-8") as handle:
        known = {r["CustomerID"] for r in csv.DictReader(handle) if r["CustomerID"]}
    assert ids <= known and len(ids) > 10
    assert all(c["segment"] for c in customers)


@pytest.mark.skipif(
    not HAS_RECOMMEND, reason="the recommend family (mktai.api.recommend) is absent"
)
def test_recommend_and_similar_routes(client: httpx.Client, store: Path) -> None:
    from mktai.api.recommend import recommend, similar_items

    with open(TRANSACTIONS, newline="", encoding="utf-8") as handle:
        first = next(r for r in csv.DictReader(handle) if r["CustomerID"])
    user, item = first["CustomerID"], first["StockCode"]
    answer = client.post("/v1/models/recs/recommend", json={"user": user, "n": 5})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == "recs@v1" and answer.headers["x-mktai-model"] == "recs@v1"
    direct = recommend("recs", users=[user], n=5, store=store).frame
    assert [r["item"] for r in body["recommendations"]] == [str(i) for i in direct["item"]]
    assert [r["rank"] for r in body["recommendations"]] == [1, 2, 3, 4, 5]
    stranger = client.post("/v1/models/recs/recommend", json={"users": ["no-such-user"], "n": 3})
    assert {r["source"] for r in stranger.json()["recommendations"]} == {"popularity"}
    bad = client.post("/v1/models/recs/recommend", json={"user": user, "n": 0})
    assert bad.status_code == 400 and '"n" must be an integer' in bad.json()["error"]
    wrong = client.post("/v1/models/response/recommend", json={"user": user})
    assert wrong.status_code == 400 and "not recommend" in wrong.json()["error"]
    alike = client.post("/v1/models/recs/similar", json={"item": item, "n": 4})
    assert alike.status_code == 200, alike.text
    expected = similar_items("recs", item, n=4, store=store).frame
    got = [r["similar_item"] for r in alike.json()["similar"]]
    assert got == [str(i) for i in expected["similar_item"]] and len(got) == 4


@pytest.mark.skipif(not HAS_FORECAST, reason="the forecast family (mktai.api.forecast) is absent")
def test_forecast_route(client: httpx.Client, store: Path) -> None:
    from mktai.api.forecast import forecast

    answer = client.post("/v1/models/weekly/forecast", json={"horizon": 7})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == "weekly@v1" and body["horizon"] == 7
    direct = forecast(None, horizon=7, model="weekly", store=store).frame
    assert len(body["forecast"]) == len(direct)
    got = [row["forecast"] for row in body["forecast"]]
    assert got == pytest.approx(direct["forecast"].tolist(), rel=1e-12)
    assert {"lo_80", "hi_95"} <= set(body["forecast"][0])
    bad = client.post("/v1/models/weekly/forecast", json={"horizon": "soon"})
    assert bad.status_code == 400 and '"horizon" must be an integer' in bad.json()["error"]


# --------------------------------------------------------------------------- bad requests
def test_error_statuses_and_messages(client: httpx.Client, leads) -> None:
    _path, rows = leads
    record = typed(rows[:1])[0]
    del record["age"]
    missing = client.post("/v1/models/response/predict", json={"records": [record]})
    assert missing.status_code == 422
    error = missing.json()
    assert set(error) == {"error", "detail"}
    assert error["error"].startswith("request body: missing column(s) 'age' that the model")
    assert error["detail"]["type"] == "InputError"
    nested = client.post("/v1/models/response/predict", json={"records": [{"age": {"x": 1}}]})
    assert nested.status_code == 422 and "row 1, column 'age'" in nested.json()["error"]
    bad_json = client.post("/v1/models/response/predict", content=b"{not json",
                           headers={"content-type": "application/json"})  # fmt: skip
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]
    deep = client.post("/v1/models/response/predict", content=b"[" * 40 + b"]" * 40,
                       headers={"content-type": "application/json"})  # fmt: skip
    assert deep.status_code == 400 and "nested deeper than 32" in deep.json()["error"]
    xml = client.post("/v1/models/response/predict", content=b"<rows/>",
                      headers={"content-type": "application/xml"})  # fmt: skip
    assert xml.status_code == 415 and "application/xml" in xml.json()["error"]
    gz = client.post("/v1/models/response/predict", content=b"\x1f\x8b\x08\x00rest",
                     headers={"content-type": "text/csv"})  # fmt: skip
    assert gz.status_code == 415
    big = client.post("/v1/models/response/predict", content=b"a,b\n" + b"1,2\n" * 200_000,
                      headers={"content-type": "text/csv"})  # fmt: skip
    assert big.status_code == 413 and "--max-body" in big.json()["error"]
    many = client.post("/v1/models/response/predict",
                       json={"records": [{"age": 1}] * 20_001})  # fmt: skip
    assert many.status_code == 413 and "--max-rows" in many.json()["error"]
    no_text = client.post("/v1/sentiment", json={"texts": "one string"})
    assert no_text.status_code == 400 and "list of strings" in no_text.json()["error"]
    for answer in (missing, nested, bad_json, deep, xml, gz, big, many, no_text):
        assert "Traceback" not in answer.text


def test_access_log_has_one_line_per_request_and_no_bodies(server: Server, client) -> None:
    marker = "secret-marker-in-the-body"
    before = len(server.access_lines("/v1/sentiment"))
    client.post("/v1/sentiment", json={"texts": [marker]})
    # the line is written once the response has gone out, so the client can be first: poll
    last = server.wait_for_access_line("/v1/sentiment", after=before)
    assert set(last) >= {"method", "path", "status", "ms", "model"}
    assert last["status"] == 200 and last["model"] == "built-in"
    assert marker not in server.stderr()


# --------------------------------------------------------------------------- the store moving
def test_alias_move_is_picked_up_without_restart(client: httpx.Client, store: Path, leads) -> None:
    records = typed(leads[1][:3])
    first = client.post("/v1/models/response@production/predict", json={"records": records})
    assert first.json()["model"] == "response@v1"
    cli("models", "tag", "response@v2", "production", "--store", str(store))
    moved = client.post("/v1/models/response@production/predict", json={"records": records})
    assert moved.json()["model"] == "response@v2"
    assert scores(moved.json()) == scores(first.json())  # same content, imported
    cli("models", "tag", "response@v1", "production", "--store", str(store))
    back = client.post("/v1/models/response@production/predict", json={"records": records})
    assert back.json()["model"] == "response@v1"


def test_tampered_artifact_is_refused_and_others_still_served(
    client: httpx.Client, store: Path, leads
) -> None:
    records = typed(leads[1][:2])
    assert client.post("/v1/models/victim/predict", json={"records": records}).status_code == 200
    target = store / "victim" / "v1" / "model.json"
    original = target.read_bytes()
    target.write_bytes(original.replace(b'"threshold"', b'"threshold" ', 1))
    try:
        refused = client.post("/v1/models/victim/predict", json={"records": records})
        assert refused.status_code == 503
        assert refused.json()["error"].startswith("model victim@v1 is damaged: file 'model.json'")
        assert refused.json()["detail"]["type"] == "IntegrityError"
        again = client.post("/v1/models/victim/predict", json={"records": records})
        assert again.status_code == 503
        ready = client.get("/readyz")  # still ready: the other models are served
        assert ready.status_code == 200 and "victim@v1" in ready.json()["refused"]
        served = client.post("/v1/models/response/predict", json={"records": records})
        assert served.status_code == 200 and served.json()["model"] == "response@v2"
    finally:
        target.write_bytes(original)
    restored = client.post("/v1/models/victim/predict", json={"records": records})
    assert restored.status_code == 200 and restored.json()["model"] == "victim@v1"


def test_concurrent_requests(client: httpx.Client, server: Server, leads) -> None:
    records = typed(leads[1])
    expected = scores(client.post("/v1/models/response@v1/predict",
                                  json={"records": records}).json())  # fmt: skip

    def one(i: int) -> tuple[int, list[float], list[str]]:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            row = records[i % len(records)]
            a = http.post("/v1/models/response@v1/predict", json={"records": [row]})
            b = http.post("/v1/sentiment", json={"texts": [f"great {i}"]})
            return i, scores(a.json()), [p["label"] for p in b.json()["predictions"]]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(32)))
    for i, got, labels in results:
        assert got == pytest.approx([expected[i % len(records)]], rel=1e-12)
        assert labels == ["positive"]


# --------------------------------------------------------------------------- auth, processes
@pytest.fixture(scope="module")
def secured(store: Path, tmp_path_factory) -> Iterator[Server]:
    """Two worker processes behind a token (stopped by the SIGTERM test)."""
    token_file = tmp_path_factory.mktemp("token") / "token"
    token_file.write_text(TOKEN + "\n")
    srv = Server(store, "--workers", "2", "--models", "response", "--token-file", str(token_file))
    try:
        srv.wait("/readyz")
        yield srv
    finally:
        srv.stop()


AUTH = {"authorization": f"Bearer {TOKEN}"}


def test_token_auth_with_two_workers(secured: Server, leads) -> None:
    with httpx.Client(base_url=secured.url, timeout=60) as http:
        assert http.get("/livez").status_code == 200  # health stays open for probes
        # readiness is per worker (the other one may still be warming up), and open
        assert http.get("/readyz").status_code in (200, 503)
        records = {"records": typed(leads[1][:2])}
        for headers in ({}, {"authorization": "Bearer wrong-token-0123456789"},
                        {"authorization": TOKEN}):  # fmt: skip
            refused = http.post("/v1/models/response/predict", json=records, headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "bearer token" in refused.json()["error"]
        assert http.get("/v1/models").status_code == 401
        assert http.get("/openapi.json").status_code == 401
        assert http.get("/ping").status_code == 401
        ok = http.post("/v1/models/response/predict", json=records, headers=AUTH)
        assert ok.status_code == 200 and ok.json()["model"] == "response@v2"
    pid = secured.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():  # Linux: the supervisor runs one process per worker
        workers = [c for c in children.read_text().split() if "mktai" in _cmdline(c)
                   or "multiprocessing" in _cmdline(c)]  # fmt: skip
        assert len(workers) >= 2


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _open_sockets(pid: int) -> int:
    """Sockets held by a server process and its workers (Linux /proc): an accepted connection
    shows up here, which is what "the request is in flight" can be observed by."""
    total = 0
    for process in [str(pid), *_children(str(pid))]:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{process}/fd").iterdir()]
        except OSError:
            continue
        total += sum(link.startswith("socket:") for link in links)
    return total


def _children(pid: str) -> list[str]:
    try:
        direct = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [*direct, *(grand for child in direct for grand in _children(child))]


def test_sigterm_lets_the_request_in_flight_finish(secured: Server, leads) -> None:
    path, _rows = leads
    before = _open_sockets(secured.proc.pid)
    body = path.read_bytes()
    half = body.index(b"\n", len(body) // 2) + 1
    sent_first = threading.Event()
    go_on = threading.Event()

    def chunks() -> Iterator[bytes]:
        yield body[:half]
        sent_first.set()
        go_on.wait(30)
        yield body[half:]

    result: dict = {}

    def request() -> None:
        with httpx.Client(base_url=secured.url, timeout=60) as http:
            result["answer"] = http.post("/v1/models/response/predict", content=chunks(),
                                         headers={"content-type": "text/csv", **AUTH})  # fmt: skip

    worker = threading.Thread(target=request)
    worker.start()
    assert sent_first.wait(30)
    deadline = time.monotonic() + 30
    while _open_sockets(secured.proc.pid) <= before and time.monotonic() < deadline:
        time.sleep(0.02)  # polling interval: until a worker has accepted the connection
    time.sleep(0.3)  # then let it parse the headers it already has: the request is in flight
    secured.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    go_on.set()
    worker.join(60)
    answer = result["answer"]
    assert answer.status_code == 200 and answer.json()["rows"] == 40
    assert secured.proc.wait(30) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(secured.url + "/livez", timeout=2)


def _raw_request(port: int, head: bytes, body: bytes) -> bytes:
    """Send a request whose body stops short of its Content-Length; read what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def test_timeout_is_a_504_and_the_server_keeps_serving(store: Path, leads) -> None:
    srv = Server(store, "--models", "response", "--timeout", "0.2")
    try:
        srv.wait("/readyz")
        # a body that never arrives in full: the request cannot finish within --timeout
        head = (b"POST /v1/models/response/predict HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                b"content-type: text/csv\r\ncontent-length: 5000\r\n\r\n")  # fmt: skip
        stalled = _raw_request(srv.port, head, leads[0].read_bytes()[:300])
        status_line, _, rest = stalled.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 504"), stalled[:200]
        error = json.loads(rest.split(b"\r\n\r\n", 1)[1])
        assert error == {"error": "the request took longer than 0.2 s (--timeout)",
                         "detail": {"type": "Timeout", "status": 504}}  # fmt: skip
        assert srv.wait_for_access_line("/v1/models/response/predict", after=0)["status"] == 504
        # a batch that takes longer to score than the timeout (60,000 rows in 0.2 s)
        lines = BANK.read_bytes().splitlines(keepends=True)
        body = b"".join([lines[0], *(lines[1:] * 20)])
        big = httpx.post(srv.url + "/v1/models/response/predict", content=body,
                         headers={"content-type": "text/csv"}, timeout=120)  # fmt: skip
        if big.status_code == 200:
            pytest.skip("this machine scored 60,000 rows within 0.2 s: no slow batch to time out")
        assert big.status_code == 504 and big.json()["detail"]["type"] == "Timeout"
        assert "Traceback" not in big.text
        # the work abandoned with the 504 stops at its next stage boundary (cleaning done:
        # it is not scored nor serialised), says so on stderr, and its thread is free again
        stopped = wait_for_text(srv, "abandoned before ")
        assert stopped.startswith("mktai serve: POST /v1/models/response/predict abandoned "
                                  "before "), stopped  # fmt: skip
        assert stopped.split("abandoned before ")[1].split()[0] in ("scoring", "answering")
        assert "Traceback" not in srv.stderr() and "internal error" not in srv.stderr()
        assert httpx.get(srv.url + "/livez", timeout=5).status_code == 200
        # one row is answered (on a loaded machine even one row can miss 0.2 s: retried)
        record = {"records": typed(leads[1][:1])}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            answer = httpx.post(srv.url + "/v1/models/response/predict", json=record, timeout=60)
            if answer.status_code == 200:
                break
            assert answer.status_code == 504
        assert answer.status_code == 200 and answer.json()["rows"] == 1
    finally:
        srv.stop()


def test_timeout_stops_sentiment_and_segment_work_at_a_stage_boundary(store: Path) -> None:
    """Sentiment and segment requests past --timeout get their 504, and the work stops at its
    next stage boundary and says so on stderr, as a predict request's does."""
    srv = Server(store, "--models", "rfm", "--timeout", "0.3")
    try:
        srv.wait("/readyz")
        texts = {"texts": [f"great product, fast delivery {i}" for i in range(20_000)]}
        slow = httpx.post(srv.url + "/v1/sentiment", json=texts, timeout=120)
        if slow.status_code == 200:
            pytest.skip("this machine scored 20,000 texts within 0.3 s: nothing to time out")
        assert slow.status_code == 504 and slow.json()["detail"]["type"] == "Timeout"
        stopped = wait_for_text(srv, "POST /v1/sentiment abandoned before ")
        assert stopped.split("abandoned before ")[1].split()[0] in ("scoring", "answering")
        transactions = httpx.post(srv.url + "/v1/models/rfm/segment",
                                  content=b"".join(TRANSACTIONS.read_bytes()
                                                   .splitlines(keepends=True)[:8000]),
                                  headers={"content-type": "text/csv"}, timeout=120)  # fmt: skip
        if transactions.status_code == 504:  # 8,000 transaction lines usually take longer
            stopped = wait_for_text(srv, "POST /v1/models/rfm/segment abandoned before ")
            assert stopped.split("abandoned before ")[1].split()[0] in ("cleaning", "answering")
        else:
            assert transactions.status_code == 200, transactions.text
        assert "Traceback" not in srv.stderr() and "internal error" not in srv.stderr()
        assert httpx.get(srv.url + "/livez", timeout=5).status_code == 200
        deadline = time.monotonic() + 120  # one text is answered (retried: a loaded machine
        while time.monotonic() < deadline:  # can miss even 0.3 s)
            one = httpx.post(srv.url + "/v1/sentiment", json={"texts": ["awful"]}, timeout=60)
            if one.status_code == 200:
                break
            assert one.status_code == 504
        assert one.status_code == 200 and one.json()["predictions"][0]["label"] == "negative"
    finally:
        srv.stop()


def wait_for_text(srv: Server, text: str, timeout: float = 60.0) -> str:
    """The first stderr line of the server holding `text` (polled until it appears)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in srv.stderr().splitlines() if text in line]
        if found:
            return found[0]
        time.sleep(0.02)  # polling interval, not a fixed wait
    raise AssertionError(f"no {text!r} on the server's stderr within {timeout} s")


def test_unsafe_or_impossible_settings_exit_2(store: Path) -> None:
    exposed = cli("serve", "--host", "0.0.0.0", "--store", str(store), check=False)
    assert exposed.returncode == 2 and "requires" not in exposed.stdout
    assert "not a loopback address: set a token" in exposed.stderr
    short = cli("serve", "--store", str(store), check=False,
                env={**env(), "MKTAI_SERVE_TOKEN": "short"})  # fmt: skip
    assert short.returncode == 2 and "at least 16 characters" in short.stderr
    both = cli("serve", "--models", "response", "--all", "--store", str(store), check=False)
    assert both.returncode == 2 and "not both" in both.stderr


def test_without_the_extra_exit_4_and_help_stays_light() -> None:
    blocked = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['fastapi'] = None; "
         "sys.argv = ['mktai', 'serve']; from mktai.cli.app import main; main()"],
        capture_output=True, text=True, env=env(), timeout=60,
    )  # fmt: skip
    assert blocked.returncode == 4
    assert "pip install 'mktai[serve]'" in blocked.stderr
    light = subprocess.run(
        [sys.executable, "-c", "import sys, mktai.cli.serve, mktai.serve.config; "
         "print([m for m in ('fastapi', 'pandas', 'uvicorn', 'numpy') if m in sys.modules])"],
        capture_output=True, text=True, env=env(), timeout=60,
    )  # fmt: skip
    assert light.stdout.strip() == "[]", light.stderr
