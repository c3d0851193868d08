"""The course's real CTCF data: download (pooch), cache, hash, fallbacks; all without internet.

A small valid ``CTCF_200.h5`` in the course layout is served by an HTTP server started on
127.0.0.1 inside the test (it stops itself after a minute at most), with a corrupt file and
a 404 next to it; an offline case uses a port nobody listens on.
"""
from __future__ import annotations

import hashlib
import http.server
import logging
import socket
import threading

import h5py
import numpy as np
import pytest

from workshop_utils import datasets
from workshop_utils.datasets import ctcf_source, fetch_course_ctcf, load_ctcf

SMALL = {"train": 20, "valid": 10, "test": 10}
#: What a file host answers (200 OK, text/html) when a link needs a login or a confirmation click.
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Sign in to continue</body></html>\n"
N = {"train": 30, "valid": 12, "test": 12}


def _course_file_bytes(tmp_path) -> bytes:
    """A file in the course layout: x (N, 4, 200) uint8 one-hot, y (N, 1) uint8."""
    rng = np.random.default_rng(0)
    path = tmp_path / "served.h5"
    with h5py.File(path, "w") as f:
        for s, n in N.items():
            x = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, size=(n, 200))].transpose(0, 2, 1)
            f.create_dataset(f"x_{s}", data=x)
            f.create_dataset(f"y_{s}", data=(np.arange(n) % 2).astype(np.uint8)[:, None])
    return path.read_bytes()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve /CTCF_200.h5 (valid), /corrupt.h5 (not HDF5); anything else is a 404. Counts requests."""
    files = {"/CTCF_200.h5": _course_file_bytes(tmp_path), "/corrupt.h5": b"not an hdf5 file\n" * 100,
             "/login.h5": HTML_PAGE}
    hits: dict[str, int] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            route = self.path.split("?")[0]
            hits[route] = hits.get(route, 0) + 1
            body = files.get(route)
            if body is None:
                self.send_error(404, "gone")
                return
            self.send_response(200)
            if body.startswith(b"<!DOCTYPE html>"):
                self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    watchdog = threading.Timer(60, httpd.shutdown)  # bounded: never outlives a hung test
    watchdog.daemon = True
    watchdog.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield {"base": base, "hits": hits, "files": files}
    finally:
        watchdog.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/CTCF_200.h5"


def test_fetch_downloads_once_and_logs_the_hash(server, tmp_path, caplog):
    url = server["base"] + "/CTCF_200.h5?dl=1"
    with caplog.at_level(logging.INFO, logger="workshop_utils.datasets"):
        path = fetch_course_ctcf(url, folder=tmp_path / "dl", progressbar=False)
    assert path == tmp_path / "dl" / "CTCF_200.h5"
    assert path.read_bytes() == server["files"]["/CTCF_200.h5"]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert any(digest in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    # cached: a second call downloads nothing
    assert fetch_course_ctcf(url, folder=tmp_path / "dl", progressbar=False) == path
    assert server["hits"]["/CTCF_200.h5"] == 1
    # the known hash is checked and accepted
    assert fetch_course_ctcf(url, known_hash=digest, folder=tmp_path / "dl2", progressbar=False).is_file()
    # the default folder is data_dir()/downloads
    assert fetch_course_ctcf(url, progressbar=False) == datasets.course_download_dir() / "CTCF_200.h5"


def test_fetch_refuses_a_file_with_the_wrong_hash_after_retrying(server, tmp_path):
    url = server["base"] + "/corrupt.h5"
    with pytest.raises(ValueError, match="fetch_course_ctcf: the file downloaded from .* is not the expected one"):
        fetch_course_ctcf(url, known_hash="0" * 64, folder=tmp_path / "dl", retries=1, progressbar=False)
    assert server["hits"]["/corrupt.h5"] == 2  # one retry
    assert not (tmp_path / "dl" / "CTCF_200.h5").exists()  # nothing kept


def test_fetch_404_and_offline_raise_connection_errors(server, tmp_path):
    url = server["base"] + "/gone.h5"
    with pytest.raises(ConnectionError, match=r"fetch_course_ctcf: could not download .*gone\.h5.*404"):
        fetch_course_ctcf(url, folder=tmp_path / "dl", retries=0, progressbar=False)
    with pytest.raises(ConnectionError, match="offline, or the link is gone"):
        fetch_course_ctcf(_closed_port_url(), folder=tmp_path / "dl", retries=0, timeout=5, progressbar=False)
    assert not (tmp_path / "dl" / "CTCF_200.h5").exists()


def test_load_ctcf_course_source(server, monkeypatch):
    url = server["base"] + "/CTCF_200.h5"
    data = load_ctcf(source="course", url=url)  # quick mode (the tests'): subsampled to the quick sizes
    assert data.x_train.shape == (N["train"], 200, 4) and data.x_train.dtype == np.float32
    assert data.y_valid.shape == (N["valid"],) and set(np.unique(data.y_test)) == {0.0, 1.0}
    assert data.sites is None and "course data" in data.source
    small = load_ctcf(source="course", url=url, sizes={"train": 10, "valid": 5, "test": 5}, seed=1)
    assert [len(small.split(s)[1]) for s in datasets.SPLITS] == [10, 5, 5]
    # the rows kept are rows of the file, in order
    full = data.x_train.reshape(len(data.x_train), -1)
    rows = [int(np.nonzero((full == r).all(1))[0][0]) for r in small.x_train.reshape(10, -1)]
    assert rows == sorted(rows)
    # the environment variable switches whole notebooks
    monkeypatch.setenv(datasets.SOURCE_ENV, "Course")
    assert ctcf_source() == "course"
    assert load_ctcf(url=url).sites is None
    assert server["hits"]["/CTCF_200.h5"] == 1  # downloaded once for all these calls
    assert ctcf_source("simulated") == "simulated"
    monkeypatch.setenv(datasets.SOURCE_ENV, "real")
    with pytest.raises(ValueError, match="ctcf_source: the environment variable WORKSHOP_CTCF_SOURCE must be one of"):
        load_ctcf(url=url)
    monkeypatch.delenv(datasets.SOURCE_ENV)
    assert ctcf_source() == "simulated"


def test_load_ctcf_course_falls_back_to_simulated(server):
    with pytest.warns(UserWarning, match="could not get the course's CTCF data .*404.*using the simulated data"):
        data = load_ctcf(source="course", url=server["base"] + "/gone.h5", sizes=SMALL, cache=False)
    assert data.sites is not None and data.source.startswith("simulated")
    assert len(data.y_train) == SMALL["train"]


def test_fetch_never_keeps_an_html_page_served_with_200(server, tmp_path):
    """A login/confirmation page answered with 200 OK is not the data: refused, nothing cached."""
    with pytest.raises(ValueError, match=r"fetch_course_ctcf: the file downloaded from .*login\.h5 must be an HDF5 "
                                         r"file, got an HTML page"):
        fetch_course_ctcf(server["base"] + "/login.h5", folder=tmp_path / "dl", retries=0, progressbar=False)
    assert not (tmp_path / "dl" / "CTCF_200.h5").exists()


def test_a_bad_cached_file_is_not_returned_again_once_the_link_works(server, tmp_path):
    """An HTML page cached by an older version (no known hash) is downloaded again, not returned."""
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "CTCF_200.h5").write_bytes(HTML_PAGE)
    path = fetch_course_ctcf(server["base"] + "/CTCF_200.h5", folder=folder, progressbar=False)
    assert path.read_bytes() == server["files"]["/CTCF_200.h5"] and server["hits"]["/CTCF_200.h5"] == 1
    # with a known hash, cached bytes with another hash are replaced too (pooch's update)
    digest = hashlib.sha256(server["files"]["/CTCF_200.h5"]).hexdigest()
    (folder / "CTCF_200.h5").write_bytes(server["files"]["/CTCF_200.h5"][:-1] + b"\0")
    path = fetch_course_ctcf(server["base"] + "/CTCF_200.h5", known_hash=digest, folder=folder, progressbar=False)
    assert path.read_bytes() == server["files"]["/CTCF_200.h5"] and server["hits"]["/CTCF_200.h5"] == 2


def test_load_ctcf_course_never_uses_an_html_page(server):
    with pytest.warns(UserWarning, match="could not get the course's CTCF data .*must be an HDF5 file, got an HTML"):
        data = load_ctcf(source="course", url=server["base"] + "/login.h5", sizes=SMALL, cache=False)
    assert data.source.startswith("simulated")
    assert not (datasets.course_download_dir() / "CTCF_200.h5").exists()


def test_load_ctcf_course_removes_a_damaged_download(server):
    with pytest.warns(UserWarning, match="could not get the course's CTCF data .*must be an HDF5 file.*nothing was kept"):
        data = load_ctcf(source="course", url=server["base"] + "/corrupt.h5", sizes=SMALL, cache=False)
    assert data.source.startswith("simulated")
    assert not (datasets.course_download_dir() / "CTCF_200.h5").exists()  # the next call downloads again


@pytest.mark.parametrize("call, exc, name", [
    (lambda: fetch_course_ctcf(3), TypeError, "url"),
    (lambda: fetch_course_ctcf("ftp://x/CTCF_200.h5"), ValueError, "url"),
    (lambda: fetch_course_ctcf(known_hash="abc"), ValueError, "known_hash"),
    (lambda: fetch_course_ctcf(known_hash=5), TypeError, "known_hash"),
    (lambda: fetch_course_ctcf(folder=3), TypeError, "folder"),
    (lambda: fetch_course_ctcf(retries=-1), ValueError, "retries"),
    (lambda: fetch_course_ctcf(timeout=0), ValueError, "timeout"),
    (lambda: fetch_course_ctcf(progressbar="yes"), TypeError, "progressbar"),
    (lambda: load_ctcf(source="real"), ValueError, "source"),
    (lambda: load_ctcf(source="course", url="CTCF_200.h5"), ValueError, "url"),
    (lambda: ctcf_source("Course"), ValueError, "source"),
])
def test_bad_arguments_name_the_argument(call, exc, name):
    with pytest.raises(exc, match=rf"^\w+: {name} must be"):
        call()


def test_load_real_peaks_ships_two_factors():
    from workshop_utils.datasets import load_real_peaks
    from workshop_utils.motifs import best_hits, ctcf_pfm, pwm_log_odds

    X, names = load_real_peaks("CTCF")
    assert X.shape == (500, 200, 4) and X.dtype == np.float32 and len(names) == 500
    assert names[0] == "chr11:190037-190237" and np.allclose(X.sum(-1), 1)
    Xp, names_p = load_real_peaks("TAp73alpha")
    assert Xp.shape == (1000, 200, 4) and len(set(names_p)) == 1000
    # real CTCF peaks carry stronger CTCF sites than the peaks of another factor
    pwm = pwm_log_odds(ctcf_pfm())
    assert np.median(best_hits(X, pwm)["score"]) > np.median(best_hits(Xp, pwm)["score"]) + 3
    with pytest.raises(ValueError, match="^load_real_peaks: factor must be one of"):
        load_real_peaks("ctcf")


def test_load_real_peaks_names_a_damaged_file(monkeypatch, tmp_path):
    from workshop_utils import config
    from workshop_utils.datasets import REAL_PEAK_FILES, load_real_peaks

    (config.data_dir() / REAL_PEAK_FILES["CTCF"]).write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="load_real_peaks: .* is not a readable (gzipped )?FASTA file"):
        load_real_peaks("CTCF")
