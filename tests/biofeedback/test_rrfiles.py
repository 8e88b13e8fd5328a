"""RR text and CSV files, Kubios-style, and their error messages."""

from __future__ import annotations

import numpy as np
import pytest

from biofeedback.rrfiles import RRFileError, read_rr_file, write_rr_txt


def test_plain_text_in_ms(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("# exported\n800\n\n850.5\n900\n")
    s = read_rr_file(f)
    assert s.rr_ms.tolist() == [800.0, 850.5, 900.0]
    assert s.t_s.tolist() == pytest.approx([0.8, 1.6505, 2.5505])
    assert s.unit_guess == "ms"


def test_plain_text_in_seconds_when_every_value_is_below_ten(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("0.8\n0.85\n1.2\n")
    s = read_rr_file(f)
    assert s.rr_ms.tolist() == pytest.approx([800.0, 850.0, 1200.0])
    assert s.unit_guess == "s"


def test_csv_with_rr_and_time(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("time_s,rr_ms,other\n10.0,800,x\n10.9,900,y\n")
    s = read_rr_file(f)
    assert s.rr_ms.tolist() == [800.0, 900.0]
    assert s.t_s.tolist() == [10.0, 10.9]


def test_csv_without_time_is_cumulative(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("rr_ms\n1000\n500\n")
    assert read_rr_file(f).t_s.tolist() == [1.0, 1.5]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("e.txt", "", "empty file"),
        ("e.txt", "\n\n  \n", "empty file"),
        ("c.txt", "# only a comment\n", "no RR intervals"),
        ("n.txt", "800\nabc\n", "line 2: not a number"),
        ("z.txt", "800\n0\n", "line 2: RR interval must be positive"),
        ("neg.txt", "800\n-700\n", "line 2: RR interval must be positive"),
        ("inf.txt", "800\ninf\n", "not a finite number"),
        ("h.csv", "time_s,rr\n1,800\n", "no 'rr_ms' column"),
        ("t.csv", "time_s,rr_ms\n2,800\n1,800\n", "does not increase"),
        ("x.csv", "rr_ms\n", "no RR intervals"),
    ],
)
def test_bad_files_name_file_line_and_problem(tmp_path, name, content, words):
    f = tmp_path / name
    f.write_text(content)
    with pytest.raises(RRFileError, match=words) as info:
        read_rr_file(f)
    assert str(f) in str(info.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(RRFileError, match="no such file"):
        read_rr_file(tmp_path / "missing.txt")
    b = tmp_path / "b.txt"
    b.write_bytes(b"\x00\xff\x00")
    with pytest.raises(RRFileError, match="not a text file"):
        read_rr_file(b)


def test_write_then_read_back_is_exact_to_the_microsecond(tmp_path):
    rr = np.array([812.5, 1000.0, 777.34375])
    f = tmp_path / "out.txt"
    write_rr_txt(f, rr)
    assert read_rr_file(f).rr_ms == pytest.approx(rr, abs=5e-4)
    assert (f.stat().st_mode & 0o777) == 0o600
