"""`loanops ingest`: one line per file and the documented exit codes."""

from __future__ import annotations

from click.testing import CliRunner

from loanops.schema import APPLICATION_COLUMNS, OUTCOME_COLUMNS
from loanops_cli.main import main
from tests.ingest.conftest import write_book


def test_loads_then_skips_with_exit_0(landing, target):
    write_book(landing, "applications.csv", APPLICATION_COLUMNS, count=4)
    write_book(landing, "outcomes.csv", OUTCOME_COLUMNS, count=4)
    runner = CliRunner()

    first = runner.invoke(main, ["ingest"])  # default folder: the settings' landing folder
    second = runner.invoke(main, ["ingest", str(landing)])

    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "applications.csv: loaded 4 rows (applications, load 1)",
        "outcomes.csv: loaded 4 rows (outcomes, load 2)",
    ]
    assert second.exit_code == 0
    assert "outcomes.csv: skipped, already loaded (load 2" in second.output


def test_rejected_file_exits_1_after_loading_the_good_ones(landing, target):
    (landing / "a_bad.csv").write_text("ID;Default\n1;0\n")
    write_book(landing, "b_good.csv", OUTCOME_COLUMNS)

    result = CliRunner().invoke(main, ["ingest", str(landing)])

    assert result.exit_code == 1
    assert "a_bad.csv: rejected: header is separated by ';', expected ','" in result.output
    assert "b_good.csv: loaded 5 rows" in result.output


def test_usage_errors_exit_2(data_dir, tmp_path, monkeypatch):
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(tmp_path / "nowhere")]).exit_code == 2
    assert runner.invoke(main, ["ingest"]).exit_code == 2  # default landing folder missing
    monkeypatch.setenv("LOANOPS_TARGET", "oracle")
    result = runner.invoke(main, ["ingest", str(tmp_path)])
    assert result.exit_code == 2 and "LOANOPS_TARGET" in result.output


def test_empty_folder_and_help(landing, monkeypatch):
    monkeypatch.setenv("LOANOPS_TARGET", "duckdb")
    runner = CliRunner()
    empty = runner.invoke(main, ["ingest", str(landing)])
    assert empty.exit_code == 0 and "no *.csv files" in empty.output
    help_text = runner.invoke(main, ["ingest", "--help"]).output
    assert "--retry-rejected" in help_text and "Exit status" in help_text
